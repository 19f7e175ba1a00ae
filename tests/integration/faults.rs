//! Faults between cloudbridge and AWS, injected by a proxy in front of the emulator
//! (`tests/emulator/faultproxy.py`):
//! - `kill -9` at every mutating call of an apply and of a destroy, right after the call
//!   took effect and before its answer arrived: the next run converges, with every
//!   resource exactly once and nothing recorded lost;
//! - throttling, 500s and lost responses on 10% of all calls during the flagship stack's
//!   apply and destroy: re-running ends with exactly the intended resources and a correct
//!   state.

use crate::common::{aws, rt, unnamed_by_address, FaultProxy, Project, Run};
use serde_json::json;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// One of each kind of identity: unnamed EC2 resources found by their tags, a KMS key
/// (unnamed, not an EC2 resource), named and tagged resources, and a Glue database that
/// cannot carry tags.
const STACK: &str = r#"
name: {{name}}
resources:
  vpc: { type: aws.ec2.vpc, properties: { cidr_block: 10.91.0.0/16 } }
  subnet:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.91.1.0/24, availability_zone: us-east-1a }
  igw: { type: aws.ec2.internet_gateway, properties: { vpc_id: "${vpc.id}" } }
  routes:
    type: aws.ec2.route_table
    properties:
      vpc_id: ${vpc.id}
      routes: [{ destination_cidr_block: 0.0.0.0/0, gateway_id: "${igw.id}" }]
      subnet_ids: ["${subnet.id}"]
  sg:
    type: aws.ec2.security_group
    properties:
      name: "{{name}}-sg"
      description: kill loop
      vpc_id: ${vpc.id}
      ingress: [{ protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [10.0.0.0/8] }]
  key: { type: aws.kms.key, properties: { description: "{{name}} key", alias: "alias/{{name}}", deletion_window_in_days: 7 } }
  bucket:
    type: aws.s3.bucket
    properties: { bucket: "{{name}}-lake", versioning: true, encryption: "aws:kms", kms_key_id: "${key.arn}", force_destroy: true }
  role:
    type: aws.iam.role
    properties:
      name: "{{name}}-role"
      assume_role_policy:
        Version: "2012-10-17"
        Statement: [{ Effect: Allow, Principal: { Service: glue.amazonaws.com }, Action: "sts:AssumeRole" }]
      inline_policies:
        read:
          Version: "2012-10-17"
          Statement: [{ Effect: Allow, Action: "s3:GetObject", Resource: "${bucket.arn}/*" }]
  logs: { type: aws.logs.log_group, properties: { name: "/{{name}}/jobs", retention_in_days: 7 } }
  secret:
    type: aws.secretsmanager.secret
    properties: { name: "{{name}}/db", generate: { length: 20 }, recovery_window_in_days: 0 }
  catalog: { type: aws.glue.database, properties: { name: "{{name}}_catalog" } }
"#;

const ADDRESSES: [&str; 11] =
    ["bucket", "catalog", "igw", "key", "logs", "role", "routes", "secret", "sg", "subnet", "vpc"];

/// Where the kill loop's state lives.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Backend {
    Local,
    /// S3, whose writes are coalesced: a kill may come between two PUTs.
    S3,
}

fn state_key(p: &Project) -> String {
    format!("{}/test.json", p.name)
}

fn state_bucket(p: &Project) -> String {
    format!("cb-{}-state", p.name)
}

fn addresses(p: &Project, backend: Backend) -> Vec<String> {
    let state: serde_json::Value = match backend {
        Backend::Local => p.state(),
        Backend::S3 => rt().block_on(async {
            let out =
                aws().s3.get_object().bucket(state_bucket(p)).key(state_key(p)).send().await.expect("state object");
            serde_json::from_slice(&out.body.collect().await.unwrap().into_bytes()).expect("state json")
        }),
    };
    let mut a: Vec<String> = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["address"].as_str().unwrap().into())
        .collect();
    a.sort();
    a
}

/// Everything applied exactly once, state complete, and a plan with nothing to do.
#[track_caller]
fn assert_applied(p: &Project, backend: Backend, proxy: &FaultProxy, context: &str) {
    assert_eq!(addresses(p, backend), ADDRESSES, "{context}: state");
    let unnamed = unnamed_by_address(&p.name, "test");
    let want: BTreeMap<String, usize> =
        ["igw", "key", "routes", "sg", "subnet", "vpc"].iter().map(|a| (a.to_string(), 1)).collect();
    assert_eq!(unnamed, want, "{context}: every unnamed resource exactly once");
    let plan = p.cb_via(&proxy.url, &["plan", "-e", "test", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{context}: converged\n{}\n{}", plan.stdout, plan.stderr);
}

/// Nothing left in the cloud or in state.
#[track_caller]
fn assert_destroyed(p: &Project, backend: Backend, context: &str) {
    assert_eq!(addresses(p, backend), Vec::<String>::new(), "{context}: state");
    assert_eq!(unnamed_by_address(&p.name, "test"), BTreeMap::new(), "{context}: unnamed leftovers");
    let n = &p.name;
    rt().block_on(async {
        let a = aws();
        assert!(a.s3.head_bucket().bucket(format!("{n}-lake")).send().await.is_err(), "{context}: bucket");
        assert!(a.iam.get_role().role_name(format!("{n}-role")).send().await.is_err(), "{context}: role");
        assert!(a.glue.get_database().name(format!("{n}_catalog")).send().await.is_err(), "{context}: glue db");
        assert!(a.secrets.describe_secret().secret_id(format!("{n}/db")).send().await.is_err(), "{context}: secret");
        let groups = a.logs.describe_log_groups().log_group_name_prefix(format!("/{n}/")).send().await.unwrap();
        assert!(groups.log_groups().is_empty(), "{context}: log group");
    });
}

/// Run `args` through the proxy, freezing at its `k`th mutating call and killing the
/// process there with SIGKILL. Returns whether the kill happened (false: the run made
/// fewer calls and finished).
fn killed_at(p: &Project, proxy: &FaultProxy, args: &[&str], k: usize) -> bool {
    proxy.configure(json!({ "freeze_at": k }));
    let mut child =
        p.command_via(&proxy.url, args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn cloudbridge");
    let deadline = Instant::now() + Duration::from_secs(120);
    let killed = loop {
        if proxy.status()["frozen"] == true {
            child.kill().expect("kill -9");
            break true;
        }
        if child.try_wait().expect("wait").is_some() {
            break false;
        }
        assert!(Instant::now() < deadline, "neither froze nor finished");
        std::thread::sleep(Duration::from_millis(10));
    };
    child.wait().expect("reap");
    proxy.configure(json!({})); // releases the frozen call; no faults from here
                                // Calls the killed run sent just before it died still land (in AWS too): let them,
                                // before the next run looks, or it races its own predecessor's last create.
    let deadline = Instant::now() + Duration::from_secs(60);
    while proxy.status()["in_flight"].as_u64() != Some(0) {
        assert!(Instant::now() < deadline, "calls of the killed run never ended");
        std::thread::sleep(Duration::from_millis(10));
    }
    killed
}

#[test]
fn kill_9_at_every_mutating_call_of_apply_and_destroy_converges() {
    kill_loop("killloop", Backend::Local);
}

/// The same with state in S3: a kill may also come while a coalesced state PUT is in
/// flight, or between two of them, with steps AWS has done and state does not hold yet.
#[test]
fn kill_9_at_every_mutating_call_converges_with_state_in_s3() {
    kill_loop("killloops3", Backend::S3);
}

fn kill_loop(name: &str, backend: Backend) {
    let p = Project::new(name);
    match backend {
        Backend::Local => p.local_env(),
        Backend::S3 => {
            p.write(
                "envs/test.yaml",
                "stack: stacks/main.yaml\nregion: us-east-1\nbackend:\n  type: s3\n  bucket: cb-{{name}}-state\n  key: '{stack}/{env}.json'\n",
            );
            p.cb(&["init", "-e", "test"]).ok();
        }
    }
    p.write("stacks/main.yaml", STACK);
    let proxy = FaultProxy::start();

    // A clean round, to count the calls.
    proxy.configure(json!({}));
    p.cb_via(&proxy.url, &["apply", "-e", "test", "--auto-approve"]).ok();
    let apply_calls = proxy.status()["mutating"].as_u64().unwrap() as usize;
    assert_applied(&p, backend, &proxy, "clean apply");
    proxy.configure(json!({}));
    p.cb_via(&proxy.url, &["destroy", "-e", "test", "--auto-approve"]).ok();
    let destroy_calls = proxy.status()["mutating"].as_u64().unwrap() as usize;
    assert_destroyed(&p, backend, "clean destroy");
    assert!(apply_calls >= ADDRESSES.len() && destroy_calls >= ADDRESSES.len(), "{apply_calls} {destroy_calls}");

    for k in 1..=apply_calls.max(destroy_calls) {
        if k <= apply_calls {
            // With state in S3 the number of PUTs follows the run's timing: a run may end
            // before its kth call, and must then have applied everything (checked below).
            let killed = killed_at(&p, &proxy, &["apply", "-e", "test", "--auto-approve"], k);
            assert!(killed || backend == Backend::S3, "apply killed at call {k}");
        }
        if backend == Backend::S3 {
            // A killed run's S3 lock outlives it (as in AWS): the next run names the holder.
            // Remove it as a user would, after reading that message.
            rt().block_on(
                aws().s3.delete_object().bucket(state_bucket(&p)).key(format!("{}.lock", state_key(&p))).send(),
            )
            .unwrap();
        }
        let resumed = p.cb_via(&proxy.url, &["apply", "-e", "test", "--auto-approve"]);
        assert_eq!(resumed.code, 0, "apply after a kill at call {k}\n{}", resumed.stderr);
        assert_applied(&p, backend, &proxy, &format!("apply killed at call {k}"));

        if k <= destroy_calls {
            let killed = killed_at(&p, &proxy, &["destroy", "-e", "test", "--auto-approve"], k);
            assert!(killed || backend == Backend::S3, "destroy killed at {k}");
        }
        if backend == Backend::S3 {
            rt().block_on(
                aws().s3.delete_object().bucket(state_bucket(&p)).key(format!("{}.lock", state_key(&p))).send(),
            )
            .unwrap();
        }
        let finished = p.cb_via(&proxy.url, &["destroy", "-e", "test", "--auto-approve"]);
        assert_eq!(finished.code, 0, "destroy after a kill at call {k}\n{}", finished.stderr);
        assert_destroyed(&p, backend, &format!("destroy killed at call {k}"));
    }
}

/// Run `args` until it succeeds, at most `tries` times.
fn until_ok(p: &Project, proxy: &FaultProxy, args: &[&str], tries: usize) -> Vec<Run> {
    let mut runs = Vec::new();
    for _ in 0..tries {
        let run = p.cb_via(&proxy.url, args);
        let ok = run.code == 0;
        runs.push(run);
        if ok {
            return runs;
        }
    }
    let last = runs.last().unwrap();
    panic!("`{}` never succeeded in {tries} runs; last:\n{}\n{}", args.join(" "), last.stdout, last.stderr);
}

fn flagship_state(p: &Project) -> Vec<(String, String)> {
    p.resources_of("cdc-flagship", "faults", "type")
}

#[test]
fn flagship_under_ten_percent_faults_ends_with_exactly_the_stack() {
    let p = Project::reference("faults-flagship");
    // The local environment under its own names, so it never meets the reference test's.
    let local = std::fs::read_to_string(p.path("envs/local.yaml")).unwrap();
    let env =
        local.replace("prefix: cdc-local", "prefix: cdc-faults").replace("environment: local", "environment: faults");
    assert_ne!(env, local);
    p.write("envs/faults.yaml", &env);
    let proxy = FaultProxy::start();

    // Apply with 10% of all calls throttled, failed with a 500, or answered never.
    proxy.configure(json!({ "rate": 0.1, "seed": 11 }));
    let runs = until_ok(&p, &proxy, &["apply", "-e", "faults", "--auto-approve"], 6);
    let injected = proxy.status()["injected"].clone();
    eprintln!("flagship apply: {} run(s), faults injected: {injected}", runs.len());
    for kind in ["throttle", "error", "lost"] {
        assert!(injected[kind].as_u64().unwrap() > 0, "no {kind} fault was injected: {injected}");
    }
    let last = runs.last().unwrap();
    assert!(last.stderr.contains("Apply complete!"), "{}", last.stderr);
    proxy.configure(json!({}));

    // Exactly the intended resources: all 57 in state, each unnamed one once in AWS.
    let state = flagship_state(&p);
    assert_eq!(state.len(), 57, "{state:?}");
    let want: BTreeMap<String, usize> = state
        .iter()
        .filter(|(_, ty)| ty.starts_with("aws.ec2.") || ty == "aws.kms.key")
        .map(|(a, _)| (cloudbridge::ownership::tag_value(a), 1))
        .collect();
    assert_eq!(want.len(), 29);
    assert_eq!(unnamed_by_address("cdc-flagship", "faults"), want, "each unnamed resource exactly once");
    rt().block_on(async {
        let msk = aws().kafka.list_clusters().cluster_name_filter("cdc-faults-msk").send().await.unwrap();
        assert_eq!(msk.cluster_info_list().len(), 1, "one MSK cluster");
    });
    let plan = p.cb_via(&proxy.url, &["plan", "-e", "faults", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "state is correct: nothing left to do\n{}\n{}", plan.stdout, plan.stderr);

    // Destroy under faults too: nothing left.
    proxy.configure(json!({ "rate": 0.1, "seed": 12 }));
    until_ok(&p, &proxy, &["destroy", "-e", "faults", "--auto-approve"], 6);
    proxy.configure(json!({}));
    assert_eq!(flagship_state(&p), Vec::<(String, String)>::new());
    assert_eq!(unnamed_by_address("cdc-flagship", "faults"), BTreeMap::new());
    rt().block_on(async {
        let msk = aws().kafka.list_clusters().cluster_name_filter("cdc-faults-msk").send().await.unwrap();
        let live: Vec<_> =
            msk.cluster_info_list().iter().filter(|c| c.state().map(|s| s.as_str()) != Some("DELETING")).collect();
        assert!(live.is_empty(), "{live:?}");
        assert!(aws().rds.describe_db_clusters().db_cluster_identifier("cdc-faults-aurora").send().await.is_err());
    });
}

/// Apply `args` with the proxy holding the first `op` call after it took effect, then
/// dropping its answer: the client sees a lost response and its SDK repeats the call.
fn lost_answer_on(p: &Project, proxy: &FaultProxy, op: &str, args: &[&str]) -> Run {
    proxy.configure(json!({ "freeze_on": op }));
    let child = p
        .command_via(&proxy.url, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cloudbridge");
    proxy.wait_frozen(op);
    proxy.configure(json!({})); // lets go of the frozen call without an answer
    Run::of(child.wait_with_output().expect("wait"))
}

/// The CIDRs of a security group's ingress rules, as AWS has them.
fn ingress_cidrs(group_id: &str) -> Vec<String> {
    rt().block_on(async {
        let out = aws().ec2.describe_security_groups().group_ids(group_id).send().await.unwrap();
        let mut cidrs: Vec<String> = out.security_groups()[0]
            .ip_permissions()
            .iter()
            .flat_map(|p| p.ip_ranges())
            .filter_map(|r| r.cidr_ip().map(String::from))
            .collect();
        cidrs.sort();
        cidrs
    })
}

/// The destinations of a route table's routes through a gateway, as AWS has them.
fn gateway_routes(table_id: &str) -> Vec<String> {
    rt().block_on(async {
        let out = aws().ec2.describe_route_tables().route_table_ids(table_id).send().await.unwrap();
        out.route_tables()[0]
            .routes()
            .iter()
            .filter(|r| r.gateway_id().is_some_and(|g| g.starts_with("igw-")))
            .filter_map(|r| r.destination_cidr_block().map(String::from))
            .collect()
    })
}

/// The subnets associated with a route table, as AWS has them.
fn associated_subnets(table_id: &str) -> Vec<String> {
    rt().block_on(async {
        let out = aws().ec2.describe_route_tables().route_table_ids(table_id).send().await.unwrap();
        out.route_tables()[0].associations().iter().filter_map(|a| a.subnet_id().map(String::from)).collect()
    })
}

#[test]
fn a_rule_route_or_association_change_whose_answer_was_lost_is_not_an_error() {
    let p = Project::new("lostrule");
    p.local_env();
    let stack = |cidrs: &str, routes: &str, subnets: &str| {
        format!(
            r#"
name: {{{{name}}}}
resources:
  vpc: {{ type: aws.ec2.vpc, properties: {{ cidr_block: 10.92.0.0/16 }} }}
  igw: {{ type: aws.ec2.internet_gateway, properties: {{ vpc_id: "${{vpc.id}}" }} }}
  subnet:
    type: aws.ec2.subnet
    properties: {{ vpc_id: "${{vpc.id}}", cidr_block: 10.92.1.0/24, availability_zone: us-east-1a }}
  routes:
    type: aws.ec2.route_table
    properties: {{ vpc_id: "${{vpc.id}}", routes: [{routes}], subnet_ids: [{subnets}] }}
  sg:
    type: aws.ec2.security_group
    properties:
      name: "{{{{name}}}}-sg"
      description: lost answers
      vpc_id: ${{vpc.id}}
      ingress: [{{ protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [{cidrs}] }}]
"#
        )
    };
    let default_route = r#"{ destination_cidr_block: 0.0.0.0/0, gateway_id: "${igw.id}" }"#;
    p.write("stacks/main.yaml", &stack("10.1.0.0/16", "", ""));
    let proxy = FaultProxy::start();
    let apply = ["apply", "-e", "test", "--auto-approve"];
    p.cb_via(&proxy.url, &apply).ok();
    let (sg, table) = (p.id_of("sg"), p.id_of("routes"));
    let converged = || p.cb_via(&proxy.url, &["plan", "-e", "test", "--detailed-exitcode"]).code(0);

    // Two rules granted at once; the repeat of the call finds them there already.
    p.write("stacks/main.yaml", &stack("10.1.0.0/16, 10.2.0.0/16, 10.3.0.0/16", "", ""));
    let run = lost_answer_on(&p, &proxy, "ec2:AuthorizeSecurityGroupIngress", &apply);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(ingress_cidrs(&sg), ["10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"]);
    converged();

    // Two revoked at once; the repeat finds them gone already.
    p.write("stacks/main.yaml", &stack("10.3.0.0/16", "", ""));
    let run = lost_answer_on(&p, &proxy, "ec2:RevokeSecurityGroupIngress", &apply);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(ingress_cidrs(&sg), ["10.3.0.0/16"]);
    converged();

    // A route added, then removed, each call's answer lost.
    p.write("stacks/main.yaml", &stack("10.3.0.0/16", default_route, ""));
    let run = lost_answer_on(&p, &proxy, "ec2:CreateRoute", &apply);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(gateway_routes(&table), ["0.0.0.0/0"]);
    converged();
    p.write("stacks/main.yaml", &stack("10.3.0.0/16", "", ""));
    let run = lost_answer_on(&p, &proxy, "ec2:DeleteRoute", &apply);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(gateway_routes(&table), Vec::<String>::new());
    converged();

    // A subnet associated, then disassociated, each call's answer lost.
    p.write("stacks/main.yaml", &stack("10.3.0.0/16", "", r#""${subnet.id}""#));
    let run = lost_answer_on(&p, &proxy, "ec2:AssociateRouteTable", &apply);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(associated_subnets(&table), [p.id_of("subnet")]);
    converged();
    p.write("stacks/main.yaml", &stack("10.3.0.0/16", "", ""));
    let run = lost_answer_on(&p, &proxy, "ec2:DisassociateRouteTable", &apply);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(associated_subnets(&table), Vec::<String>::new());
    converged();

    p.cb_via(&proxy.url, &["destroy", "-e", "test", "--auto-approve"]).ok();
}
