//! Data sources against AWS: one read-only Describe/Get per lookup. A lookup that must
//! find one thing and finds none, or several, says so with the filter it used.

use super::resource::Clients;
use crate::data::DataKind;
use crate::provider::{ErrorKind, Props, ProviderError};
use aws_sdk_ec2::types::{Filter, Tag};
use serde_json::{json, Map, Value};

fn text<'a>(filter: &'a Props, key: &str) -> Option<&'a str> {
    filter.get(key).and_then(Value::as_str)
}

fn not_found(what: &str, filter: &Props) -> ProviderError {
    ProviderError {
        kind: ErrorKind::NotFound,
        ..ProviderError::new("NoMatch", format!("no {what} matches {}", Value::Object(filter.clone())))
    }
}

fn one<T>(mut found: Vec<T>, what: &str, filter: &Props) -> Result<T, ProviderError> {
    match found.len() {
        0 => Err(not_found(what, filter)),
        1 => Ok(found.remove(0)),
        n => Err(ProviderError::new(
            "TooManyMatches",
            format!("{n} {what}s match {}; narrow the filter to one", Value::Object(filter.clone())),
        )),
    }
}

/// EC2 filters for `tags` (each `tag:Key=Value`) and the plain `(filter key, EC2 name)`s.
fn ec2_filters(filter: &Props, plain: &[(&str, &str)]) -> Vec<Filter> {
    let mut out: Vec<Filter> = plain
        .iter()
        .filter_map(|(k, name)| Some(Filter::builder().name(*name).values(text(filter, k)?).build()))
        .collect();
    if let Some(tags) = filter.get("tags").and_then(Value::as_object) {
        for (k, v) in tags {
            out.push(Filter::builder().name(format!("tag:{k}")).values(v.as_str().unwrap_or_default()).build());
        }
    }
    out
}

fn tags(t: &[Tag]) -> Value {
    Value::Object(
        t.iter().map(|t| (t.key().unwrap_or_default().into(), json!(t.value().unwrap_or_default()))).collect(),
    )
}

fn attrs(v: Value) -> Props {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub(crate) async fn read(c: &Clients, kind: &'static DataKind, filter: &Props) -> Result<Props, ProviderError> {
    match kind.name {
        "aws.caller_identity" => {
            let out = c.sts.get_caller_identity().send().await?;
            Ok(attrs(json!({ "account_id": out.account(), "arn": out.arn(), "user_id": out.user_id() })))
        }
        "aws.region" => Ok(attrs(json!({ "name": c.region }))),
        "aws.ec2.vpc" => {
            let mut req = c.ec2.describe_vpcs().set_filters(Some(ec2_filters(filter, &[("cidr_block", "cidr-block")])));
            if let Some(id) = text(filter, "id") {
                req = req.vpc_ids(id);
            }
            let out = req.send().await?;
            let v = one(out.vpcs().to_vec(), "VPC", filter)?;
            Ok(attrs(json!({
                "id": v.vpc_id(), "cidr_block": v.cidr_block(), "owner_id": v.owner_id(), "tags": tags(v.tags())
            })))
        }
        "aws.ec2.subnet" | "aws.ec2.subnets" => {
            let plain = [("vpc_id", "vpc-id"), ("availability_zone", "availability-zone")];
            let mut req = c.ec2.describe_subnets().set_filters(Some(ec2_filters(filter, &plain)));
            if let Some(id) = text(filter, "id") {
                req = req.subnet_ids(id);
            }
            let mut found = req.send().await?.subnets().to_vec();
            found.sort_by(|a, b| a.subnet_id().cmp(&b.subnet_id()));
            if kind.name == "aws.ec2.subnets" {
                if found.is_empty() {
                    return Err(not_found("subnet", filter));
                }
                let list = |f: &dyn Fn(&aws_sdk_ec2::types::Subnet) -> Option<&str>| -> Value {
                    found.iter().map(|s| json!(f(s))).collect()
                };
                return Ok(attrs(json!({
                    "ids": list(&|s| s.subnet_id()),
                    "cidr_blocks": list(&|s| s.cidr_block()),
                    "availability_zones": list(&|s| s.availability_zone()),
                })));
            }
            let s = one(found, "subnet", filter)?;
            Ok(attrs(json!({
                "id": s.subnet_id(), "vpc_id": s.vpc_id(), "cidr_block": s.cidr_block(),
                "availability_zone": s.availability_zone(), "tags": tags(s.tags())
            })))
        }
        "aws.ec2.security_group" => {
            let plain = [("name", "group-name"), ("vpc_id", "vpc-id")];
            let mut req = c.ec2.describe_security_groups().set_filters(Some(ec2_filters(filter, &plain)));
            if let Some(id) = text(filter, "id") {
                req = req.group_ids(id);
            }
            let g = one(req.send().await?.security_groups().to_vec(), "security group", filter)?;
            let arn = format!(
                "arn:aws:ec2:{}:{}:security-group/{}",
                c.region,
                g.owner_id().unwrap_or_default(),
                g.group_id().unwrap_or_default()
            );
            Ok(attrs(json!({ "id": g.group_id(), "name": g.group_name(), "vpc_id": g.vpc_id(), "arn": arn })))
        }
        "aws.ec2.ami" => {
            let owners: Vec<String> = filter
                .get("owners")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|o| o.as_str().map(String::from)).collect())
                .unwrap_or_default();
            let plain = [("name", "name"), ("architecture", "architecture")];
            let out = c
                .ec2
                .describe_images()
                .set_owners(Some(owners))
                .set_filters(Some(ec2_filters(filter, &plain)))
                .send()
                .await?;
            // EC2 matches the name pattern itself; the newest image wins.
            let newest = out
                .images()
                .iter()
                .filter(|i| i.name().is_some_and(|n| crate::data::glob(text(filter, "name").unwrap_or("*"), n)))
                .max_by(|a, b| (a.creation_date(), a.name()).cmp(&(b.creation_date(), b.name())))
                .ok_or_else(|| not_found("image", filter))?;
            Ok(attrs(json!({
                "id": newest.image_id(), "name": newest.name(), "creation_date": newest.creation_date(), "owner_id": newest.owner_id()
            })))
        }
        "aws.iam.role" => {
            let name = text(filter, "name").unwrap_or_default();
            let out = c.iam.get_role().role_name(name).send().await?;
            let r = out.role().ok_or_else(|| not_found("role", filter))?;
            Ok(attrs(json!({ "name": r.role_name(), "arn": r.arn(), "unique_id": r.role_id(), "path": r.path() })))
        }
        "aws.iam.policy" => {
            let out = c.iam.get_policy().policy_arn(text(filter, "arn").unwrap_or_default()).send().await?;
            let p = out.policy().ok_or_else(|| not_found("policy", filter))?;
            Ok(attrs(json!({
                "arn": p.arn(), "name": p.policy_name(), "policy_id": p.policy_id(), "default_version_id": p.default_version_id()
            })))
        }
        "aws.secretsmanager.secret" => {
            let id = text(filter, "arn").or_else(|| text(filter, "name")).unwrap_or_default();
            // DescribeSecret: the secret's metadata, never its value.
            let out = c.secrets.describe_secret().secret_id(id).send().await?;
            Ok(attrs(json!({ "arn": out.arn(), "name": out.name() })))
        }
        "aws.msk.bootstrap_brokers" => {
            let out = c
                .kafka
                .get_bootstrap_brokers()
                .cluster_arn(text(filter, "cluster_arn").unwrap_or_default())
                .send()
                .await?;
            Ok(attrs(json!({
                "bootstrap_brokers": out.bootstrap_broker_string(),
                "bootstrap_brokers_tls": out.bootstrap_broker_string_tls(),
                "bootstrap_brokers_sasl_iam": out.bootstrap_broker_string_sasl_iam(),
                "bootstrap_brokers_sasl_scram": out.bootstrap_broker_string_sasl_scram(),
            })))
        }
        other => Err(ProviderError::new("NotSupported", format!("no AWS reader for `{other}` data sources"))),
    }
}
