//! Which accounts a run covers, each with credentials that act in it.
//!
//! aws-v3's three strategies, chosen by configuration:
//! - **Organizations** (`accountRoleArn`): assume that role (session
//!   `OceanOrgAssumeRoleSession`), list ACTIVE accounts (`ListAccounts`, or the `ouId` OUs
//!   and all their descendants), then assume the same role path and name in each account
//!   (`OceanMemberAssumeRoleSession`). When the organization cannot be listed (AccessDenied,
//!   AWSOrganizationsNotInUse, throttling, …) the run **fails**: aws-v3 silently falls back
//!   to the role's own account, which makes every other account's entities look stale. That
//!   fallback happens here only with `organizationsFallbackToSingleAccount: true`.
//! - **Explicit roles** (`accountRoleArns`): exactly those (`OceanRoleSession`).
//! - **Current account** (neither): the base identity's account (`GetCallerIdentity`).
//!
//! Differences from aws-v3, on purpose: role assumption runs concurrently (bounded by
//! `maxConcurrentAccounts`, aws-v3 is sequential); accounts come out sorted by id; and an
//! account whose role cannot be assumed is **reported** (id and AWS's reason) and makes
//! the run partial, where aws-v3 skips it at debug level.

use std::collections::BTreeSet;

use aws_config::SdkConfig;
use futures::{StreamExt, stream};

use super::AwsError;
use super::credentials::assume_role;
use crate::config::AwsSettings;
use crate::pagination::Cursors;

/// An account a run lists resources in.
#[derive(Clone)]
pub struct Account {
    /// 12-digit account id.
    pub id: String,
    /// Organizations name, or `Account <id>` outside Organizations mode.
    pub name: String,
    /// SDK config acting in this account.
    pub config: SdkConfig,
}

impl std::fmt::Debug for Account {
    // The SDK config holds credentials: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// An account that could not be used.
#[derive(Debug, Clone)]
pub(crate) struct FailedAccount {
    /// Account id.
    pub(crate) id: String,
    /// Why (AWS's code and message).
    pub(crate) reason: String,
}

/// The accounts of one run.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Usable accounts, sorted by id.
    pub accounts: Vec<Account>,
    /// Accounts whose role could not be assumed.
    pub(crate) failed: Vec<FailedAccount>,
}

/// The run-failing error of an organization that could not be listed, with what to check.
fn organizations_unlisted(org_role: &str, e: AwsError) -> AwsError {
    let hint = match e.code() {
        Some("AWSOrganizationsNotInUseException") => {
            "the role's account is not in an organization: use accountRoleArns or no role (current account), or set organizationsFallbackToSingleAccount"
        }
        _ => {
            "check that the role is in the organization's management account or a delegated administrator account, that no SCP denies the call, and that the role's trust policy and permissions allow it"
        }
    };
    AwsError {
        operation: e.operation,
        code: e.code.clone(),
        message: format!(
            "{} (as {org_role}); the organization could not be listed, so nothing was synced or deleted: {hint}",
            e.message
        ),
    }
}

/// Resolves the accounts of this run. An `Err` means no account at all can be used.
pub async fn discover(base: &SdkConfig, settings: &AwsSettings) -> Result<Discovery, AwsError> {
    let discovery = if let Some(org_role) = &settings.account_role_arn {
        organizations(base, settings, org_role).await?
    } else if !settings.account_role_arns.is_empty() {
        let targets = settings
            .account_role_arns
            .iter()
            .map(|arn| RoleTarget {
                account_id: account_of(arn).to_string(),
                name: None,
                role_arn: arn.clone(),
            })
            .collect();
        assume_all(base, settings, targets, "OceanRoleSession").await
    } else {
        current_account(base).await?
    };
    if discovery.accounts.is_empty() {
        let reasons: Vec<String> = discovery
            .failed
            .iter()
            .map(|f| format!("{}: {}", f.id, f.reason))
            .collect();
        return Err(AwsError::other(
            "sts:AssumeRole",
            format!("no account could be accessed ({})", reasons.join("; ")),
        ));
    }
    Ok(discovery)
}

/// The account field of an ARN.
fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

async fn organizations(
    base: &SdkConfig,
    settings: &AwsSettings,
    org_role: &str,
) -> Result<Discovery, AwsError> {
    let org_config = assume_role(
        base,
        org_role,
        "OceanOrgAssumeRoleSession",
        settings.external_id.as_ref(),
        settings.credential_refresh_margin,
    )
    .await?;
    let listed = if settings.ou_ids.is_empty() {
        list_accounts(&org_config).await
    } else {
        list_accounts_under(&org_config, &settings.ou_ids).await
    };
    let listed = match listed {
        Ok(listed) => listed,
        Err(e) if settings.organizations_fallback_to_single_account => {
            let id = account_of(org_role).to_string();
            tracing::warn!(account = %id, error = %e, "Organizations is not accessible; syncing the role's own account only (organizationsFallbackToSingleAccount)");
            return Ok(Discovery {
                accounts: vec![Account {
                    name: format!("Account {id}"),
                    id,
                    config: org_config,
                }],
                failed: Vec::new(),
            });
        }
        // Syncing only the role's account here would make every other account's entities
        // look stale: a failure to list the organization fails the run.
        Err(e) => return Err(organizations_unlisted(org_role, e)),
    };
    if listed.is_empty() {
        return Err(AwsError::other(
            "organizations:ListAccounts",
            "the organization (or the configured OUs) has no ACTIVE account",
        ));
    }
    tracing::info!(
        accounts = listed.len(),
        "discovered accounts through Organizations"
    );
    // `arn:<partition>:iam::<acct>:<resource>` with the org role's partition and resource.
    let parts: Vec<&str> = org_role.splitn(6, ':').collect();
    let (partition, resource) = (parts[1], parts[5]);
    let targets = listed
        .into_iter()
        .map(|(id, name)| {
            let arn = format!("arn:{partition}:iam::{id}:{resource}");
            RoleTarget {
                account_id: id,
                name: Some(name),
                role_arn: arn,
            }
        })
        .collect();
    Ok(assume_all(base, settings, targets, "OceanMemberAssumeRoleSession").await)
}

/// A role to assume in an account.
struct RoleTarget {
    account_id: String,
    /// The account's name, when Organizations told it.
    name: Option<String>,
    role_arn: String,
}

/// Assumes the targets' roles concurrently.
async fn assume_all(
    base: &SdkConfig,
    settings: &AwsSettings,
    targets: Vec<RoleTarget>,
    session_name: &'static str,
) -> Discovery {
    let results: Vec<_> = stream::iter(targets)
        .map(|t| async move {
            let assumed = assume_role(
                base,
                &t.role_arn,
                session_name,
                settings.external_id.as_ref(),
                settings.credential_refresh_margin,
            )
            .await;
            (t.account_id, t.name, assumed)
        })
        .buffer_unordered(settings.max_concurrent_accounts)
        .collect()
        .await;
    let mut discovery = Discovery::default();
    for (id, name, assumed) in results {
        match assumed {
            Ok(config) => discovery.accounts.push(Account {
                name: name.unwrap_or_else(|| format!("Account {id}")),
                id,
                config,
            }),
            Err(e) => {
                tracing::error!(account = %id, error = %e, "cannot assume the role in this account; it is skipped and the run is partial");
                discovery.failed.push(FailedAccount {
                    id,
                    reason: e.to_string(),
                });
            }
        }
    }
    discovery.accounts.sort_by(|a, b| a.id.cmp(&b.id));
    discovery.failed.sort_by(|a, b| a.id.cmp(&b.id));
    discovery
}

async fn current_account(base: &SdkConfig) -> Result<Discovery, AwsError> {
    let sts = aws_sdk_sts::Client::new(base);
    let me = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("sts:GetCallerIdentity", e))?;
    let id = me
        .account()
        .ok_or_else(|| AwsError::other("sts:GetCallerIdentity", "no account in the response"))?
        .to_string();
    Ok(Discovery {
        accounts: vec![Account {
            name: format!("Account {id}"),
            id,
            config: base.clone(),
        }],
        failed: Vec::new(),
    })
}

fn is_active(a: &aws_sdk_organizations::types::Account) -> bool {
    use aws_sdk_organizations::types::{AccountState, AccountStatus};
    match a.state() {
        Some(state) => *state == AccountState::Active,
        // Emulators and older API versions only have the deprecated `Status`.
        None => a.status() == Some(&AccountStatus::Active),
    }
}

/// `ListAccounts`, ACTIVE only, as `(id, name)`.
async fn list_accounts(config: &SdkConfig) -> Result<Vec<(String, String)>, AwsError> {
    let org = aws_sdk_organizations::Client::new(config);
    let mut pages = org.list_accounts().into_paginator().send();
    let mut out = Vec::new();
    // The paginator ends quietly on a token repeated at once: accounts left out would
    // look closed, and their entities stale.
    let mut cursors = Cursors::default();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("organizations:ListAccounts", e))?;
        cursors
            .next(page.next_token())
            .map_err(|e| AwsError::other("organizations:ListAccounts", e.to_string()))?;
        for a in page.accounts() {
            if is_active(a)
                && let Some(id) = a.id()
            {
                out.push((id.to_string(), a.name().unwrap_or(id).to_string()));
            }
        }
    }
    Ok(out)
}

/// Accounts directly under each OU and under all its descendants, depth-first, without
/// duplicates.
async fn list_accounts_under(
    config: &SdkConfig,
    ous: &[String],
) -> Result<Vec<(String, String)>, AwsError> {
    let org = aws_sdk_organizations::Client::new(config);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut stack: Vec<String> = ous.iter().rev().cloned().collect();
    while let Some(parent) = stack.pop() {
        let mut pages = org
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        let mut cursors = Cursors::default();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("organizations:ListAccountsForParent", e))?;
            cursors.next(page.next_token()).map_err(|e| {
                AwsError::other("organizations:ListAccountsForParent", e.to_string())
            })?;
            for a in page.accounts() {
                if is_active(a)
                    && let Some(id) = a.id()
                    && seen.insert(id.to_string())
                {
                    out.push((id.to_string(), a.name().unwrap_or(id).to_string()));
                }
            }
        }
        let mut children = Vec::new();
        let mut pages = org
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        let mut cursors = Cursors::default();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AwsError::from_sdk("organizations:ListOrganizationalUnitsForParent", e)
            })?;
            cursors.next(page.next_token()).map_err(|e| {
                AwsError::other(
                    "organizations:ListOrganizationalUnitsForParent",
                    e.to_string(),
                )
            })?;
            children.extend(
                page.organizational_units()
                    .iter()
                    .filter_map(|ou| ou.id().map(str::to_string)),
            );
        }
        stack.extend(children.into_iter().rev());
    }
    Ok(out)
}
