//! The ownership tags: how cloudbridge recognises what it made. Pure data, one definition,
//! used by the planner (which adds them to every taggable resource) and by the lifecycle
//! (which adopts a resource only when they match, and refuses to touch it otherwise).

use serde_json::{Map, Value};

/// The keys of the tags by which cloudbridge recognises what it made.
pub const KEYS: [&str; 3] = ["cloudbridge:stack", "cloudbridge:env", "cloudbridge:address"];

/// The ownership tags of a resource at `address` of `stack` in `env`.
pub fn tags(stack: &str, env: &str, address: &str) -> [(String, String); 3] {
    [(KEYS[0].into(), stack.into()), (KEYS[1].into(), env.into()), (KEYS[2].into(), tag_value(address))]
}

/// An address as a tag value: most services allow only letters, digits, spaces and
/// `_ . : / = + - @` there, so `queue["orders"]` is written `queue/orders` and `subnet[0]`
/// `subnet/0` (a `for_each` key never holds `/`, so this is one-to-one per resource).
pub fn tag_value(address: &str) -> String {
    address.replace("[\"", "/").replace("\"]", "").replace('[', "/").replace(']', "")
}

fn tag_map(p: &Map<String, Value>) -> Option<&Map<String, Value>> {
    p.get("tags").and_then(Value::as_object)
}

/// The ownership tags in the properties `p` (key, value), or `None` unless it has all three.
pub fn of(p: &Map<String, Value>) -> Option<Vec<(&'static str, String)>> {
    let tags = tag_map(p)?;
    KEYS.iter().map(|k| tags.get(*k).and_then(Value::as_str).map(|v| (*k, v.to_string()))).collect()
}

/// The address an owned resource's `cloudbridge:address` tag names, if it has one.
pub fn address(p: &Map<String, Value>) -> Option<&str> {
    tag_map(p)?.get(KEYS[2])?.as_str()
}

/// The ownership tags of the desired properties `want` are all on the observed `have`.
pub fn same_owner(want: &Map<String, Value>, have: &Map<String, Value>) -> bool {
    let have = tag_map(have);
    of(want)
        .zip(have)
        .is_some_and(|(want, have)| want.iter().all(|(k, v)| have.get(*k).and_then(Value::as_str) == Some(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn instance_addresses_become_tag_values_aws_accepts() {
        assert_eq!(tag_value("queue"), "queue");
        assert_eq!(tag_value("queue[\"orders\"]"), "queue/orders");
        assert_eq!(tag_value("subnet[2]"), "subnet/2");
        let allowed = |c: char| c.is_alphanumeric() || " _.:/=+-@".contains(c);
        assert!(tag_value("q[\"a.b:c=d+e@f-g_h\"]").chars().all(allowed));
    }

    #[test]
    fn owner_needs_all_three_tags_to_match() {
        let want = props(
            json!({"tags": {"cloudbridge:stack": "s", "cloudbridge:env": "e", "cloudbridge:address": "a", "x": "1"}}),
        );
        let same =
            props(json!({"tags": {"cloudbridge:stack": "s", "cloudbridge:env": "e", "cloudbridge:address": "a"}}));
        let other_env =
            props(json!({"tags": {"cloudbridge:stack": "s", "cloudbridge:env": "prod", "cloudbridge:address": "a"}}));
        let untagged = props(json!({"name": "a"}));
        assert!(same_owner(&want, &same));
        assert!(!same_owner(&want, &other_env));
        assert!(!same_owner(&want, &untagged));
        assert!(!same_owner(&untagged, &same), "a resource without ownership tags in the stack owns nothing");
    }
}
