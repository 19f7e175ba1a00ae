//! Turning SDK errors into AWS's error code and message.

use crate::provider::ProviderError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// `(code, message)` of an SDK error. Failures before an answer get the code
/// `RequestFailed`, or `NoCredentials` when no credentials could be loaded; their message
/// is the chain of causes, one sentence, without the SDK's debug dump.
pub fn sdk_error<E, R>(e: &SdkError<E, R>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            let code = err.code().unwrap_or("Unknown").to_string();
            let message = err.message().map(str::to_string).unwrap_or_else(|| DisplayErrorContext(err).to_string());
            (code, message)
        }
        other => {
            let causes = causes(other);
            match causes.iter().position(|(_, credentials)| *credentials) {
                Some(at) => (
                    "NoCredentials".to_string(),
                    format!("no AWS credentials could be loaded: {}", join(&causes[at..])),
                ),
                None => ("RequestFailed".to_string(), join(&causes)),
            }
        }
    }
}

/// The error and its sources, each as its own text, and whether it is the credential
/// provider's failure.
fn causes(e: &(dyn std::error::Error + 'static)) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let credentials = err.downcast_ref::<aws_credential_types::provider::error::CredentialsError>().is_some();
        out.push((err.to_string(), credentials));
        next = err.source();
    }
    out
}

/// "a: b: c", each cause once (an error whose text already holds its source's is not repeated).
fn join(causes: &[(String, bool)]) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for (text, _) in causes {
        if !text.is_empty() && !parts.last().is_some_and(|p| p.contains(text.as_str())) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Error codes AWS services use for throttling and for their own transient failures.
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServerException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// Would trying again help: throttling, a 5xx, a timeout, or a request whose answer never
/// arrived (the connection failed or the response was cut off)?
pub fn is_transient<E>(e: &SdkError<E, Response>) -> bool
where
    E: ProvideErrorMetadata,
{
    match e {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            matches!(status, 429 | 500 | 502 | 503 | 504)
                || se.err().code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
        }
        // Without credentials, trying again cannot help.
        SdkError::DispatchFailure(d) => !d.as_connector_error().is_some_and(|c| causes(c).iter().any(|(_, x)| *x)),
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        _ => false,
    }
}

impl<E> From<SdkError<E, Response>> for ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    fn from(e: SdkError<E, Response>) -> ProviderError {
        let (code, message) = sdk_error(&e);
        let transient = is_transient(&e);
        let mut p = ProviderError::new(code, message);
        p.transient = transient;
        if transient {
            p.kind = crate::provider::ErrorKind::Transient;
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::operation::create_vpc::CreateVpcError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn answered(status: u16, code: &str) -> SdkError<CreateVpcError, Response> {
        let err = CreateVpcError::generic(ErrorMetadata::builder().code(code).message("m").build());
        let raw = Response::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(err, raw)
    }

    #[test]
    fn throttling_5xx_and_lost_answers_are_transient() {
        assert!(is_transient(&answered(400, "RequestLimitExceeded")));
        assert!(is_transient(&answered(400, "Throttling")));
        assert!(is_transient(&answered(429, "TooManyRequests")));
        assert!(is_transient(&answered(500, "Whatever")));
        assert!(is_transient(&answered(503, "SlowDown")));
        let lost = SdkError::<CreateVpcError, Response>::dispatch_failure(ConnectorError::io(Box::new(
            std::io::Error::from(std::io::ErrorKind::ConnectionReset),
        )));
        assert!(is_transient(&lost));
        let timeout = SdkError::<CreateVpcError, Response>::timeout_error(Box::new(std::io::Error::from(
            std::io::ErrorKind::TimedOut,
        )));
        assert!(is_transient(&timeout));
        let p: ProviderError = answered(500, "InternalError").into();
        assert!(p.transient && p.code == "InternalError");
    }

    /// #27: run without credentials, a command printed the SDK's whole error with its debug
    /// dump (`… (DispatchFailure(DispatchFailure { source: ConnectorError { …`) and retried it.
    #[test]
    fn no_credentials_is_one_sentence_with_its_fix_and_not_retried() {
        use aws_credential_types::provider::error::CredentialsError;
        let none = CredentialsError::provider_error(std::io::Error::other(
            "failed to load IMDS session token: request forbidden: IMDS is disabled",
        ));
        let e = SdkError::<CreateVpcError, Response>::dispatch_failure(ConnectorError::other(Box::new(none), None));
        let (code, message) = sdk_error(&e);
        assert_eq!(code, "NoCredentials");
        assert_eq!(
            message,
            "no AWS credentials could be loaded: an error occurred while loading credentials: failed to load IMDS session token: request forbidden: IMDS is disabled"
        );
        assert!(!is_transient(&e));
        let p: ProviderError = e.into();
        assert_eq!(p.kind, crate::provider::ErrorKind::NoCredentials);
        assert!(!p.transient);
        assert!(p.kind.hint().unwrap().contains("AWS_PROFILE"));
        // Other failures before an answer: the causes, once each, and no debug dump.
        let lost = SdkError::<CreateVpcError, Response>::dispatch_failure(ConnectorError::io(Box::new(
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        )));
        let (code, message) = sdk_error(&lost);
        assert_eq!(code, "RequestFailed");
        assert!(!message.contains('{') && !message.contains("DispatchFailure("), "{message}");
    }

    #[test]
    fn client_errors_are_not_transient() {
        for (status, code) in [(400, "InvalidParameterValue"), (400, "VpcLimitExceeded"), (403, "AccessDenied")] {
            assert!(!is_transient(&answered(status, code)), "{code}");
            let p: ProviderError = answered(status, code).into();
            assert!(!p.transient, "{code}");
        }
    }
}
