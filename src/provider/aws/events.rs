//! EventBridge rules and their targets (a poller every two minutes, reactions to AWS
//! events), and EventBridge Scheduler schedules.

use super::{absent_if, str_prop, tags_prop, AwsResource, Call};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use serde_json::{json, Map, Value};

/// EventBridge's schedule expressions: `rate(N unit)` (a singular unit for 1, plural
/// otherwise) or `cron(6 fields)`; Scheduler also takes `at(yyyy-mm-ddThh:mm:ss)`.
fn schedule_problem(expr: &str, at: bool) -> Option<String> {
    if let Some(inner) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let (n, unit) = inner.split_once(' ')?;
        let n: u64 = match n.parse() {
            Ok(n) if n > 0 => n,
            _ => return Some(format!("`{expr}`: the rate must be a whole number above 0")),
        };
        let ok = if n == 1 {
            ["minute", "hour", "day"].contains(&unit)
        } else {
            ["minutes", "hours", "days"].contains(&unit)
        };
        return (!ok).then(|| {
            format!("`{expr}`: the unit must be minute(s), hour(s) or day(s), singular for 1 and plural otherwise")
        });
    }
    if let Some(inner) = expr.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        let fields = inner.split_whitespace().count();
        return (fields != 6).then(|| format!("`{expr}`: a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not {fields}"));
    }
    if at && expr.starts_with("at(") && expr.ends_with(')') {
        return None;
    }
    Some(format!("`{expr}` is not a schedule expression"))
}

const SCHEDULE_HINT: &str = "write `rate(2 minutes)`, `rate(1 hour)` or `cron(0 12 * * ? *)`";

fn check_rule(k: &Known) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(e) = k.get("schedule_expression").and_then(Value::as_str) {
        if let Some(why) = schedule_problem(e, false) {
            out.push(Finding::new("schedule_expression", why, SCHEDULE_HINT));
        }
    }
    if k.contains_key("schedule_expression") && k.contains_key("event_pattern") {
        out.push(Finding::new(
            "event_pattern",
            "a rule has a schedule or an event pattern, not both",
            "split it into two rules",
        ));
    }
    if k.contains_key("schedule_expression")
        && k.get("event_bus_name").and_then(Value::as_str).is_some_and(|b| b != "default")
    {
        out.push(Finding::new(
            "schedule_expression",
            "scheduled rules run only on the default event bus",
            "remove `event_bus_name`, or use an `aws.scheduler.schedule`",
        ));
    }
    out
}

pub static RULE: TypeSchema = TypeSchema {
    name: "aws.events.rule",
    doc: "An EventBridge rule: a schedule (`rate(2 minutes)`, `cron(…)`) or an event pattern (a DMS task failing, an object landing), on the default bus or a named one. Its targets are `aws.events.target`s.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 64).required().replace(),
        Prop::new("event_bus_name", PropKind::Str).default("\"default\"").replace(),
        Prop::new("schedule_expression", PropKind::Str),
        Prop::new("event_pattern", PropKind::Json),
        Prop::new("description", PropKind::Str).length(0, 512),
        Prop::new("enabled", PropKind::Bool).default("true"),
        TAGS,
    ],
    attrs: &["id", "arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Named(&["name"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: Some(check_rule),
};

pub struct Rule;

/// `bus/name` (partner bus names hold `/`, rule names never do).
fn split_rule(id: &str) -> (&str, &str) {
    id.rsplit_once('/').unwrap_or(("default", id))
}

pub(super) fn events_tags(
    tags: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<aws_sdk_eventbridge::types::Tag>, ProviderError> {
    tags.into_iter()
        .map(|(k, v)| aws_sdk_eventbridge::types::Tag::builder().key(k).value(v).build().map_err(super::invalid))
        .collect()
}

impl Rule {
    async fn put(&self, c: &Call<'_>, p: &Props, with_tags: bool) -> Result<(), ProviderError> {
        let state = if p.get("enabled").and_then(Value::as_bool) == Some(false) { "DISABLED" } else { "ENABLED" };
        c.events
            .put_rule()
            .name(str_prop(p, "name").unwrap_or_default())
            .event_bus_name(str_prop(p, "event_bus_name").unwrap_or("default"))
            .set_schedule_expression(str_prop(p, "schedule_expression").map(String::from))
            .set_event_pattern(p.get("event_pattern").filter(|v| !v.is_null()).map(super::text))
            .set_description(str_prop(p, "description").map(String::from))
            .state(aws_sdk_eventbridge::types::RuleState::from(state))
            .set_tags(if with_tags { Some(events_tags(tags_prop(p))?) } else { None })
            .send()
            .await?;
        Ok(())
    }
}

#[async_trait]
impl AwsResource for Rule {
    async fn existing_id(&self, _c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        Ok(str_prop(p, "name").map(|n| format!("{}/{n}", str_prop(p, "event_bus_name").unwrap_or("default"))))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        self.put(c, p, true).await?;
        let id = self.existing_id(c, p).await?.unwrap_or_default();
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let (bus, name) = split_rule(id);
            let res = c.events.describe_rule().name(name).event_bus_name(bus).send().await;
            let Some(r) = absent_if(res, "ResourceNotFoundException")? else {
                out.push(None);
                continue;
            };
            let arn = r.arn().unwrap_or_default().to_string();
            let tags = c.events.list_tags_for_resource().resource_arn(&arn).send().await?;
            let mut p = Props::new();
            p.insert("name".into(), json!(name));
            p.insert("event_bus_name".into(), json!(r.event_bus_name().unwrap_or(bus)));
            if let Some(s) = r.schedule_expression().filter(|s| !s.is_empty()) {
                p.insert("schedule_expression".into(), json!(s));
            }
            if let Some(e) = r.event_pattern().filter(|s| !s.is_empty()) {
                p.insert("event_pattern".into(), serde_json::from_str(e).unwrap_or(json!(e)));
            }
            if let Some(d) = r.description().filter(|s| !s.is_empty()) {
                p.insert("description".into(), json!(d));
            }
            p.insert("enabled".into(), json!(r.state().map(|s| s.as_str()) == Some("ENABLED")));
            p.insert(
                "tags".into(),
                super::tags_value(tags.tags().iter().map(|t| (t.key().to_string(), t.value().to_string()))),
            );
            let attributes = Map::from_iter([("id".into(), json!(id)), ("arn".into(), json!(arn))]);
            out.push(Some(Observed { id: id.clone(), properties: p, attributes }));
        }
        Ok(out)
    }

    /// `PutRule` again, with the whole rule (tags go through the tagger).
    async fn update(
        &self,
        c: &Call<'_>,
        _id: &str,
        _old: &Props,
        new: &Props,
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        self.put(c, new, false).await?;
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let (bus, name) = split_rule(id);
        c.events.delete_rule().name(name).event_bus_name(bus).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Target

pub static TARGET: TypeSchema = TypeSchema {
    name: "aws.events.target",
    doc: "What an EventBridge rule invokes (a Lambda function, an SQS queue, an SNS topic, a Glue workflow through a role), with a fixed JSON input if given. A Lambda target also needs an `aws.lambda.permission` for `events.amazonaws.com`.",
    props: &[
        Prop::new("rule", PropKind::Str).required().replace(),
        Prop::new("event_bus_name", PropKind::Str).default("\"default\"").replace(),
        Prop::new("target_id", PropKind::Str).length(1, 64).required().replace(),
        Prop::new("arn", PropKind::Str).required(),
        Prop::new("role_arn", PropKind::Str),
        Prop::new("input", PropKind::Json),
    ],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Named(&["rule", "target_id"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct Target;

/// `bus/rule/target_id`.
fn split_target(id: &str) -> (&str, &str, &str) {
    let (rest, target) = id.rsplit_once('/').unwrap_or(("", id));
    let (bus, rule) = split_rule(rest);
    (bus, rule, target)
}

/// The failures `PutTargets` and `RemoveTargets` report in a successful answer.
fn failed(count: i32, entries: Vec<(Option<String>, Option<String>)>) -> Result<(), ProviderError> {
    if count == 0 {
        return Ok(());
    }
    let (code, message) = entries.into_iter().next().unwrap_or_default();
    Err(ProviderError::new(
        code.unwrap_or_else(|| "FailedEntry".into()),
        message.unwrap_or_else(|| "the target was refused".into()),
    ))
}

#[async_trait]
impl AwsResource for Target {
    async fn existing_id(&self, _c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let bus = str_prop(p, "event_bus_name").unwrap_or("default");
        Ok(str_prop(p, "rule").zip(str_prop(p, "target_id")).map(|(r, t)| format!("{bus}/{r}/{t}")))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        self.update(c, "", p, p, &[]).await?;
        let id = self.existing_id(c, p).await?.unwrap_or_default();
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let (bus, rule, target) = split_target(id);
            let mut token = None;
            let mut found = None;
            loop {
                let res =
                    c.events.list_targets_by_rule().rule(rule).event_bus_name(bus).set_next_token(token).send().await;
                let Some(page) = absent_if(res, "ResourceNotFoundException")? else { break };
                if let Some(t) = page.targets().iter().find(|t| t.id() == target) {
                    found = Some(t.clone());
                    break;
                }
                match page.next_token() {
                    Some(t) => token = Some(t.to_string()),
                    None => break,
                }
            }
            out.push(found.map(|t| {
                let mut p = Props::new();
                p.insert("rule".into(), json!(rule));
                p.insert("event_bus_name".into(), json!(bus));
                p.insert("target_id".into(), json!(target));
                p.insert("arn".into(), json!(t.arn()));
                if let Some(r) = t.role_arn() {
                    p.insert("role_arn".into(), json!(r));
                }
                if let Some(i) = t.input() {
                    p.insert("input".into(), serde_json::from_str(i).unwrap_or(json!(i)));
                }
                Observed { id: id.clone(), properties: p, attributes: Map::from_iter([("id".into(), json!(id))]) }
            }));
        }
        Ok(out)
    }

    /// `PutTargets` replaces the target of that ID whole.
    async fn update(
        &self,
        c: &Call<'_>,
        _id: &str,
        _old: &Props,
        new: &Props,
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        let target = aws_sdk_eventbridge::types::Target::builder()
            .id(str_prop(new, "target_id").unwrap_or_default())
            .arn(str_prop(new, "arn").unwrap_or_default())
            .set_role_arn(str_prop(new, "role_arn").map(String::from))
            .set_input(new.get("input").filter(|v| !v.is_null()).map(super::text))
            .build()
            .map_err(super::invalid)?;
        let out = c
            .events
            .put_targets()
            .rule(str_prop(new, "rule").unwrap_or_default())
            .event_bus_name(str_prop(new, "event_bus_name").unwrap_or("default"))
            .targets(target)
            .send()
            .await?;
        let entries = out
            .failed_entries()
            .iter()
            .map(|e| (e.error_code().map(String::from), e.error_message().map(String::from)));
        failed(out.failed_entry_count(), entries.collect())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let (bus, rule, target) = split_target(id);
        let res = c.events.remove_targets().rule(rule).event_bus_name(bus).ids(target).send().await;
        let Some(out) = absent_if(res, "ResourceNotFoundException")? else { return Ok(()) };
        let entries = out
            .failed_entries()
            .iter()
            .map(|e| (e.error_code().map(String::from), e.error_message().map(String::from)));
        failed(out.failed_entry_count(), entries.collect())
    }
}

// ---------------------------------------------------------------------------------------
// Scheduler

static SCHEDULE_TARGET: &[Prop] = &[
    Prop::new("arn", PropKind::Str).required(),
    Prop::new("role_arn", PropKind::Str).required(),
    Prop::new("input", PropKind::Json),
];

fn check_schedule(k: &Known) -> Vec<Finding> {
    k.get("schedule_expression")
        .and_then(Value::as_str)
        .and_then(|e| schedule_problem(e, true))
        .map(|why| Finding::new("schedule_expression", why, SCHEDULE_HINT))
        .into_iter()
        .collect()
}

pub static SCHEDULE: TypeSchema = TypeSchema {
    name: "aws.scheduler.schedule",
    doc: "An EventBridge Scheduler schedule: invokes a target (a Lambda function, a queue, a Glue job through the universal target) on a rate, cron or one-time expression, in a time zone, through a role the scheduler assumes.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 64).required().replace(),
        Prop::new("group_name", PropKind::Str).default("\"default\"").replace(),
        Prop::new("schedule_expression", PropKind::Str).required(),
        Prop::new("timezone", PropKind::Str).default("\"UTC\""),
        Prop::new("description", PropKind::Str).length(0, 512),
        Prop::new("enabled", PropKind::Bool).default("true"),
        Prop::new("flexible_window_minutes", PropKind::Int).range(0, 1440).default("0"),
        Prop::new("target", PropKind::Object(SCHEDULE_TARGET)).required(),
    ],
    attrs: &["id", "arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Named(&["name"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: Some(check_schedule),
};

pub struct Schedule;

macro_rules! schedule_call {
    ($req:expr, $p:expr) => {{
        use aws_sdk_scheduler::types as st;
        let p = $p;
        let t = p.get("target");
        let field = |f: &str| t.and_then(|t| t.get(f)).and_then(Value::as_str).map(String::from);
        let target = st::Target::builder()
            .set_arn(field("arn"))
            .set_role_arn(field("role_arn"))
            .set_input(t.and_then(|t| t.get("input")).filter(|v| !v.is_null()).map(super::text))
            .build()
            .map_err(super::invalid)?;
        let minutes = super::int32(p, "flexible_window_minutes")?.unwrap_or(0);
        let window = if minutes == 0 {
            st::FlexibleTimeWindow::builder().mode(st::FlexibleTimeWindowMode::Off).build()
        } else {
            st::FlexibleTimeWindow::builder()
                .mode(st::FlexibleTimeWindowMode::Flexible)
                .maximum_window_in_minutes(minutes)
                .build()
        }
        .map_err(super::invalid)?;
        let state = if p.get("enabled").and_then(Value::as_bool) == Some(false) { "DISABLED" } else { "ENABLED" };
        $req.name(str_prop(p, "name").unwrap_or_default())
            .group_name(str_prop(p, "group_name").unwrap_or("default"))
            .schedule_expression(str_prop(p, "schedule_expression").unwrap_or_default())
            .schedule_expression_timezone(str_prop(p, "timezone").unwrap_or("UTC"))
            .set_description(str_prop(p, "description").map(String::from))
            .state(st::ScheduleState::from(state))
            .flexible_time_window(window)
            .target(target)
            .send()
            .await?
    }};
}

#[async_trait]
impl AwsResource for Schedule {
    async fn existing_id(&self, _c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        Ok(str_prop(p, "name").map(|n| format!("{}/{n}", str_prop(p, "group_name").unwrap_or("default"))))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = schedule_call!(c.scheduler.create_schedule(), p);
        let id = self.existing_id(c, p).await?.unwrap_or_default();
        let attributes = Map::from_iter([("arn".into(), json!(out.schedule_arn()))]);
        Ok(Observed { id, properties: p.clone(), attributes })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let (group, name) = id.split_once('/').unwrap_or(("default", id));
            let res = c.scheduler.get_schedule().name(name).group_name(group).send().await;
            let Some(s) = absent_if(res, "ResourceNotFoundException")? else {
                out.push(None);
                continue;
            };
            let mut p = Props::new();
            p.insert("name".into(), json!(name));
            p.insert("group_name".into(), json!(s.group_name().unwrap_or(group)));
            p.insert("schedule_expression".into(), json!(s.schedule_expression().unwrap_or_default()));
            p.insert("timezone".into(), json!(s.schedule_expression_timezone().unwrap_or("UTC")));
            if let Some(d) = s.description().filter(|d| !d.is_empty()) {
                p.insert("description".into(), json!(d));
            }
            p.insert("enabled".into(), json!(s.state().map(|s| s.as_str()) != Some("DISABLED")));
            let window = s.flexible_time_window().and_then(|w| w.maximum_window_in_minutes()).unwrap_or(0);
            p.insert("flexible_window_minutes".into(), json!(window));
            if let Some(t) = s.target() {
                let mut target = Map::new();
                target.insert("arn".into(), json!(t.arn()));
                target.insert("role_arn".into(), json!(t.role_arn()));
                if let Some(i) = t.input() {
                    target.insert("input".into(), serde_json::from_str(i).unwrap_or(json!(i)));
                }
                p.insert("target".into(), Value::Object(target));
            }
            let attributes = Map::from_iter([("id".into(), json!(id)), ("arn".into(), json!(s.arn()))]);
            out.push(Some(Observed { id: id.clone(), properties: p, attributes }));
        }
        Ok(out)
    }

    /// `UpdateSchedule` replaces the whole schedule.
    async fn update(
        &self,
        c: &Call<'_>,
        _id: &str,
        _old: &Props,
        new: &Props,
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        schedule_call!(c.scheduler.update_schedule(), new);
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let (group, name) = id.split_once('/').unwrap_or(("default", id));
        c.scheduler.delete_schedule().name(name).group_name(group).send().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::schedule_problem;

    #[test]
    fn schedule_expressions_as_eventbridge_takes_them() {
        for ok in ["rate(2 minutes)", "rate(1 hour)", "rate(7 days)", "cron(0/2 * * * ? *)"] {
            assert_eq!(schedule_problem(ok, false), None, "{ok}");
        }
        for bad in [
            "rate(1 minutes)",
            "rate(2 minute)",
            "rate(0 minutes)",
            "rate(-2 minutes)",
            "cron(* * * * *)",
            "every 2 minutes",
            "at(2026-01-01T00:00:00)",
        ] {
            assert!(schedule_problem(bad, false).is_some(), "{bad}");
        }
        assert_eq!(schedule_problem("at(2026-01-01T00:00:00)", true), None);
    }
}
