//! Plan rendering, pinned by snapshots: one plan that creates, updates in place, replaces
//! and deletes, against state made by the in-memory provider (stable IDs).

use crate::provider::memory::MemoryProvider;
use crate::state::State;
use crate::testutil::{plan_for, refreshed_plan, run, stack, MemStore};
use std::sync::Arc;

const V1: &str = r#"
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.0.0.0/16 }
  subnet:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.0.1.0/24, availability_zone: eu-west-1a }
  sg:
    type: aws.ec2.security_group
    properties:
      name: app
      vpc_id: ${vpc.id}
      ingress:
        - { protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [10.0.0.0/16] }
  old_bucket:
    type: aws.s3.bucket
    properties: { bucket: old-data }
outputs:
  subnet_id:
    value: ${subnet.id}
"#;

/// Apply `v1`, then render the plan for `v2`.
async fn check(v1: &str, v2: &str) -> String {
    let (st, g) = stack(v1);
    let mem = Arc::new(MemoryProvider::new());
    let plan = plan_for(&st, &g, &State::new("t", "test"), &[], false);
    let s = run(&plan, State::new("t", "test"), mem.clone(), &MemStore::default(), 1).await.state;
    let (st2, g2) = stack(v2);
    let plan = refreshed_plan(&st2, &g2, mem.as_ref(), &s, false).await;
    super::render(&plan)
}

#[tokio::test]
async fn renders_every_kind_of_change() {
    let start = V1.find("  old_bucket:").unwrap();
    let end = V1.find("outputs:").unwrap();
    let v2 = format!(
        "{}  new_bucket:\n    type: aws.s3.bucket\n    properties: {{ bucket: new-data, versioning: true, tags: {{ team: cdc }} }}\n{}",
        &V1[..start],
        &V1[end..]
    )
    .replace("cidr_block: 10.0.1.0/24", "cidr_block: 10.0.2.0/24")
    .replace("cidr_blocks: [10.0.0.0/16] }", "cidr_blocks: [10.0.0.0/16] }\n        - { protocol: tcp, from_port: 5432, to_port: 5432, cidr_blocks: [10.0.0.0/16] }");
    insta::assert_snapshot!(check(V1, &v2).await);
}

#[tokio::test]
async fn renders_no_changes() {
    insta::assert_snapshot!(check(V1, V1).await, @"No changes. The infrastructure matches the configuration.");
}
