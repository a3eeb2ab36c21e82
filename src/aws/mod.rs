//! Everything that talks to AWS.
//!
//! - [`credentials`]: the base SDK config (standard AWS env: `AWS_REGION`,
//!   `AWS_ENDPOINT_URL`, keys, profiles, web identity — plus the integration's static keys
//!   when `credentialProviderPriority` picks them) and `sts:AssumeRole` with the external ID.
//! - [`accounts`]: the account strategy of aws-v3 (Organizations, explicit role ARNs, or the
//!   current account) producing one assumed-role SDK config per account.
//! - [`regions`]: enabled regions per account.
//! - [`collect`]: the (kind, account, region) units of a run and their listing into one
//!   bounded stream of pages; the opt-in rule (a region not enabled is not a failure).
//! - [`kinds`]: one file per `AWS::X::Y` kind and the registry.
//! - [`provision`]: creating accounts in the organization (the "create an AWS account"
//!   action): CreateAccount, its status, the OU, the read role in the new account.

pub mod accounts;
pub(crate) mod collect;
pub mod credentials;
pub mod kinds;
pub(crate) mod provision;
pub(crate) mod regions;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// A failed AWS call, with the operation and AWS's error code.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} failed: {}{message}", code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
pub struct AwsError {
    /// The API operation, e.g. `ec2:DescribeInstances`.
    pub operation: &'static str,
    /// AWS's error code, when the service answered.
    pub code: Option<String>,
    /// What happened.
    pub message: String,
}

impl AwsError {
    /// A failure that is not an API error (bad input, missing data).
    pub(crate) fn other(operation: &'static str, message: impl Into<String>) -> AwsError {
        AwsError {
            operation,
            code: None,
            message: message.into(),
        }
    }

    /// Converts an SDK error, keeping the service's code and message.
    pub(crate) fn from_sdk<E, R>(operation: &'static str, err: SdkError<E, R>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let code = err.code().map(str::to_string);
        let message = match err.message() {
            Some(m) => m.to_string(),
            None => {
                // Transport-level errors: the source chain says what happened (timeout,
                // DNS, connection refused). No credentials appear in it.
                let mut msg = err.to_string();
                let mut source = std::error::Error::source(&err);
                while let Some(s) = source {
                    msg.push_str(": ");
                    msg.push_str(&s.to_string());
                    source = s.source();
                }
                msg
            }
        };
        AwsError {
            operation,
            code,
            message,
        }
    }

    /// The service's error code, if any.
    pub(crate) fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
}
