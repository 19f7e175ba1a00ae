//! Data sources: read-only lookups of what exists outside the stack (a landing-zone VPC,
//! an existing role, the latest AMI), read at plan time, shown in the plan, and never
//! changed or deleted. Pure: the kinds, their filters and their attributes; the provider
//! reads them.
//!
//! ```yaml
//! data:
//!   landing_vpc: { type: aws.ec2.vpc, filter: { tags: { Name: landing-zone } } }
//!   private: { type: aws.ec2.subnets, filter: { vpc_id: "${data.landing_vpc.id}", tags: { tier: private } } }
//! ```

use crate::schema::{Prop, PropKind};

#[derive(Debug)]
pub struct DataKind {
    pub name: &'static str,
    pub doc: &'static str,
    /// What may narrow the lookup. At least one of `one_of` must be given, if it has any.
    pub filter: &'static [Prop],
    pub one_of: &'static [&'static str],
    /// What it answers.
    pub attrs: &'static [&'static str],
}

const TAGS: Prop = Prop::new("tags", PropKind::Map(&PropKind::Str));

pub const KINDS: &[DataKind] = &[
    DataKind {
        name: "aws.caller_identity",
        doc: "Who cloudbridge runs as: the account, and the caller's ARN.",
        filter: &[],
        one_of: &[],
        attrs: &["account_id", "arn", "user_id"],
    },
    DataKind { name: "aws.region", doc: "The region of the environment.", filter: &[], one_of: &[], attrs: &["name"] },
    DataKind {
        name: "aws.ec2.vpc",
        doc: "One existing VPC, by ID or by tags (exactly one must match).",
        filter: &[Prop::new("id", PropKind::Str), TAGS, Prop::new("cidr_block", PropKind::Cidr)],
        one_of: &["id", "tags", "cidr_block"],
        attrs: &["id", "cidr_block", "owner_id", "tags"],
    },
    DataKind {
        name: "aws.ec2.subnet",
        doc: "One existing subnet, by ID, or by VPC, availability zone and tags (exactly one must match).",
        filter: &[
            Prop::new("id", PropKind::Str),
            Prop::new("vpc_id", PropKind::Str),
            Prop::new("availability_zone", PropKind::Str),
            TAGS,
        ],
        one_of: &["id", "vpc_id", "availability_zone", "tags"],
        attrs: &["id", "vpc_id", "cidr_block", "availability_zone", "tags"],
    },
    DataKind {
        name: "aws.ec2.subnets",
        doc: "The existing subnets of a VPC and/or with these tags, as lists sorted by ID (none is an error).",
        filter: &[Prop::new("vpc_id", PropKind::Str), TAGS, Prop::new("availability_zone", PropKind::Str)],
        one_of: &["vpc_id", "tags"],
        attrs: &["ids", "cidr_blocks", "availability_zones"],
    },
    DataKind {
        name: "aws.ec2.security_group",
        doc: "One existing security group, by ID, or by name (and VPC) or tags (exactly one must match).",
        filter: &[
            Prop::new("id", PropKind::Str),
            Prop::new("name", PropKind::Str),
            Prop::new("vpc_id", PropKind::Str),
            TAGS,
        ],
        one_of: &["id", "name", "tags"],
        attrs: &["id", "name", "vpc_id", "arn"],
    },
    DataKind {
        name: "aws.ec2.ami",
        doc: "The newest image (by creation date) whose name matches the pattern (`*` and `?`), from these owners.",
        filter: &[
            Prop::new("owners", PropKind::List(&PropKind::Str)).required(),
            Prop::new("name", PropKind::Str).required(),
            Prop::new("architecture", PropKind::Enum(&["x86_64", "arm64"])),
        ],
        one_of: &[],
        attrs: &["id", "name", "creation_date", "owner_id"],
    },
    DataKind {
        name: "aws.iam.role",
        doc: "An existing IAM role, by name.",
        filter: &[Prop::new("name", PropKind::Str).required()],
        one_of: &[],
        attrs: &["name", "arn", "unique_id", "path"],
    },
    DataKind {
        name: "aws.iam.policy",
        doc: "An existing managed IAM policy, by ARN (an AWS managed one such as `arn:aws:iam::aws:policy/…` too).",
        filter: &[Prop::new("arn", PropKind::Str).required()],
        one_of: &[],
        attrs: &["arn", "name", "policy_id", "default_version_id"],
    },
    DataKind {
        name: "aws.secretsmanager.secret",
        doc: "An existing secret's ARN and name, by name or ARN. Never its value.",
        filter: &[Prop::new("name", PropKind::Str), Prop::new("arn", PropKind::Str)],
        one_of: &["name", "arn"],
        attrs: &["arn", "name"],
    },
    DataKind {
        name: "aws.msk.bootstrap_brokers",
        doc: "The bootstrap broker strings of an existing MSK cluster, by its ARN.",
        filter: &[Prop::new("cluster_arn", PropKind::Str).required()],
        one_of: &[],
        attrs: &[
            "bootstrap_brokers",
            "bootstrap_brokers_tls",
            "bootstrap_brokers_sasl_iam",
            "bootstrap_brokers_sasl_scram",
        ],
    },
];

pub fn lookup(name: &str) -> Option<&'static DataKind> {
    KINDS.iter().find(|k| k.name == name)
}

/// Does an AMI name match a pattern with `*` (any run) and `?` (one character)?
pub fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_ec2_name_filters_do() {
        assert!(glob("al2023-ami-*-x86_64", "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64"));
        assert!(!glob("al2023-ami-*-x86_64", "al2023-ami-2023.6-arm64"));
        assert!(glob("ubuntu-??.04*", "ubuntu-24.04-server"));
        assert!(!glob("a", "ab"));
    }
}
