//! A run interrupted right after a create call leaves a resource that state does not
//! know. The next apply must not create a second one: it adopts the leftover — waiting for
//! it if it is still being created — when its ownership tags say it is this stack's, and
//! refuses (AWS's duplicate error) when it is someone else's. The interrupted run had
//! written its new state first, so its lineage, in the leftover's tags, is state's.

use crate::common::{aws, rt, Project};
use aws_sdk_rds::types::Tag;

const STACK: &str = r#"
name: {{name}}
resources:
  aurora:
    type: aws.rds.cluster
    properties:
      cluster_identifier: "{{name}}-aurora"
      engine: aurora-mysql
      master_username: admin
      final_snapshot: false
  foreign:
    type: aws.rds.cluster
    properties:
      cluster_identifier: "{{name}}-foreign"
      engine: aurora-mysql
      master_username: admin
      final_snapshot: false
"#;

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

/// The state a run killed after its first create call left: new, empty, of `lineage`.
fn killed_run_state(p: &Project, stack: &str, lineage: &str) {
    p.write(
        &format!(".cloudbridge/state/{stack}/test.json"),
        &serde_json::json!({"format_version": 1, "serial": 1, "lineage": lineage, "stack": stack, "env": "test",
            "resources": [], "outputs": {}})
        .to_string(),
    );
}

#[test]
fn leftovers_of_an_interrupted_run_are_adopted_only_when_ours() {
    let p = Project::new("adopt");
    p.local_env();
    p.write("stacks/main.yaml", STACK);
    killed_run_state(&p, "adopt", "L-adopt");
    rt().block_on(async {
        let rds = &aws().rds;
        // What an interrupted apply leaves: created, tagged as ours, still creating.
        rds.create_db_cluster()
            .db_cluster_identifier("adopt-aurora")
            .engine("aurora-mysql")
            .master_username("admin")
            .manage_master_user_password(true)
            .storage_encrypted(true)
            .backup_retention_period(7)
            .deletion_protection(false)
            .tags(tag("cloudbridge:stack", "adopt"))
            .tags(tag("cloudbridge:env", "test"))
            .tags(tag("cloudbridge:address", "aurora"))
            .tags(tag("cloudbridge:lineage", "L-adopt"))
            .send()
            .await
            .unwrap();
        // Someone else's cluster with the name the stack wants.
        rds.create_db_cluster()
            .db_cluster_identifier("adopt-foreign")
            .engine("aurora-mysql")
            .master_username("admin")
            .manage_master_user_password(true)
            .send()
            .await
            .unwrap();
    });
    let run = p.cb(&["apply", "-e", "test", "--auto-approve"]).code(1);
    assert!(run.stderr.contains("aurora: Creation complete"), "ours is adopted: {}", run.stderr);
    assert!(
        run.stderr.contains("`foreign`: AlreadyExists") && run.stderr.contains("is not this stack's"),
        "a foreign one is refused: {}",
        run.stderr
    );
    let state = p.state();
    let addrs: Vec<&str> =
        state["resources"].as_array().unwrap().iter().map(|r| r["address"].as_str().unwrap()).collect();
    assert_eq!(addrs, vec!["aurora"], "only the adopted one is in state");
    assert_eq!(p.id_of("aurora"), "adopt-aurora");
    // The adopted one now carries the full tag set, and the next plan only has the foreign one to create.
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("# foreign (aws.rds.cluster) will be created"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("# aurora ("), "{}", plan.stdout);
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
    rt().block_on(async {
        assert!(
            aws().rds.describe_db_clusters().db_cluster_identifier("adopt-foreign").send().await.is_ok(),
            "never touches what is not ours"
        );
        aws()
            .rds
            .delete_db_cluster()
            .db_cluster_identifier("adopt-foreign")
            .skip_final_snapshot(true)
            .send()
            .await
            .unwrap();
    });
}

#[test]
fn unnamed_leftovers_are_found_by_their_ownership_tags() {
    use aws_sdk_ec2::types::{Filter, ResourceType, Tag as Ec2Tag, TagSpecification};
    let p = Project::new("orphans");
    p.local_env();
    p.write(
        "stacks/main.yaml",
        "name: orphans\nresources:\n  vpc:\n    type: aws.ec2.vpc\n    properties: { cidr_block: 10.91.0.0/16 }\n  subnet:\n    type: aws.ec2.subnet\n    properties: { vpc_id: \"${vpc.id}\", cidr_block: 10.91.1.0/24 }\n",
    );
    // A run killed after creating the VPC, before recording it; and another project's
    // VPC of the same stack, environment, address and CIDR block (another lineage).
    killed_run_state(&p, "orphans", "L-orphans");
    let (leftover, theirs) = rt().block_on(async {
        let tags = |addr: &str, lineage: &str| {
            TagSpecification::builder()
                .resource_type(ResourceType::Vpc)
                .tags(Ec2Tag::builder().key("cloudbridge:stack").value("orphans").build())
                .tags(Ec2Tag::builder().key("cloudbridge:env").value("test").build())
                .tags(Ec2Tag::builder().key("cloudbridge:address").value(addr).build())
                .tags(Ec2Tag::builder().key("cloudbridge:lineage").value(lineage).build())
                .build()
        };
        let vpc = |lineage: &'static str| async move {
            let v = aws()
                .ec2
                .create_vpc()
                .cidr_block("10.91.0.0/16")
                .tag_specifications(tags("vpc", lineage))
                .send()
                .await
                .unwrap();
            v.vpc().unwrap().vpc_id().unwrap().to_string()
        };
        (vpc("L-orphans").await, vpc("L-another-project").await)
    });
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert_eq!(p.id_of("vpc"), leftover, "the leftover VPC is adopted");
    let count = rt().block_on(async {
        let f = Filter::builder().name("tag:cloudbridge:stack").values("orphans").build();
        aws().ec2.describe_vpcs().filters(f).send().await.unwrap().vpcs().len()
    });
    assert_eq!(count, 2, "never a second of ours; theirs left alone");
    p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
    // Destroy deleted only what state holds: the other project's VPC is still there.
    rt().block_on(async {
        let found = aws().ec2.describe_vpcs().vpc_ids(&theirs).send().await.unwrap();
        assert_eq!(found.vpcs().len(), 1, "another project's VPC is never touched");
        aws().ec2.delete_vpc().vpc_id(&theirs).send().await.unwrap();
    });
}
