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

    /// The node as a JSON value (what expressions compute with).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Int(i) => Value::from(*i),
            Kind::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Kind::Str(s) => Value::String(s.clone()),
            Kind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Kind::Map(entries) => Value::Object(entries.iter().map(|(k, v)| (k.name.clone(), v.to_json())).collect()),
        }
    }

    /// A computed value as a node located at `span` (where the expression is written), so
    /// it is checked against a property's kind like a value written there.
    pub fn from_json(v: &serde_json::Value, span: &Span) -> Node {
        use serde_json::Value;
        let kind = match v {
            Value::Null => Kind::Null,
            Value::Bool(b) => Kind::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Kind::Int(i),
                None => Kind::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Kind::Str(s.clone()),
            Value::Array(a) => Kind::Seq(a.iter().map(|e| Node::from_json(e, span)).collect()),
            Value::Object(m) => Kind::Map(
                m.iter()
                    .map(|(k, e)| (Key { name: k.clone(), span: span.clone() }, Node::from_json(e, span)))
                    .collect(),
            ),
        };
        Node { kind, span: span.clone() }
    }
}

/// Parse one YAML document. Anchors/aliases are resolved; a syntax error becomes a
/// diagnostic pointing at the place the parser stopped.
pub fn parse(file: &Arc<PathBuf>, text: &str) -> Result<Node, Diagnostic> {
    let (node, problems) = parse_all(file, text)?;
    match problems.into_iter().next() {
        Some(first) => Err(first),
        None => Ok(node),
    }
}

/// The most nested collections a file may have. The parser and everything after it walk
/// the tree, and 5,000 levels of `- - -` (10 KB) would overflow the stack.
pub const MAX_DEPTH: usize = 64;
/// The most values aliases may copy into a document, counted each time they are used: a
/// 1 KB "billion laughs" file would otherwise grow to gigabytes. (What is written out is
/// bounded by the file size.)
pub const MAX_NODES: usize = 250_000;
/// The largest stack or env file read, in bytes (a 30,000-resource stack is about 4 MiB).
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;
const MERGE_KEY: &str = "<<";
/// Stands for a key that is not text while its value is read; the entry is then dropped.
const INVALID_KEY: &str = "\u{0}invalid key";

/// Parse one YAML document, and list (by location) what YAML allows but this tool cannot
/// mean: duplicate keys, explicit tags, further documents, keys that are not text. Only a
/// syntax error or an exceeded limit stops it, so callers can report these together with
/// their own findings. Merge keys (`<<: *base`) are applied; a UTF-8 byte order mark is
/// skipped.
pub fn parse_all(file: &Arc<PathBuf>, text: &str) -> Result<(Node, Vec<Diagnostic>), Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut b = Builder {
        file: file.clone(),
        stack: Vec::new(),
        root: None,
        anchors: Vec::new(),
        docs: 0,
        nodes: 0,
        problems: Vec::new(),
    };
    let mut parser = Parser::new_from_str(text);
    // Driven event by event (the parser's own `load` recurses once per level), so depth and
    // size are checked before they can do harm.
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| {
            let m = e.marker();
            let (summary, hint) =
                if reference_in_flow(text, m.line(), e.info()) { REFERENCE_IN_FLOW } else { syntax_hint(e.info()) };
            let col = if e.info().contains("tab") { tab_column(text, m.line(), m.col()) } else { m.col() + 1 };
            Diagnostic::error(summary, e.info().to_string()).at(&Span::new(file, m.line(), col)).hint(hint)
        })?;
        if ev == Event::StreamEnd {
            break;
        }
        let span = b.span(mark);
        let opens = matches!(ev, Event::SequenceStart(..) | Event::MappingStart(..));
        if opens && b.stack.len() >= MAX_DEPTH {
            return Err(Diagnostic::error(
                "Too deeply nested",
                format!("the document nests lists and maps more than {MAX_DEPTH} levels deep"),
            )
            .at(&span)
            .hint("a stack needs only a few levels; flatten this value"));
        }
        b.on_event(ev, mark);
        if b.nodes > MAX_NODES {
            return Err(Diagnostic::error(
                "Document too large",
                format!("aliases expand to more than {MAX_NODES} values (each use counts)"),
            )
            .at(&span)
            .hint("use fewer aliases of large anchors, or split the stack"));
        }
    }
    // What YAML allows but this tool cannot mean is refused, never guessed at.
    let mut problems = b.problems;
    problems.sort_by_key(|d| d.span.as_ref().map(|s| (s.line, s.col)));
    Ok((b.root.unwrap_or(Node { kind: Kind::Null, span: Span::new(file, 1, 1) }), problems))
}

/// The error a `${…}` inside a `{ … }` or `[ … ]` collection makes: YAML reads its `{`
/// as the start of a nested map.
const REFERENCE_IN_FLOW: (&str, &str) = (
    "Unquoted reference inside `{ }` or `[ ]`",
    "in a `{ … }` or `[ … ]` collection YAML reads the `{` of `${…}` as a nested map: quote the value (`Name: \"cdc-${var.env}\"`), or write the map in block style, one `key: value` per line",
);

/// Did the parser stop inside a flow collection, on a line that holds an unquoted `${`?
fn reference_in_flow(text: &str, line: usize, info: &str) -> bool {
    let Some(l) = text.lines().nth(line.saturating_sub(1)) else { return false };
    if !info.contains("flow") {
        return false;
    }
    // A `${` outside every quoted part of the line.
    let mut quote = None;
    let chars: Vec<char> = l.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(*c),
            (Some(q), c) if *c == q => quote = None,
            (None, '$') if chars.get(i + 1) == Some(&'{') => return true,
            _ => {}
        }
    }
    false
}

/// The summary and hint for a syntax error the parser reported.
fn syntax_hint(info: &str) -> (&'static str, &'static str) {
    if info.contains("tab") {
        ("Invalid YAML syntax", "indent with spaces: YAML does not allow tabs for indentation")
    } else if info.contains("recursion limit") {
        ("Too deeply nested", "a stack needs only a few levels; flatten this value")
    } else if info.contains("unknown anchor") {
        ("Invalid YAML syntax", "define the anchor (`&name`) before the alias (`*name`) that uses it")
    } else {
        (
            "Invalid YAML syntax",
            "fix the YAML syntax at this position (indentation, a missing `:` or an unclosed quote or bracket)",
        )
    }
}

/// The column of the tab a tab error is about: the last one on the line at or before where
/// the parser stopped (it reports the position after the tab).
fn tab_column(text: &str, line: usize, col: usize) -> usize {
    let l = text.lines().nth(line.saturating_sub(1)).unwrap_or_default();
    let chars: Vec<char> = l.chars().collect();
    let upto = col.min(chars.len().saturating_sub(1));
    (0..=upto).rev().find(|&i| chars.get(i) == Some(&'\t')).map_or(col + 1, |i| i + 1)
}

/// The number of nodes in a tree (what an alias of it adds).
fn size(node: &Node) -> usize {
    1 + match &node.kind {
        Kind::Seq(items) => items.iter().map(size).sum(),
        Kind::Map(entries) => entries.iter().map(|(_, v)| size(v)).sum(),
        _ => 0,
    }
}

enum Frame {
    Seq(Vec<Node>, Span, usize),
    /// Entries, span, the key whose value is awaited, anchor, and each key's first
    /// position (duplicates found in O(1), for maps of 30,000 resources).
    Map(Vec<(Key, Node)>, Span, Option<Key>, usize, std::collections::HashMap<String, usize>),
}

struct Builder {
    file: Arc<PathBuf>,
    stack: Vec<Frame>,
    root: Option<Node>,
    /// Anchored nodes with their sizes.
    anchors: Vec<(usize, Node, usize)>,
    docs: usize,
    /// Values copied by aliases so far, each use at its full size.
    nodes: usize,
    /// Duplicate keys, explicit tags, further documents, keys that are not text.
    problems: Vec<Diagnostic>,
}

impl Builder {
    fn span(&self, m: Marker) -> Span {
        Span::new(&self.file, m.line(), m.col() + 1)
    }

    /// Apply merge keys (`<<: *base`, `<<: [*a, *b]`) as YAML defines them: keys written in
    /// the map win, then the merged maps in the order given. Anything else after `<<` is refused.
    fn merge(&mut self, entries: Vec<(Key, Node)>) -> Vec<(Key, Node)> {
        if !entries.iter().any(|(k, _)| k.name == MERGE_KEY) {
            return entries;
        }
        let (merges, mut own): (Vec<_>, Vec<_>) = entries.into_iter().partition(|(k, _)| k.name == MERGE_KEY);
        for (key, value) in merges {
            let sources: Vec<Node> = match value.kind {
                Kind::Map(_) => vec![value],
                Kind::Seq(items) if items.iter().all(|i| matches!(i.kind, Kind::Map(_))) => items,
                _ => {
                    self.problems.push(
                        Diagnostic::error("Invalid merge key", "`<<` merges a map, or a list of maps, into this map")
                            .at(&key.span)
                            .hint("write `<<: *anchor` where `&anchor` names a map"),
                    );
                    continue;
                }
            };
            for source in sources {
                if let Kind::Map(merged) = source.kind {
                    for (k, v) in merged {
                        if !own.iter().any(|(o, _)| o.name == k.name) {
                            // Reported where the merge is, as for any alias: one anchor
                            // may be merged in many places.
                            let at = key.span.clone();
                            own.push((Key { span: at.clone(), ..k }, Node { span: at, ..v }));
                        }
                    }
                }
            }
        }
        own
    }

    /// Explicit tags (`!Ref vpc`, `!!int "1"`) would change what a value means.
    fn refuse_tag(&mut self, tag: Option<&yaml_rust2::parser::Tag>, span: &Span) {
        if let Some(t) = tag {
            self.problems.push(
                Diagnostic::error("Unsupported YAML tag", format!("`{}{}` is a YAML tag, which cloudbridge does not read", t.handle, t.suffix))
                    .at(span)
                    .hint("remove the tag; references are written `${resource.attribute}`, and text that looks like another type is quoted"),
            );
        }
    }

    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            let n = size(&node);
            self.anchors.push((anchor, node.clone(), n));
        }
        match self.stack.last_mut() {
            None => {
                if self.docs <= 1 {
                    self.root = Some(node)
                }
            }
            Some(Frame::Seq(items, _, _)) => items.push(node),
            Some(Frame::Map(entries, _, pending, _, seen)) => match pending.take() {
                None => {
                    let name = match &node.kind {
                        Kind::Null | Kind::Seq(_) | Kind::Map(_) => {
                            self.problems.push(
                                Diagnostic::error(
                                    "Invalid key",
                                    format!("a key must be text, not {}", node.type_name()),
                                )
                                .at(&node.span)
                                .hint("write the key as a plain name, such as `name:`"),
                            );
                            INVALID_KEY.to_string()
                        }
                        _ => node.scalar_text().unwrap_or_default(),
                    };
                    *pending = Some(Key { name, span: node.span });
                }
                // Reported where the key is; the entry is left out, so nothing is said
                // about it again.
                Some(k) if k.name == INVALID_KEY => {}
                Some(k) => {
                    if let Some((first, _)) = seen.get(&k.name).map(|&i| &entries[i]) {
                        // YAML would keep one of them silently: an IAM `Deny` could become an `Allow`.
                        self.problems.push(
                            Diagnostic::error(
                                "Duplicate key",
                                format!(
                                    "`{}` is already set at line {}, column {}",
                                    k.name, first.span.line, first.span.col
                                ),
                            )
                            .at(&k.span)
                            .hint("remove one of the two, or merge them"),
                        );
                    }
                    seen.entry(k.name.clone()).or_insert(entries.len());
                    entries.push((k, node))
                }
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
            Event::DocumentStart => {
                self.docs += 1;
                if self.docs == 2 {
                    self.problems.push(
                        Diagnostic::error("More than one document", "this file holds a second YAML document (after `---`)")
                            .at(&span)
                            .hint("a file holds one document: remove the `---` and what follows, or move it to a file of its own"),
                    );
                }
            }
            Event::Scalar(v, style, anchor, tag) => {
                self.refuse_tag(tag.as_ref(), &span);
                let node = Node { kind: scalar(v, style), span };
                self.push_value(node, anchor);
            }
            Event::SequenceStart(anchor, tag) => {
                self.refuse_tag(tag.as_ref(), &span);
                self.stack.push(Frame::Seq(Vec::new(), span, anchor))
            }
            Event::MappingStart(anchor, tag) => {
                self.refuse_tag(tag.as_ref(), &span);
                self.stack.push(Frame::Map(Vec::new(), span, None, anchor, Default::default()))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq(items, span, a)) => (Node { kind: Kind::Seq(items), span }, a),
                    Some(Frame::Map(entries, span, _, a, _)) => {
                        let entries = self.merge(entries);
                        (Node { kind: Kind::Map(entries), span }, a)
                    }
                    None => return,
                };
                self.push_value(node, anchor);
            }
            Event::Alias(id) => {
                let Some((_, node, n)) = self.anchors.iter().rev().find(|(a, _, _)| *a == id) else {
                    return;
                };
                // Counted before it is copied: the copy is what a billion laughs multiplies.
                self.nodes += n;
                if self.nodes > MAX_NODES {
                    return;
                }
                // The value is where the alias is: a problem with it is reported there.
                let node = Node { span, ..node.clone() };
                self.push_value(node, 0);
            }
            _ => {}
        }
    }
}

/// How a scalar is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|`
    Literal,
    /// `>`
    Folded,
}

/// Where a scalar is written (for tools that edit the text, such as `fmt`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScalarAt {
    /// Its first character (the quote; for a block scalar, its first content line at the
    /// content's indentation), counted in chars from the start of the text; and its line
    /// (1-based) and column (0-based, in chars).
    pub index: usize,
    pub line: usize,
    pub col: usize,
    pub style: Style,
    /// Its value as read (for a plain scalar on one line: the text from `index` on).
    pub value: String,
    /// A key or a value inside a `[ … ]` or `{ … }` collection.
    pub in_flow: bool,
}

/// A comment: `#` to the end of its line (without the line break).
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// Line (1-based) and column (0-based, in chars) of its `#`.
    pub line: usize,
    pub col: usize,
    pub text: String,
}

/// The lexical view of a document: every scalar where it is written, and every comment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    /// In the order they are written.
    pub scalars: Vec<ScalarAt>,
    pub comments: Vec<Comment>,
}

/// Where and why the YAML parser stopped (`index` counted in chars, `col` 0-based).
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub index: usize,
    pub line: usize,
    pub col: usize,
    pub info: String,
}

/// The scalars and comments of a text (without a byte order mark), from the same
/// parser as [`parse`]: a `#` is a comment only where the parser reads no scalar (never
/// inside quotes or a block scalar, never without a blank before it).
pub fn layout(text: &str) -> Result<Layout, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut parser = Parser::new_from_str(text);
    let mut events = Vec::new();
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| {
            let m = e.marker();
            SyntaxError { index: m.index(), line: m.line(), col: m.col(), info: e.info().to_string() }
        })?;
        if ev == Event::StreamEnd {
            break;
        }
        events.push((ev, mark));
    }
    // Open collections: whether each is a flow collection.
    let mut open: Vec<bool> = Vec::new();
    let mut scalars = Vec::new();
    // Char ranges the parser read as the inside of a quoted or block scalar.
    let mut inside: Vec<(usize, usize)> = Vec::new();
    for (n, (ev, mark)) in events.iter().enumerate() {
        let in_flow = open.last().is_some_and(|flow| *flow);
        match ev {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                // A `[`/`{` starts a flow collection, unless a block map starts there whose
                // first key is that collection (then both events are at the same place).
                let bracket = matches!(chars.get(mark.index()), Some('[' | '{'));
                let key_of_block = events.get(n + 1).is_some_and(|(next, m)| {
                    m.index() == mark.index() && matches!(next, Event::SequenceStart(..) | Event::MappingStart(..))
                });
                open.push(in_flow || (bracket && !key_of_block));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                open.pop();
            }
            Event::Scalar(value, style, _, _) => {
                let style = match style {
                    TScalarStyle::SingleQuoted => Style::SingleQuoted,
                    TScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    TScalarStyle::Literal => Style::Literal,
                    TScalarStyle::Folded => Style::Folded,
                    _ => Style::Plain,
                };
                let at = mark.index();
                match style {
                    Style::Plain => {}
                    Style::SingleQuoted | Style::DoubleQuoted => {
                        inside.push(quoted_extent(&chars, at).ok_or_else(|| SyntaxError {
                            index: at,
                            line: mark.line(),
                            col: mark.col(),
                            info: "cannot find where this quoted scalar ends".into(),
                        })?)
                    }
                    Style::Literal | Style::Folded => inside.push(block_extent(&chars, at, mark.col(), value)),
                }
                scalars.push(ScalarAt {
                    index: at,
                    line: mark.line(),
                    col: mark.col(),
                    style,
                    value: value.clone(),
                    in_flow,
                });
            }
            _ => {}
        }
    }
    Ok(Layout { scalars, comments: comments(&chars, &inside) })
}

/// The chars `[start, end)` of the quoted scalar whose opening quote is `chars[at]`.
fn quoted_extent(chars: &[char], at: usize) -> Option<(usize, usize)> {
    let q = *chars.get(at)?;
    if q != '"' && q != '\'' {
        return None;
    }
    let mut i = at + 1;
    while let Some(&c) = chars.get(i) {
        if q == '"' && c == '\\' {
            i += 2;
        } else if c == q && q == '\'' && chars.get(i + 1) == Some(&'\'') {
            i += 2;
        } else if c == q {
            return Some((at, i + 1));
        } else {
            i += 1;
        }
    }
    None
}

/// The content lines of a block scalar (`|`, `>`): the parser places it at its first
/// content line, at the content's indentation (`col`); it runs to the first line that is
/// not blank and is indented less (YAML 1.2 §8.1.1.1). Its header line, with any comment
/// on it, comes before.
fn block_extent(chars: &[char], at: usize, col: usize, value: &str) -> (usize, usize) {
    let start = at.saturating_sub(col).min(chars.len());
    if value.trim_matches('\n').is_empty() {
        return (start, start);
    }
    let mut s = start;
    while s < chars.len() {
        let e = chars[s..].iter().position(|&c| c == '\n').map_or(chars.len(), |p| s + p + 1);
        let line = &chars[s..e];
        let blank = line.iter().all(|c| c.is_whitespace());
        if !blank && line.iter().take_while(|&&c| c == ' ').count() < col {
            break;
        }
        s = e;
    }
    (start, s)
}

/// The comments outside the given (sorted) ranges: a `#` at the start of a line or after
/// a space or tab, to the end of its line.
fn comments(chars: &[char], inside: &[(usize, usize)]) -> Vec<Comment> {
    let mut out = Vec::new();
    let (mut line, mut col) = (1, 0);
    let mut next = inside.iter().peekable();
    let mut i = 0;
    while i < chars.len() {
        while next.peek().is_some_and(|(_, e)| *e <= i) {
            next.next();
        }
        let in_scalar = next.peek().is_some_and(|(s, e)| *s <= i && i < *e);
        let c = chars[i];
        if !in_scalar && c == '#' && (i == 0 || matches!(chars[i - 1], ' ' | '\t' | '\n' | '\r')) {
            let end = chars[i..].iter().position(|&c| c == '\n').map_or(chars.len(), |p| i + p);
            let text: String = chars[i..end].iter().collect();
            out.push(Comment { line, col, text: text.trim_end_matches('\r').to_string() });
            col += end - i;
            i = end;
            continue;
        }
        if c == '\n' {
            line += 1;
            col = 0;
        } else {
            col += 1;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Node, Diagnostic> {
        parse(&Arc::new(PathBuf::from("t.yaml")), text)
    }

    fn refused(text: &str) -> String {
        let d = p(text).unwrap_err();
        let span = d.span.as_ref().unwrap();
        format!("{}:{}: {}: {}", span.line, span.col, d.summary, d.detail)
    }

    #[test]
    fn what_yaml_allows_but_cannot_be_meant_is_refused() {
        let policy = "Statement:\n  - Effect: Deny\n    Action: s3:*\n    Effect: Allow\n";
        assert_eq!(refused(policy), "4:5: Duplicate key: `Effect` is already set at line 2, column 5");
        assert_eq!(
            refused("tags:\n  team: a\n  team: b\n"),
            "3:3: Duplicate key: `team` is already set at line 2, column 3"
        );
        assert!(
            refused("vpc_id: !Ref vpc\n").contains("Unsupported YAML tag: `!Ref` is a YAML tag"),
            "{}",
            refused("vpc_id: !Ref vpc\n")
        );
        assert!(refused("a: 1\n---\nb: 2\n").contains("More than one document"));
        assert!(refused("? [a, b]\n: 1\n").contains("Invalid key: a key must be text, not a list"));
        assert!(refused("~: 1\n").contains("Invalid key: a key must be text, not null"));
        assert!(p("a: 1\nb: {a: 2}\n").is_ok(), "the same key in different maps is fine");
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
    fn merge_keys_apply_and_keys_written_win() {
        let n =
            p("base: &b {engine: aurora-mysql, port: 3306}\nx:\n  <<: *b\n  port: 3307\ny:\n  <<: [*b, {extra: 1}]\n")
                .unwrap();
        let x = n.get("x").unwrap();
        assert_eq!(x.get("port").unwrap().kind, Kind::Int(3307));
        assert_eq!(x.get("engine").unwrap().as_str(), Some("aurora-mysql"));
        assert!(x.get("<<").is_none(), "the merge key itself is gone");
        assert_eq!(n.get("y").unwrap().get("extra").unwrap().kind, Kind::Int(1));
        assert_eq!(
            refused("a: &a [1]\nb:\n  <<: *a\n"),
            "3:3: Invalid merge key: `<<` merges a map, or a list of maps, into this map"
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let n = p("\u{feff}a: 1\nb: x\n").unwrap();
        assert_eq!(n.get("a").unwrap().kind, Kind::Int(1));
        assert_eq!((n.get("b").unwrap().span.line, n.get("b").unwrap().span.col), (2, 4));
    }

    #[test]
    fn depth_and_size_are_bounded_before_they_do_harm() {
        // 5,000 levels of `- - -` (10 KB): refused at the level past the limit, no overflow.
        let deep = "- ".repeat(5000) + "x\n";
        let e = refused(&deep);
        assert!(e.starts_with(&format!("1:{}: Too deeply nested", 2 * MAX_DEPTH + 1)), "{e}");
        let flow = "a: ".to_string() + &"[".repeat(5000) + &"]".repeat(5000);
        assert!(refused(&flow).contains("Too deeply nested"), "{}", refused(&flow));
        // A billion laughs in under 1 KB.
        let mut laughs = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (prev, name) in
            ["a", "b", "c", "d", "e", "f", "g", "h"].iter().zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            laughs += &format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            );
        }
        assert!(laughs.len() < 1024);
        let e = refused(&laughs);
        assert!(e.contains("Document too large: aliases expand to more than 250000 values"), "{e}");
        // Aliases in ordinary use are fine.
        assert!(p("t: &t {team: data}\na: *t\nb: *t\n").is_ok());
    }

    #[test]
    fn errors_point_at_the_alias_and_at_the_tab() {
        let n = p("x: &net {cidr: 10.0.0.0/16}\ny:\n  z: *net\n").unwrap();
        let z = n.get("y").unwrap().get("z").unwrap();
        assert_eq!((z.span.line, z.span.col), (3, 6), "the value is where the alias is");
        assert_eq!(refused("a: 1\nb: *nope\n"), "2:4: Invalid YAML syntax: while parsing node, found unknown anchor");
        let tab = refused("a:\n\tb: 1\n");
        assert!(tab.starts_with("2:1: Invalid YAML syntax"), "{tab}");
        let d = p("a:\n\tb: 1\n").unwrap_err();
        assert!(d.hint.as_deref().is_some_and(|h| h.contains("tabs")), "{d:?}");
    }

    #[test]
    fn an_unquoted_reference_in_a_flow_map_says_to_quote_it() {
        let d = p("tags: { Name: cdc-${var.env}, team: data }\n").unwrap_err();
        assert_eq!(d.summary, "Unquoted reference inside `{ }` or `[ ]`");
        assert_eq!(d.span.as_ref().map(|s| (s.line, s.col)), Some((1, 20)), "at the `{{` of `${{`");
        assert!(d.hint.as_deref().is_some_and(|h| h.contains("quote the value")), "{d:?}");
        let d = p("subnets: [a, b-${x.id}]\n").unwrap_err();
        assert_eq!(d.summary, "Unquoted reference inside `{ }` or `[ ]`");
        // Quoted, or in block style, it parses; other flow errors keep the general hint.
        assert!(p("tags: { Name: \"cdc-${var.env}\" }\n").is_ok());
        assert!(p("tags:\n  Name: cdc-${var.env}\n").is_ok());
        let other = p("tags: { Name: \"${var.env}\", x }}\n").unwrap_err();
        assert_eq!(other.summary, "Invalid YAML syntax", "{other:?}");
    }

    #[test]
    fn aliases_resolve() {
        let n = p("x: &t {k: v}\ny: *t\n").unwrap();
        assert_eq!(n.get("y").unwrap().get("k").unwrap().as_str(), Some("v"));
    }
}
