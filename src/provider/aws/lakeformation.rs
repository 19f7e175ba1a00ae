//! Lake Formation: who administers the lake, which S3 locations it governs, and the
//! database, table and column grants of each principal.

use super::{absent_if, invalid, str_prop, strings, AwsResource, Call};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, TypeSchema, QUICK};
use async_trait::async_trait;
use aws_sdk_lakeformation::types as lf;
use serde_json::{json, Map, Value};

// ---------------------------------------------------------------- settings

pub static DATA_LAKE_SETTINGS: TypeSchema = TypeSchema {
    name: "aws.lakeformation.data_lake_settings",
    doc: "The Data Catalog's Lake Formation settings: its administrators, and whether new databases and tables are governed by Lake Formation grants (the default, `use_iam_access_control: false`) or by IAM alone. One per account: a catalog whose settings someone else already changed is refused; destroy puts back AWS's defaults.",
    props: &[
        Prop::new("catalog_id", PropKind::Str).required().replace(),
        Prop::new("admins", PropKind::Set(&PropKind::Str)).required(),
        Prop::new("use_iam_access_control", PropKind::Bool).default("false"),
    ],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Name("catalog_id"),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct DataLakeSettings;

const IAM_ALLOWED: &str = "IAM_ALLOWED_PRINCIPALS";

fn default_permissions(iam: bool) -> Vec<lf::PrincipalPermissions> {
    if !iam {
        return Vec::new();
    }
    let principal = lf::DataLakePrincipal::builder().data_lake_principal_identifier(IAM_ALLOWED).build();
    vec![lf::PrincipalPermissions::builder().principal(principal).permissions(lf::Permission::All).build()]
}

fn settings(admins: &[String], iam: bool) -> lf::DataLakeSettings {
    let admins = admins.iter().map(|a| lf::DataLakePrincipal::builder().data_lake_principal_identifier(a).build());
    lf::DataLakeSettings::builder()
        .set_data_lake_admins(Some(admins.collect()))
        .set_create_database_default_permissions(Some(default_permissions(iam)))
        .set_create_table_default_permissions(Some(default_permissions(iam)))
        .build()
}

impl DataLakeSettings {
    async fn put(&self, c: &Call<'_>, catalog: &str, s: lf::DataLakeSettings) -> Result<(), ProviderError> {
        c.lakeformation.put_data_lake_settings().catalog_id(catalog).data_lake_settings(s).send().await?;
        Ok(())
    }
}

#[async_trait]
impl AwsResource for DataLakeSettings {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let catalog = str_prop(p, "catalog_id").unwrap_or_default();
        self.update(c, catalog, p, p, &[]).await?;
        Ok(Observed { id: catalog.into(), properties: p.clone(), attributes: Props::new() })
    }

    /// Absent while the catalog has AWS's defaults (no administrators, IAM access control).
    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for catalog in ids {
            let got = c.lakeformation.get_data_lake_settings().catalog_id(catalog).send().await?;
            let Some(s) = got.data_lake_settings() else {
                out.push(None);
                continue;
            };
            let admins: Vec<&str> =
                s.data_lake_admins().iter().filter_map(|a| a.data_lake_principal_identifier()).collect();
            let iam = s
                .create_database_default_permissions()
                .iter()
                .any(|p| p.principal().and_then(|x| x.data_lake_principal_identifier()) == Some(IAM_ALLOWED));
            if admins.is_empty() && iam {
                out.push(None);
                continue;
            }
            let properties = Map::from_iter([
                ("catalog_id".into(), json!(catalog)),
                ("admins".into(), json!(admins)),
                ("use_iam_access_control".into(), json!(iam)),
            ]);
            out.push(Some(Observed {
                id: catalog.clone(),
                properties,
                attributes: Map::from_iter([("id".into(), json!(catalog))]),
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
        let iam = new.get("use_iam_access_control").and_then(Value::as_bool) == Some(true);
        self.put(c, id, settings(&strings(new.get("admins")), iam)).await
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        self.put(c, id, settings(&[], true)).await
    }
}

// ---------------------------------------------------------------- registered location

pub static RESOURCE: TypeSchema = TypeSchema {
    name: "aws.lakeformation.resource",
    doc: "An S3 location (a bucket or prefix ARN) registered with Lake Formation, which then vends credentials for it to the principals it grants; through the service-linked role unless `role_arn` is given.",
    props: &[Prop::new("arn", PropKind::Str).required().replace(), Prop::new("role_arn", PropKind::Str).replace()],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Name("arn"),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: Some(check_location),
};

fn check_location(k: &Known) -> Vec<Finding> {
    match k.get("arn").and_then(Value::as_str) {
        Some(a) if !a.starts_with("arn:aws:s3:::") && !a.starts_with("arn:aws-") => vec![Finding::new(
            "arn",
            format!("`{a}` is not the ARN of an S3 bucket or prefix"),
            "reference the bucket's ARN, e.g. `${lake.arn}` or `${lake.arn}/silver`",
        )],
        _ => Vec::new(),
    }
}

pub struct Location;

#[async_trait]
impl AwsResource for Location {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let arn = str_prop(p, "arn").unwrap_or_default();
        let role = str_prop(p, "role_arn");
        c.lakeformation
            .register_resource()
            .resource_arn(arn)
            .set_role_arn(role.map(String::from))
            .use_service_linked_role(role.is_none())
            .send()
            .await?;
        Ok(Observed { id: arn.into(), properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for arn in ids {
            let res = c.lakeformation.describe_resource().resource_arn(arn).send().await;
            out.push(absent_if(res, "EntityNotFoundException")?.and_then(|o| o.resource_info().cloned()).map(|r| {
                let mut properties = Map::from_iter([("arn".into(), json!(arn))]);
                // The service-linked role is AWS's, not the stack's: reported only when given.
                if let Some(role) = r.role_arn().filter(|r| !r.contains("/aws-service-role/")) {
                    properties.insert("role_arn".into(), json!(role));
                }
                Observed { id: arn.clone(), properties, attributes: Map::from_iter([("id".into(), json!(arn))]) }
            }));
        }
        Ok(out)
    }

    async fn update(
        &self,
        _c: &Call<'_>,
        _id: &str,
        _o: &Props,
        _n: &Props,
        _ch: &[String],
    ) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        absent_if(c.lakeformation.deregister_resource().resource_arn(id).send().await, "EntityNotFoundException")?;
        Ok(())
    }
}

// ---------------------------------------------------------------- permissions

const PERMISSIONS: &[&str] =
    &["ALL", "SELECT", "ALTER", "DROP", "DELETE", "INSERT", "DESCRIBE", "CREATE_TABLE", "DATA_LOCATION_ACCESS"];

/// Exactly one of: a database, a table (with `column_names`: those columns), a location.
fn check_grant(k: &Known) -> Vec<Finding> {
    let has = |p: &str| k.get(p).is_some_and(|v| !v.as_array().is_some_and(Vec::is_empty));
    let mut out = Vec::new();
    let targets = [has("database_name") && !has("table_name"), has("table_name"), has("data_location_arn")];
    if k.contains_key("principal") && targets.iter().filter(|t| **t).count() != 1 {
        out.push(Finding::new(
            "database_name",
            "a grant is on one thing: a database, a table (of a database), or a data location",
            "give `database_name`; or `database_name` and `table_name` (and `column_names`); or `data_location_arn`",
        ));
    }
    if has("table_name") && !has("database_name") {
        out.push(Finding::new("table_name", "a table is named with its database", "add `database_name`"));
    }
    if has("column_names") && !has("table_name") {
        out.push(Finding::new("column_names", "columns belong to a table", "add `table_name`"));
    }
    let perms = strings(k.get("permissions"));
    if has("data_location_arn") && perms.iter().any(|p| p != "DATA_LOCATION_ACCESS") {
        out.push(Finding::new(
            "permissions",
            "a data location takes only `DATA_LOCATION_ACCESS`",
            "grant table permissions on the table instead",
        ));
    }
    if has("column_names") && perms.iter().any(|p| p != "SELECT") {
        out.push(Finding::new(
            "permissions",
            "column grants are `SELECT` only",
            "grant other permissions on the table",
        ));
    }
    out
}

pub static PERMISSIONS_TYPE: TypeSchema = TypeSchema {
    name: "aws.lakeformation.permissions",
    doc: "Lake Formation permissions of one principal (a role's ARN) on a database, a table, some columns of a table, or a data location, with the ones it may grant on.",
    props: &[
        Prop::new("principal", PropKind::Str).required().replace(),
        Prop::new("catalog_id", PropKind::Str).replace(),
        Prop::new("database_name", PropKind::Str).replace(),
        Prop::new("table_name", PropKind::Str).replace(),
        Prop::new("column_names", PropKind::Set(&PropKind::Str)).replace(),
        Prop::new("data_location_arn", PropKind::Str).replace(),
        Prop::new("permissions", PropKind::Set(&PropKind::Enum(PERMISSIONS))).required(),
        Prop::new("permissions_with_grant_option", PropKind::Set(&PropKind::Enum(PERMISSIONS))).default("[]"),
    ],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Named(&["principal"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: Some(check_grant),
};

pub struct Permissions;

/// What a grant is on, from the properties; and its ID.
#[derive(Clone, PartialEq, Debug)]
enum On {
    Database(String),
    Table(String, String),
    Columns(String, String, Vec<String>),
    Location(String),
}

impl On {
    fn of(p: &Props) -> On {
        let s = |k: &str| str_prop(p, k).unwrap_or_default().to_string();
        let mut cols = strings(p.get("column_names"));
        cols.sort();
        if p.contains_key("data_location_arn") {
            On::Location(s("data_location_arn"))
        } else if !cols.is_empty() {
            On::Columns(s("database_name"), s("table_name"), cols)
        } else if p.contains_key("table_name") {
            On::Table(s("database_name"), s("table_name"))
        } else {
            On::Database(s("database_name"))
        }
    }

    fn of_resource(r: &lf::Resource) -> Option<On> {
        if let Some(d) = r.database() {
            return Some(On::Database(d.name().to_string()));
        }
        if let Some(t) = r.table() {
            return Some(On::Table(t.database_name().to_string(), t.name().unwrap_or_default().to_string()));
        }
        if let Some(t) = r.table_with_columns() {
            let mut cols = t.column_names().to_vec();
            cols.sort();
            return Some(On::Columns(t.database_name().to_string(), t.name().to_string(), cols));
        }
        r.data_location().map(|l| On::Location(l.resource_arn().to_string()))
    }

    fn resource(&self, catalog: Option<&str>) -> Result<lf::Resource, ProviderError> {
        let catalog = catalog.map(String::from);
        Ok(match self {
            On::Database(d) => lf::Resource::builder()
                .database(lf::DatabaseResource::builder().name(d).set_catalog_id(catalog).build().map_err(invalid)?)
                .build(),
            On::Table(d, t) => lf::Resource::builder()
                .table(
                    lf::TableResource::builder()
                        .database_name(d)
                        .name(t)
                        .set_catalog_id(catalog)
                        .build()
                        .map_err(invalid)?,
                )
                .build(),
            On::Columns(d, t, cols) => lf::Resource::builder()
                .table_with_columns(
                    lf::TableWithColumnsResource::builder()
                        .database_name(d)
                        .name(t)
                        .set_column_names(Some(cols.clone()))
                        .set_catalog_id(catalog)
                        .build()
                        .map_err(invalid)?,
                )
                .build(),
            On::Location(a) => lf::Resource::builder()
                .data_location(
                    lf::DataLocationResource::builder()
                        .resource_arn(a)
                        .set_catalog_id(catalog)
                        .build()
                        .map_err(invalid)?,
                )
                .build(),
        })
    }

    /// `principal|kind/database/table/columns`, through the one ID codec
    /// (`provider::id`): Glue names may hold `/`, `|` and `,`, and none shifts a field.
    fn id(&self, principal: &str) -> String {
        use crate::provider::id::{join, join_list};
        let on = match self {
            On::Database(d) => join('/', &["database", d]),
            On::Table(d, t) => join('/', &["table", d, t]),
            On::Columns(d, t, c) => join('/', &["columns", d, t, &join_list(',', c)]),
            On::Location(a) => join('/', &["location", a]),
        };
        join('|', &[principal, &on])
    }

    fn from_id(id: &str) -> Option<(String, On)> {
        use crate::provider::id::{split, split_list};
        if !id.contains('|') {
            return None;
        }
        let [principal, on]: [String; 2] = split('|', id, 2).try_into().ok()?;
        let (kind, _) = on.split_once('/')?;
        let on = match kind {
            "database" => {
                let [_, d]: [String; 2] = split('/', &on, 2).try_into().ok()?;
                On::Database(d)
            }
            "table" => {
                if on.matches('/').count() < 2 {
                    return None;
                }
                let [_, d, t]: [String; 3] = split('/', &on, 3).try_into().ok()?;
                On::Table(d, t)
            }
            "columns" => {
                if on.matches('/').count() < 3 {
                    return None;
                }
                let [_, d, t, c]: [String; 4] = split('/', &on, 4).try_into().ok()?;
                On::Columns(d, t, split_list(',', &c))
            }
            "location" => {
                let [_, a]: [String; 2] = split('/', &on, 2).try_into().ok()?;
                On::Location(a)
            }
            _ => return None,
        };
        Some((principal, on))
    }

    fn props(&self, p: &mut Props) {
        match self {
            On::Database(d) => {
                p.insert("database_name".into(), json!(d));
            }
            On::Table(d, t) => {
                p.insert("database_name".into(), json!(d));
                p.insert("table_name".into(), json!(t));
            }
            On::Columns(d, t, c) => {
                p.insert("database_name".into(), json!(d));
                p.insert("table_name".into(), json!(t));
                p.insert("column_names".into(), json!(c));
            }
            On::Location(a) => {
                p.insert("data_location_arn".into(), json!(a));
            }
        }
    }
}

fn principal(arn: &str) -> lf::DataLakePrincipal {
    lf::DataLakePrincipal::builder().data_lake_principal_identifier(arn).build()
}

fn to_permissions(names: Vec<String>) -> Vec<lf::Permission> {
    names.iter().map(|s| lf::Permission::from(s.as_str())).collect()
}

fn perms(p: &Props, name: &str) -> Vec<lf::Permission> {
    to_permissions(strings(p.get(name)))
}

impl Permissions {
    async fn change(
        &self,
        c: &Call<'_>,
        grant: bool,
        p: &Props,
        permissions: Vec<lf::Permission>,
        grantable: Vec<lf::Permission>,
    ) -> Result<(), ProviderError> {
        if permissions.is_empty() && grantable.is_empty() {
            return Ok(());
        }
        let who = principal(str_prop(p, "principal").unwrap_or_default());
        let resource = On::of(p).resource(str_prop(p, "catalog_id"))?;
        if grant {
            c.lakeformation
                .grant_permissions()
                .principal(who)
                .resource(resource)
                .set_permissions(Some(permissions))
                .set_permissions_with_grant_option(Some(grantable))
                .set_catalog_id(str_prop(p, "catalog_id").map(String::from))
                .send()
                .await?;
        } else {
            c.lakeformation
                .revoke_permissions()
                .principal(who)
                .resource(resource)
                .set_permissions(Some(permissions))
                .set_permissions_with_grant_option(Some(grantable))
                .set_catalog_id(str_prop(p, "catalog_id").map(String::from))
                .send()
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl AwsResource for Permissions {
    async fn existing_id(&self, _c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        Ok(str_prop(p, "principal").map(|who| On::of(p).id(who)))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        self.change(c, true, p, perms(p, "permissions"), perms(p, "permissions_with_grant_option")).await?;
        let id = On::of(p).id(str_prop(p, "principal").unwrap_or_default());
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    /// The principal's permissions on that very resource; none is absent.
    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let Some((who, on)) = On::from_id(id) else {
                out.push(None);
                continue;
            };
            let mut granted = std::collections::BTreeSet::new();
            let mut grantable = std::collections::BTreeSet::new();
            let mut token = None;
            loop {
                // AWS wants the resource with the principal: a table's grants include its
                // column grants.
                let on_table = match &on {
                    On::Columns(d, t, _) => On::Table(d.clone(), t.clone()),
                    other => other.clone(),
                };
                let page = c
                    .lakeformation
                    .list_permissions()
                    .principal(principal(&who))
                    .resource(on_table.resource(None)?)
                    .set_next_token(token)
                    .send()
                    .await?;
                for e in page.principal_resource_permissions() {
                    if e.resource().and_then(On::of_resource).as_ref() == Some(&on) {
                        granted.extend(e.permissions().iter().map(|p| p.as_str().to_string()));
                        grantable.extend(e.permissions_with_grant_option().iter().map(|p| p.as_str().to_string()));
                    }
                }
                match page.next_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_string()),
                    _ => break,
                }
            }
            if granted.is_empty() && grantable.is_empty() {
                out.push(None);
                continue;
            }
            let mut p = Props::new();
            p.insert("principal".into(), json!(who));
            on.props(&mut p);
            p.insert("permissions".into(), json!(granted));
            p.insert("permissions_with_grant_option".into(), json!(grantable));
            out.push(Some(Observed {
                id: id.clone(),
                properties: p,
                attributes: Map::from_iter([("id".into(), json!(id))]),
            }));
        }
        Ok(out)
    }

    /// Revoke what is no longer wanted, grant what is new.
    async fn update(
        &self,
        c: &Call<'_>,
        _id: &str,
        old: &Props,
        new: &Props,
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        let (added, gone) = super::set_change(old, new, "permissions");
        let (added_g, gone_g) = super::set_change(old, new, "permissions_with_grant_option");
        self.change(c, false, new, to_permissions(gone), to_permissions(gone_g)).await?;
        self.change(c, true, new, to_permissions(added), to_permissions(added_g)).await
    }

    async fn delete(&self, c: &Call<'_>, _id: &str, p: &Props) -> Result<(), ProviderError> {
        match self.change(c, false, p, perms(p, "permissions"), perms(p, "permissions_with_grant_option")).await {
            Err(e) if e.code == "EntityNotFoundException" || e.code == "InvalidInputException" => Ok(()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_ids_round_trip() {
        for on in [
            On::Database("lake".into()),
            On::Table("lake".into(), "orders".into()),
            On::Columns("lake".into(), "orders".into(), vec!["id".into(), "total".into()]),
            On::Location("arn:aws:s3:::lake/silver".into()),
        ] {
            let id = on.id("arn:aws:iam::1:role/analyst");
            assert_eq!(On::from_id(&id), Some(("arn:aws:iam::1:role/analyst".to_string(), on)));
        }
    }

    /// Glue names may hold `/`, `|` and `,` (Glue API, "Single-line string pattern"): the
    /// principal, database, table and columns each stay in their field.
    #[test]
    fn grant_ids_whose_names_hold_separators_round_trip() {
        let principal = "arn:aws:iam::1:role/a|b%7C";
        for on in [
            On::Database("la|ke/x".into()),
            On::Table("la/ke".into(), "or|ders/x".into()),
            On::Columns("l/a".into(), "t/b".into(), vec!["a,b".into(), "c%2C".into(), "d/e".into()]),
            On::Location("arn:aws:s3:::lake/a|b".into()),
        ] {
            let id = on.id(principal);
            assert_eq!(On::from_id(&id), Some((principal.to_string(), on)), "{id}");
        }
    }

    #[test]
    fn a_grant_is_on_one_thing_with_the_permissions_it_takes() {
        let k = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(check_grant(&k(json!({ "principal": "p", "permissions": ["SELECT"] })))[0].prop, "database_name");
        let cols = k(
            json!({ "principal": "p", "database_name": "d", "table_name": "t", "column_names": ["a"], "permissions": ["ALTER"] }),
        );
        assert_eq!(check_grant(&cols)[0].prop, "permissions");
        let ok = k(
            json!({ "principal": "p", "database_name": "d", "table_name": "t", "column_names": ["a"], "permissions": ["SELECT"] }),
        );
        assert!(check_grant(&ok).is_empty());
        let loc = k(json!({ "principal": "p", "data_location_arn": "arn:aws:s3:::b", "permissions": ["SELECT"] }));
        assert_eq!(check_grant(&loc)[0].prop, "permissions");
    }
}
