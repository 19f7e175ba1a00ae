//! Client-side rate limits: every AWS call (reads, writes, waits' polls, the state
//! backend's, and the SDK's own retries) passes a token bucket of its service, one for
//! reads and one for writes, sized after AWS's documented request rates, so that a large
//! refresh or apply does not throttle itself. A throttling answer halves the bucket's rate;
//! each answer that is not one adds back a fiftieth of the documented rate (additive
//! increase, multiplicative decrease). Changes of rate are logged at `-v`.
//!
//! It sits in the HTTP layer ([`Limited`], wrapping the SDK's HTTP client), where every
//! call of every client passes: the service is read off the request's signature, the
//! operation off its `X-Amz-Target` header, its form body's `Action`, or its HTTP method.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A bucket's size and steady rate (requests per second).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub burst: f64,
    pub per_second: f64,
}

const fn limit(burst: f64, per_second: f64) -> Limit {
    Limit { burst, per_second }
}

/// AWS's documented (or, where AWS documents none, conservative) request rates per
/// service: `(reads, writes)`.
/// - EC2: non-mutating actions 100 burst, 20/s refill; mutating actions 200 burst, 5/s.
/// - RDS: about 12/s for its `Describe*` and its mutating calls alike.
/// - CloudWatch Logs: `DescribeLogGroups` and the log group writes are 5 to 10 per second.
/// - IAM and STS: global services with low account-wide rates.
/// - MSK, MSK Connect, DMS, Redshift Serverless: control planes of slow resources, a few
///   calls per second.
/// - S3: thousands per second per prefix; 100/s is far below them.
/// - SQS: AWS documents no low limit for its queue calls ("nearly unlimited" for standard
///   queues); 50/s keeps a refresh of thousands of queues in seconds.
pub fn limits(service: &str) -> (Limit, Limit) {
    match service {
        "ec2" => (limit(100.0, 20.0), limit(200.0, 5.0)),
        "rds" => (limit(40.0, 12.0), limit(40.0, 12.0)),
        "logs" => (limit(20.0, 10.0), limit(10.0, 5.0)),
        "iam" | "sts" => (limit(40.0, 15.0), limit(20.0, 8.0)),
        "kafka" | "kafkaconnect" | "dms" | "redshift-serverless" => (limit(20.0, 5.0), limit(10.0, 2.0)),
        "s3" => (limit(200.0, 100.0), limit(200.0, 100.0)),
        "sqs" => (limit(100.0, 50.0), limit(100.0, 50.0)),
        _ => (limit(50.0, 20.0), limit(20.0, 10.0)),
    }
}

/// The lowest rate a run of throttling can bring a bucket to.
const FLOOR: f64 = 0.5;

/// One token bucket, with its rate adapting to throttling.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    rate: f64,
    limit: Limit,
    last: Instant,
    /// Tokens taken: calls that passed.
    taken: u64,
}

impl Bucket {
    fn new(limit: Limit) -> Bucket {
        Bucket { tokens: limit.burst, rate: limit.per_second, limit, last: Instant::now(), taken: 0 }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.limit.burst);
        self.last = now;
    }

    /// Take a token, or say how long until one is there.
    fn take(&mut self, now: Instant) -> Option<Duration> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.taken += 1;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }

    /// A throttling answer: halve the rate. Returns the new rate.
    fn throttled(&mut self, now: Instant) -> f64 {
        self.refill(now);
        self.rate = (self.rate / 2.0).max(FLOOR);
        self.rate
    }

    /// Any other answer: add back a fiftieth of the documented rate. Returns the new rate
    /// when it changed.
    fn answered(&mut self, now: Instant) -> Option<f64> {
        if self.rate >= self.limit.per_second {
            return None;
        }
        self.refill(now);
        self.rate = (self.rate + self.limit.per_second / 50.0).min(self.limit.per_second);
        Some(self.rate)
    }
}

/// The buckets of every service and kind of call, shared by every client of a run.
#[derive(Debug, Default)]
pub struct Rates {
    buckets: Mutex<HashMap<(String, bool), Bucket>>,
}

/// The process's one set of buckets. AWS counts request rates per account and service,
/// not per client: the state store's client, refresh's and apply's, each made from its
/// own configuration, all pass these (`sdk::load_config_as`).
pub fn process() -> Arc<Rates> {
    static RATES: std::sync::OnceLock<Arc<Rates>> = std::sync::OnceLock::new();
    RATES.get_or_init(|| Arc::new(Rates::default())).clone()
}

impl Rates {
    /// How many calls of `service` have passed these buckets.
    pub fn taken(&self, service: &str) -> u64 {
        let all = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        all.iter().filter(|((s, _), _)| s == service).map(|(_, b)| b.taken).sum()
    }

    fn with<T>(&self, service: &str, write: bool, f: impl FnOnce(&mut Bucket) -> T) -> T {
        let mut all = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let b = all.entry((service.to_string(), write)).or_insert_with(|| {
            let (r, w) = limits(service);
            let l = if write { w } else { r };
            let kind = if write { "writes" } else { "reads" };
            tracing::info!("{service} {kind}: at most {} at once, then {} requests/s", l.burst, l.per_second);
            Bucket::new(l)
        });
        f(b)
    }

    /// Wait for a token of the service's bucket.
    pub async fn acquire(&self, service: &str, write: bool) {
        while let Some(wait) = self.with(service, write, |b| b.take(Instant::now())) {
            tracing::trace!(
                service,
                write,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "waiting for the request rate"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Feed an answer back: throttled or not.
    pub fn answered(&self, service: &str, write: bool, throttled: bool) {
        let kind = if write { "writes" } else { "reads" };
        if throttled {
            let rate = self.with(service, write, |b| b.throttled(Instant::now()));
            tracing::info!("{service} throttled our {kind}: slowing them to {rate:.1} requests/s");
        } else if let Some((rate, full)) =
            self.with(service, write, |b| b.answered(Instant::now()).map(|r| (r, b.limit.per_second)))
        {
            if rate >= full {
                tracing::info!("{service} {kind} back at {rate:.1} requests/s");
            } else {
                tracing::debug!("{service} {kind} at {rate:.1} requests/s");
            }
        }
    }
}

/// The service a request is signed for (`Credential=…/<date>/<region>/<service>/aws4_request`).
pub fn service_of(req: &HttpRequest) -> String {
    let auth = req.headers().get("authorization").unwrap_or_default();
    auth.split("Credential=")
        .nth(1)
        .and_then(|c| c.split(['/', ',']).nth(3))
        .map(str::to_string)
        .unwrap_or_else(|| "unknown".into())
}

/// Does the request change anything? Its operation (from `X-Amz-Target`, or the `Action`
/// of a form body) is a write unless it starts like a read; without one, its HTTP method tells.
pub fn is_write(req: &HttpRequest) -> bool {
    const READS: [&str; 7] = ["Describe", "List", "Get", "Head", "Search", "Lookup", "BatchGet"];
    let op = req.headers().get("x-amz-target").map(|t| t.rsplit('.').next().unwrap_or(t).to_string()).or_else(|| {
        let body = req.body().bytes()?;
        let text = std::str::from_utf8(body).ok()?;
        text.split('&').find_map(|kv| kv.strip_prefix("Action=")).map(str::to_string)
    });
    match op {
        Some(op) => !READS.iter().any(|r| op.starts_with(r)),
        None => !matches!(req.method(), "GET" | "HEAD"),
    }
}

/// Is this answer AWS saying "slow down"? 429, S3's and EC2's 503s, and the 400s whose
/// error code names throttling (from `x-amzn-ErrorType`, or the body's `<Code>`).
fn is_throttling(status: u16, error_type: Option<&str>, body: Option<&[u8]>) -> bool {
    const CODES: [&str; 7] = [
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "SlowDown",
    ];
    let named = |code: &str| CODES.iter().any(|c| code == *c);
    match status {
        429 => true,
        400 | 503 => {
            if let Some(t) = error_type {
                return named(t.split(':').next().unwrap_or(t));
            }
            let Some(text) = body.and_then(|b| std::str::from_utf8(b).ok()) else { return status == 503 };
            let code = text.split("<Code>").nth(1).and_then(|r| r.split("</Code>").next());
            let json = text.split("\"__type\"").nth(1).and_then(|r| r.split('"').nth(1));
            code.or(json).is_some_and(|c| named(c.rsplit('#').next().unwrap_or(c))) || status == 503
        }
        _ => false,
    }
}

/// The SDK's HTTP client, with every call passing [`Rates`].
#[derive(Debug, Clone)]
pub struct Limited {
    inner: SharedHttpClient,
    rates: Arc<Rates>,
}

impl Limited {
    pub fn new(inner: SharedHttpClient, rates: Arc<Rates>) -> Limited {
        Limited { inner, rates }
    }
}

impl HttpClient for Limited {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            rates: self.rates.clone(),
        })
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    rates: Arc<Rates>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (inner, rates) = (self.inner.clone(), self.rates.clone());
        HttpConnectorFuture::new(async move {
            let service = service_of(&request);
            let write = is_write(&request);
            rates.acquire(&service, write).await;
            let mut resp: HttpResponse = inner.call(request).await?;
            let status = resp.status().as_u16();
            let throttled = if status == 400 || status == 429 || status == 503 {
                let error_type = resp.headers().get("x-amzn-errortype").map(str::to_string);
                // The error's body is small: read it to find its code, and hand it on.
                let body = std::mem::replace(resp.body_mut(), SdkBody::taken());
                let bytes = aws_smithy_types::byte_stream::ByteStream::new(body)
                    .collect()
                    .await
                    .map(|b| b.into_bytes())
                    .unwrap_or_default();
                let t = is_throttling(status, error_type.as_deref(), Some(&bytes));
                *resp.body_mut() = SdkBody::from(bytes);
                t
            } else {
                false
            };
            rates.answered(&service, write, throttled);
            Ok(resp)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(limit(3.0, 2.0));
        b.last = t0;
        for _ in 0..3 {
            assert_eq!(b.take(t0), None);
        }
        let wait = b.take(t0).expect("the burst is spent");
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9, "{wait:?}");
        assert_eq!(b.take(t0 + Duration::from_millis(500)), None, "one token after 1/rate");
        assert!(b.take(t0 + Duration::from_millis(500)).is_some());
        // Never more than the burst, however long it rested.
        b.refill(t0 + Duration::from_secs(3600));
        assert_eq!(b.tokens, 3.0);
    }

    #[test]
    fn throttling_halves_the_rate_and_answers_bring_it_back_to_the_documented_one() {
        let now = Instant::now();
        let mut b = Bucket::new(limit(100.0, 20.0));
        assert_eq!(b.throttled(now), 10.0);
        assert_eq!(b.throttled(now), 5.0);
        for _ in 0..20 {
            b.throttled(now);
        }
        assert_eq!(b.rate, FLOOR, "never below the floor");
        let mut answers = 0;
        while b.answered(now).is_some() {
            answers += 1;
        }
        assert_eq!(b.rate, 20.0, "back to the documented rate, and never above it");
        assert_eq!(answers, 49, "a fiftieth of the documented rate per answer: from 0.5 to 20 in 49");
    }

    #[test]
    fn throttling_answers_are_told_from_other_errors_in_every_protocol() {
        assert!(is_throttling(429, None, None));
        assert!(is_throttling(400, Some("ThrottlingException:http://internal"), None));
        assert!(!is_throttling(400, Some("ValidationException"), None));
        let query = b"<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>";
        assert!(is_throttling(400, None, Some(query)));
        let ec2 = b"<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>";
        assert!(is_throttling(503, None, Some(ec2)));
        let json = br#"{"__type":"com.amazon.coral.availability#ThrottlingException","message":"x"}"#;
        assert!(is_throttling(400, None, Some(json)));
        let invalid = b"<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code></Error></Errors></Response>";
        assert!(!is_throttling(400, None, Some(invalid)));
        assert!(!is_throttling(500, None, Some(query)), "a 500 is an error, not a request to slow down");
    }

    fn request(method: &str, headers: &[(&str, &str)], body: &str) -> HttpRequest {
        let mut r = HttpRequest::new(SdkBody::from(body.to_string()));
        r.set_method(method).unwrap();
        r.set_uri("https://x.amazonaws.com/").unwrap();
        for (k, v) in headers {
            r.headers_mut().insert(k.to_string(), v.to_string());
        }
        r
    }

    #[test]
    fn the_service_and_kind_of_call_are_read_off_the_request() {
        let auth =
            "AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=x";
        let describe = request("POST", &[("authorization", auth)], "Action=DescribeVpcs&Version=2016-11-15");
        assert_eq!(service_of(&describe), "ec2");
        assert!(!is_write(&describe));
        assert!(is_write(&request("POST", &[("authorization", auth)], "Action=CreateVpc&CidrBlock=10.0.0.0%2F16")));
        let target = [("x-amz-target", "Logs_20140328.DescribeLogGroups")];
        assert!(!is_write(&request("POST", &target, "{}")));
        assert!(is_write(&request("POST", &[("x-amz-target", "Logs_20140328.CreateLogGroup")], "{}")));
        assert!(!is_write(&request("GET", &[], "")));
        assert!(is_write(&request("PUT", &[], "")));
        assert_eq!(service_of(&request("GET", &[], "")), "unknown");
    }
}
