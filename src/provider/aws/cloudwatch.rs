//! CloudWatch metric alarms (DMS latency, queue age, MSK disk, Lambda errors), with the
//! SNS topics they notify.

use super::{absent_if, int32, str_prop, strings, tags_prop, AwsResource, Call};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use aws_sdk_cloudwatch::types as cw;
use serde_json::{json, Map, Value};

const STATISTICS: &[&str] = &["Average", "Sum", "Minimum", "Maximum", "SampleCount"];

const OPERATORS: &[&str] =
    &["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"];

/// The period is 10, 20, 30 or a multiple of 60 seconds; at most a day of evaluation;
/// datapoints to alarm no more than the evaluation periods.
fn check_alarm(k: &Known) -> Vec<Finding> {
    let mut out = Vec::new();
    let period = k.get("period").and_then(Value::as_i64);
    if let Some(p) = period {
        if ![10, 20, 30].contains(&p) && p % 60 != 0 {
            out.push(Finding::new(
                "period",
                format!("a period of {p} seconds: CloudWatch takes 10, 20, 30 or a multiple of 60"),
                "use 60, 300, …",
            ));
        }
    }
    let periods = k.get("evaluation_periods").and_then(Value::as_i64);
    if let (Some(p), Some(n)) = (period, periods) {
        if p * n > 86_400 {
            out.push(Finding::new(
                "evaluation_periods",
                format!("{n} periods of {p} seconds is more than the day an alarm may look back"),
                "lower `evaluation_periods` or `period`",
            ));
        }
    }
    if let (Some(d), Some(n)) = (k.get("datapoints_to_alarm").and_then(Value::as_i64), periods) {
        if d > n {
            out.push(Finding::new(
                "datapoints_to_alarm",
                format!("{d} datapoints out of {n} evaluation periods can never happen"),
                "make `datapoints_to_alarm` at most `evaluation_periods`",
            ));
        }
    }
    for prop in ["alarm_actions", "ok_actions"] {
        for a in k.get(prop).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !a.starts_with("arn:") {
                out.push(Finding::new(
                    prop,
                    format!("`{a}` is not an ARN"),
                    "reference the topic's ARN, e.g. `${alerts.arn}`",
                ));
            }
        }
    }
    out
}

pub static METRIC_ALARM: TypeSchema = TypeSchema {
    name: "aws.cloudwatch.metric_alarm",
    doc: "A CloudWatch alarm on one metric (DMS `CDCLatencySource`, SQS `ApproximateAgeOfOldestMessage`, MSK `KafkaDataLogsDiskUsed`, Lambda `Errors`), notifying SNS topics when it fires and when it clears. The threshold is a whole number.",
    props: &[
        Prop::new("alarm_name", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("description", PropKind::Str).length(0, 1024),
        Prop::new("namespace", PropKind::Str).length(1, 255).required(),
        Prop::new("metric_name", PropKind::Str).length(1, 255).required(),
        Prop::new("dimensions", PropKind::Map(&PropKind::Str)).default("{}"),
        Prop::new("statistic", PropKind::Enum(STATISTICS)).default("\"Average\""),
        Prop::new("period", PropKind::Int).range(10, 86_400).default("300"),
        Prop::new("evaluation_periods", PropKind::Int).range(1, 1440).default("1"),
        Prop::new("datapoints_to_alarm", PropKind::Int).range(1, 1440),
        Prop::new("threshold", PropKind::Int).range(-1_000_000_000, 1_000_000_000).required(),
        Prop::new("comparison_operator", PropKind::Enum(OPERATORS)).required(),
        Prop::new("treat_missing_data", PropKind::Enum(&["breaching", "notBreaching", "ignore", "missing"]))
            .default("\"missing\""),
        Prop::new("alarm_actions", PropKind::List(&PropKind::Str)).default("[]"),
        Prop::new("ok_actions", PropKind::List(&PropKind::Str)).default("[]"),
        Prop::new("actions_enabled", PropKind::Bool).default("true"),
        TAGS,
    ],
    attrs: &["arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("alarm_name"),
    arn: Some("arn:{partition}:cloudwatch:{region}:{account}:alarm:{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: Some(check_alarm),
};

pub struct MetricAlarm;

pub(super) fn cw_tags(tags: impl IntoIterator<Item = (String, String)>) -> Vec<cw::Tag> {
    tags.into_iter().map(|(k, v)| cw::Tag::builder().key(k).value(v).build()).collect()
}

/// A threshold as AWS reports it (a double), as the stack writes it: a whole number as an
/// integer, anything else (set elsewhere) as itself. Converted only when it is exactly an
/// integer in range, never by a cast.
fn threshold_value(t: f64) -> Value {
    format!("{t}").parse::<i64>().map_or_else(|_| json!(t), |n| json!(n))
}

impl MetricAlarm {
    /// `PutMetricAlarm` makes or replaces the whole alarm.
    async fn put(&self, c: &Call<'_>, p: &Props, with_tags: bool) -> Result<(), ProviderError> {
        let dimensions: Vec<cw::Dimension> = p
            .get("dimensions")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| cw::Dimension::builder().name(k).value(super::text(v)).build())
            .collect();
        let threshold = p.get("threshold").and_then(Value::as_f64);
        c.cloudwatch
            .put_metric_alarm()
            .alarm_name(str_prop(p, "alarm_name").unwrap_or_default())
            .set_alarm_description(str_prop(p, "description").map(String::from))
            .namespace(str_prop(p, "namespace").unwrap_or_default())
            .metric_name(str_prop(p, "metric_name").unwrap_or_default())
            .set_dimensions(Some(dimensions))
            .statistic(cw::Statistic::from(str_prop(p, "statistic").unwrap_or("Average")))
            .set_period(int32(p, "period")?)
            .set_evaluation_periods(int32(p, "evaluation_periods")?)
            .set_datapoints_to_alarm(int32(p, "datapoints_to_alarm")?)
            .set_threshold(threshold)
            .comparison_operator(cw::ComparisonOperator::from(str_prop(p, "comparison_operator").unwrap_or_default()))
            .treat_missing_data(str_prop(p, "treat_missing_data").unwrap_or("missing"))
            .set_alarm_actions(Some(strings(p.get("alarm_actions"))))
            .set_ok_actions(Some(strings(p.get("ok_actions"))))
            .actions_enabled(p.get("actions_enabled").and_then(Value::as_bool).unwrap_or(true))
            .set_tags(if with_tags { Some(cw_tags(tags_prop(p))) } else { None })
            .send()
            .await?;
        Ok(())
    }
}

#[async_trait]
impl AwsResource for MetricAlarm {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        self.put(c, p, true).await?;
        let name = str_prop(p, "alarm_name").unwrap_or_default();
        Ok(Observed { id: name.into(), properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let res = c.cloudwatch.describe_alarms().alarm_names(name).send().await;
            let found = absent_if(res, "ResourceNotFound")?;
            let Some(a) = found.as_ref().and_then(|o| o.metric_alarms().iter().find(|a| a.alarm_name() == Some(name)))
            else {
                out.push(None);
                continue;
            };
            let arn = a.alarm_arn().unwrap_or_default().to_string();
            let tags = c.cloudwatch.list_tags_for_resource().resource_arn(&arn).send().await?;
            let mut p = Props::new();
            p.insert("alarm_name".into(), json!(name));
            if let Some(d) = a.alarm_description().filter(|d| !d.is_empty()) {
                p.insert("description".into(), json!(d));
            }
            p.insert("namespace".into(), json!(a.namespace().unwrap_or_default()));
            p.insert("metric_name".into(), json!(a.metric_name().unwrap_or_default()));
            let dims: Map<String, Value> =
                a.dimensions().iter().map(|d| (d.name().unwrap_or_default().to_string(), json!(d.value()))).collect();
            p.insert("dimensions".into(), Value::Object(dims));
            if let Some(s) = a.statistic() {
                p.insert("statistic".into(), json!(s.as_str()));
            }
            p.insert("period".into(), json!(a.period()));
            p.insert("evaluation_periods".into(), json!(a.evaluation_periods()));
            if let Some(d) = a.datapoints_to_alarm() {
                p.insert("datapoints_to_alarm".into(), json!(d));
            }
            p.insert("threshold".into(), threshold_value(a.threshold().unwrap_or_default()));
            if let Some(o) = a.comparison_operator() {
                p.insert("comparison_operator".into(), json!(o.as_str()));
            }
            p.insert("treat_missing_data".into(), json!(a.treat_missing_data().unwrap_or("missing")));
            p.insert("alarm_actions".into(), json!(a.alarm_actions()));
            p.insert("ok_actions".into(), json!(a.ok_actions()));
            p.insert("actions_enabled".into(), json!(a.actions_enabled().unwrap_or(true)));
            p.insert(
                "tags".into(),
                super::tags_value(
                    tags.tags()
                        .iter()
                        .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())),
                ),
            );
            let attributes = Map::from_iter([
                ("id".into(), json!(name)),
                ("arn".into(), json!(arn)),
                ("state".into(), json!(a.state_value().map(|s| s.as_str()))),
            ]);
            out.push(Some(Observed { id: name.clone(), properties: p, attributes }));
        }
        Ok(out)
    }

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
        c.cloudwatch.delete_alarms().alarm_names(id).send().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_read_back_as_written_without_a_cast() {
        assert_eq!(threshold_value(900.0), serde_json::json!(900));
        assert_eq!(threshold_value(-3.0), serde_json::json!(-3));
        assert_eq!(threshold_value(0.5), serde_json::json!(0.5));
        assert_eq!(threshold_value(1e20), serde_json::json!(1e20), "beyond i64: kept as a double");
    }

    #[test]
    fn periods_and_datapoints_are_what_cloudwatch_takes() {
        let k = serde_json::json!({ "period": 90, "evaluation_periods": 2, "datapoints_to_alarm": 3, "alarm_actions": ["alerts"] });
        let props: Vec<&str> = check_alarm(k.as_object().unwrap()).iter().map(|f| f.prop).collect();
        assert_eq!(props, ["period", "datapoints_to_alarm", "alarm_actions"]);
        let long = serde_json::json!({ "period": 3600, "evaluation_periods": 25 });
        assert_eq!(check_alarm(long.as_object().unwrap())[0].prop, "evaluation_periods");
        let ok = serde_json::json!({ "period": 300, "evaluation_periods": 3, "datapoints_to_alarm": 2, "alarm_actions": [null] });
        assert!(check_alarm(ok.as_object().unwrap()).is_empty());
    }
}
