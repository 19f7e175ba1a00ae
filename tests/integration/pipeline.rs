//! The pieces that connect one stage of a pipeline to the next, against the emulator.

use crate::common::{aws, rt, Project};

const FANOUT: &str = r#"
name: {{name}}
variables:
  tables: { type: list, default: [orders, customers] }
data:
  me: { type: aws.caller_identity }
  region: { type: aws.region }
resources:
  arrivals:
    type: aws.sns.topic
    properties: { name: "{{name}}-arrivals" }
  queue:
    type: aws.sqs.queue
    for_each: "${toset(var.tables)}"
    properties:
      name: "{{name}}-${each.key}"
      # SNS may send to the queue only for this topic (AWS delivers nothing without it).
      policy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: sns.amazonaws.com }
            Action: "sqs:SendMessage"
            Resource: "arn:aws:sqs:${data.region.name}:${data.me.account_id}:{{name}}-${each.key}"
            Condition: { ArnEquals: { "aws:SourceArn": "${arrivals.arn}" } }
  fanout:
    type: aws.sns.subscription
    for_each: "${toset(var.tables)}"
    properties:
      topic_arn: ${arrivals.arn}
      protocol: sqs
      endpoint: ${queue[each.key].arn}
      raw_message_delivery: true
      filter_policy: { table: ["${each.key}"] }
"#;

/// An SNS topic fanned out to one queue per table: each subscription delivers raw
/// messages, and only its table's (its filter policy), as the emulator shows by delivering
/// a published message; a changed filter is updated in place; destroy unsubscribes.
#[test]
fn a_topic_fans_out_to_its_queues_through_filtered_subscriptions() {
    let p = Project::new("fanout");
    p.local_env();
    p.write("stacks/main.yaml", FANOUT);
    let apply = p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert!(apply.stderr.contains("Resources: 5 added"), "{}", apply.stderr);
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("No changes."), "read back as written: {}", plan.stdout);

    let topic = p.id_of("arrivals");
    let (orders, customers) = (p.id_of(r#"queue["orders"]"#), p.id_of(r#"queue["customers"]"#));
    let received = |url: &str| {
        rt().block_on(async {
            let out = aws().sqs.receive_message().queue_url(url).max_number_of_messages(10).send().await.unwrap();
            out.messages().iter().map(|m| m.body().unwrap_or_default().to_string()).collect::<Vec<_>>()
        })
    };
    rt().block_on(async {
        let attr = |t: &str| {
            aws_sdk_sns::types::MessageAttributeValue::builder().data_type("String").string_value(t).build().unwrap()
        };
        aws()
            .sns
            .publish()
            .topic_arn(&topic)
            .message("order 42")
            .message_attributes("table", attr("orders"))
            .send()
            .await
            .unwrap();
    });
    assert_eq!(received(&orders), vec!["order 42"], "raw delivery, to the orders queue");
    assert!(received(&customers).is_empty(), "the customers queue's filter keeps the order out");

    // A changed filter is an in-place update of the subscription.
    p.write(
        "stacks/main.yaml",
        &FANOUT.replace(
            r#"filter_policy: { table: ["${each.key}"] }"#,
            r#"filter_policy: { table: ["${each.key}", all] }"#,
        ),
    );
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("Plan: 0 to add, 2 to change, 0 to destroy."), "{}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let policy = rt().block_on(async {
        let a = aws()
            .sns
            .get_subscription_attributes()
            .subscription_arn(p.id_of(r#"fanout["orders"]"#))
            .send()
            .await
            .unwrap();
        a.attributes().and_then(|m| m.get("FilterPolicy").cloned()).unwrap_or_default()
    });
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&policy).unwrap(),
        serde_json::json!({ "table": ["orders", "all"] })
    );

    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
    let left = rt().block_on(async {
        aws()
            .sns
            .list_subscriptions()
            .send()
            .await
            .unwrap()
            .subscriptions()
            .iter()
            .filter(|s| s.topic_arn() == Some(&topic))
            .count()
    });
    assert_eq!(left, 0, "destroy unsubscribes");
}
