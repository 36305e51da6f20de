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

// One candidate as the agent gives it: `label` ([A-Za-z0-9_-]{1,32}) and
// `code` (the body of its function, as code_b). No doc comments: tools/list
// would send them to the model on every session (the row in tools.md says it).
#[allow(missing_docs)]
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub label: String,
    pub code: String,
}

/// `--candidate-code LABEL=CODE` on the command line.
pub fn parse_arg(text: &str) -> Result<Candidate, String> {
    match text.split_once('=') {
        Some((label, code)) => Ok(Candidate {
            label: label.to_string(),
            code: code.to_string(),
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

/// Checks the list: the free form, a time domain, 1..=8 unique labels.
pub(super) fn check(candidates: &[Candidate], domain: Domain) -> Result<(), GenerateError> {
    let form = |m: String| Err(GenerateError::Form(m));
    if !domain.is_time() || domain == Domain::Structure {
        return form(format!(
            "`candidates` runs the cpu and async domains (one paired run for all); in the {domain} domain generate one A/B script per candidate"
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
        if c.code.len() > crate::template::MAX_CODE_BYTES {
            return form(format!(
                "candidate {:?} is {} bytes; the limit is 1 MiB",
                c.label,
                c.code.len()
            ));
        }
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
/// what). `python` is the runner's argv.
pub(super) async fn deduplicate(
    python: &[String],
    code_a: &str,
    candidates: &[Candidate],
) -> Result<(Vec<CandidateCode>, Vec<(String, String)>), GenerateError> {
    let bodies: Vec<&str> = std::iter::once(code_a)
        .chain(candidates.iter().map(|c| c.code.as_str()))
        .collect();
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
    for (i, c) in candidates.iter().enumerate() {
        let tree = &trees[i + 1];
        let same = tree.as_ref().and_then(|t| {
            if trees[0].as_ref() == Some(t) {
                return Some("A".to_string());
            }
            // The first earlier candidate with this tree is measured (a
            // later one equal to a duplicate would have matched its original).
            (0..i)
                .find(|&j| trees[j + 1].as_ref() == Some(t))
                .map(|j| candidates[j].label.clone())
        });
        match same {
            Some(of) => duplicates.push((c.label.clone(), of)),
            None => kept.push(CandidateCode {
                label: c.label.clone(),
                index: i,
                code: c.code.clone(),
            }),
        }
    }
    if kept.is_empty() {
        return Err(GenerateError::Form(format!(
            "every candidate is the same code as A or as another candidate ({}): nothing to measure",
            duplicates
                .iter()
                .map(|(l, of)| format!("{l} = {of}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok((kept, duplicates))
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
