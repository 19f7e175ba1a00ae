//! Rules across network resources that AWS would apply only half-way through an apply:
//! a subnet lies inside its VPC's CIDR block, and no two subnets of one VPC overlap.
//! O(n log n): subnets are grouped by VPC and their blocks sorted.

use super::Resource;
use crate::diag::Diagnostic;
use crate::expr::Expr;
use crate::schema::{cidr_contains, cidr_range};
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
                    Diagnostic::error(
                        "Subnet outside its VPC",
                        format!("`{}` is {text}, which is not inside `{}`'s block {vpc_text}", s.name, vpc.name),
                    )
                    .at(at)
                    .hint(format!("give the subnet a block inside {vpc_text}"))
                    .rule("CB101", &s.name),
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
                        Diagnostic::error(
                            "Overlapping subnets",
                            format!(
                                "`{}` ({later_text}) overlaps `{}` ({earlier_text}) in VPC `{vpc}`",
                                later.name, earlier.name
                            ),
                        )
                        .at(later.spans.get("cidr_block").unwrap_or(&later.span))
                        .hint("give each subnet of a VPC its own block")
                        .rule("CB102", &later.name),
                    );
                }
            }
            if widest.is_none_or(|(far, _, _)| end > far) {
                widest = Some((end, s, text));
            }
        }
    }
}
