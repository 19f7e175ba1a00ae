//! Monthly cost estimates: each priced type's formula over its properties, from an
//! embedded, dated price table (`prices/us-east-1.json`, on-demand list prices;
//! `scripts/update-prices` regenerates it) and stated assumptions for what depends on
//! use (hours a Redshift workgroup is active, Glue runs, S3 gigabytes, Lambda calls),
//! each overridable per environment (`cost: { redshift_active_hours_per_day: 8 }`).
//! A plan's cost, before and after, is worked out from these in `plan::cost`.
//! Pure: no I/O, no provider.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const TABLE: &str = include_str!("../prices/us-east-1.json");

/// The price table, parsed once.
fn table() -> &'static Value {
    static T: OnceLock<Value> = OnceLock::new();
    T.get_or_init(|| serde_json::from_str(TABLE).unwrap_or(Value::Null))
}

/// The date of the price table.
pub fn prices_date() -> &'static str {
    table()["date"].as_str().unwrap_or("unknown")
}

fn hourly(group: &str, key: &str) -> Option<f64> {
    table()["hourly"][group][key].as_f64()
}

fn monthly_price(key: &str) -> f64 {
    table()["monthly"][key].as_f64().unwrap_or(0.0)
}

fn usage_price(key: &str) -> f64 {
    table()["usage"][key].as_f64().unwrap_or(0.0)
}

/// Every assumption: `(name, default, what it means)`.
///
/// Each has an upper bound (the third field), so that no assumption can make an estimate
/// that is not a finite amount; an environment's value outside 0 to it is refused:
/// - `hours_per_month`: 744, the longest month (31 × 24);
/// - `redshift_active_hours_per_day`: 24;
/// - `glue_runs_per_day`: 1,440, one a minute (Glue bills a 1-minute minimum per run:
///   AWS Glue pricing);
/// - `glue_minutes_per_run`: 10,080, the 7-day limit of a Glue job's `Timeout` (AWS Glue
///   API reference, `Job`);
/// - `s3_gb_per_bucket`: 1,000,000,000 (an exabyte; S3 sets no limit on a bucket's size);
/// - `aurora_storage_gb`: 262,144, the 256 TiB an Aurora cluster volume may grow to
///   (Aurora User Guide, "Amazon Aurora size limits");
/// - `msk_storage_gb_per_broker`: 16,384, MSK's 16 TiB per broker (MSK Developer Guide,
///   "Amazon MSK quota");
/// - `nat_gb_per_month`: 33,480,000, a NAT gateway's 100 Gbps for 744 hours (VPC User
///   Guide, "NAT gateway basics");
/// - `lambda_invocations_per_month`: 1,000,000,000,000 (Lambda sets no monthly limit);
/// - `lambda_ms_per_invocation`: 900,000, Lambda's 15-minute timeout (Lambda Developer
///   Guide, "Lambda quotas").
pub const ASSUMPTIONS: &[(&str, f64, f64, &str)] = &[
    ("hours_per_month", 730.0, 744.0, "hours an always-on resource runs in a month"),
    (
        "redshift_active_hours_per_day",
        24.0,
        24.0,
        "hours a day a Redshift Serverless workgroup is active (streaming ingestion with auto refresh keeps it active)",
    ),
    ("glue_runs_per_day", 1.0, 1440.0, "runs a day of a batch Glue job (a streaming job runs all day)"),
    ("glue_minutes_per_run", 10.0, 10_080.0, "minutes a batch Glue run takes"),
    ("s3_gb_per_bucket", 10.0, 1e9, "gigabytes stored in each bucket"),
    ("aurora_storage_gb", 20.0, 262_144.0, "gigabytes an Aurora cluster stores"),
    (
        "msk_storage_gb_per_broker",
        100.0,
        16_384.0,
        "gigabytes of broker storage when the stack does not set `ebs_volume_size`",
    ),
    ("nat_gb_per_month", 10.0, 33_480_000.0, "gigabytes each NAT gateway processes in a month"),
    ("lambda_invocations_per_month", 100_000.0, 1e12, "invocations of each Lambda function in a month"),
    ("lambda_ms_per_invocation", 200.0, 900_000.0, "milliseconds each Lambda invocation runs"),
];

/// The largest monthly estimate a plan shows for one resource: a trillion dollars. An
/// estimate that is not a finite amount within it (a property no bound caught) is left
/// out, so a plan and its file never hold a number JSON cannot write (`inf`, `NaN`).
pub const MAX_MONTHLY: f64 = 1e12;

/// The assumptions in effect: the defaults with an environment's overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assumptions(pub BTreeMap<String, f64>);

impl Assumptions {
    pub fn new(overrides: &BTreeMap<String, f64>) -> Assumptions {
        let mut m: BTreeMap<String, f64> = ASSUMPTIONS.iter().map(|(k, v, _, _)| ((*k).to_string(), *v)).collect();
        m.extend(overrides.iter().map(|(k, v)| (k.clone(), *v)));
        Assumptions(m)
    }

    fn get(&self, k: &str) -> f64 {
        self.0.get(k).copied().unwrap_or(0.0)
    }
}

/// One resource's estimate: dollars a month and how it was worked out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub monthly: f64,
    pub how: String,
    /// Depends on use (the assumptions), not only on what is provisioned.
    pub usage_based: bool,
}

fn num(p: &Map<String, Value>, k: &str) -> Option<f64> {
    p.get(k).and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
}

fn text<'a>(p: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    p.get(k).and_then(Value::as_str).filter(|s| !crate::unknown::is_unknown(&Value::String((*s).to_string())))
}

/// A rate: `$0.015`, `$0.26`, `$0.0000166667`.
fn money(x: f64) -> String {
    let s = format!("{x:.10}");
    let s = s.trim_end_matches('0');
    let decimals = s.split('.').nth(1).map_or(0, str::len);
    if decimals < 2 {
        format!("${x:.2}")
    } else {
        format!("${s}")
    }
}

/// The estimate for a resource of type `ty` with properties `p`; `None` for a type
/// that costs nothing by itself (a subnet, a role) or a value not known before apply.
pub fn estimate(ty: &str, p: &Map<String, Value>, a: &Assumptions) -> Option<Estimate> {
    let hours = a.get("hours_per_month");
    let fixed = |monthly: f64, how: String| Some(Estimate { monthly, how, usage_based: false });
    let usage = |monthly: f64, how: String| Some(Estimate { monthly, how, usage_based: true });
    match ty {
        "aws.msk.cluster" => {
            let class = text(p, "broker_instance_type")?;
            let n = num(p, "broker_count")?;
            let rate = hourly("msk_broker", class)?;
            let gb = num(p, "ebs_volume_size").unwrap_or(a.get("msk_storage_gb_per_broker"));
            let storage = n * gb * monthly_price("msk_storage_gb");
            fixed(n * rate * hours + storage, format!("{n} × {class} at {}/h, {gb} GB storage per broker", money(rate)))
        }
        "aws.mskconnect.connector" => {
            let workers = num(p, "worker_count").unwrap_or(1.0);
            let mcu = num(p, "mcu_count").unwrap_or(1.0);
            let rate = hourly("mskconnect_mcu", "mcu")?;
            fixed(workers * mcu * rate * hours, format!("{workers} worker × {mcu} MCU at {}/MCU-h", money(rate)))
        }
        "aws.rds.cluster_instance" => {
            let class = text(p, "instance_class")?;
            let rate = hourly("aurora_instance", class)?;
            fixed(rate * hours, format!("{class} at {}/h", money(rate)))
        }
        "aws.rds.cluster" => {
            let gb = a.get("aurora_storage_gb");
            usage(gb * monthly_price("aurora_storage_gb"), format!("{gb} GB of Aurora storage (assumed)"))
        }
        "aws.rds.instance" => {
            let class = text(p, "instance_class")?;
            if text(p, "engine").is_some_and(|e| e.starts_with("sqlserver")) {
                return None;
            }
            let rate = hourly("rds_instance", class)?;
            let az = if p.get("multi_az").and_then(Value::as_bool) == Some(true) { 2.0 } else { 1.0 };
            let gb = num(p, "allocated_storage").unwrap_or(20.0);
            fixed(
                az * (rate * hours + gb * monthly_price("ebs_gp2_gb")),
                format!("{class} at {}/h{}, {gb} GB", money(rate), if az > 1.0 { ", Multi-AZ" } else { "" }),
            )
        }
        "aws.redshiftserverless.workgroup" => {
            let rpu = num(p, "base_capacity").unwrap_or(128.0);
            let rate = hourly("redshift_serverless_rpu", "rpu")?;
            let active = a.get("redshift_active_hours_per_day");
            usage(
                rpu * rate * active * hours / 24.0,
                format!("{rpu} RPU at {}/RPU-h, {active} h a day active (assumed)", money(rate)),
            )
        }
        "aws.ec2.nat_gateway" => {
            let rate = hourly("nat_gateway", "hour")?;
            let gb = a.get("nat_gb_per_month");
            usage(
                rate * hours + gb * usage_price("nat_gb_processed"),
                format!("{}/h, {gb} GB processed (assumed)", money(rate)),
            )
        }
        "aws.dms.replication_instance" => {
            let class = text(p, "instance_class")?;
            let rate = hourly("dms_instance", class)?;
            let az = if p.get("multi_az").and_then(Value::as_bool) == Some(true) { 2.0 } else { 1.0 };
            let gb = num(p, "allocated_storage").unwrap_or(50.0);
            fixed(
                az * (rate * hours + gb * monthly_price("ebs_gp2_gb")),
                format!("{class} at {}/h, {gb} GB", money(rate)),
            )
        }
        "aws.glue.job" => {
            let dpu_per_worker = match text(p, "worker_type").unwrap_or("G.1X") {
                "G.025X" => 0.25,
                "G.2X" | "Z.2X" => 2.0,
                "G.4X" => 4.0,
                "G.8X" => 8.0,
                _ => 1.0,
            };
            let command = text(p, "command").unwrap_or("glueetl");
            let (dpu, shape) = if command == "pythonshell" {
                (0.0625, "a Python shell job (1/16 DPU)".to_string())
            } else {
                let workers = num(p, "number_of_workers").unwrap_or(10.0);
                (workers * dpu_per_worker, format!("{workers} × {} workers", text(p, "worker_type").unwrap_or("G.1X")))
            };
            let rate = hourly("glue_dpu", "dpu")?;
            let run_hours = if command == "gluestreaming" {
                hours
            } else {
                a.get("glue_runs_per_day") * a.get("glue_minutes_per_run") / 60.0 * hours / 24.0
            };
            let when = if command == "gluestreaming" {
                "streaming, all day".to_string()
            } else {
                format!(
                    "{} run(s) a day of {} min (assumed)",
                    a.get("glue_runs_per_day"),
                    a.get("glue_minutes_per_run")
                )
            };
            usage(dpu * rate * run_hours, format!("{shape} at {}/DPU-h, {when}", money(rate)))
        }
        "aws.kinesis.stream" => {
            if text(p, "stream_mode") == Some("ON_DEMAND") {
                let rate = hourly("kinesis", "on_demand_stream")?;
                return usage(
                    rate * hours,
                    format!("on-demand stream at {}/h, plus data (not estimated)", money(rate)),
                );
            }
            let shards = num(p, "shard_count").unwrap_or(1.0);
            let rate = hourly("kinesis", "shard")?;
            fixed(shards * rate * hours, format!("{shards} shard(s) at {}/shard-h", money(rate)))
        }
        "aws.mwaa.environment" => {
            let class = text(p, "environment_class").unwrap_or("mw1.small");
            let rate = hourly("mwaa_environment", class)?;
            fixed(rate * hours, format!("{class} at {}/h", money(rate)))
        }
        "aws.ecs.task_definition" => None,
        "aws.ec2.instance" => {
            let class = text(p, "instance_type")?;
            let rate = hourly("ec2_instance", class)?;
            fixed(rate * hours, format!("{class} at {}/h", money(rate)))
        }
        "aws.ec2.vpc_endpoint" => {
            if text(p, "vpc_endpoint_type") != Some("Interface") {
                return None;
            }
            let azs = p.get("subnet_ids").and_then(Value::as_array).map_or(1, Vec::len).max(1);
            let rate = hourly("vpc_interface_endpoint", "az")?;
            let n = f64::from(u32::try_from(azs).unwrap_or(1));
            fixed(n * rate * hours, format!("interface endpoint in {azs} AZ(s) at {}/AZ-h", money(rate)))
        }
        "aws.lambda.function" => {
            let calls = a.get("lambda_invocations_per_month");
            let gb = num(p, "memory_size").unwrap_or(128.0) / 1024.0;
            let seconds = a.get("lambda_ms_per_invocation") / 1000.0;
            let monthly = calls / 1e6 * usage_price("lambda_million_requests")
                + calls * gb * seconds * usage_price("lambda_gb_second");
            usage(
                monthly,
                format!("{calls} invocations of {} ms at {gb} GB (assumed)", a.get("lambda_ms_per_invocation")),
            )
        }
        "aws.s3.bucket" => {
            let gb = a.get("s3_gb_per_bucket");
            usage(gb * monthly_price("s3_standard_gb"), format!("{gb} GB stored (assumed)"))
        }
        "aws.secretsmanager.secret" => fixed(monthly_price("secret"), "one secret".into()),
        "aws.kms.key" => fixed(monthly_price("kms_key"), "one customer managed key".into()),
        "aws.cloudwatch.metric_alarm" => fixed(monthly_price("cloudwatch_alarm"), "one standard alarm".into()),
        _ => None,
    }
}

/// An ECS service's Fargate tasks: `desired_count` × the task definition's CPU and memory.
pub fn fargate(service: &Map<String, Value>, task: &Map<String, Value>, a: &Assumptions) -> Option<Estimate> {
    let count = num(service, "desired_count").unwrap_or(1.0);
    let cpu = num(task, "cpu")? / 1024.0;
    let gb = num(task, "memory")? / 1024.0;
    let (vcpu, mem) = (hourly("fargate", "vcpu")?, hourly("fargate", "gb")?);
    Some(Estimate {
        monthly: count * (cpu * vcpu + gb * mem) * a.get("hours_per_month"),
        how: format!("{count} Fargate task(s) of {cpu} vCPU and {gb} GB"),
        usage_based: false,
    })
}

/// `$1,912` (whole dollars from $10, cents below).
pub fn dollars(x: f64) -> String {
    let x = x + 0.0; // no `-0`
    if x.abs() < 10.0 {
        return format!("${x:.2}");
    }
    let whole = format!("{:.0}", x.abs().round());
    let mut out = String::new();
    for (i, c) in whole.chars().rev().enumerate() {
        if i > 0 && i % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    let sign = if x < 0.0 { "-" } else { "" };
    format!("{sign}${}", out.chars().rev().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn est(ty: &str, v: Value) -> f64 {
        estimate(ty, &props(v), &Assumptions::new(&BTreeMap::new())).map_or(0.0, |e| e.monthly)
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 0.01, "{a} ≠ {b}");
    }

    #[test]
    fn always_on_resources_cost_their_hourly_price_for_730_hours() {
        close(
            est(
                "aws.msk.cluster",
                json!({"broker_instance_type": "kafka.t3.small", "broker_count": 2, "ebs_volume_size": 10}),
            ),
            2.0 * 0.0456 * 730.0 + 2.0 * 10.0 * 0.10,
        );
        close(est("aws.mskconnect.connector", json!({"worker_count": 2, "mcu_count": 1})), 2.0 * 0.11 * 730.0);
        close(est("aws.rds.cluster_instance", json!({"instance_class": "db.r6g.large"})), 0.26 * 730.0);
        close(
            est(
                "aws.rds.instance",
                json!({"instance_class": "db.t3.micro", "allocated_storage": 20, "engine": "postgres"}),
            ),
            0.018 * 730.0 + 20.0 * 0.115,
        );
        close(
            est(
                "aws.rds.instance",
                json!({"instance_class": "db.t3.micro", "allocated_storage": 20, "multi_az": true}),
            ),
            2.0 * (0.018 * 730.0 + 20.0 * 0.115),
        );
        close(est("aws.ec2.nat_gateway", json!({})), 0.045 * 730.0 + 10.0 * 0.045);
        close(
            est("aws.dms.replication_instance", json!({"instance_class": "dms.t3.medium", "allocated_storage": 50})),
            0.072 * 730.0 + 50.0 * 0.115,
        );
        close(est("aws.kinesis.stream", json!({"stream_mode": "PROVISIONED", "shard_count": 2})), 2.0 * 0.015 * 730.0);
        close(est("aws.kinesis.stream", json!({"stream_mode": "ON_DEMAND"})), 0.04 * 730.0);
        close(est("aws.mwaa.environment", json!({"environment_class": "mw1.small"})), 0.49 * 730.0);
        close(est("aws.ec2.instance", json!({"instance_type": "t3.micro"})), 0.0104 * 730.0);
        close(
            est("aws.ec2.vpc_endpoint", json!({"vpc_endpoint_type": "Interface", "subnet_ids": ["a", "b"]})),
            2.0 * 0.01 * 730.0,
        );
        close(est("aws.ec2.vpc_endpoint", json!({"vpc_endpoint_type": "Gateway"})), 0.0);
        close(est("aws.rds.cluster", json!({})), 20.0 * 0.10);
        close(est("aws.secretsmanager.secret", json!({})), 0.40);
        close(est("aws.kms.key", json!({})), 1.0);
        close(est("aws.cloudwatch.metric_alarm", json!({})), 0.10);
    }

    #[test]
    fn usage_based_resources_state_and_honour_their_assumptions() {
        close(est("aws.redshiftserverless.workgroup", json!({"base_capacity": 8})), 8.0 * 0.375 * 730.0);
        let eight = Assumptions::new(&BTreeMap::from([("redshift_active_hours_per_day".to_string(), 8.0)]));
        let e = estimate("aws.redshiftserverless.workgroup", &props(json!({"base_capacity": 8})), &eight).unwrap();
        close(e.monthly, 8.0 * 0.375 * 730.0 / 3.0);
        assert!(e.usage_based && e.how.contains("8 h a day active (assumed)"), "{}", e.how);
        // Glue: a batch job by its runs, a streaming job all day, a Python shell job at 1/16 DPU.
        close(
            est("aws.glue.job", json!({"worker_type": "G.1X", "number_of_workers": 2})),
            2.0 * 0.44 * (10.0 / 60.0) * 730.0 / 24.0,
        );
        close(
            est("aws.glue.job", json!({"command": "gluestreaming", "worker_type": "G.1X", "number_of_workers": 2})),
            2.0 * 0.44 * 730.0,
        );
        close(est("aws.glue.job", json!({"command": "pythonshell"})), 0.0625 * 0.44 * (10.0 / 60.0) * 730.0 / 24.0);
        close(est("aws.s3.bucket", json!({})), 10.0 * 0.023);
        close(
            est("aws.lambda.function", json!({"memory_size": 256})),
            0.1 * 0.20 + 100_000.0 * 0.25 * 0.2 * 0.0000166667,
        );
        // Not priced: a free type, an unknown class, SQL Server's license.
        assert!(estimate("aws.ec2.subnet", &Map::new(), &Assumptions::new(&BTreeMap::new())).is_none());
        close(est("aws.msk.cluster", json!({"broker_instance_type": "kafka.x9.huge", "broker_count": 3})), 0.0);
        close(est("aws.rds.instance", json!({"instance_class": "db.t3.micro", "engine": "sqlserver-ex"})), 0.0);
    }

    #[test]
    fn fargate_tasks_are_priced_by_vcpu_and_memory() {
        let a = Assumptions::new(&BTreeMap::new());
        let e = fargate(&props(json!({"desired_count": 1})), &props(json!({"cpu": 256, "memory": 512})), &a).unwrap();
        close(e.monthly, (0.25 * 0.04048 + 0.5 * 0.004445) * 730.0);
    }

    /// Architecture D's authors publish about $53 a month for their dev environment: MSK
    /// 2 × kafka.t3.small, Glue 2 × G.1X, RDS db.t3.micro, ECS (256 CPU / 512 MB), S3.
    /// With the default assumptions (one 10-minute run a day per Glue job, 10 GB per
    /// bucket, 20 GB of RDS storage, 10 GB per broker) the estimate is the same order of
    /// magnitude: within a factor of three of $53.
    #[test]
    fn architecture_d_dev_is_the_published_order_of_magnitude() {
        let a = Assumptions::new(&BTreeMap::new());
        let total = est(
            "aws.msk.cluster",
            json!({"broker_instance_type": "kafka.t3.small", "broker_count": 2, "ebs_volume_size": 10}),
        ) + est("aws.glue.job", json!({"worker_type": "G.1X", "number_of_workers": 2}))
            + est(
                "aws.rds.instance",
                json!({"instance_class": "db.t3.micro", "allocated_storage": 20, "engine": "postgres"}),
            )
            + fargate(&props(json!({"desired_count": 1})), &props(json!({"cpu": 256, "memory": 512})), &a)
                .unwrap()
                .monthly
            + est("aws.s3.bucket", json!({}));
        assert!((53.0 / 3.0..=53.0 * 3.0).contains(&total), "{total}");
    }

    #[test]
    fn amounts_read_as_dollars() {
        assert_eq!(dollars(1912.4), "$1,912");
        assert_eq!(dollars(2_040_000.0), "$2,040,000");
        assert_eq!(dollars(7.456), "$7.46");
        assert_eq!(dollars(21.9), "$22");
        assert_eq!(dollars(-0.0), "$0.00");
        assert_eq!(money(0.015), "$0.015");
        assert_eq!(money(0.26), "$0.26");
        assert_eq!(money(0.4), "$0.40");
        assert_eq!(prices_date(), "2026-11-01");
    }
}
