//! SQL text that cloudbridge writes itself: every identifier and literal goes through
//! [`Ident`] or [`Literal`], quoted by its engine's own rules, never spliced. Values a
//! query looks up go as Data API parameters instead wherever the engine takes one.
//!
//! - PostgreSQL identifiers: double quotes, an embedded `"` doubled; at most 63 bytes, as
//!   longer ones are truncated by the engine (PostgreSQL docs, "Identifiers and Key
//!   Words", <https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS>).
//! - MySQL/MariaDB identifiers: backticks, an embedded backtick doubled; at most 64
//!   characters, from the Basic Multilingual Plane, not U+0000, not ending in a space
//!   (MySQL docs, "Schema Object Names", <https://dev.mysql.com/doc/refman/8.0/en/identifiers.html>,
//!   and "Identifier Length Limits").
//! - String literals, both engines: single quotes, an embedded `'` doubled. A backslash
//!   is an escape in MySQL unless `NO_BACKSLASH_ESCAPES` is set (MySQL docs, "String
//!   Literals", <https://dev.mysql.com/doc/refman/8.0/en/string-literals.html>), and in
//!   PostgreSQL when `standard_conforming_strings` is off (PostgreSQL docs, "String
//!   Constants"): what it means depends on a session setting, so it is refused. NUL is
//!   refused everywhere (neither engine stores it in text).
//!
//! Pure: no I/O. A value that cannot be quoted is refused ([`Unquotable`]), and an
//! error about a literal never repeats the literal (it may be a password).

use crate::live::Engine;
use std::fmt;

/// Why a value cannot be written into SQL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{subject} cannot be written into {engine} SQL: {reason}")]
pub struct Unquotable {
    /// What was refused: an identifier's own text, or only "a string literal".
    pub subject: String,
    pub engine: &'static str,
    pub reason: &'static str,
}

fn engine_name(e: Engine) -> &'static str {
    match e {
        Engine::MySql => "MySQL",
        Engine::Postgres => "PostgreSQL",
    }
}

/// An identifier, quoted for its engine: `"a""b"` (PostgreSQL), `` `a``b` `` (MySQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident(String);

impl Ident {
    pub fn new(engine: Engine, name: &str) -> Result<Ident, Unquotable> {
        let refuse = |reason| Unquotable {
            subject: format!("the name `{}`", name.escape_debug()),
            engine: engine_name(engine),
            reason,
        };
        if name.is_empty() {
            return Err(refuse("it is empty"));
        }
        if name.contains('\0') {
            return Err(refuse("it holds a NUL character"));
        }
        Ok(match engine {
            Engine::Postgres => {
                if name.len() > 63 {
                    return Err(refuse("it is longer than 63 bytes, and PostgreSQL would truncate it"));
                }
                Ident(format!("\"{}\"", name.replace('"', "\"\"")))
            }
            Engine::MySql => {
                if name.chars().count() > 64 {
                    return Err(refuse("it is longer than 64 characters"));
                }
                if name.chars().any(|c| u32::from(c) > 0xFFFF) {
                    return Err(refuse("it holds a character outside the Basic Multilingual Plane"));
                }
                if name.ends_with(' ') {
                    return Err(refuse("it ends with a space"));
                }
                Ident(format!("`{}`", name.replace('`', "``")))
            }
        })
    }

    /// `schema.table`, each part an identifier.
    pub fn qualified(engine: Engine, dotted: &str) -> Result<String, Unquotable> {
        let parts = dotted.split('.').map(|p| Ident::new(engine, p).map(|i| i.0)).collect::<Result<Vec<_>, _>>()?;
        Ok(parts.join("."))
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A string literal, quoted for its engine: `'it''s'`.
#[derive(Clone, PartialEq, Eq)]
pub struct Literal(String);

/// Never shows the value: a literal may be a password.
impl fmt::Debug for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Literal(…)")
    }
}

impl Literal {
    pub fn new(engine: Engine, value: &str) -> Result<Literal, Unquotable> {
        let refuse = |reason| Unquotable { subject: "a string literal".into(), engine: engine_name(engine), reason };
        if value.contains('\0') {
            return Err(refuse("it holds a NUL character"));
        }
        if value.contains('\\') {
            return Err(refuse("it holds a backslash, whose meaning depends on the session's SQL mode"));
        }
        Ok(Literal(format!("'{}'", value.replace('\'', "''"))))
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A MySQL account from any host: `'user'@'%'` (MySQL docs, "Specifying Account Names":
/// the user and host parts are each quoted as a string literal). At most 32 characters
/// (MySQL 5.7.8+ and Aurora MySQL; MariaDB allows 80).
pub fn mysql_account(user: &str) -> Result<String, Unquotable> {
    if user.chars().count() > 32 {
        return Err(Unquotable {
            subject: format!("the user `{}`", user.escape_debug()),
            engine: "MySQL",
            reason: "a MySQL user name is at most 32 characters",
        });
    }
    let lit = Literal::new(Engine::MySql, user)
        .map_err(|e| Unquotable { subject: format!("the user `{}`", user.escape_debug()), ..e })?;
    Ok(format!("{lit}@'%'"))
}

// ------------------------------------------------------------------ passwords in SQL

/// How one engine (and SQL mode) reads a statement: which characters are comments.
#[derive(Clone, Copy)]
enum Reading {
    /// Every word, comments or not: nothing can hide behind a comment marker.
    Raw,
    /// MySQL/MariaDB: `#` and `-- ` comments, `/* */` (but `/*! */` and `/*M! */` run),
    /// `'…'` and `"…"` strings (backslash escapes unless `NO_BACKSLASH_ESCAPES`), `` `…` ``.
    MySql { backslash: bool },
    /// PostgreSQL and Redshift: `--` comments, nested `/* */`, `'…'` (`E'…'` with backslash
    /// escapes), `"…"`, `$tag$…$tag$`.
    Postgres,
}

/// Which characters of `s` a reading takes as comment (or comment marker): not code.
fn comments(s: &[char], reading: Reading) -> Vec<bool> {
    let mut out = vec![false; s.len()];
    if let Reading::Raw = reading {
        return out;
    }
    let mysql = matches!(reading, Reading::MySql { .. });
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let at = |i: usize, t: &str| t.chars().enumerate().all(|(k, c)| s.get(i + k) == Some(&c));
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        // A quoted run: skip to its end, its words stay code (a statement can run text).
        let close = |open: char, backslash: bool, from: usize| {
            let mut j = from + 1;
            while j < s.len() {
                if backslash && s[j] == '\\' {
                    j += 2;
                    continue;
                }
                if s[j] == open {
                    if s.get(j + 1) == Some(&open) {
                        j += 2;
                        continue;
                    }
                    return j + 1;
                }
                j += 1;
            }
            s.len()
        };
        match c {
            '\'' | '"' => {
                let backslash = match reading {
                    Reading::MySql { backslash } => backslash,
                    _ => c == '\'' && i > 0 && matches!(s[i - 1], 'e' | 'E') && (i < 2 || !word(s[i - 2])),
                };
                i = close(c, backslash, i);
            }
            '`' if mysql => i = close('`', false, i),
            '$' if !mysql && (i == 0 || !word(s[i - 1])) => {
                // `$tag$` opens a dollar-quoted string that the same tag closes.
                let mut j = i + 1;
                while j < s.len() && (s[j].is_ascii_alphanumeric() || s[j] == '_') {
                    j += 1;
                }
                if s.get(j) == Some(&'$') && !s.get(i + 1).is_some_and(char::is_ascii_digit) {
                    let tag: String = s[i..=j].iter().collect();
                    let mut k = j + 1;
                    while k < s.len() && !at(k, &tag) {
                        k += 1;
                    }
                    i = (k + tag.chars().count()).min(s.len());
                } else {
                    i += 1;
                }
            }
            '#' if mysql => {
                while i < s.len() && s[i] != '\n' {
                    out[i] = true;
                    i += 1;
                }
            }
            '-' if at(i, "--") && (!mysql || s.get(i + 2).is_none_or(|c| c.is_whitespace() || c.is_control())) => {
                while i < s.len() && s[i] != '\n' {
                    out[i] = true;
                    i += 1;
                }
            }
            '/' if mysql && (at(i, "/*!") || at(i, "/*M!")) => {
                // Runs in MySQL: only the marker and its version number are not code.
                let start = i;
                i += if at(i, "/*!") { 3 } else { 4 };
                while i < s.len() && s[i].is_ascii_digit() {
                    i += 1;
                }
                out[start..i].iter_mut().for_each(|m| *m = true);
            }
            '*' if mysql && at(i, "*/") => {
                out[i] = true;
                out[i + 1] = true;
                i += 2;
            }
            '/' if at(i, "/*") => {
                let mut depth = 0;
                while i < s.len() {
                    if at(i, "/*") {
                        depth += 1;
                        out[i] = true;
                        out[i + 1] = true;
                        i += 2;
                    } else if at(i, "*/") {
                        out[i] = true;
                        out[i + 1] = true;
                        i += 2;
                        if mysql || depth == 1 {
                            break;
                        }
                        depth -= 1;
                    } else {
                        out[i] = true;
                        i += 1;
                    }
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// The words of `s` that a reading takes as code: (upper-case word, start, end).
fn words(s: &[char], reading: Reading) -> Vec<(String, usize, usize)> {
    let comment = comments(s, reading);
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if comment[i] || !(s[i].is_alphanumeric() || s[i] == '_') {
            i += 1;
            continue;
        }
        let start = i;
        while i < s.len() && !comment[i] && (s[i].is_alphanumeric() || s[i] == '_') {
            i += 1;
        }
        out.push((s[start..i].iter().collect::<String>().to_uppercase(), start, i));
    }
    out
}

/// Does `sql` set or hold a password, read as any engine would? The words are looked
/// for, not the text: `IDENTIFIED BY`, `IDENTIFIED WITH plugin BY|AS` (MySQL's
/// `CREATE USER`, <https://dev.mysql.com/doc/refman/8.0/en/create-user.html>; Aurora's
/// `AWSAuthenticationPlugin AS 'RDS'` holds none), `IDENTIFIED VIA plugin USING`
/// (MariaDB), and any `PASSWORD` (`SET PASSWORD`, PostgreSQL's `[ENCRYPTED] PASSWORD`,
/// <https://www.postgresql.org/docs/current/sql-createrole.html>, Redshift's
/// `CREATE USER … PASSWORD`, <https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html>)
/// but `PASSWORD NULL` and `PASSWORD DISABLE`, which hold none. Any whitespace, comments
/// and case may separate the words; each reading (every word, MySQL with and without
/// backslash escapes, PostgreSQL) is tried, and one finding is enough.
pub fn sets_password(sql: &str) -> bool {
    let s: Vec<char> = sql.chars().collect();
    let readings =
        [Reading::Raw, Reading::MySql { backslash: true }, Reading::MySql { backslash: false }, Reading::Postgres];
    readings.into_iter().any(|r| {
        let w = words(&s, r);
        let word = |i: usize| w.get(i).map_or("", |x| x.0.as_str());
        (0..w.len()).any(|i| match word(i) {
            "PASSWORD" => !holds_none(&s, &w, i),
            // A password's hash written straight into the grant tables: replayable
            // (set: `UPDATE … SET rolpassword = …`; a query reading it sets nothing).
            "AUTHENTICATION_STRING" | "ROLPASSWORD" => w[..i].iter().any(|x| x.0 == "SET"),
            "IDENTIFIED" => match word(i + 1) {
                "BY" => true,
                "WITH" => matches!(word(i + 3), "BY" | "AS") && word(i + 2) != "AWSAUTHENTICATIONPLUGIN",
                // MariaDB chains plugins (`VIA unix_socket OR mysql_native_password USING
                // '*hash'`): a `USING` anywhere after `VIA` sets one.
                "VIA" => w.get(i + 2..).unwrap_or_default().iter().any(|x| x.0 == "USING"),
                _ => false,
            },
            _ => false,
        })
    })
}

/// `PASSWORD NULL` or `PASSWORD DISABLE`, written plainly: only whitespace between the
/// words, and nothing but whitespace, `;`, `,` or `)` after.
fn holds_none(s: &[char], w: &[(String, usize, usize)], i: usize) -> bool {
    let (Some(p), Some(next)) = (w.get(i), w.get(i + 1)) else { return false };
    matches!(next.0.as_str(), "NULL" | "DISABLE")
        && s[p.2..next.1].iter().all(|c| c.is_whitespace())
        && s.get(next.2).is_none_or(|c| c.is_whitespace() || matches!(c, ';' | ',' | ')'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A quoted text is the quote, then the body with every quote doubled, then the quote:
    /// stripping the outer quotes and halving the doubled ones gives the input back, and
    /// no lone quote is left inside to end it early.
    fn unquote(quoted: &str, q: char) -> String {
        let inner = quoted.strip_prefix(q).and_then(|s| s.strip_suffix(q)).expect("quoted");
        let mut out = String::new();
        let mut it = inner.chars().peekable();
        while let Some(c) = it.next() {
            if c == q {
                assert_eq!(it.next(), Some(q), "a lone quote inside {quoted}");
            }
            out.push(c);
        }
        out
    }

    const NASTY: &[&str] = &[
        "plain",
        "a\"b",
        "a`b",
        "a'b",
        "x' OR '1'='1",
        "x\"; DROP TABLE t; --",
        "x`; DROP TABLE t; --",
        "a|b|c",
        "100%",
        "new\nline",
        "tab\there",
        "\u{2019}curly\u{201C}",
        "\u{FF07}fullwidth\u{FF02}",
        "ʼmodifierʼ",
        "\"",
        "``",
        "''",
    ];

    #[test]
    fn identifiers_double_their_engines_quote_and_nothing_else() {
        for name in NASTY {
            let pg = Ident::new(Engine::Postgres, name).unwrap().to_string();
            assert_eq!(unquote(&pg, '"'), *name, "{pg}");
            let my = Ident::new(Engine::MySql, name).unwrap().to_string();
            assert_eq!(unquote(&my, '`'), *name, "{my}");
        }
        assert_eq!(Ident::new(Engine::Postgres, "a\"b").unwrap().to_string(), "\"a\"\"b\"");
        assert_eq!(Ident::new(Engine::MySql, "a`b").unwrap().to_string(), "`a``b`");
        // The other engine's quote is an ordinary character.
        assert_eq!(Ident::new(Engine::MySql, "a\"b").unwrap().to_string(), "`a\"b`");
        assert_eq!(Ident::qualified(Engine::Postgres, "pub\"lic.orders").unwrap(), "\"pub\"\"lic\".\"orders\"");
    }

    #[test]
    fn identifiers_the_engine_would_change_or_cut_are_refused() {
        for (engine, name) in [
            (Engine::Postgres, ""),
            (Engine::Postgres, "a\0b"),
            (Engine::MySql, "a\0b"),
            (Engine::MySql, "trailing "),
            (Engine::MySql, "emoji\u{1F600}"),
        ] {
            assert!(Ident::new(engine, name).is_err(), "{name:?}");
        }
        assert!(Ident::new(Engine::Postgres, &"é".repeat(32)).is_err(), "64 bytes: PostgreSQL would truncate");
        assert!(Ident::new(Engine::Postgres, &"a".repeat(63)).is_ok());
        assert!(Ident::new(Engine::MySql, &"é".repeat(64)).is_ok());
        assert!(Ident::new(Engine::MySql, &"a".repeat(65)).is_err());
        assert!(Ident::qualified(Engine::Postgres, "public.").is_err());
    }

    #[test]
    fn literals_double_single_quotes_and_refuse_backslashes_and_nul() {
        for value in NASTY {
            for engine in [Engine::Postgres, Engine::MySql] {
                let l = Literal::new(engine, value).unwrap().to_string();
                assert_eq!(unquote(&l, '\''), *value, "{l}");
            }
        }
        assert_eq!(Literal::new(Engine::MySql, "it's").unwrap().to_string(), "'it''s'");
        for bad in ["a\\", "\\' OR 1=1 -- ", "a\0b"] {
            let e = Literal::new(Engine::MySql, bad).unwrap_err();
            assert!(!e.to_string().contains(bad), "the value stays out of the message: {e}");
        }
        assert!(format!("{:?}", Literal::new(Engine::Postgres, "Secr3t").unwrap()).find("Secr3t").is_none());
    }

    /// The words no password hides behind, and the ways `PASSWORD NULL` could be faked.
    #[test]
    fn a_password_is_found_by_its_words_in_every_reading() {
        for sql in [
            "ALTER ROLE a PASSWORD 'NULL'",
            "ALTER ROLE a PASSWORD --NULL\n'pw'",
            "ALTER ROLE a PASSWORD /* */ NULL",
            "ALTER ROLE a PASSWORD NULLX",
            "ALTER ROLE a PASSWORD NULL'pw'",
            "/* /* */ ALTER ROLE a PASSWORD 'pw' */",
            "SELECT E'\\' -- '; ALTER USER a IDENTIFIED /* */ BY 'pw'",
            "SELECT \"--\"; ALTER USER a IDENTIFIED /* */ BY 'pw'",
            "SELECT `--`; ALTER USER a IDENTIFIED /* */ BY 'pw'",
            "ALTER USER a IDENTIFIED /*M!100000 */ /* x */ BY 'pw'",
            "ALTER USER a IDENTIFIED\u{85}BY 'pw'",
            "CREATE USER a IDENTIFIED VIA unix_socket OR mysql_native_password USING '*2470C0C06DEE'",
            "UPDATE mysql.user SET authentication_string = '*2470C0C06DEE' WHERE user = 'a'",
            "UPDATE pg_authid SET rolpassword = 'SCRAM-SHA-256$4096:x' WHERE rolname = 'a'",
        ] {
            assert!(sets_password(sql), "not found: {sql:?}");
        }
        // Words inside quotes count too: a statement can run text (`EXECUTE`, `PREPARE`).
        assert!(sets_password("PREPARE s FROM 'CREATE USER a IDENTIFIED BY ''pw'''"));
        for sql in [
            "ALTER ROLE a PASSWORD NULL;",
            "CREATE USER a PASSWORD DISABLE",
            "SELECT 1 -- no secret",
            "",
            "ALTER USER a IDENTIFIED VIA",
            "CREATE USER a IDENTIFIED VIA unix_socket",
        ] {
            assert!(!sets_password(sql), "found: {sql:?}");
        }
    }

    #[test]
    fn mysql_accounts_quote_the_user_as_a_literal() {
        assert_eq!(mysql_account("debezium").unwrap(), "'debezium'@'%'");
        assert_eq!(mysql_account("o'brien").unwrap(), "'o''brien'@'%'");
        assert_eq!(mysql_account("x'@'%' IDENTIFIED BY 'pw").unwrap(), "'x''@''%'' IDENTIFIED BY ''pw'@'%'");
        assert!(mysql_account("x\\").is_err());
        assert!(mysql_account(&"u".repeat(33)).is_err());
    }
}
