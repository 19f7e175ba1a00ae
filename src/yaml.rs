//! A YAML document tree in which every node carries its source position, built from the
//! event stream of `yaml-rust2` (serde-based YAML crates drop locations, and every
//! diagnostic must point at file:line:column).

use crate::diag::{Diagnostic, Span};
use std::path::PathBuf;
use std::sync::Arc;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string; `quoted` records whether it was written in quotes (so `"true"` stays a string).
    Str(String),
    Seq(Vec<Node>),
    /// Keys keep their own spans, so duplicate or unknown keys can be pointed at.
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub span: Span,
}

impl Node {
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a map",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.name == key).map(|(_, v)| v)
    }

    /// A scalar rendered as text (for string-typed fields given as numbers, e.g. `port: 3306`).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Int(i) => Some(i.to_string()),
            Kind::Float(f) => Some(f.to_string()),
            Kind::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// Parse one YAML document. Anchors/aliases are resolved; a syntax error becomes a
/// diagnostic pointing at the place the parser stopped.
pub fn parse(file: &Arc<PathBuf>, text: &str) -> Result<Node, Diagnostic> {
    let mut b = Builder { file: file.clone(), stack: Vec::new(), root: None, anchors: Vec::new(), docs: 0 };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut b, false) {
        let m = e.marker();
        return Err(Diagnostic::error("Invalid YAML syntax", e.info().to_string())
            .at(&Span::new(file, m.line(), m.col() + 1))
            .hint(
                "fix the YAML syntax at this position (indentation, a missing `:` or an unclosed quote or bracket)",
            ));
    }
    Ok(b.root.unwrap_or(Node { kind: Kind::Null, span: Span::new(file, 1, 1) }))
}

enum Frame {
    Seq(Vec<Node>, Span, usize),
    Map(Vec<(Key, Node)>, Span, Option<Key>, usize),
}

struct Builder {
    file: Arc<PathBuf>,
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: Vec<(usize, Node)>,
    docs: usize,
}

impl Builder {
    fn span(&self, m: Marker) -> Span {
        Span::new(&self.file, m.line(), m.col() + 1)
    }

    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.push((anchor, node.clone()));
        }
        match self.stack.last_mut() {
            None => {
                if self.docs <= 1 {
                    self.root = Some(node)
                }
            }
            Some(Frame::Seq(items, _, _)) => items.push(node),
            Some(Frame::Map(entries, _, pending, _)) => match pending.take() {
                None => {
                    let name = node.scalar_text().unwrap_or_else(|| format!("<{}>", node.type_name()));
                    *pending = Some(Key { name, span: node.span });
                }
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

fn scalar(value: String, style: TScalarStyle) -> Kind {
    if style != TScalarStyle::Plain {
        return Kind::Str(value);
    }
    match value.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => Kind::Null,
        "true" | "True" | "TRUE" => Kind::Bool(true),
        "false" | "False" | "FALSE" => Kind::Bool(false),
        // A number only when writing it back gives the very same text: `3.10`, `8.0`, `1e3`,
        // `0100` or `+5` stay text, so a version or a name is never silently changed
        // (`3.10` as a number is `3.1`). Where a number is expected, such text is refused.
        _ => match value.parse::<i64>() {
            Ok(i) if i.to_string() == value => Kind::Int(i),
            Ok(_) => Kind::Str(value),
            Err(_) => match value.parse::<f64>() {
                Ok(f) if f.is_finite() && f.to_string() == value => Kind::Float(f),
                _ => Kind::Str(value),
            },
        },
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let span = self.span(mark);
        match ev {
            Event::DocumentStart => self.docs += 1,
            Event::Scalar(v, style, anchor, _) => {
                let node = Node { kind: scalar(v, style), span };
                self.push_value(node, anchor);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(Vec::new(), span, anchor)),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map(Vec::new(), span, None, anchor)),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq(items, span, a)) => (Node { kind: Kind::Seq(items), span }, a),
                    Some(Frame::Map(entries, span, _, a)) => (Node { kind: Kind::Map(entries), span }, a),
                    None => return,
                };
                self.push_value(node, anchor);
            }
            Event::Alias(id) => {
                let found = self.anchors.iter().rev().find(|(a, _)| *a == id).map(|(_, n)| n.clone());
                let node = found.unwrap_or(Node { kind: Kind::Null, span });
                self.push_value(node, 0);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Node, Diagnostic> {
        parse(&Arc::new(PathBuf::from("t.yaml")), text)
    }

    #[test]
    fn spans_point_at_values_and_keys() {
        let n = p("a: 1\nb:\n  c: \"true\"\n  d: [x, 2]\n").unwrap();
        let b = n.get("b").unwrap();
        let (k, c) = &b.as_map().unwrap()[0];
        assert_eq!((k.span.line, k.span.col), (3, 3));
        assert_eq!(c.kind, Kind::Str("true".into()));
        assert_eq!((c.span.line, c.span.col), (3, 6));
        assert_eq!(n.get("a").unwrap().kind, Kind::Int(1));
        // Scalars whose number would read back differently keep their text.
        let n = p("v: [3.10, 8.0, 1e3, 0100, +5, 2.5, -3]\n").unwrap();
        let kinds: Vec<Kind> = match &n.get("v").unwrap().kind {
            Kind::Seq(items) => items.iter().map(|i| i.kind.clone()).collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            kinds,
            vec![
                Kind::Str("3.10".into()),
                Kind::Str("8.0".into()),
                Kind::Str("1e3".into()),
                Kind::Str("0100".into()),
                Kind::Str("+5".into()),
                Kind::Float(2.5),
                Kind::Int(-3)
            ]
        );
    }

    #[test]
    fn syntax_error_has_location() {
        let e = p("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(e.summary, "Invalid YAML syntax");
        assert!(e.span.unwrap().line >= 1);
    }

    #[test]
    fn aliases_resolve() {
        let n = p("x: &t {k: v}\ny: *t\n").unwrap();
        assert_eq!(n.get("y").unwrap().get("k").unwrap().as_str(), Some("v"));
    }
}
