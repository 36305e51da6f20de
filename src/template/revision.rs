//! The revision form's parts of a script: the marker line that records
//! where each variant's code comes from, the section that loads it (the
//! base revision's modules embedded verbatim), and the `bench_a`/`bench_b`
//! headers that bind the targets' names to each variant's objects.

use super::section;
use crate::revision::{ResolvedRevision, RevisionInfo, TargetModule};

/// The second line of a revision-form script; JSON follows.
pub const REVISION_PREFIX: &str = "# abbench-revision: ";

const LOADER_PY: &str = include_str!("../templates/revision.py");

/// The marker line (JSON of what the run records).
pub fn marker(rev: &ResolvedRevision) -> String {
    format!(
        "{REVISION_PREFIX}{}\n",
        serde_json::to_string(&rev.info).expect("revision info serializes")
    )
}

/// Reads a script's revision marker, if it has one.
pub fn read_revision(script: &str) -> Option<RevisionInfo> {
    script
        .lines()
        .take(5)
        .find_map(|line| line.strip_prefix(REVISION_PREFIX))
        .and_then(|json| serde_json::from_str(json).ok())
}

/// The docstring's paragraph on where A and B come from.
pub fn docstring_note(rev: &ResolvedRevision) -> String {
    let files: Vec<&str> = rev.modules.iter().map(|m| m.file.as_str()).collect();
    let b = match &rev.info.candidate {
        Some(_) => format!(
            "as committed at {}, embedded below",
            rev.info.candidate_label()
        ),
        None => "from the work tree, imported the normal way".to_string(),
    };
    format!(
        "Variant A runs {files} as committed at {base}, embedded below;\n\
         variant B runs {files} {b}.\n\
         Only these modules differ between A and B: {modules}. Setup and every\n\
         other module are the work tree's, the same for both. Each variant loads its\n\
         copy once per process (module-level code runs once per variant).\n\
         `python {{file}} check` loads both and checks the targets without running setup.\n",
        files = files.join(", "),
        base = rev.info.base_label(),
        modules = rev.info.modules.join(", "),
    )
}

/// A Python literal for `source`: a raw triple-quoted string, readable as
/// the file itself, where one can hold it exactly; else a JSON string
/// (also valid Python).
pub fn source_literal(source: &str) -> String {
    for quote in ['\'', '"'] {
        if raw_triple_holds(source, quote) {
            let q = quote.to_string().repeat(3);
            return format!("r{q}{source}{q}");
        }
    }
    serde_json::to_string(source).expect("a string serializes")
}

/// True when `r'''source'''` (with `quote`) reads back as `source`: no
/// closing triple quote inside, no quote or odd backslash at the end, and
/// no carriage return or NUL (Python's reader changes or refuses them).
fn raw_triple_holds(source: &str, quote: char) -> bool {
    if source.contains(['\r', '\0']) || source.ends_with(quote) {
        return false;
    }
    let chars: Vec<char> = source.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            // In a raw string a backslash still pairs with the next character.
            '\\' if i + 1 == chars.len() => return false,
            '\\' => i += 2,
            c if c == quote && chars[i + 1..].starts_with(&[quote, quote]) => return false,
            _ => i += 1,
        }
    }
    true
}

fn py(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("serializes")
}

/// `{"name": ("path", is_package, _X_SOURCE_n), ...}` for one variant.
fn sources_dict(modules: &[TargetModule], var: &str) -> String {
    let entries: Vec<String> = modules
        .iter()
        .enumerate()
        .map(|(i, m)| {
            format!(
                "    {}: ({}, {}, {var}{i}),",
                py(&m.name),
                py(&m.path.display().to_string()),
                if m.is_package { "True" } else { "False" },
            )
        })
        .collect();
    format!("{{\n{}\n}}", entries.join("\n"))
}

/// The section that makes both variants' modules: sys.path, the loader,
/// the embedded sources, the loads, and the `check` mode.
pub fn loading_section(rev: &ResolvedRevision, candidates: &[(char, &ResolvedRevision)]) -> String {
    let mut roots: Vec<String> = Vec::new();
    for m in &rev.modules {
        let root = m.import_root.display().to_string();
        if !roots.contains(&root) {
            roots.push(root);
        }
    }
    let mut out = section("revision loader (abbench): keep as it is");
    out.push_str(&format!(
        "# The targets' import roots in the work tree come first on sys.path, so\n\
         # setup and the targets' own imports find the project's modules there.\n\
         sys.path[:0] = {}\n\n",
        py(&roots)
    ));
    out.push_str(crate::python::scripts::COMPILED);
    out.push_str("\n\n");
    out.push_str(LOADER_PY);
    let embed =
        |out: &mut String, var: &str, label: &str, pick: &dyn Fn(&TargetModule) -> String| {
            for (i, m) in rev.modules.iter().enumerate() {
                out.push_str(&section(&format!("{} as committed at {label}", m.file)));
                out.push_str(&format!("{var}{i} = {}\n", source_literal(&pick(m))));
            }
        };
    embed(&mut out, "_A_SOURCE_", &rev.info.base_label(), &|m| {
        m.base_source.clone()
    });
    let names = py(&rev.info.modules);
    // B, or each candidate: `_<L>` holds its modules, embedded from its
    // revision or imported from the work tree.
    let single = [('b', rev)];
    let others: &[(char, &ResolvedRevision)] = if candidates.is_empty() {
        &single
    } else {
        candidates
    };
    let mut b_load = String::new();
    for &(letter, r) in others {
        let var = letter.to_ascii_uppercase();
        if r.info.candidate.is_some() {
            let sources_var = format!("_{var}_SOURCE_");
            let label = r.info.candidate_label();
            for (i, m) in r.modules.iter().enumerate() {
                out.push_str(&section(&format!("{} as committed at {label}", m.file)));
                out.push_str(&format!(
                    "{sources_var}{i} = {}\n",
                    source_literal(m.candidate_source.as_deref().unwrap_or_default())
                ));
            }
            b_load.push_str(&format!(
                "_{var}_SOURCES = {}\n_{var} = _variant_modules(\"{letter}\", lambda: _load_embedded({}, _{var}_SOURCES))\n",
                sources_dict(&r.modules, &sources_var),
                py(&label)
            ));
        } else {
            b_load.push_str(&format!(
                "_{var} = _variant_modules(\"{letter}\", lambda: _import_work_tree({names}))\n"
            ));
        }
    }
    let variants: Vec<String> = std::iter::once("\"a\": _A".to_string())
        .chain(
            others
                .iter()
                .map(|(l, _)| format!("\"{l}\": _{}", l.to_ascii_uppercase())),
        )
        .collect();
    out.push_str(&section("loading both variants (abbench): keep as it is"));
    out.push_str(&format!(
        "_A_SOURCES = {}\n{b_load}_A = _variant_modules(\"a\", lambda: _load_embedded({}, _A_SOURCES))\n",
        sources_dict(&rev.modules, "_A_SOURCE_"),
        py(&rev.info.base_label()),
    ));
    let targets: Vec<String> = rev
        .targets
        .iter()
        .map(|t| {
            let m = rev.module_of(t);
            format!("({}, {}, {})", py(&m.name), py(&t.file), py(&t.qualname))
        })
        .collect();
    out.push_str(&format!(
        "_TARGETS = [{}]\n\
         if sys.argv[1:2] == [\"check\"]:\n    \
         _check({{{}}}, _TARGETS)\n\
         _BEFORE_SETUP = set(globals())\n",
        targets.join(", "),
        variants.join(", ")
    ));
    out
}

/// `def bench_x(name=_X["module"].name, ...):` and its docstring, binding
/// each target's name (a function, a method's class) to the variant's object.
pub fn bench_header(rev: &ResolvedRevision, def: &str, variant: char) -> String {
    let var = variant.to_ascii_uppercase();
    let mut bound: Vec<String> = Vec::new();
    let mut params = Vec::new();
    for t in &rev.targets {
        let name = t.binding();
        if bound.iter().any(|b| b == name) {
            continue;
        }
        bound.push(name.to_string());
        params.push(format!(
            "{name}=_{var}[{}].{name}",
            py(&rev.module_of(t).name)
        ));
    }
    let (approach, origin) = if variant == 'a' {
        (
            "Current approach",
            format!("as committed at {}", rev.info.base_label()),
        )
    } else if rev.info.candidate.is_some() {
        (
            "Optimized approach",
            format!("as committed at {}", rev.info.candidate_label()),
        )
    } else {
        ("Optimized approach", "from the work tree".to_string())
    };
    format!(
        "{def} bench_{variant}({}):\n    \"\"\"{approach}: {} {origin}.\"\"\"\n",
        params.join(", "),
        rev.info.targets.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_read_back_exactly() {
        let cases = [
            "x = 1\n",
            "s = '''doc'''\n",
            "s = '''a''' + \"\"\"b\"\"\"\n",
            "path = r'C:\\dir\\'\n",
            "ends with backslash \\",
            "crlf\r\nline\n",
            "quote at end '",
            "escaped \\''' still\n",
            "emoji 😀 and \\N{BULLET}\n",
        ];
        for source in cases {
            let literal = source_literal(source);
            let script = format!("import sys\nsys.stdout.write({literal})\n");
            let out = std::process::Command::new("python3")
                .args(["-c", &script])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{literal}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(String::from_utf8(out.stdout).unwrap(), source, "{literal}");
        }
        assert!(source_literal("x = 1\n").starts_with("r'''"));
        assert!(source_literal("s = '''doc'''\n").starts_with("r\"\"\""));
    }
}
