//! Changes made outside cloudbridge: the next plan changes them back (or re-creates what
//! was deleted); `plan --refresh-only` shows them without proposing changes, and
//! `apply --refresh-only` accepts them into state.

use crate::common::{aws, rt, Project};
use aws_sdk_ec2::types::{IpPermission, IpRange, Tag};

const STACK: &str = r#"
name: {{name}}
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.90.0.0/16, tags: { Name: drift } }
  sg:
    type: aws.ec2.security_group
    properties:
      name: "{{name}}-sg"
      vpc_id: ${vpc.id}
      ingress: [{ protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [10.90.0.0/16] }]
  data:
    type: aws.s3.bucket
    properties: { bucket: "cb-{{name}}-data", versioning: true, force_destroy: true }
  params:
    type: aws.rds.cluster_parameter_group
    properties: { name: "{{name}}-binlog", family: aurora-mysql8.0, parameters: { binlog_format: ROW } }
  logs:
    type: aws.logs.log_group
    properties: { name: "/{{name}}/logs", retention_in_days: 7 }
"#;

#[test]
fn drift_is_shown_reverted_or_accepted() {
    let p = Project::new("drift");
    p.local_env();
    p.write("stacks/main.yaml", STACK);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let (vpc, sg) = (p.id_of("vpc"), p.id_of("sg"));
    rt().block_on(async {
        let c = aws();
        c.ec2
            .create_tags()
            .resources(&vpc)
            .tags(Tag::builder().key("Name").value("edited-by-hand").build())
            .send()
            .await
            .unwrap();
        let rule = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(22)
            .to_port(22)
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .build();
        c.ec2.authorize_security_group_ingress().group_id(&sg).ip_permissions(rule).send().await.unwrap();
        let off = aws_sdk_s3::types::VersioningConfiguration::builder()
            .status(aws_sdk_s3::types::BucketVersioningStatus::Suspended)
            .build();
        c.s3.put_bucket_versioning().bucket("cb-drift-data").versioning_configuration(off).send().await.unwrap();
        let param = aws_sdk_rds::types::Parameter::builder()
            .parameter_name("binlog_format")
            .parameter_value("MIXED")
            .apply_method(aws_sdk_rds::types::ApplyMethod::PendingReboot)
            .build();
        c.rds
            .modify_db_cluster_parameter_group()
            .db_cluster_parameter_group_name("drift-binlog")
            .parameters(param)
            .send()
            .await
            .unwrap();
        c.logs.delete_log_group().log_group_name("/drift/logs").send().await.unwrap();
    });

    // --refresh-only shows each drift and proposes nothing.
    let drift = p.cb(&["plan", "-e", "test", "--refresh-only", "--detailed-exitcode"]).code(2);
    for want in [
        "# vpc (aws.ec2.vpc) has changed",
        "\"Name\":\"edited-by-hand\"",
        "# sg (aws.ec2.security_group) has changed",
        "# data (aws.s3.bucket) has changed",
        "~ versioning = true -> false",
        "# params (aws.rds.cluster_parameter_group) has changed",
        "\"binlog_format\":\"MIXED\"",
        "# logs (aws.logs.log_group) has been deleted",
        "5 resources drifted.",
    ] {
        assert!(drift.stdout.contains(want), "missing {want:?} in:\n{}", drift.stdout);
    }
    assert!(!drift.stdout.contains("will be updated"), "refresh-only proposes no changes");

    // A normal plan changes everything back and re-creates what was deleted.
    let plan = p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(2);
    for want in [
        "# vpc (aws.ec2.vpc) will be updated in-place",
        "# sg (aws.ec2.security_group) will be updated in-place",
        "# data (aws.s3.bucket) will be updated in-place",
        "# params (aws.rds.cluster_parameter_group) will be updated in-place",
        "# logs (aws.logs.log_group) will be created",
        "Plan: 1 to add, 4 to change, 0 to destroy.",
    ] {
        assert!(plan.stdout.contains(want), "missing {want:?} in:\n{}", plan.stdout);
    }

    // apply --refresh-only accepts the drift into state, changing nothing in AWS.
    let serial = p.state()["serial"].as_u64().unwrap();
    p.cb(&["apply", "-e", "test", "--refresh-only", "--auto-approve"]).ok();
    assert_eq!(p.state()["serial"].as_u64().unwrap(), serial + 1);
    assert!(
        p.state()["resources"].as_array().unwrap().iter().all(|r| r["address"] != "logs"),
        "the deleted one left state"
    );
    p.cb(&["plan", "-e", "test", "--refresh-only", "--detailed-exitcode"]).code(0);
    rt().block_on(async {
        let v = aws().s3.get_bucket_versioning().bucket("cb-drift-data").send().await.unwrap();
        assert_eq!(v.status().map(|s| s.as_str()), Some("Suspended"), "AWS untouched");
    });

    // Then a normal apply restores the stack, and all is quiet.
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);
    rt().block_on(async {
        let g = aws().ec2.describe_security_groups().group_ids(&sg).send().await.unwrap();
        let ports: Vec<i32> = g.security_groups()[0].ip_permissions().iter().filter_map(|p| p.from_port()).collect();
        assert_eq!(ports, vec![443], "the rule added by hand was removed");
        let v = aws().s3.get_bucket_versioning().bucket("cb-drift-data").send().await.unwrap();
        assert_eq!(v.status().map(|s| s.as_str()), Some("Enabled"));
    });
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}
