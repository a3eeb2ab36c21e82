//! "Create an AWS account" (`POST {prefix}/actions/create-aws-account`): Port's guide's
//! GitLab + Terraform pipeline, served natively.
//!
//! The steps, each a line of the run's log in Port:
//! 1. the inputs are checked (a FAILURE naming the input, before any AWS call);
//! 2. the run is read back from Port: one that has ended is left alone, one that already
//!    carries a CreateAccount request id (`externalRunId`) is followed, not created again
//!    (with the in-process duplicate check, one run creates one account);
//! 3. `CreateAccount`, then the run gets `externalRunId` = the request id and a link;
//! 4. `DescribeCreateAccountStatus`, with backoff, until AWS is done (at most
//!    `ACCOUNT_CREATION_TIMEOUT_MINUTES`); `FAILED` ends the run FAILURE with AWS's reason
//!    in words;
//! 5. the account moves from the root into the OU, when one is given;
//! 6. the read role the sync assumes is created in the account (`CREATE_READ_ROLE`,
//!    Organizations mode), so the next resync covers it;
//! 7. the `awsAccount` entity is written with `?run_id=` while the run is in progress;
//! 8. the run ends SUCCESS with the account id and a link to it.
//!
//! Steps 5–8 are idempotent, so a run resumed after a restart (it has an `externalRunId`)
//! simply goes through them again.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::{Ctx, Handler, Job, Report};
use crate::aws::provision::{self, AccountFactory, Creation, NewAccount};
use crate::port::runs::{self, Outcome, Run, Update};

/// The entity's blueprint (the default mapping's, and the action's trigger's).
const BLUEPRINT: &str = "awsAccount";

/// Waits between two status reads never grow past this.
const MAX_POLL: Duration = Duration::from_secs(60);

pub(super) struct CreateAccount {
    role_arn: String,
}

impl CreateAccount {
    pub(super) fn new(role_arn: String) -> CreateAccount {
        CreateAccount { role_arn }
    }
}

impl Handler for CreateAccount {
    fn route(&self) -> &'static str {
        "create-aws-account"
    }

    fn action(&self) -> &'static str {
        "create_aws_account"
    }

    /// Runs whose `externalRunId` is a CreateAccount request id, whatever the action (an
    /// existing action pointed at this daemon resumes too).
    fn resumes(&self, run: &Run) -> bool {
        run.external_run_id
            .as_deref()
            .is_some_and(|id| id.starts_with("car-"))
    }

    fn work<'a>(&'a self, ctx: &'a Ctx, job: Job) -> BoxFuture<'a, ()> {
        Box::pin(self.run(ctx, job))
    }
}

impl CreateAccount {
    async fn run(&self, ctx: &Ctx, job: Job) {
        let started = Instant::now();
        let report = Report::new(&ctx.port, &job.run_id);
        let inputs = match Inputs::read(&job.inputs) {
            Ok(inputs) => inputs,
            Err(why) => {
                return report
                    .end(
                        Outcome::Failure,
                        format!("Invalid input: {why}"),
                        Vec::new(),
                    )
                    .await;
            }
        };
        // Port's own record says whether this run was already started (by this process
        // before a restart, or a second delivery that reached another replica).
        let run = match runs::get(&ctx.port, &job.run_id).await {
            Ok(run) => run,
            Err(e) => {
                tracing::error!(run = %job.run_id, error = %e, "cannot read the run from Port; it is not worked on");
                return;
            }
        };
        if !run.in_progress() {
            tracing::info!(run = %run.id, status = %run.status, "the run has ended already; nothing to do");
            return;
        }
        let factory = match AccountFactory::assume(
            &ctx.base,
            &self.role_arn,
            ctx.settings.aws.external_id.as_ref(),
        )
        .await
        {
            Ok(f) => f,
            Err(e) => {
                return report
                    .end(
                        Outcome::Failure,
                        format!(
                            "Cannot act as the account-creation role {}: {e}",
                            self.role_arn
                        ),
                        Vec::new(),
                    )
                    .await;
            }
        };
        let console = Console::of(&self.role_arn);
        let request_id = match run.external_run_id.filter(|id| id.starts_with("car-")) {
            Some(id) => {
                report
                    .line(&format!(
                        "Resuming: following the account creation request {id} started earlier"
                    ))
                    .await;
                id
            }
            None => {
                report
                    .line(&format!(
                        "Creating the AWS account \"{}\" for {}{}",
                        inputs.name,
                        inputs.email,
                        inputs
                            .admin_role
                            .as_deref()
                            .map(|r| format!(", admin role {r}"))
                            .unwrap_or_default()
                    ))
                    .await;
                match factory.create(&inputs.account()).await {
                    Ok((id, _)) => {
                        report
                            .update(Update {
                                external_run_id: Some(id.clone()),
                                link: vec![console.accounts()],
                                status_label: Some("Creating the account".into()),
                                ..Default::default()
                            })
                            .await;
                        report
                            .line(&format!(
                                "AWS accepted the request ({id}); waiting for the account"
                            ))
                            .await;
                        id
                    }
                    Err(e) => {
                        return report
                            .end(
                                Outcome::Failure,
                                format!("AWS refused to create the account: {e}"),
                                Vec::new(),
                            )
                            .await;
                    }
                }
            }
        };
        let account_id = match self.wait(ctx, &factory, &request_id, &report).await {
            Ok(id) => id,
            Err(summary) => {
                return report
                    .end(Outcome::Failure, summary, vec![console.accounts()])
                    .await;
            }
        };
        let link = vec![console.account(&account_id)];
        report
            .line(&format!("AWS created the account {account_id}"))
            .await;

        if let Some(ou) = &inputs.ou {
            match factory.move_to(&account_id, ou).await {
                Ok(from) if from == *ou => {
                    report
                        .line(&format!("The account is already in {ou}"))
                        .await
                }
                Ok(from) => {
                    report
                        .line(&format!("Moved the account from {from} to {ou}"))
                        .await
                }
                Err(e) => {
                    let summary = format!(
                        "The account {account_id} was created but could not be moved to {ou}: {e}"
                    );
                    return report.end(Outcome::Failure, summary, link).await;
                }
            }
        }

        if let Err(summary) = self
            .read_role(ctx, &factory, &account_id, &inputs, &report)
            .await
        {
            return report.end(Outcome::Failure, summary, link).await;
        }

        let entity = json!({
            "identifier": account_id,
            "title": inputs.name,
            "properties": {},
            "relations": {},
        });
        if let Err(e) = runs::upsert_entity(&ctx.port, BLUEPRINT, &entity, &job.run_id).await {
            let summary =
                format!("The account {account_id} was created but Port refused its entity: {e}");
            return report.end(Outcome::Failure, summary, link).await;
        }
        report
            .line(&format!(
                "Added the account to the catalog ({BLUEPRINT} {account_id})"
            ))
            .await;
        tracing::info!(run = %job.run_id, account = %account_id, seconds = started.elapsed().as_secs_f64(), "account created");
        report
            .end(
                Outcome::Success,
                format!("Created AWS account {account_id} (\"{}\")", inputs.name),
                link,
            )
            .await;
    }

    /// Follows the request until AWS is done: the account id, or the run's FAILURE summary.
    async fn wait(
        &self,
        ctx: &Ctx,
        factory: &AccountFactory,
        request_id: &str,
        report: &Report<'_>,
    ) -> Result<String, String> {
        let timeout = ctx.settings.actions.account_creation_timeout;
        let deadline = Instant::now() + timeout;
        let mut pause = ctx.settings.actions.account_creation_poll;
        let mut said_waiting = false;
        loop {
            match factory.status(request_id).await {
                Ok(Creation::Succeeded { account_id }) => return Ok(account_id),
                Ok(Creation::Failed { reason }) => {
                    return Err(format!(
                        "AWS could not create the account: {}",
                        provision::failure_text(&reason)
                    ));
                }
                Ok(Creation::InProgress) => {
                    if !said_waiting {
                        report
                            .line("AWS is creating the account; this usually takes a few minutes")
                            .await;
                        said_waiting = true;
                    }
                }
                // Reads are retried by the SDK already; a failed one is tried again later.
                Err(e) => {
                    tracing::warn!(request = request_id, error = %e, "cannot read the account creation status")
                }
            }
            if Instant::now() + pause > deadline {
                return Err(format!(
                    "AWS had not finished creating the account after {} minutes (request {request_id}); it may still appear in Organizations, and the next resync will add it to the catalog",
                    timeout.as_secs() / 60
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_POLL);
        }
    }

    /// Step 6: the read role, in Organizations mode and unless turned off.
    async fn read_role(
        &self,
        ctx: &Ctx,
        factory: &AccountFactory,
        account_id: &str,
        inputs: &Inputs,
        report: &Report<'_>,
    ) -> Result<(), String> {
        if !ctx.settings.actions.create_read_role {
            return Ok(());
        }
        let Some(sync_role) = &ctx.settings.aws.account_role_arn else {
            report
                .line("No read role created: the sync is not in Organizations mode (OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN is not set)")
                .await;
            return Ok(());
        };
        let resource = sync_role.splitn(6, ':').nth(5).unwrap_or_default();
        let trusted = provision::identity(&ctx.base).await.map_err(|e| {
            format!("The account {account_id} was created but the sync's identity is unknown: {e}")
        })?;
        let admin = inputs
            .admin_role
            .as_deref()
            .unwrap_or(provision::DEFAULT_ADMIN_ROLE);
        match factory
            .create_read_role(
                account_id,
                admin,
                resource,
                &trusted,
                ctx.settings.aws.external_id.as_ref(),
            )
            .await
        {
            Ok(arn) => {
                report
                    .line(&format!("Created the read role {arn}, trusting {trusted}; the next resync covers the account"))
                    .await;
                Ok(())
            }
            Err(e) => Err(format!(
                "The account {account_id} was created but the read role could not be created in it: {e}"
            )),
        }
    }
}

/// The AWS console's links, in the role's partition.
struct Console(&'static str);

impl Console {
    fn of(role_arn: &str) -> Console {
        Console(match role_arn.split(':').nth(1) {
            Some("aws-us-gov") => "https://console.amazonaws-us-gov.com",
            Some("aws-cn") => "https://console.amazonaws.cn",
            _ => "https://console.aws.amazon.com",
        })
    }

    fn accounts(&self) -> String {
        format!("{}/organizations/v2/home/accounts", self.0)
    }

    fn account(&self, id: &str) -> String {
        format!("{}/organizations/v2/home/accounts/{id}", self.0)
    }
}

/// The action's inputs, checked against AWS's rules.
#[derive(Debug, PartialEq)]
struct Inputs {
    name: String,
    email: String,
    admin_role: Option<String>,
    ou: Option<String>,
    tags: Vec<(String, String)>,
}

impl Inputs {
    /// The inputs, or what is wrong with the first bad one (naming it).
    fn read(v: &Value) -> Result<Inputs, String> {
        let text = |key: &str| -> Result<Option<String>, String> {
            match v.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
                Some(_) => Err(format!("{key} must be a string")),
            }
        };
        let name = text("account_name")?.ok_or("account_name is required")?;
        if name.chars().count() > 50 || !name.chars().all(|c| (' '..='~').contains(&c)) {
            return Err(format!(
                "account_name must be 1 to 50 printable ASCII characters, got {} characters",
                name.chars().count()
            ));
        }
        let email = text("email")?.ok_or("email is required")?;
        if !valid_email(&email) {
            return Err(
                "email must be an email address such as team@example.com (6 to 64 characters)"
                    .into(),
            );
        }
        let admin_role = text("iam_role_name")?;
        if let Some(role) = &admin_role
            && (role.len() > 64
                || !role
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)))
        {
            return Err("iam_role_name must be 1 to 64 letters, digits or +=,.@_-".into());
        }
        let ou = text("organizational_unit_id")?;
        if let Some(ou) = &ou
            && !valid_ou(ou)
        {
            return Err("organizational_unit_id must look like ou-ab12-cd34ef56".into());
        }
        let tags = tags(v.get("tags"))?;
        Ok(Inputs {
            name,
            email,
            admin_role,
            ou,
            tags,
        })
    }

    fn account(&self) -> NewAccount {
        NewAccount {
            name: self.name.clone(),
            email: self.email.clone(),
            admin_role: self.admin_role.clone(),
            tags: self.tags.clone(),
        }
    }
}

/// AWS's `[^\s@]+@[^\s@]+\.[^\s@]+`, 6 to 64 characters.
fn valid_email(email: &str) -> bool {
    let plain = |s: &str| !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || c == '@');
    (6..=64).contains(&email.len())
        && email.split_once('@').is_some_and(|(local, domain)| {
            plain(local)
                && domain
                    .rsplit_once('.')
                    .is_some_and(|(host, tld)| plain(host) && plain(tld))
        })
}

/// `ou-` + 4 to 32 of [0-9a-z] + `-` + 8 to 32 of [a-z0-9].
fn valid_ou(ou: &str) -> bool {
    let part = |s: &str, min: usize| {
        (min..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    };
    ou.strip_prefix("ou-")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(root, id)| part(root, 4) && part(id, 8))
}

/// Tags: an object (or that object as a JSON string) of at most 50 keys of 1 to 128
/// characters not starting with `aws:`, values of at most 256 characters (strings, numbers
/// and booleans are taken as text).
fn tags(v: Option<&Value>) -> Result<Vec<(String, String)>, String> {
    let parsed;
    let map = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(Vec::new()),
        Some(Value::String(s)) => {
            parsed = serde_json::from_str::<Value>(s)
                .map_err(|_| "tags must be a JSON object".to_string())?;
            parsed.as_object().ok_or("tags must be a JSON object")?
        }
        Some(Value::Object(m)) => m,
        Some(_) => return Err("tags must be a JSON object".into()),
    };
    if map.len() > 50 {
        return Err(format!("tags has {} keys; AWS allows 50", map.len()));
    }
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in map {
        if k.is_empty() || k.chars().count() > 128 || k.to_ascii_lowercase().starts_with("aws:") {
            return Err(format!(
                "tag key {k:?} must be 1 to 128 characters and not start with aws:"
            ));
        }
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(format!("tag {k:?} must have a text value")),
        };
        if value.chars().count() > 256 {
            return Err(format!("tag {k:?} has a value over 256 characters"));
        }
        out.push((k.clone(), value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_checked_and_the_bad_one_is_named() {
        let ok = Inputs::read(&json!({
            "account_name": "Payments prod", "email": "aws+payments@example.com",
            "iam_role_name": "", "organizational_unit_id": "ou-ab12-cd34ef56",
            "tags": {"team": "payments", "cost-center": 42}
        }))
        .unwrap();
        assert_eq!(ok.admin_role, None);
        assert_eq!(ok.ou.as_deref(), Some("ou-ab12-cd34ef56"));
        assert_eq!(
            ok.tags,
            vec![
                ("team".into(), "payments".into()),
                ("cost-center".into(), "42".into())
            ]
        );
        let base = json!({"account_name": "a", "email": "a@example.com"});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            Inputs::read(&b).unwrap_err()
        };
        assert!(with("email", json!("not-an-email")).starts_with("email"));
        assert!(with("email", json!("a@b")).starts_with("email"));
        assert!(with("email", json!(3)).starts_with("email"));
        assert!(with("account_name", json!("x".repeat(51))).starts_with("account_name"));
        assert!(with("account_name", json!("")).starts_with("account_name is required"));
        assert!(with("iam_role_name", json!("bad role")).starts_with("iam_role_name"));
        assert!(
            with("organizational_unit_id", json!("r-abcd")).starts_with("organizational_unit_id")
        );
        assert!(with("tags", json!({"aws:x": "y"})).contains("aws:"));
        assert!(with("tags", json!([1])).starts_with("tags"));
        assert!(with("tags", json!({"k": {"n": 1}})).contains("text value"));
        assert!(
            Inputs::read(&json!({"email": "a@example.com"}))
                .unwrap_err()
                .starts_with("account_name")
        );
    }

    #[test]
    fn ou_ids_follow_aws_pattern() {
        assert!(valid_ou("ou-ab12-cd34ef56"));
        assert!(!valid_ou("ou-ab1-cd34ef56"));
        assert!(!valid_ou("ou-AB12-cd34ef56"));
        assert!(!valid_ou("ou-ab12-cd34"));
        assert!(!valid_ou("r-ab12"));
    }
}
