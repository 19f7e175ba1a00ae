//! The ownership tags: how cloudbridge recognises what it made. Pure data, one definition,
//! used by the planner (which adds them to every taggable resource) and by the lifecycle
//! (which adopts a resource only when they match, and refuses to touch it otherwise).
//!
//! Stack, environment and address say what a resource is; the state's lineage says whose:
//! two projects that both deploy a stack `net` to an environment `dev` have states of
//! different lineages, so neither ever adopts the other's resources. A resource made
//! before the lineage tag was written carries the first three only: state still knows it
//! by its ID, and the next apply adds the fourth (shown in the plan as a tags update).

use serde_json::{Map, Value};

/// The keys of the tags by which cloudbridge recognises what it made.
pub const KEYS: [&str; 4] = ["cloudbridge:stack", "cloudbridge:env", "cloudbridge:address", "cloudbridge:lineage"];

/// The ownership tags of a resource at `address` of `stack` in `env`, in the deployment
/// whose state has `lineage`.
pub fn tags(stack: &str, env: &str, lineage: &str, address: &str) -> [(String, String); 4] {
    [
        (KEYS[0].into(), stack.into()),
        (KEYS[1].into(), env.into()),
        (KEYS[2].into(), tag_value(address)),
        (KEYS[3].into(), lineage.into()),
    ]
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

/// The ownership tags in the properties `p` (key, value): `None` unless it has the
/// stack, environment and address; the lineage too where it has one.
pub fn of(p: &Map<String, Value>) -> Option<Vec<(&'static str, String)>> {
    let tags = tag_map(p)?;
    let get = |k: &'static str| tags.get(k).and_then(Value::as_str).map(|v| (k, v.to_string()));
    let mut out: Vec<(&'static str, String)> = KEYS[..3].iter().map(|k| get(k)).collect::<Option<_>>()?;
    out.extend(get(KEYS[3]));
    Some(out)
}

/// The address an owned resource's `cloudbridge:address` tag names, if it has one.
pub fn address(p: &Map<String, Value>) -> Option<&str> {
    tag_map(p)?.get(KEYS[2])?.as_str()
}

/// The ownership tags of the desired properties `want` are all on the observed `have`
/// (the lineage too: another deployment's resource of the same stack, environment and
/// address is not this one's).
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

    /// Before, two projects deploying a stack `net` to `dev` owned each other's resources:
    /// the tags named only stack, environment and address.
    #[test]
    fn another_deployment_of_the_same_names_is_not_the_owner() {
        let tags = |lineage: &str| {
            let t: Map<String, Value> =
                tags("net", "dev", lineage, "vpc").into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            props(json!({ "tags": t }))
        };
        assert!(same_owner(&tags("L-a"), &tags("L-a")));
        assert!(!same_owner(&tags("L-b"), &tags("L-a")), "project B never adopts project A's VPC");
        let legacy = props(
            json!({"tags": {"cloudbridge:stack": "net", "cloudbridge:env": "dev", "cloudbridge:address": "vpc"}}),
        );
        assert!(!same_owner(&tags("L-a"), &legacy), "a resource without the lineage is adopted by no one");
        assert_eq!(of(&legacy).map(|o| o.len()), Some(3), "but it is still recognised as cloudbridge's");
        assert_eq!(of(&tags("L-a")).map(|o| o.len()), Some(4));
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
