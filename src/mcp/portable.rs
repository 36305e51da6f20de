//! Tool schemas every MCP client accepts. schemars writes Rust's types
//! faithfully — `"type": ["integer", "null"]` for an `Option`,
//! `"format": "uint64"` for a `u64` — and some clients warn on each
//! (`unknown format "uint"` on every call). [`make_portable`] rewrites a
//! published schema in place: integers and numbers carry `minimum` /
//! `maximum` instead of custom formats; in an input an optional argument is
//! plain optional (not in `required`, no `null` branch, no `default:
//! null`); in an output, where a missing value is written as `null`, a
//! nullable field is `anyOf` its type and `null`.

use serde_json::{Map, Value};

/// Formats JSON Schema does not define, as schemars writes them for Rust's numbers.
const RUST_FORMATS: [&str; 14] = [
    "uint", "uint8", "uint16", "uint32", "uint64", "uint128", "int", "int8", "int16", "int32",
    "int64", "int128", "double", "float",
];

/// Which side of a tool call a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    /// Arguments: an absent optional field is simply left out.
    Input,
    /// Structured results: an absent value is written as `null`.
    Output,
}

/// Rewrites `schema` (a whole tool input or output schema) to the portable subset.
pub fn make_portable(schema: &mut Map<String, Value>, contract: Contract) {
    portable_object(schema, contract);
}

fn portable(value: &mut Value, contract: Contract) {
    match value {
        Value::Object(map) => portable_object(map, contract),
        Value::Array(items) => items.iter_mut().for_each(|v| portable(v, contract)),
        _ => {}
    }
}

/// Keywords that describe a value rather than constrain it: they stay on
/// the outside of an `anyOf`.
const ANNOTATIONS: [&str; 4] = ["description", "title", "default", "examples"];

/// `{"type": [T, "null"], ...}` → `{"anyOf": [{"type": T, ...}, {"type": "null"}]}`.
fn nullable_as_any_of(map: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = map.get("type") else {
        return;
    };
    let kept: Vec<Value> = types
        .iter()
        .filter(|t| t.as_str() != Some("null"))
        .cloned()
        .collect();
    if kept.len() == types.len() {
        return;
    }
    let mut branch = Map::new();
    for (k, v) in std::mem::take(map) {
        if ANNOTATIONS.contains(&k.as_str()) {
            map.insert(k, v);
        } else {
            branch.insert(k, v);
        }
    }
    branch.insert(
        "type".into(),
        if kept.len() == 1 {
            kept[0].clone()
        } else {
            Value::Array(kept)
        },
    );
    if let Some(Value::Array(options)) = branch.get_mut("enum") {
        options.retain(|o| !o.is_null());
    }
    map.insert(
        "anyOf".into(),
        Value::Array(vec![
            Value::Object(branch),
            serde_json::json!({"type": "null"}),
        ]),
    );
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type") == Some(&Value::String("null".into()))
        && v.as_object().is_some_and(|m| m.len() == 1)
}

fn portable_object(map: &mut Map<String, Value>, contract: Contract) {
    if contract == Contract::Output {
        nullable_as_any_of(map);
        strip_rust_formats(map);
        for (_, v) in map.iter_mut() {
            portable(v, contract);
        }
        return;
    }
    // ["T", "null"] → "T"
    if let Some(Value::Array(types)) = map.get("type") {
        let kept: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if kept.len() == 1 {
            map.insert("type".into(), kept[0].clone());
        } else {
            map.insert("type".into(), Value::Array(kept));
        }
    }
    if let Some(Value::Array(options)) = map.get_mut("enum") {
        options.retain(|o| !o.is_null());
    }
    // anyOf [X, {"type": "null"}] → X, merged into this schema.
    if let Some(Value::Array(branches)) = map.get("anyOf") {
        let kept: Vec<Value> = branches
            .iter()
            .filter(|b| !is_null_schema(b))
            .cloned()
            .collect();
        if kept.len() == 1 && kept.len() < branches.len() {
            map.remove("anyOf");
            if let Value::Object(only) = &kept[0] {
                for (k, v) in only {
                    map.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        } else if kept.len() < branches.len() {
            map.insert("anyOf".into(), Value::Array(kept));
        }
    }
    if map.get("default") == Some(&Value::Null) {
        map.remove("default");
    }
    strip_rust_formats(map);
    for (_, v) in map.iter_mut() {
        portable(v, contract);
    }
}

/// An output schema without what only people read: descriptions and titles
/// (the tools' answers are described in their descriptions and in
/// references/tools.md) go, and a `oneOf` of string constants becomes an
/// `enum`. Clients validate against it; the model does not read it, so its
/// bytes are only the wire's.
pub fn terse(schema: &mut Map<String, Value>) {
    schema.remove("$schema");
    schema.remove("description");
    schema.remove("title");
    for (key, value) in schema.iter_mut() {
        match (key.as_str(), value) {
            // Property names are not keywords: recurse into each schema.
            ("properties" | "$defs" | "definitions", Value::Object(named)) => {
                for (_, v) in named.iter_mut() {
                    if let Value::Object(m) = v {
                        terse(m);
                    }
                }
            }
            (_, Value::Object(m)) => terse(m),
            (_, Value::Array(items)) => {
                for v in items.iter_mut() {
                    if let Value::Object(m) = v {
                        terse(m);
                    }
                }
            }
            _ => {}
        }
    }
    let constants: Option<Vec<Value>> = match schema.get("oneOf") {
        Some(Value::Array(branches)) => branches
            .iter()
            .map(|b| match b.as_object() {
                Some(m) if m.len() <= 2 && m.get("type") == Some(&"string".into()) => {
                    m.get("const").cloned()
                }
                _ => None,
            })
            .collect(),
        _ => None,
    };
    if let Some(values) = constants {
        schema.remove("oneOf");
        schema.insert("type".into(), "string".into());
        schema.insert("enum".into(), Value::Array(values));
    }
}

/// An input schema's choices as plain enums: a `oneOf` of documented
/// string constants (schemars' shape for an enum with doc comments)
/// becomes `{"type": "string", "enum": [...]}` — the argument's own
/// description says what the values mean — and `$schema` goes (2020-12 is
/// MCP's default), as do empty defaults. Property descriptions stay: the
/// model reads them.
pub fn plain_choices(schema: &mut Map<String, Value>) {
    schema.remove("$schema");
    // An empty default says nothing absence does not.
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        for (_, prop) in props.iter_mut() {
            let empty = match prop.get("default") {
                Some(Value::String(s)) => s.is_empty(),
                Some(Value::Array(a)) => a.is_empty(),
                Some(Value::Object(o)) => o.is_empty(),
                Some(Value::Bool(b)) => !b,
                _ => false,
            };
            if empty {
                prop.as_object_mut().map(|p| p.remove("default"));
            }
        }
    }
    if let Some(Value::Object(defs)) = schema.get_mut("$defs") {
        for (_, def) in defs.iter_mut() {
            if let Value::Object(m) = def {
                let mut choices = m.clone();
                terse(&mut choices);
                if choices.contains_key("enum") {
                    *m = choices;
                }
            }
        }
    }
}

/// `"format": "uint64"` → `"minimum": 0`; `"format": "double"` → nothing.
fn strip_rust_formats(map: &mut Map<String, Value>) {
    if let Some(Value::String(format)) = map.get("format") {
        if RUST_FORMATS.contains(&format.as_str()) {
            let unsigned = format.starts_with('u');
            map.remove("format");
            if unsigned && !map.contains_key("minimum") {
                map.insert("minimum".into(), 0.into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nullable_and_rust_formats_become_portable() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "seed": {"type": ["integer", "null"], "format": "uint64", "minimum": 0, "default": null},
                "gain": {"type": ["number", "null"], "format": "double"},
                "domain": {"type": ["string", "null"], "enum": ["cpu", "memory", null]},
                "isolation": {"anyOf": [{"$ref": "#/$defs/Isolation"}, {"type": "null"}], "description": "how"},
                "when": {"type": "string", "format": "date-time"},
            }
        });
        let mut output = schema.clone();
        make_portable(schema.as_object_mut().unwrap(), Contract::Input);
        let p = &schema["properties"];
        assert_eq!(p["seed"], json!({"type": "integer", "minimum": 0}));
        assert_eq!(p["gain"], json!({"type": "number"}));
        assert_eq!(
            p["domain"],
            json!({"type": "string", "enum": ["cpu", "memory"]})
        );
        assert_eq!(
            p["isolation"],
            json!({"$ref": "#/$defs/Isolation", "description": "how"})
        );
        assert_eq!(p["when"]["format"], "date-time", "standard formats stay");

        // Outputs write `null`: nullable stays, as anyOf.
        make_portable(output.as_object_mut().unwrap(), Contract::Output);
        let p = &output["properties"];
        assert_eq!(
            p["domain"],
            json!({"anyOf": [{"type": "string", "enum": ["cpu", "memory"]}, {"type": "null"}]})
        );
        assert_eq!(
            p["seed"],
            json!({"default": null, "anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]})
        );
        assert_eq!(p["isolation"]["anyOf"][1], json!({"type": "null"}));
    }
}
