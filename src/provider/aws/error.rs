//! Turning SDK errors into AWS's error code and message.

use crate::provider::ProviderError;
use aws_smithy_runtime_api::client::result::SdkError;
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

impl<E, R> From<SdkError<E, R>> for ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    fn from(e: SdkError<E, R>) -> ProviderError {
        let (code, message) = sdk_error(&e);
        ProviderError { code, message, created_id: None }
    }
}

/// True for "it is already gone" error codes.
pub fn is_not_found(e: &ProviderError) -> bool {
    e.code.contains("NotFound") || e.code.starts_with("NoSuch") || e.code == "404"
}
