//! A small evaluator of identity-based IAM policies, as AWS documents the logic for one
//! account without boundaries or SCPs: an explicit `Deny` wins, then an `Allow`, and
//! anything else is denied implicitly. `Action`/`NotAction` match case-insensitively,
//! `Resource`/`NotResource` case-sensitively, both with the `*` and `?` wildcards.
//!
//! Values not known before apply (an ARN's account, a cluster's UUID) are *holes*:
//! `\u{2}what\u{3}` inside a string. A hole may stand for anything, so a match through a
//! hole is only possible ([`Match::Maybe`]), never certain; a statement with a `Condition`
//! likewise applies only possibly. Findings are raised on certain answers only: an
//! action is reported missing when no statement could allow it, or a `Deny` certainly
//! refuses it.

use serde_json::Value;

pub const HOLE_OPEN: char = '\u{2}';
pub const HOLE_CLOSE: char = '\u{3}';

/// A value known only after apply, standing for `what` (`msk.arn`, `account`).
pub fn hole(what: &str) -> String {
    format!("{HOLE_OPEN}{what}{HOLE_CLOSE}")
}

/// The reference a value that is exactly one hole stands for: `Some(("sg", "id"))` for
/// the hole of `${sg.id}`.
pub fn hole_ref(s: &str) -> Option<(&str, &str)> {
    s.strip_prefix(HOLE_OPEN)?.strip_suffix(HOLE_CLOSE)?.rsplit_once('.')
}

/// `s` with its holes written as `<what>`, for messages.
pub fn shown(s: &str) -> String {
    s.replace(HOLE_OPEN, "<").replace(HOLE_CLOSE, ">")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Match {
    No,
    Maybe,
    Yes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Char(char),
    Star,
    One,
    /// `true`: one segment of an ARN (a region, an account, an ID), which never holds
    /// `:` or `/`; `false`: a whole value.
    Hole(bool),
}

fn tokens(s: &str, pattern: bool, fold: bool) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut in_hole = false;
    for (i, c) in s.char_indices() {
        match c {
            HOLE_OPEN => {
                in_hole = true;
                // A hole named by a bare word (`account`) is one ARN segment; one named by
                // a reference (`msk.arn`) may be a whole ARN.
                let name = s[i + c.len_utf8()..].split(HOLE_CLOSE).next().unwrap_or_default();
                out.push(Tok::Hole(!name.contains('.')));
            }
            HOLE_CLOSE => in_hole = false,
            _ if in_hole => {}
            '*' if pattern => out.push(Tok::Star),
            '?' if pattern => out.push(Tok::One),
            c if fold => out.extend(c.to_lowercase().map(Tok::Char)),
            c => out.push(Tok::Char(c)),
        }
    }
    out
}

/// Whether `pattern` (with `*`, `?`) matches `value`; holes on either side make a match
/// possible at best.
pub fn matches(pattern: &str, value: &str, case_insensitive: bool) -> Match {
    let p = tokens(pattern, true, case_insensitive);
    let v = tokens(value, false, case_insensitive);
    if glob(&p, &v, false) {
        Match::Yes
    } else if glob(&p, &v, true) {
        Match::Maybe
    } else {
        Match::No
    }
}

/// Wildcard match by dynamic programming over (pattern, value) positions. With
/// `optimistic`, a hole on either side stands for any run of the other.
fn glob(p: &[Tok], v: &[Tok], optimistic: bool) -> bool {
    let (m, n) = (p.len(), v.len());
    // ok[i][j]: p[i..] matches v[j..].
    let mut ok = vec![vec![false; n + 1]; m + 1];
    ok[m][n] = true;
    for i in (0..=m).rev() {
        for j in (0..=n).rev() {
            if i == m && j == n {
                continue;
            }
            let pi = p.get(i).copied();
            let vj = v.get(j).copied();
            let mut r = false;
            let hole = |t: Option<Tok>| matches!(t, Some(Tok::Hole(_)));
            if pi == Some(Tok::Star) || (optimistic && hole(pi)) {
                r |= ok[i + 1][j] || (j < n && ok[i][j + 1]);
            }
            if optimistic && hole(vj) {
                // A segment hole cannot stand for a separator.
                let absorbs = match (vj, pi) {
                    (Some(Tok::Hole(true)), Some(Tok::Char(':' | '/'))) => false,
                    (_, Some(_)) => true,
                    (_, None) => false,
                };
                r |= ok[i][j + 1] || (absorbs && ok[i + 1][j]);
            }
            if let (Some(a), Some(b)) = (pi, vj) {
                let one = match (a, b) {
                    (Tok::One, Tok::Char(_)) => true,
                    (Tok::Char(x), Tok::Char(y)) => x == y,
                    _ => false,
                };
                r |= one && ok[i + 1][j + 1];
            }
            ok[i][j] = r;
        }
    }
    ok[0][0]
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Allowed only if a hole or a condition turns out so.
    Possibly,
    ImplicitDeny,
    ExplicitDeny,
}

/// `x` as a list of strings (a policy element is a string or a list of strings).
pub fn strings(x: Option<&Value>) -> Vec<&str> {
    match x {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The statements of a policy document (`Statement` is an object or a list).
pub fn statements(policy: &Value) -> Vec<&serde_json::Map<String, Value>> {
    match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(o)) => vec![o],
        _ => Vec::new(),
    }
}

fn element(st: &serde_json::Map<String, Value>, yes: &str, not: &str, value: &str, fold: bool) -> Match {
    let best = |patterns: Vec<&str>| patterns.iter().map(|p| matches(p, value, fold)).max().unwrap_or(Match::No);
    if st.contains_key(yes) {
        best(strings(st.get(yes)))
    } else if st.contains_key(not) {
        match best(strings(st.get(not))) {
            Match::Yes => Match::No,
            Match::Maybe => Match::Maybe,
            Match::No => Match::Yes,
        }
    } else {
        Match::No
    }
}

/// Whether a statement applies to `action` on `resource`.
fn applies(st: &serde_json::Map<String, Value>, action: &str, resource: &str) -> Match {
    let a = element(st, "Action", "NotAction", action, true);
    let r = element(st, "Resource", "NotResource", resource, false);
    let m = a.min(r);
    if st.contains_key("Condition") {
        m.min(Match::Maybe)
    } else {
        m
    }
}

/// Evaluate `action` on `resource` against every policy a principal has.
pub fn evaluate(policies: &[&Value], action: &str, resource: &str) -> Decision {
    let (mut allow, mut deny) = (Match::No, Match::No);
    for st in policies.iter().flat_map(|p| statements(p)) {
        let m = applies(st, action, resource);
        match st.get("Effect").and_then(Value::as_str) {
            Some("Allow") => allow = allow.max(m),
            Some("Deny") => deny = deny.max(m),
            _ => {}
        }
    }
    match (allow, deny) {
        (_, Match::Yes) => Decision::ExplicitDeny,
        (Match::No, _) => Decision::ImplicitDeny,
        (Match::Yes, Match::No) => Decision::Allowed,
        _ => Decision::Possibly,
    }
}

/// How far an `Allow` statement reaches beyond what a pipeline needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wide {
    /// Every action on every resource (`*` on `*`, or `NotAction` on `*`).
    Everything,
    /// Every action of one service on every resource (`s3:*` on `*`).
    Service(String),
}

/// The `Allow` statements of `policy` that grant far more than a pipeline needs, with
/// their index.
pub fn wide_grants(policy: &Value) -> Vec<(usize, Wide)> {
    let mut out = Vec::new();
    for (i, st) in statements(policy).into_iter().enumerate() {
        let everywhere = strings(st.get("Resource")).contains(&"*")
            || (st.contains_key("NotResource") && !st.contains_key("Resource"));
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") || !everywhere || st.contains_key("Condition") {
            continue;
        }
        let actions = strings(st.get("Action"));
        if actions.contains(&"*") || st.contains_key("NotAction") {
            out.push((i, Wide::Everything));
        } else if let Some(svc) = actions.iter().find_map(|a| a.strip_suffix(":*")) {
            out.push((i, Wide::Service(svc.to_string())));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    //! Cases from the IAM User Guide: "Policy evaluation logic", "IAM JSON policy
    //! elements: NotAction / NotResource", and "Wildcards in resource ARNs".
    use super::*;
    use serde_json::json;

    fn eval(policies: &[&Value], action: &str, resource: &str) -> Decision {
        evaluate(policies, action, resource)
    }

    #[test]
    fn nothing_is_allowed_without_an_allow() {
        assert_eq!(eval(&[], "s3:GetObject", "arn:aws:s3:::b/k"), Decision::ImplicitDeny);
        let p = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b"}});
        assert_eq!(eval(&[&p], "s3:GetObject", "arn:aws:s3:::b/k"), Decision::ImplicitDeny);
    }

    #[test]
    fn an_explicit_deny_overrides_any_allow() {
        let allow = json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
        let deny =
            json!({"Statement": [{"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"}]});
        assert_eq!(eval(&[&allow, &deny], "s3:DeleteObject", "arn:aws:s3:::b/k"), Decision::ExplicitDeny);
        assert_eq!(eval(&[&allow, &deny], "s3:GetObject", "arn:aws:s3:::b/k"), Decision::Allowed);
    }

    #[test]
    fn actions_match_case_insensitively_with_wildcards() {
        // "iam:listaccesskeys" and "IAM:ListAccessKeys" are the same action.
        let p = json!({"Statement": [{"Effect": "Allow", "Action": ["iam:listaccesskeys", "s3:Get*", "kafka-cluster:*Topic*"], "Resource": "*"}]});
        for a in
            ["IAM:ListAccessKeys", "s3:GetObjectVersion", "kafka-cluster:DescribeTopic", "kafka-cluster:CreateTopic"]
        {
            assert_eq!(eval(&[&p], a, "arn:aws:s3:::b/k"), Decision::Allowed, "{a}");
        }
        assert_eq!(eval(&[&p], "kafka-cluster:ReadData", "x"), Decision::ImplicitDeny);
    }

    #[test]
    fn resources_match_case_sensitively_and_a_bucket_is_not_its_objects() {
        // The documented mistake: `bucket/*` covers the objects, not ListBucket on the bucket.
        let p = json!({"Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"}]});
        assert_eq!(eval(&[&p], "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket"), Decision::ImplicitDeny);
        assert_eq!(eval(&[&p], "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/a.txt"), Decision::Allowed);
        assert_eq!(eval(&[&p], "s3:GetObject", "arn:aws:s3:::AMZN-S3-DEMO-BUCKET/a.txt"), Decision::ImplicitDeny);
    }

    #[test]
    fn question_mark_matches_one_character() {
        let p =
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/???.txt"}]});
        assert_eq!(eval(&[&p], "s3:GetObject", "arn:aws:s3:::b/abc.txt"), Decision::Allowed);
        assert_eq!(eval(&[&p], "s3:GetObject", "arn:aws:s3:::b/abcd.txt"), Decision::ImplicitDeny);
    }

    #[test]
    fn not_action_allows_everything_else_and_not_resource_every_other_resource() {
        // "Allow NotAction iam:*" grants every action outside IAM, nothing inside it.
        let p = json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]});
        assert_eq!(eval(&[&p], "s3:GetObject", "arn:aws:s3:::b/k"), Decision::Allowed);
        assert_eq!(eval(&[&p], "iam:CreateUser", "*"), Decision::ImplicitDeny);
        // "Deny NotResource" denies every resource outside the listed ones.
        let allow = json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
        let deny = json!({"Statement": [{"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}]});
        assert_eq!(eval(&[&allow, &deny], "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/x"), Decision::Allowed);
        assert_eq!(eval(&[&allow, &deny], "s3:GetObject", "arn:aws:s3:::Other/x"), Decision::ExplicitDeny);
    }

    #[test]
    fn holes_and_conditions_make_an_answer_possible_not_certain() {
        let cluster = format!(
            "arn:{}:kafka:{}:{}:cluster/cdc-msk/{}",
            hole("partition"),
            hole("region"),
            hole("account"),
            hole("uuid")
        );
        let topic = cluster.replace(":cluster/", ":topic/") + "/cdc.sales.orders";
        let p = json!({"Statement": [{"Effect": "Allow", "Action": "kafka-cluster:ReadData", "Resource": "arn:aws:kafka:us-east-1:*:topic/cdc-msk/*"}]});
        assert_eq!(eval(&[&p], "kafka-cluster:ReadData", &topic), Decision::Possibly);
        // The cluster's own ARN is not a topic, hole or not.
        assert_eq!(eval(&[&p], "kafka-cluster:ReadData", &cluster), Decision::ImplicitDeny);
        // The same reference on both sides matches exactly.
        let q =
            json!({"Statement": [{"Effect": "Allow", "Action": "kafka-cluster:Connect", "Resource": cluster.clone()}]});
        assert_eq!(eval(&[&q], "kafka-cluster:Connect", &cluster), Decision::Possibly);
        let star = json!({"Statement": [{"Effect": "Allow", "Action": "kafka-cluster:Connect", "Resource": "*"}]});
        assert_eq!(eval(&[&star], "kafka-cluster:Connect", &cluster), Decision::Allowed);
        let cond = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
        let allow = json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
        assert_eq!(eval(&[&allow, &cond], "s3:GetObject", "arn:aws:s3:::b/k"), Decision::Possibly);
    }

    #[test]
    fn wide_grants_are_everything_or_a_whole_service_on_every_resource() {
        let p = json!({"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]},
            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
        ]});
        assert_eq!(
            wide_grants(&p),
            vec![(0, Wide::Everything), (1, Wide::Service("s3".into())), (4, Wide::Everything)]
        );
    }
}
