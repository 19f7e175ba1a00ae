//! Nothing that is not the stack's is ever touched. AWS answers some creates of a name
//! that already exists with success (S3 `CreateBucket` in us-east-1, SNS `CreateTopic`,
//! SQS `CreateQueue` with equal attributes), so a create's own answer proves nothing: before
//! every create of a named type the lifecycle looks the name up, and refuses when what holds
//! it is not provably this stack's. Another stack's queue, topic, bucket and log group
//! survive an apply and a destroy untouched.

use crate::common::{aws, rt, Project};
use std::collections::HashMap;

const STACK: &str = r#"
name: {{name}}
resources:
  queue:
    type: aws.sqs.queue
    properties: { name: "{{name}}-orders" }
  topic:
    type: aws.sns.topic
    properties: { name: "{{name}}-events" }
  bucket:
    type: aws.s3.bucket
    properties: { bucket: "{{name}}-landing" }
  logs:
    type: aws.logs.log_group
    properties: { name: "/{{name}}/connector" }
  mine:
    type: aws.sqs.queue
    properties: { name: "{{name}}-mine" }
"#;

/// What another team made first, with its own tags.
async fn theirs(name: &str) -> String {
    let a = aws();
    let theirs = HashMap::from([("team".to_string(), "payments".to_string())]);
    let url =
        a.sqs.create_queue().queue_name(format!("{name}-orders")).set_tags(Some(theirs.clone())).send().await.unwrap();
    let tag = aws_sdk_sns::types::Tag::builder().key("team").value("payments").build().unwrap();
    a.sns.create_topic().name(format!("{name}-events")).tags(tag).send().await.unwrap();
    a.s3.create_bucket().bucket(format!("{name}-landing")).send().await.unwrap();
    a.logs.create_log_group().log_group_name(format!("/{name}/connector")).set_tags(Some(theirs)).send().await.unwrap();
    url.queue_url().unwrap().to_string()
}

#[test]
fn another_stacks_resources_are_refused_and_left_untouched() {
    let p = Project::new("takeover");
    p.local_env();
    p.write("stacks/main.yaml", STACK);
    let queue_url = rt().block_on(theirs(&p.name));

    let run = p.cb(&["apply", "-e", "test", "--auto-approve"]).code(1);
    for (address, id) in [
        ("queue", queue_url.clone()),
        ("topic", "takeover-events".to_string()),
        ("bucket", "takeover-landing".to_string()),
        ("logs", "/takeover/connector".to_string()),
    ] {
        assert!(
            run.stderr.contains(&format!("`{address}`: AlreadyExists")) && run.stderr.contains(&id),
            "`{address}` is refused, naming `{id}`: {}",
            run.stderr
        );
    }
    assert_eq!(run.stderr.matches("error: Create failed").count(), 4, "{}", run.stderr);
    assert!(run.stderr.contains("choose another name"), "says how to fix it: {}", run.stderr);
    let in_state: Vec<String> =
        p.state()["resources"].as_array().unwrap().iter().map(|r| r["address"].as_str().unwrap().to_string()).collect();
    assert_eq!(in_state, vec!["mine"], "only what it created is in state");

    // Destroy removes only what is the stack's; theirs is untouched, tags included.
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
    rt().block_on(async {
        let a = aws();
        let tags = a.sqs.list_queue_tags().queue_url(&queue_url).send().await.expect("their queue still exists");
        let tags = tags.tags().cloned().unwrap_or_default();
        assert_eq!(tags, HashMap::from([("team".to_string(), "payments".to_string())]), "never retagged");
        let topics = a.sns.list_topics().send().await.unwrap();
        let topic = topics
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn())
            .find(|t| t.ends_with(":takeover-events"))
            .expect("their topic still exists")
            .to_string();
        let ttags = a.sns.list_tags_for_resource().resource_arn(&topic).send().await.unwrap();
        assert!(ttags.tags().iter().all(|t| !t.key().starts_with("cloudbridge:")), "{ttags:?}");
        assert!(a.s3.head_bucket().bucket("takeover-landing").send().await.is_ok(), "their bucket still exists");
        let btags = a.s3.get_bucket_tagging().bucket("takeover-landing").send().await;
        assert!(btags.is_err(), "their bucket was never tagged: {btags:?}");
        let groups = a.logs.describe_log_groups().log_group_name_prefix("/takeover/connector").send().await.unwrap();
        assert_eq!(groups.log_groups().len(), 1, "their log group still exists");
    });
}
