//! A multi-candidate process reports every variant's blocks (`a`, `b`, `c`,
//! …, one permutation per round in `order`); each candidate is judged on
//! the two-variant view of it — A's blocks against its own, the order
//! inside each round reduced to "AB" or "BA" — so the paired design's
//! reading, checks and analysis apply unchanged.

use serde_json::{Map, Value};

/// The two-variant view of one ABBENCH line (a counted process or the
/// pilot) for candidate `letter`: its values become `b`.
pub(crate) fn project(line: &Value, letter: char) -> Result<Value, String> {
    let Value::Object(fields) = line else {
        return Err("the ABBENCH line is not an object".into());
    };
    let mut out = fields.clone();
    for v in candidate_keys(fields) {
        out.remove(&v);
    }
    if fields.contains_key("order") {
        pair_blocks(fields, &mut out, letter)?;
    }
    if let Some(Value::Array(lengths)) = fields.get("lengths") {
        let projected: Result<Vec<Value>, String> =
            lengths.iter().map(|l| project(l, letter)).collect();
        out.insert("lengths".into(), Value::Array(projected?));
    }
    for key in ["state", "live_objects", "output"] {
        if let Some(Value::Object(per)) = fields.get(key) {
            let mut two = Map::new();
            for (k, v) in per {
                let name = match k.as_str() {
                    "a" => Some("a"),
                    k if k.len() == 1 => k.starts_with(letter).then_some("b"),
                    other => Some(other),
                };
                if let Some(name) = name {
                    two.insert(name.into(), v.clone());
                }
            }
            out.insert(key.into(), Value::Object(two));
        }
    }
    Ok(Value::Object(out))
}

/// The single-letter keys other than `a` (each variant's blocks).
fn candidate_keys(fields: &Map<String, Value>) -> Vec<String> {
    fields
        .keys()
        .filter(|k| k.len() == 1 && k.as_str() != "a")
        .cloned()
        .collect()
}

/// `b` = the candidate's blocks, `number` reduced to a and b, `order`
/// reduced to "AB"/"BA" per round.
fn pair_blocks(
    fields: &Map<String, Value>,
    out: &mut Map<String, Value>,
    letter: char,
) -> Result<(), String> {
    let key = letter.to_string();
    let blocks = fields
        .get(&key)
        .ok_or_else(|| format!("no blocks of variant {letter}"))?;
    out.insert("b".into(), blocks.clone());
    if let Some(Value::Object(numbers)) = fields.get("number") {
        let mut two = Map::new();
        two.insert("a".into(), numbers.get("a").cloned().unwrap_or(Value::Null));
        two.insert(
            "b".into(),
            numbers.get(&key).cloned().unwrap_or(Value::Null),
        );
        out.insert("number".into(), Value::Object(two));
    }
    let order = fields.get("order").and_then(Value::as_str).unwrap_or("");
    let rounds = blocks.as_array().map_or(0, Vec::len);
    if rounds == 0 || order.len() % rounds != 0 {
        return Err(format!(
            "`order` {order:?} does not split into {rounds} rounds"
        ));
    }
    let upper = letter.to_ascii_uppercase();
    let pairs: String = order
        .as_bytes()
        .chunks(order.len() / rounds)
        .flat_map(|round| {
            round.iter().filter_map(move |&c| match c as char {
                'A' => Some('A'),
                c if c == upper => Some('B'),
                _ => None,
            })
        })
        .collect();
    out.insert("order".into(), Value::String(pairs));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_counted_process_is_seen_as_a_against_one_candidate() {
        let line = json!({
            "a": [1.0, 2.0], "b": [0.5, 1.0], "c": [3.0, 4.0],
            "order": "CABBAC", "number": {"a": 10, "b": 20, "c": 5}, "timed_s": 0.1,
        });
        let c = project(&line, 'c').unwrap();
        assert_eq!(c["b"], json!([3.0, 4.0]));
        assert_eq!(c["order"], "BAAB");
        assert_eq!(c["number"], json!({"a": 10, "b": 5}));
        assert_eq!(c["timed_s"], 0.1);
        assert!(c.get("c").is_none());
        let b = project(&line, 'b').unwrap();
        assert_eq!(b["order"], "ABBA");
        assert_eq!(b["b"], json!([0.5, 1.0]));
    }

    #[test]
    fn the_pilot_s_lengths_and_checks_are_projected() {
        let line = json!({
            "lengths": [{"block_s": 0.005, "a": [1.0], "b": [1.0], "c": [2.0], "order": "BCA", "number": {"a": 1, "b": 1, "c": 2}}],
            "aa": [[1.0], [1.0]], "aa_variant": "a",
            "state": {"a": [], "b": ["x"], "c": ["y"], "rounds": []},
            "live_objects": {"a": [0, 0], "b": [1, 1], "c": [9, 9]},
            "output": {"a": {"stdout": 0}, "b": {"stdout": 3}, "c": {"stdout": 7}},
        });
        let c = project(&line, 'c').unwrap();
        assert_eq!(c["lengths"][0]["b"], json!([2.0]));
        assert_eq!(c["lengths"][0]["order"], "BA");
        assert_eq!(c["state"], json!({"a": [], "b": ["y"], "rounds": []}));
        assert_eq!(c["live_objects"]["b"], json!([9, 9]));
        assert_eq!(c["output"]["b"]["stdout"], 7);
    }

    #[test]
    fn a_missing_candidate_is_an_error() {
        let line = json!({"a": [1.0], "b": [1.0], "order": "AB"});
        assert!(project(&line, 'd').unwrap_err().contains("variant d"));
    }
}
