//! Every branch of the lifecycle, on the in-memory cloud with injected faults: lost create
//! answers for each kind of identity, with and without tags; names held by somebody else;
//! lost answers inside a delete; failed read-backs; transient failures.

use super::*;
use crate::provider::faulty::{Fault, Faulty, Op};
use crate::provider::memory::MemoryCloud;
use crate::provider::{ErrorKind, OpCtx, Props, Provider};
use crate::schema::{Identity, Prop, PropKind, TypeSchema, QUICK, TAGS};
use serde_json::json;

static PROPS: &[Prop] =
    &[Prop::new("name", PropKind::Str), Prop::new("db", PropKind::Str), Prop::new("size", PropKind::Int), TAGS];

/// As [`PROPS`], with `db` fixed at creation (a VPC's CIDR block, a bucket's region).
static FIXED_PROPS: &[Prop] = &[
    Prop::new("name", PropKind::Str),
    Prop::new("db", PropKind::Str).replace(),
    Prop::new("size", PropKind::Int),
    TAGS,
];

const fn schema(name: &'static str, identity: Identity, taggable: bool) -> TypeSchema {
    schema_of(name, identity, taggable, PROPS)
}

const fn schema_of(name: &'static str, identity: Identity, taggable: bool, props: &'static [Prop]) -> TypeSchema {
    TypeSchema {
        name,
        doc: "test type",
        props,
        attrs: &["arn"],
        changes_on_update: &[],
        restarts_cdc: None,
        taggable,
        identity,
        arn: None,
        normalize: None,
        timeouts: QUICK,
        stateful: false,
        check: None,
    }
}

static GENERATED_TAGGED: TypeSchema = schema("t.generated_tagged", Identity::Generated, true);
static GENERATED_UNTAGGED: TypeSchema = schema("t.generated_untagged", Identity::Generated, false);
static NAMED_TAGGED: TypeSchema = schema("t.named_tagged", Identity::Name("name"), true);
static NAMED_UNTAGGED: TypeSchema = schema("t.named_untagged", Identity::Name("name"), false);
static COMPOSITE_TAGGED: TypeSchema = schema("t.composite_tagged", Identity::Named(&["db", "name"]), true);
static COMPOSITE_UNTAGGED: TypeSchema = schema("t.composite_untagged", Identity::Named(&["db", "name"]), false);
static GENERATED_FIXED: TypeSchema = schema_of("t.generated_fixed", Identity::Generated, true, FIXED_PROPS);
static NAMED_FIXED: TypeSchema = schema_of("t.named_fixed", Identity::Name("name"), true, FIXED_PROPS);

fn ctx() -> OpCtx {
    OpCtx {
        poll: crate::provider::PollPolicy {
            initial: std::time::Duration::from_millis(1),
            max: std::time::Duration::from_millis(2),
            ..Default::default()
        },
        ..OpCtx::default()
    }
}

/// Properties as the planner makes them: with ownership tags for taggable types.
fn props(ty: &TypeSchema, address: &str, size: i64) -> Props {
    let mut p = Props::new();
    p.insert("name".into(), json!("orders"));
    p.insert("db".into(), json!("raw"));
    p.insert("size".into(), json!(size));
    if ty.taggable {
        let tags: serde_json::Map<_, _> =
            crate::ownership::tags("st", "dev", "L-1", address).into_iter().map(|(k, v)| (k, json!(v))).collect();
        p.insert("tags".into(), serde_json::Value::Object(tags));
    }
    p
}

async fn create(
    l: &Lifecycle<Faulty<MemoryCloud>>,
    ty: &'static TypeSchema,
    address: &str,
    p: &Props,
) -> Result<Observed, ProviderError> {
    l.create(CreateRequest { ty, address, props: p, ctx: &ctx() }).await
}

fn live_of(l: &Lifecycle<Faulty<MemoryCloud>>, ty: &TypeSchema) -> usize {
    l.live().iter().filter(|(t, _)| t == ty.name).count()
}

#[tokio::test]
async fn a_lost_create_answer_never_makes_a_second_resource() {
    for ty in [&GENERATED_TAGGED, &NAMED_TAGGED, &NAMED_UNTAGGED, &COMPOSITE_TAGGED, &COMPOSITE_UNTAGGED] {
        let l = Lifecycle::over(Faulty::new(MemoryCloud::default()).at(Op::Create, 1, Fault::LostAfterEffect));
        let p = props(ty, "a", 1);
        let got = create(&l, ty, "a", &p).await.unwrap_or_else(|e| panic!("{}: {e}", ty.name));
        assert_eq!(live_of(&l, ty), 1, "{}: exactly one resource after a lost answer", ty.name);
        assert_eq!(l.injected().len(), 1, "{}: the fault was injected", ty.name);
        assert_eq!(l.get(&got.id).unwrap().1, p, "{}: adopted and configured", ty.name);
    }
}

#[tokio::test]
async fn a_lost_create_answer_is_adopted_even_before_it_was_tagged() {
    // The create call took effect but tags come in a later call (S3 buckets), so what it
    // left has no ownership tags. The name was free just before this run's create: it is ours.
    for ty in [&NAMED_TAGGED, &COMPOSITE_TAGGED] {
        let l = Lifecycle::over(Faulty::new(MemoryCloud::default()).at(Op::Create, 1, Fault::LostAfterEffect));
        l.set_untagged_creates();
        let p = props(ty, "a", 1);
        let got = create(&l, ty, "a", &p).await.unwrap_or_else(|e| panic!("{}: {e}", ty.name));
        assert_eq!(l.get(&got.id).unwrap().1, p, "{}: adopted and tagged", ty.name);
        assert_eq!(live_of(&l, ty), 1);
    }
}

#[tokio::test]
async fn a_lost_create_answer_of_an_untraceable_type_is_an_error_not_a_duplicate() {
    // Neither named nor tagged: nothing could find what the lost attempt made.
    let ty = &GENERATED_UNTAGGED;
    let l = Lifecycle::over(Faulty::new(MemoryCloud::default()).at(Op::Create, 1, Fault::LostAfterEffect));
    let e = create(&l, ty, "a", &props(ty, "a", 1)).await.unwrap_err();
    assert!(e.message.contains("cannot be found again"), "{e}");
    assert_eq!(live_of(&l, ty), 1, "no second create was sent");
}

#[tokio::test]
async fn throttled_and_failed_creates_are_retried_once_each() {
    for fault in [Fault::Throttle, Fault::ServerError] {
        for ty in [&GENERATED_TAGGED, &GENERATED_UNTAGGED, &NAMED_TAGGED, &COMPOSITE_UNTAGGED] {
            if ty.name == GENERATED_UNTAGGED.name && matches!(fault, Fault::ServerError) {
                continue; // a 5xx may have taken effect: not retried for a type that cannot be found again
            }
            let l = Lifecycle::over(Faulty::new(MemoryCloud::default()).at(Op::Create, 1, fault.clone()));
            create(&l, ty, "a", &props(ty, "a", 1)).await.unwrap_or_else(|e| panic!("{}: {e}", ty.name));
            assert_eq!(live_of(&l, ty), 1, "{} after {fault:?}", ty.name);
            let creates = l.calls().iter().filter(|c| c.starts_with("create ")).count();
            assert_eq!(creates, 1, "{}: the refused attempt did nothing; one create reached the cloud", ty.name);
        }
    }
}

#[tokio::test]
async fn a_name_held_by_somebody_else_is_refused_and_left_untouched() {
    for ty in [&NAMED_TAGGED, &COMPOSITE_TAGGED, &NAMED_UNTAGGED, &COMPOSITE_UNTAGGED] {
        let l = Lifecycle::over(Faulty::new(MemoryCloud::default()));
        // Answer creates of an existing name with success, as S3 (us-east-1), SNS and SQS do.
        l.set_lax();
        // Another stack's (other ownership tags), or for untaggable types another configuration.
        let theirs = props(ty, "their_queue", 7);
        let id = l.insert(ty, "their_queue", theirs.clone());
        let e = create(&l, ty, "a", &props(ty, "a", 1)).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::AlreadyExists, "{}: {e}", ty.name);
        assert!(e.message.contains("is not this stack's") && e.message.contains(&id), "{}: {e}", ty.name);
        assert!(e.created_id.is_none(), "{}: nothing of ours to record", ty.name);
        assert_eq!(l.get(&id).unwrap(), ("their_queue".to_string(), theirs), "{}: untouched", ty.name);
        assert!(!l.calls().iter().any(|c| c.starts_with("create ") || c.starts_with("update ")), "{}", ty.name);
    }
}

#[tokio::test]
async fn a_resource_left_by_a_killed_run_is_adopted() {
    for ty in [&GENERATED_TAGGED, &NAMED_TAGGED, &COMPOSITE_TAGGED] {
        let l = Lifecycle::over(Faulty::new(MemoryCloud::default()));
        // Ours (same ownership tags) but with an older configuration.
        let id = l.insert(ty, "a", props(ty, "a", 1));
        let want = props(ty, "a", 2);
        let got = create(&l, ty, "a", &want).await.unwrap_or_else(|e| panic!("{}: {e}", ty.name));
        assert_eq!(got.id, id, "{}", ty.name);
        assert_eq!(l.get(&id).unwrap().1, want, "{}: brought to the desired configuration", ty.name);
        assert_eq!(live_of(&l, ty), 1, "{}", ty.name);
    }
    // An untaggable named type is adopted only when every property matches.
    let ty = &NAMED_UNTAGGED;
    let l = Lifecycle::over(Faulty::new(MemoryCloud::default()));
    let id = l.insert(ty, "a", props(ty, "a", 1));
    assert_eq!(create(&l, ty, "a", &props(ty, "a", 1)).await.unwrap().id, id);
}

#[tokio::test]
async fn a_failed_read_back_is_this_resources_error_and_it_is_recorded() {
    for ty in [&GENERATED_TAGGED, &NAMED_TAGGED] {
        let denied = ProviderError::new("AccessDenied", "not allowed to describe");
        let l = Lifecycle::over(Faulty::new(MemoryCloud::default()).at(Op::Read, 1, Fault::Error(denied)));
        let e = create(&l, ty, "a", &props(ty, "a", 1)).await.unwrap_err();
        assert_eq!(e.code, "AccessDenied", "{}: the cause is kept", ty.name);
        assert!(e.message.contains("reading") && e.message.contains("back"), "{e}");
        let id = e.created_id.clone().expect("it exists, so the error carries its ID for state");
        assert!(l.get(&id).is_some(), "{}", ty.name);
    }
}

#[tokio::test]
async fn a_failed_wait_carries_the_id() {
    let l = Lifecycle::over(Faulty::new(MemoryCloud::default()).at(
        Op::Ready,
        1,
        Fault::Error(ProviderError::new("ResourceFailed", "x")),
    ));
    let e = create(&l, &NAMED_TAGGED, "a", &props(&NAMED_TAGGED, "a", 1)).await.unwrap_err();
    assert_eq!(e.created_id.as_deref(), Some("orders"));
}

#[tokio::test]
async fn gone_is_decided_by_a_read_not_by_a_not_found_answer() {
    // A sub-call of the delete (say `iam:DeleteRolePolicy`) took effect but its answer was
    // lost; its repeat answered NotFound, and so the delete did, while the resource remains.
    let not_found = ProviderError::new("NoSuchEntity", "The role policy cannot be found");
    let ty = &NAMED_TAGGED;
    let l = Lifecycle::over(Faulty::new(MemoryCloud::default()).at(Op::Delete, 1, Fault::Error(not_found.clone())));
    let id = l.insert(ty, "a", props(ty, "a", 1));
    l.delete(ty, &id, &Props::new(), &ctx()).await.unwrap();
    assert!(l.get(&id).is_none(), "deleted for real");
    assert_eq!(l.calls().iter().filter(|c| c.starts_with("delete ")).count(), 1, "the second delete call went through");

    // Every delete call answers NotFound while it stays: an error, never "done".
    let mut f = Faulty::new(MemoryCloud::default());
    for n in 1..=DELETE_ATTEMPTS {
        f = f.at(Op::Delete, n, Fault::Error(not_found.clone()));
    }
    let l = Lifecycle::over(f);
    let id = l.insert(ty, "a", props(ty, "a", 1));
    let e = l.delete(ty, &id, &Props::new(), &ctx()).await.unwrap_err();
    assert!(e.message.contains("still exists"), "{e}");
    assert!(l.get(&id).is_some());

    // Already gone: NotFound and a read that finds nothing is success.
    let l = Lifecycle::over(Faulty::new(MemoryCloud::default()));
    l.delete(ty, "nothing-here", &Props::new(), &ctx()).await.unwrap();
}

#[tokio::test]
async fn a_lost_delete_answer_ends_in_a_delete() {
    let ty = &GENERATED_TAGGED;
    let l = Lifecycle::over(Faulty::new(MemoryCloud::default()).at(Op::Delete, 1, Fault::LostAfterEffect));
    let id = l.insert(ty, "a", props(ty, "a", 1));
    // Repeated: the repeat answers NotFound, and a read confirms it is gone.
    l.delete(ty, &id, &Props::new(), &ctx()).await.unwrap();
    assert!(l.get(&id).is_none());
    assert_eq!(l.calls().iter().filter(|c| c.starts_with("delete ")).count(), 2);
}

static SLOW: TypeSchema = TypeSchema {
    timeouts: crate::schema::Timeouts::minutes(120, 120, 60),
    ..schema("t.slow", Identity::Name("name"), true)
};

#[test]
fn a_slow_type_is_first_looked_at_when_it_could_be_ready_a_quick_one_at_once() {
    let policy = crate::provider::PollPolicy::default();
    assert_eq!(policy.for_create(&SLOW).first, std::time::Duration::from_secs(180), "120-minute timeout: 3 minutes");
    assert_eq!(policy.for_create(&NAMED_TAGGED).first, std::time::Duration::ZERO, "ready when its call returns");
    let set = crate::provider::PollPolicy { by_type: false, ..policy };
    assert_eq!(set.for_create(&SLOW).first, std::time::Duration::ZERO, "a user-set interval wins");
}

#[tokio::test]
async fn the_first_look_at_a_new_resource_waits_for_its_types_first_poll() {
    let l = Lifecycle::over(Faulty::new(MemoryCloud::default()));
    let p = props(&SLOW, "a", 1);
    let first = std::time::Duration::from_millis(300);
    let op = OpCtx { poll: crate::provider::PollPolicy { first, ..ctx().poll }, ..ctx() };
    let started = std::time::Instant::now();
    l.create(CreateRequest { ty: &SLOW, address: "a", props: &p, ctx: &op }).await.unwrap();
    // ±20% jitter: never sooner than 80% of the first poll.
    assert!(started.elapsed() >= first.mul_f64(0.8), "looked after {:?}", started.elapsed());
    // A type that is ready when its call returns is looked at at once.
    let l = Lifecycle::over(Faulty::new(MemoryCloud::default()));
    let started = std::time::Instant::now();
    l.create(CreateRequest { ty: &NAMED_TAGGED, address: "b", props: &props(&NAMED_TAGGED, "b", 1), ctx: &ctx() })
        .await
        .unwrap();
    assert!(started.elapsed() < first.mul_f64(0.8), "a quick type waits for nothing");
}

/// Twenty slow resources created together: their polls are gathered by type, so each
/// round of looks costs one call for all of them, not one each.
#[tokio::test]
async fn polls_of_many_resources_of_a_type_are_answered_by_one_call() {
    let cloud = MemoryCloud::default();
    cloud.set_slow(2);
    let l = std::sync::Arc::new(Lifecycle::over(cloud));
    let addresses: Vec<String> = (0..20).map(|i| format!("r{i}")).collect();
    let creates: Vec<crate::concurrency::BoxFuture<'_, _>> = addresses
        .iter()
        .map(|a| -> crate::concurrency::BoxFuture<'_, _> {
            let l = l.clone();
            Box::pin(async move {
                let mut p = props(&SLOW, a, 1);
                p.insert("name".into(), json!(a));
                l.create(CreateRequest { ty: &SLOW, address: a, props: &p, ctx: &ctx() }).await
            })
        })
        .collect();
    for made in crate::concurrency::bounded(creates, 20).await {
        made.unwrap();
    }
    let batches: Vec<String> = l.calls().into_iter().filter(|c| c.starts_with("ready_many")).collect();
    assert!(l.poll_calls() <= 6, "three rounds of looks, a few calls each, not 60: {} {batches:?}", l.poll_calls());
    let looked: usize = batches.iter().map(|c| c.rsplit(' ').next().unwrap().parse::<usize>().unwrap()).sum();
    assert_eq!(looked, 20 * 3, "each resource looked at until ready: pending twice, then ready");
}

/// A batched poll that fails does not fail every resource waiting on it: each asks alone.
#[tokio::test]
async fn a_failed_batched_poll_falls_back_to_one_poll_each() {
    let cloud = MemoryCloud::default();
    cloud.set_slow(1);
    let failing = ProviderError::new("InternalFailure", "the describe failed");
    let l = std::sync::Arc::new(Lifecycle::over(Faulty::new(cloud).at(Op::Ready, 1, Fault::Error(failing))));
    let creates: Vec<crate::concurrency::BoxFuture<'_, _>> = (0..5)
        .map(|i| -> crate::concurrency::BoxFuture<'_, _> {
            let l = l.clone();
            Box::pin(async move {
                let a = format!("r{i}");
                let mut p = props(&SLOW, &a, 1);
                p.insert("name".into(), json!(a));
                l.create(CreateRequest { ty: &SLOW, address: &a, props: &p, ctx: &ctx() }).await
            })
        })
        .collect();
    for made in crate::concurrency::bounded(creates, 5).await {
        made.expect("every resource is created although the first batched poll failed");
    }
    assert_eq!(l.injected().len(), 1, "the fault was injected");
}

/// The poll that finds a new resource ready saw all a read reports: it is the read-back,
/// and no read follows it.
#[tokio::test]
async fn the_poll_that_finds_a_resource_ready_is_its_read_back() {
    let cloud = MemoryCloud::default();
    cloud.set_slow(1);
    let l = Lifecycle::over(cloud);
    let p = props(&SLOW, "a", 1);
    let got = l.create(CreateRequest { ty: &SLOW, address: "a", props: &p, ctx: &ctx() }).await.unwrap();
    assert_eq!(got.properties, p, "what the poll saw is what state records");
    let reads: Vec<String> = l.calls().into_iter().filter(|c| c.starts_with("read ")).collect();
    assert_eq!(reads, Vec::<String>::new(), "no read after the last poll (the name was free: no read before)");
}

/// Ownership tags alone are not proof: another project may deploy a stack and environment
/// of the same names. Before, project B's create of a VPC of 10.61.0.0/16 adopted project
/// A's VPC of 10.60.0.0/16 (same tags), retagged it, and B's next plan replaced it.
#[tokio::test]
async fn what_differs_where_it_cannot_change_is_never_adopted() {
    let with_db = |ty: &TypeSchema, db: &str| {
        let mut p = props(ty, "a", 1);
        p.insert("db".into(), json!(db));
        p
    };
    // A generated ID: the look-up by tags finds theirs, which is left alone; ours is made.
    let ty = &GENERATED_FIXED;
    let l = Lifecycle::over(Faulty::new(MemoryCloud::default()));
    let theirs = with_db(ty, "10.60.0.0/16");
    let their_id = l.insert(ty, "a", theirs.clone());
    let got = create(&l, ty, "a", &with_db(ty, "10.61.0.0/16")).await.unwrap();
    assert_ne!(got.id, their_id, "a new one, not theirs");
    assert_eq!(l.get(&their_id).unwrap().1, theirs, "theirs untouched");
    assert_eq!(live_of(&l, ty), 2);
    // A name: refused, saying why, and left alone.
    let ty = &NAMED_FIXED;
    let l = Lifecycle::over(Faulty::new(MemoryCloud::default()));
    l.set_lax();
    let theirs = with_db(ty, "raw");
    let their_id = l.insert(ty, "a", theirs.clone());
    let e = create(&l, ty, "a", &with_db(ty, "curated")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::AlreadyExists, "{e}");
    assert!(e.message.contains("carries this resource's ownership tags, but its `db` cannot change in place"), "{e}");
    assert!(!e.message.contains("not supported yet"), "{e}");
    assert_eq!(l.get(&their_id).unwrap().1, theirs);
    assert!(!l.calls().iter().any(|c| c.starts_with("create ") || c.starts_with("update ")));
    // What differs only where it changes in place is still adopted (a killed run's).
    let l = Lifecycle::over(Faulty::new(MemoryCloud::default()));
    let id = l.insert(ty, "a", with_db(ty, "raw"));
    let mut want = with_db(ty, "raw");
    want.insert("size".into(), json!(5));
    assert_eq!(create(&l, ty, "a", &want).await.unwrap().id, id);
}
