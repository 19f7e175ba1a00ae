//! Property values as written in a stack: literals, `${resource.attribute}` references and
//! string templates mixing both. Resolving an expression against known values yields a
//! JSON value, or `UNKNOWN` where a referenced value only exists after apply.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Placeholder for a value that will only be known once apply has run.
pub const UNKNOWN: &str = "\u{1}(known after apply)";

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

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ref {
    pub resource: String,
    pub attr: String,
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.resource, self.attr)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Lit(String),
    Ref(Ref),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    Lit(Value),
    Ref(Ref),
    Template(Vec<Part>),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
}

impl Expr {
    pub fn refs(&self, out: &mut Vec<Ref>) {
        match self {
            Expr::Lit(_) => {}
            Expr::Ref(r) => out.push(r.clone()),
            Expr::Template(parts) => out.extend(parts.iter().filter_map(|p| match p {
                Part::Ref(r) => Some(r.clone()),
                Part::Lit(_) => None,
            })),
            Expr::List(items) => items.iter().for_each(|e| e.refs(out)),
            Expr::Map(entries) => entries.iter().for_each(|(_, e)| e.refs(out)),
        }
    }

    /// Resolve with `lookup`, which answers `None` for a value not known yet.
    pub fn resolve(&self, lookup: &dyn Fn(&Ref) -> Option<Value>) -> Value {
        match self {
            Expr::Lit(v) => v.clone(),
            Expr::Ref(r) => lookup(r).unwrap_or_else(|| Value::String(UNKNOWN.into())),
            Expr::Template(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        Part::Lit(l) => s.push_str(l),
                        Part::Ref(r) => match lookup(r) {
                            Some(Value::String(v)) if v != UNKNOWN => s.push_str(&v),
                            Some(v) if !contains_unknown(&v) => s.push_str(&v.to_string()),
                            _ => return Value::String(UNKNOWN.into()),
                        },
                    }
                }
                Value::String(s)
            }
            Expr::List(items) => Value::Array(items.iter().map(|e| e.resolve(lookup)).collect()),
            Expr::Map(entries) => Value::Object(entries.iter().map(|(k, e)| (k.clone(), e.resolve(lookup))).collect()),
        }
    }
}

/// Errors found while splitting a string into literal text and `${…}` references.
#[derive(Debug, PartialEq)]
pub enum TemplateError {
    Unclosed,
    /// The text inside `${…}` is not `resource.attribute` or `var.name`.
    BadReference(String),
}

/// One `${…}` occurrence: either a variable or a resource attribute.
#[derive(Debug, PartialEq)]
pub enum Piece {
    Text(String),
    Var(String),
    Ref(Ref),
}

/// Split a string into text and references. `$${` escapes a literal `${`.
pub fn split_template(s: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        text.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(escaped) = after.strip_prefix("$${") {
            text.push_str("${");
            rest = escaped;
        } else if let Some(body) = after.strip_prefix("${") {
            let end = body.find('}').ok_or(TemplateError::Unclosed)?;
            let inner = body[..end].trim();
            if !text.is_empty() {
                out.push(Piece::Text(std::mem::take(&mut text)));
            }
            out.push(parse_ref(inner)?);
            rest = &body[end + 1..];
        } else {
            text.push('$');
            rest = &after[1..];
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

fn parse_ref(inner: &str) -> Result<Piece, TemplateError> {
    let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match inner.split_once('.') {
        Some(("var", name)) if valid(name) => Ok(Piece::Var(name.to_string())),
        Some((res, attr)) if valid(res) && valid(attr) => {
            Ok(Piece::Ref(Ref { resource: res.to_string(), attr: attr.to_string() }))
        }
        _ => Err(TemplateError::BadReference(inner.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_templates() {
        let p = split_template("arn:${vpc.id}/x-${var.env}$${lit}").unwrap();
        assert_eq!(
            p,
            vec![
                Piece::Text("arn:".into()),
                Piece::Ref(Ref { resource: "vpc".into(), attr: "id".into() }),
                Piece::Text("/x-".into()),
                Piece::Var("env".into()),
                Piece::Text("${lit}".into()),
            ]
        );
        assert_eq!(split_template("${vpc"), Err(TemplateError::Unclosed));
        assert_eq!(split_template("${vpc}"), Err(TemplateError::BadReference("vpc".into())));
    }

    #[test]
    fn resolves_with_unknowns() {
        let e = Expr::List(vec![
            Expr::Ref(Ref { resource: "a".into(), attr: "id".into() }),
            Expr::Template(vec![Part::Lit("x-".into()), Part::Ref(Ref { resource: "b".into(), attr: "id".into() })]),
        ]);
        let v = e.resolve(&|r| (r.resource == "a").then(|| json!("a-1")));
        assert_eq!(v, json!(["a-1", UNKNOWN]));
        assert!(contains_unknown(&v));
    }
}
