//! SNS topics (failure notifications, fan-out).

use super::{absent_if, has, str_prop, tags_prop, text, AwsResource, Call};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Identity, Prop, PropKind, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use aws_sdk_sns::types::Tag;
use serde_json::{json, Map};

pub static TOPIC: TypeSchema = TypeSchema {
    name: "aws.sns.topic",
    doc: "An SNS topic.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 256).required().replace(),
        Prop::new("display_name", PropKind::Str),
        Prop::new("kms_master_key_id", PropKind::Str),
        Prop::new("policy", PropKind::Json),
        TAGS,
    ],
    attrs: &["arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Named(&["name"]),
    arn: Some("arn:{partition}:sns:{region}:{account}:{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct Topic;

pub(super) fn sns_tags(tags: impl IntoIterator<Item = (String, String)>) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(super::invalid)).collect()
}

const ATTRS: &[(&str, &str)] =
    &[("display_name", "DisplayName"), ("kms_master_key_id", "KmsMasterKeyId"), ("policy", "Policy")];

#[async_trait]
impl AwsResource for Topic {
    async fn existing_id(&self, c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let Some(name) = str_prop(p, "name") else { return Ok(None) };
        Ok(Some(c.arn_of(&TOPIC, name).await?))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let mut attrs = std::collections::HashMap::new();
        for (prop, attr) in ATTRS {
            if let Some(v) = p.get(*prop) {
                attrs.insert(attr.to_string(), text(v));
            }
        }
        let out = c
            .sns
            .create_topic()
            .name(str_prop(p, "name").unwrap_or_default())
            .set_attributes(Some(attrs))
            .set_tags(Some(sns_tags(tags_prop(p))?))
            .send()
            .await?;
        Ok(Observed { id: out.topic_arn().unwrap_or_default().into(), properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for arn in ids {
            let Some(a) = absent_if(c.sns.get_topic_attributes().topic_arn(arn).send().await, "NotFound")? else {
                out.push(None);
                continue;
            };
            let attrs = a.attributes().cloned().unwrap_or_default();
            let mut properties = Props::new();
            properties.insert("name".into(), json!(arn.rsplit(':').next().unwrap_or_default()));
            for (prop, attr) in ATTRS {
                if let Some(v) = attrs.get(*attr).filter(|v| !v.is_empty()) {
                    let value = if *prop == "policy" { serde_json::from_str(v).unwrap_or(json!(v)) } else { json!(v) };
                    properties.insert((*prop).into(), value);
                }
            }
            let attributes = Map::from_iter([("id".into(), json!(arn)), ("arn".into(), json!(arn))]);
            out.push(Some(Observed { id: arn.clone(), properties, attributes }));
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
        for (prop, attr) in ATTRS {
            if has(changed, prop) {
                let v = new.get(*prop).map(text).unwrap_or_default();
                c.sns.set_topic_attributes().topic_arn(id).attribute_name(*attr).attribute_value(v).send().await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.sns.delete_topic().topic_arn(id).send().await?;
        Ok(())
    }
}

pub static SUBSCRIPTION: TypeSchema = TypeSchema {
    name: "aws.sns.subscription",
    doc: "A subscription of an SQS queue, Lambda function, e-mail address or HTTPS endpoint to an SNS topic (the fan-out of a topic to its queues).",
    props: &[
        Prop::new("topic_arn", PropKind::Str).required().replace(),
        Prop::new(
            "protocol",
            PropKind::Enum(&["sqs", "lambda", "email", "email-json", "https", "http", "firehose", "application", "sms"]),
        )
        .required()
        .replace(),
        Prop::new("endpoint", PropKind::Str).required().replace(),
        Prop::new("raw_message_delivery", PropKind::Bool).default("false"),
        Prop::new("filter_policy", PropKind::Json),
        Prop::new("filter_policy_scope", PropKind::Enum(&["MessageAttributes", "MessageBody"])),
    ],
    attrs: &["arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Named(&["topic_arn", "protocol", "endpoint"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct Subscription;

/// The subscription attributes cloudbridge manages, and their SNS names.
const SUB_ATTRS: &[(&str, &str)] = &[
    ("raw_message_delivery", "RawMessageDelivery"),
    ("filter_policy", "FilterPolicy"),
    ("filter_policy_scope", "FilterPolicyScope"),
];

#[async_trait]
impl AwsResource for Subscription {
    /// The topic's subscription with this protocol and endpoint, if there is one: SNS
    /// answers a repeated subscribe with the existing one, so it is looked up first.
    async fn existing_id(&self, c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let (Some(topic), Some(protocol), Some(endpoint)) =
            (str_prop(p, "topic_arn"), str_prop(p, "protocol"), str_prop(p, "endpoint"))
        else {
            return Ok(None);
        };
        let mut token = None;
        loop {
            let Some(out) = absent_if(
                c.sns.list_subscriptions_by_topic().topic_arn(topic).set_next_token(token).send().await,
                "NotFound",
            )?
            else {
                return Ok(None);
            };
            if let Some(s) = out.subscriptions().iter().find(|s| {
                s.protocol() == Some(protocol)
                    && s.endpoint() == Some(endpoint)
                    && s.subscription_arn().is_some_and(|a| a.starts_with("arn:"))
            }) {
                return Ok(s.subscription_arn().map(String::from));
            }
            match out.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => return Ok(None),
            }
        }
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let mut attrs = std::collections::HashMap::new();
        for (prop, attr) in SUB_ATTRS {
            if let Some(v) = p.get(*prop) {
                attrs.insert(attr.to_string(), text(v));
            }
        }
        let out = c
            .sns
            .subscribe()
            .topic_arn(str_prop(p, "topic_arn").unwrap_or_default())
            .protocol(str_prop(p, "protocol").unwrap_or_default())
            .endpoint(str_prop(p, "endpoint").unwrap_or_default())
            .set_attributes(Some(attrs))
            // The ARN even while an e-mail subscription waits for its confirmation.
            .return_subscription_arn(true)
            .send()
            .await?;
        let arn = out.subscription_arn().unwrap_or_default().to_string();
        Ok(Observed {
            id: arn.clone(),
            properties: p.clone(),
            attributes: Map::from_iter([("arn".into(), json!(arn))]),
        })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for arn in ids {
            let Some(a) =
                absent_if(c.sns.get_subscription_attributes().subscription_arn(arn).send().await, "NotFound")?
            else {
                out.push(None);
                continue;
            };
            let attrs = a.attributes().cloned().unwrap_or_default();
            let get = |k: &str| attrs.get(k).filter(|v| !v.is_empty());
            let mut properties = Props::new();
            for (prop, key) in [("topic_arn", "TopicArn"), ("protocol", "Protocol"), ("endpoint", "Endpoint")] {
                if let Some(v) = get(key) {
                    properties.insert(prop.into(), json!(v));
                }
            }
            properties
                .insert("raw_message_delivery".into(), json!(get("RawMessageDelivery").is_some_and(|v| v == "true")));
            if let Some(v) = get("FilterPolicy") {
                properties.insert("filter_policy".into(), serde_json::from_str(v).unwrap_or(json!(v)));
            }
            if let Some(v) = get("FilterPolicyScope").filter(|_| get("FilterPolicy").is_some()) {
                properties.insert("filter_policy_scope".into(), json!(v));
            }
            let attributes = Map::from_iter([("id".into(), json!(arn)), ("arn".into(), json!(arn))]);
            out.push(Some(Observed { id: arn.clone(), properties, attributes }));
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
        for (prop, attr) in SUB_ATTRS {
            if has(changed, prop) {
                // A filter policy taken away is set to empty, which SNS reads as none.
                let v = new.get(*prop).map(text).unwrap_or_default();
                c.sns
                    .set_subscription_attributes()
                    .subscription_arn(id)
                    .attribute_name(*attr)
                    .attribute_value(v)
                    .send()
                    .await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.sns.unsubscribe().subscription_arn(id).send().await?;
        Ok(())
    }
}

pub static TOPIC_POLICY: TypeSchema = TypeSchema {
    name: "aws.sns.topic_policy",
    doc: "The access policy of an SNS topic, apart from the topic: who may publish to it (CloudWatch alarms, S3 notifications, DMS event subscriptions, EventBridge). One per topic; leave the topic's own `policy` unset. Destroying it puts back the policy SNS gives a new topic.",
    props: &[Prop::new("arn", PropKind::Str).required().replace(), Prop::new("policy", PropKind::Json).required()],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Name("arn"),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct TopicPolicy;

/// The policy SNS gives every new topic (`__default_policy_ID`): a topic that has only
/// this one has no policy of the stack's.
fn default_topic_policy(arn: &str) -> serde_json::Value {
    let account = arn.split(':').nth(4).unwrap_or_default();
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": { "AWS": "*" },
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"
            ],
            "Resource": arn,
            "Condition": { "StringEquals": { "AWS:SourceOwner": account } }
        }]
    })
}

impl TopicPolicy {
    async fn set(&self, c: &Call<'_>, arn: &str, policy: String) -> Result<(), ProviderError> {
        c.sns.set_topic_attributes().topic_arn(arn).attribute_name("Policy").attribute_value(policy).send().await?;
        Ok(())
    }
}

#[async_trait]
impl AwsResource for TopicPolicy {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let arn = str_prop(p, "arn").unwrap_or_default();
        self.set(c, arn, p.get("policy").map(text).unwrap_or_default()).await?;
        Ok(Observed { id: arn.into(), properties: p.clone(), attributes: Map::from_iter([("id".into(), json!(arn))]) })
    }

    /// Absent while the topic has SNS's default policy (or no longer exists).
    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for arn in ids {
            let Some(a) = absent_if(c.sns.get_topic_attributes().topic_arn(arn).send().await, "NotFound")? else {
                out.push(None);
                continue;
            };
            let policy = a
                .attributes()
                .and_then(|m| m.get("Policy"))
                .filter(|p| !p.is_empty())
                .map(|p| serde_json::from_str(p).unwrap_or(json!(p)))
                .filter(|p: &serde_json::Value| p.get("Id").and_then(|i| i.as_str()) != Some("__default_policy_ID"));
            out.push(policy.map(|policy| {
                let properties = Map::from_iter([("arn".into(), json!(arn)), ("policy".into(), policy)]);
                Observed { id: arn.clone(), properties, attributes: Map::from_iter([("id".into(), json!(arn))]) }
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

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        match self.set(c, id, default_topic_policy(id).to_string()).await {
            Err(e) if e.code == "NotFound" => Ok(()),
            other => other,
        }
    }
}
