//! The placeholder for a value that is only known once apply has run (a resource's
//! generated ID, an ARN), and how to find it in a value. Plans and plan files carry it as
//! this text, so it must not change. Pure and at the bottom of the language: schemas and
//! cost read it from here, everything above through `expr`, which re-exports it.

use serde_json::Value;

/// Placeholder for a value that will only be known once apply has run.
pub const UNKNOWN: &str = "\u{1}(known after apply)";

/// Is `v` the placeholder itself?
pub fn is_unknown(v: &Value) -> bool {
    v.as_str() == Some(UNKNOWN)
}

/// True when a value contains an unknown anywhere inside it.
pub fn contains_unknown(v: &Value) -> bool {
    match v {
        Value::String(s) => s == UNKNOWN,
        Value::Array(a) => a.iter().any(contains_unknown),
        Value::Object(m) => m.values().any(contains_unknown),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_an_unknown_anywhere_inside_a_value() {
        assert!(is_unknown(&json!(UNKNOWN)));
        assert!(!is_unknown(&json!([UNKNOWN])));
        assert!(contains_unknown(&json!({"a": [1, {"b": UNKNOWN}]})));
        assert!(!contains_unknown(&json!({"a": [1, "known"]})));
        assert!(!contains_unknown(&json!(format!("x{UNKNOWN}"))), "only a whole string is unknown");
    }
}
