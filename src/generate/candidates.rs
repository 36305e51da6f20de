//! Several candidates in one script (free form): their labels checked,
//! duplicates dropped before anything is measured (a candidate whose body
//! parses to the same syntax tree as A's or an earlier candidate's, so
//! formatting and comments do not make a new idea), and each remaining
//! candidate checked against A by the equivalence check.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::GenerateError;
use crate::domain::Domain;
use crate::equivalence::Equivalence;
use crate::process::{self, Limits, ProcessSpec};
use crate::template::CandidateCode;

/// Most candidates in one script (besides A).
pub const MAX_CANDIDATES: usize = 8;

// One candidate as the agent gives it: `label` ([A-Za-z0-9_-]{1,32}) and,
// free form, `code` (the body of its function, as code_b); revision form,
// `revision` (a commit, branch or stash) or `worktree: true`. No doc comments: tools/list
// would send them to the model on every session (the row in tools.md says it).
#[allow(missing_docs)]
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub label: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub revision: Option<String>,
    #[serde(default)]
    pub worktree: bool,
}

/// `--candidate-code LABEL=CODE` on the command line.
pub fn parse_arg(text: &str) -> Result<Candidate, String> {
    match text.split_once('=') {
        Some((label, code)) => Ok(Candidate {
            label: label.to_string(),
            code: code.to_string(),
            revision: None,
            worktree: false,
        }),
        None => Err("use LABEL=CODE, e.g. counter='return dict(Counter(WORDS))'".into()),
    }
}

/// A candidate in the answer: measured as `bench_<letter>`, or dropped as
/// a duplicate.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct GeneratedCandidate {
    /// Its label.
    pub label: String,
    /// Its function is `bench_<letter>`; null for a duplicate.
    pub letter: Option<char>,
    /// "A" or the label of the candidate whose code it repeats: not measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// What running it once against A found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equivalence: Option<Equivalence>,
}

/// Checks the list: a time domain, 1..=8 unique labels, each candidate in
/// the request's form (`code`; or `revision` or `worktree`, the work tree
/// at most once).
pub(super) fn check(
    candidates: &[Candidate],
    domain: Domain,
    revision_form: bool,
) -> Result<(), GenerateError> {
    let form = |m: String| Err(GenerateError::Form(m));
    if domain == Domain::Structure {
        return form(format!(
            "`candidates` runs the cpu, async and memory domains; in the {domain} domain generate one A/B script per candidate"
        ));
    }
    if candidates.len() > MAX_CANDIDATES {
        return form(format!(
            "{} candidates: at most {MAX_CANDIDATES} in one run; keep the most promising",
            candidates.len()
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for c in candidates {
        let ok = (1..=32).contains(&c.label.len())
            && c.label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            return form(format!(
                "candidate label {:?}: use 1 to 32 characters from A-Z, a-z, 0-9, _ and -",
                c.label
            ));
        }
        if c.label.eq_ignore_ascii_case("a") {
            return form(
                "candidate label \"A\" is the baseline's (code_a): name the candidate otherwise"
                    .into(),
            );
        }
        if !seen.insert(c.label.to_ascii_lowercase()) {
            return form(format!(
                "two candidates are labelled {:?}: labels must differ (ignoring case)",
                c.label
            ));
        }
        let given = (!c.code.trim().is_empty(), c.revision.is_some(), c.worktree);
        match (revision_form, given) {
            (false, (true, false, false)) | (true, (false, true, false)) | (true, (false, false, true)) => {}
            (false, _) => {
                return form(format!(
                    "candidate {:?}: the free form takes `code` (the body of its function) and no `revision`/`worktree`",
                    c.label
                ))
            }
            (true, _) => {
                return form(format!(
                    "candidate {:?}: with `target`, give either `revision` (a commit, branch or stash) or `worktree: true`, and no `code` (`call` runs in every variant)",
                    c.label
                ))
            }
        }
        if c.code.len() > crate::template::MAX_CODE_BYTES {
            return form(format!(
                "candidate {:?} is {} bytes; the limit is 1 MiB",
                c.label,
                c.code.len()
            ));
        }
    }
    if candidates.iter().filter(|c| c.worktree).count() > 1 {
        return form("only one candidate can be the work tree (`worktree: true`)".into());
    }
    Ok(())
}

/// Parses each body with the runner and compares syntax trees (`ast.dump`,
/// without positions): the same tree is the same code. A body that does
/// not parse keeps its own tree (the compile check names its error).
const SAME_TREE: &str = r#"
import ast, hashlib, json, sys, textwrap
out = []
for body in json.load(sys.stdin):
    try:
        tree = ast.dump(ast.parse(textwrap.dedent(body)))
        out.append(hashlib.sha256(tree.encode()).hexdigest())
    except (SyntaxError, ValueError):
        out.append(None)
print(json.dumps(out))
"#;

/// Splits the candidates into those to measure and duplicates (label, of
/// what). `bodies` holds A's code first, then each candidate's (the body,
/// or its target modules' sources); `candidates` are (index in the
/// request, candidate). `python` is the runner's argv.
pub(super) async fn deduplicate(
    python: &[String],
    bodies: &[String],
    candidates: &[(usize, &Candidate)],
) -> Result<(Vec<CandidateCode>, Vec<(String, String)>), GenerateError> {
    let mut argv = python.to_vec();
    argv.extend(["-I".to_string(), "-c".into(), SAME_TREE.into()]);
    let spec = ProcessSpec {
        stdin: Some(serde_json::to_vec(&bodies).expect("strings serialize")),
        ..ProcessSpec::new(argv)
    };
    let python_error = |reason: String| GenerateError::Python {
        python: python.join(" "),
        reason,
    };
    let done = process::run(&spec, Limits::default(), &CancellationToken::new())
        .await
        .map_err(|e| python_error(e.to_string()))?;
    let trees: Vec<Option<String>> =
        serde_json::from_str(done.stdout.text.trim()).map_err(|_| {
            python_error(format!(
                "comparing the candidates' code: {}",
                done.stderr.text.trim()
            ))
        })?;
    let mut kept = Vec::new();
    let mut duplicates = Vec::new();
    for (i, &(index, c)) in candidates.iter().enumerate() {
        let tree = &trees[i + 1];
        let same = tree.as_ref().and_then(|t| {
            if trees[0].as_ref() == Some(t) {
                return Some("A".to_string());
            }
            // The first earlier candidate with this tree is measured (a
            // later one equal to a duplicate would have matched its original).
            (0..i)
                .find(|&j| trees[j + 1].as_ref() == Some(t))
                .map(|j| candidates[j].1.label.clone())
        });
        match same {
            Some(of) => duplicates.push((c.label.clone(), of)),
            None => kept.push(CandidateCode {
                label: c.label.clone(),
                index,
                code: c.code.clone(),
            }),
        }
    }
    Ok((kept, duplicates))
}

/// The error when every candidate is a duplicate: nothing is left to measure.
pub(super) fn nothing_left(duplicates: &[(String, String)]) -> GenerateError {
    GenerateError::Form(format!(
        "every candidate is the same code as A or as another candidate ({}): nothing to measure",
        duplicates
            .iter()
            .map(|(l, of)| format!("{l} = {of}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The revision form's candidates: each revision (or the work tree)
/// resolved against the base; one whose target module did not change is a
/// duplicate of A, one whose target modules parse to the same trees as an
/// earlier one's a duplicate of it. Returns the candidates kept with their
/// resolved revisions (in order), and the duplicates.
pub(super) async fn resolve_revisions(
    python: &[String],
    form: &crate::revision::RevisionForm,
    candidates: &[Candidate],
) -> Result<
    (
        Vec<CandidateCode>,
        Vec<crate::revision::ResolvedRevision>,
        Vec<(String, String)>,
    ),
    GenerateError,
> {
    let mut resolved = Vec::new();
    let mut duplicates = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        let one = crate::revision::RevisionForm {
            candidate: c.revision.clone(),
            ..form.clone()
        };
        match crate::revision::resolve(&one).await {
            Ok(r) => resolved.push((i, c, r)),
            Err(crate::revision::RevisionError::NothingChanged { .. })
                if form.targets.len() == 1 =>
            {
                duplicates.push((c.label.clone(), "A".to_string()));
            }
            Err(e) => return Err(GenerateError::Form(format!("candidate {:?}: {e}", c.label))),
        }
    }
    let Some((_, _, first)) = resolved.first() else {
        return Err(nothing_left(&duplicates));
    };
    let sources = |r: &crate::revision::ResolvedRevision, base: bool| -> String {
        r.modules
            .iter()
            .map(|m| match (&m.candidate_source, base) {
                (_, true) => m.base_source.clone(),
                (Some(text), false) => text.clone(),
                (None, false) => std::fs::read_to_string(&m.path).unwrap_or_default(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let bodies: Vec<String> = std::iter::once(sources(first, true))
        .chain(resolved.iter().map(|(_, _, r)| sources(r, false)))
        .collect();
    let indexed: Vec<(usize, &Candidate)> = resolved.iter().map(|(i, c, _)| (*i, *c)).collect();
    let (kept, more) = deduplicate(python, &bodies, &indexed).await?;
    duplicates.extend(more);
    let revisions = kept
        .iter()
        .filter_map(|k| {
            resolved
                .iter()
                .find(|(i, _, _)| *i == k.index)
                .map(|(_, _, r)| r.clone())
        })
        .collect();
    Ok((kept, revisions, duplicates))
}

/// The answer's candidates, in the request's order: the measured ones
/// with their equivalence, the duplicates with what they repeat.
pub(super) fn answer(
    given: &[Candidate],
    measured: &[CandidateCode],
    duplicates: &[(String, String)],
    equivalences: Vec<Equivalence>,
) -> Vec<GeneratedCandidate> {
    let mut equivalences = equivalences.into_iter();
    given
        .iter()
        .map(|c| match measured.iter().position(|m| m.label == c.label) {
            Some(i) => GeneratedCandidate {
                label: c.label.clone(),
                letter: Some(crate::template::candidate_letter(i)),
                duplicate_of: None,
                equivalence: equivalences.next(),
            },
            None => GeneratedCandidate {
                label: c.label.clone(),
                letter: None,
                duplicate_of: duplicates
                    .iter()
                    .find(|(l, _)| *l == c.label)
                    .map(|(_, of)| of.clone()),
                equivalence: None,
            },
        })
        .collect()
}
