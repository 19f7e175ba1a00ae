//! Turning SDK errors into AWS's error code and message.

use crate::provider::ProviderError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// `(code, message)` of an SDK error; transport failures get the code `RequestFailed`.
pub fn sdk_error<E, R>(e: &SdkError<E, R>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            let code = err.code().unwrap_or("Unknown").to_string();
            let message = err.message().map(str::to_string).unwrap_or_else(|| DisplayErrorContext(err).to_string());
            (code, message)
        }
        other => ("RequestFailed".to_string(), DisplayErrorContext(other).to_string()),
    }
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
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
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

    #[test]
    fn client_errors_are_not_transient() {
        for (status, code) in [(400, "InvalidParameterValue"), (400, "VpcLimitExceeded"), (403, "AccessDenied")] {
            assert!(!is_transient(&answered(status, code)), "{code}");
            let p: ProviderError = answered(status, code).into();
            assert!(!p.transient, "{code}");
        }
    }
}
