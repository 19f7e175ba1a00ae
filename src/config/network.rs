//! Rules across network resources that AWS would apply only half-way through an apply:
//! a subnet lies inside its VPC's CIDR block, and no two subnets of one VPC overlap.
//! O(n log n): subnets are grouped by VPC and their blocks sorted. And each data path
//! over the network is open: security groups, routes between VPCs, and a way to the AWS
//! APIs a private resource calls.

use super::paths::{DataPath, Model, Placement};
use super::Resource;
use crate::cidr::{cidr_contains, cidr_range};
use crate::diag::Diagnostic;
use crate::expr::Expr;
use crate::rules::{CB101, CB102, CB103, CB104, CB105};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

fn literal<'a>(r: &'a Resource, prop: &str) -> Option<&'a str> {
    match r.props.get(prop) {
        Some(Expr::Lit(Value::String(s))) => Some(s),
        _ => None,
    }
}

pub fn check_subnets(resources: &[Resource], out: &mut Vec<Diagnostic>) {
    let vpcs: HashMap<&str, &Resource> =
        resources.iter().filter(|r| r.ty.name == "aws.ec2.vpc").map(|r| (r.name.as_str(), r)).collect();
    // Subnets with a literal block, by the VPC resource their `vpc_id` refers to.
    let mut by_vpc: BTreeMap<&str, Vec<(u32, u32, &Resource, &str)>> = BTreeMap::new();
    for s in resources.iter().filter(|r| r.ty.name == "aws.ec2.subnet") {
        let Some(Expr::Ref(r)) = s.props.get("vpc_id") else { continue };
        let (Some(vpc), Some(text)) =
            (vpcs.get(r.resource.as_str()).filter(|_| r.attr == "id"), literal(s, "cidr_block"))
        else {
            continue;
        };
        let Some((net, len)) = cidr_range(text) else { continue };
        let at = s.spans.get("cidr_block").unwrap_or(&s.span);
        if let Some(vpc_text) = literal(vpc, "cidr_block") {
            if cidr_range(vpc_text).is_some_and(|b| !cidr_contains(b, (net, len))) {
                out.push(
                    CB101
                        .finding(
                            &s.name,
                            format!("`{}` is {text}, which is not inside `{}`'s block {vpc_text}", s.name, vpc.name),
                        )
                        .at(at)
                        .hint(format!("give the subnet a block inside {vpc_text}")),
                );
                continue;
            }
        }
        by_vpc.entry(vpc.name.as_str()).or_default().push((net, len, s, text));
    }
    for (vpc, mut subnets) in by_vpc {
        // Sorted by first address (then larger block first): a block overlaps an earlier
        // one exactly when it starts before the furthest end seen so far.
        subnets.sort_by_key(|(net, len, s, _)| (*net, *len, s.span.line, s.span.col));
        let mut widest: Option<(u64, &Resource, &str)> = None;
        for (net, len, s, text) in subnets {
            let end = u64::from(net) + (1u64 << (32 - len));
            if let Some((far, other, other_text)) = widest {
                if u64::from(net) < far {
                    // Reported on the one written later, naming the other.
                    let (later, earlier, later_text, earlier_text) =
                        if (s.span.line, s.span.col) > (other.span.line, other.span.col) {
                            (s, other, text, other_text)
                        } else {
                            (other, s, other_text, text)
                        };
                    out.push(
                        CB102
                            .finding(
                                &later.name,
                                format!(
                                    "`{}` ({later_text}) overlaps `{}` ({earlier_text}) in VPC `{vpc}`",
                                    later.name, earlier.name
                                ),
                            )
                            .at(later.spans.get("cidr_block").unwrap_or(&later.span))
                            .hint("give each subnet of a VPC its own block"),
                    );
                }
            }
            if widest.is_none_or(|(far, _, _)| end > far) {
                widest = Some((end, s, text));
            }
        }
    }
}

/// One security group rule, read symbolically.
struct Rule {
    protocol: String,
    ports: Option<(u64, u64)>,
    groups: Vec<String>,
    cidrs: Vec<String>,
}

impl Rule {
    fn covers(&self, port: u16) -> bool {
        match self.protocol.as_str() {
            "all" | "-1" => true,
            "tcp" => self.ports.is_some_and(|(a, b)| a <= u64::from(port) && u64::from(port) <= b),
            _ => false,
        }
    }
}

/// A group's rules of one direction; `None` when the stack leaves them to AWS (egress
/// unset: the allow-all rule every new group has).
fn rules(m: &Model, sg: &Resource, prop: &str) -> Option<Vec<Rule>> {
    let Value::Array(items) = m.prop(sg, prop)? else { return Some(Vec::new()) };
    let strings =
        |v: Option<&Value>| -> Vec<String> { crate::iam::strings(v).into_iter().map(str::to_string).collect() };
    Some(
        items
            .iter()
            .map(|r| {
                let port = |k: &str| r.get(k).and_then(super::whole_number);
                Rule {
                    protocol: r.get("protocol").and_then(Value::as_str).unwrap_or("all").to_string(),
                    ports: port("from_port").zip(port("to_port")),
                    groups: strings(r.get("source_security_group_ids"))
                        .iter()
                        .map(|g| crate::iam::hole_ref(g).map_or_else(|| g.clone(), |(name, _)| name.to_string()))
                        .collect(),
                    cidrs: strings(r.get("cidr_blocks")),
                }
            })
            .collect(),
    )
}

/// The CIDR blocks of the given subnets, when all are literal.
fn blocks(m: &Model, subnets: &[String]) -> Option<Vec<(u32, u32)>> {
    subnets.iter().map(|s| m.get(s).and_then(|s| m.text(s, "cidr_block")).and_then(|c| cidr_range(&c))).collect()
}

/// Whether a rule lets traffic from (or to) `other` through: by group or by a CIDR block
/// containing every one of its subnets.
fn admits(rule: &Rule, other: &Placement, other_blocks: Option<&[(u32, u32)]>) -> bool {
    rule.groups.iter().any(|g| other.security_groups.contains(g))
        || rule
            .cidrs
            .iter()
            .filter_map(|c| cidr_range(c))
            .any(|c| c.1 == 0 || other_blocks.is_some_and(|b| !b.is_empty() && b.iter().all(|s| cidr_contains(c, *s))))
}

fn names(list: &[String]) -> String {
    list.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// Each data path over the network is open: the target's security groups admit the
/// source's on the port (CB103), the source's let it out (CB103), and a path between two
/// VPCs has a route (CB104); a private resource that calls an AWS API has a NAT gateway
/// or a VPC endpoint on its route (CB105). The first blocking hop is reported.
pub fn check_paths(m: &Model, paths: &[DataPath], out: &mut Vec<Diagnostic>) {
    for p in paths {
        let Some(from) = m.get(&p.from) else { continue };
        let Some(src) = m.placement(from) else { continue };
        if let Some(service) = p.api {
            check_api(m, p, from, &src, service, out);
        }
        let (Some(to), Some(port), true) = (m.get(&p.to), p.port, p.network) else { continue };
        let Some(dst) = m.placement(to) else { continue };
        if check_route(m, p, from, &src, &dst, out) {
            continue;
        }
        // Every group must be of the stack to judge; a group made elsewhere is trusted.
        let groups = |pl: &Placement| pl.security_groups.iter().map(|g| m.get(g)).collect::<Option<Vec<_>>>();
        let (Some(src_groups), Some(dst_groups)) = (groups(&src), groups(&dst)) else { continue };
        if src_groups.is_empty() || dst_groups.is_empty() {
            continue;
        }
        let (src_blocks, dst_blocks) = (blocks(m, &src.subnets), blocks(m, &dst.subnets));
        let ingress: Vec<(&Resource, Vec<Rule>)> =
            dst_groups.iter().map(|g| (*g, rules(m, g, "ingress").unwrap_or_default())).collect();
        let open =
            ingress.iter().any(|(_, rs)| rs.iter().any(|r| r.covers(port) && admits(r, &src, src_blocks.as_deref())));
        if !open {
            let (g, rs) = &ingress[0];
            let on_port: Vec<&Rule> = rs.iter().filter(|r| r.covers(port)).collect();
            let why = if on_port.is_empty() {
                format!("`{}` allows nothing on {port}", g.name)
            } else {
                let from: Vec<String> = on_port.iter().flat_map(|r| r.groups.iter().chain(&r.cidrs).cloned()).collect();
                format!("`{}` allows {port} only from {}", g.name, names(&from))
            };
            let detail = format!(
                "{} {}: `{}`'s security group {} has no path to `{}` on {port}: {why}",
                p.what,
                p.describe(),
                p.from,
                names(&src.security_groups),
                p.to
            );
            let rule = format!(
                "{{ protocol: tcp, from_port: {port}, to_port: {port}, source_security_group_ids: [\"${{{}.id}}\"] }}",
                src.security_groups[0]
            );
            out.push(blocked(g, "ingress", detail, format!("add to `{}`: `{rule}`", g.name)));
            continue;
        }
        // Egress: a group without `egress` keeps AWS's allow-all rule.
        let egress: Vec<(&Resource, Option<Vec<Rule>>)> =
            src_groups.iter().map(|g| (*g, rules(m, g, "egress"))).collect();
        let out_open = egress.iter().any(|(_, rs)| {
            rs.as_ref().is_none_or(|rs| rs.iter().any(|r| r.covers(port) && admits(r, &dst, dst_blocks.as_deref())))
        });
        if !out_open {
            let g = egress[0].0;
            let detail = format!(
                "{} {}: `{}`'s egress rules let nothing out to `{}` on {port}",
                p.what,
                p.describe(),
                g.name,
                p.to
            );
            let rule = format!(
                "{{ protocol: tcp, from_port: {port}, to_port: {port}, source_security_group_ids: [\"${{{}.id}}\"] }}",
                dst.security_groups[0]
            );
            let hint =
                format!("add to `{}`'s egress: `{rule}`, or remove `egress` to keep AWS's allow-all rule", g.name);
            out.push(blocked(g, "egress", detail, hint));
        }
    }
}

/// CB103 on security group `g`, located at its `prop` rules.
fn blocked(g: &Resource, prop: &str, detail: String, hint: String) -> Diagnostic {
    CB103.finding(&g.name, detail).at(g.spans.get(prop).unwrap_or(&g.span)).hint(hint)
}

/// The VPC (resource address) of a subnet.
fn vpc_of<'a>(m: &Model<'a>, subnet: &str) -> Option<&'a Resource> {
    m.get(subnet).and_then(|s| m.target(s, "vpc_id", &["aws.ec2.vpc"]))
}

/// The route tables of the stack associated with a subnet.
fn tables_of<'a>(m: &Model<'a>, subnet: &str) -> Vec<&'a Resource> {
    m.resources
        .iter()
        .filter(|t| t.ty.name == "aws.ec2.route_table")
        .filter(|t| m.targets(t.props.get("subnet_ids"), &["aws.ec2.subnet"]).iter().any(|s| s.name == subnet))
        .collect()
}

/// The routes of a route table: `(destination, target value)`.
fn routes(m: &Model, t: &Resource) -> Vec<(String, Value)> {
    let Some(Value::Array(rs)) = m.prop(t, "routes") else { return Vec::new() };
    rs.iter()
        .filter_map(|r| {
            let dest = r.get("destination_cidr_block")?.as_str()?.to_string();
            Some((dest, r.clone()))
        })
        .collect()
}

/// A path between subnets of two VPCs needs a route from the source's subnets to the
/// target's VPC through something other than the internet or a NAT gateway (a peering
/// connection or a transit gateway). Reported on the source subnet's route table; true
/// when reported.
fn check_route(
    m: &Model,
    p: &DataPath,
    from: &Resource,
    src: &Placement,
    dst: &Placement,
    out: &mut Vec<Diagnostic>,
) -> bool {
    if from.ty.name == "aws.redshiftserverless.workgroup"
        && m.prop(from, "enhanced_vpc_routing").and_then(|v| v.as_bool()) != Some(true)
    {
        return false;
    }
    let Some(dst_vpc) = dst.subnets.first().and_then(|s| vpc_of(m, s)) else { return false };
    let Some(dst_block) = m.text(dst_vpc, "cidr_block").and_then(|c| cidr_range(&c)) else { return false };
    for subnet in &src.subnets {
        let Some(src_vpc) = vpc_of(m, subnet) else { continue };
        if src_vpc.name == dst_vpc.name {
            continue;
        }
        let tables = tables_of(m, subnet);
        let routed = tables.iter().any(|t| {
            routes(m, t).iter().any(|(dest, r)| {
                let through = r.get("gateway_id").and_then(Value::as_str).unwrap_or_default();
                let internet = r.get("nat_gateway_id").is_some()
                    || crate::iam::hole_ref(through)
                        .is_some_and(|(g, _)| m.get(g).is_some_and(|g| g.ty.name == "aws.ec2.internet_gateway"))
                    || through.starts_with("igw-");
                !internet && cidr_range(dest).is_some_and(|d| cidr_contains(d, dst_block))
            })
        });
        if routed {
            continue;
        }
        let routing = if from.ty.name == "aws.redshiftserverless.workgroup" {
            " (enhanced VPC routing sends it through the VPC)"
        } else {
            ""
        };
        let (at, table) = match tables.first() {
            Some(t) => (t.spans.get("routes").unwrap_or(&t.span).clone(), format!("route table `{}`", t.name)),
            None => (m.get(subnet).map_or_else(|| p.span.clone(), |s| s.span.clone()), "main route table".to_string()),
        };
        let dst_text = m.text(dst_vpc, "cidr_block").unwrap_or_default();
        out.push(
            CB104
                .finding(
                    &tables.first().map_or_else(|| subnet.clone(), |t| t.name.clone()),
                    format!(
                        "{} {}{routing}: subnet `{subnet}` is in VPC `{}` and `{}` in VPC `{}` ({dst_text}), but its {table} has no route to {dst_text}",
                        p.what,
                        p.describe(),
                        src_vpc.name,
                        p.to,
                        dst_vpc.name
                    ),
                )
                .at(&at)
                .hint(format!("add a route `{{ destination_cidr_block: {dst_text}, gateway_id: <peering connection or transit gateway> }}`, or place both in one VPC")),
        );
        return true;
    }
    false
}

/// A resource in private subnets that calls an AWS API (Glue reading S3, a connector
/// reading Secrets Manager) needs a NAT gateway or a VPC endpoint for that service on
/// each subnet's route.
fn check_api(m: &Model, p: &DataPath, from: &Resource, src: &Placement, service: &str, out: &mut Vec<Diagnostic>) {
    // A Glue job runs in the subnet of its connection.
    let subnets: Vec<String> = if from.ty.name.starts_with("aws.glue.") {
        m.targets(from.props.get("connections"), &["aws.glue.connection"])
            .iter()
            .filter_map(|c| m.placement(c))
            .flat_map(|pl| pl.subnets)
            .collect()
    } else {
        src.subnets.clone()
    };
    let suffix = format!(".{service}");
    for subnet in &subnets {
        let Some(vpc) = vpc_of(m, subnet) else { continue };
        let tables = tables_of(m, subnet);
        let endpoint = m.resources.iter().filter(|e| e.ty.name == "aws.ec2.vpc_endpoint").any(|e| {
            let for_service = m.text(e, "service_name").is_some_and(|s| s.ends_with(&suffix));
            let same_vpc = m.target(e, "vpc_id", &["aws.ec2.vpc"]).is_some_and(|v| v.name == vpc.name);
            let gateway = m.text(e, "vpc_endpoint_type").as_deref() == Some("Gateway");
            let routed = if gateway {
                m.targets(e.props.get("route_table_ids"), &["aws.ec2.route_table"])
                    .iter()
                    .any(|t| tables.iter().any(|x| x.name == t.name))
            } else {
                true
            };
            for_service && same_vpc && routed
        });
        let nat = tables.iter().any(|t| {
            routes(m, t).iter().any(|(dest, r)| {
                dest == "0.0.0.0/0" && (r.get("nat_gateway_id").is_some() || r.get("gateway_id").is_some())
            })
        });
        if endpoint || nat {
            continue;
        }
        let table = tables
            .first()
            .map_or_else(|| "its VPC's main route table".to_string(), |t| format!("route table `{}`", t.name));
        let at = tables
            .first()
            .map_or_else(|| m.get(subnet).map_or_else(|| p.span.clone(), |s| s.span.clone()), |t| t.span.clone());
        out.push(
            CB105
                .finding(
                    &tables.first().map_or_else(|| subnet.clone(), |t| t.name.clone()),
                    format!(
                        "{} {}: it runs in subnet `{subnet}`, whose {table} has neither a NAT gateway nor a VPC endpoint for {service}",
                        p.what,
                        p.describe()
                    ),
                )
                .at(&at)
                .hint(format!(
                    "add an `aws.ec2.vpc_endpoint` for `com.amazonaws.<region>.{service}` ({}) in `{}`, or a `0.0.0.0/0` route to a NAT gateway",
                    if service == "s3" { "Gateway, with `route_table_ids`" } else { "Interface" },
                    vpc.name
                )),
        );
        return;
    }
}
