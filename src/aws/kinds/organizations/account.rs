//! `AWS::Organizations::Account`: every account of the organization, in every state (no
//! ACTIVE filter, unlike account discovery), from `organizations:ListAccounts`.
//!
//! aws-v3 tries `ListAccounts` with each account's session in turn and stops at the first
//! that succeeds, so it normally lists from the management or a delegated-administrator
//! account and lists the organization once. Here that is the [`Scope::Organization`]
//! scope: collection lists the kind once per run, trying the run's accounts one at a time
//! — the account of `accountRoleArn` (where discovery listed the organization) first when
//! set, then the others in discovery order — and stops at the first listing that succeeds.
//! A listing that returns no account at all is not taken as the answer either (an
//! organization always has its management account) and the next account is tried.
//! When every account fails, the kind's unit fails (the run is partial and nothing is
//! deleted on its basis): an empty list would make reconciliation delete every account
//! entity. A listing that fails after sending some pages leaves those items in the run;
//! the next account lists them again (the same entities, written twice).
//!
//! Optional, one call per account (paged), concurrently under [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY):
//! - `ListParentsAction`: `Parents` `[{Id, Type}]`; access denied or not found gives `[]`,
//!   as in aws-v3;
//! - `ListTagsForResourceAction`: `Tags` `[{Key, Value}]`; access denied or not found
//!   leaves `Tags` out, as in aws-v3.
//!
//! Any other failure of an enrichment call leaves its key out for that account, logged and
//! counted ([`ListCtx::enrichment_failed`]). No `__ExtraContext`, as in aws-v3.

use aws_sdk_organizations::types::Account;
use serde_json::{Value, json};

use crate::aws::AwsError;
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, Props, Scope, epoch_time, item};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::Organizations::Account",
    scope: Scope::Organization,
    list: lister!(list),
    default_actions: &[Action {
        name: "ListAccountsAction",
        iam: &["organizations:ListAccounts"],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[PARENTS, TAGS],
    fixture: Fixture {
        example: "organizations-account",
        keys: &[
            "Id",
            "Arn",
            "Email",
            "Name",
            "Status",
            "JoinedMethod",
            "JoinedTimestamp",
        ],
    },
};

/// `ListParentsAction`: `Parents`, `[{Id, Type}]`.
const PARENTS: Action = Action {
    name: "ListParentsAction",
    iam: &["organizations:ListParents"],
    adds: &["Parents"],
    replaces: &[],
};

/// `ListTagsForResourceAction`: `Tags`, `[{Key, Value}]`.
const TAGS: Action = Action {
    name: "ListTagsForResourceAction",
    iam: &["organizations:ListTagsForResource"],
    adds: &["Tags"],
    replaces: &[],
};


/// aws-v3's `is_access_denied_exception` / `is_resource_not_found_exception` codes that
/// its Organizations actions treat as "nothing to add" instead of a failure.
fn denied_or_not_found(e: &AwsError) -> bool {
    matches!(
        e.code(),
        Some(
            "AccessDenied"
                | "AccessDeniedException"
                | "UnauthorizedOperation"
                | "ResourceNotFoundException"
                | "ResourceNotFound"
                | "NotFoundException"
        )
    )
}

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let org = aws_sdk_organizations::Client::new(&ctx.sdk_config());
    let mut pages = org.list_accounts().into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page(
            "organizations:ListAccounts",
            &mut cursors,
            pages.next(),
            |p| p.next_token(),
        )
        .await?
    {
        let items: Vec<Value> = ctx
            .per_resource("organizations", page.accounts().iter().cloned(), |a| {
                let (ctx, org) = (ctx.clone(), org.clone());
                async move { account_item(&ctx, &org, &a).await }
            })
            .await;
        emit.send(items).await?;
    }
    Ok(())
}

#[allow(deprecated)] // `Status` is deprecated for `State`, but aws-v3 emits both.
fn properties(a: &Account) -> Props {
    let mut p = Props::default();
    p.str("Id", a.id())
        .str("Arn", a.arn())
        .str("Email", a.email())
        .str("Name", a.name())
        .str("Status", a.status().map(|s| s.as_str()))
        .str("State", a.state().map(|s| s.as_str()))
        .str("JoinedMethod", a.joined_method().map(|m| m.as_str()))
        // Epoch seconds on the wire: rounded to the microsecond as botocore reads them.
        .opt(
            "JoinedTimestamp",
            a.joined_timestamp().map(|t| epoch_time(t.as_secs_f64())),
        );
    p
}

async fn account_item(ctx: &ListCtx, org: &aws_sdk_organizations::Client, a: &Account) -> Value {
    let mut p = properties(a);
    let id = a.id().unwrap_or_default();
    let (parents, tags) = tokio::join!(
        async {
            if !ctx.runs(&PARENTS) {
                return None;
            }
            Some(parents(ctx, org, id).await)
        },
        async {
            if !ctx.runs(&TAGS) {
                return None;
            }
            Some(tags(ctx, org, id).await)
        }
    );
    match parents {
        None => {}
        Some(Ok(list)) => {
            p.val("Parents", Value::Array(list));
        }
        Some(Err(e)) if denied_or_not_found(&e) => {
            tracing::warn!(account = %ctx.account.id, member = id, error = %e, "cannot list the account's parents; Parents is empty, as in aws-v3");
            p.val("Parents", json!([]));
        }
        Some(Err(e)) => ctx.enrichment_failed(KIND.name, &PARENTS, id, &e),
    }
    match tags {
        None => {}
        Some(Ok(list)) => {
            p.val("Tags", Value::Array(list));
        }
        Some(Err(e)) if denied_or_not_found(&e) => {
            tracing::warn!(account = %ctx.account.id, member = id, error = %e, "cannot list the account's tags; Tags is left out, as in aws-v3");
        }
        Some(Err(e)) => ctx.enrichment_failed(KIND.name, &TAGS, id, &e),
    }
    item(KIND.name, p.build(), None)
}

/// `ListParents(ChildId)`, every page.
async fn parents(
    ctx: &ListCtx,
    org: &aws_sdk_organizations::Client,
    id: &str,
) -> Result<Vec<Value>, AwsError> {
    let mut pages = org.list_parents().child_id(id).into_paginator().send();
    let mut cursors = Cursors::default();
    let mut out = Vec::new();
    while let Some(page) = ctx
        .next_page(
            "organizations:ListParents",
            &mut cursors,
            pages.next(),
            |p| p.next_token(),
        )
        .await?
    {
        out.extend(
            page.parents()
                .iter()
                .map(|p| json!({"Id": p.id(), "Type": p.r#type().map(|t| t.as_str())})),
        );
    }
    Ok(out)
}

/// `ListTagsForResource(ResourceId)`, every page.
async fn tags(
    ctx: &ListCtx,
    org: &aws_sdk_organizations::Client,
    id: &str,
) -> Result<Vec<Value>, AwsError> {
    let mut pages = org
        .list_tags_for_resource()
        .resource_id(id)
        .into_paginator()
        .send();
    let mut cursors = Cursors::default();
    let mut out = Vec::new();
    while let Some(page) = ctx
        .next_page(
            "organizations:ListTagsForResource",
            &mut cursors,
            pages.next(),
            |p| p.next_token(),
        )
        .await?
    {
        out.extend(
            page.tags()
                .iter()
                .map(|t| json!({"Key": t.key(), "Value": t.value()})),
        );
    }
    Ok(out)
}
