//! CloudWatch Logs log groups (connector and database logs).

use super::to_i32;
use super::{has, int_prop, str_prop, tags_prop, AwsResource, Call};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::LogGroup as LogGroupDesc;
use serde_json::{json, Map};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub static LOG_GROUP: TypeSchema = TypeSchema {
    name: "aws.logs.log_group",
    doc: "A CloudWatch Logs log group with a retention period.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 512).required().replace(),
        Prop::new("retention_in_days", PropKind::Int).range(1, 3653),
        Prop::new("kms_key_id", PropKind::Str),
        TAGS,
    ],
    attrs: &["id", "arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: Some("arn:{partition}:logs:{region}:{account}:log-group:{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: Some(check_retention),
};

/// The only retention periods CloudWatch Logs accepts.
const RETENTION_DAYS: &[i64] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

fn check_retention(k: &Known) -> Vec<Finding> {
    match k.get("retention_in_days").and_then(serde_json::Value::as_i64) {
        Some(d) if !RETENTION_DAYS.contains(&d) => {
            let (last, rest) = RETENTION_DAYS.split_last().unwrap_or((&0, &[]));
            let list: Vec<String> = rest.iter().map(i64::to_string).collect();
            vec![Finding::new(
                "retention_in_days",
                format!("CloudWatch Logs keeps events {} or {last} days, not {d}", list.join(", ")),
                "pick one of the listed periods, or leave `retention_in_days` out to keep events forever",
            )]
        }
        _ => Vec::new(),
    }
}

pub struct LogGroup;

/// The most groups one `DescribeLogGroups` page holds.
const PAGE: i32 = 50;

/// The groups named `names` that exist. Names are grouped by their first path segment
/// (`/cdc/` of `/cdc/prod/connect`); a segment holding several is listed by the longest
/// prefix its names share, 50 groups a page, in name order, until past the last name wanted,
/// and never for more pages than there are names left to find (what is left is then read
/// one name at a time, so a prefix that other stacks share costs at most twice the reads
/// by name). A name alone in its segment is read by its own name, as a prefix.
async fn read_groups(c: &Call<'_>, names: &[String]) -> Result<HashMap<String, LogGroupDesc>, ProviderError> {
    let mut segments: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for n in names {
        let start = usize::from(n.starts_with('/'));
        let seg = n[start..].find('/').map_or("", |i| &n[..=start + i]);
        segments.entry(seg).or_default().insert(n);
    }
    let mut found = HashMap::new();
    let mut one_by_one: Vec<&str> = Vec::new();
    for (seg, mut wanted) in segments {
        if seg.is_empty() || wanted.len() == 1 {
            one_by_one.extend(wanted);
            continue;
        }
        let first = wanted.first().copied().unwrap_or_default();
        let dir = common_prefix(first, wanted.last().copied().unwrap_or_default());
        let last = wanted.last().copied().unwrap_or_default().to_string();
        let (mut pages, mut token) = (0, None);
        loop {
            let res = c
                .logs
                .describe_log_groups()
                .log_group_name_prefix(dir)
                .limit(PAGE)
                .set_next_token(token.take())
                .send()
                .await?;
            pages += 1;
            let mut past = false;
            for g in res.log_groups() {
                let name = g.log_group_name().unwrap_or_default();
                past |= name >= last.as_str();
                if wanted.remove(name) {
                    found.insert(name.to_string(), g.clone());
                }
            }
            token = res.next_token().map(String::from);
            if wanted.is_empty() || past || token.is_none() {
                wanted.clear();
                break;
            }
            if pages >= wanted.len() {
                break;
            }
        }
        one_by_one.extend(wanted);
    }
    let reads: Vec<crate::concurrency::BoxFuture<'_, _>> = one_by_one
        .into_iter()
        .map(|name| -> crate::concurrency::BoxFuture<'_, _> {
            Box::pin(async move {
                let res = c.logs.describe_log_groups().log_group_name_prefix(name).send().await?;
                Ok::<_, ProviderError>(res.log_groups().iter().find(|g| g.log_group_name() == Some(name)).cloned())
            })
        })
        .collect();
    for g in crate::concurrency::bounded(reads, super::READS_PER_TYPE).await {
        if let Some(g) = g? {
            found.insert(g.log_group_name().unwrap_or_default().to_string(), g);
        }
    }
    Ok(found)
}

/// The longest prefix `a` and `b` share, on a character boundary.
fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let n = a
        .char_indices()
        .zip(b.chars())
        .take_while(|((_, x), y)| x == y)
        .last()
        .map_or(0, |((i, x), _)| i + x.len_utf8());
    &a[..n]
}

/// What state records of a group as `DescribeLogGroups` reports it.
async fn observed(c: &Call<'_>, name: &str, g: &LogGroupDesc) -> Result<Observed, ProviderError> {
    let arn = match g.arn() {
        Some(a) => a.trim_end_matches(":*").to_string(),
        None => c.arn_of(&LOG_GROUP, name).await?,
    };
    let mut properties = Props::new();
    properties.insert("name".into(), json!(name));
    if let Some(d) = g.retention_in_days() {
        properties.insert("retention_in_days".into(), json!(d));
    }
    if let Some(k) = g.kms_key_id() {
        properties.insert("kms_key_id".into(), json!(k));
    }
    let attributes = Map::from_iter([("id".into(), json!(name)), ("arn".into(), json!(arn))]);
    Ok(Observed { id: name.to_string(), properties, attributes })
}

#[async_trait]
impl AwsResource for LogGroup {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default().to_string();
        c.logs
            .create_log_group()
            .log_group_name(&name)
            .set_kms_key_id(str_prop(p, "kms_key_id").map(String::from))
            .set_tags(Some(tags_prop(p).into_iter().collect()))
            .send()
            .await?;
        if let Some(days) = int_prop(p, "retention_in_days") {
            c.logs
                .put_retention_policy()
                .log_group_name(&name)
                .retention_in_days(to_i32("retention_in_days", days)?)
                .send()
                .await?;
        }
        Ok(Observed { id: name, properties: p.clone(), attributes: Props::new() })
    }

    /// Log groups are read by listing: one `DescribeLogGroups` page covers up to 50 groups
    /// that share a prefix (see [`read_groups`]).
    fn reads_many_at_once(&self) -> bool {
        true
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut found = read_groups(c, ids).await?;
        let mut out = Vec::with_capacity(ids.len());
        for name in ids {
            out.push(match found.remove(name) {
                Some(g) => Some(observed(c, name, &g).await?),
                None => None,
            });
        }
        Ok(out)
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        _old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError> {
        if has(changed, "retention_in_days") {
            match int_prop(new, "retention_in_days") {
                Some(days) => c
                    .logs
                    .put_retention_policy()
                    .log_group_name(id)
                    .retention_in_days(to_i32("retention_in_days", days)?)
                    .send()
                    .await
                    .map(|_| ())?,
                None => c.logs.delete_retention_policy().log_group_name(id).send().await.map(|_| ())?,
            }
        }
        if has(changed, "kms_key_id") {
            match str_prop(new, "kms_key_id") {
                Some(k) => c.logs.associate_kms_key().log_group_name(id).kms_key_id(k).send().await.map(|_| ())?,
                None => c.logs.disassociate_kms_key().log_group_name(id).send().await.map(|_| ())?,
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.logs.delete_log_group().log_group_name(id).send().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::common_prefix;

    #[test]
    fn the_prefix_a_listing_uses_is_the_longest_the_names_share() {
        assert_eq!(common_prefix("/cdc/prod/a", "/cdc/prod/b"), "/cdc/prod/");
        assert_eq!(common_prefix("/bench/0/0", "/bench/99/1"), "/bench/");
        assert_eq!(common_prefix("/x/é1", "/x/é2"), "/x/é", "on a character boundary");
        assert_eq!(common_prefix("/x/éa", "/x/èa"), "/x/");
        assert_eq!(common_prefix("a", "b"), "");
    }
}
