//! One home for the AWS SDK plumbing shared by the provider and the S3 state backend:
//! loading configuration through the default chain, the S3 client (path-style against an
//! endpoint override), and turning SDK errors into codes, messages and kinds.

pub mod error;
pub mod rate;
pub mod s3;

use aws_config::SdkConfig;

/// Load AWS configuration through the default chain (environment, profiles, SSO, IMDS),
/// with the region and endpoint of the environment file. `AWS_ENDPOINT_URL`, when set,
/// wins over the file's endpoint; throttling, 5xx answers and lost answers are retried
/// with jittered exponential backoff (standard mode: a retry quota per client, so per service).
pub async fn load_config(region: Option<&str>, endpoint: Option<&str>) -> SdkConfig {
    load_config_as(region, endpoint, None).await
}

/// [`load_config`], then, with `role`, credentials from assuming that role (STS
/// `AssumeRole` with the caller's credentials, refreshed before they expire).
pub async fn load_config_as(
    region: Option<&str>,
    endpoint: Option<&str>,
    role: Option<&crate::config::AssumeRole>,
) -> SdkConfig {
    use aws_config::retry::RetryConfig;
    // The one HTTPS client, given to the loader so that the credential chain (SSO, STS
    // web identity and AssumeRole, IMDS, ECS) uses it too: the SDK is built without one
    // of its own (Cargo.toml).
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client());
    // More patience than the SDK's 3 attempts, unless the user chose (`AWS_MAX_ATTEMPTS`,
    // `AWS_RETRY_MODE`): a 30-minute apply should not fail on a burst of throttling.
    if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() && std::env::var_os("AWS_RETRY_MODE").is_none() {
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(8));
    }
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_string()));
    }
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        if let Some(e) = endpoint {
            loader = loader.endpoint_url(e);
        }
    }
    let config = loader.load().await;
    // Every call of every client passes the rate limits of its service: the process's one
    // set of buckets, whichever configuration made the client.
    let base = config.http_client().unwrap_or_else(https_client);
    let limited = rate::Limited::new(base, rate::process());
    let config = config.to_builder().http_client(limited).build();
    let Some(role) = role else { return config };
    let mut assume = aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone())
        .session_name(role.session_name.clone())
        .configure(&config);
    if let Some(id) = &role.external_id {
        assume = assume.external_id(id.clone());
    }
    let provider = assume.build().await;
    config.to_builder().credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(provider)).build()
}

/// The HTTPS client: hyper 1 with rustls over ring, the platform's trusted roots, and
/// proxies from the environment (`HTTPS_PROXY`, `NO_PROXY`), as the SDK's default client
/// is but for the crypto provider; made here so that [`rate::Limited`] can wrap it.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::{proxy::ProxyConfig, tls, Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring));
        conn.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            conn.set_sleep_impl(c.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}

pub fn has_region(config: &SdkConfig) -> bool {
    config.region().is_some()
}

/// The S3 client: path-style addressing whenever an endpoint override is set (emulators
/// and S3-compatible stores do not serve virtual-hosted buckets).
/// `region`, when given, overrides the configuration's (a state bucket in another region).
pub fn s3_client(config: &SdkConfig, region: Option<&str>) -> aws_sdk_s3::Client {
    let mut b = aws_sdk_s3::config::Builder::from(config).force_path_style(config.endpoint_url().is_some());
    if let Some(r) = region {
        b = b.region(aws_sdk_s3::config::Region::new(r.to_string()));
    }
    aws_sdk_s3::Client::from_conf(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// #28: the state store, refresh and apply each load their own configuration; their
    /// calls must still pass one bucket per service, or together they exceed AWS's rate.
    /// Two configurations here, as the state store's and the provider's; the endpoint is a
    /// closed port, so each call fails at once, after passing the limiter.
    #[test]
    fn every_configuration_of_the_process_shares_one_rate_bucket_per_service() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
            let endpoint = format!("http://{closed}");
            let once = |c: SdkConfig| {
                let keys = aws_sdk_s3::config::Credentials::new("test", "test", None, None, "test");
                c.to_builder()
                    .retry_config(aws_config::retry::RetryConfig::disabled())
                    .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(keys))
                    .build()
            };
            let state_store = once(load_config(Some("us-east-1"), Some(&endpoint)).await);
            let provider = once(load_config(Some("us-east-1"), Some(&endpoint)).await);
            let before = rate::process().taken("s3");
            let _ = s3_client(&state_store, None).get_object().bucket("state").key("prod.json").send().await;
            let _ = s3_client(&provider, None).head_bucket().bucket("data").send().await;
            let _ = s3_client(&provider, None).list_buckets().send().await;
            // Other tests of this process may call S3 meanwhile: at least ours, all through it.
            assert!(rate::process().taken("s3") >= before + 3, "{} then {}", before, rate::process().taken("s3"));
        });
    }
}
