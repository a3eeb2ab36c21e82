//! Creating accounts in the organization: the AWS half of the "create an AWS account"
//! action (the Port half, the run's reporting, is `daemon::actions`).
//!
//! Every call is made as the account-creation role, a role in the management account
//! assumed with the external ID and kept apart from the read role the sync uses:
//! `organizations:CreateAccount` (with `TagResource` for the tags),
//! `DescribeCreateAccountStatus`, `ListParents` and `MoveAccount`. The read role in the new
//! account is created through the account's admin role (`OrganizationAccountAccessRole` by
//! default, or the role name given at creation), which AWS makes trust the management
//! account.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_organizations::types::{CreateAccountState, Tag};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::AwsError;
use super::credentials::assume_role;

/// The role AWS creates in a new account when none is named.
pub(crate) const DEFAULT_ADMIN_ROLE: &str = "OrganizationAccountAccessRole";

/// What to create.
#[derive(Debug, Clone)]
pub(crate) struct NewAccount {
    /// The account's name.
    pub(crate) name: String,
    /// The root user's email address.
    pub(crate) email: String,
    /// The admin role AWS creates in it (AWS's default when `None`).
    pub(crate) admin_role: Option<String>,
    /// Tags of the account.
    pub(crate) tags: Vec<(String, String)>,
}

/// Where a creation request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Creation {
    /// AWS is still creating it.
    InProgress,
    /// Created: the new account's id.
    Succeeded {
        /// The 12-digit account id.
        account_id: String,
    },
    /// AWS gave up: its reason code (`EMAIL_ALREADY_EXISTS`…).
    Failed {
        /// `FailureReason`, as AWS spells it.
        reason: String,
    },
}

/// The organization's management account, acting as the account-creation role.
pub(crate) struct AccountFactory {
    config: SdkConfig,
    org: aws_sdk_organizations::Client,
    partition: String,
}

impl AccountFactory {
    /// Assumes the account-creation role (with the external ID) from the base identity.
    pub(crate) async fn assume(
        base: &SdkConfig,
        role_arn: &str,
        external_id: Option<&SecretString>,
    ) -> Result<AccountFactory, AwsError> {
        let config = assume_role(
            base,
            role_arn,
            "AwsCatalogSyncAccountCreation",
            external_id,
            Duration::from_secs(300),
        )
        .await?;
        Ok(AccountFactory {
            org: aws_sdk_organizations::Client::new(&config),
            config,
            partition: role_arn.split(':').nth(1).unwrap_or("aws").to_string(),
        })
    }

    /// `organizations:CreateAccount`: starts the creation; returns the request id (what
    /// `DescribeCreateAccountStatus` follows) and where it is.
    pub(crate) async fn create(
        &self,
        account: &NewAccount,
    ) -> Result<(String, Creation), AwsError> {
        const OP: &str = "organizations:CreateAccount";
        let mut tags = Vec::with_capacity(account.tags.len());
        for (k, v) in &account.tags {
            tags.push(
                Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(|e| AwsError::other(OP, e.to_string()))?,
            );
        }
        let out = self
            .org
            .create_account()
            .account_name(&account.name)
            .email(&account.email)
            .set_role_name(account.admin_role.clone())
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        let status = out
            .create_account_status()
            .ok_or_else(|| AwsError::other(OP, "the answer has no CreateAccountStatus"))?;
        let id = status
            .id()
            .ok_or_else(|| AwsError::other(OP, "the answer has no request id"))?;
        Ok((id.to_string(), creation(OP, status)?))
    }

    /// `organizations:DescribeCreateAccountStatus`.
    pub(crate) async fn status(&self, request_id: &str) -> Result<Creation, AwsError> {
        const OP: &str = "organizations:DescribeCreateAccountStatus";
        let out = self
            .org
            .describe_create_account_status()
            .create_account_request_id(request_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        let status = out
            .create_account_status()
            .ok_or_else(|| AwsError::other(OP, "the answer has no CreateAccountStatus"))?;
        creation(OP, status)
    }

    /// Moves the account into `ou` from wherever it is (a new account starts under the
    /// root). Returns the parent it came from; nothing moves when it is already there.
    pub(crate) async fn move_to(&self, account_id: &str, ou: &str) -> Result<String, AwsError> {
        let parents = self
            .org
            .list_parents()
            .child_id(account_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("organizations:ListParents", e))?;
        let from = parents
            .parents()
            .first()
            .and_then(|p| p.id())
            .ok_or_else(|| {
                AwsError::other("organizations:ListParents", "the account has no parent")
            })?
            .to_string();
        if from != ou {
            self.org
                .move_account()
                .account_id(account_id)
                .source_parent_id(&from)
                .destination_parent_id(ou)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("organizations:MoveAccount", e))?;
        }
        Ok(from)
    }

    /// Creates, in the new account, the role the sync assumes there (`read_role`: the
    /// `role/<path/>name` part of `accountRoleArn`), trusting `trusted` (the sync's base
    /// identity) with the external ID, with AWS's `ReadOnlyAccess`. Works through the
    /// account's admin role, which a freshly created account may take a few seconds to let
    /// assume. An existing role is kept (a resumed run creates nothing twice). Returns the
    /// role's ARN.
    pub(crate) async fn create_read_role(
        &self,
        account_id: &str,
        admin_role: &str,
        read_role: &str,
        trusted: &str,
        external_id: Option<&SecretString>,
    ) -> Result<String, AwsError> {
        let p = &self.partition;
        let admin_arn = format!("arn:{p}:iam::{account_id}:role/{admin_role}");
        let mut attempt = 0;
        let admin = loop {
            match assume_role(
                &self.config,
                &admin_arn,
                "AwsCatalogSyncAccountSetup",
                None,
                Duration::from_secs(300),
            )
            .await
            {
                Ok(config) => break config,
                // IAM in a brand-new account becomes consistent within seconds to minutes.
                Err(e) if attempt < 6 => {
                    attempt += 1;
                    tracing::debug!(account = account_id, error = %e, attempt, "the new account's admin role cannot be assumed yet; retrying");
                    tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
                }
                Err(e) => return Err(e),
            }
        };
        let iam = aws_sdk_iam::Client::new(&admin);
        let (path, name) = match read_role
            .strip_prefix("role/")
            .unwrap_or(read_role)
            .rsplit_once('/')
        {
            Some((path, name)) => (format!("/{path}/"), name.to_string()),
            None => (
                "/".to_string(),
                read_role
                    .strip_prefix("role/")
                    .unwrap_or(read_role)
                    .to_string(),
            ),
        };
        let mut statement = json!({
            "Effect": "Allow",
            "Principal": {"AWS": trusted},
            "Action": "sts:AssumeRole",
        });
        if let Some(id) = external_id {
            statement["Condition"] =
                json!({"StringEquals": {"sts:ExternalId": id.expose_secret()}});
        }
        let trust = json!({"Version": "2012-10-17", "Statement": [statement]}).to_string();
        let created = iam
            .create_role()
            .role_name(&name)
            .path(&path)
            .assume_role_policy_document(trust)
            .description("Read-only role assumed by aws-catalog-sync")
            .send()
            .await;
        let arn = match created {
            Ok(out) => out.role().map(|r| r.arn().to_string()),
            Err(e) => {
                let e = AwsError::from_sdk("iam:CreateRole", e);
                if e.code() != Some("EntityAlreadyExists") {
                    return Err(e);
                }
                None
            }
        }
        .unwrap_or_else(|| format!("arn:{p}:iam::{account_id}:role{path}{name}"));
        iam.attach_role_policy()
            .role_name(&name)
            .policy_arn(format!("arn:{p}:iam::aws:policy/ReadOnlyAccess"))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam:AttachRolePolicy", e))?;
        Ok(arn)
    }
}

impl std::fmt::Debug for AccountFactory {
    // The config holds credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountFactory").finish_non_exhaustive()
    }
}

fn creation(
    op: &'static str,
    status: &aws_sdk_organizations::types::CreateAccountStatus,
) -> Result<Creation, AwsError> {
    Ok(match status.state() {
        Some(CreateAccountState::Succeeded) => Creation::Succeeded {
            account_id: status
                .account_id()
                .ok_or_else(|| AwsError::other(op, "SUCCEEDED without an AccountId"))?
                .to_string(),
        },
        Some(CreateAccountState::Failed) => Creation::Failed {
            reason: status
                .failure_reason()
                .map(|r| r.as_str().to_string())
                .unwrap_or_else(|| "UNKNOWN".into()),
        },
        Some(CreateAccountState::InProgress) => Creation::InProgress,
        other => {
            return Err(AwsError::other(
                op,
                format!("unknown state {:?}", other.map(|s| s.as_str())),
            ));
        }
    })
}

/// The IAM principal of `config`'s credentials as a trust policy names it: an assumed-role
/// session (`arn:aws:sts::1:assumed-role/Name/session`) becomes its role
/// (`arn:aws:iam::1:role/Name`; a role under a path must be trusted by hand).
pub(crate) async fn identity(config: &SdkConfig) -> Result<String, AwsError> {
    let out = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("sts:GetCallerIdentity", e))?;
    let arn = out
        .arn()
        .ok_or_else(|| AwsError::other("sts:GetCallerIdentity", "the answer has no Arn"))?;
    Ok(principal_of(arn))
}

fn principal_of(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if let [_, partition, "sts", _, account, resource] = parts.as_slice()
        && let Some(rest) = resource.strip_prefix("assumed-role/")
    {
        let role = rest.split('/').next().unwrap_or(rest);
        return format!("arn:{partition}:iam::{account}:role/{role}");
    }
    arn.to_string()
}

/// A person's words for AWS's `FailureReason` of a failed creation.
pub(crate) fn failure_text(reason: &str) -> String {
    let text = match reason {
        "EMAIL_ALREADY_EXISTS" => {
            "an AWS account already uses this email address; choose another one"
        }
        "ACCOUNT_LIMIT_EXCEEDED" => {
            "the organization has reached its limit of accounts; ask AWS Support to raise it"
        }
        "CONCURRENT_ACCOUNT_MODIFICATION" => {
            "another change to the organization's accounts was in progress; run the action again in a few minutes"
        }
        "INVALID_ADDRESS" | "INVALID_EMAIL" => "AWS did not accept the email address",
        "INTERNAL_FAILURE" => "AWS failed internally; run the action again later",
        "MISSING_PAYMENT_INSTRUMENT" | "INVALID_PAYMENT_INSTRUMENT" => {
            "the management account has no valid payment method"
        }
        "MISSING_BUSINESS_VALIDATION"
        | "PENDING_BUSINESS_VALIDATION"
        | "FAILED_BUSINESS_VALIDATION"
        | "UNKNOWN_BUSINESS_VALIDATION"
        | "INVALID_IDENTITY_FOR_BUSINESS_VALIDATION" => {
            "AWS has not finished validating the management account; try again once it has"
        }
        "GOVCLOUD_ACCOUNT_ALREADY_EXISTS" => "a GovCloud account already exists for this account",
        "UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED" => {
            "the tags cannot be applied with the organization's resource policy"
        }
        _ => "AWS gave no explanation",
    };
    format!("{text} ({reason})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assumed_role_session_is_trusted_as_its_role() {
        assert_eq!(
            principal_of("arn:aws:sts::123456789012:assumed-role/Sync/session-1"),
            "arn:aws:iam::123456789012:role/Sync"
        );
        assert_eq!(
            principal_of("arn:aws:iam::123456789012:user/ci"),
            "arn:aws:iam::123456789012:user/ci"
        );
        assert_eq!(principal_of("garbage"), "garbage");
    }

    #[test]
    fn failure_reasons_are_explained_and_named() {
        let t = failure_text("EMAIL_ALREADY_EXISTS");
        assert!(t.contains("already uses this email") && t.ends_with("(EMAIL_ALREADY_EXISTS)"));
        assert!(failure_text("SOMETHING_NEW").contains("SOMETHING_NEW"));
    }
}
