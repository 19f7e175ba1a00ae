//! EC2 network resources: VPC, subnet, internet gateway, route table, security group.
//! Reads are batched: one Describe call with an ID filter for all resources of a type
//! (filters, unlike ID lists, do not fail the whole call when one ID is gone).

use super::int32;
use super::{
    absent_if, bool_prop, created, each_ready, has, str_prop, strings, tags_value, AwsResource, Call, Readiness,
};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, TypeSchema, TAGS};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, IpPermission, IpRange, ResourceType, Tag, TagSpecification, UserIdGroupPair,
};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

fn tag_spec(rt: ResourceType, p: &Props) -> TagSpecification {
    let tags = super::tags_prop(p).into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    TagSpecification::builder().resource_type(rt).set_tags(Some(tags)).build()
}

fn tags_of(tags: &[Tag]) -> Value {
    tags_value(
        tags.iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())),
    )
}

fn id_filter(name: &str, ids: &[String]) -> Filter {
    Filter::builder().name(name).set_values(Some(ids.to_vec())).build()
}

/// Arrange results found by ID into the order of `ids`.
fn in_order(ids: &[String], mut found: BTreeMap<String, Observed>) -> Vec<Option<Observed>> {
    ids.iter().map(|id| found.remove(id)).collect()
}

/// Filters matching the ownership tags in `p` (empty when it has none).
fn owned_filters(p: &Props) -> Vec<Filter> {
    let tags = crate::ownership::of(p).unwrap_or_default();
    tags.into_iter().map(|(k, v)| Filter::builder().name(format!("tag:{k}")).values(v).build()).collect()
}

/// Run `describe` with the ownership-tag filters of `p`; nothing when `p` has no such tags.
/// The caller checks the tags of what comes back: a server that ignores a filter must not
/// make us adopt a neighbour's resource.
async fn owned<F, Fut>(p: &Props, describe: F) -> Result<Vec<String>, ProviderError>
where
    F: FnOnce(Vec<Filter>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<String>, ProviderError>>,
{
    let f = owned_filters(p);
    if f.is_empty() {
        return Ok(Vec::new());
    }
    describe(f).await
}

fn flag(b: bool) -> AttributeBooleanValue {
    AttributeBooleanValue::builder().value(b).build()
}

fn obj(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_string(), v.clone())).collect()
}

// ---------------------------------------------------------------- VPC

/// A VPC's (and a subnet's) CIDR block: AWS accepts /16 to /28.
fn check_prefix(k: &Known) -> Vec<Finding> {
    let prefix = k
        .get("cidr_block")
        .and_then(Value::as_str)
        .and_then(|c| c.split_once('/'))
        .and_then(|(_, p)| p.parse::<u8>().ok());
    match prefix {
        Some(p) if !(16..=28).contains(&p) => vec![Finding::new(
            "cidr_block",
            format!("a /{p} block is outside what AWS allows, /16 to /28"),
            "give the block a prefix length from 16 to 28, such as `10.0.0.0/16`",
        )],
        _ => Vec::new(),
    }
}

fn check_vpc(k: &Known) -> Vec<Finding> {
    check_prefix(k)
}

pub static VPC: TypeSchema = TypeSchema {
    name: "aws.ec2.vpc",
    doc: "A VPC.",
    props: &[
        Prop::new("cidr_block", PropKind::Cidr).required().replace(),
        Prop::new("enable_dns_support", PropKind::Bool).default("true"),
        Prop::new("enable_dns_hostnames", PropKind::Bool).default("false"),
        TAGS,
    ],
    attrs: &["id", "arn", "default_security_group_id", "main_route_table_id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Generated,
    arn: None,
    normalize: None,
    timeouts: crate::schema::QUICK,
    stateful: false,
    check: Some(check_vpc),
};

pub struct Vpc;

#[async_trait]
impl AwsResource for Vpc {
    fn reads_many_at_once(&self) -> bool {
        true
    }
    async fn find_owned(&self, c: &Call<'_>, p: &Props) -> Result<Vec<String>, ProviderError> {
        owned(p, |f| async move {
            let out = c.ec2.describe_vpcs().set_filters(Some(f)).send().await?;
            Ok(out.vpcs().iter().filter_map(|v| v.vpc_id().map(String::from)).collect())
        })
        .await
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = c
            .ec2
            .create_vpc()
            .cidr_block(str_prop(p, "cidr_block").unwrap_or_default())
            .tag_specifications(tag_spec(ResourceType::Vpc, p))
            .send()
            .await?;
        let id = out.vpc().and_then(|v| v.vpc_id()).unwrap_or_default().to_string();
        // A new VPC has DNS support on and DNS hostnames off: only a different value costs
        // a `ModifyVpcAttribute` call.
        let differs: Vec<String> = [("enable_dns_support", true), ("enable_dns_hostnames", false)]
            .into_iter()
            .filter(|(k, aws_default)| bool_prop(p, k).is_some_and(|v| v != *aws_default))
            .map(|(k, _)| k.to_string())
            .collect();
        if !differs.is_empty() {
            self.update(c, &id, &Props::new(), p, &differs).await.map_err(created(&id))?;
        }
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let out = c.ec2.describe_vpcs().filters(id_filter("vpc-id", ids)).send().await?;
        let live: Vec<String> = out.vpcs().iter().filter_map(|v| v.vpc_id().map(String::from)).collect();
        if live.is_empty() {
            return Ok(ids.iter().map(|_| None).collect());
        }
        // The default security groups and main route tables of all of them: one call each.
        let sgs = c
            .ec2
            .describe_security_groups()
            .filters(id_filter("vpc-id", &live))
            .filters(Filter::builder().name("group-name").values("default").build())
            .send();
        let rts = c
            .ec2
            .describe_route_tables()
            .filters(id_filter("vpc-id", &live))
            .filters(Filter::builder().name("association.main").values("true").build())
            .send();
        // Each VPC's two DNS attributes (no batch form exists), many VPCs side by side.
        let attributes: Vec<crate::concurrency::BoxFuture<'_, _>> = live
            .iter()
            .map(|id| -> crate::concurrency::BoxFuture<'_, _> {
                Box::pin(async move {
                    let attribute =
                        |name: &str| c.ec2.describe_vpc_attribute().vpc_id(id).attribute(name.into()).send();
                    let (support, hostnames) =
                        tokio::join!(attribute("enableDnsSupport"), attribute("enableDnsHostnames"));
                    Ok::<_, ProviderError>((
                        support?.enable_dns_support().and_then(|a| a.value()),
                        hostnames?.enable_dns_hostnames().and_then(|a| a.value()),
                    ))
                })
            })
            .collect();
        let (sgs, rts, attributes) =
            tokio::join!(sgs, rts, crate::concurrency::bounded(attributes, super::READS_PER_TYPE));
        let (sgs, rts) = (sgs?, rts?);
        let mut dns = HashMap::new();
        for (id, a) in live.iter().zip(attributes) {
            dns.insert(id.as_str(), a?);
        }
        let mut found = BTreeMap::new();
        for v in out.vpcs() {
            let id = v.vpc_id().unwrap_or_default().to_string();
            let (dns_support, dns_hostnames) = dns.get(id.as_str()).copied().unwrap_or_default();
            let sg = sgs.security_groups().iter().find(|g| g.vpc_id() == Some(id.as_str()));
            let rt = rts.route_tables().iter().find(|r| r.vpc_id() == Some(id.as_str()));
            let properties = obj(&[
                ("cidr_block", json!(v.cidr_block())),
                ("enable_dns_support", json!(dns_support)),
                ("enable_dns_hostnames", json!(dns_hostnames)),
                ("tags", tags_of(v.tags())),
            ]);
            let attributes = obj(&[
                ("id", json!(id)),
                ("arn", json!(format!("arn:aws:ec2:{}:{}:vpc/{id}", c.region, v.owner_id().unwrap_or_default()))),
                ("default_security_group_id", json!(sg.and_then(|g| g.group_id()))),
                ("main_route_table_id", json!(rt.and_then(|r| r.route_table_id()))),
            ]);
            found.insert(id.clone(), Observed { id, properties, attributes });
        }
        Ok(in_order(ids, found))
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        _old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError> {
        // One attribute per ModifyVpcAttribute call, as the API requires.
        if has(changed, "enable_dns_support") {
            if let Some(b) = bool_prop(new, "enable_dns_support") {
                c.ec2.modify_vpc_attribute().vpc_id(id).enable_dns_support(flag(b)).send().await?;
            }
        }
        if has(changed, "enable_dns_hostnames") {
            if let Some(b) = bool_prop(new, "enable_dns_hostnames") {
                c.ec2.modify_vpc_attribute().vpc_id(id).enable_dns_hostnames(flag(b)).send().await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.ec2.delete_vpc().vpc_id(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- Subnet

pub static SUBNET: TypeSchema = TypeSchema {
    name: "aws.ec2.subnet",
    doc: "A subnet of a VPC in one availability zone.",
    props: &[
        Prop::new("vpc_id", PropKind::Str).required().replace(),
        Prop::new("cidr_block", PropKind::Cidr).required().replace(),
        Prop::new("availability_zone", PropKind::Str).replace(),
        Prop::new("map_public_ip_on_launch", PropKind::Bool).default("false"),
        TAGS,
    ],
    attrs: &["id", "arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Generated,
    arn: None,
    normalize: None,
    timeouts: crate::schema::QUICK,
    stateful: false,
    check: Some(check_prefix),
};

pub struct Subnet;

#[async_trait]
impl AwsResource for Subnet {
    fn reads_many_at_once(&self) -> bool {
        true
    }
    async fn find_owned(&self, c: &Call<'_>, p: &Props) -> Result<Vec<String>, ProviderError> {
        owned(p, |f| async move {
            let out = c.ec2.describe_subnets().set_filters(Some(f)).send().await?;
            Ok(out.subnets().iter().filter_map(|v| v.subnet_id().map(String::from)).collect())
        })
        .await
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = c
            .ec2
            .create_subnet()
            .vpc_id(str_prop(p, "vpc_id").unwrap_or_default())
            .cidr_block(str_prop(p, "cidr_block").unwrap_or_default())
            .set_availability_zone(str_prop(p, "availability_zone").map(str::to_string))
            .tag_specifications(tag_spec(ResourceType::Subnet, p))
            .send()
            .await?;
        let id = out.subnet().and_then(|s| s.subnet_id()).unwrap_or_default().to_string();
        if bool_prop(p, "map_public_ip_on_launch") == Some(true) {
            self.update(c, &id, &Props::new(), p, &["map_public_ip_on_launch".into()]).await.map_err(created(&id))?;
        }
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let out = c.ec2.describe_subnets().filters(id_filter("subnet-id", ids)).send().await?;
        let mut found = BTreeMap::new();
        for s in out.subnets() {
            let id = s.subnet_id().unwrap_or_default().to_string();
            let properties = obj(&[
                ("vpc_id", json!(s.vpc_id())),
                ("cidr_block", json!(s.cidr_block())),
                ("availability_zone", json!(s.availability_zone())),
                ("map_public_ip_on_launch", json!(s.map_public_ip_on_launch().unwrap_or(false))),
                ("tags", tags_of(s.tags())),
            ]);
            let attributes = obj(&[("id", json!(id)), ("arn", json!(s.subnet_arn()))]);
            found.insert(id.clone(), Observed { id, properties, attributes });
        }
        Ok(in_order(ids, found))
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        _old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError> {
        if has(changed, "map_public_ip_on_launch") {
            let b = bool_prop(new, "map_public_ip_on_launch").unwrap_or(false);
            c.ec2.modify_subnet_attribute().subnet_id(id).map_public_ip_on_launch(flag(b)).send().await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.ec2.delete_subnet().subnet_id(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- Internet gateway

pub static INTERNET_GATEWAY: TypeSchema = TypeSchema {
    name: "aws.ec2.internet_gateway",
    doc: "An internet gateway, optionally attached to a VPC.",
    props: &[Prop::new("vpc_id", PropKind::Str), TAGS],
    attrs: &["id", "arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Generated,
    arn: None,
    normalize: None,
    timeouts: crate::schema::QUICK,
    stateful: false,
    check: None,
};

pub struct InternetGateway;

#[async_trait]
impl AwsResource for InternetGateway {
    fn reads_many_at_once(&self) -> bool {
        true
    }
    async fn find_owned(&self, c: &Call<'_>, p: &Props) -> Result<Vec<String>, ProviderError> {
        owned(p, |f| async move {
            let out = c.ec2.describe_internet_gateways().set_filters(Some(f)).send().await?;
            Ok(out.internet_gateways().iter().filter_map(|v| v.internet_gateway_id().map(String::from)).collect())
        })
        .await
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = c
            .ec2
            .create_internet_gateway()
            .tag_specifications(tag_spec(ResourceType::InternetGateway, p))
            .send()
            .await?;
        let id = out.internet_gateway().and_then(|g| g.internet_gateway_id()).unwrap_or_default().to_string();
        if let Some(vpc) = str_prop(p, "vpc_id") {
            c.ec2
                .attach_internet_gateway()
                .internet_gateway_id(&id)
                .vpc_id(vpc)
                .send()
                .await
                .map_err(|e| created(&id)(e.into()))?;
        }
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let out = c.ec2.describe_internet_gateways().filters(id_filter("internet-gateway-id", ids)).send().await?;
        let mut found = BTreeMap::new();
        for g in out.internet_gateways() {
            let id = g.internet_gateway_id().unwrap_or_default().to_string();
            let vpc = g.attachments().iter().find_map(|a| a.vpc_id());
            let properties = obj(&[("vpc_id", json!(vpc)), ("tags", tags_of(g.tags()))]);
            let arn = format!("arn:aws:ec2:{}:{}:internet-gateway/{id}", c.region, g.owner_id().unwrap_or_default());
            let attributes = obj(&[("id", json!(id)), ("arn", json!(arn))]);
            found.insert(id.clone(), Observed { id, properties, attributes });
        }
        Ok(in_order(ids, found))
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError> {
        if has(changed, "vpc_id") {
            if let Some(vpc) = str_prop(old, "vpc_id") {
                c.ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send().await?;
            }
            if let Some(vpc) = str_prop(new, "vpc_id") {
                c.ec2.attach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send().await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        // Detach from whatever VPC it is attached to now, not what state remembers.
        let out = c
            .ec2
            .describe_internet_gateways()
            .filters(id_filter("internet-gateway-id", &[id.to_string()]))
            .send()
            .await?;
        for g in out.internet_gateways() {
            for a in g.attachments() {
                if let Some(vpc) = a.vpc_id() {
                    c.ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send().await?;
                }
            }
        }
        c.ec2.delete_internet_gateway().internet_gateway_id(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- Route table

const ROUTE: &[Prop] = &[
    Prop::new("destination_cidr_block", PropKind::Cidr).required(),
    Prop::new("gateway_id", PropKind::Str),
    Prop::new("nat_gateway_id", PropKind::Str),
];

pub static ROUTE_TABLE: TypeSchema = TypeSchema {
    name: "aws.ec2.route_table",
    doc: "A route table with its routes and subnet associations.",
    props: &[
        Prop::new("vpc_id", PropKind::Str).required().replace(),
        Prop::new("routes", PropKind::Set(&PropKind::Object(ROUTE))).default("[]"),
        Prop::new("subnet_ids", PropKind::Set(&PropKind::Str)).default("[]"),
        TAGS,
    ],
    attrs: &["id", "arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Generated,
    arn: None,
    normalize: None,
    timeouts: crate::schema::QUICK,
    stateful: false,
    check: None,
};

pub struct RouteTable;

fn routes_of(p: &Props) -> BTreeMap<String, Value> {
    p.get("routes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter().filter_map(|r| Some((r.get("destination_cidr_block")?.as_str()?.to_string(), r.clone()))).collect()
        })
        .unwrap_or_default()
}

async fn put_route(c: &Call<'_>, id: &str, r: &Value, replace: bool) -> Result<(), ProviderError> {
    let dest = r.get("destination_cidr_block").and_then(Value::as_str).unwrap_or_default();
    let gw = r.get("gateway_id").and_then(Value::as_str).map(str::to_string);
    let nat = r.get("nat_gateway_id").and_then(Value::as_str).map(str::to_string);
    if !replace {
        let created = c
            .ec2
            .create_route()
            .route_table_id(id)
            .destination_cidr_block(dest)
            .set_gateway_id(gw.clone())
            .set_nat_gateway_id(nat.clone())
            .send()
            .await;
        match created.map_err(ProviderError::from) {
            Ok(_) => return Ok(()),
            // A repeat of a create whose answer was lost: make sure it points where it should.
            Err(e) if e.code == "RouteAlreadyExists" => {}
            Err(e) => return Err(e),
        }
    }
    c.ec2
        .replace_route()
        .route_table_id(id)
        .destination_cidr_block(dest)
        .set_gateway_id(gw)
        .set_nat_gateway_id(nat)
        .send()
        .await?;
    Ok(())
}

/// Is `subnet` associated with route table `id`?
async fn associated(c: &Call<'_>, id: &str, subnet: &str) -> Result<bool, ProviderError> {
    let out = c.ec2.describe_route_tables().filters(id_filter("route-table-id", &[id.to_string()])).send().await?;
    Ok(out.route_tables().iter().flat_map(|t| t.associations()).any(|a| a.subnet_id() == Some(subnet)))
}

/// Associate table `id` with exactly the subnets `want`, given its current associations
/// `assocs` (subnet, association ID).
async fn associate(c: &Call<'_>, id: &str, want: &[String], assocs: &[(String, String)]) -> Result<(), ProviderError> {
    for (subnet, assoc) in assocs {
        if !want.contains(subnet) {
            let gone = c.ec2.disassociate_route_table().association_id(assoc).send().await;
            absent_if(gone, "InvalidAssociationID.NotFound")?;
        }
    }
    for subnet in want {
        if !assocs.iter().any(|(s, _)| s == subnet) {
            let made = c.ec2.associate_route_table().route_table_id(id).subnet_id(subnet).send().await;
            match made.map_err(ProviderError::from) {
                // A repeat of an association whose answer was lost: fine if it is ours.
                Ok(_) => {}
                Err(e) if e.code == "Resource.AlreadyAssociated" && associated(c, id, subnet).await? => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

#[async_trait]
impl AwsResource for RouteTable {
    fn reads_many_at_once(&self) -> bool {
        true
    }
    async fn find_owned(&self, c: &Call<'_>, p: &Props) -> Result<Vec<String>, ProviderError> {
        owned(p, |f| async move {
            let out = c.ec2.describe_route_tables().set_filters(Some(f)).send().await?;
            Ok(out.route_tables().iter().filter_map(|v| v.route_table_id().map(String::from)).collect())
        })
        .await
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = c
            .ec2
            .create_route_table()
            .vpc_id(str_prop(p, "vpc_id").unwrap_or_default())
            .tag_specifications(tag_spec(ResourceType::RouteTable, p))
            .send()
            .await?;
        let id = out.route_table().and_then(|r| r.route_table_id()).unwrap_or_default().to_string();
        // A new table has no routes but the local one and no associations: nothing to
        // describe before adding them.
        let empty = Props::new();
        self.update(c, &id, &empty, p, &["routes".into()]).await.map_err(created(&id))?;
        associate(c, &id, &strings(p.get("subnet_ids")), &[]).await.map_err(created(&id))?;
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let out = c.ec2.describe_route_tables().filters(id_filter("route-table-id", ids)).send().await?;
        let mut found = BTreeMap::new();
        for t in out.route_tables() {
            let id = t.route_table_id().unwrap_or_default().to_string();
            let routes: Vec<Value> = t
                .routes()
                .iter()
                .filter(|r| r.gateway_id() != Some("local") && r.destination_cidr_block().is_some())
                .map(|r| {
                    Value::Object(obj(&[
                        ("destination_cidr_block", json!(r.destination_cidr_block())),
                        ("gateway_id", json!(r.gateway_id())),
                        ("nat_gateway_id", json!(r.nat_gateway_id())),
                    ]))
                })
                .collect();
            let subnets: Vec<&str> =
                t.associations().iter().filter(|a| a.main() != Some(true)).filter_map(|a| a.subnet_id()).collect();
            let properties = obj(&[
                ("vpc_id", json!(t.vpc_id())),
                ("routes", Value::Array(routes)),
                ("subnet_ids", json!(subnets)),
                ("tags", tags_of(t.tags())),
            ]);
            let arn = format!("arn:aws:ec2:{}:{}:route-table/{id}", c.region, t.owner_id().unwrap_or_default());
            let attributes = obj(&[("id", json!(id)), ("arn", json!(arn))]);
            found.insert(id.clone(), Observed { id, properties, attributes });
        }
        Ok(in_order(ids, found))
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError> {
        if has(changed, "routes") {
            let (o, n) = (routes_of(old), routes_of(new));
            for dest in o.keys().filter(|d| !n.contains_key(*d)) {
                let deleted = c.ec2.delete_route().route_table_id(id).destination_cidr_block(dest).send().await;
                absent_if(deleted, "InvalidRoute.NotFound")?;
            }
            for (dest, r) in &n {
                match o.get(dest) {
                    None => put_route(c, id, r, false).await?,
                    Some(prev) if prev != r => put_route(c, id, r, true).await?,
                    Some(_) => {}
                }
            }
        }
        if has(changed, "subnet_ids") {
            let want = strings(new.get("subnet_ids"));
            let out =
                c.ec2.describe_route_tables().filters(id_filter("route-table-id", &[id.to_string()])).send().await?;
            let assocs: Vec<(String, String)> = out
                .route_tables()
                .iter()
                .flat_map(|t| t.associations())
                .filter(|a| a.main() != Some(true))
                .filter_map(|a| Some((a.subnet_id()?.to_string(), a.route_table_association_id()?.to_string())))
                .collect();
            associate(c, id, &want, &assocs).await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let out = c.ec2.describe_route_tables().filters(id_filter("route-table-id", &[id.to_string()])).send().await?;
        for a in out.route_tables().iter().flat_map(|t| t.associations()) {
            if let (Some(assoc), false) = (a.route_table_association_id(), a.main() == Some(true)) {
                c.ec2.disassociate_route_table().association_id(assoc).send().await?;
            }
        }
        c.ec2.delete_route_table().route_table_id(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- Security group

/// TCP and UDP rules: both ports, from 0 to 65535, `from_port` not above `to_port` (ICMP
/// uses them for type and code, and `all` ignores them).
fn check_rules(k: &Known) -> Vec<Finding> {
    let mut out = Vec::new();
    for (prop, rules) in [("ingress", k.get("ingress")), ("egress", k.get("egress"))] {
        for (i, r) in rules.and_then(Value::as_array).into_iter().flatten().enumerate() {
            let proto = r.get("protocol").and_then(Value::as_str).unwrap_or_default();
            if !matches!(proto, "tcp" | "udp") {
                continue;
            }
            let port = |name| r.get(name).and_then(Value::as_i64);
            let problem = match (port("from_port"), port("to_port")) {
                (Some(from), Some(to)) if from < 0 || to < 0 => {
                    Some(format!("rule {} is {proto} from port {from} to {to}; {proto} ports are 0 to 65535", i + 1))
                }
                (Some(from), Some(to)) if from > to => Some(format!(
                    "rule {} opens {proto} from port {from} to port {to}, a range that ends before it starts",
                    i + 1
                )),
                (Some(_), Some(_)) => None,
                _ => Some(format!("rule {} is {proto} and needs both `from_port` and `to_port`", i + 1)),
            };
            if let Some(message) = problem {
                out.push(Finding::new(
                    prop,
                    message,
                    "give `from_port` and `to_port` from 0 to 65535 with `from_port` ≤ `to_port`; for every protocol and port, write `protocol: all`",
                ));
            }
        }
    }
    out
}

const RULE: &[Prop] = &[
    Prop::new("protocol", PropKind::Enum(&["tcp", "udp", "icmp", "all"])).required(),
    Prop::new("from_port", PropKind::Int).range(-1, 65535),
    Prop::new("to_port", PropKind::Int).range(-1, 65535),
    Prop::new("cidr_blocks", PropKind::Set(&PropKind::Cidr)),
    Prop::new("source_security_group_ids", PropKind::Set(&PropKind::Str)),
    Prop::new("description", PropKind::Str),
];

pub static SECURITY_GROUP: TypeSchema = TypeSchema {
    name: "aws.ec2.security_group",
    doc: "A security group with ingress and egress rules; rules may reference other groups.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("description", PropKind::Str).replace().default("\"Managed by cloudbridge\""),
        Prop::new("vpc_id", PropKind::Str).required().replace(),
        Prop::new("ingress", PropKind::Set(&PropKind::Object(RULE))).default("[]"),
        Prop::new("egress", PropKind::Set(&PropKind::Object(RULE))),
        TAGS,
    ],
    attrs: &["id", "arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Generated,
    arn: None,
    normalize: Some(normalize_rules),
    timeouts: crate::schema::QUICK,
    stateful: false,
    check: Some(check_rules),
};

/// Rules compare as a set of single-source rules: AWS merges rules with the same protocol
/// and ports, and a rule listing three CIDRs is three rules to it.
fn normalize_rules(prop: &str, v: &Value) -> Value {
    if prop != "ingress" && prop != "egress" {
        return v.clone();
    }
    let mut atoms: Vec<Value> = atomic_rules(v).into_iter().map(Value::Object).collect();
    atoms.sort_by_key(|a| a.to_string());
    atoms.dedup();
    Value::Array(atoms)
}

fn atomic_rules(v: &Value) -> Vec<Map<String, Value>> {
    let mut out = Vec::new();
    for rule in v.as_array().into_iter().flatten() {
        let proto = rule.get("protocol").and_then(Value::as_str).unwrap_or("all");
        let all = proto == "all" || proto == "-1";
        let base = |source: (&str, &Value)| {
            let mut m = obj(&[
                ("protocol", json!(if all { "all" } else { proto })),
                ("from_port", if all { Value::Null } else { rule.get("from_port").cloned().unwrap_or(Value::Null) }),
                ("to_port", if all { Value::Null } else { rule.get("to_port").cloned().unwrap_or(Value::Null) }),
                (
                    "description",
                    rule.get("description").cloned().filter(|d| d.as_str() != Some("")).unwrap_or(Value::Null),
                ),
            ]);
            m.insert(source.0.into(), source.1.clone());
            m
        };
        for cidr in rule.get("cidr_blocks").and_then(Value::as_array).into_iter().flatten() {
            out.push(base(("cidr_block", cidr)));
        }
        for sg in rule.get("source_security_group_ids").and_then(Value::as_array).into_iter().flatten() {
            out.push(base(("source_security_group_id", sg)));
        }
    }
    out
}

fn permission(atom: &Map<String, Value>) -> Result<IpPermission, ProviderError> {
    let proto = atom.get("protocol").and_then(Value::as_str).unwrap_or("all");
    let port = |k: &str| int32(atom, k);
    let desc = atom.get("description").and_then(Value::as_str).map(str::to_string);
    let mut b = IpPermission::builder().ip_protocol(if proto == "all" { "-1" } else { proto });
    if proto != "all" {
        b = b.set_from_port(port("from_port")?).set_to_port(port("to_port")?);
    }
    if let Some(cidr) = atom.get("cidr_block").and_then(Value::as_str) {
        b = b.ip_ranges(IpRange::builder().cidr_ip(cidr).set_description(desc.clone()).build());
    }
    if let Some(sg) = atom.get("source_security_group_id").and_then(Value::as_str) {
        b = b.user_id_group_pairs(UserIdGroupPair::builder().group_id(sg).set_description(desc).build());
    }
    Ok(b.build())
}

fn rules_of(perms: &[IpPermission]) -> Value {
    let mut rules = Vec::new();
    for p in perms {
        let proto = match p.ip_protocol() {
            Some("-1") | None => "all",
            Some(other) => other,
        };
        let ports = |r: Map<String, Value>| -> Value {
            let mut r = r;
            if proto != "all" {
                r.insert("from_port".into(), json!(p.from_port()));
                r.insert("to_port".into(), json!(p.to_port()));
            }
            Value::Object(r)
        };
        for r in p.ip_ranges() {
            rules.push(ports(obj(&[
                ("protocol", json!(proto)),
                ("cidr_blocks", json!([r.cidr_ip()])),
                ("description", json!(r.description())),
            ])));
        }
        for g in p.user_id_group_pairs() {
            rules.push(ports(obj(&[
                ("protocol", json!(proto)),
                ("source_security_group_ids", json!([g.group_id()])),
                ("description", json!(g.description())),
            ])));
        }
    }
    Value::Array(rules)
}

/// Revoke or authorize `rules` in one call. AWS refuses the whole call if one rule is
/// already in the wanted state (`already`: NotFound for a revoke, Duplicate for an
/// authorize), as when the SDK repeats a call whose answer was lost; then each rule is
/// sent alone and those already done are skipped.
async fn rule_by_rule<F, Fut>(rules: Vec<IpPermission>, already: &str, call: F) -> Result<(), ProviderError>
where
    F: Fn(Vec<IpPermission>) -> Fut,
    Fut: std::future::Future<Output = Result<(), ProviderError>>,
{
    if rules.is_empty() {
        return Ok(());
    }
    match call(rules.clone()).await {
        Err(e) if e.code == already => {
            for rule in rules {
                match call(vec![rule]).await {
                    Err(e) if e.code == already => {}
                    other => other?,
                }
            }
            Ok(())
        }
        other => other,
    }
}

pub struct SecurityGroup;

impl SecurityGroup {
    async fn set_rules(
        &self,
        c: &Call<'_>,
        id: &str,
        egress: bool,
        old: Option<&Value>,
        new: Option<&Value>,
    ) -> Result<(), ProviderError> {
        let (o, n) = (atomic_rules(old.unwrap_or(&Value::Null)), atomic_rules(new.unwrap_or(&Value::Null)));
        let revoke: Vec<IpPermission> =
            o.iter().filter(|r| !n.contains(r)).map(permission).collect::<Result<_, _>>()?;
        let grant: Vec<IpPermission> = n.iter().filter(|r| !o.contains(r)).map(permission).collect::<Result<_, _>>()?;
        let ec2 = &c.ec2;
        rule_by_rule(revoke, "InvalidPermission.NotFound", |rules| async move {
            if egress {
                ec2.revoke_security_group_egress().group_id(id).set_ip_permissions(Some(rules)).send().await?;
            } else {
                ec2.revoke_security_group_ingress().group_id(id).set_ip_permissions(Some(rules)).send().await?;
            }
            Ok(())
        })
        .await?;
        rule_by_rule(grant, "InvalidPermission.Duplicate", |rules| async move {
            if egress {
                ec2.authorize_security_group_egress().group_id(id).set_ip_permissions(Some(rules)).send().await?;
            } else {
                ec2.authorize_security_group_ingress().group_id(id).set_ip_permissions(Some(rules)).send().await?;
            }
            Ok(())
        })
        .await?;
        Ok(())
    }
}

#[async_trait]
impl AwsResource for SecurityGroup {
    fn reads_many_at_once(&self) -> bool {
        true
    }
    async fn find_owned(&self, c: &Call<'_>, p: &Props) -> Result<Vec<String>, ProviderError> {
        owned(p, |f| async move {
            let out = c.ec2.describe_security_groups().set_filters(Some(f)).send().await?;
            Ok(out.security_groups().iter().filter_map(|v| v.group_id().map(String::from)).collect())
        })
        .await
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = c
            .ec2
            .create_security_group()
            .group_name(str_prop(p, "name").unwrap_or_default())
            .description(str_prop(p, "description").unwrap_or("Managed by cloudbridge"))
            .vpc_id(str_prop(p, "vpc_id").unwrap_or_default())
            .tag_specifications(tag_spec(ResourceType::SecurityGroup, p))
            .send()
            .await?;
        let id = out.group_id().unwrap_or_default().to_string();
        self.set_rules(c, &id, false, None, p.get("ingress")).await.map_err(created(&id))?;
        if p.contains_key("egress") {
            // Replace the allow-all egress rule AWS adds to every new group.
            let default = json!([{"protocol": "all", "cidr_blocks": ["0.0.0.0/0"]}]);
            self.set_rules(c, &id, true, Some(&default), p.get("egress")).await.map_err(created(&id))?;
        }
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let out = c.ec2.describe_security_groups().filters(id_filter("group-id", ids)).send().await?;
        let mut found = BTreeMap::new();
        for g in out.security_groups() {
            let id = g.group_id().unwrap_or_default().to_string();
            let properties = obj(&[
                ("name", json!(g.group_name())),
                ("description", json!(g.description())),
                ("vpc_id", json!(g.vpc_id())),
                ("ingress", rules_of(g.ip_permissions())),
                ("egress", rules_of(g.ip_permissions_egress())),
                ("tags", tags_of(g.tags())),
            ]);
            let arn = g.security_group_arn().map(str::to_string).unwrap_or_else(|| {
                format!("arn:aws:ec2:{}:{}:security-group/{id}", c.region, g.owner_id().unwrap_or_default())
            });
            let attributes = obj(&[("id", json!(id)), ("arn", json!(arn))]);
            found.insert(id.clone(), Observed { id, properties, attributes });
        }
        Ok(in_order(ids, found))
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError> {
        if has(changed, "ingress") {
            self.set_rules(c, id, false, old.get("ingress"), new.get("ingress")).await?;
        }
        if has(changed, "egress") {
            self.set_rules(c, id, true, old.get("egress"), new.get("egress")).await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.ec2.delete_security_group().group_id(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- Elastic IP

pub static EIP: TypeSchema = TypeSchema {
    name: "aws.ec2.eip",
    doc: "An Elastic IP address (for a NAT gateway or a bastion).",
    props: &[TAGS],
    attrs: &["id", "public_ip", "allocation_id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Generated,
    arn: None,
    normalize: None,
    timeouts: crate::schema::QUICK,
    stateful: false,
    check: None,
};

pub struct Eip;

#[async_trait]
impl AwsResource for Eip {
    fn reads_many_at_once(&self) -> bool {
        true
    }
    async fn find_owned(&self, c: &Call<'_>, p: &Props) -> Result<Vec<String>, ProviderError> {
        owned(p, |f| async move {
            let out = c.ec2.describe_addresses().set_filters(Some(f)).send().await?;
            Ok(out.addresses().iter().filter_map(|v| v.allocation_id().map(String::from)).collect())
        })
        .await
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = c
            .ec2
            .allocate_address()
            .domain(aws_sdk_ec2::types::DomainType::Vpc)
            .tag_specifications(tag_spec(ResourceType::ElasticIp, p))
            .send()
            .await?;
        Ok(Observed {
            id: out.allocation_id().unwrap_or_default().into(),
            properties: p.clone(),
            attributes: Props::new(),
        })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let out = c.ec2.describe_addresses().filters(id_filter("allocation-id", ids)).send().await?;
        let mut found = BTreeMap::new();
        for a in out.addresses() {
            let id = a.allocation_id().unwrap_or_default().to_string();
            let properties = obj(&[("tags", tags_of(a.tags()))]);
            let attributes =
                obj(&[("id", json!(id)), ("allocation_id", json!(id)), ("public_ip", json!(a.public_ip()))]);
            found.insert(id.clone(), Observed { id, properties, attributes });
        }
        Ok(in_order(ids, found))
    }

    async fn update(
        &self,
        _c: &Call<'_>,
        _id: &str,
        _old: &Props,
        _new: &Props,
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.ec2.release_address().allocation_id(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- NAT gateway

pub static NAT_GATEWAY: TypeSchema = TypeSchema {
    name: "aws.ec2.nat_gateway",
    doc: "A NAT gateway in a public subnet, giving private subnets a route out.",
    props: &[
        Prop::new("subnet_id", PropKind::Str).required().replace(),
        Prop::new("allocation_id", PropKind::Str).replace(),
        Prop::new("connectivity_type", PropKind::Enum(&["public", "private"])).replace().default("\"public\""),
        TAGS,
    ],
    attrs: &["id", "public_ip"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Generated,
    arn: None,
    normalize: None,
    timeouts: crate::schema::Timeouts::minutes(15, 10, 15),
    stateful: false,
    check: None,
};

pub struct NatGateway;

async fn describe_nat(c: &Call<'_>, ids: &[String]) -> Result<Vec<aws_sdk_ec2::types::NatGateway>, ProviderError> {
    let out = c.ec2.describe_nat_gateways().filter(id_filter("nat-gateway-id", ids)).send().await?;
    Ok(out.nat_gateways().to_vec())
}

#[async_trait]
impl AwsResource for NatGateway {
    fn reads_many_at_once(&self) -> bool {
        true
    }
    async fn find_owned(&self, c: &Call<'_>, p: &Props) -> Result<Vec<String>, ProviderError> {
        owned(p, |f| async move {
            let out = c.ec2.describe_nat_gateways().set_filter(Some(f)).send().await?;
            let live = |n: &&aws_sdk_ec2::types::NatGateway| {
                !matches!(n.state().map(|s| s.as_str()), Some("deleted" | "deleting" | "failed"))
            };
            Ok(out.nat_gateways().iter().filter(live).filter_map(|v| v.nat_gateway_id().map(String::from)).collect())
        })
        .await
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = c
            .ec2
            .create_nat_gateway()
            .subnet_id(str_prop(p, "subnet_id").unwrap_or_default())
            .set_allocation_id(str_prop(p, "allocation_id").map(String::from))
            .connectivity_type(aws_sdk_ec2::types::ConnectivityType::from(
                str_prop(p, "connectivity_type").unwrap_or("public"),
            ))
            .tag_specifications(tag_spec(ResourceType::Natgateway, p))
            .send()
            .await?;
        let id = out.nat_gateway().and_then(|n| n.nat_gateway_id()).unwrap_or_default().to_string();
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut found = BTreeMap::new();
        for n in describe_nat(c, ids).await? {
            let state = n.state().map(|s| s.as_str()).unwrap_or_default();
            // Only the final state counts as gone: a delete waits through `deleting`.
            if state == "deleted" || state == "failed" {
                continue;
            }
            let id = n.nat_gateway_id().unwrap_or_default().to_string();
            let addr = n.nat_gateway_addresses().first();
            let properties = obj(&[
                ("subnet_id", json!(n.subnet_id())),
                ("allocation_id", json!(addr.and_then(|a| a.allocation_id()))),
                ("connectivity_type", json!(n.connectivity_type().map(|t| t.as_str()).unwrap_or("public"))),
                ("tags", tags_of(n.tags())),
            ]);
            let attributes = obj(&[("id", json!(id)), ("public_ip", json!(addr.and_then(|a| a.public_ip())))]);
            found.insert(id.clone(), Observed { id, properties, attributes });
        }
        Ok(in_order(ids, found))
    }

    async fn update(
        &self,
        _c: &Call<'_>,
        _id: &str,
        _old: &Props,
        _new: &Props,
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.ec2.delete_nat_gateway().nat_gateway_id(id).send().await?;
        Ok(())
    }

    fn polls_many_at_once(&self) -> bool {
        true
    }
    async fn ready_many(
        &self,
        c: &Call<'_>,
        ids: &[String],
    ) -> Result<Vec<crate::provider::lifecycle::Polled>, ProviderError> {
        let found = describe_nat(c, ids).await?;
        Ok(each_ready(
            ids,
            &found,
            |n| n.nat_gateway_id(),
            |n| match n.state().map(|s| s.as_str()) {
                Some("available") => Readiness::Ready,
                Some("failed") => Readiness::Failed(n.failure_message().unwrap_or("failed").to_string()),
                Some(s) => Readiness::Pending(s.to_string()),
                None => Readiness::Pending("not visible yet".into()),
            },
            // Its read needs more than this describe: read back after.
            |_| None,
        ))
    }
}

// ---------------------------------------------------------------- Instance (bastion)

pub static INSTANCE: TypeSchema = TypeSchema {
    name: "aws.ec2.instance",
    doc: "An EC2 instance, e.g. the bastion host for admin access.",
    props: &[
        Prop::new("ami", PropKind::Str).required().replace(),
        Prop::new("instance_type", PropKind::Str).required().replace(),
        Prop::new("subnet_id", PropKind::Str).required().replace(),
        Prop::new("security_group_ids", PropKind::Set(&PropKind::Str)),
        Prop::new("key_name", PropKind::Str).replace(),
        Prop::new("associate_public_ip_address", PropKind::Bool).replace(),
        TAGS,
    ],
    attrs: &["id", "private_ip", "public_ip"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Generated,
    arn: None,
    normalize: None,
    timeouts: crate::schema::Timeouts::minutes(15, 15, 20),
    stateful: false,
    check: None,
};

pub struct Instance;

async fn describe_instances(c: &Call<'_>, ids: &[String]) -> Result<Vec<aws_sdk_ec2::types::Instance>, ProviderError> {
    let out = c.ec2.describe_instances().filters(id_filter("instance-id", ids)).send().await?;
    Ok(out.reservations().iter().flat_map(|r| r.instances()).cloned().collect())
}

fn instance_state(i: &aws_sdk_ec2::types::Instance) -> &str {
    i.state().and_then(|s| s.name()).map(|n| n.as_str()).unwrap_or("unknown")
}

#[async_trait]
impl AwsResource for Instance {
    fn reads_many_at_once(&self) -> bool {
        true
    }
    async fn find_owned(&self, c: &Call<'_>, p: &Props) -> Result<Vec<String>, ProviderError> {
        owned(p, |f| async move {
            let out = c.ec2.describe_instances().set_filters(Some(f)).send().await?;
            Ok(out
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
                .filter(|i| !matches!(instance_state(i), "terminated" | "shutting-down"))
                .filter_map(|i| i.instance_id().map(String::from))
                .collect())
        })
        .await
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let mut req = c
            .ec2
            .run_instances()
            .image_id(str_prop(p, "ami").unwrap_or_default())
            .instance_type(aws_sdk_ec2::types::InstanceType::from(str_prop(p, "instance_type").unwrap_or_default()))
            .min_count(1)
            .max_count(1)
            .set_key_name(str_prop(p, "key_name").map(String::from))
            .tag_specifications(tag_spec(ResourceType::Instance, p));
        let groups = strings(p.get("security_group_ids"));
        let subnet = str_prop(p, "subnet_id").unwrap_or_default().to_string();
        match bool_prop(p, "associate_public_ip_address") {
            Some(public) => {
                let nic = aws_sdk_ec2::types::InstanceNetworkInterfaceSpecification::builder()
                    .device_index(0)
                    .subnet_id(subnet)
                    .associate_public_ip_address(public)
                    .set_groups(Some(groups))
                    .build();
                req = req.network_interfaces(nic);
            }
            None => req = req.subnet_id(subnet).set_security_group_ids(Some(groups)),
        }
        let out = req.send().await?;
        let id = out.instances().first().and_then(|i| i.instance_id()).unwrap_or_default().to_string();
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut found = BTreeMap::new();
        for i in describe_instances(c, ids).await? {
            if instance_state(&i) == "terminated" {
                continue;
            }
            let id = i.instance_id().unwrap_or_default().to_string();
            let groups: Vec<&str> = i.security_groups().iter().filter_map(|g| g.group_id()).collect();
            let properties = obj(&[
                ("ami", json!(i.image_id())),
                ("instance_type", json!(i.instance_type().map(|t| t.as_str()))),
                ("subnet_id", json!(i.subnet_id())),
                ("security_group_ids", json!(groups)),
                ("key_name", json!(i.key_name())),
                ("tags", tags_of(i.tags())),
            ]);
            let attributes = obj(&[
                ("id", json!(id)),
                ("private_ip", json!(i.private_ip_address())),
                ("public_ip", json!(i.public_ip_address())),
            ]);
            found.insert(id.clone(), Observed { id, properties, attributes });
        }
        Ok(in_order(ids, found))
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        _old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError> {
        if has(changed, "security_group_ids") {
            c.ec2
                .modify_instance_attribute()
                .instance_id(id)
                .set_groups(Some(strings(new.get("security_group_ids"))))
                .send()
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.ec2.terminate_instances().instance_ids(id).send().await?;
        Ok(())
    }

    fn polls_many_at_once(&self) -> bool {
        true
    }
    async fn ready_many(
        &self,
        c: &Call<'_>,
        ids: &[String],
    ) -> Result<Vec<crate::provider::lifecycle::Polled>, ProviderError> {
        let found = describe_instances(c, ids).await?;
        Ok(each_ready(
            ids,
            &found,
            |i| i.instance_id(),
            |i| match instance_state(i) {
                "running" => Readiness::Ready,
                s @ ("terminated" | "stopped") => Readiness::Failed(s.to_string()),
                s => Readiness::Pending(s.to_string()),
            },
            |_| None,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_normalize_the_same_whether_merged_or_split() {
        let written = json!([
            {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/16", "10.1.0.0/16"]},
            {"protocol": "all", "from_port": 0, "to_port": 0, "source_security_group_ids": ["sg-1"]},
        ]);
        let read = json!([
            {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.1.0.0/16"]},
            {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/16"]},
            {"protocol": "all", "source_security_group_ids": ["sg-1"]},
        ]);
        assert_eq!(normalize_rules("ingress", &written), normalize_rules("ingress", &read));
        assert_eq!(normalize_rules("ingress", &written).as_array().unwrap().len(), 3);
    }
}

// ---------------------------------------------------------------- VPC endpoint

/// Gateway endpoints take route tables only; interface endpoints take subnets and
/// security groups, and private DNS.
fn check_endpoint(k: &Known) -> Vec<Finding> {
    let mut out = Vec::new();
    let kind = k.get("vpc_endpoint_type").and_then(Value::as_str).unwrap_or("Gateway");
    let given = |p: &str| k.get(p).is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty()));
    if kind == "Gateway" {
        for p in ["subnet_ids", "security_group_ids"] {
            if given(p) {
                out.push(Finding::new(
                    p,
                    format!("a Gateway endpoint takes no `{p}`"),
                    "give `route_table_ids`, or make it `vpc_endpoint_type: Interface`",
                ));
            }
        }
        if k.get("private_dns_enabled").and_then(Value::as_bool) == Some(true) {
            out.push(Finding::new("private_dns_enabled", "a Gateway endpoint has no private DNS", "remove it"));
        }
    } else if given("route_table_ids") {
        out.push(Finding::new(
            "route_table_ids",
            "an Interface endpoint takes no route tables",
            "give `subnet_ids` and `security_group_ids`",
        ));
    }
    if let Some(s) = k.get("service_name").and_then(Value::as_str) {
        if !s.starts_with("com.amazonaws.") && !s.starts_with("com.amazon.") && !s.starts_with("aws.") {
            out.push(Finding::new(
                "service_name",
                format!("`{s}` is not an endpoint service name"),
                "write it as AWS names it, e.g. `com.amazonaws.us-east-1.s3`",
            ));
        }
    }
    out
}

pub static VPC_ENDPOINT: TypeSchema = TypeSchema {
    name: "aws.ec2.vpc_endpoint",
    doc: "A VPC endpoint: a Gateway endpoint for S3 (or DynamoDB) in route tables, so Glue and Lambda reach S3 without a NAT gateway; or an Interface endpoint (Secrets Manager, Glue, STS, …) in private subnets, with private DNS.",
    props: &[
        Prop::new("vpc_id", PropKind::Str).required().replace(),
        Prop::new("service_name", PropKind::Str).required().replace(),
        Prop::new("vpc_endpoint_type", PropKind::Enum(&["Gateway", "Interface"])).default("\"Gateway\"").replace(),
        Prop::new("route_table_ids", PropKind::Set(&PropKind::Str)).default("[]"),
        Prop::new("subnet_ids", PropKind::Set(&PropKind::Str)).default("[]"),
        Prop::new("security_group_ids", PropKind::Set(&PropKind::Str)).default("[]"),
        Prop::new("private_dns_enabled", PropKind::Bool).default("false"),
        Prop::new("policy", PropKind::Json),
        TAGS,
    ],
    attrs: &["id", "dns_names"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Generated,
    arn: None,
    normalize: None,
    timeouts: crate::schema::Timeouts::minutes(10, 10, 10),
    stateful: false,
    check: Some(check_endpoint),
};

pub struct VpcEndpoint;

async fn describe_endpoints(
    c: &Call<'_>,
    ids: &[String],
) -> Result<Vec<aws_sdk_ec2::types::VpcEndpoint>, ProviderError> {
    let out = c.ec2.describe_vpc_endpoints().filters(id_filter("vpc-endpoint-id", ids)).send().await?;
    Ok(out.vpc_endpoints().to_vec())
}

fn endpoint_gone(e: &aws_sdk_ec2::types::VpcEndpoint) -> bool {
    matches!(e.state().map(|s| s.as_str().to_ascii_lowercase()).as_deref(), Some("deleted" | "rejected" | "failed"))
}

#[async_trait]
impl AwsResource for VpcEndpoint {
    fn reads_many_at_once(&self) -> bool {
        true
    }

    async fn find_owned(&self, c: &Call<'_>, p: &Props) -> Result<Vec<String>, ProviderError> {
        owned(p, |f| async move {
            let out = c.ec2.describe_vpc_endpoints().set_filters(Some(f)).send().await?;
            Ok(out
                .vpc_endpoints()
                .iter()
                .filter(|e| !endpoint_gone(e))
                .filter_map(|e| e.vpc_endpoint_id().map(String::from))
                .collect())
        })
        .await
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let interface = str_prop(p, "vpc_endpoint_type") == Some("Interface");
        let out = c
            .ec2
            .create_vpc_endpoint()
            .vpc_id(str_prop(p, "vpc_id").unwrap_or_default())
            .service_name(str_prop(p, "service_name").unwrap_or_default())
            .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::from(
                str_prop(p, "vpc_endpoint_type").unwrap_or("Gateway"),
            ))
            .set_route_table_ids(Some(super::strings(p.get("route_table_ids"))).filter(|v| !v.is_empty()))
            .set_subnet_ids(Some(super::strings(p.get("subnet_ids"))).filter(|v| !v.is_empty()))
            .set_security_group_ids(Some(super::strings(p.get("security_group_ids"))).filter(|v| !v.is_empty()))
            .set_private_dns_enabled(
                interface.then(|| p.get("private_dns_enabled").and_then(Value::as_bool) == Some(true)),
            )
            .set_policy_document(p.get("policy").map(super::text))
            .tag_specifications(tag_spec(ResourceType::VpcEndpoint, p))
            .send()
            .await?;
        let id = out.vpc_endpoint().and_then(|e| e.vpc_endpoint_id()).unwrap_or_default().to_string();
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut found = BTreeMap::new();
        for e in describe_endpoints(c, ids).await? {
            if endpoint_gone(&e) {
                continue;
            }
            let id = e.vpc_endpoint_id().unwrap_or_default().to_string();
            let groups: Vec<&str> = e.groups().iter().filter_map(|g| g.group_id()).collect();
            let mut properties = obj(&[
                ("vpc_id", json!(e.vpc_id())),
                ("service_name", json!(e.service_name())),
                ("vpc_endpoint_type", json!(e.vpc_endpoint_type().map(|t| t.as_str()).unwrap_or("Gateway"))),
                ("route_table_ids", json!(e.route_table_ids())),
                ("subnet_ids", json!(e.subnet_ids())),
                ("security_group_ids", json!(groups)),
                ("private_dns_enabled", json!(e.private_dns_enabled().unwrap_or(false))),
                ("tags", tags_of(e.tags())),
            ]);
            if let Some(doc) = e.policy_document() {
                properties.insert("policy".into(), serde_json::from_str(doc).unwrap_or(json!(doc)));
            }
            let dns: Vec<&str> = e.dns_entries().iter().filter_map(|d| d.dns_name()).collect();
            let attributes = obj(&[("id", json!(id)), ("dns_names", json!(dns))]);
            found.insert(id.clone(), Observed { id, properties, attributes });
        }
        Ok(in_order(ids, found))
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError> {
        let (add_rt, remove_rt) = super::set_change(old, new, "route_table_ids");
        let (add_sn, remove_sn) = super::set_change(old, new, "subnet_ids");
        let (add_sg, remove_sg) = super::set_change(old, new, "security_group_ids");
        let non_empty = |v: Vec<String>| Some(v).filter(|v| !v.is_empty());
        let interface = str_prop(new, "vpc_endpoint_type") == Some("Interface");
        c.ec2
            .modify_vpc_endpoint()
            .vpc_endpoint_id(id)
            .set_add_route_table_ids(non_empty(add_rt))
            .set_remove_route_table_ids(non_empty(remove_rt))
            .set_add_subnet_ids(non_empty(add_sn))
            .set_remove_subnet_ids(non_empty(remove_sn))
            .set_add_security_group_ids(non_empty(add_sg))
            .set_remove_security_group_ids(non_empty(remove_sg))
            .set_private_dns_enabled(
                (interface && changed.iter().any(|k| k == "private_dns_enabled"))
                    .then(|| new.get("private_dns_enabled").and_then(Value::as_bool) == Some(true)),
            )
            .set_policy_document(new.get("policy").map(super::text))
            .set_reset_policy(
                new.get("policy").is_none().then_some(true).filter(|_| changed.iter().any(|k| k == "policy")),
            )
            .send()
            .await?;
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.ec2.delete_vpc_endpoints().vpc_endpoint_ids(id).send().await?;
        Ok(())
    }

    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        let found = describe_endpoints(c, std::slice::from_ref(&id.to_string())).await?;
        Ok(match found.first().and_then(|e| e.state()).map(|s| s.as_str().to_ascii_lowercase()).as_deref() {
            Some("available") => Readiness::Ready,
            Some(s @ ("failed" | "rejected")) => Readiness::Failed(s.to_string()),
            Some(s) => Readiness::Pending(s.to_string()),
            None => Readiness::Pending("not visible yet".into()),
        })
    }
}
