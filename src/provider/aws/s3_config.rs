//! What is attached to an S3 bucket, one document each: its event notifications, its
//! policy and its lifecycle rules. Each is named by its bucket and is absent while the
//! bucket has none; a bucket that already has one (set by hand or by another tool) is
//! refused at create by the lifecycle's name look-up, never overwritten.

use super::{absent_if, int32, invalid, str_prop, strings, AwsResource, Call};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, TypeSchema, QUICK};
use async_trait::async_trait;
use aws_sdk_s3::types as s3t;
use serde_json::{json, Map, Value};

/// The error codes S3 answers when the bucket, or its document, does not exist.
fn absent<T, E>(
    res: Result<T, aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>>,
    document_absent: &str,
) -> Result<Option<T>, ProviderError>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    match absent_if(res, document_absent) {
        Err(e) if e.code == "NoSuchBucket" => Ok(None),
        other => other,
    }
}

fn observed(bucket: &str, mut properties: Props) -> Observed {
    properties.insert("bucket".into(), json!(bucket));
    Observed { id: bucket.to_string(), properties, attributes: Map::from_iter([("id".into(), json!(bucket))]) }
}

// ---------------------------------------------------------------------------------------
// Notifications

/// The fields of one notification target; `arn_field` names the target's ARN.
macro_rules! target_fields {
    ($arn_field:literal) => {
        &[
            Prop::new($arn_field, PropKind::Str).required(),
            Prop::new("events", PropKind::Set(&PropKind::Str)).required(),
            Prop::new("filter_prefix", PropKind::Str).length(1, 1024),
            Prop::new("filter_suffix", PropKind::Str).length(1, 1024),
        ]
    };
}

static LAMBDA_TARGET: &[Prop] = target_fields!("lambda_function_arn");
static QUEUE_TARGET: &[Prop] = target_fields!("queue_arn");
static TOPIC_TARGET: &[Prop] = target_fields!("topic_arn");

/// The three kinds of target: property, ARN field, and what the ARN must name.
const TARGETS: &[(&str, &str, &str)] = &[
    ("lambda_function", "lambda_function_arn", ":lambda:"),
    ("queue", "queue_arn", ":sqs:"),
    ("topic", "topic_arn", ":sns:"),
];

/// S3's event names (`s3:ObjectCreated:*`, …); a target's ARN of the right service.
fn check_notification(k: &Known) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut count = 0;
    for (prop, arn_field, service) in TARGETS {
        for t in k.get(*prop).and_then(Value::as_array).into_iter().flatten() {
            count += 1;
            if let Some(arn) = t.get(*arn_field).and_then(Value::as_str) {
                if !(arn.starts_with("arn:") && arn.contains(service)) {
                    out.push(Finding::new(
                        prop,
                        format!("`{arn_field}` is `{arn}`, which is not the ARN of a{service}resource"),
                        "reference the target's `arn`, e.g. `${<name>.arn}`".to_string(),
                    ));
                }
            }
            for e in strings(t.get("events")) {
                if is_unknown_event(&e) {
                    out.push(Finding::new(
                        prop,
                        format!("`{e}` is not an S3 event"),
                        "use S3's event names, such as `s3:ObjectCreated:*` or `s3:ObjectRemoved:Delete`",
                    ));
                }
            }
        }
    }
    let all_empty = TARGETS.iter().all(|(p, _, _)| k.get(*p).and_then(Value::as_array).is_some_and(Vec::is_empty));
    if count == 0 && all_empty {
        out.push(Finding::new(
            "queue",
            "the notification has no target",
            "give at least one `lambda_function`, `queue` or `topic`, or remove the resource",
        ));
    }
    out
}

fn is_unknown_event(e: &str) -> bool {
    !s3t::Event::values().contains(&e)
}

pub static BUCKET_NOTIFICATION: TypeSchema = TypeSchema {
    name: "aws.s3.bucket_notification",
    doc: "The event notifications of an S3 bucket: Lambda functions, SQS queues and SNS topics told of new or removed objects, with key prefix and suffix filters. One per bucket; the targets must allow S3 to reach them first (an `aws.lambda.permission`, a queue or topic policy).",
    props: &[
        Prop::new("bucket", PropKind::Str).required().replace(),
        Prop::new("lambda_function", PropKind::List(&PropKind::Object(LAMBDA_TARGET))).default("[]"),
        Prop::new("queue", PropKind::List(&PropKind::Object(QUEUE_TARGET))).default("[]"),
        Prop::new("topic", PropKind::List(&PropKind::Object(TOPIC_TARGET))).default("[]"),
    ],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Name("bucket"),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: Some(check_notification),
};

pub struct BucketNotification;

/// A target's S3 filter, if it has a prefix or suffix.
fn key_filter(t: &Value) -> Result<Option<s3t::NotificationConfigurationFilter>, ProviderError> {
    let mut rules = Vec::new();
    for (field, name) in
        [("filter_prefix", s3t::FilterRuleName::Prefix), ("filter_suffix", s3t::FilterRuleName::Suffix)]
    {
        if let Some(v) = t.get(field).and_then(Value::as_str) {
            rules.push(s3t::FilterRule::builder().name(name).value(v).build());
        }
    }
    Ok((!rules.is_empty()).then(|| {
        s3t::NotificationConfigurationFilter::builder()
            .key(s3t::S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
            .build()
    }))
}

/// A target as cloudbridge writes it, from what S3 reports.
fn target_value(
    arn_field: &str,
    arn: &str,
    events: &[s3t::Event],
    filter: Option<&s3t::NotificationConfigurationFilter>,
) -> Value {
    let mut m = Map::new();
    m.insert(arn_field.into(), json!(arn));
    let mut events: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    events.sort();
    events.dedup();
    m.insert("events".into(), json!(events));
    for rule in filter.and_then(|f| f.key()).map(|k| k.filter_rules()).unwrap_or_default() {
        // S3 reports the rule names capitalized (`Prefix`), whatever was sent.
        let field = match rule.name().map(|n| n.as_str().to_ascii_lowercase()) {
            Some(n) if n == "prefix" => "filter_prefix",
            Some(n) if n == "suffix" => "filter_suffix",
            _ => continue,
        };
        m.insert(field.into(), json!(rule.value().unwrap_or_default()));
    }
    Value::Object(m)
}

fn targets<'a>(p: &'a Props, prop: &str) -> impl Iterator<Item = &'a Value> {
    p.get(prop).and_then(Value::as_array).into_iter().flatten()
}

fn events_of(t: &Value) -> Vec<s3t::Event> {
    strings(t.get("events")).iter().map(|e| s3t::Event::from(e.as_str())).collect()
}

/// The whole configuration of `p`. Every target gets an ID of cloudbridge's
/// (`cloudbridge-<kind>-<n>`), so S3 does not make up one that reads back as a change.
fn notification_config(p: &Props) -> Result<s3t::NotificationConfiguration, ProviderError> {
    // The three kinds of target differ only in their SDK types and ARN setter.
    macro_rules! each_target {
        ($b:ident, $prop:literal, $kind:literal, $config:ident, $arn:ident, $add:ident) => {
            for (i, t) in targets(p, $prop).enumerate() {
                $b = $b.$add(
                    s3t::$config::builder()
                        .id(format!("cloudbridge-{}-{i}", $kind))
                        .$arn(t.get(stringify!($arn)).and_then(Value::as_str).unwrap_or_default())
                        .set_events(Some(events_of(t)))
                        .set_filter(key_filter(t)?)
                        .build()
                        .map_err(invalid)?,
                );
            }
        };
    }
    let mut b = s3t::NotificationConfiguration::builder();
    each_target!(
        b,
        "lambda_function",
        "lambda",
        LambdaFunctionConfiguration,
        lambda_function_arn,
        lambda_function_configurations
    );
    each_target!(b, "queue", "queue", QueueConfiguration, queue_arn, queue_configurations);
    each_target!(b, "topic", "topic", TopicConfiguration, topic_arn, topic_configurations);
    Ok(b.build())
}

impl BucketNotification {
    async fn put(
        &self,
        c: &Call<'_>,
        bucket: &str,
        config: s3t::NotificationConfiguration,
    ) -> Result<(), ProviderError> {
        c.s3.put_bucket_notification_configuration().bucket(bucket).notification_configuration(config).send().await?;
        Ok(())
    }
}

#[async_trait]
impl AwsResource for BucketNotification {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let bucket = str_prop(p, "bucket").unwrap_or_default();
        self.put(c, bucket, notification_config(p)?).await?;
        Ok(observed(bucket, p.clone()))
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for bucket in ids {
            let res = c.s3.get_bucket_notification_configuration().bucket(bucket).send().await;
            let Some(n) = absent(res, "NoSuchBucket")? else {
                out.push(None);
                continue;
            };
            let lambdas: Vec<Value> = n
                .lambda_function_configurations()
                .iter()
                .map(|t| target_value("lambda_function_arn", t.lambda_function_arn(), t.events(), t.filter()))
                .collect();
            let queues: Vec<Value> = n
                .queue_configurations()
                .iter()
                .map(|t| target_value("queue_arn", t.queue_arn(), t.events(), t.filter()))
                .collect();
            let topics: Vec<Value> = n
                .topic_configurations()
                .iter()
                .map(|t| target_value("topic_arn", t.topic_arn(), t.events(), t.filter()))
                .collect();
            // A bucket without notifications has no such document.
            if lambdas.is_empty() && queues.is_empty() && topics.is_empty() && n.event_bridge_configuration().is_none()
            {
                out.push(None);
                continue;
            }
            let properties = Map::from_iter([
                ("lambda_function".into(), Value::Array(lambdas)),
                ("queue".into(), Value::Array(queues)),
                ("topic".into(), Value::Array(topics)),
            ]);
            out.push(Some(observed(bucket, properties)));
        }
        Ok(out)
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        _old: &Props,
        new: &Props,
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        self.put(c, id, notification_config(new)?).await
    }

    /// An empty configuration: S3 has no delete of notifications.
    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        match self.put(c, id, s3t::NotificationConfiguration::builder().build()).await {
            Err(e) if e.code == "NoSuchBucket" => Ok(()),
            other => other,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Policy

pub static BUCKET_POLICY: TypeSchema = TypeSchema {
    name: "aws.s3.bucket_policy",
    doc: "The resource policy of an S3 bucket (who else may read or write it: S3 notifications' sources, DMS, Redshift, other accounts). One per bucket.",
    props: &[
        Prop::new("bucket", PropKind::Str).required().replace(),
        Prop::new("policy", PropKind::Json).required(),
    ],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Name("bucket"),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct BucketPolicy;

#[async_trait]
impl AwsResource for BucketPolicy {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let bucket = str_prop(p, "bucket").unwrap_or_default();
        self.update(c, bucket, p, p, &[]).await?;
        Ok(observed(bucket, p.clone()))
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for bucket in ids {
            let res = c.s3.get_bucket_policy().bucket(bucket).send().await;
            let policy = absent(res, "NoSuchBucketPolicy")?.and_then(|o| o.policy().map(String::from));
            out.push(policy.map(|text| {
                let policy = serde_json::from_str(&text).unwrap_or(Value::String(text));
                observed(bucket, Map::from_iter([("policy".into(), policy)]))
            }));
        }
        Ok(out)
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        _old: &Props,
        new: &Props,
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        let policy = new.get("policy").map(super::text).unwrap_or_default();
        c.s3.put_bucket_policy().bucket(id).policy(policy).send().await?;
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        absent(c.s3.delete_bucket_policy().bucket(id).send().await, "NoSuchBucketPolicy").map(drop)
    }
}

// ---------------------------------------------------------------------------------------
// Lifecycle rules

static TRANSITION: &[Prop] = &[
    Prop::new("days", PropKind::Int).range(0, 36_500).required(),
    Prop::new(
        "storage_class",
        PropKind::Enum(&["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]),
    )
    .required(),
];

static RULE: &[Prop] = &[
    Prop::new("id", PropKind::Str).length(1, 255).required(),
    Prop::new("enabled", PropKind::Bool).default("true"),
    Prop::new("prefix", PropKind::Str).default("\"\""),
    Prop::new("expiration_days", PropKind::Int).range(1, 36_500),
    Prop::new("noncurrent_version_expiration_days", PropKind::Int).range(1, 36_500),
    Prop::new("abort_incomplete_multipart_upload_days", PropKind::Int).range(1, 36_500),
    Prop::new("transitions", PropKind::List(&PropKind::Object(TRANSITION))).default("[]"),
];

/// Rule IDs are unique, and a rule does something.
fn check_lifecycle(k: &Known) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in k.get("rules").and_then(Value::as_array).into_iter().flatten() {
        let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
        if !seen.insert(id.to_string()) {
            out.push(Finding::new("rules", format!("two rules have the id `{id}`"), "give each rule its own `id`"));
        }
        let acts = ["expiration_days", "noncurrent_version_expiration_days", "abort_incomplete_multipart_upload_days"]
            .iter()
            .any(|a| r.get(*a).is_some_and(|v| !v.is_null()))
            || r.get("transitions").and_then(Value::as_array).is_some_and(|t| !t.is_empty());
        if !acts && r.get("transitions").is_some() {
            out.push(Finding::new(
                "rules",
                format!("rule `{id}` has no action"),
                "give it `expiration_days`, `transitions`, `noncurrent_version_expiration_days` or `abort_incomplete_multipart_upload_days`",
            ));
        }
    }
    out
}

pub static BUCKET_LIFECYCLE: TypeSchema = TypeSchema {
    name: "aws.s3.bucket_lifecycle",
    doc: "The lifecycle rules of an S3 bucket: objects under a prefix expire, or move to a colder storage class, after some days (raw landing files, old Parquet versions, failed multipart uploads). One per bucket.",
    props: &[
        Prop::new("bucket", PropKind::Str).required().replace(),
        Prop::new("rules", PropKind::List(&PropKind::Object(RULE))).required(),
    ],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Name("bucket"),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: Some(check_lifecycle),
};

pub struct BucketLifecycle;

fn days(r: &Value, field: &str) -> Result<Option<i32>, ProviderError> {
    let m: Props = r.as_object().cloned().unwrap_or_default();
    int32(&m, field)
}

fn lifecycle_rule(r: &Value) -> Result<s3t::LifecycleRule, ProviderError> {
    let status = match r.get("enabled").and_then(Value::as_bool) {
        Some(false) => s3t::ExpirationStatus::Disabled,
        _ => s3t::ExpirationStatus::Enabled,
    };
    let mut b = s3t::LifecycleRule::builder()
        .id(r.get("id").and_then(Value::as_str).unwrap_or_default())
        .status(status)
        .filter(
            s3t::LifecycleRuleFilter::builder()
                .prefix(r.get("prefix").and_then(Value::as_str).unwrap_or_default())
                .build(),
        );
    if let Some(d) = days(r, "expiration_days")? {
        b = b.expiration(s3t::LifecycleExpiration::builder().days(d).build());
    }
    if let Some(d) = days(r, "noncurrent_version_expiration_days")? {
        b = b.noncurrent_version_expiration(s3t::NoncurrentVersionExpiration::builder().noncurrent_days(d).build());
    }
    if let Some(d) = days(r, "abort_incomplete_multipart_upload_days")? {
        b = b.abort_incomplete_multipart_upload(
            s3t::AbortIncompleteMultipartUpload::builder().days_after_initiation(d).build(),
        );
    }
    for t in r.get("transitions").and_then(Value::as_array).into_iter().flatten() {
        b = b.transitions(
            s3t::Transition::builder()
                .set_days(days(t, "days")?)
                .storage_class(s3t::TransitionStorageClass::from(
                    t.get("storage_class").and_then(Value::as_str).unwrap_or_default(),
                ))
                .build(),
        );
    }
    b.build().map_err(invalid)
}

fn rule_value(r: &s3t::LifecycleRule) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(r.id().unwrap_or_default()));
    m.insert("enabled".into(), json!(r.status() == &s3t::ExpirationStatus::Enabled));
    #[allow(deprecated)]
    let prefix = r.filter().and_then(|f| f.prefix()).or(r.prefix()).unwrap_or_default();
    m.insert("prefix".into(), json!(prefix));
    if let Some(d) = r.expiration().and_then(|e| e.days()) {
        m.insert("expiration_days".into(), json!(d));
    }
    if let Some(d) = r.noncurrent_version_expiration().and_then(|e| e.noncurrent_days()) {
        m.insert("noncurrent_version_expiration_days".into(), json!(d));
    }
    if let Some(d) = r.abort_incomplete_multipart_upload().and_then(|a| a.days_after_initiation()) {
        m.insert("abort_incomplete_multipart_upload_days".into(), json!(d));
    }
    let transitions: Vec<Value> = r
        .transitions()
        .iter()
        .map(|t| json!({ "days": t.days().unwrap_or_default(), "storage_class": t.storage_class().map(|s| s.as_str()).unwrap_or_default() }))
        .collect();
    m.insert("transitions".into(), Value::Array(transitions));
    Value::Object(m)
}

#[async_trait]
impl AwsResource for BucketLifecycle {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let bucket = str_prop(p, "bucket").unwrap_or_default();
        self.update(c, bucket, p, p, &[]).await?;
        Ok(observed(bucket, p.clone()))
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for bucket in ids {
            let res = c.s3.get_bucket_lifecycle_configuration().bucket(bucket).send().await;
            out.push(absent(res, "NoSuchLifecycleConfiguration")?.filter(|o| !o.rules().is_empty()).map(|o| {
                let rules: Vec<Value> = o.rules().iter().map(rule_value).collect();
                observed(bucket, Map::from_iter([("rules".into(), Value::Array(rules))]))
            }));
        }
        Ok(out)
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        _old: &Props,
        new: &Props,
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        let rules = new
            .get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(lifecycle_rule)
            .collect::<Result<_, _>>()?;
        let config = s3t::BucketLifecycleConfiguration::builder().set_rules(Some(rules)).build().map_err(invalid)?;
        c.s3.put_bucket_lifecycle_configuration().bucket(id).lifecycle_configuration(config).send().await?;
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        absent(c.s3.delete_bucket_lifecycle().bucket(id).send().await, "NoSuchLifecycleConfiguration").map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(v: Value) -> Known {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn notification_targets_and_events_are_checked() {
        let bad = known(json!({
            "bucket": "b",
            "lambda_function": [{ "lambda_function_arn": "arn:aws:sqs:us-east-1:1:q", "events": ["s3:ObjectCreated:*", "s3:Created"] }],
            "queue": [], "topic": []
        }));
        let found: Vec<String> = check_notification(&bad).into_iter().map(|f| f.message).collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("not the ARN of a:lambda:resource") || found[0].contains(":lambda:"));
        assert!(found[1].contains("`s3:Created` is not an S3 event"));
        let none = known(json!({ "bucket": "b", "lambda_function": [], "queue": [], "topic": [] }));
        assert_eq!(check_notification(&none)[0].message, "the notification has no target");
        // Targets known only at apply are not "no target".
        let later = known(json!({ "bucket": "b", "lambda_function": null, "queue": [], "topic": [] }));
        assert!(check_notification(&later).is_empty());
    }

    #[test]
    fn lifecycle_rules_have_unique_ids_and_an_action() {
        let k = known(json!({ "rules": [
            { "id": "a", "expiration_days": 3, "transitions": [] },
            { "id": "a", "transitions": [] }
        ]}));
        let found: Vec<String> = check_lifecycle(&k).into_iter().map(|f| f.message).collect();
        assert_eq!(found, ["two rules have the id `a`", "rule `a` has no action"]);
    }
}
