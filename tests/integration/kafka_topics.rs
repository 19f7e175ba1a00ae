//! MSK topics through MSK's topic API, and DMS event subscriptions: made, read back,
//! changed in place where AWS can, replaced where it cannot, and never taken over.

use crate::common::{aws, rt, Project};

const TOPICS: &str = r#"
name: {{name}}
resources:
  msk:
    type: aws.msk.cluster
    properties:
      cluster_name: "{{name}}-msk"
      kafka_version: 3.6.0
      broker_count: 2
      broker_instance_type: kafka.t3.small
      client_subnets: [subnet-a, subnet-b]
  orders:
    type: aws.msk.topic
    properties:
      cluster_arn: ${msk.arn}
      name: cdc.public.orders
      partitions: 3
      replication_factor: 2
      configs: { retention.ms: "604800000" }
"#;

/// A topic of cluster `arn` as MSK describes it: partitions, replication, configs.
fn topic(arn: &str, name: &str) -> Option<(i32, i32, serde_json::Value)> {
    rt().block_on(async {
        let out = aws().kafka.describe_topic().cluster_arn(arn).topic_name(name).send().await.ok()?;
        let configs = out.configs().map(|c| aws_smithy_types::base64::decode(c).expect("base64"));
        let configs = configs.map_or(serde_json::json!({}), |c| serde_json::from_slice(&c).expect("JSON"));
        Some((out.partition_count()?, out.replication_factor()?, configs))
    })
}

#[test]
fn topics_grow_in_place_shrink_by_replacement_and_are_read_back() {
    let p = Project::new("topics");
    p.local_env();
    p.write("stacks/main.yaml", TOPICS);
    let apply = p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert!(apply.stderr.contains("Resources: 2 added"), "{}", apply.stderr);
    let msk = p.id_of("msk");
    let (parts, rf, configs) = topic(&msk, "cdc.public.orders").expect("the topic exists");
    assert_eq!((parts, rf, configs["retention.ms"].as_str()), (3, 2, Some("604800000")));
    assert_eq!(p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code, 0, "read back as written");

    // More partitions and another retention: one update, in place.
    let grown = TOPICS.replace("partitions: 3", "partitions: 6").replace("604800000", "86400000");
    p.write("stacks/main.yaml", &grown);
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let (parts, _, configs) = topic(&msk, "cdc.public.orders").expect("the topic exists");
    assert_eq!((parts, configs["retention.ms"].as_str()), (6, Some("86400000")));
    assert_eq!(p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code, 0);

    // Fewer partitions: Kafka cannot remove any, so the topic is replaced, loudly.
    p.write("stacks/main.yaml", &grown.replace("partitions: 6", "partitions: 2"));
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("Plan: 1 to add, 0 to change, 1 to destroy."), "{}", plan.stdout);
    assert!(plan.stdout.contains("# forces replacement"), "{}", plan.stdout);
    assert!(plan.stdout.contains("aws.msk.topic is stateful"), "{}", plan.stdout);

    p.write("stacks/main.yaml", &grown);
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
    assert_eq!(topic(&msk, "cdc.public.orders"), None);
}

#[test]
fn a_topic_someone_else_made_is_not_taken_over() {
    let p = Project::new("topics-taken");
    p.local_env();
    let without = TOPICS.replace("  orders:\n", "  orders:\n    count: 0\n");
    p.write("stacks/main.yaml", &without);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let msk = p.id_of("msk");
    rt().block_on(async {
        let c = aws();
        c.kafka
            .create_topic()
            .cluster_arn(&msk)
            .topic_name("cdc.public.orders")
            .partition_count(12)
            .replication_factor(2)
            .send()
            .await
            .unwrap();
    });
    p.write("stacks/main.yaml", TOPICS);
    let apply = p.cb(&["apply", "-e", "test", "--auto-approve"]);
    assert_ne!(apply.code, 0);
    assert!(apply.stderr.contains("an `aws.msk.topic` named"), "{}", apply.stderr);
    assert!(apply.stderr.contains("is not this stack's"), "{}", apply.stderr);
    assert_eq!(topic(&msk, "cdc.public.orders").map(|t| t.0), Some(12), "someone else's topic is left as it was");
    p.write("stacks/main.yaml", &without);
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}

const EVENTS: &str = r#"
name: {{name}}
resources:
  alerts:
    type: aws.sns.topic
    properties: { name: "{{name}}-alerts" }
  instance_events:
    type: aws.dms.event_subscription
    properties:
      name: "{{name}}-dms"
      sns_topic_arn: ${alerts.arn}
      source_type: replication-task
      event_categories: [failure]
"#;

#[test]
fn dms_event_subscriptions_change_in_place_and_check_their_categories() {
    let p = Project::new("dms-events");
    p.local_env();
    p.write("stacks/main.yaml", EVENTS);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let read = || {
        rt().block_on(async {
            let name = format!("{}-dms", p.name);
            let out = aws().dms.describe_event_subscriptions().subscription_name(name).send().await.unwrap();
            let s = &out.event_subscriptions_list()[0];
            (s.event_categories_list().to_vec(), s.enabled(), s.status().map(String::from))
        })
    };
    assert_eq!(read(), (vec!["failure".to_string()], true, Some("active".into())));
    assert_eq!(p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code, 0, "read back as written");

    let changed = EVENTS.replace("[failure]", "[failure, state change]\n      enabled: false");
    p.write("stacks/main.yaml", &changed);
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let (categories, enabled, _) = read();
    assert_eq!((categories.len(), enabled), (2, false));

    // A category of another source type: refused at validate, located, before any call.
    p.write("stacks/main.yaml", &EVENTS.replace("[failure]", "[failure, low storage]"));
    let v = p.cb(&["validate", "-e", "test"]);
    assert_ne!(v.code, 0);
    assert!(v.stderr.contains("`low storage` is no event category of a replication-task"), "{}", v.stderr);
    assert!(v.stderr.contains("stacks/main.yaml:"), "located: {}", v.stderr);

    p.write("stacks/main.yaml", &changed);
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}
