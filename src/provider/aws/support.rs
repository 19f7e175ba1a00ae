//! Small helpers shared by the resource modules: reading typed properties, tag maps and
//! their differences, "absent" answers, IAM's encoded policy documents.

use crate::provider::{Props, ProviderError};
use serde_json::Value;
use std::collections::BTreeMap;

/// For errors after the main create call succeeded (configuring what was just created):
/// the resource exists, so the error carries its ID and it gets recorded, never orphaned.
pub(crate) fn created(id: &str) -> impl FnOnce(ProviderError) -> ProviderError + '_ {
    move |e| e.with_created(id)
}

/// The readiness of each of `ids` from what one describe `found`: `id_of` names a found
/// item, `state` tells its readiness, `seen` what a read would report of it (`None` where
/// the type's read needs more than this describe); an ID not found is not visible yet.
pub(crate) fn each_ready<T>(
    ids: &[String],
    found: &[T],
    id_of: impl Fn(&T) -> Option<&str>,
    state: impl Fn(&T) -> crate::provider::Readiness,
    seen: impl Fn(&T) -> Option<crate::provider::Observed>,
) -> Vec<crate::provider::lifecycle::Polled> {
    ids.iter()
        .map(|id| match found.iter().find(|x| id_of(x) == Some(id.as_str())) {
            Some(x) => (state(x), seen(x)),
            None => (crate::provider::Readiness::Pending("not visible yet".into()), None),
        })
        .collect()
}

/// Whether `name` is among the changed properties.
pub(crate) fn has(changed: &[String], name: &str) -> bool {
    changed.iter().any(|c| c == name)
}

/// `Ok(None)` when AWS answered with `absent_code` (the thing does not exist), the value
/// otherwise, or the error.
pub(crate) fn absent_if<T, E>(
    res: Result<T, aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>>,
    absent_code: &str,
) -> Result<Option<T>, ProviderError>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    match res {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let e = ProviderError::from(e);
            if e.code == absent_code {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// An SDK builder's refusal (a required field missing) as the provider's error.
pub(crate) fn invalid(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new("InvalidInput", e.to_string())
}

/// A value as the text an AWS attribute or parameter takes: a string as it is, anything
/// else (a number, a policy document) as JSON.
pub(crate) fn text(v: &Value) -> String {
    v.as_str().map(String::from).unwrap_or_else(|| v.to_string())
}

pub(crate) fn str_prop<'a>(p: &'a Props, name: &str) -> Option<&'a str> {
    p.get(name).and_then(Value::as_str)
}

/// An integer property as AWS's 32-bit integer: a value that does not fit is an error,
/// never a different number (config checks ranges first; this guards values that come
/// from references, known only at apply).
pub(crate) fn int32(p: &Props, name: &str) -> Result<Option<i32>, ProviderError> {
    int_prop(p, name).map(|v| to_i32(name, v)).transpose()
}

/// `v` as a 32-bit integer, or an error naming `what`.
pub(crate) fn to_i32(what: &str, v: i64) -> Result<i32, ProviderError> {
    i32::try_from(v).map_err(|_| {
        ProviderError::new("InvalidParameterValue", format!("`{what}` = {v} does not fit AWS's 32-bit integers"))
    })
}

pub(crate) fn bool_prop(p: &Props, name: &str) -> Option<bool> {
    p.get(name).and_then(Value::as_bool)
}

pub(crate) fn int_prop(p: &Props, name: &str) -> Option<i64> {
    p.get(name).and_then(Value::as_i64)
}

pub(crate) fn tags_prop(p: &Props) -> BTreeMap<String, String> {
    p.get("tags")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

pub(crate) fn tags_value(tags: impl IntoIterator<Item = (String, String)>) -> Value {
    Value::Object(tags.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

/// Tags to add/overwrite and keys to remove, going from `old` to `new`.
pub(crate) fn tag_changes(old: &Props, new: &Props) -> (BTreeMap<String, String>, Vec<String>) {
    let (o, n) = (tags_prop(old), tags_prop(new));
    let set = n.iter().filter(|(k, v)| o.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let remove = o.keys().filter(|k| !n.contains_key(*k)).cloned().collect();
    (set, remove)
}

/// What is added and removed going from `old` to `new` of the string-set property `name`.
pub(crate) fn set_change(old: &Props, new: &Props, name: &str) -> (Vec<String>, Vec<String>) {
    let (o, n) = (strings(old.get(name)), strings(new.get(name)));
    let add = n.iter().filter(|x| !o.contains(x)).cloned().collect();
    let remove = o.iter().filter(|x| !n.contains(x)).cloned().collect();
    (add, remove)
}

pub(crate) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Decode the URL-encoded policy documents IAM returns, and parse them as JSON.
pub(crate) fn policy_json(encoded: &str) -> Value {
    let decoded = percent_decode(encoded);
    serde_json::from_str(&decoded).unwrap_or(Value::String(decoded))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a SQL object's update runs, for types made of `create`/`update`/`delete`
/// statements: nothing unless `create` or `update` changed; the stack's `update` if it
/// gives one; else the old `delete`, then the new `create`.
pub(crate) fn update_statements(old: &Props, new: &Props, changed: &[String]) -> Vec<String> {
    if !has(changed, "create") && !has(changed, "update") {
        return Vec::new();
    }
    let mut batch = strings(new.get("update"));
    if batch.is_empty() {
        batch = strings(old.get("delete"));
        batch.extend(strings(new.get("create")));
    }
    batch
}

/// The rules every type made of SQL statements shares, over its statement properties (a
/// statement or a list of them): none is empty, and none sets a password (the words
/// [`crate::sql::sets_password`] looks for, whatever separates them), which state and
/// plans would keep. A finding never quotes the statement.
pub(crate) fn statement_findings(
    k: &crate::schema::Known,
    props: &[&'static str],
    message: &str,
    hint: &str,
) -> Vec<crate::schema::Finding> {
    let mut out = Vec::new();
    for prop in props {
        for sql in crate::iam::strings(k.get(*prop)) {
            if crate::sql::sets_password(sql) {
                out.push(crate::schema::Finding::new(prop, message, hint));
            }
            if sql.trim().is_empty() {
                out.push(crate::schema::Finding::new(prop, "a statement is empty", "remove it"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_policies() {
        let v = policy_json("%7B%22Version%22%3A%222012-10-17%22%7D");
        assert_eq!(v, serde_json::json!({"Version": "2012-10-17"}));
        assert_eq!(policy_json("{\"a\":1}"), serde_json::json!({"a": 1}));
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn a_set_change_is_what_was_added_and_what_was_removed() {
        let old: Props = serde_json::from_value(serde_json::json!({ "p": ["SELECT", "ALTER"] })).unwrap_or_default();
        let new: Props = serde_json::from_value(serde_json::json!({ "p": ["SELECT", "DROP"] })).unwrap_or_default();
        assert_eq!(set_change(&old, &new, "p"), (vec!["DROP".to_string()], vec!["ALTER".to_string()]));
        assert_eq!(set_change(&old, &old, "p"), (vec![], vec![]));
        assert_eq!(set_change(&Props::new(), &new, "p").0.len(), 2);
    }
}
