//! Property values as written in a stack: literals, `${resource.attribute}` references and
//! string templates mixing both. Resolving an expression against known values yields a
//! JSON value, or `UNKNOWN` where a referenced value only exists after apply.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::unknown::{contains_unknown, is_unknown, UNKNOWN};

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
    /// A function call or operator over references, computed at apply.
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    Lit(Value),
    Ref(Ref),
    Template(Vec<Part>),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    /// A function or operator whose arguments are not all known at validate, computed
    /// when they are (`func` is a function of [`crate::functions`], an operator such as
    /// `==`, `!`, `neg`, or [`COND`]).
    Call {
        func: String,
        args: Vec<Expr>,
    },
}

/// The conditional `c ? a : b` as a call: only the branch taken is computed.
pub const COND: &str = "?:";

impl Expr {
    pub fn refs(&self, out: &mut Vec<Ref>) {
        match self {
            Expr::Lit(_) => {}
            Expr::Ref(r) => out.push(r.clone()),
            Expr::Template(parts) => parts.iter().for_each(|p| match p {
                Part::Ref(r) => out.push(r.clone()),
                Part::Expr(e) => e.refs(out),
                Part::Lit(_) => {}
            }),
            Expr::List(items) | Expr::Call { args: items, .. } => items.iter().for_each(|e| e.refs(out)),
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
                    let v = match p {
                        Part::Lit(l) => {
                            s.push_str(l);
                            continue;
                        }
                        Part::Ref(r) => lookup(r),
                        Part::Expr(e) => Some(e.resolve(lookup)),
                    };
                    match v {
                        Some(Value::String(v)) if v != UNKNOWN => s.push_str(&v),
                        // A missing value is never sent as the text `null`: it stays
                        // unknown, and apply refuses to send it.
                        Some(Value::Null) => return Value::String(UNKNOWN.into()),
                        Some(v) if !contains_unknown(&v) => s.push_str(&v.to_string()),
                        _ => return Value::String(UNKNOWN.into()),
                    }
                }
                Value::String(s)
            }
            Expr::List(items) => Value::Array(items.iter().map(|e| e.resolve(lookup)).collect()),
            Expr::Map(entries) => Value::Object(entries.iter().map(|(k, e)| (k.clone(), e.resolve(lookup))).collect()),
            Expr::Call { func, args } if func == COND && args.len() == 3 => match args[0].resolve(lookup) {
                Value::Bool(true) => args[1].resolve(lookup),
                Value::Bool(false) => args[2].resolve(lookup),
                _ => Value::String(UNKNOWN.into()),
            },
            Expr::Call { func, args } => {
                let vals: Vec<Value> = args.iter().map(|e| e.resolve(lookup)).collect();
                if vals.iter().any(contains_unknown) {
                    return Value::String(UNKNOWN.into());
                }
                // A failure here (only possible on values unknown at validate) leaves the
                // value unknown, and apply refuses to send an unknown value.
                crate::functions::call(func, &vals, None).unwrap_or_else(|_| Value::String(UNKNOWN.into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
