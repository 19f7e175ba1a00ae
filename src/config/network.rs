//! Rules across network resources that AWS would apply only half-way through an apply:
//! a subnet lies inside its VPC's CIDR block, and no two subnets of one VPC overlap.

use super::Resource;
use crate::diag::Diagnostic;
use crate::expr::Expr;
use crate::schema::{cidr_contains, cidr_range};
use serde_json::Value;

fn literal<'a>(r: &'a Resource, prop: &str) -> Option<&'a str> {
    match r.props.get(prop) {
        Some(Expr::Lit(Value::String(s))) => Some(s),
        _ => None,
    }
}

/// The VPC resource a subnet's `vpc_id` refers to (`${vpc.id}`).
fn vpc_of<'a>(subnet: &Resource, resources: &'a [Resource]) -> Option<&'a Resource> {
    let Some(Expr::Ref(r)) = subnet.props.get("vpc_id") else { return None };
    resources.iter().find(|v| v.name == r.resource && v.ty.name == "aws.ec2.vpc" && r.attr == "id")
}

pub fn check_subnets(resources: &[Resource], out: &mut Vec<Diagnostic>) {
    let subnets: Vec<&Resource> = resources.iter().filter(|r| r.ty.name == "aws.ec2.subnet").collect();
    for (i, s) in subnets.iter().enumerate() {
        let (Some(vpc), Some(text)) = (vpc_of(s, resources), literal(s, "cidr_block")) else { continue };
        let (Some(block), Some(vpc_text)) = (cidr_range(text), literal(vpc, "cidr_block")) else { continue };
        let at = s.spans.get("cidr_block").unwrap_or(&s.span);
        if let Some(vpc_block) = cidr_range(vpc_text) {
            if !cidr_contains(vpc_block, block) {
                out.push(
                    Diagnostic::error(
                        "Subnet outside its VPC",
                        format!("`{}` is {text}, which is not inside `{}`'s block {vpc_text}", s.name, vpc.name),
                    )
                    .at(at)
                    .hint(format!("give the subnet a block inside {vpc_text}")),
                );
                continue;
            }
        }
        for other in &subnets[..i] {
            let Some(other_text) = literal(other, "cidr_block") else { continue };
            let Some(other_block) = cidr_range(other_text) else { continue };
            let same_vpc = vpc_of(other, resources).is_some_and(|v| v.name == vpc.name);
            if same_vpc && (cidr_contains(other_block, block) || cidr_contains(block, other_block)) {
                out.push(
                    Diagnostic::error(
                        "Overlapping subnets",
                        format!("`{}` ({text}) overlaps `{}` ({other_text}) in VPC `{}`", s.name, other.name, vpc.name),
                    )
                    .at(at)
                    .hint("give each subnet of a VPC its own block"),
                );
            }
        }
    }
}
