//! Bad input: every problem is reported at once with file:line:column, what is wrong and
//! a hint, with exit code 1, before any AWS call (the endpoint here is a closed port).
//! Rendered diagnostics are pinned with insta snapshots.

use crate::common::{Project, Run};

/// Validate `stack` with `env` offline; return what the user sees.
fn check(stack: &str, env: &str) -> String {
    let p = Project::new("diag");
    p.write("stacks/main.yaml", stack);
    p.write("envs/test.yaml", env);
    let run = p.cb_offline(&["validate", "-e", "test"]);
    render(&run)
}

fn render(run: &Run) -> String {
    format!("exit code: {}\n--- stdout\n{}--- stderr\n{}", run.code, run.stdout, run.stderr)
}

const ENV: &str = "stack: stacks/main.yaml\nregion: us-east-1\n";

#[test]
fn every_problem_in_a_stack_is_reported_at_once() {
    let out = check(
        r#"name: diag
variables:
  cidr: { type: string, default: 10.0.0.0/16 }
  retention: { type: number }
resources:
  vpc:
    type: aws.ec2.vpc
    properties:
      cidr_block: 10.0.0.1/16
      enable_dns_support: "yes"
      colour: blue
  subnet:
    type: aws.ec2.subnet
    properties:
      vpc_id: ${vpcc.id}
      cidr_block: ${var.cidr}
      availability_zone: ${var.zone}
  subnet2:
    type: aws.ec2.subnet
    properties:
      vpc_id: ${vpc.arnn}
  sg:
    type: aws.ec2.security_group
    properties:
      name: app
      vpc_id: ${vpc.id}
      ingress:
        - protocol: tcpp
          from_port: "80"
          cidr_blocks: [10.0.0.0/33]
  bucket:
    type: aws.s3.buckett
  subnet:
    type: aws.ec2.subnet
  role:
    type: aws.iam.role
    properties:
      name: r
      assume_role_policy: "{not json"
    depends_on: [nothing_here]
outputs:
  id:
    value: ${vpc.nope}
"#,
        ENV,
    );
    insta::assert_snapshot!(out);
}

#[test]
fn yaml_syntax_error_points_at_the_position() {
    insta::assert_snapshot!(check(
        "resources:\n  vpc:\n    type: aws.ec2.vpc\n    properties: { cidr_block: 10.0.0.0/16\n",
        ENV
    ));
}

#[test]
fn reference_cycle_prints_the_cycle() {
    let out = check(
        r#"resources:
  a:
    type: aws.ec2.security_group
    properties: { name: a, vpc_id: "${b.id}" }
  b:
    type: aws.ec2.security_group
    properties: { name: b, vpc_id: "${c.id}" }
  c:
    type: aws.ec2.security_group
    properties: { name: c, vpc_id: "${a.id}" }
"#,
        ENV,
    );
    insta::assert_snapshot!(out);
}

#[test]
fn environment_file_problems() {
    let out = check(
        "resources: {}\nvariables:\n  size: { type: number, default: 1 }\n",
        "stack: stacks/main.yaml\nregion: 42\nvariables:\n  size: large\n  colour: red\nbackend:\n  type: ftp\ncolour: blue\n",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn missing_files_are_named() {
    let p = Project::new("diag");
    p.write("envs/dev.yaml", "stack: stacks/missing.yaml\n");
    p.write("envs/prod.yaml", "stack: stacks/missing.yaml\n");
    insta::assert_snapshot!("missing_env_file", render(&p.cb_offline(&["validate", "-e", "staging"])));
    insta::assert_snapshot!("missing_stack_file", render(&p.cb_offline(&["validate", "-e", "dev"])));
}

#[test]
fn plan_and_apply_report_config_errors_before_any_aws_call() {
    let p = Project::new("diag");
    p.write("envs/test.yaml", ENV);
    p.write(
        "stacks/main.yaml",
        "resources:\n  vpc:\n    type: aws.ec2.vpc\n    properties: { cidr_block: 300.0.0.0/16 }\n",
    );
    for cmd in [
        &["plan", "-e", "test"][..],
        &["apply", "-e", "test", "--auto-approve"],
        &["destroy", "-e", "test", "--auto-approve"],
    ] {
        let run = p.cb_offline(cmd).code(1);
        assert!(
            run.stderr.contains("error: Invalid CIDR block\n  --> stacks/main.yaml:4:31"),
            "{cmd:?}: {}",
            run.stderr
        );
        run.made_no_aws_call(&format!("{cmd:?}"));
    }
    assert!(!p.path(".cloudbridge").exists(), "no state was created");
}

#[test]
fn unknown_target_is_an_error_with_a_suggestion() {
    let p = Project::new("diag");
    p.write("envs/test.yaml", ENV);
    p.write(
        "stacks/main.yaml",
        "resources:\n  vpc:\n    type: aws.ec2.vpc\n    properties: { cidr_block: 10.0.0.0/16 }\n",
    );
    let run = p.cb_offline(&["plan", "-e", "test", "--target", "vcp"]).code(1);
    assert!(run.stderr.contains("error: Unknown target"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `vpc`?"), "{}", run.stderr);
}

#[test]
fn bad_timeouts_are_reported_with_their_location() {
    let p = Project::new("diag");
    p.write("envs/test.yaml", ENV);
    p.write(
        "stacks/main.yaml",
        "resources:\n  vpc:\n    type: aws.ec2.vpc\n    properties: { cidr_block: 10.0.0.0/16 }\n    timeouts: { create: 90, update: 2d, destroy: 5m }\n",
    );
    let run = p.cb_offline(&["validate", "-e", "test"]).code(1);
    insta::assert_snapshot!(render(&run));
}
