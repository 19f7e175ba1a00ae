//! What a refresh costs, per type, counted by the proxy: reads that AWS can batch are
//! batched (EC2 `Describe*` by IDs, log groups listed by their shared prefix, tags of many
//! resources from one call of the tagging API), so a no-op plan's calls do not grow as one
//! or two per resource. And every call passes the client-side rate limits, shown at `-v`.

use crate::common::{FaultProxy, Project};
use serde_json::json;

#[test]
fn a_no_op_plan_batches_its_reads() {
    let p = Project::new("refreshcalls");
    p.local_env();
    let (groups, queues, subnets) = (30, 12, 6);
    let mut stack = String::from(
        "name: {{name}}\nresources:\n  vpc: { type: aws.ec2.vpc, properties: { cidr_block: 10.77.0.0/16 } }\n",
    );
    for i in 0..subnets {
        stack.push_str(&format!(
            "  s{i}: {{ type: aws.ec2.subnet, properties: {{ vpc_id: \"${{vpc.id}}\", cidr_block: 10.77.{i}.0/24 }} }}\n"
        ));
    }
    for i in 0..groups {
        stack.push_str(&format!(
            "  g{i:02}: {{ type: aws.logs.log_group, properties: {{ name: \"/{{{{name}}}}/jobs/g{i:02}\", retention_in_days: 7 }} }}\n"
        ));
    }
    for i in 0..queues {
        stack.push_str(&format!(
            "  q{i:02}: {{ type: aws.sqs.queue, properties: {{ name: \"{{{{name}}}}-q{i:02}\" }} }}\n"
        ));
    }
    p.write("stacks/main.yaml", &stack);
    let proxy = FaultProxy::start();
    let applied = p.cb_via(&proxy.url, &["apply", "-e", "test", "--auto-approve", "-v"]).ok();
    // The rate limits in force are shown at -v.
    assert!(applied.stderr.contains("logs writes: at most 10 at once, then 5 requests/s"), "{}", applied.stderr);

    proxy.configure(json!({}));
    p.cb_via(&proxy.url, &["plan", "-e", "test", "--detailed-exitcode"]).code(0);
    let status = proxy.status();
    let ops = &status["ops"];
    let n = |op: &str| ops[op].as_u64().unwrap_or(0);
    eprintln!("no-op plan of {} resources: {} calls: {ops}", 1 + subnets + groups + queues, status["requests"]);
    assert_eq!(n("ec2:DescribeVpcs"), 1, "{ops}");
    assert_eq!(n("ec2:DescribeSubnets"), 1, "{subnets} subnets in one call: {ops}");
    assert_eq!(n("logs:DescribeLogGroups"), 1, "{groups} groups under one prefix are one page: {ops}");
    assert_eq!(n("logs:ListTagsForResource"), 0, "{ops}");
    assert_eq!(n("sqs:GetQueueAttributes"), queues, "SQS has no batch read of attributes: {ops}");
    assert_eq!(n("sqs:ListQueueTags"), 0, "{ops}");
    assert_eq!(n("tagging:GetResources"), 2, "the tags of the groups, then of the queues: {ops}");
    let calls = status["requests"].as_u64().unwrap();
    let resources = (1 + subnets + groups + queues) as u64;
    assert!(calls * 10 <= resources * 5, "{calls} calls for {resources} resources: {ops}");
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}
