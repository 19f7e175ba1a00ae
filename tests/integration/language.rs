//! The stack language through the binary: variables from the command line, files and the
//! environment (with their validation), and `for_each` instances against the emulator.

use crate::common::{aws, rt, Project, Run};

fn render(run: &Run) -> String {
    format!("exit code: {}\n--- stdout\n{}--- stderr\n{}", run.code, run.stdout, run.stderr)
}

const VARS: &str = r#"
name: vars
variables:
  prefix: { type: string, default: cdc }
  delay: { type: number, default: 0, validation: { min: 0, max: 900, message: "SQS delays messages 0 to 900 seconds" } }
  tier: { type: string, default: bronze, validation: { allowed: [bronze, silver, gold] } }
  team: { type: string, default: data, validation: { pattern: "[a-z][a-z0-9-]*" } }
  queues: { type: list, default: [orders] }
resources:
  q:
    type: aws.sqs.queue
    for_each: "${toset(var.queues)}"
    properties:
      name: "${var.prefix}-${var.tier}-${each.key}"
      delay_seconds: "${var.delay}"
      tags: { team: "${var.team}" }
"#;

fn vars_project() -> Project {
    let p = Project::new("vars");
    p.write("stacks/main.yaml", VARS);
    p.write("envs/test.yaml", "stack: stacks/main.yaml\nregion: us-east-1\nvariables:\n  prefix: from-env-file\n");
    p
}

/// The queue names a plan (with empty state: no AWS call) would create.
fn planned_names(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("+ name").map(|r| r.split('"').nth(1).unwrap_or_default().to_string()))
        .collect()
}

#[test]
fn variables_come_from_the_environment_the_env_file_var_files_and_flags_in_that_order() {
    let p = vars_project();
    p.write("more.yaml", "prefix: from-var-file\nqueues: [orders, payments]\n");
    let plan = |extra: &[&str], environ: &[(&str, &str)]| {
        let mut args = vec!["plan", "-e", "test"];
        args.extend_from_slice(extra);
        let mut cmd = p.command(&args, Some("http://127.0.0.1:9"));
        for (k, v) in environ {
            cmd.env(k, v);
        }
        let run = Run::of(cmd.output().expect("run"));
        assert_eq!(run.code, 0, "{}", render(&run));
        planned_names(&run)
    };
    assert_eq!(plan(&[], &[]), vec!["from-env-file-bronze-orders"]);
    // The environment is weaker than the env file, and sets what it does not.
    assert_eq!(
        plan(&[], &[("CLOUDBRIDGE_VAR_prefix", "from-environment"), ("CLOUDBRIDGE_VAR_tier", "gold")]),
        vec!["from-env-file-gold-orders"]
    );
    assert_eq!(
        plan(&["--var-file", "more.yaml"], &[]),
        vec!["from-var-file-bronze-orders", "from-var-file-bronze-payments"]
    );
    assert_eq!(
        plan(&["--var-file", "more.yaml", "--var", "prefix=from-flag", "--var", "queues=[a, b, c]"], &[]),
        vec!["from-flag-bronze-a", "from-flag-bronze-b", "from-flag-bronze-c"]
    );
    // A variable for another stack in the environment is none of this stack's business.
    assert_eq!(plan(&[], &[("CLOUDBRIDGE_VAR_other_stacks_var", "x")]), vec!["from-env-file-bronze-orders"]);
}

#[test]
fn variable_values_are_validated_where_they_are_given() {
    let p = vars_project();
    p.write("bad.yaml", "tier: platinum\n");
    let run = p.cb_offline(&[
        "validate",
        "-e",
        "test",
        "--var",
        "delay=901",
        "--var",
        "team=Data Team",
        "--var-file",
        "bad.yaml",
        "--var",
        "colour=blue",
        "--var",
        "novalue",
    ]);
    insta::assert_snapshot!(render(&run));
}

const QUEUES: &str = r#"
name: {{name}}
variables:
  queues: { type: list, default: [orders, payments, audit] }
resources:
  dlq:
    type: aws.sqs.queue
    for_each: "${toset(var.queues)}"
    properties:
      name: "{{name}}-${each.key}-dlq"
  q:
    type: aws.sqs.queue
    for_each: "${toset(var.queues)}"
    properties:
      name: "{{name}}-${each.key}"
      redrive_policy: { deadLetterTargetArn: "${dlq[each.key].arn}", maxReceiveCount: 5 }
outputs:
  urls: { value: "${q[*].url}" }
"#;

fn queue_urls(p: &Project) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = p.resources_of(&p.name, "test", "id");
    v.sort();
    v
}

#[test]
fn adding_or_removing_a_for_each_key_touches_only_that_instance() {
    let p = Project::new("foreach");
    p.local_env();
    p.write("stacks/main.yaml", QUEUES);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let before = queue_urls(&p);
    let addresses: Vec<&str> = before.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        addresses,
        vec![
            r#"dlq["audit"]"#,
            r#"dlq["orders"]"#,
            r#"dlq["payments"]"#,
            r#"q["audit"]"#,
            r#"q["orders"]"#,
            r#"q["payments"]"#
        ]
    );
    // In AWS, the address is in the ownership tag as a value every service accepts.
    let tags = rt().block_on(async {
        let url = &before.iter().find(|(a, _)| a == r#"q["orders"]"#).unwrap().1;
        aws().sqs.list_queue_tags().queue_url(url).send().await.unwrap().tags.unwrap_or_default()
    });
    assert_eq!(tags.get("cloudbridge:address").map(String::as_str), Some("q/orders"));

    // Remove `payments`: its two queues go, nothing else changes.
    let plan = p.cb(&["plan", "-e", "test", "--var", "queues=[orders, audit]"]).ok();
    assert!(plan.stdout.contains("Plan: 0 to add, 0 to change, 2 to destroy."), "{}", plan.stdout);
    assert!(plan.stdout.contains(r#"# q["payments"] (aws.sqs.queue) will be destroyed"#), "{}", plan.stdout);
    assert!(plan.stdout.contains(r#"- resource "aws.sqs.queue" "q" {"#), "{}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve", "--var", "queues=[orders, audit]"]).ok();
    let after = queue_urls(&p);
    let kept: Vec<_> = before.iter().filter(|(a, _)| !a.contains("payments")).cloned().collect();
    assert_eq!(after, kept, "the other instances keep their queues");
    let gone = rt()
        .block_on(async { aws().sqs.get_queue_url().queue_name(format!("{}-payments", p.name)).send().await.is_err() });
    assert!(gone, "the removed key's queue is deleted");

    // Add `refunds`: two queues are created, nothing else changes.
    let plan = p.cb(&["plan", "-e", "test", "--var", "queues=[orders, audit, refunds]"]).ok();
    assert!(plan.stdout.contains("Plan: 2 to add, 0 to change, 0 to destroy."), "{}", plan.stdout);
    // `--target q` is every instance of `q` (and what they depend on).
    let targeted = p.cb(&["plan", "-e", "test", "--var", "queues=[orders, audit, refunds]", "--target", "q"]).ok();
    assert!(targeted.stdout.contains("Plan: 2 to add, 0 to change, 0 to destroy."), "{}", targeted.stdout);
    let one =
        p.cb(&["plan", "-e", "test", "--var", "queues=[orders, audit, refunds]", "--target", r#"dlq["refunds"]"#]).ok();
    assert!(one.stdout.contains("Plan: 1 to add, 0 to change, 0 to destroy."), "{}", one.stdout);
    p.cb(&["destroy", "-e", "test", "--auto-approve", "--var", "queues=[orders, audit]"]).ok();
}

/// `cloudbridge schema` is a JSON Schema an editor can use: every reference stack and env
/// file validates against it (checked with Python's `jsonschema`, from the emulator's
/// pinned venv), and a misspelt property does not.
#[test]
fn the_reference_stacks_and_envs_validate_against_the_json_schema() {
    use std::process::Command;
    let p = Project::reference("schema");
    let stack = p.cb_offline(&["schema"]).ok().stdout;
    let env = p.cb_offline(&["schema", "--env"]).ok().stdout;
    p.write("stack.schema.json", &stack);
    p.write("env.schema.json", &env);
    p.write("stacks/bad.yaml", "resources:\n  v:\n    type: aws.ec2.vpc\n    properties: { cidr_blok: 10.0.0.0/16 }\n");
    let root = crate::common::root();
    let python = Command::new("bash").arg(root.join("scripts/emulator-venv")).output().expect("emulator venv");
    let python = String::from_utf8_lossy(&python.stdout).trim().to_string();
    let script = r#"
import json, sys, glob, yaml, jsonschema
d = sys.argv[1]
out = []
for schema, pattern in (("stack", "stacks/*.yaml"), ("env", "envs/*.yaml")):
    s = json.load(open(f"{d}/{schema}.schema.json"))
    jsonschema.Draft7Validator.check_schema(s)
    for f in sorted(glob.glob(f"{d}/{pattern}")):
        errors = list(jsonschema.Draft7Validator(s).iter_errors(yaml.safe_load(open(f))))
        out.append(f"{f[len(d) + 1:]}: {len(errors)}")
print("\n".join(out))
"#;
    let run = Command::new(&python).arg("-c").arg(script).arg(p.dir.path()).output().expect("python");
    let text = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(run.status.success(), "{}\n{}", text, String::from_utf8_lossy(&run.stderr));
    for line in text.lines() {
        let bad = line.starts_with("stacks/bad.yaml");
        assert_eq!(line.ends_with(": 0"), !bad, "{line}");
    }
    assert!(text.lines().filter(|l| l.starts_with("stacks/")).count() >= 5, "{text}");
}

/// `assume_role:` in an env: every call for the environment's resources is made as that
/// role, in its account (the emulator, as AWS, puts what an assumed role creates in the
/// role's account); the local state stays where it is.
#[test]
fn an_env_that_assumes_a_role_works_in_that_roles_account() {
    let p = Project::new("assume");
    p.write(
        "envs/test.yaml",
        "stack: stacks/main.yaml\nregion: us-east-1\nassume_role:\n  role_arn: arn:aws:iam::333344445555:role/cloudbridge-deploy\n  session_name: cloudbridge-ci\n  external_id: ops-4711\n",
    );
    p.write(
        "stacks/main.yaml",
        "name: {{name}}\nresources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: \"{{name}}-q\" }\n",
    );
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let url = p.id_of("q");
    assert!(url.contains("/333344445555/"), "made in the role's account: {url}");
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("No changes."), "read back as the role too: {}", plan.stdout);
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();

    let bad = Project::new("assume-bad");
    bad.write(
        "envs/test.yaml",
        "stack: stacks/main.yaml\nregion: us-east-1\nassume_role:\n  role_arn: arn:aws:iam::12345:user/me\n  session_name: \"a b\"\n",
    );
    bad.write("stacks/main.yaml", "resources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: q }\n");
    insta::assert_snapshot!(render(&bad.cb_offline(&["validate", "-e", "test"])));
}

/// Data sources against the emulator: what exists outside the stack (made here through the
/// SDK) is read at plan time, shown in the plan, used by resources, and never touched.
#[test]
fn data_sources_look_up_what_the_stack_does_not_manage() {
    use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
    let p = Project::new("datasrc");
    p.local_env();
    let n = p.name.clone();
    let tagged = |rt: ResourceType, tags: &[(&str, &str)]| {
        let mut spec = TagSpecification::builder().resource_type(rt);
        for (k, v) in tags {
            spec = spec.tags(Tag::builder().key(*k).value(*v).build());
        }
        spec.build()
    };
    let (vpc, subnets, sg, role_arn, secret_arn, cluster_arn) = rt().block_on(async {
        let c = aws();
        let vpc = c.ec2.create_vpc().cidr_block("10.77.0.0/16")
            .tag_specifications(tagged(ResourceType::Vpc, &[("Name", &format!("landing-{n}"))])).send().await.unwrap();
        let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
        let mut subnets = Vec::new();
        for (i, az) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
            let s = c.ec2.create_subnet().vpc_id(&vpc).cidr_block(format!("10.77.{i}.0/24")).availability_zone(*az)
                .tag_specifications(tagged(ResourceType::Subnet, &[("tier", "private")])).send().await.unwrap();
            subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
        }
        subnets.sort();
        let sg = c.ec2.create_security_group().group_name(format!("{n}-shared")).description("shared").vpc_id(&vpc).send().await.unwrap();
        let role = c.iam.create_role().role_name(format!("{n}-existing"))
            .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"glue.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
            .send().await.unwrap();
        let secret = c.secrets.create_secret().name(format!("{n}/db")).secret_string("do-not-read-me-4711").send().await.unwrap();
        let info = aws_sdk_kafka::types::BrokerNodeGroupInfo::builder().instance_type("kafka.t3.small").set_client_subnets(Some(subnets.clone())).build();
        let cluster = c.kafka.create_cluster().cluster_name(format!("{n}-msk")).kafka_version("3.6.0").number_of_broker_nodes(2)
            .broker_node_group_info(info).send().await.unwrap();
        let arn = cluster.cluster_arn().unwrap().to_string();
        for _ in 0..20 {
            let d = c.kafka.describe_cluster().cluster_arn(&arn).send().await.unwrap();
            if d.cluster_info().and_then(|i| i.state()).map(|s| s.as_str()) == Some("ACTIVE") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        (vpc, subnets, sg.group_id().unwrap().to_string(), role.role().unwrap().arn().to_string(), secret.arn().unwrap().to_string(), arn)
    });
    p.write(
        "stacks/main.yaml",
        &format!(
            r#"name: {{{{name}}}}
data:
  vpc: {{ type: aws.ec2.vpc, filter: {{ tags: {{ Name: "landing-{{{{name}}}}" }} }} }}
  private: {{ type: aws.ec2.subnets, filter: {{ vpc_id: "${{data.vpc.id}}", tags: {{ tier: private }} }} }}
  sg: {{ type: aws.ec2.security_group, filter: {{ name: "{{{{name}}}}-shared", vpc_id: "${{data.vpc.id}}" }} }}
  role: {{ type: aws.iam.role, filter: {{ name: "{{{{name}}}}-existing" }} }}
  policy: {{ type: aws.iam.policy, filter: {{ arn: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" }} }}
  secret: {{ type: aws.secretsmanager.secret, filter: {{ name: "{{{{name}}}}/db" }} }}
  ami: {{ type: aws.ec2.ami, filter: {{ owners: [amazon], name: "amzn2-ami-hvm-*-x86_64-gp2" }} }}
  me: {{ type: aws.caller_identity }}
  region: {{ type: aws.region }}
  kafka: {{ type: aws.msk.bootstrap_brokers, filter: {{ cluster_arn: "{cluster_arn}" }} }}
resources:
  q:
    type: aws.sqs.queue
    properties:
      name: "{{{{name}}}}-q"
      tags:
        vpc: "${{data.vpc.id}}"
        subnets: "${{join(\",\", data.private.ids)}}"
        first: "${{data.private.ids[0]}}"
        sg: "${{data.sg.id}}"
        role: "${{data.role.arn}}"
        policy: "${{data.policy.name}}"
        secret: "${{data.secret.arn}}"
        ami: "${{data.ami.name}}"
        account: "${{data.me.account_id}}"
        region: "${{data.region.name}}"
        brokers: "${{data.kafka.bootstrap_brokers_tls}}"
"#
        ),
    );
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.starts_with("Data sources read (never changed or deleted):"), "{}", plan.stdout);
    assert!(
        !plan.stdout.contains("do-not-read-me") && !plan.stderr.contains("do-not-read-me"),
        "a secret's value is never read"
    );
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let tags = rt().block_on(async {
        let url = p.id_of("q");
        aws().sqs.list_queue_tags().queue_url(url).send().await.unwrap().tags.unwrap_or_default()
    });
    let tag = |k: &str| tags.get(k).cloned().unwrap_or_default();
    assert_eq!(tag("vpc"), vpc);
    assert_eq!(tag("subnets"), subnets.join(","));
    assert_eq!(tag("first"), subnets[0]);
    assert_eq!((tag("sg"), tag("role"), tag("secret")), (sg, role_arn, secret_arn));
    assert_eq!(tag("policy"), "AmazonS3ReadOnlyAccess");
    // The newest of the matching images, as EC2 lists them.
    let newest = rt().block_on(async {
        let f = aws_sdk_ec2::types::Filter::builder().name("name").values("amzn2-ami-hvm-*-x86_64-gp2").build();
        let out = aws().ec2.describe_images().owners("amazon").filters(f).send().await.unwrap();
        let mut all: Vec<(String, String)> = out
            .images()
            .iter()
            .map(|i| (i.creation_date().unwrap_or_default().to_string(), i.name().unwrap_or_default().to_string()))
            .collect();
        all.sort();
        assert!(all.len() > 1, "several match: {all:?}");
        all.pop().unwrap().1
    });
    assert_eq!(tag("ami"), newest);
    assert_eq!((tag("account").as_str(), tag("region").as_str()), ("210987654321", "us-east-1"));
    assert!(tag("brokers").contains(":9094"), "{}", tag("brokers"));
    let state = std::fs::read_to_string(p.path(&format!(".cloudbridge/state/{n}/test.json"))).unwrap();
    assert!(!state.contains("\"data."), "data sources are never in state");
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
    // Nothing looked up was touched.
    rt().block_on(async { aws().ec2.describe_vpcs().vpc_ids(&vpc).send().await.expect("the VPC is still there") });
}

/// Shell completion: bash, as a user's shell runs it — environment names after `-e`, the
/// stack's addresses after `--target` — from the project, with no AWS call.
#[test]
fn bash_completes_environments_and_addresses() {
    let p = Project::reference("complete");
    let script = p.cb_offline(&["completions", "bash"]).ok().stdout;
    p.write("complete.bash", &script);
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_cloudbridge")).parent().unwrap().to_path_buf();
    let complete = |words: &str| {
        let line = format!(
            "source ./complete.bash; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; _cloudbridge_dynamic cloudbridge \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(line)
            .current_dir(p.dir.path())
            .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .output()
            .expect("bash");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect::<Vec<_>>()
    };
    assert_eq!(complete("cloudbridge plan -e ''"), vec!["local"]);
    let addrs = complete("cloudbridge plan -e local --target 'private'");
    assert!(addrs.contains(&"private".to_string()), "the resource as a whole: {addrs:?}");
    assert!(addrs.contains(&r#"private\[\"a\"\]"#.to_string()), "each instance, quoted for the shell: {addrs:?}");
    let module = complete("cloudbridge state rm -e local 'module.source.c'");
    assert_eq!(module, vec!["module.source.cluster", r"module.source.cluster\[0\]"]);
    let flags = complete("cloudbridge plan --deta");
    assert_eq!(flags, vec!["--detailed-exitcode"], "the rest is clap's");
    for shell in ["zsh", "fish"] {
        let s = p.cb_offline(&["completions", shell]).ok().stdout;
        assert!(s.contains("cloudbridge __complete envs"), "{shell}");
    }
}

/// `fmt`: the reference stacks are formatted; a file with an unquoted `${…}` in a flow map
/// (which YAML cannot read) and keys out of order is fixed in place, comments kept, and
/// then validates; `--check` reports without writing, exit 3.
#[test]
fn fmt_keeps_the_reference_stacks_and_fixes_what_it_can() {
    let p = Project::reference("fmt");
    let clean = p.cb_offline(&["fmt", "--check"]);
    assert_eq!((clean.code, clean.stdout.as_str()), (0, ""), "{}", clean.stderr);
    p.write(
        "stacks/messy.yaml",
        "resources:\n  q:\n    properties: { name: cdc-${var.env} }  # the name\n    type: aws.sqs.queue\nvariables:\n  env: { default: dev }\n",
    );
    let check = p.cb_offline(&["fmt", "--check"]);
    assert_eq!((check.code, check.stdout.as_str()), (3, "stacks/messy.yaml\n"));
    assert!(
        std::fs::read_to_string(p.path("stacks/messy.yaml")).unwrap().contains("cdc-${var.env} }"),
        "--check writes nothing"
    );
    p.cb_offline(&["fmt"]).ok();
    assert_eq!(
        std::fs::read_to_string(p.path("stacks/messy.yaml")).unwrap(),
        "variables:\n  env: { default: dev }\nresources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: \"cdc-${var.env}\" }  # the name\n"
    );
    p.cb_offline(&["validate", "-e", "local", "--stack", "stacks/messy.yaml"]).ok();
    p.write("stacks/broken.yaml", "resources: [\n");
    let refused = p.cb_offline(&["fmt", "stacks/broken.yaml"]).code(1);
    assert!(refused.stderr.contains("stacks/broken.yaml"), "{}", refused.stderr);
    // Issue #26: a trailing comment is never quoted into a value, even after an unclosed
    // `[` in an earlier plain value; a comment that would swallow a flow map's `}` is
    // refused, located, and the file left as it is.
    let issue = "description: see a[b\nresources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      name: q\n      tags:\n        team: team-${var.env} # owned by the data team\n";
    p.write("stacks/issue.yaml", issue);
    let kept = p.cb_offline(&["fmt", "--check", "stacks/issue.yaml"]);
    assert_eq!((kept.code, kept.stdout.as_str()), (0, ""), "{}", kept.stderr);
    let swallowing = "resources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: q-${var.env} # the name }\n";
    p.write("stacks/swallow.yaml", swallowing);
    let refused = p.cb_offline(&["fmt", "stacks/swallow.yaml"]).code(1);
    assert!(refused.stderr.contains("stacks/swallow.yaml:5:1"), "{}", refused.stderr);
    assert_eq!(std::fs::read_to_string(p.path("stacks/swallow.yaml")).unwrap(), swallowing);
}

/// The new commands' mistakes: what, where, and how to fix it, before any AWS call.
#[test]
fn mistakes_with_the_discovery_and_state_commands_say_how_to_fix_them() {
    let p = Project::new("cmd-mistakes");
    p.write("envs/test.yaml", "stack: stacks/main.yaml\nregion: us-east-1\n");
    p.write(
        "stacks/main.yaml",
        "resources:\n  q:\n    type: aws.sqs.queue\n    for_each: [a]\n    properties: { name: \"q-${each.key}\" }\n",
    );
    let mut out = String::new();
    for args in [
        vec!["explain", "aws.ec2.vpcc"],
        vec!["import", "-e", "test", "q", "https://sqs/q-a"],
        vec!["import", "-e", "test", "r[\"a\"]", "x"],
        vec!["state", "rm", "-e", "test", "q[*]"],
        vec!["state", "push", "-e", "test", "missing.json"],
    ] {
        out.push_str(&format!("$ cloudbridge {}\n{}\n", args.join(" "), render(&p.cb_offline(&args))));
    }
    insta::assert_snapshot!(out);
}
