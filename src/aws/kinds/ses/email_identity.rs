//! `AWS::SES::EmailIdentity`: `ses:ListEmailIdentities` (every page), then
//! `GetEmailIdentity` once per identity, as aws-v3's `ListEmailIdentitiesAction` and
//! `GetEmailIdentityAction` (both default; the kind has no optional action). Listed only in
//! aws-v3's SES regions ([`REGIONS`](super::REGIONS)).
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are its 12 declared keys, from the
//! listed entry (`IdentityName`, `IdentityType`, `SendingEnabled`, `VerificationStatus`)
//! with the `GetEmailIdentity` answer over it, in the model's order, read from the
//! responses' own JSON ([`RawJson`]) so nested values (`DkimAttributes`,
//! `MailFromAttributes`, `VerificationInfo`, `Policies`) stay as SES sent them; their
//! timestamps, epoch seconds on the wire, as RFC 3339. `__ExtraContext` is
//! `{AccountId, Region}`.
//!
//! A failed `GetEmailIdentity` keeps the identity with its listed keys only (aws-v3's
//! `ListEmailIdentitiesAction` alone), logged and counted. aws-v3 loses the `Get` keys of
//! the whole page when one call fails with an error other than not-found or access denied;
//! here only the identity whose call failed loses them.

use aws_sdk_sesv2::Client;
use serde_json::{Map, Value};

use super::properties;
use crate::aws::AwsError;
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, item};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::SES::EmailIdentity",
    scope: Scope::Regional(Regions::Only(super::REGIONS)),
    list: lister!(list),
    default_actions: &[
        Action {
            name: "ListEmailIdentitiesAction",
            iam: &["ses:ListEmailIdentities"],
            adds: &[],
            replaces: &[],
        },
        GET,
    ],
    optional_actions: &[],
    fixture: Fixture {
        example: "ses-email-identity",
        keys: &[
            "IdentityName",
            "IdentityType",
            "SendingEnabled",
            "FeedbackForwardingStatus",
            "VerifiedForSendingStatus",
            "DkimAttributes",
            "Policies",
            "Tags",
            "VerificationStatus",
        ],
    },
};

/// `GetEmailIdentityAction`: the identity's details, one call per identity.
const GET: Action = Action {
    name: "GetEmailIdentityAction",
    iam: &["ses:GetEmailIdentity"],
    adds: &[],
    replaces: &[],
};

/// aws-v3's declared keys, in its model's order.
const DECLARED: &[&str] = &[
    "IdentityName",
    "IdentityType",
    "SendingEnabled",
    "FeedbackForwardingStatus",
    "VerifiedForSendingStatus",
    "DkimAttributes",
    "MailFromAttributes",
    "Policies",
    "Tags",
    "ConfigurationSetName",
    "VerificationStatus",
    "VerificationInfo",
];

/// Nested timestamps of the declared keys, `(key, member)`.
const STAMPS: &[(&str, &str)] = &[
    ("DkimAttributes", "LastKeyGenerationTimestamp"),
    ("VerificationInfo", "LastCheckedTimestamp"),
    ("VerificationInfo", "LastSuccessTimestamp"),
];

const LIST: &str = "ses:ListEmailIdentities";

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let ses = Client::new(&ctx.sdk_config());
    let mut token: Option<String> = None;
    let mut cursors = Cursors::default();
    // One page at a time, each call with its own body catcher (the SDK's paginator cannot
    // take an interceptor per call). A bound on the pages listed would stop here.
    loop {
        let raw = RawJson::default();
        let call = ses
            .list_email_identities()
            .set_next_token(token.take())
            .customize()
            .interceptor(raw.clone())
            .send();
        let Some(page) = ctx
            .next_page(LIST, &mut cursors, async { Some(call.await) }, |p| {
                p.next_token()
            })
            .await?
        else {
            return Ok(());
        };
        let identities = raw.items("EmailIdentities", page.email_identities().is_empty(), LIST)?;
        let items: Vec<Value> = ctx
            .per_resource("ses", identities, |identity| {
                let (ctx, ses) = (ctx.clone(), ses.clone());
                async move {
                    let Value::Object(listed) = identity else {
                        return None;
                    };
                    let got = match listed.get("IdentityName").and_then(Value::as_str) {
                        Some(name) => get(&ctx, &ses, name).await,
                        None => None,
                    };
                    Some(item(
                        KIND.name,
                        properties(listed, got, DECLARED, STAMPS),
                        Some(ctx.extra_context()),
                    ))
                }
            })
            .await
            .into_iter()
            .flatten()
            .collect();
        emit.send(items).await?;
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(()),
        }
    }
}

/// `GetEmailIdentity` of one identity: its answer's JSON; `None`, logged and counted, when
/// the call failed.
async fn get(ctx: &ListCtx, ses: &Client, name: &str) -> Option<Map<String, Value>> {
    ctx.pace("ses").await;
    let raw = RawJson::default();
    let sent = ses
        .get_email_identity()
        .email_identity(name)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await;
    super::answer(ctx, (KIND.name, &GET, "ses:GetEmailIdentity"), name, sent, &raw)
}
