//! Engine tests against the in-memory provider: ordering, parallelism, partial failure,
//! replacement, destroy, and state written after every change.

use crate::plan::Action;
use crate::provider::memory::MemoryProvider;
use crate::provider::Provider;
use crate::state::State;
use crate::testutil::{plan_for, refreshed_plan, run, stack, MemStore};
use std::sync::Arc;
use std::time::Duration;

const NET: &str = r#"
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.0.0.0/16 }
  subnet:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.0.1.0/24 }
  rt:
    type: aws.ec2.route_table
    properties: { vpc_id: "${vpc.id}", subnet_ids: ["${subnet.id}"] }
  sg:
    type: aws.ec2.security_group
    properties: { name: app, vpc_id: "${vpc.id}" }
outputs:
  subnet:
    value: ${subnet.id}
"#;

fn position(calls: &[String], prefix: &str) -> usize {
    calls.iter().position(|c| c.starts_with(prefix)).unwrap_or_else(|| panic!("no call `{prefix}` in {calls:?}"))
}

#[tokio::test]
async fn creates_in_dependency_order_and_writes_state_after_each() {
    let (st, g) = stack(NET);
    let mem = Arc::new(MemoryProvider::new());
    let store = MemStore::default();
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    assert_eq!(plan.count(Action::Create), 4);
    let out = run(&plan, State::fixed("t", "test"), mem.clone(), &store, 10).await;
    assert!(out.failures.is_empty() && out.skipped.is_empty(), "{:?}", out.failures);
    let calls = mem.calls();
    assert!(position(&calls, "create aws.ec2.vpc") < position(&calls, "create aws.ec2.subnet"));
    assert!(position(&calls, "create aws.ec2.subnet") < position(&calls, "create aws.ec2.route_table"));
    // The new state first (its lineage names what the steps create), then one write per
    // resource, then one for the outputs; serials strictly increase.
    let writes = store.writes.lock().unwrap().clone();
    assert_eq!(writes.len(), 6);
    assert!(writes.windows(2).all(|w| w[1].serial == w[0].serial + 1));
    assert_eq!(writes[0].resources.len(), 0, "the new state is written before any step");
    assert_eq!(writes[1].resources.len(), 1, "the next write holds only the first resource");
    let s = out.state;
    assert_eq!(s.get("rt").unwrap().dependencies, vec!["subnet", "vpc"]);
    assert_eq!(s.outputs["subnet"].value, s.get("subnet").unwrap().id.as_str());
    // Ownership tags and the env's default tags were sent.
    let tags = &s.get("sg").unwrap().properties["tags"];
    assert_eq!(tags["cloudbridge:address"], "sg");
    assert_eq!(tags["cloudbridge:stack"], "t");
    assert_eq!(tags["cloudbridge:lineage"], s.lineage.as_str());
    assert_eq!(tags["owner"], "data-team");
    // Applied: the next plan is empty.
    let again = refreshed_plan(&st, &g, mem.as_ref(), &s, false).await;
    assert!(!again.has_changes(), "{}", crate::testutil::render(&again));
}

#[tokio::test]
async fn parallelism_is_bounded() {
    let mut yaml = String::from("resources:\n");
    for i in 0..12 {
        yaml.push_str(&format!("  b{i}:\n    type: aws.s3.bucket\n    properties: {{ bucket: b-{i} }}\n"));
    }
    let (st, g) = stack(&yaml);
    let mem = Arc::new(MemoryProvider::new());
    mem.set_delay(Duration::from_millis(20));
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    let out = run(&plan, State::fixed("t", "test"), mem.clone(), &MemStore::default(), 3).await;
    assert_eq!(out.state.resources.len(), 12);
    assert_eq!(mem.max_in_flight(), 3, "independent resources run in parallel, at most --parallelism at once");
}

#[tokio::test]
async fn a_failure_stops_only_its_dependents() {
    let (st, g) = stack(NET);
    let mem = Arc::new(MemoryProvider::new());
    mem.fail_create("subnet", "InvalidSubnet.Conflict", "The CIDR '10.0.1.0/24' conflicts with another subnet");
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    let out = run(&plan, State::fixed("t", "test"), mem.clone(), &MemStore::default(), 10).await;
    assert_eq!(out.failures.len(), 1);
    assert_eq!(out.failures[0].address, "subnet");
    assert_eq!(out.failures[0].error.code, "InvalidSubnet.Conflict");
    assert_eq!(out.skipped, vec![("rt".to_string(), "subnet".to_string())]);
    let addrs: Vec<&str> = out.state.resources.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(addrs, vec!["sg", "vpc"], "the independent branch completed and is recorded");
    assert!(!out.state.outputs.contains_key("subnet"), "an output that cannot be known is not recorded");
}

#[tokio::test]
async fn replacement_cascades_and_destroys_before_creating() {
    let (st, g) = stack(NET);
    let mem = Arc::new(MemoryProvider::new());
    let store = MemStore::default();
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    let s = run(&plan, State::fixed("t", "test"), mem.clone(), &store, 10).await.state;
    let (st2, g2) = stack(&NET.replace("10.0.0.0/16", "10.9.0.0/16").replace("10.0.1.0/24", "10.9.1.0/24"));
    let plan = refreshed_plan(&st2, &g2, mem.as_ref(), &s, false).await;
    let actions: Vec<(&str, Action)> = plan.changes.iter().map(|c| (c.address.as_str(), c.action)).collect();
    assert_eq!(
        actions,
        vec![("rt", Action::Replace), ("sg", Action::Replace), ("subnet", Action::Replace), ("vpc", Action::Replace)]
    );
    assert_eq!(plan.change("vpc").unwrap().replace_because, vec!["cidr_block"]);
    assert_eq!(plan.change("sg").unwrap().replace_because, vec!["vpc_id"], "an unknown new ID forces replacement");
    let before = mem.calls().len();
    let out = run(&plan, s.clone(), mem.clone(), &store, 10).await;
    assert!(out.failures.is_empty());
    let calls = mem.calls()[before..].to_vec();
    let old_vpc = &s.get("vpc").unwrap().id;
    assert!(position(&calls, "delete aws.ec2.subnet") < position(&calls, &format!("delete aws.ec2.vpc {old_vpc}")));
    assert!(position(&calls, "delete aws.ec2.vpc") < position(&calls, "create aws.ec2.vpc"));
    assert_eq!(mem.live().len(), 4, "exactly the intended resources exist: {:?}", mem.live());
    assert_ne!(out.state.get("vpc").unwrap().id, *old_vpc);
}

#[tokio::test]
async fn destroy_runs_in_reverse_dependency_order() {
    let (st, g) = stack(NET);
    let mem = Arc::new(MemoryProvider::new());
    let store = MemStore::default();
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    let s = run(&plan, State::fixed("t", "test"), mem.clone(), &store, 10).await.state;
    let plan = refreshed_plan(&st, &g, mem.as_ref(), &s, true).await;
    assert_eq!(plan.count(Action::Delete), 4);
    let before = mem.calls().len();
    let out = run(&plan, s, mem.clone(), &store, 10).await;
    let calls = mem.calls()[before..].to_vec();
    assert!(position(&calls, "delete aws.ec2.route_table") < position(&calls, "delete aws.ec2.subnet"));
    assert!(position(&calls, "delete aws.ec2.subnet") < position(&calls, "delete aws.ec2.vpc"));
    assert!(position(&calls, "delete aws.ec2.security_group") < position(&calls, "delete aws.ec2.vpc"));
    assert!(out.state.resources.is_empty() && out.state.outputs.is_empty());
    assert!(mem.live().is_empty());
}

#[tokio::test]
async fn a_state_write_failure_stops_scheduling() {
    let (st, g) = stack(NET);
    let mem = Arc::new(MemoryProvider::new());
    let store = MemStore::default();
    // The new state's own write, then the first step's.
    *store.fail_after.lock().unwrap() = Some(2);
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    let out = run(&plan, State::fixed("t", "test"), mem.clone(), &store, 1).await;
    assert!(out.state_error.is_some());
    assert_eq!(mem.live().len(), 2, "the step in flight finished, nothing new started: {:?}", mem.live());
    assert!(out.skipped.iter().all(|(_, why)| why == "state could not be written"));
}

#[tokio::test]
async fn targets_include_dependencies_only() {
    let (st, g) = stack(NET);
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &["subnet".to_string()], false);
    let addrs: Vec<&str> = plan.changes.iter().map(|c| c.address.as_str()).collect();
    assert_eq!(addrs, vec!["subnet", "vpc"]);
}

#[tokio::test]
async fn drift_is_planned_back_to_the_stack() {
    let (st, g) = stack(NET);
    let mem = Arc::new(MemoryProvider::new());
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    let s = run(&plan, State::fixed("t", "test"), mem.clone(), &MemStore::default(), 10).await.state;
    mem.tamper("vpc", "enable_dns_support", serde_json::json!(false));
    mem.remove("sg");
    let plan = refreshed_plan(&st, &g, mem.as_ref() as &dyn Provider, &s, false).await;
    assert_eq!(plan.change("vpc").unwrap().action, Action::Update);
    assert_eq!(plan.change("vpc").unwrap().changed, vec!["enable_dns_support"]);
    assert_eq!(plan.change("sg").unwrap().action, Action::Create, "deleted outside cloudbridge: created again");
}

#[tokio::test]
async fn a_resource_that_timed_out_is_recorded_and_waited_for_not_created_again() {
    let (st, g) = stack(NET);
    let mem = Arc::new(MemoryProvider::new());
    mem.never_ready("vpc");
    let store = MemStore::default();
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    let out = run(&plan, State::fixed("t", "test"), mem.clone(), &store, 10).await;
    assert_eq!(out.failures[0].error.code, "WaitTimeout");
    let vpc = out.state.get("vpc").expect("the created VPC is in state");
    assert_eq!(vpc.pending.as_deref(), Some("create"));
    assert_eq!(out.skipped.len(), 3, "its dependents wait");

    // The next plan waits for it (an update with nothing to change), then creates the rest.
    let plan = refreshed_plan(&st, &g, mem.as_ref(), &out.state, false).await;
    let c = plan.change("vpc").unwrap();
    assert_eq!((c.action, c.pending, c.changed.len()), (Action::Update, true, 0));
    assert!(crate::testutil::render(&plan).contains("apply waits until it is ready"));
    let out = run(&plan, out.state, mem.clone(), &store, 10).await;
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.state.get("vpc").unwrap().pending, None);
    let vpcs = mem.live().iter().filter(|(t, _)| t == "aws.ec2.vpc").count();
    assert_eq!(vpcs, 1, "never created twice");
    assert_eq!(mem.live().len(), 4);
}

#[tokio::test]
async fn skips_propagate_transitively_with_the_real_cause() {
    // a_sg → subnet → vpc: `a_sg` comes first in plan order but depends only on `subnet`.
    let (st, g) = stack(
        r#"
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.0.0.0/16 }
  subnet:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.0.1.0/24 }
  a_sg:
    type: aws.ec2.security_group
    properties: { name: "sg-${subnet.id}", vpc_id: "${subnet.vpc_id}" }
"#,
    );
    let mem = Arc::new(MemoryProvider::new());
    mem.fail_create("vpc", "VpcLimitExceeded", "The maximum number of VPCs has been reached.");
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    let out = run(&plan, State::fixed("t", "test"), mem.clone(), &MemStore::default(), 10).await;
    let mut skipped = out.skipped.clone();
    skipped.sort();
    assert_eq!(skipped, vec![("a_sg".to_string(), "subnet".to_string()), ("subnet".to_string(), "vpc".to_string())]);
}

#[tokio::test]
async fn in_flight_operations_are_reported_with_their_status() {
    use crate::engine::{apply, ApplyOptions, InFlight, Progress};
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Vec<InFlight>>>);
    impl Progress for Recorder {
        fn line(&self, _: &str) {}
        fn in_flight(&self, items: &[InFlight]) {
            self.0.lock().unwrap().push(items.to_vec());
        }
    }
    let (st, g) = stack("resources:\n  a:\n    type: aws.s3.bucket\n    properties: { bucket: bucket-a }\n  b:\n    type: aws.s3.bucket\n    properties: { bucket: bucket-b }\n");
    let mem = Arc::new(MemoryProvider::new());
    mem.set_delay(Duration::from_millis(120));
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    let rec = Recorder::default();
    let opts = ApplyOptions {
        catalog: crate::testutil::catalog(),
        parallelism: 10,
        heartbeat: Duration::from_millis(30),
        poll: Default::default(),
        interrupt: Default::default(),
    };
    let out = apply(&plan, State::fixed("t", "test"), mem.clone(), &MemStore::default(), &opts, &rec).await;
    assert!(out.failures.is_empty());
    let beats = rec.0.lock().unwrap();
    assert!(!beats.is_empty(), "long operations are reported while they run");
    let first: Vec<&str> = beats[0].iter().map(|i| i.address.as_str()).collect();
    assert_eq!(first, vec!["a", "b"]);
    assert!(beats.iter().all(|b| b.iter().all(|i| i.kind == crate::engine::StepKind::Create)));
}

#[tokio::test]
async fn a_panicking_step_is_blamed_on_itself() {
    use crate::provider::faulty::{Fault, Faulty, Op};
    use crate::provider::memory::MemoryCloud;
    use crate::provider::Lifecycle;
    // `subnet` panics at once while `sg` (planned before it) is still creating: the failure
    // is the subnet's, and the security group completes and is recorded.
    let (st, g) = stack(NET);
    let cloud = Faulty::new(MemoryCloud::default()).at_type(Op::Create, "aws.ec2.subnet", 1, Fault::Panic);
    cloud.set_delay(Duration::from_millis(100));
    let provider = Arc::new(Lifecycle::over(cloud));
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    let out = run(&plan, State::fixed("t", "test"), provider.clone(), &MemStore::default(), 10).await;
    let failed: Vec<&str> = out.failures.iter().map(|f| f.address.as_str()).collect();
    assert_eq!(failed, vec!["subnet"], "{:?}", out.failures);
    assert!(out.failures[0].error.message.contains("panicked"), "{}", out.failures[0].error);
    assert!(out.state.get("sg").is_some(), "the step running beside it completed and was recorded");
    assert_eq!(out.skipped, vec![("rt".to_string(), "subnet".to_string())]);
}

#[tokio::test]
async fn a_change_of_a_type_this_build_does_not_know_is_left_out_without_reordering_the_rest() {
    // A saved plan from a newer cloudbridge may name a type this one lacks: its step is
    // left out, and the others still run in dependency order.
    let (st, g) = stack(NET);
    let mut plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    let mut unknown = plan.changes[0].clone();
    unknown.address = "aaa_newer".into();
    unknown.ty = "aws.newer.thing".into();
    unknown.dependencies = Vec::new();
    plan.changes.insert(0, unknown);
    let mem = Arc::new(MemoryProvider::new());
    let out = run(&plan, State::fixed("t", "test"), mem.clone(), &MemStore::default(), 10).await;
    assert!(out.failures.is_empty() && out.skipped.is_empty(), "{:?} {:?}", out.failures, out.skipped);
    let calls = mem.calls();
    assert!(position(&calls, "create aws.ec2.vpc") < position(&calls, "create aws.ec2.subnet"));
    assert!(position(&calls, "create aws.ec2.subnet") < position(&calls, "create aws.ec2.route_table"));
    assert_eq!(out.state.resources.len(), 4);
}

const RAW: &str = r#"
resources:
  raw_bucket:
    type: aws.s3.bucket
    properties: { bucket: acme-raw }
  queue:
    type: aws.sqs.queue
    properties: { name: q, tags: { bucket: "${raw_bucket.id}" } }
"#;

const LANDING: &str = r#"
moved:
  - { from: raw_bucket, to: landing_bucket }
resources:
  landing_bucket:
    type: aws.s3.bucket
    properties: { bucket: acme-raw }
  queue:
    type: aws.sqs.queue
    properties: { name: q, tags: { bucket: "${landing_bucket.id}" } }
"#;

fn mutations(calls: &[String]) -> Vec<&String> {
    calls.iter().filter(|c| c.starts_with("create") || c.starts_with("delete")).collect()
}

#[tokio::test]
async fn a_rename_through_moved_creates_and_deletes_nothing() {
    let (st, g) = stack(RAW);
    let mem = Arc::new(MemoryProvider::new());
    let store = MemStore::default();
    let out = run(
        &plan_for(&st, &g, &State::fixed("t", "test"), &[], false),
        State::fixed("t", "test"),
        mem.clone(),
        &store,
        4,
    )
    .await;
    let id = out.state.get("raw_bucket").unwrap().id.clone();
    let before = mem.calls().len();

    let (st2, g2) = stack(LANDING);
    let plan = crate::testutil::refreshed_plan(&st2, &g2, mem.as_ref(), &out.state, false).await;
    assert_eq!(plan.moved, vec![("raw_bucket".to_string(), "landing_bucket".to_string())]);
    assert_eq!((plan.count(Action::Create), plan.count(Action::Delete), plan.count(Action::Replace)), (0, 0, 0));
    let text = crate::testutil::render(&plan);
    assert!(text.contains("# raw_bucket has moved to landing_bucket"), "{text}");
    // The only change is the ownership tag that names the address.
    let landing = plan.changes.iter().find(|c| c.address == "landing_bucket").unwrap();
    assert_eq!((landing.action, landing.changed.clone()), (Action::Update, vec!["tags".to_string()]));
    let after = run(&plan, out.state.clone(), mem.clone(), &store, 4).await;
    assert!(after.failures.is_empty(), "{:?}", after.failures);
    assert_eq!(after.state.get("landing_bucket").unwrap().id, id, "the same bucket, at its new address");
    assert!(after.state.get("raw_bucket").is_none());
    assert_eq!(after.state.get("queue").unwrap().dependencies, vec!["landing_bucket"]);
    assert!(mutations(&mem.calls()[before..]).is_empty(), "{:?}", &mem.calls()[before..]);
    // Done: the next plan has nothing to do, and the `moved:` entry is a no-op.
    let again = crate::testutil::refreshed_plan(&st2, &g2, mem.as_ref(), &after.state, false).await;
    assert!(!again.has_changes(), "{}", crate::testutil::render(&again));
}

#[tokio::test]
async fn removed_forgets_without_deleting_and_import_adopts_without_creating() {
    let (st, g) = stack(RAW);
    let mem = Arc::new(MemoryProvider::new());
    let store = MemStore::default();
    let out = run(
        &plan_for(&st, &g, &State::fixed("t", "test"), &[], false),
        State::fixed("t", "test"),
        mem.clone(),
        &store,
        4,
    )
    .await;
    let bucket = out.state.get("raw_bucket").unwrap().id.clone();

    // `removed:` the bucket: out of state, still in the cloud.
    let (st2, g2) = stack(
        "removed:\n  - { from: raw_bucket }\nresources:\n  queue:\n    type: aws.sqs.queue\n    properties: { name: q }\n",
    );
    let plan = crate::testutil::refreshed_plan(&st2, &g2, mem.as_ref(), &out.state, false).await;
    assert_eq!(plan.removed, vec![("raw_bucket".to_string(), bucket.clone())]);
    assert_eq!(plan.count(Action::Delete), 0);
    assert!(
        crate::testutil::summary(&plan).ends_with("0 to destroy, 1 to forget."),
        "{}",
        crate::testutil::summary(&plan)
    );
    let before = mem.calls().len();
    let forgot = run(&plan, out.state.clone(), mem.clone(), &store, 4).await;
    assert!(forgot.state.get("raw_bucket").is_none());
    assert!(mutations(&mem.calls()[before..]).is_empty(), "{:?}", &mem.calls()[before..]);
    let ty = crate::testutil::catalog().lookup("aws.s3.bucket").unwrap();
    assert!(mem.read(ty, std::slice::from_ref(&bucket)).await.unwrap()[0].is_some(), "the bucket is still there");

    // `import:` it back at a new address: read, planned as an import, no create.
    let (st3, g3) = stack(
        "import:\n  - { to: legacy, id: acme-raw }\nresources:\n  legacy:\n    type: aws.s3.bucket\n    properties: { bucket: acme-raw }\n  queue:\n    type: aws.sqs.queue\n    properties: { name: q }\n",
    );
    let plan = crate::testutil::plan_with_imports(&st3, &g3, mem.as_ref(), &forgot.state).await.unwrap();
    let c = plan.changes.iter().find(|c| c.address == "legacy").unwrap();
    assert!(c.importing && c.action == Action::Update, "{c:?}");
    assert!(
        crate::testutil::summary(&plan).starts_with("Plan: 1 to import, 0 to add, 1 to change"),
        "{}",
        crate::testutil::summary(&plan)
    );
    let before = mem.calls().len();
    let imported = run(&plan, forgot.state.clone(), mem.clone(), &store, 4).await;
    assert!(imported.failures.is_empty(), "{:?}", imported.failures);
    assert_eq!(imported.state.get("legacy").unwrap().id, bucket);
    assert!(mutations(&mem.calls()[before..]).is_empty(), "{:?}", &mem.calls()[before..]);
    assert_eq!(imported.state.get("legacy").unwrap().properties["tags"]["cloudbridge:address"], "legacy");
    let again = crate::testutil::plan_with_imports(&st3, &g3, mem.as_ref(), &imported.state).await.unwrap();
    assert!(!again.has_changes(), "{}", crate::testutil::render(&again));
}

#[tokio::test]
async fn an_import_of_what_another_stack_owns_is_refused() {
    let (st, g) = stack(RAW);
    let mem = Arc::new(MemoryProvider::new());
    let out = run(
        &plan_for(&st, &g, &State::fixed("t", "test"), &[], false),
        State::fixed("t", "test"),
        mem.clone(),
        &MemStore::default(),
        4,
    )
    .await;
    // Another stack declares and imports the same bucket.
    let (other, og) = stack(
        "name: other\nimport:\n  - { to: mine, id: acme-raw }\nresources:\n  mine:\n    type: aws.s3.bucket\n    properties: { bucket: acme-raw }\n",
    );
    let err = crate::testutil::plan_with_imports(&other, &og, mem.as_ref(), &State::fixed("other", "test"))
        .await
        .unwrap_err();
    assert!(err[0].detail.contains("belongs to another stack or environment"), "{err:?}");
    assert!(err[0].detail.contains("cloudbridge:stack=t"), "{err:?}");
    let missing = stack(
        "name: other\nimport:\n  - { to: mine, id: no-such-bucket }\nresources:\n  mine:\n    type: aws.s3.bucket\n    properties: { bucket: no-such-bucket }\n",
    );
    let err = crate::testutil::plan_with_imports(&missing.0, &missing.1, mem.as_ref(), &State::fixed("other", "test"))
        .await
        .unwrap_err();
    assert!(err[0].detail.contains("there is no aws.s3.bucket with ID `no-such-bucket`"), "{err:?}");
    drop(out);
}

#[tokio::test]
async fn data_sources_are_read_at_plan_time_shown_and_never_changed() {
    // A landing zone made by someone else (another stack).
    let (landing, lg) = stack(
        "name: landing\nresources:\n  vpc:\n    type: aws.ec2.vpc\n    properties: { cidr_block: 10.9.0.0/16, tags: { Name: landing-zone } }\n  a:\n    type: aws.ec2.subnet\n    properties: { vpc_id: \"${vpc.id}\", cidr_block: 10.9.1.0/24, tags: { tier: private } }\n  b:\n    type: aws.ec2.subnet\n    properties: { vpc_id: \"${vpc.id}\", cidr_block: 10.9.2.0/24, tags: { tier: private } }\n",
    );
    let mem = Arc::new(MemoryProvider::new());
    let zone = run(
        &plan_for(&landing, &lg, &State::fixed("landing", "test"), &[], false),
        State::fixed("landing", "test"),
        mem.clone(),
        &MemStore::default(),
        4,
    )
    .await;
    let (vpc, subnet_a) = (zone.state.get("vpc").unwrap().id.clone(), zone.state.get("a").unwrap().id.clone());

    let (st, g) = stack(
        r#"
data:
  landing: { type: aws.ec2.vpc, filter: { tags: { Name: landing-zone } } }
  private: { type: aws.ec2.subnets, filter: { vpc_id: "${data.landing.id}", tags: { tier: private } } }
  me: { type: aws.caller_identity }
resources:
  sg:
    type: aws.ec2.security_group
    properties: { name: app, vpc_id: "${data.landing.id}", description: "in ${data.landing.cidr_block}" }
  rt:
    type: aws.ec2.route_table
    properties: { vpc_id: "${data.landing.id}", subnet_ids: "${data.private.ids}", tags: { first: "${data.private.ids[0]}", owner: "${data.me.account_id}" } }
"#,
    );
    assert!(g.dependencies("sg").is_empty(), "a data source is not a node of the graph");
    let before = mem.calls().len();
    let plan = crate::testutil::plan_with_imports(&st, &g, mem.as_ref(), &State::fixed("t", "test")).await.unwrap();
    let text = crate::testutil::render(&plan);
    assert!(
        text.starts_with("Data sources read (never changed or deleted):\n\n  # data.landing (aws.ec2.vpc)\n"),
        "{text}"
    );
    assert!(text.contains(&format!("id         = \"{vpc}\"")), "{text}");
    let sg = plan.changes.iter().find(|c| c.address == "sg").unwrap();
    assert_eq!(sg.after.as_ref().unwrap()["vpc_id"], serde_json::json!(vpc), "known at plan time, shown as it is");
    assert_eq!(sg.after.as_ref().unwrap()["description"], serde_json::json!("in 10.9.0.0/16"));
    let calls = mem.calls();
    let reads: Vec<&String> = calls[before..].iter().filter(|c| !c.starts_with("data ")).collect();
    assert!(reads.is_empty(), "planning only reads data: {reads:?}");
    let out = run(&plan, State::fixed("t", "test"), mem.clone(), &MemStore::default(), 4).await;
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let rt = out.state.get("rt").unwrap();
    assert_eq!(rt.properties["tags"]["first"], serde_json::json!(subnet_a));
    assert_eq!(rt.properties["tags"]["owner"], "000011112222");
    assert!(out.state.get("data.landing").is_none(), "data sources are never in state");
    // A filter that finds nothing is an error naming the data source.
    let (st2, g2) = stack("data:\n  gone: { type: aws.ec2.vpc, filter: { tags: { Name: nope } } }\nresources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: \"q-${data.gone.id}\" }\n");
    let err =
        crate::testutil::plan_with_imports(&st2, &g2, mem.as_ref(), &State::fixed("t", "test")).await.unwrap_err();
    assert!(err[0].detail.starts_with("`data.gone`: "), "{err:?}");
}

/// A deployment made before the lineage tag: its resources carry three ownership tags.
/// State knows them by their IDs, so the next plan is one tags update each (the lineage
/// added), nothing created or replaced, and after it the deployment is clean.
#[tokio::test]
async fn a_deployment_from_before_the_lineage_tag_gains_it_in_place() {
    let (st, g) = stack(NET);
    let mem = Arc::new(MemoryProvider::new());
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    let mut s = run(&plan, State::fixed("t", "test"), mem.clone(), &MemStore::default(), 10).await.state;
    for r in s.resources.iter_mut() {
        let mut tags = r.properties["tags"].clone();
        tags.as_object_mut().map(|t| t.remove("cloudbridge:lineage"));
        mem.tamper(&r.address, "tags", tags.clone());
        r.properties.insert("tags".into(), tags);
    }
    let plan = refreshed_plan(&st, &g, mem.as_ref() as &dyn Provider, &s, false).await;
    assert_eq!(plan.count(Action::Create) + plan.count(Action::Replace) + plan.count(Action::Delete), 0);
    for c in &plan.changes {
        assert_eq!((c.action, c.changed.clone()), (Action::Update, vec!["tags".to_string()]), "{}", c.address);
    }
    let s = run(&plan, s, mem.clone(), &MemStore::default(), 10).await.state;
    let plan = refreshed_plan(&st, &g, mem.as_ref() as &dyn Provider, &s, false).await;
    assert!(!plan.has_changes(), "{}", crate::testutil::render(&plan));
}
