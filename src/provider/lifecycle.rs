//! The one resource lifecycle, for every type of every cloud: create (with the look-up
//! that refuses to take over what is not ours and adopts what a lost or killed attempt
//! made), retries, waiting, read-back, and delete-until-gone. It works over
//! [`ResourceOps`], the seam below it: one type's raw calls, with no policy. The AWS
//! provider implements that seam with the SDK, the in-memory fake with a table, and
//! [`crate::provider::faulty::Faulty`] wraps either to inject failures, so every branch
//! here is unit-tested without the emulator.

use crate::ownership;
use crate::provider::{CreateRequest, ErrorKind, Observed, OpCtx, Props, Provider, ProviderError, UpdateRequest};
use crate::schema::{Identity, TypeSchema};
use async_trait::async_trait;
use std::time::Duration;

/// Where a resource is on its way to being usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Still working; the status as the cloud names it (`creating`, `modifying`, …).
    Pending(String),
    /// The cloud gave up on it (`failed`, `incompatible-parameters`, …).
    Failed(String),
}

/// One resource type's raw calls. No method retries a create, waits, or decides what
/// "gone" means: that is the [`Lifecycle`]'s job.
#[async_trait]
pub trait ResourceOps: Send + Sync {
    /// One create call. Its answer may be lost after it took effect.
    async fn create(
        &self,
        ty: &'static TypeSchema,
        address: &str,
        p: &Props,
        op: &OpCtx,
    ) -> Result<Observed, ProviderError>;
    /// One entry per ID, in order; `None` = it does not exist.
    async fn read(
        &self,
        ty: &'static TypeSchema,
        ids: &[String],
        op: &OpCtx,
    ) -> Result<Vec<Option<Observed>>, ProviderError>;
    async fn update(
        &self,
        ty: &'static TypeSchema,
        id: &str,
        old: &Props,
        new: &Props,
        changed: &[String],
        op: &OpCtx,
    ) -> Result<(), ProviderError>;
    /// Ask for the deletion. May answer NotFound although the resource still exists (a
    /// sub-call's answer was lost and its repeat found nothing): only a read decides.
    async fn delete(&self, ty: &'static TypeSchema, id: &str, p: &Props, op: &OpCtx) -> Result<(), ProviderError>;
    /// Is it usable? Types that are ready when their create call returns answer `Ready`.
    async fn ready(&self, ty: &'static TypeSchema, id: &str, op: &OpCtx) -> Result<Readiness, ProviderError>;
    /// Read a data source: the attributes of what `filter` finds (one match where the
    /// kind answers one thing; none, or several, is an error saying so).
    async fn read_data(&self, kind: &'static crate::data::DataKind, filter: &Props) -> Result<Props, ProviderError> {
        let _ = filter;
        Err(ProviderError::new("NotSupported", format!("this cloud cannot read `{}` data sources", kind.name)))
    }
    /// Whether one call tells the readiness of many resources of `ty` ([`Self::ready_many`]):
    /// then the lifecycle gathers the polls of that type that come together into one.
    fn polls_many_at_once(&self, ty: &'static TypeSchema) -> bool {
        let _ = ty;
        false
    }
    /// The readiness of each of `ids`, in order, by as few calls as the cloud allows; with
    /// what the call saw of each when that is all a read reports (tags included): then a
    /// create needs no read-back after its last poll.
    async fn ready_many(
        &self,
        ty: &'static TypeSchema,
        ids: &[String],
        op: &OpCtx,
    ) -> Result<Vec<Polled>, ProviderError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push((self.ready(ty, id, op).await?, None));
        }
        Ok(out)
    }
    /// For [`Identity::Generated`] types: live resources carrying the ownership tags of
    /// `p`. Candidates only: the lifecycle reads them and checks the tags itself.
    async fn find_owned(&self, ty: &'static TypeSchema, p: &Props, op: &OpCtx) -> Result<Vec<String>, ProviderError>;
    /// Read back `id` just after writing it with the values `p`. A cloud whose reads list
    /// tags in a call of their own may take them from `p` (they were just written) instead
    /// of asking again; the default reads everything.
    async fn read_written(
        &self,
        ty: &'static TypeSchema,
        id: &str,
        p: &Props,
        op: &OpCtx,
    ) -> Result<Option<Observed>, ProviderError> {
        let _ = p;
        Ok(self.read(ty, &[id.to_string()], op).await?.into_iter().next().flatten())
    }
    /// For [`Identity::Named`] types: the ID a resource with the name in `p` has, whoever
    /// owns it, or `None` when the name is free. It may be an ID that does not exist:
    /// the lifecycle reads it before deciding.
    async fn existing_id(
        &self,
        ty: &'static TypeSchema,
        p: &Props,
        op: &OpCtx,
    ) -> Result<Option<String>, ProviderError>;
}

/// How many times a create is tried when the cloud throttles it, fails with a 5xx, or its
/// answer is lost.
pub const CREATE_ATTEMPTS: u32 = 6;
/// How many delete calls are made before a resource that a read still finds is an error.
pub const DELETE_ATTEMPTS: u32 = 3;

/// The generic lifecycle over a [`ResourceOps`]; this is the [`Provider`] the engine runs.
pub struct Lifecycle<R> {
    ops: R,
    polls: PollBatches,
}

impl<R> Lifecycle<R> {
    pub fn over(ops: R) -> Lifecycle<R> {
        Lifecycle { ops, polls: PollBatches::default() }
    }
}

/// How long the first poll of a batch waits for others of its type to join it.
pub const POLL_WINDOW: Duration = Duration::from_millis(250);

/// What one poll of a resource tells: its readiness, and what a read would report of it
/// when the poll saw that much.
pub type Polled = (Readiness, Option<Observed>);

type PollAnswer = tokio::sync::oneshot::Sender<Result<Polled, ProviderError>>;

/// Polls gathered by type: the first poll of a type waits [`POLL_WINDOW`] for others, then
/// one [`ResourceOps::ready_many`] call answers them all. Forty RDS instances waiting at
/// once cost one describe per round, not forty.
#[derive(Default)]
struct PollBatches {
    waiting: std::sync::Mutex<std::collections::HashMap<&'static str, Vec<(String, PollAnswer)>>>,
}

impl PollBatches {
    async fn ready<R: ResourceOps>(
        &self,
        ops: &R,
        ty: &'static TypeSchema,
        id: &str,
        op: &OpCtx,
    ) -> Result<Polled, ProviderError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let leads = {
            let mut all = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
            let queue = all.entry(ty.name).or_default();
            queue.push((id.to_string(), tx));
            queue.len() == 1
        };
        if leads {
            tokio::time::sleep(POLL_WINDOW).await;
            let batch = self.waiting.lock().unwrap_or_else(|e| e.into_inner()).remove(ty.name).unwrap_or_default();
            let ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
            match ops.ready_many(ty, &ids, op).await {
                Ok(states) => {
                    let mut states = states.into_iter();
                    for (_, tx) in batch {
                        let state =
                            states.next().unwrap_or_else(|| (Readiness::Pending("not visible yet".into()), None));
                        let _ = tx.send(Ok(state));
                    }
                }
                // One failed call must not fail every resource waiting: each asks alone.
                Err(e) => tracing::debug!(error = %e, "a batched poll of {} failed; polling one by one", ty.name),
            }
        }
        match rx.await {
            Ok(answer) => answer,
            // The batch failed, or the poll that led it was dropped before it answered.
            Err(_) => Ok((ops.ready(ty, id, op).await?, None)),
        }
    }
}

impl<R> std::ops::Deref for Lifecycle<R> {
    type Target = R;
    fn deref(&self) -> &R {
        &self.ops
    }
}

/// What a look-up before a create found.
enum Found {
    Nothing,
    /// Made by an earlier attempt of this very resource: adopt it.
    Ours(String, Observed),
    /// Something without this resource's ownership tags holds the name: never touch it,
    /// unless this very run's create of that free name may have made it.
    Foreign(String, Observed),
}

/// Is `existing` the resource this create would make? Our ownership tags prove it, and
/// nothing it holds that cannot change in place differs from what the create would send
/// (tags alone are not proof: another project may deploy a stack and environment of the
/// same names, and its VPC of another CIDR block is not this one's to take and replace).
/// Types that cannot carry tags have only their name and configuration: every property
/// must match, except those the cloud never reports (write-only, sensitive).
fn is_ours(ty: &TypeSchema, props: &Props, existing: &Observed) -> bool {
    if ty.taggable {
        return ownership::same_owner(props, &existing.properties) && fixed_differences(ty, props, existing).is_empty();
    }
    let unreadable = |k: &str| ty.prop(k).is_some_and(|p| p.write_only || p.sensitive);
    props.iter().filter(|(k, _)| !unreadable(k)).all(|(k, v)| existing.properties.get(k) == Some(v))
}

/// The replace-forcing properties whose value in `existing` differs from the create's (as
/// the plan compares them, [`crate::schema::canonical`]); a property the cloud does not
/// report, or reports as null, is not evidence either way.
fn fixed_differences(ty: &TypeSchema, props: &Props, existing: &Observed) -> Vec<&'static str> {
    ty.props
        .iter()
        .filter(|p| p.update == crate::schema::Update::Replace && !p.write_only && !p.sensitive)
        .filter(|p| match (props.get(p.name), existing.properties.get(p.name)) {
            (Some(want), Some(have)) if !want.is_null() && !have.is_null() => {
                crate::schema::canonical(ty, p.name, &p.kind, want)
                    != crate::schema::canonical(ty, p.name, &p.kind, have)
            }
            _ => false,
        })
        .map(|p| p.name)
        .collect()
}

/// The error for a name that something else (`existing`) already holds.
fn taken(ty: &TypeSchema, address: &str, props: &Props, id: &str, existing: &Observed) -> ProviderError {
    let differ = fixed_differences(ty, props, existing);
    let why = if !ty.taggable {
        "this type takes no tags and its configuration differs from the stack's".to_string()
    } else if ownership::same_owner(props, &existing.properties) {
        format!(
            "it carries this resource's ownership tags, but its {} cannot change in place and differ from the stack's, so it was made by another deployment of a stack and environment of the same names",
            differ.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
        )
    } else {
        "it does not carry this resource's ownership tags (`cloudbridge:stack`, `cloudbridge:env`, `cloudbridge:address`, `cloudbridge:lineage`)"
            .to_string()
    };
    let name: Vec<String> = ty
        .identity
        .props()
        .iter()
        .map(|p| {
            props.get(*p).map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string())).unwrap_or_default()
        })
        .collect();
    let name = name.join("/");
    let which = if name == id { format!("`{name}`") } else { format!("`{name}` (`{id}`)") };
    ProviderError::new(
        "AlreadyExists",
        format!(
            "an `{}` named {which} already exists and is not this stack's: {why}. cloudbridge never takes over what it did not create; choose another name for `{address}`, or delete the existing one if nothing needs it; if it is this stack's to manage, take it in with `cloudbridge import` (or an `import:` entry), whose plan shows how it differs",
            ty.name
        ),
    )
}

async fn read_one<R: ResourceOps + ?Sized>(
    ops: &R,
    ty: &'static TypeSchema,
    id: &str,
    op: &OpCtx,
) -> Result<Option<Observed>, ProviderError> {
    Ok(ops.read(ty, &[id.to_string()], op).await?.into_iter().next().flatten())
}

/// Read a resource back after writing it with `props`, so state records what the cloud
/// holds. A failure is this resource's error; it exists, so the error carries its ID.
async fn read_back<R: ResourceOps + ?Sized>(
    ops: &R,
    ty: &'static TypeSchema,
    id: &str,
    props: &Props,
    op: &OpCtx,
) -> Result<Observed, ProviderError> {
    match ops.read_written(ty, id, props, op).await {
        Ok(Some(o)) => Ok(o),
        Ok(None) => {
            Err(ProviderError::new("NotFound", format!("`{id}` was not found when read back after it was written"))
                .with_created(id))
        }
        Err(e) => Err(ProviderError {
            message: format!("reading `{id}` back after it was written failed: {}", e.message),
            ..e
        }
        .with_created(id)),
    }
}

impl<R: ResourceOps> Lifecycle<R> {
    /// Is it usable? Through the type's batch of polls where one call answers many.
    async fn ready(&self, ty: &'static TypeSchema, id: &str, op: &OpCtx) -> Result<Readiness, ProviderError> {
        Ok(self.poll(ty, id, op).await?.0)
    }

    /// One poll, with what it saw of the resource where it saw all a read reports.
    async fn poll(&self, ty: &'static TypeSchema, id: &str, op: &OpCtx) -> Result<Polled, ProviderError> {
        if self.ops.polls_many_at_once(ty) {
            self.polls.ready(&self.ops, ty, id, op).await
        } else {
            Ok((self.ops.ready(ty, id, op).await?, None))
        }
    }

    /// Look for what holds this resource's identity: by name for named types (whoever owns
    /// it), by ownership tags for the types the cloud names.
    async fn look(&self, ty: &'static TypeSchema, props: &Props, op: &OpCtx) -> Result<Found, ProviderError> {
        let mut candidates = Vec::new();
        let named = ty.identity != Identity::Generated;
        if named {
            candidates.extend(self.ops.existing_id(ty, props, op).await?);
        } else if ty.taggable {
            candidates = self.ops.find_owned(ty, props, op).await?;
        }
        if candidates.is_empty() {
            return Ok(Found::Nothing);
        }
        let seen = self.ops.read(ty, &candidates, op).await?;
        let mut foreign = None;
        for (id, s) in candidates.into_iter().zip(seen) {
            match s {
                Some(e) if is_ours(ty, props, &e) => return Ok(Found::Ours(id, e)),
                Some(e) if named => foreign = Some((id, e)),
                _ => {}
            }
        }
        Ok(foreign.map_or(Found::Nothing, |(id, e)| Found::Foreign(id, e)))
    }

    /// Take over a resource an earlier attempt created: bring it to the desired
    /// configuration, wait for it, and read it back.
    async fn adopt(&self, req: &CreateRequest<'_>, id: &str, existing: Observed) -> Result<Observed, ProviderError> {
        tracing::info!(address = req.address, id = %id, "adopting a resource created by an earlier attempt");
        let (ty, op) = (req.ty, req.ctx);
        op.status.set("adopted; waiting");
        let changed: Vec<String> =
            req.props.iter().filter(|(k, v)| existing.properties.get(*k) != Some(v)).map(|(k, _)| k.clone()).collect();
        let what = format!("`{}` ({id})", req.address);
        wait_until(op, &what, || self.ready(ty, id, op)).await.map_err(|e| e.with_created(id))?;
        if !changed.is_empty() {
            self.ops
                .update(ty, id, &existing.properties, req.props, &changed, op)
                .await
                .map_err(|e| e.with_created(id))?;
            wait_until(op, &what, || self.ready(ty, id, op)).await.map_err(|e| e.with_created(id))?;
        }
        read_back(&self.ops, ty, id, req.props, op).await
    }
}

/// The property kinds, ranges and lengths, and the type's rules, on the values apply
/// resolved, before any call: what validate could not check (a value known only after
/// another resource was created) is checked here.
fn refuse_findings(ty: &TypeSchema, props: &Props) -> Result<(), ProviderError> {
    let mut text: Vec<String> = props.iter().filter_map(|(k, v)| ty.prop(k)?.check_json(v).err()).collect();
    text.extend(ty.findings(props).iter().map(|f| format!("`{}`: {} ({})", f.prop, f.message, f.hint)));
    if text.is_empty() {
        return Ok(());
    }
    Err(ProviderError { kind: ErrorKind::Invalid, ..ProviderError::new("InvalidConfiguration", text.join("; ")) })
}

#[async_trait]
impl<R: ResourceOps> Provider for Lifecycle<R> {
    async fn read_data(&self, kind: &'static crate::data::DataKind, filter: &Props) -> Result<Props, ProviderError> {
        self.ops.read_data(kind, filter).await
    }

    async fn create(&self, req: CreateRequest<'_>) -> Result<Observed, ProviderError> {
        let (ty, op) = (req.ty, req.ctx);
        refuse_findings(ty, req.props)?;
        op.status.set("creating");
        let mut delay = op.poll.initial.min(Duration::from_secs(1));
        let mut attempt = 1;
        // Set once a create call of the name, free when looked up just before, may have
        // taken effect (its answer was lost): the name's holder is then this run's own,
        // even where the cloud applies tags in a later call (S3 buckets) or not at all.
        let mut maybe_made = false;
        let created = loop {
            // Before every attempt: a named resource may already exist (ours from a lost
            // answer or a killed run, or somebody else's); an unnamed one may have been made
            // by a killed run. Clouds answer some creates of an existing name with success
            // (S3 in us-east-1, SNS, SQS), so the create's own answer cannot be trusted.
            match self.look(ty, req.props, op).await? {
                Found::Ours(id, existing) => return self.adopt(&req, &id, existing).await,
                Found::Foreign(id, existing) if maybe_made => return self.adopt(&req, &id, existing).await,
                Found::Foreign(id, existing) => return Err(taken(ty, req.address, req.props, &id, &existing)),
                Found::Nothing => {}
            }
            match self.ops.create(ty, req.address, req.props, op).await {
                Ok(created) => break created,
                Err(e) if e.kind == ErrorKind::AlreadyExists => {
                    // Made by an attempt whose answer was lost, or by someone in between.
                    return match self.look(ty, req.props, op).await? {
                        Found::Ours(id, existing) => self.adopt(&req, &id, existing).await,
                        Found::Foreign(id, existing) if maybe_made => self.adopt(&req, &id, existing).await,
                        Found::Foreign(id, existing) => Err(taken(ty, req.address, req.props, &id, &existing)),
                        Found::Nothing => Err(e),
                    };
                }
                Err(e) if e.transient && attempt < CREATE_ATTEMPTS => {
                    // Made, but a later call of a multi-call create failed: finish it as an adoption.
                    if let Some(id) = &e.created_id {
                        if let Ok(Some(existing)) = read_one(&self.ops, ty, id, op).await {
                            return self.adopt(&req, id, existing).await;
                        }
                    }
                    if ty.identity == Identity::Generated && !ty.taggable && !e.is_throttling() {
                        // Neither named nor tagged: what a lost attempt made cannot be found,
                        // so a repeat could make a second one.
                        return Err(ProviderError {
                            message: format!(
                                "{}; the create may have taken effect, and a {} (neither named nor tagged) cannot be found again: check for a leftover before applying again",
                                e.message, ty.name
                            ),
                            ..e
                        });
                    }
                    maybe_made |= !e.is_throttling();
                    tracing::warn!(address = req.address, attempt, error = %e, "create failed transiently; retrying");
                    op.status.set(&format!("retrying after {}", e.code));
                    pause(op, delay, req.address).await?;
                    delay = (delay * 2).min(Duration::from_secs(20));
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        };
        op.status.set("creating");
        let id = created.id.clone();
        // A slow type is never ready at once: its first look comes when it could be.
        if !op.poll.first.is_zero() {
            pause(op, op.poll.first, req.address).await.map_err(|e| e.with_created(&id))?;
        }
        // The poll that finds it ready may have seen all a read reports: then it is the read-back.
        let seen = std::sync::Mutex::new(None);
        let check = || async {
            let (state, observed) = self.poll(ty, &id, op).await?;
            *seen.lock().unwrap_or_else(|e| e.into_inner()) = observed.filter(|_| state == Readiness::Ready);
            Ok(state)
        };
        wait_until(op, &format!("`{}` ({id})", req.address), check).await.map_err(|e| e.with_created(&id))?;
        match seen.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(observed) => Ok(observed),
            None => read_back(&self.ops, ty, &id, req.props, op).await,
        }
    }

    async fn read(&self, ty: &'static TypeSchema, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.ops.read(ty, ids, &OpCtx::default()).await
    }

    async fn update(&self, req: UpdateRequest<'_>) -> Result<Observed, ProviderError> {
        let (ty, op) = (req.ty, req.ctx);
        refuse_findings(ty, req.new)?;
        if !req.changed.is_empty() {
            op.status.set("modifying");
            self.ops.update(ty, req.id, req.old, req.new, req.changed, op).await?;
        }
        wait_until(op, &format!("`{}`", req.id), || self.ready(ty, req.id, op)).await?;
        match self.ops.read_written(ty, req.id, req.new, op).await? {
            Some(o) => Ok(o),
            None => Err(ProviderError::new("NotFound", format!("`{}` was not found after it was updated", req.id))),
        }
    }

    async fn delete(&self, ty: &'static TypeSchema, id: &str, props: &Props, op: &OpCtx) -> Result<(), ProviderError> {
        op.status.set("deleting");
        let mut attempt = 1;
        let mut delay = op.poll.initial.min(Duration::from_secs(1));
        loop {
            match self.ops.delete(ty, id, props, op).await {
                Ok(()) => break,
                // The answer may have been lost after it took effect: the repeat answers
                // NotFound, and a read decides.
                Err(e) if e.transient && attempt < DELETE_ATTEMPTS => {
                    tracing::warn!(id, attempt, error = %e, "delete failed transiently; retrying");
                    pause(op, delay, id).await?;
                    delay = (delay * 2).min(Duration::from_secs(20));
                    attempt += 1;
                }
                // Gone, or a sub-call's answer was lost and its repeat found nothing while
                // the resource itself remains: only a read tells.
                Err(e) if e.kind == ErrorKind::NotFound => match read_one(&self.ops, ty, id, op).await? {
                    None => return Ok(()),
                    Some(_) if attempt < DELETE_ATTEMPTS => {
                        tracing::warn!(id, attempt, error = %e, "delete answered NotFound but the resource is still there; deleting again");
                        attempt += 1;
                    }
                    Some(_) => {
                        return Err(ProviderError::new(
                            "DeleteIncomplete",
                            format!("`{id}` still exists after {attempt} delete calls (the last answered {e})"),
                        ))
                    }
                },
                Err(e) => return Err(e),
            }
        }
        // Gone only when a read no longer finds it (transitional states still count as present).
        wait_until(op, &format!("`{id}`"), || async {
            Ok(match read_one(&self.ops, ty, id, op).await? {
                None => Readiness::Ready,
                Some(_) => match self.ready(ty, id, op).await {
                    Ok(Readiness::Pending(s)) | Ok(Readiness::Failed(s)) => Readiness::Pending(s),
                    _ => Readiness::Pending("deleting".into()),
                },
            })
        })
        .await
    }
}

/// Poll `check` with exponential backoff and jitter until it answers `Ready`, fails, or
/// the operation's timeout passes. Each status seen is published for progress lines.
pub async fn wait_until<F, Fut>(op: &OpCtx, what: &str, mut check: F) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Readiness, ProviderError>>,
{
    let start = std::time::Instant::now();
    let mut delay = op.poll.initial;
    loop {
        let status = match check().await? {
            Readiness::Ready => return Ok(()),
            Readiness::Failed(s) => {
                return Err(ProviderError::new("ResourceFailed", format!("{what} ended in status `{s}`")));
            }
            Readiness::Pending(s) => s,
        };
        op.status.set(&status);
        let interrupted = || {
            ProviderError::new(
                "Interrupted",
                format!("stopped waiting for {what} (still `{status}`) because of an interrupt; the next apply waits for it"),
            )
        };
        if op.interrupt.is_requested() {
            return Err(interrupted());
        }
        if start.elapsed() + delay > op.timeout {
            return Err(ProviderError::new(
                "WaitTimeout",
                format!(
                    "{what} was still `{status}` after {}s, the timeout; AWS may still finish it: run apply again to keep waiting, or raise `timeouts:` on the resource",
                    start.elapsed().as_secs()
                ),
            ));
        }
        tokio::select! {
            _ = tokio::time::sleep(jitter(delay)) => {}
            _ = op.interrupt.requested() => return Err(interrupted()),
        }
        delay = (delay * 3 / 2).min(op.poll.max);
    }
}

/// Sleep `delay` (jittered) before trying `address` again, unless an interrupt comes first.
async fn pause(op: &OpCtx, delay: Duration, address: &str) -> Result<(), ProviderError> {
    tokio::select! {
        _ = tokio::time::sleep(jitter(delay)) => Ok(()),
        _ = op.interrupt.requested() => Err(ProviderError::new(
            "Interrupted",
            format!("stopped retrying `{address}` because of an interrupt; the next apply looks for it first"),
        )),
    }
}

/// ±20% so that resources created together do not poll in lockstep.
fn jitter(d: Duration) -> Duration {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|t| t.subsec_nanos()).unwrap_or(0);
    let factor = 0.8 + f64::from(nanos % 1000) / 2500.0;
    d.mul_f64(factor)
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
