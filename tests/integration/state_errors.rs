//! Bad state: a corrupt, truncated, newer-format or foreign state file stops the run with
//! a clear error and a way out, before any AWS call, and is left untouched.

use crate::common::Project;

fn project(state: &str) -> Project {
    let p = Project::new("stateerr");
    p.local_env();
    p.write(
        "stacks/main.yaml",
        "name: stateerr\nresources:\n  vpc:\n    type: aws.ec2.vpc\n    properties: { cidr_block: 10.0.0.0/16 }\n",
    );
    p.write(".cloudbridge/state/stateerr/test.json", state);
    p
}

#[test]
fn corrupt_truncated_and_newer_state_are_refused_untouched() {
    let cases = [
        ("{\"format_version\": 1, \"serial\": 3, \"lin", "is not valid state"),
        ("not json at all", "is not valid state"),
        ("{\"format_version\": 1}", "is not valid state"),
        ("{\"format_version\": 7, \"serial\": 1}", "has format version 7; this cloudbridge reads up to version 1"),
    ];
    for (text, expect) in cases {
        let p = project(text);
        for cmd in [&["plan", "-e", "test"][..], &["apply", "-e", "test", "--auto-approve"], &["output", "-e", "test"]]
        {
            let run = p.cb_offline(cmd).code(1);
            assert!(run.stderr.contains(expect), "{cmd:?} on {text:?}: {}", run.stderr);
            assert!(run.stderr.contains("hint:"), "{}", run.stderr);
            run.made_no_aws_call("state error");
        }
        let after = std::fs::read_to_string(p.path(".cloudbridge/state/stateerr/test.json")).unwrap();
        assert_eq!(after, text, "the state file is left as it was");
    }
}

#[test]
fn unknown_resource_type_in_state_is_an_error() {
    let p = project(
        r#"{"format_version":1,"serial":4,"lineage":"l-1","stack":"stateerr","env":"test","resources":[
        {"address":"q","type":"aws.quantum.computer","id":"q-1","properties":{},"attributes":{},"dependencies":[]}]}"#,
    );
    let run = p.cb_offline(&["plan", "-e", "test"]).code(1);
    assert!(run.stderr.contains("Unknown resource type in state"), "{}", run.stderr);
    assert!(run.stderr.contains("`aws.quantum.computer`"), "{}", run.stderr);
}

#[test]
fn a_saved_plan_cannot_be_combined_with_stack() {
    let p = project("{\"format_version\": 1}");
    p.write("x.plan", "{}");
    let run = p.cb_offline(&["apply", p.path("x.plan").to_str().unwrap(), "--stack", "stacks/main.yaml"]).code(1);
    assert!(run.stderr.contains("`--stack` cannot be combined with a saved plan file"), "{}", run.stderr);
}

#[test]
fn a_read_only_state_file_is_refused_before_any_work() {
    use std::os::unix::fs::PermissionsExt;
    let text = r#"{"format_version":1,"serial":4,"lineage":"l-1","stack":"stateerr","env":"test","resources":[]}"#;
    let p = project(text);
    let file = p.path(".cloudbridge/state/stateerr/test.json");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
    for cmd in [&["apply", "-e", "test", "--auto-approve"][..], &["destroy", "-e", "test", "--auto-approve"]] {
        let run = p.cb_offline(cmd).code(1);
        assert!(run.stderr.contains("is read-only"), "{cmd:?}: {}", run.stderr);
        assert!(run.stderr.contains("hint: cloudbridge would replace it"), "{}", run.stderr);
        run.made_no_aws_call("read-only state");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    assert!(std::fs::metadata(&file).unwrap().permissions().readonly(), "still read-only, not replaced");
}

#[test]
fn a_mistyped_target_or_directory_is_named_before_any_aws_call() {
    let p = project(
        r#"{"format_version":1,"serial":4,"lineage":"l-1","stack":"stateerr","env":"test","resources":[
        {"address":"vpc","type":"aws.ec2.vpc","id":"vpc-1","properties":{},"attributes":{},"dependencies":[]}]}"#,
    );
    for cmd in
        [&["destroy", "-e", "test", "--target", "vcp", "--auto-approve"][..], &["plan", "-e", "test", "-target=vcp"]]
    {
        let run = p.cb_offline(cmd).code(1);
        assert!(run.stderr.contains("`--target vcp` names no resource"), "{cmd:?}: {}", run.stderr);
        assert!(run.stderr.contains("did you mean `vpc`?"), "{}", run.stderr);
        assert!(!run.stderr.contains("Refreshing"), "{}", run.stderr);
        run.made_no_aws_call("refresh");
    }
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_cloudbridge"))
        .args(["-C", "/nonexistent/project", "plan", "-e", "test"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("`-C /nonexistent/project`: there is no such directory"), "{stderr}");
}
