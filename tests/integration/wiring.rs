//! What wires one stage of a pipeline to the next — bucket notifications, Lambda functions
//! and their permissions and event sources, schedules, rules, alarms, policies — applied
//! to the emulator through the real SDK and read back from it.

use crate::common::{aws, rt, Project};

const STACK: &str = r#"
name: {{name}}
data:
  me: { type: aws.caller_identity }
  region: { type: aws.region }
resources:
  role:
    type: aws.iam.role
    properties:
      name: "{{name}}-lambda"
      assume_role_policy:
        Version: "2012-10-17"
        Statement: [{ Effect: Allow, Principal: { Service: [lambda.amazonaws.com, scheduler.amazonaws.com] }, Action: "sts:AssumeRole" }]
      policy: generated
  raw:
    type: aws.s3.bucket
    properties: { bucket: "{{name}}-raw", force_destroy: true }
  landed:
    type: aws.sqs.queue
    properties: { name: "{{name}}-landed" }
  landed_policy:
    type: aws.sqs.queue_policy
    properties:
      queue_url: ${landed.url}
      policy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: s3.amazonaws.com }
            Action: "sqs:SendMessage"
            Resource: ${landed.arn}
            Condition: { ArnEquals: { "aws:SourceArn": "${raw.arn}" } }
  alerts:
    type: aws.sns.topic
    properties: { name: "{{name}}-alerts" }
  alerts_policy:
    type: aws.sns.topic_policy
    properties:
      arn: ${alerts.arn}
      policy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: cloudwatch.amazonaws.com }
            Action: "sns:Publish"
            Resource: ${alerts.arn}
  validate:
    type: aws.lambda.function
    properties:
      function_name: "{{name}}-validate"
      role: ${role.arn}
      runtime: python3.12
      handler: handler.handler
      source: lambda/validate
      timeout: 60
      memory_size: 256
      environment: { GOOD_PREFIX: harmonized/ }
  s3_invokes_validate:
    type: aws.lambda.permission
    properties:
      function_name: ${validate.function_name}
      statement_id: s3-raw
      principal: s3.amazonaws.com
      source_arn: ${raw.arn}
      source_account: ${data.me.account_id}
  notify:
    type: aws.s3.bucket_notification
    depends_on: [s3_invokes_validate, landed_policy]
    properties:
      bucket: ${raw.bucket}
      lambda_function:
        - { lambda_function_arn: "${validate.arn}", events: ["s3:ObjectCreated:*"], filter_prefix: incoming/, filter_suffix: .csv }
      queue:
        - { queue_arn: "${landed.arn}", events: ["s3:ObjectCreated:Put"], filter_prefix: manifests/ }
  raw_policy:
    type: aws.s3.bucket_policy
    properties:
      bucket: ${raw.bucket}
      policy:
        Version: "2012-10-17"
        Statement:
          - { Sid: TlsOnly, Effect: Deny, Principal: "*", Action: "s3:*", Resource: ["${raw.arn}", "${raw.arn}/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } }
  raw_expiry:
    type: aws.s3.bucket_lifecycle
    properties:
      bucket: ${raw.bucket}
      rules:
        - { id: expire-incoming, prefix: incoming/, expiration_days: 30, transitions: [{ days: 7, storage_class: STANDARD_IA }] }
        - { id: abort-uploads, abort_incomplete_multipart_upload_days: 2 }
  every_two_minutes:
    type: aws.events.rule
    properties: { name: "{{name}}-poll", schedule_expression: rate(2 minutes) }
  poll_target:
    type: aws.events.target
    properties:
      rule: ${every_two_minutes.name}
      target_id: poller
      arn: ${validate.arn}
      input: { mode: poll }
  events_invoke_validate:
    type: aws.lambda.permission
    properties:
      function_name: ${validate.function_name}
      statement_id: events-poll
      principal: events.amazonaws.com
      source_arn: ${every_two_minutes.arn}
  nightly:
    type: aws.scheduler.schedule
    properties:
      name: "{{name}}-nightly"
      schedule_expression: cron(0 2 * * ? *)
      timezone: Europe/Berlin
      target: { arn: "${validate.arn}", role_arn: "${role.arn}", input: { mode: nightly } }
  consume:
    type: aws.lambda.event_source_mapping
    properties:
      function_name: ${validate.function_name}
      event_source_arn: ${landed.arn}
      batch_size: 5
  queue_age:
    type: aws.cloudwatch.metric_alarm
    properties:
      alarm_name: "{{name}}-landed-age"
      namespace: AWS/SQS
      metric_name: ApproximateAgeOfOldestMessage
      dimensions: { QueueName: "${landed.name}" }
      statistic: Maximum
      period: 300
      evaluation_periods: 2
      threshold: 900
      comparison_operator: GreaterThanThreshold
      alarm_actions: ["${alerts.arn}"]
      ok_actions: ["${alerts.arn}"]
"#;

const HANDLER: &str = "def handler(event, context):\n    return {\"ok\": True}\n";

/// Everything applies in dependency order (the emulator refuses a notification whose
/// targets do not let S3 in yet, as AWS does), reads back as written, and the properties
/// the pipeline depends on are what AWS holds; a changed handler re-uploads only the
/// code; destroy leaves nothing.
#[test]
fn a_landing_bucket_is_wired_to_its_lambda_queue_schedule_and_alarm() {
    let p = Project::new("wiring");
    p.local_env();
    p.write("stacks/main.yaml", STACK);
    p.write("stacks/lambda/validate/handler.py", HANDLER);
    let apply = p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert!(apply.stderr.contains("Resources: 17 added"), "{}", apply.stderr);
    let plan = p.cb(&["plan", "-e", "test", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "read back as written: {}{}", plan.stdout, plan.stderr);

    let name = p.name.clone();
    rt().block_on(async {
        let a = aws();
        let bucket = format!("{name}-raw");
        let n = a.s3.get_bucket_notification_configuration().bucket(&bucket).send().await.unwrap();
        let l = &n.lambda_function_configurations()[0];
        assert!(l.lambda_function_arn().ends_with(&format!(":function:{name}-validate")));
        let rules: Vec<(String, String)> = l
            .filter()
            .and_then(|f| f.key())
            .map(|k| k.filter_rules())
            .unwrap_or_default()
            .iter()
            .map(|r| (r.name().unwrap().as_str().to_lowercase(), r.value().unwrap().to_string()))
            .collect();
        assert_eq!(rules, [("prefix".into(), "incoming/".into()), ("suffix".into(), ".csv".into())]);
        assert_eq!(n.queue_configurations()[0].events()[0].as_str(), "s3:ObjectCreated:Put");

        let rule = a.events.describe_rule().name(format!("{name}-poll")).send().await.unwrap();
        assert_eq!(rule.schedule_expression(), Some("rate(2 minutes)"));
        let targets = a.events.list_targets_by_rule().rule(format!("{name}-poll")).send().await.unwrap();
        assert_eq!(targets.targets()[0].input(), Some(r#"{"mode":"poll"}"#));
        let s = a.scheduler.get_schedule().name(format!("{name}-nightly")).send().await.unwrap();
        assert_eq!(
            (s.schedule_expression(), s.schedule_expression_timezone()),
            (Some("cron(0 2 * * ? *)"), Some("Europe/Berlin"))
        );

        let f = a.lambda.get_function().function_name(format!("{name}-validate")).send().await.unwrap();
        let cfg = f.configuration().unwrap();
        let files = cloudbridge::files::Project::new(p.dir.path());
        let zip = cloudbridge::archive::zip_source(&files, std::path::Path::new("stacks/lambda/validate")).unwrap();
        assert_eq!(cfg.code_sha256(), Some(cloudbridge::archive::code_sha256(&zip).as_str()), "the archive uploaded");
        assert_eq!(
            cfg.environment().and_then(|e| e.variables()).and_then(|v| v.get("GOOD_PREFIX")).map(String::as_str),
            Some("harmonized/")
        );
        let policy = a.lambda.get_policy().function_name(format!("{name}-validate")).send().await.unwrap();
        assert!(policy.policy().unwrap().contains("s3-raw") && policy.policy().unwrap().contains("events-poll"));
        let mappings =
            a.lambda.list_event_source_mappings().function_name(format!("{name}-validate")).send().await.unwrap();
        assert_eq!(mappings.event_source_mappings()[0].batch_size(), Some(5));

        let alarm = a.cloudwatch.describe_alarms().alarm_names(format!("{name}-landed-age")).send().await.unwrap();
        let alarm = &alarm.metric_alarms()[0];
        assert_eq!((alarm.metric_name(), alarm.threshold()), (Some("ApproximateAgeOfOldestMessage"), Some(900.0)));
        assert!(alarm.alarm_actions()[0].ends_with(&format!(":{name}-alerts")));
        let lc = a.s3.get_bucket_lifecycle_configuration().bucket(&bucket).send().await.unwrap();
        assert_eq!(lc.rules().len(), 2);
    });

    // The archive is deterministic: the same files plan nothing; a changed one only the code.
    p.write("stacks/lambda/validate/handler.py", HANDLER);
    assert_eq!(p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code, 0);
    p.write("stacks/lambda/validate/handler.py", &HANDLER.replace("True", "False"));
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", plan.stdout);
    assert!(plan.stdout.contains("source_hash"), "{}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert_eq!(p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code, 0, "the new code read back");

    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
    rt().block_on(async {
        let a = aws();
        assert!(a.lambda.get_function().function_name(format!("{name}-validate")).send().await.is_err());
        assert!(a.events.describe_rule().name(format!("{name}-poll")).send().await.is_err());
        assert!(a.scheduler.get_schedule().name(format!("{name}-nightly")).send().await.is_err());
        let alarms = a.cloudwatch.describe_alarms().alarm_names(format!("{name}-landed-age")).send().await.unwrap();
        assert!(alarms.metric_alarms().is_empty());
    });
}

/// A bucket notification put before its target lets S3 in is refused, as AWS refuses it —
/// so a stack that orders them wrong fails here, not first in production.
#[test]
fn a_notification_to_a_function_without_permission_is_refused() {
    let p = Project::new("wiring-order");
    p.local_env();
    let stack = STACK.replace("    depends_on: [s3_invokes_validate, landed_policy]\n", "").replace(
        "      source_account: ${data.me.account_id}\n",
        "      source_account: ${data.me.account_id}\n    count: 0\n",
    );
    p.write("stacks/main.yaml", &stack);
    p.write("stacks/lambda/validate/handler.py", HANDLER);
    let apply = p.cb(&["apply", "-e", "test", "--auto-approve"]);
    assert_ne!(apply.code, 0);
    assert!(apply.stderr.contains("Unable to validate the following destination configurations"), "{}", apply.stderr);
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}

/// Mistakes in the wiring are refused at validate, located, before any AWS call: a
/// function's missing code, a schedule AWS would refuse, a service permission open to
/// any source, an S3 event that does not exist.
#[test]
fn wiring_mistakes_are_located_before_any_call() {
    let p = Project::new("wiring-mistakes");
    p.local_env();
    p.write(
        "stacks/main.yaml",
        r#"
name: {{name}}
resources:
  fn:
    type: aws.lambda.function
    properties: { function_name: f, role: "arn:aws:iam::1:role/r", runtime: python3.12, handler: h.handler, source: lambda/missing }
  poll:
    type: aws.events.rule
    properties: { name: poll, schedule_expression: rate(1 minutes) }
  open:
    type: aws.lambda.permission
    properties: { function_name: f, statement_id: s3, principal: s3.amazonaws.com }
  notify:
    type: aws.s3.bucket_notification
    properties:
      bucket: b-1234
      lambda_function: [{ lambda_function_arn: "arn:aws:lambda:us-east-1:1:function:f", events: ["s3:ObjectCreated"] }]
"#,
    );
    let out = p.cb(&["validate", "-e", "test"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    for (line, text) in [
        (9, "`rate(1 minutes)`: the unit must be minute(s), hour(s) or day(s)"),
        (12, "a service may invoke the function from any source"),
        (17, "`s3:ObjectCreated` is not an S3 event"),
    ] {
        assert!(out.stderr.contains(&format!("stacks/main.yaml:{line}:")), "line {line}: {}", out.stderr);
        assert!(out.stderr.contains(text), "{text}: {}", out.stderr);
    }
    // Files are read once the stack is otherwise valid: the function's missing code.
    let text = std::fs::read_to_string(p.path("stacks/main.yaml")).unwrap();
    p.write("stacks/main.yaml", &text[..text.find("  poll:").unwrap()]);
    let out = p.cb(&["validate", "-e", "test"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    // Located at the `source` value itself.
    assert!(out.stderr.contains("stacks/main.yaml:6:117"), "{}", out.stderr);
    assert!(out.stderr.contains("`fn` uploads `lambda/missing`, which cannot be read"), "{}", out.stderr);
}
