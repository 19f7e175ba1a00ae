//! SQS queues (fan-out targets, dead-letter queues).

use super::{int_prop, str_prop, tags_prop, text, AwsResource, Call};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Identity, Prop, PropKind, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use aws_sdk_sqs::types::QueueAttributeName as A;
use serde_json::{json, Map};
use std::collections::HashMap;

pub static QUEUE: TypeSchema = TypeSchema {
    name: "aws.sqs.queue",
    doc: "An SQS queue (a name ending in `.fifo` makes a FIFO queue).",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 80).required().replace(),
        Prop::new("visibility_timeout_seconds", PropKind::Int).range(0, 43200).default("30"),
        Prop::new("message_retention_seconds", PropKind::Int).range(60, 1209600).default("345600"),
        Prop::new("delay_seconds", PropKind::Int).range(0, 900).default("0"),
        Prop::new("receive_wait_time_seconds", PropKind::Int).range(0, 20).default("0"),
        Prop::new("kms_master_key_id", PropKind::Str),
        Prop::new("redrive_policy", PropKind::Json),
        Prop::new("policy", PropKind::Json),
        TAGS,
    ],
    attrs: &["arn", "url"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Named(&["name"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: true,
    check: None,
};

pub struct Queue;

const INTS: &[(&str, &str)] = &[
    ("visibility_timeout_seconds", "VisibilityTimeout"),
    ("message_retention_seconds", "MessageRetentionPeriod"),
    ("delay_seconds", "DelaySeconds"),
    ("receive_wait_time_seconds", "ReceiveMessageWaitTimeSeconds"),
];

fn attributes(p: &Props, only: Option<&[String]>) -> HashMap<A, String> {
    let want = |k: &str| only.is_none_or(|o| o.iter().any(|x| x == k));
    let mut m = HashMap::new();
    for (prop, attr) in INTS {
        if let Some(v) = int_prop(p, prop).filter(|_| want(prop)) {
            m.insert(A::from(*attr), v.to_string());
        }
    }
    if let Some(k) = str_prop(p, "kms_master_key_id").filter(|_| want("kms_master_key_id")) {
        m.insert(A::KmsMasterKeyId, k.to_string());
    }
    for (prop, attr) in [("redrive_policy", A::RedrivePolicy), ("policy", A::Policy)] {
        if let Some(v) = p.get(prop).filter(|_| want(prop)) {
            m.insert(attr, text(v));
        }
    }
    if str_prop(p, "name").is_some_and(|n| n.ends_with(".fifo")) && only.is_none() {
        m.insert(A::FifoQueue, "true".into());
    }
    m
}

#[async_trait]
impl AwsResource for Queue {
    async fn existing_id(&self, c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let Some(name) = str_prop(p, "name") else { return Ok(None) };
        match c.sqs.get_queue_url().queue_name(name).send().await {
            Ok(out) => Ok(out.queue_url().map(String::from)),
            Err(e) => {
                let e = ProviderError::from(e);
                if e.kind == crate::provider::ErrorKind::NotFound {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = c
            .sqs
            .create_queue()
            .queue_name(str_prop(p, "name").unwrap_or_default())
            .set_attributes(Some(attributes(p, None)))
            .set_tags(Some(tags_prop(p).into_iter().collect()))
            .send()
            .await?;
        Ok(Observed { id: out.queue_url().unwrap_or_default().into(), properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for url in ids {
            let r = c.sqs.get_queue_attributes().queue_url(url).attribute_names(A::All).send().await;
            let attrs = match r {
                Ok(o) => o.attributes().cloned().unwrap_or_default(),
                Err(e) => {
                    let e = ProviderError::from(e);
                    if e.kind == crate::provider::ErrorKind::NotFound {
                        out.push(None);
                        continue;
                    }
                    return Err(e);
                }
            };
            let mut properties = Props::new();
            properties.insert("name".into(), json!(url.rsplit('/').next().unwrap_or_default()));
            for (prop, attr) in INTS {
                if let Some(v) = attrs.get(&A::from(*attr)).and_then(|v| v.parse::<i64>().ok()) {
                    properties.insert((*prop).into(), json!(v));
                }
            }
            if let Some(k) = attrs.get(&A::KmsMasterKeyId) {
                properties.insert("kms_master_key_id".into(), json!(k));
            }
            for (prop, attr) in [("redrive_policy", A::RedrivePolicy), ("policy", A::Policy)] {
                if let Some(v) = attrs.get(&attr) {
                    properties.insert(prop.into(), serde_json::from_str(v).unwrap_or(json!(v)));
                }
            }
            let arn = attrs.get(&A::QueueArn).cloned().unwrap_or_default();
            let attributes =
                Map::from_iter([("id".into(), json!(url)), ("url".into(), json!(url)), ("arn".into(), json!(arn))]);
            out.push(Some(Observed { id: url.clone(), properties, attributes }));
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
        let attrs = attributes(new, Some(changed));
        if !attrs.is_empty() {
            c.sqs.set_queue_attributes().queue_url(id).set_attributes(Some(attrs)).send().await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.sqs.delete_queue().queue_url(id).send().await?;
        Ok(())
    }
}

pub static QUEUE_POLICY: TypeSchema = TypeSchema {
    name: "aws.sqs.queue_policy",
    doc: "The access policy of an SQS queue, apart from the queue: who may send to it (an SNS topic's fan-out, S3 notifications, EventBridge). One per queue; leave the queue's own `policy` unset.",
    props: &[
        Prop::new("queue_url", PropKind::Str).required().replace(),
        Prop::new("policy", PropKind::Json).required(),
    ],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Name("queue_url"),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct QueuePolicy;

impl QueuePolicy {
    async fn set(&self, c: &Call<'_>, url: &str, policy: String) -> Result<(), ProviderError> {
        c.sqs.set_queue_attributes().queue_url(url).attributes(A::Policy, policy).send().await?;
        Ok(())
    }
}

#[async_trait]
impl AwsResource for QueuePolicy {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let url = str_prop(p, "queue_url").unwrap_or_default();
        self.set(c, url, p.get("policy").map(text).unwrap_or_default()).await?;
        let attributes = Map::from_iter([("id".into(), json!(url))]);
        Ok(Observed { id: url.into(), properties: p.clone(), attributes })
    }

    /// Absent while the queue has no policy (or no longer exists).
    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for url in ids {
            let r = c.sqs.get_queue_attributes().queue_url(url).attribute_names(A::Policy).send().await;
            let policy = match r {
                Ok(o) => o.attributes().and_then(|a| a.get(&A::Policy)).filter(|p| !p.is_empty()).cloned(),
                Err(e) => match ProviderError::from(e) {
                    e if e.kind == crate::provider::ErrorKind::NotFound => None,
                    e => return Err(e),
                },
            };
            out.push(policy.map(|p| {
                let properties = Map::from_iter([
                    ("queue_url".into(), json!(url)),
                    ("policy".into(), serde_json::from_str(&p).unwrap_or(json!(p))),
                ]);
                Observed { id: url.clone(), properties, attributes: Map::from_iter([("id".into(), json!(url))]) }
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
        self.set(c, id, new.get("policy").map(text).unwrap_or_default()).await
    }

    /// An empty policy: SQS reads it as none.
    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        match self.set(c, id, String::new()).await {
            Err(e) if e.kind == crate::provider::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}
