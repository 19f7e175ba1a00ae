//! The expression language inside `${…}`, as Terraform writes it: references
//! (`var.env`, `local.x`, `each.key`, `count.index`, `queue.arn`, `queue["orders"].arn`,
//! `queue[0].arn`, `queue[*].arn`), literals (`"text"`, `42`, `true`, `null`, `[a, b]`),
//! function calls (`cidrsubnet(var.cidr, 8, count.index)`), operators (`== != < > <= >=
//! && || ! + - * / %`) and the conditional `cond ? a : b`. Parsing only; evaluation is in
//! `config::eval`. No I/O.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    Lit(Value),
    /// `root.step…`: a variable, local, `each`/`count`, or a resource and its instances.
    Path {
        root: String,
        steps: Vec<Step>,
    },
    Call {
        name: String,
        args: Vec<Ast>,
    },
    Cond(Box<Ast>, Box<Ast>, Box<Ast>),
    Bin(BinOp, Box<Ast>, Box<Ast>),
    Not(Box<Ast>),
    Neg(Box<Ast>),
    Tuple(Vec<Ast>),
    /// `.attr` / `[index]` after something that is not a name: `split(".", v)[0]`.
    Get(Box<Ast>, Vec<Step>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Attr(String),
    Index(Ast),
    /// `[*]`: every instance (or element).
    Splat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Gt => ">",
            BinOp::Le => "<=",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

/// A piece of a string: literal text or one `${…}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Interp(Ast),
}

/// The variables an expression mentions (`var.NAME`), evaluated or not.
pub fn mentioned_vars(ast: &Ast, out: &mut Vec<String>) {
    mentioned("var", ast, out);
}

/// The names an expression mentions under `root` (`local.NAME` for `local`).
pub fn mentioned(root_name: &str, ast: &Ast, out: &mut Vec<String>) {
    let steps_of = |steps: &[Step], out: &mut Vec<String>| {
        for s in steps {
            if let Step::Index(i) = s {
                mentioned(root_name, i, out);
            }
        }
    };
    match ast {
        Ast::Lit(_) => {}
        Ast::Path { root, steps } => {
            if let (true, Some(Step::Attr(name))) = (root == root_name, steps.first()) {
                out.push(name.clone());
            }
            steps_of(steps, out);
        }
        Ast::Call { args, .. } | Ast::Tuple(args) => args.iter().for_each(|a| mentioned(root_name, a, out)),
        Ast::Cond(c, yes, no) => [c, yes, no].iter().for_each(|a| mentioned(root_name, a, out)),
        Ast::Bin(_, a, b) => [a, b].iter().for_each(|x| mentioned(root_name, x, out)),
        Ast::Not(a) | Ast::Neg(a) => mentioned(root_name, a, out),
        Ast::Get(base, steps) => {
            mentioned(root_name, base, out);
            steps_of(steps, out);
        }
    }
}

/// What is wrong, and at which character of the string (0-based, in chars).
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub at: usize,
    pub message: String,
}

/// Expressions nest at most this deep (parentheses, calls, lists, and each operator of a
/// chain), so a hostile string cannot exhaust the stack of anything that walks the tree.
const MAX_DEPTH: usize = crate::budget::EXPR_DEPTH;

/// Split a string into text and parsed `${…}` expressions. `$${` is a literal `${`.
pub fn parse_template(s: &str) -> Result<Vec<Piece>, ParseError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' && chars.get(i + 1) == Some(&'$') && chars.get(i + 2) == Some(&'{') {
            text.push_str("${");
            i += 3;
        } else if chars[i] == '$' && chars.get(i + 1) == Some(&'{') {
            let mut p = Parser { chars: &chars, pos: i + 2, depth: 0 };
            p.skip_ws();
            if p.peek() == Some('}') {
                return Err(ParseError { at: i, message: "`${}` holds no expression".into() });
            }
            let ast = p.expr()?;
            p.skip_ws();
            match p.peek() {
                Some('}') => {}
                None => {
                    return Err(ParseError { at: i, message: "`${` is not closed by `}`".into() });
                }
                Some(c) => return Err(p.error(format!("unexpected `{c}`"))),
            }
            if !text.is_empty() {
                out.push(Piece::Text(std::mem::take(&mut text)));
            }
            out.push(Piece::Interp(ast));
            i = p.pos + 1;
        } else {
            text.push(chars[i]);
            i += 1;
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

/// Where the `${…}` whose `$` is `chars[i]` ends: the index of its closing `}`, as the
/// expression parser reads it (a `}` inside a string literal or a map does not close it).
/// `None` if no expression starts there or it does not parse.
pub fn interpolation_end(chars: &[char], i: usize) -> Option<usize> {
    if chars.get(i) != Some(&'$') || chars.get(i + 1) != Some(&'{') {
        return None;
    }
    let mut p = Parser { chars, pos: i + 2, depth: 0 };
    p.expr().ok()?;
    p.skip_ws();
    (p.peek() == Some('}')).then_some(p.pos)
}

/// Parse one whole expression (no `${ }` around it).
pub fn parse_expr(s: &str) -> Result<Ast, ParseError> {
    let chars: Vec<char> = s.chars().collect();
    let mut p = Parser { chars: &chars, pos: 0, depth: 0 };
    let ast = p.expr()?;
    p.skip_ws();
    match p.peek() {
        None => Ok(ast),
        Some(c) => Err(p.error(format!("unexpected `{c}`"))),
    }
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
    depth: usize,
}

fn ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError { at: self.pos, message: message.into() }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Consume `s` (after whitespace) if it is next.
    fn eat(&mut self, s: &str) -> bool {
        self.skip_ws();
        let n = s.chars().count();
        if self.chars.len() >= self.pos + n && self.chars[self.pos..self.pos + n].iter().copied().eq(s.chars()) {
            self.pos += n;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, s: &str) -> Result<(), ParseError> {
        if self.eat(s) {
            Ok(())
        } else {
            self.skip_ws();
            Err(self.error(match self.peek() {
                Some(c) => format!("expected `{s}`, found `{c}`"),
                None => format!("expected `{s}`, found the end"),
            }))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!(
                "the expression nests deeper than {MAX_DEPTH} levels (each operator of a chain such as `a + b + c` counts as one); split it into locals"
            )));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Ast, ParseError> {
        self.enter()?;
        let cond = self.binary(0)?;
        let out = if self.eat("?") {
            let yes = self.expr()?;
            self.expect(":")?;
            let no = self.expr()?;
            Ast::Cond(Box::new(cond), Box::new(yes), Box::new(no))
        } else {
            cond
        };
        self.depth -= 1;
        Ok(out)
    }

    fn binop(&mut self, level: usize) -> Option<BinOp> {
        const LEVELS: [&[(&str, BinOp)]; 5] = [
            &[("||", BinOp::Or)],
            &[("&&", BinOp::And)],
            &[("==", BinOp::Eq), ("!=", BinOp::Ne)],
            &[("<=", BinOp::Le), (">=", BinOp::Ge), ("<", BinOp::Lt), (">", BinOp::Gt)],
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
        ];
        const MUL: &[(&str, BinOp)] = &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Rem)];
        let ops = LEVELS.get(level).copied().unwrap_or(MUL);
        let start = self.pos;
        for (s, op) in ops {
            if self.eat(s) {
                return Some(*op);
            }
        }
        self.pos = start;
        None
    }

    fn binary(&mut self, level: usize) -> Result<Ast, ParseError> {
        if level > 5 {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        // Each operator of a chain puts the tree one level deeper (`a + b + c` is
        // `(a + b) + c`), so it counts against the depth like a parenthesis.
        let mut chain = 0;
        while let Some(op) = self.binop(level) {
            self.enter()?;
            chain += 1;
            let right = self.binary(level + 1)?;
            left = Ast::Bin(op, Box::new(left), Box::new(right));
        }
        self.depth -= chain;
        Ok(left)
    }

    fn unary(&mut self) -> Result<Ast, ParseError> {
        if self.eat("!") {
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Ast::Not(Box::new(inner)));
        }
        self.skip_ws();
        if self.peek() == Some('-') && !self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Ast::Neg(Box::new(inner)));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Ast, ParseError> {
        let base = self.primary()?;
        let mut steps = Vec::new();
        // Each step is picked from the value the steps before it gave (recursively, and
        // as a nested call when that value is known only after apply): it counts against
        // the depth like an operator of a chain.
        let depth = self.depth;
        let result = self.steps(&mut steps);
        self.depth = depth;
        result?;
        if steps.is_empty() {
            return Ok(base);
        }
        match base {
            Ast::Path { root, steps: mut first } => {
                first.extend(steps);
                Ok(Ast::Path { root, steps: first })
            }
            other => Ok(Ast::Get(Box::new(other), steps)),
        }
    }

    /// `.attr`, `[index]` and `[*]` after a primary expression.
    fn steps(&mut self, steps: &mut Vec<Step>) -> Result<(), ParseError> {
        loop {
            self.skip_ws();
            match self.peek() {
                Some('.') if self.peek_at(1).is_some_and(|c| ident_start(c) || c.is_ascii_digit() || c == '*') => {
                    self.enter()?;
                    self.pos += 1;
                    if self.peek() == Some('*') {
                        self.pos += 1;
                        steps.push(Step::Splat);
                    } else {
                        let name = self.ident_or_digits();
                        steps.push(Step::Attr(name));
                    }
                }
                Some('[') => {
                    self.enter()?;
                    self.pos += 1;
                    if self.eat("*") {
                        self.expect("]")?;
                        steps.push(Step::Splat);
                    } else {
                        let index = self.expr()?;
                        self.expect("]")?;
                        steps.push(Step::Index(index));
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn ident_or_digits(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(ident_char) {
            // `a-b` is a name; `a - b` (with spaces) is a subtraction.
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn primary(&mut self) -> Result<Ast, ParseError> {
        self.skip_ws();
        let Some(c) = self.peek() else {
            return Err(self.error("expected an expression, found the end"));
        };
        if c == '(' {
            self.pos += 1;
            let inner = self.expr()?;
            self.expect(")")?;
            return Ok(inner);
        }
        if c == '[' {
            self.pos += 1;
            self.enter()?;
            let items = self.list("]")?;
            self.depth -= 1;
            return Ok(Ast::Tuple(items));
        }
        if c == '"' {
            return self.string().map(|s| Ast::Lit(Value::String(s)));
        }
        if c.is_ascii_digit() || (c == '-' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) {
            return self.number();
        }
        if ident_start(c) {
            let name = self.ident_or_digits();
            match name.as_str() {
                "true" => return Ok(Ast::Lit(Value::Bool(true))),
                "false" => return Ok(Ast::Lit(Value::Bool(false))),
                "null" => return Ok(Ast::Lit(Value::Null)),
                _ => {}
            }
            self.skip_ws();
            if self.peek() == Some('(') {
                self.pos += 1;
                self.enter()?;
                let args = self.list(")")?;
                self.depth -= 1;
                return Ok(Ast::Call { name, args });
            }
            return Ok(Ast::Path { root: name, steps: Vec::new() });
        }
        Err(self.error(format!("unexpected `{c}`")))
    }

    /// Comma-separated expressions up to `close` (a trailing comma allowed).
    fn list(&mut self, close: &str) -> Result<Vec<Ast>, ParseError> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Ok(items);
            }
            items.push(self.expr()?);
            if !self.eat(",") {
                self.expect(close)?;
                return Ok(items);
            }
        }
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut s = String::new();
        loop {
            match self.peek() {
                None => return Err(ParseError { at: start, message: "a `\"` string is not closed".into() }),
                Some('"') => {
                    self.pos += 1;
                    return Ok(s);
                }
                Some('\\') => {
                    let e = self.peek_at(1);
                    s.push(match e {
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some('"') => '"',
                        Some('\\') => '\\',
                        _ => return Err(self.error("unknown escape; use `\\n`, `\\t`, `\\r`, `\\\"` or `\\\\`")),
                    });
                    self.pos += 2;
                }
                Some(c) => {
                    s.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn number(&mut self) -> Result<Ast, ParseError> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Ast::Lit(Value::from(i)));
        }
        match text.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
            Some(n) => Ok(Ast::Lit(Value::Number(n))),
            None => Err(ParseError { at: start, message: format!("`{text}` is not a number") }),
        }
    }
}

/// An expression as it would be written (for messages).
pub fn show(ast: &Ast) -> String {
    match ast {
        Ast::Lit(v) => v.to_string(),
        Ast::Path { root, steps } => {
            let mut s = root.clone();
            for step in steps {
                match step {
                    Step::Attr(a) => s.push_str(&format!(".{a}")),
                    Step::Index(i) => s.push_str(&format!("[{}]", show(i))),
                    Step::Splat => s.push_str("[*]"),
                }
            }
            s
        }
        Ast::Call { name, args } => format!("{name}({})", args.iter().map(show).collect::<Vec<_>>().join(", ")),
        Ast::Cond(c, a, b) => format!("{} ? {} : {}", show(c), show(a), show(b)),
        Ast::Bin(op, a, b) => format!("{} {} {}", show(a), op.symbol(), show(b)),
        Ast::Not(a) => format!("!{}", show(a)),
        Ast::Neg(a) => format!("-{}", show(a)),
        Ast::Tuple(items) => format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", ")),
        Ast::Get(base, steps) => {
            let mut s = show(base);
            for step in steps {
                match step {
                    Step::Attr(a) => s.push_str(&format!(".{a}")),
                    Step::Index(i) => s.push_str(&format!("[{}]", show(i))),
                    Step::Splat => s.push_str("[*]"),
                }
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(root: &str, steps: Vec<Step>) -> Ast {
        Ast::Path { root: root.into(), steps }
    }

    fn attr(s: &str) -> Step {
        Step::Attr(s.into())
    }

    #[test]
    fn parses_references_indexes_and_splats() {
        assert_eq!(parse_expr("var.env").unwrap(), path("var", vec![attr("env")]));
        assert_eq!(
            parse_expr("queue[\"orders\"].arn").unwrap(),
            path("queue", vec![Step::Index(Ast::Lit(json!("orders"))), attr("arn")])
        );
        assert_eq!(parse_expr("queue[*].arn").unwrap(), path("queue", vec![Step::Splat, attr("arn")]));
        assert_eq!(parse_expr("queue.*.arn").unwrap(), path("queue", vec![Step::Splat, attr("arn")]));
        assert_eq!(parse_expr("my-bucket.arn").unwrap(), path("my-bucket", vec![attr("arn")]));
        assert_eq!(
            parse_expr("sub[count.index].id").unwrap(),
            path("sub", vec![Step::Index(path("count", vec![attr("index")])), attr("id")])
        );
    }

    #[test]
    fn parses_calls_operators_and_conditionals_with_precedence() {
        assert_eq!(
            parse_expr("cidrsubnet(var.cidr, 8, 1)").unwrap(),
            Ast::Call {
                name: "cidrsubnet".into(),
                args: vec![path("var", vec![attr("cidr")]), Ast::Lit(json!(8)), Ast::Lit(json!(1))]
            }
        );
        let e = parse_expr("var.env == \"prod\" ? 3 : 1 + 2 * 2").unwrap();
        let Ast::Cond(c, y, n) = e else { panic!() };
        assert!(matches!(*c, Ast::Bin(BinOp::Eq, _, _)));
        assert_eq!(*y, Ast::Lit(json!(3)));
        assert!(matches!(*n, Ast::Bin(BinOp::Add, _, ref r) if matches!(**r, Ast::Bin(BinOp::Mul, _, _))));
        assert!(matches!(parse_expr("!a.b && c.d || e.f").unwrap(), Ast::Bin(BinOp::Or, _, _)));
        assert_eq!(parse_expr("-3").unwrap(), Ast::Lit(json!(-3)));
        assert_eq!(
            parse_expr("[1, \"a\\\"b\",]").unwrap(),
            Ast::Tuple(vec![Ast::Lit(json!(1)), Ast::Lit(json!("a\"b"))])
        );
        assert_eq!(parse_expr("2.5").unwrap(), Ast::Lit(json!(2.5)));
    }

    #[test]
    fn templates_split_text_from_expressions_and_keep_escapes() {
        let p = parse_template("arn:${vpc.id}/x-${format(\"%s}\", var.env)}$${lit}").unwrap();
        assert_eq!(p.len(), 5);
        assert_eq!(p[0], Piece::Text("arn:".into()));
        assert!(matches!(&p[3], Piece::Interp(Ast::Call { name, .. }) if name == "format"));
        assert_eq!(p[4], Piece::Text("${lit}".into()));
        assert_eq!(parse_template("no refs").unwrap(), vec![Piece::Text("no refs".into())]);
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = |s: &str| parse_template(s).unwrap_err();
        assert_eq!(e("${vpc"), ParseError { at: 0, message: "`${` is not closed by `}`".into() });
        assert_eq!(e("ab ${}").message, "`${}` holds no expression");
        assert_eq!(e("${a b}"), ParseError { at: 4, message: "unexpected `b`".into() });
        assert_eq!(e("${f(1, }").message, "unexpected `}`");
        assert_eq!(e("${\"abc}").message, "a `\"` string is not closed");
        assert!(matches!(parse_expr("split(\".\", \"a.b\")[0]").unwrap(), Ast::Get(_, _)));
        let deep = format!("${{{}1{}}}", "(".repeat(70), ")".repeat(70));
        assert!(e(&deep).message.contains("nests deeper than 64"));
        // A flat chain is as deep as it is long: refused, never a 2,000-level tree.
        let chain = format!("${{{}}}", vec!["1"; 2000].join(" + "));
        assert!(e(&chain).message.contains("nests deeper than 64"), "{:?}", e(&chain));
        assert!(parse_expr(&vec!["1"; 60].join(" * ")).is_ok());
        // So is a reference with thousands of steps.
        assert!(e(&format!("${{vpc{}}}", ".a".repeat(3000))).message.contains("nests deeper than 64"));
        assert!(parse_expr(&format!("vpc{}", "[0]".repeat(60))).is_ok());
    }
}
