//! Athena workgroups (query result location, enforced settings).

use super::{absent_if, bool_prop, has, str_prop, tags_prop, AwsResource, Call};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Identity, Prop, PropKind, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use aws_sdk_athena::types::{
    ResultConfiguration, ResultConfigurationUpdates, Tag, WorkGroupConfiguration, WorkGroupConfigurationUpdates,
};
use serde_json::{json, Map};

pub static WORKGROUP: TypeSchema = TypeSchema {
    name: "aws.athena.workgroup",
    doc: "An Athena workgroup.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 128).required().replace(),
        Prop::new("description", PropKind::Str),
        Prop::new("output_location", PropKind::Str),
        Prop::new("enforce_workgroup_configuration", PropKind::Bool).default("true"),
        TAGS,
    ],
    attrs: &["arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: Some("arn:{partition}:athena:{region}:{account}:workgroup/{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct Workgroup;

pub(super) fn athena_tags(tags: impl IntoIterator<Item = (String, String)>) -> Vec<Tag> {
    tags.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

#[async_trait]
impl AwsResource for Workgroup {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default().to_string();
        let conf = WorkGroupConfiguration::builder()
            .set_result_configuration(
                str_prop(p, "output_location").map(|o| ResultConfiguration::builder().output_location(o).build()),
            )
            .set_enforce_work_group_configuration(bool_prop(p, "enforce_workgroup_configuration"))
            .build();
        c.athena
            .create_work_group()
            .name(&name)
            .set_description(str_prop(p, "description").map(String::from))
            .configuration(conf)
            .set_tags(Some(athena_tags(tags_prop(p))))
            .send()
            .await?;
        Ok(Observed { id: name, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let r = absent_if(c.athena.get_work_group().work_group(name).send().await, "InvalidRequestException")?;
            let Some(w) = r.and_then(|r| r.work_group().cloned()) else {
                out.push(None);
                continue;
            };
            let conf = w.configuration();
            let mut properties = Props::new();
            properties.insert("name".into(), json!(name));
            if let Some(d) = w.description().filter(|d| !d.is_empty()) {
                properties.insert("description".into(), json!(d));
            }
            if let Some(o) = conf.and_then(|c| c.result_configuration()).and_then(|r| r.output_location()) {
                properties.insert("output_location".into(), json!(o));
            }
            if let Some(e) = conf.and_then(|c| c.enforce_work_group_configuration()) {
                properties.insert("enforce_workgroup_configuration".into(), json!(e));
            }
            let arn = c.arn_of(&WORKGROUP, name).await?;
            let attributes = Map::from_iter([("id".into(), json!(name)), ("arn".into(), json!(arn))]);
            out.push(Some(Observed { id: name.clone(), properties, attributes }));
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
        if has(changed, "description")
            || has(changed, "output_location")
            || has(changed, "enforce_workgroup_configuration")
        {
            let updates = WorkGroupConfigurationUpdates::builder()
                .set_result_configuration_updates(
                    str_prop(new, "output_location")
                        .map(|o| ResultConfigurationUpdates::builder().output_location(o).build()),
                )
                .set_enforce_work_group_configuration(bool_prop(new, "enforce_workgroup_configuration"))
                .build();
            c.athena
                .update_work_group()
                .work_group(id)
                .set_description(str_prop(new, "description").map(String::from))
                .configuration_updates(updates)
                .send()
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.athena.delete_work_group().work_group(id).recursive_delete_option(true).send().await?;
        Ok(())
    }
}
