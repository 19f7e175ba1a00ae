//! The one codec of composite resource IDs (`cluster|secret|database|kind|name|extra`,
//! `workgroup/database/kind/schema/name`, `principal|table/db/name`): fields joined by a
//! separator, with `%` and the separator percent-encoded in every field but the last, so
//! no field can end early and shift the ones after it. The last field is written as it
//! is: splitting at the first `n - 1` separators finds it whole.
//!
//! IDs written before this codec spliced the fields raw; as their fields held no `%XX`
//! escape of `%` or the separator (only what this codec writes is decoded, any other `%`
//! stays), they decode to the fields they were made of, so existing state keeps working.
//! Pure.

/// `%` and `sep` in `field`, percent-encoded.
pub fn escape(sep: char, field: &str) -> String {
    debug_assert!(sep.is_ascii_punctuation() && sep != '%');
    let mut out = String::with_capacity(field.len());
    for c in field.chars() {
        if c == '%' || c == sep {
            out.push_str(&format!("%{:02X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// What [`escape`] wrote, back: only `%25` and the separator's own code are decoded.
pub fn unescape(sep: char, field: &str) -> String {
    let sep_code = format!("%{:02X}", u32::from(sep));
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("%25") {
            out.push('%');
            rest = &tail[3..];
        } else if tail.starts_with(&sep_code) {
            out.push(sep);
            rest = &tail[3..];
        } else {
            out.push('%');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// `fields` joined by `sep`, all but the last escaped.
pub fn join(sep: char, fields: &[&str]) -> String {
    let last = fields.len().saturating_sub(1);
    let parts: Vec<String> =
        fields.iter().enumerate().map(|(i, f)| if i == last { f.to_string() } else { escape(sep, f) }).collect();
    parts.join(&sep.to_string())
}

/// The `n` fields of an ID made by [`join`] (a missing one is empty).
pub fn split(sep: char, id: &str, n: usize) -> Vec<String> {
    let mut it = id.splitn(n, sep);
    (0..n)
        .map(|i| {
            let f = it.next().unwrap_or_default();
            if i + 1 == n {
                f.to_string()
            } else {
                unescape(sep, f)
            }
        })
        .collect()
}

/// The two fields of an ID made by [`join`] of two (the second empty if there is no
/// separator).
pub fn pair(sep: char, id: &str) -> (String, String) {
    let mut f = split(sep, id, 2).into_iter();
    (f.next().unwrap_or_default(), f.next().unwrap_or_default())
}

/// A list of any length as one field: every item escaped, joined by `sep`.
pub fn join_list(sep: char, items: &[String]) -> String {
    items.iter().map(|i| escape(sep, i)).collect::<Vec<_>>().join(&sep.to_string())
}

/// What [`join_list`] wrote, back.
pub fn split_list(sep: char, field: &str) -> Vec<String> {
    field.split(sep).map(|i| unescape(sep, i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::Rng;

    /// One of `from`, at random.
    fn pick<'a>(rng: &mut Rng, from: &[&'a str]) -> &'a str {
        from[rng.below(from.len())]
    }

    /// Random fields of separators, escapes and look-alikes: joined and split again, each
    /// field comes back as it was, whatever it holds.
    #[test]
    fn no_field_can_shift_another() {
        let atoms = ["|", "/", ",", "%", "%7C", "%2F", "%25", "%2", "%%", "a", "é", "｜", "\n", "'", "\"", ""];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let sep = pick(&mut rng, &["|", "/", ","]).chars().next().unwrap_or('|');
            let n = 1 + usize::try_from(rng.next() % 6).unwrap_or(0);
            let fields: Vec<String> =
                (0..n).map(|_| (0..rng.next() % 5).map(|_| pick(&mut rng, &atoms)).collect::<String>()).collect();
            let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
            let id = join(sep, &refs);
            assert_eq!(split(sep, &id, n), fields, "{id}");
            if n > 1 {
                assert_eq!(split_list(sep, &join_list(sep, &fields)), fields);
            }
        }
    }

    #[test]
    fn a_database_holding_the_separator_stays_in_its_field() {
        // The example: a `database` that spliced raw shifted the kind and the
        // name, and a slot's name became SQL.
        let fields = ["arn:c", "arn:s", "x|slot|x' AND 1/(SELECT 0) = 1 --", "slot", "debezium", ""];
        let id = join('|', &fields);
        assert_eq!(id, "arn:c|arn:s|x%7Cslot%7Cx' AND 1/(SELECT 0) = 1 --|slot|debezium|");
        assert_eq!(split('|', &id, 6), fields);
    }

    #[test]
    fn ids_written_before_the_codec_read_the_same() {
        // Spliced raw, with `%` that is no escape of ours, and `|` in the last field
        // (splitn put it there).
        let old = "arn:c|arn:s|sales|statement|ext|SELECT 1 WHERE 'a' || 'b' LIKE '%ab%' AND x = '100%'";
        assert_eq!(
            split('|', old, 6),
            ["arn:c", "arn:s", "sales", "statement", "ext", "SELECT 1 WHERE 'a' || 'b' LIKE '%ab%' AND x = '100%'"]
        );
        assert_eq!(split('|', "a%b|c", 2), ["a%b", "c"]);
        // And what holds neither `%` nor a separator is written as before.
        assert_eq!(join('/', &["wg", "dev", "view", "public", "orders"]), "wg/dev/view/public/orders");
    }
}
