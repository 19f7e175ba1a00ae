//! Amazon MWAA: the Airflow environment that orchestrates a pipeline (its DAGs from an S3
//! path), in private subnets, waited for until AVAILABLE (creates take 20–30 minutes).

use super::{absent_if, int32, str_prop, strings, tags_prop, AwsResource, Call, Readiness};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, TypeSchema, TAGS};
use async_trait::async_trait;
use aws_sdk_mwaa::types as mt;
use serde_json::{json, Map, Value};

const CLASSES: &[&str] = &["mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge"];

/// Two subnets (in two AZs: checked by AWS); workers in order; paths relative to the bucket.
fn check_environment(k: &Known) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(n) = k.get("subnet_ids").and_then(Value::as_array).map(Vec::len) {
        if n != 2 {
            out.push(Finding::new(
                "subnet_ids",
                format!("MWAA runs in exactly two private subnets, not {n}"),
                "give two private subnets in different Availability Zones",
            ));
        }
    }
    if let (Some(min), Some(max)) =
        (k.get("min_workers").and_then(Value::as_i64), k.get("max_workers").and_then(Value::as_i64))
    {
        if min > max {
            out.push(Finding::new(
                "min_workers",
                format!("{min} workers at least but {max} at most"),
                "lower `min_workers`",
            ));
        }
    }
    for prop in ["dag_s3_path", "requirements_s3_path"] {
        if let Some(p) = k.get(prop).and_then(Value::as_str) {
            if p.starts_with("s3://") || p.starts_with('/') {
                out.push(Finding::new(
                    prop,
                    format!("`{p}` must be a path inside the source bucket"),
                    "write it relative to the bucket, e.g. `dags` or `requirements.txt`",
                ));
            }
        }
    }
    out
}

pub static ENVIRONMENT: TypeSchema = TypeSchema {
    name: "aws.mwaa.environment",
    doc: "An Amazon MWAA (Managed Airflow) environment: DAGs and requirements from a versioned S3 bucket, an execution role, two private subnets with security groups, a private web server by default. Waits until AVAILABLE.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 80).required().replace(),
        Prop::new("execution_role_arn", PropKind::Str).required(),
        Prop::new("source_bucket_arn", PropKind::Str).required(),
        Prop::new("dag_s3_path", PropKind::Str).default("\"dags\""),
        Prop::new("requirements_s3_path", PropKind::Str),
        Prop::new("airflow_version", PropKind::Str).default("\"2.10.3\""),
        Prop::new("environment_class", PropKind::Enum(CLASSES)).default("\"mw1.small\""),
        Prop::new("min_workers", PropKind::Int).range(1, 25).default("1"),
        Prop::new("max_workers", PropKind::Int).range(1, 25).default("10"),
        Prop::new("subnet_ids", PropKind::Set(&PropKind::Str)).required().replace(),
        Prop::new("security_group_ids", PropKind::Set(&PropKind::Str)).required(),
        Prop::new("webserver_access_mode", PropKind::Enum(&["PRIVATE_ONLY", "PUBLIC_ONLY"]))
            .default("\"PRIVATE_ONLY\"")
            .replace(),
        Prop::new("airflow_configuration_options", PropKind::Map(&PropKind::Str)).default("{}"),
        TAGS,
    ],
    attrs: &["arn", "webserver_url"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: Some("arn:{partition}:airflow:{region}:{account}:environment/{id}"),
    normalize: None,
    timeouts: crate::schema::Timeouts::minutes(90, 90, 60),
    stateful: false,
    check: Some(check_environment),
};

pub struct Environment;

fn network(p: &Props) -> mt::NetworkConfiguration {
    mt::NetworkConfiguration::builder()
        .set_subnet_ids(Some(strings(p.get("subnet_ids"))))
        .set_security_group_ids(Some(strings(p.get("security_group_ids"))))
        .build()
}

fn options(p: &Props) -> std::collections::HashMap<String, String> {
    p.get("airflow_configuration_options")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), super::text(v))).collect())
        .unwrap_or_default()
}

#[async_trait]
impl AwsResource for Environment {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default();
        c.mwaa
            .create_environment()
            .name(name)
            .execution_role_arn(str_prop(p, "execution_role_arn").unwrap_or_default())
            .source_bucket_arn(str_prop(p, "source_bucket_arn").unwrap_or_default())
            .dag_s3_path(str_prop(p, "dag_s3_path").unwrap_or("dags"))
            .set_requirements_s3_path(str_prop(p, "requirements_s3_path").map(String::from))
            .airflow_version(str_prop(p, "airflow_version").unwrap_or_default())
            .environment_class(str_prop(p, "environment_class").unwrap_or("mw1.small"))
            .set_min_workers(int32(p, "min_workers")?)
            .set_max_workers(int32(p, "max_workers")?)
            .network_configuration(network(p))
            .webserver_access_mode(mt::WebserverAccessMode::from(
                str_prop(p, "webserver_access_mode").unwrap_or("PRIVATE_ONLY"),
            ))
            .set_airflow_configuration_options(Some(options(p)).filter(|o| !o.is_empty()))
            .set_tags(Some(tags_prop(p).into_iter().collect()))
            .send()
            .await?;
        Ok(Observed { id: name.into(), properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let res = c.mwaa.get_environment().name(name).send().await;
            let Some(e) = absent_if(res, "ResourceNotFoundException")?.and_then(|o| o.environment().cloned()) else {
                out.push(None);
                continue;
            };
            if matches!(e.status(), Some(mt::EnvironmentStatus::Deleted)) {
                out.push(None);
                continue;
            }
            let mut p = Props::new();
            p.insert("name".into(), json!(name));
            p.insert("execution_role_arn".into(), json!(e.execution_role_arn()));
            p.insert("source_bucket_arn".into(), json!(e.source_bucket_arn()));
            p.insert("dag_s3_path".into(), json!(e.dag_s3_path()));
            if let Some(r) = e.requirements_s3_path() {
                p.insert("requirements_s3_path".into(), json!(r));
            }
            p.insert("airflow_version".into(), json!(e.airflow_version()));
            p.insert("environment_class".into(), json!(e.environment_class()));
            p.insert("min_workers".into(), json!(e.min_workers()));
            p.insert("max_workers".into(), json!(e.max_workers()));
            let net = e.network_configuration();
            p.insert("subnet_ids".into(), json!(net.map(|n| n.subnet_ids()).unwrap_or_default()));
            p.insert("security_group_ids".into(), json!(net.map(|n| n.security_group_ids()).unwrap_or_default()));
            p.insert(
                "webserver_access_mode".into(),
                json!(e.webserver_access_mode().map(|m| m.as_str()).unwrap_or("PRIVATE_ONLY")),
            );
            p.insert(
                "airflow_configuration_options".into(),
                json!(e.airflow_configuration_options().cloned().unwrap_or_default()),
            );
            p.insert("tags".into(), super::tags_value(e.tags().cloned().unwrap_or_default()));
            let attributes = Map::from_iter([
                ("id".into(), json!(name)),
                ("arn".into(), json!(e.arn())),
                ("webserver_url".into(), json!(e.webserver_url())),
                ("status".into(), json!(e.status().map(|s| s.as_str()))),
            ]);
            out.push(Some(Observed { id: name.clone(), properties: p, attributes }));
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
        c.mwaa
            .update_environment()
            .name(id)
            .execution_role_arn(str_prop(new, "execution_role_arn").unwrap_or_default())
            .source_bucket_arn(str_prop(new, "source_bucket_arn").unwrap_or_default())
            .dag_s3_path(str_prop(new, "dag_s3_path").unwrap_or("dags"))
            .set_requirements_s3_path(str_prop(new, "requirements_s3_path").map(String::from))
            .airflow_version(str_prop(new, "airflow_version").unwrap_or_default())
            .environment_class(str_prop(new, "environment_class").unwrap_or("mw1.small"))
            .set_min_workers(int32(new, "min_workers")?)
            .set_max_workers(int32(new, "max_workers")?)
            .network_configuration(
                mt::UpdateNetworkConfigurationInput::builder()
                    .set_security_group_ids(Some(strings(new.get("security_group_ids"))))
                    .build()
                    .map_err(super::invalid)?,
            )
            .set_airflow_configuration_options(Some(options(new)))
            .send()
            .await?;
        Ok(())
    }

    /// Already being deleted is done: MWAA refuses a second delete (one sent again after
    /// its answer was lost, by the SDK's retry or by the lifecycle).
    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let deleting = || async {
            let res = c.mwaa.get_environment().name(id).send().await;
            let env = absent_if(res, "ResourceNotFoundException")?;
            let status = env.and_then(|o| o.environment().and_then(|e| e.status().cloned()));
            Ok::<_, ProviderError>(matches!(
                status,
                None | Some(mt::EnvironmentStatus::Deleting | mt::EnvironmentStatus::Deleted)
            ))
        };
        if deleting().await? {
            return Ok(());
        }
        match absent_if(c.mwaa.delete_environment().name(id).send().await, "ResourceNotFoundException") {
            Err(e) if deleting().await? => {
                tracing::debug!(error = %e, "the environment is being deleted already");
                Ok(())
            }
            other => other.map(drop),
        }
    }

    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        let res = c.mwaa.get_environment().name(id).send().await;
        let Some(e) = absent_if(res, "ResourceNotFoundException")?.and_then(|o| o.environment().cloned()) else {
            return Ok(Readiness::Pending("not visible yet".into()));
        };
        let why =
            || e.last_update().and_then(|u| u.error()).and_then(|x| x.error_message()).unwrap_or("failed").to_string();
        Ok(match e.status() {
            Some(mt::EnvironmentStatus::Available) => Readiness::Ready,
            Some(s @ (mt::EnvironmentStatus::CreateFailed | mt::EnvironmentStatus::UpdateFailed)) => {
                Readiness::Failed(format!("{}: {}", s.as_str(), why()))
            }
            Some(s) => Readiness::Pending(s.as_str().to_lowercase()),
            None => Readiness::Pending("not visible yet".into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_subnets_ordered_workers_and_bucket_relative_paths() {
        let k = |v: Value| v.as_object().cloned().unwrap_or_default();
        let bad = k(json!({ "subnet_ids": ["a"], "min_workers": 5, "max_workers": 2, "dag_s3_path": "s3://b/dags" }));
        let props: Vec<&str> = check_environment(&bad).iter().map(|f| f.prop).collect();
        assert_eq!(props, ["subnet_ids", "min_workers", "dag_s3_path"]);
        let good = k(json!({ "subnet_ids": ["a", "b"], "min_workers": 1, "max_workers": 2, "dag_s3_path": "dags" }));
        assert!(check_environment(&good).is_empty());
    }
}
