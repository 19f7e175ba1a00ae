//! The shipped example, exactly as a user runs it: plan → apply → output → plan (no
//! changes) → destroy.

use crate::common::{tagged_ec2, Project, ROOT};

#[test]
fn quickstart_example_round_trip() {
    let p = Project::new("quickstart");
    for f in ["stacks/quickstart.yaml", "envs/local.yaml"] {
        let text = std::fs::read_to_string(format!("{ROOT}/examples/quickstart/{f}")).unwrap();
        std::fs::create_dir_all(p.path(f).parent().unwrap()).unwrap();
        std::fs::write(p.path(f), text).unwrap();
    }
    p.cb(&["validate", "-e", "local"]).ok();
    let plan = p.cb(&["plan", "-e", "local", "--detailed-exitcode"]).code(2);
    assert!(plan.stdout.contains("Plan: 6 to add, 0 to change, 0 to destroy."), "{}", plan.stdout);
    p.cb(&["apply", "-e", "local", "--auto-approve"]).ok();
    let out = p.cb(&["output", "-e", "local", "--json"]).ok();
    let outputs: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(outputs["bucket"]["value"], "quickstart-local-data");
    assert_eq!(outputs["subnet_ids"]["value"].as_array().unwrap().len(), 2);
    assert!(outputs["vpc_id"]["value"].as_str().unwrap().starts_with("vpc-"));
    let raw = p.cb(&["output", "-e", "local", "bucket"]).ok();
    assert_eq!(raw.stdout, "quickstart-local-data\n");
    p.cb(&["plan", "-e", "local", "--detailed-exitcode"]).code(0);
    let dot = p.cb(&["graph", "-e", "local"]).ok();
    assert!(dot.stdout.starts_with("digraph cloudbridge {"));
    assert!(dot.stdout.contains("\"subnet_a\" -> \"vpc\";"));
    p.cb(&["destroy", "-e", "local", "--auto-approve"]).ok();
    assert_eq!(tagged_ec2("quickstart"), Vec::<String>::new());
}
