//! Renders the A/B micro-benchmark script for a domain. Pure: a spec in,
//! Python source out, plus a map from the script's lines back to the parts
//! the caller wrote (so a syntax error can name `code_b`, line 3).
//!
//! The script follows the reference pattern a person recognises — `bench_a`
//! (current approach), `bench_b` (optimized approach), `python script.py a|b`
//! — and adds the domain's measurement, which prints one `ABBENCH {json}`
//! line (see [`crate::measurement`]).

use crate::domain::Domain;
use crate::revision::ResolvedRevision;

pub mod revision;

/// Default repeats inside one process (cpu, async, structure).
pub const DEFAULT_REPEAT: u32 = 5;
/// Default number of coroutines gathered at once in the async domain.
pub const DEFAULT_CONCURRENCY: u32 = 10;
/// Largest `setup`, `code_a` or `code_b` accepted, in bytes.
pub const MAX_CODE_BYTES: usize = 1 << 20;
/// The first line of every generated script; `run_ab_benchmark` reads the domain from it.
pub const MARKER_PREFIX: &str = "# abbench-script: domain=";

const COMMON_PY: &str = include_str!("../templates/common.py");
const MEASURE_CPU_PY: &str = include_str!("../templates/measure_cpu.py");
const MEASURE_ASYNC_PY: &str = include_str!("../templates/measure_async.py");
const MEASURE_MEMORY_PY: &str = include_str!("../templates/measure_memory.py");
const MEASURE_STRUCTURE_PY: &str = include_str!("../templates/measure_structure.py");
const MEMORY_PREAMBLE_PY: &str = include_str!("../templates/memory_preamble.py");
const PAIRED_PY: &str = include_str!("../templates/paired.py");

/// What a script can be asked to do (`python script.py MODE`), as its
/// marker line records it, so abbench knows whether the paired design can
/// run it: scripts of an older abbench have only `a` and `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// The domain the script was generated for.
    pub domain: Domain,
    /// True when `ab` runs both variants in one process (time domains).
    pub paired: bool,
}

/// The modes of a script for `domain`, as written on its marker line.
fn modes(domain: Domain) -> &'static str {
    if domain.is_time() {
        "a,b,ab"
    } else {
        "a,b,warmup"
    }
}

/// Everything needed to write one A/B script.
#[derive(Debug, Clone, Default)]
pub struct ScriptSpec {
    /// `[A-Za-z0-9_]{1,64}`; the file is `micro_bench_<name>.py`.
    pub name: String,
    /// The domain whose measurement the script carries.
    pub domain: Option<Domain>,
    /// Module-level Python run once before either variant.
    pub setup: String,
    /// Body of `bench_a` (current approach).
    pub code_a: String,
    /// Body of `bench_b` (optimized approach).
    pub code_b: String,
    /// Calls (cpu) or imports (structure) per repeat; `None` calibrates.
    pub number: Option<u32>,
    /// Repeats inside one process (cpu, async, structure).
    pub repeat: Option<u32>,
    /// Coroutines gathered at once (async).
    pub concurrency: Option<u32>,
    /// Modules whose import is timed (structure).
    pub modules: Vec<String>,
    /// Revision form: the body of both `bench_a` and `bench_b`.
    pub call: String,
    /// Revision form: where each variant's code comes from (then `code_a`
    /// and `code_b` are not used).
    pub revision: Option<ResolvedRevision>,
    /// Free form with several candidates: their bodies (then `code_b` is
    /// not used), each `bench_b`, `bench_c`, … in order.
    pub candidates: Vec<CandidateCode>,
    /// Revision form with several candidates: each candidate's resolved
    /// revision (its modules' sources), in `candidates`' order; the first
    /// is also `revision` (A's base sources and the run's record).
    pub candidate_revisions: Vec<ResolvedRevision>,
    /// Candidates dropped before rendering: (label, what it duplicates).
    pub duplicates: Vec<(String, String)>,
}

/// A part of the script the caller wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// `setup`, at module level.
    Setup,
    /// `code_a`, the body of `bench_a`.
    CodeA,
    /// `code_b`, the body of `bench_b`.
    CodeB,
    /// `call`, the body of both (revision form).
    Call,
    /// `candidates[i].code`, the body of one candidate's function.
    Candidate(usize),
}

impl Part {
    /// The argument name the caller used for this part.
    pub fn name(self) -> String {
        match self {
            Part::Setup => "setup".into(),
            Part::CodeA => "code_a".into(),
            Part::CodeB => "code_b".into(),
            Part::Call => "call".into(),
            Part::Candidate(i) => format!("candidates[{i}].code"),
        }
    }
}

/// One candidate of a multi-candidate script (free form): its label and
/// the body of its function, `bench_<letter>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CandidateCode {
    /// The agent's name for it, `[A-Za-z0-9_-]{1,32}`.
    pub label: String,
    /// Its index in the request's `candidates` (for error messages).
    pub index: usize,
    /// The body.
    pub code: String,
}

/// The function letter of the i-th candidate measured: b, c, d, …
pub fn candidate_letter(i: usize) -> char {
    (b'b' + i as u8) as char
}

/// The second line of a multi-candidate script; JSON of
/// [`CandidatesMarker`] follows.
pub const CANDIDATES_PREFIX: &str = "# abbench-candidates: ";

/// What a multi-candidate script records for run_ab_benchmark: each
/// measured candidate's letter and label, and the candidates dropped as
/// duplicates before measuring.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CandidatesMarker {
    /// (letter, label) of each candidate in the script, in order.
    pub variants: Vec<(char, String)>,
    /// (label, the label or "A" it duplicates), not in the script.
    #[serde(default)]
    pub duplicates: Vec<(String, String)>,
    /// Non-empty lines of each candidate's code, in `variants`' order
    /// (among equals, the smaller change is the best).
    #[serde(default)]
    pub lines: Vec<usize>,
}

/// Reads a script's candidates marker, if it has one.
pub fn read_candidates(script: &str) -> Option<CandidatesMarker> {
    script
        .lines()
        .take(5)
        .find_map(|line| line.strip_prefix(CANDIDATES_PREFIX))
        .and_then(|json| serde_json::from_str(json).ok())
}

/// Where a caller-written part landed in the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartSpan {
    /// Which part.
    pub part: Part,
    /// 1-based script line holding the part's first line.
    pub first_line: usize,
    /// The part's source as it stands in the script, standalone-compilable
    /// (the function header included for `code_a`/`code_b`).
    pub standalone: String,
    /// Lines of `standalone` before the part's first line (1 for a function body).
    pub header_lines: usize,
}

/// The rendered script and where each caller-written part is in it.
#[derive(Debug, Clone)]
pub struct RenderedScript {
    /// The full Python source.
    pub text: String,
    /// Setup, A and B, in that order.
    pub spans: Vec<PartSpan>,
    /// The script without its fixed measurement sections: all a caller's
    /// part can break, and a sixth of the text to compile-check.
    pub skeleton: String,
}

/// A spec that cannot become a script; each message says what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// `name` is not `[A-Za-z0-9_]{1,64}`.
    #[error("invalid name {0:?}: use 1 to 64 characters from A-Z, a-z, 0-9 and _ (no path separators, dots or spaces); the file will be micro_bench_<name>.py")]
    InvalidName(String),
    /// No domain given.
    #[error("domain is required: use one of {}", crate::domain::DOMAIN_NAMES)]
    MissingDomain,
    /// `structure` without modules.
    #[error("the structure domain needs `modules`: the modules whose import is timed, e.g. [\"mypkg.heavy\"]; they and their submodules are cleared from sys.modules before each import")]
    MissingModules,
    /// A module name that is not a dotted Python identifier.
    #[error(
        "invalid module name {0:?} in `modules`: use a dotted Python name such as \"pkg.sub\""
    )]
    InvalidModule(String),
    /// A code argument over the size limit.
    #[error("`{field}` is {bytes} bytes; the limit is {MAX_CODE_BYTES} bytes (1 MiB): load large inputs from a file in `setup` instead of pasting them")]
    TooLarge {
        /// The argument name.
        field: &'static str,
        /// Its size.
        bytes: usize,
    },
    /// The revision form in the structure domain.
    #[error("the revision form (`target`, `call`) applies to cpu, async and memory: structure times imports by module name, so use `modules` with code_a/code_b")]
    RevisionStructure,
    /// A count outside its range.
    #[error("`{field}` = {value} is out of range: use {min} to {max}")]
    OutOfRange {
        /// The argument name.
        field: &'static str,
        /// The value given.
        value: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
}

/// Checks `name` against `[A-Za-z0-9_]{1,64}`.
pub fn validate_name(name: &str) -> Result<(), SpecError> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(SpecError::InvalidName(name.to_string()))
    }
}

/// The file name the script is written to.
pub fn script_file_name(name: &str) -> String {
    format!("micro_bench_{name}.py")
}

fn is_dotted_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|word| {
            let mut chars = word.chars();
            matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
                && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        })
}

fn check_range(field: &'static str, value: Option<u32>, max: u64) -> Result<(), SpecError> {
    match value {
        Some(v) if v == 0 || u64::from(v) > max => Err(SpecError::OutOfRange {
            field,
            value: v.into(),
            min: 1,
            max,
        }),
        _ => Ok(()),
    }
}

impl ScriptSpec {
    /// Checks everything that does not need Python; returns the domain.
    pub fn validate(&self) -> Result<Domain, SpecError> {
        validate_name(&self.name)?;
        let domain = self.domain.ok_or(SpecError::MissingDomain)?;
        for (field, code) in [
            ("setup", &self.setup),
            ("code_a", &self.code_a),
            ("code_b", &self.code_b),
            ("call", &self.call),
        ] {
            if code.len() > MAX_CODE_BYTES {
                return Err(SpecError::TooLarge {
                    field,
                    bytes: code.len(),
                });
            }
        }
        if self.modules.len() > 1_000 {
            return Err(SpecError::OutOfRange {
                field: "modules",
                value: self.modules.len() as u64,
                min: 1,
                max: 1_000,
            });
        }
        check_range("number", self.number, 1_000_000_000)?;
        check_range("repeat", self.repeat, 1_000)?;
        check_range("concurrency", self.concurrency, 100_000)?;
        if domain == Domain::Structure && self.revision.is_some() {
            return Err(SpecError::RevisionStructure);
        }
        if domain == Domain::Structure {
            if self.modules.is_empty() {
                return Err(SpecError::MissingModules);
            }
            if let Some(bad) = self.modules.iter().find(|m| !is_dotted_identifier(m)) {
                return Err(SpecError::InvalidModule(bad.clone()));
            }
        }
        Ok(domain)
    }

    /// Arguments given that this domain does not use (worth a warning).
    pub fn ignored_arguments(&self, domain: Domain) -> Vec<&'static str> {
        let given = [
            ("number", self.number.is_some()),
            ("repeat", self.repeat.is_some()),
            ("concurrency", self.concurrency.is_some()),
            ("modules", !self.modules.is_empty()),
        ];
        let unused = unused_arguments(domain);
        given
            .into_iter()
            .filter(|(name, given)| *given && unused.contains(name))
            .map(|(name, _)| name)
            .collect()
    }
}

/// The arguments of `generate_ab_script` that `domain` refuses (the
/// revision form in structure) or ignores with a warning: what no advice
/// for that domain may mention.
pub fn unused_arguments(domain: Domain) -> &'static [&'static str] {
    match domain {
        Domain::Structure => &["target", "call", "base", "candidate", "repo", "concurrency"],
        Domain::Memory => &["number", "repeat", "concurrency", "modules"],
        Domain::Cpu => &["concurrency", "modules"],
        Domain::Async => &["modules"],
    }
}

/// One sentence saying what the script's value means, with its unit.
pub fn measurement_sentence(spec: &ScriptSpec, domain: Domain) -> String {
    let repeat = spec.repeat.unwrap_or(DEFAULT_REPEAT);
    let number = match spec.number {
        Some(n) => format!("{n} calls per repeat"),
        None => "calls per repeat calibrated to ~0.05-0.2 s".to_string(),
    };
    let paired = "; `ab` reports the same figure for every block of A and of B, run alternately in one process";
    match domain {
        Domain::Cpu => format!(
            "seconds per call of the variant (timeit; {number}; median of {repeat} repeats){paired}; lower is better"
        ),
        Domain::Async => format!(
            "wall seconds of one asyncio.run of asyncio.gather over {} concurrent calls of the variant (median of {repeat} batches after one warm-up batch){paired}; lower is better",
            spec.concurrency.unwrap_or(DEFAULT_CONCURRENCY)
        ),
        Domain::Memory => "peak memory in bytes of the variant's own allocations while it runs once: run by abbench, memray's peak with only the variant tracked (every Python allocation traced), above what setup left alive; run by hand, tracemalloc's peak of the call; lower is better".to_string(),
        Domain::Structure => format!(
            "seconds per import of the variant's modules after clearing {} (and submodules) from sys.modules ({}; median of {repeat} repeats; the cold first import is reported apart as first_import_s){paired}; lower is better",
            spec.modules.join(", "),
            number.replace("calls", "imports")
        ),
    }
}

/// Reads a generated script's marker line, if it has one.
pub fn read_marker(script: &str) -> Option<Marker> {
    let rest = script
        .lines()
        .take(5)
        .find_map(|line| line.strip_prefix(MARKER_PREFIX))?;
    let mut words = rest.split_whitespace();
    let domain: Domain = words.next()?.parse().ok()?;
    let paired = words
        .filter_map(|w| w.strip_prefix("modes="))
        .any(|m| m.split(',').any(|mode| mode == "ab"));
    Some(Marker { domain, paired })
}

/// Removes the common leading indentation and carriage returns, so code
/// copied out of an indented method can be pasted as it is.
fn dedent(code: &str) -> String {
    let code = code.replace("\r\n", "\n");
    let margin = code
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let lines: Vec<&str> = code
        .trim_end()
        .lines()
        .map(|l| {
            if l.trim().is_empty() {
                ""
            } else {
                &l[margin..]
            }
        })
        .collect();
    lines.join("\n")
}

fn indent(code: &str) -> String {
    code.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("    {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Appends text and keeps count of lines, so part positions are known.
struct Builder {
    text: String,
}

impl Builder {
    fn line_count(&self) -> usize {
        self.text.matches('\n').count()
    }
    fn push(&mut self, block: &str) {
        self.text.push_str(block);
        if !block.ends_with('\n') {
            self.text.push('\n');
        }
    }
}

/// A section heading line, `# --- title ----`, 79 columns wide.
fn section(title: &str) -> String {
    let head = format!("# --- {title} ");
    format!(
        "\n\n{head}{}\n",
        "-".repeat(79usize.saturating_sub(head.len()))
    )
}

/// Renders the script. Call [`ScriptSpec::validate`] first.
pub fn render(spec: &ScriptSpec, domain: Domain) -> RenderedScript {
    let mut rendered = render_once(spec, domain);
    if let Some(rev) = &spec.revision {
        // The embedded sources are literals abbench wrote (the import check
        // compiles them as modules), so the skeleton leaves them empty.
        let light = ScriptSpec {
            revision: Some(rev.without_sources()),
            candidate_revisions: spec
                .candidate_revisions
                .iter()
                .map(ResolvedRevision::without_sources)
                .collect(),
            ..spec.clone()
        };
        rendered.skeleton = render_once(&light, domain).skeleton;
    }
    rendered
}

fn render_once(spec: &ScriptSpec, domain: Domain) -> RenderedScript {
    let mut b = Builder {
        text: String::new(),
    };
    b.push(&header(spec, domain));
    if let Some(rev) = &spec.revision {
        let candidates: Vec<(char, &ResolvedRevision)> = spec
            .candidate_revisions
            .iter()
            .enumerate()
            .map(|(i, r)| (candidate_letter(i), r))
            .collect();
        b.push(&revision::loading_section(rev, &candidates));
    }
    if domain == Domain::Memory {
        b.push(&section("memory baseline (abbench): keep as it is"));
        b.push(MEMORY_PREAMBLE_PY);
    }
    let spans = push_parts(&mut b, spec, domain);
    let measurement_at = b.text.len();
    b.push(&section("measurement (abbench): keep as it is"));
    b.push(&measurement(spec, domain));
    b.push("\n\n");
    b.push(COMMON_PY);
    if domain.is_time() {
        b.push("\n\n");
        b.push(PAIRED_PY);
    }
    let main_at = b.text.len();
    b.push(&main_block(spec, domain));
    let skeleton = format!("{}{}", &b.text[..measurement_at], &b.text[main_at..]);
    RenderedScript {
        text: b.text,
        spans,
        skeleton,
    }
}

/// The marker line, the docstring (how to run it, what it prints) and the
/// names the measurement needs before setup runs.
fn header(spec: &ScriptSpec, domain: Domain) -> String {
    let name = &spec.name;
    let file = script_file_name(name);
    let both = if domain.is_time() {
        format!("\x20   python {file} ab   # both, in alternating blocks (what abbench runs)\n")
    } else {
        String::new()
    };
    let (mut revision_marker, mut revision_note) = match &spec.revision {
        Some(rev) if spec.candidates.is_empty() => (
            revision::marker(rev),
            format!(
                "\n{}",
                revision::docstring_note(rev).replace("{file}", &file)
            ),
        ),
        Some(rev) => (revision::marker(rev), String::new()),
        None => (String::new(), String::new()),
    };
    if !spec.candidates.is_empty() {
        revision_marker.push_str(&format!(
            "{CANDIDATES_PREFIX}{}\n",
            serde_json::to_string(&candidates_marker(spec)).expect("the marker serializes")
        ));
        revision_note.push_str(&candidates_note(spec));
    }
    format!(
        "{MARKER_PREFIX}{domain} modes={modes}\n\
         {revision_marker}\
         \"\"\"A/B micro-benchmark `{name}` (domain: {domain}), generated by abbench {version}.\n\
         {revision_note}\
         \n\
         \x20   python {file} a    # current approach\n\
         \x20   python {file} b    # optimized approach\n\
         {both}\
         \n\
         Each run prints one line `ABBENCH {{json}}` on stdout; its value is the\n\
         {sentence}.\n\
         Edit setup, bench_a and bench_b freely; keep the sections marked (abbench).\n\
         \"\"\"\n\
         import sys\n\
         \n\
         _NAME = {name_lit}\n\
         _DOMAIN = \"{domain}\"\n\
         _T0 = __import__(\"time\").perf_counter()\n\
         _BEFORE_SETUP = set(globals())",
        modes = match spec.candidates.len() {
            0 => modes(domain).to_string(),
            n => format!(
                "a,{},ab",
                (0..n)
                    .map(|i| candidate_letter(i).to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        },
        version = env!("CARGO_PKG_VERSION"),
        sentence = measurement_sentence(spec, domain),
        name_lit = serde_json::to_string(name).expect("a string serializes"),
    )
}

/// Setup, then `bench_a` and `bench_b` around the caller's code; where
/// each part starts, for syntax errors.
fn push_parts(b: &mut Builder, spec: &ScriptSpec, domain: Domain) -> Vec<PartSpan> {
    let mut spans = Vec::new();
    b.push(&section(
        "setup: runs once; both variants see the same objects",
    ));
    let setup = dedent(&spec.setup);
    spans.push(PartSpan {
        part: Part::Setup,
        first_line: b.line_count() + 1,
        standalone: setup.clone(),
        header_lines: 0,
    });
    b.push(if setup.trim().is_empty() {
        "# (no setup)"
    } else {
        &setup
    });

    let def = if domain == Domain::Async {
        "async def"
    } else {
        "def"
    };
    let (code_a, code_b) = match &spec.revision {
        Some(_) => (&spec.call, &spec.call),
        None => (&spec.code_a, &spec.code_b),
    };
    let mut variants = vec![(
        Part::CodeA,
        "A: current approach".to_string(),
        "bench_a".to_string(),
        code_a,
        "Current approach.".to_string(),
    )];
    if spec.candidates.is_empty() {
        variants.push((
            Part::CodeB,
            "B: optimized approach".into(),
            "bench_b".into(),
            code_b,
            "Optimized approach.".into(),
        ));
    }
    for (i, c) in spec.candidates.iter().enumerate() {
        let letter = candidate_letter(i);
        variants.push((
            Part::Candidate(c.index),
            format!("{}: candidate `{}`", letter.to_ascii_uppercase(), c.label),
            format!("bench_{letter}"),
            if spec.revision.is_some() {
                &spec.call
            } else {
                &c.code
            },
            format!("Candidate `{}`.", c.label),
        ));
    }
    for (part, label, fn_name, code, doc) in variants {
        b.push(&section(&label));
        let letter = fn_name.chars().last().unwrap_or('a');
        // With several candidates each has its own revision; else B's is the one.
        let rev = match (letter, spec.candidate_revisions.is_empty()) {
            ('a', _) | (_, true) => spec.revision.as_ref(),
            (l, false) => spec.candidate_revisions.get((l as u8 - b'b') as usize),
        };
        let (part, header) = match rev {
            Some(rev) => (Part::Call, revision::bench_header(rev, def, letter)),
            None => (part, format!("{def} {fn_name}():\n    \"\"\"{doc}\"\"\"\n")),
        };
        let body = dedent(code);
        let body = if body.trim().is_empty() {
            "pass".to_string()
        } else {
            body
        };
        b.push(&header);
        spans.push(PartSpan {
            part,
            first_line: b.line_count() + 1,
            standalone: format!("{def} {fn_name}():\n{}\n", indent(&body)),
            header_lines: 1,
        });
        b.push(&indent(&body));
    }
    spans
}

/// The domain's measurement section with the spec's numbers filled in.
fn measurement(spec: &ScriptSpec, domain: Domain) -> String {
    let number = spec.number.map_or("None".to_string(), |n| n.to_string());
    let repeat = spec.repeat.unwrap_or(DEFAULT_REPEAT).to_string();
    match domain {
        Domain::Cpu => MEASURE_CPU_PY.replace("@NUMBER@", &number),
        Domain::Async => MEASURE_ASYNC_PY
            .replace(
                "@CONCURRENCY@",
                &spec.concurrency.unwrap_or(DEFAULT_CONCURRENCY).to_string(),
            )
            .replace("@NUMBER@", &number),
        Domain::Memory => MEASURE_MEMORY_PY.to_string(),
        Domain::Structure => MEASURE_STRUCTURE_PY.replace("@NUMBER@", &number).replace(
            "@MODULES@",
            &serde_json::to_string(&spec.modules).expect("strings serialize"),
        ),
    }
    .replace("@REPEAT@", &repeat)
}

/// The `__main__` block: `a`, `b` (or each candidate's letter), and `ab`
/// (time) or `warmup` (memory).
fn main_block(spec: &ScriptSpec, domain: Domain) -> String {
    let letters: Vec<char> = match spec.candidates.len() {
        0 => vec!['a', 'b'],
        n => std::iter::once('a')
            .chain((0..n).map(candidate_letter))
            .collect(),
    };
    let fns = letters
        .iter()
        .map(|l| format!("\"{l}\": bench_{l}"))
        .collect::<Vec<_>>()
        .join(", ");
    let singles = letters
        .iter()
        .map(|l| format!("\"{l}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let named = if spec.candidates.is_empty() {
        "a = current approach, b = optimized approach".to_string()
    } else {
        let each: Vec<String> = spec
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} = candidate {}", candidate_letter(i), c.label))
            .collect();
        format!("a = current approach, {}", each.join(", "))
    };
    let one_of = letters
        .iter()
        .map(char::to_string)
        .collect::<Vec<_>>()
        .join("|");
    let (both_mode, usage) = if domain.is_time() {
        let numbers = letters
            .iter()
            .map(|l| format!("[--number-{l} N]"))
            .collect::<Vec<_>>()
            .join(" ");
        (
            format!("if sys.argv[1:2] == [\"ab\"]:\n        _SETUP_NAMES = [k for k in globals() if k not in _BEFORE_SETUP and not k.startswith(\"_\") and not k.startswith(\"bench_\")]\n        _paired({{{fns}}}, sys.argv[2:])"),
            format!("{one_of}|ab   ({named}, ab = all in alternating blocks: [--rounds N] {numbers} [--block-s S] [--seed N] [--variants {}] [--pilot])", letters.iter().collect::<String>()),
        )
    } else {
        (
            format!("if sys.argv[1:] == [\"warmup\"]:\n        _warmup({{{fns}}})"),
            format!("{one_of}|warmup   ({named}, warmup = both once, nothing measured)"),
        )
    };
    format!(
        "\n\n_USAGE = {usage}\n\n\
         if __name__ == \"__main__\":\n    \
         {both_mode}\n    \
         elif len(sys.argv) == 2 and sys.argv[1] in ({singles},):\n        \
         _measure(sys.argv[1], {{{fns}}}[sys.argv[1]])\n    \
         else:\n        \
         _usage()",
        usage = serde_json::to_string(&usage).expect("a string serializes"),
    )
}

/// The marker of a multi-candidate script.
fn candidates_marker(spec: &ScriptSpec) -> CandidatesMarker {
    CandidatesMarker {
        variants: spec
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| (candidate_letter(i), c.label.clone()))
            .collect(),
        duplicates: spec.duplicates.clone(),
        lines: spec
            .candidates
            .iter()
            .map(|c| c.code.lines().filter(|l| !l.trim().is_empty()).count())
            .collect(),
    }
}

/// The docstring's paragraph on the candidates.
fn candidates_note(spec: &ScriptSpec) -> String {
    let each: Vec<String> = spec
        .candidates
        .iter()
        .enumerate()
        .map(|(i, c)| format!("bench_{} is candidate `{}`", candidate_letter(i), c.label))
        .collect();
    let mut note = format!(
        "\nSeveral candidates against bench_a: {}.\n",
        each.join(", ")
    );
    for (label, of) in &spec.duplicates {
        note.push_str(&format!(
            "Candidate `{label}` is the same code as {of}: not included.\n"
        ));
    }
    note
}

#[cfg(test)]
mod tests;
