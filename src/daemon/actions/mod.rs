//! Port self-service actions served by the daemon: `POST {prefix}/actions/{route}`, one
//! handler per route, each in its own file.
//!
//! A delivery goes through, in order, before anything happens: the route (404 when no
//! handler serves it, or its handler is not configured), the body size (413 over
//! [`MAX_BODY`]), Port's signature and timestamp (401, see [`signature`]), the body's shape
//! (400: a run id and the inputs), the in-process duplicate check (the same run delivered
//! twice is answered 202 and dropped) and the queue (503 when full). It is then answered
//! **202 at once** and worked on by one of `ACTION_WORKERS` workers, never on the
//! request's task; the handler reports on the run in Port (log lines, link, the terminal
//! status). Body shapes accepted:
//! - `{"runId": "{{ .run.id }}", "inputs": "{{ .inputs }}", "triggeredBy": …}` (our
//!   action's; `inputs` an object, or that object as a JSON string);
//! - `{"RUN_ID": …, <input>: …}`: Port's guide's flat body, the inputs beside the run id.
//!
//! At start, once Port answers, the action definitions are created in Port when missing
//! (`OCEAN__INITIALIZE_PORT_RESOURCES`, from `resources/actions.json`, the webhook URL
//! pointing at `OCEAN__BASE_URL`), and the runs still in progress that a handler
//! [`Handler::resumes`] (work a previous process started) are queued again. On SIGTERM a
//! run being worked on is dropped where it is, left resumable, not failed.
//!
//! ## Adding a handler
//! A new file with a type implementing [`Handler`] (its route, its definition's
//! identifier in `resources/actions.json`, which runs it resumes, and the work), listed in
//! [`handlers`] under the setting that turns it on; its definition in
//! `resources/actions.json`; a test through the binary in `tests/actions.rs`.

mod create_account;
pub(crate) mod signature;

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use axum::http::{HeaderMap, StatusCode};
use futures::future::BoxFuture;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::config::Settings;
use crate::port::{self, runs::Run};

/// The largest delivery accepted: Port's bodies for these actions are a few hundred bytes.
pub(crate) const MAX_BODY: usize = 64 * 1024;

/// Deliveries waiting for a worker; more are refused (503) rather than held without bound.
const QUEUE: usize = 256;

/// What every handler gets to work with.
pub(crate) struct Ctx {
    pub(crate) port: Arc<port::Client>,
    pub(crate) settings: Arc<Settings>,
    /// The base AWS identity (what the sync starts from).
    pub(crate) base: SdkConfig,
}

/// One run to work on.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// Port's run id.
    pub(crate) run_id: String,
    /// The user's inputs.
    pub(crate) inputs: Value,
}

/// A self-service action this daemon serves.
pub(crate) trait Handler: Send + Sync + 'static {
    /// The path segment after `/actions/`.
    fn route(&self) -> &'static str;
    /// The identifier of its definition in `resources/actions.json`.
    fn action(&self) -> &'static str;
    /// Whether a run found in progress at start is this handler's to finish.
    fn resumes(&self, run: &Run) -> bool;
    /// Works on one run, reporting on it in Port. Dropping the future leaves the run where
    /// it was, to be resumed.
    fn work<'a>(&'a self, ctx: &'a Ctx, job: Job) -> BoxFuture<'a, ()>;
}

/// The handlers the settings turn on.
fn handlers(settings: &Settings) -> Vec<Arc<dyn Handler>> {
    let mut out: Vec<Arc<dyn Handler>> = Vec::new();
    if let Some(role) = &settings.actions.account_creation_role_arn {
        out.push(Arc::new(create_account::CreateAccount::new(role.clone())));
    }
    out
}

/// The actions' shared state: what the HTTP route and the workers need.
pub(crate) struct Actions {
    handlers: Vec<Arc<dyn Handler>>,
    secret: SecretString,
    tolerance: Duration,
    queue: mpsc::Sender<(Arc<dyn Handler>, Job)>,
    /// Run ids accepted by this process: a second delivery of one is dropped.
    accepted: Mutex<Accepted>,
}

/// The run ids accepted lately, at most [`REMEMBERED`] of them (the oldest forgotten
/// first): a process serving for months must not grow without bound, and a delivery of a
/// run forgotten here is still caught by the run's own record in Port.
#[derive(Default)]
struct Accepted {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

/// How many accepted run ids are remembered.
const REMEMBERED: usize = 10_000;

impl Accepted {
    fn insert(&mut self, id: &str) -> bool {
        if !self.ids.insert(id.to_string()) {
            return false;
        }
        self.order.push_back(id.to_string());
        while self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        true
    }

    fn remove(&mut self, id: &str) {
        self.ids.remove(id);
        self.order.retain(|o| o != id);
    }
}

/// The receiving end of the queue, for [`Actions::work`].
pub(crate) struct Queue(mpsc::Receiver<(Arc<dyn Handler>, Job)>);

impl Actions {
    /// The actions the settings turn on (none without their settings).
    pub(crate) fn new(settings: &Settings) -> (Arc<Actions>, Queue) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let actions = Actions {
            handlers: handlers(settings),
            secret: settings.port.client_secret.clone(),
            tolerance: settings.actions.signature_tolerance,
            queue: tx,
            accepted: Mutex::new(Accepted::default()),
        };
        (Arc::new(actions), Queue(rx))
    }

    /// Whether any action is served.
    pub(crate) fn any(&self) -> bool {
        !self.handlers.is_empty()
    }

    /// Answers one delivery of `POST /actions/{route}`. Never logs the body, the signature
    /// or the secret.
    pub(crate) fn deliver(
        &self,
        route: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> (StatusCode, Value) {
        let Some(handler) = self.handlers.iter().find(|h| h.route() == route) else {
            return (
                StatusCode::NOT_FOUND,
                json!({"error": format!("no action is served at /actions/{route}")}),
            );
        };
        if body.len() > MAX_BODY {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"error": "body too large"}),
            );
        }
        if let Err(e) = signature::verify(
            &self.secret,
            headers,
            body,
            SystemTime::now(),
            self.tolerance,
        ) {
            tracing::warn!(route, reason = %e, "action delivery refused: not signed by Port");
            crate::metrics::action_delivery(route, "unauthorized");
            return (StatusCode::UNAUTHORIZED, json!({"error": "unauthorized"}));
        }
        let job = match delivery(body) {
            Ok(job) => job,
            Err(why) => {
                tracing::warn!(
                    route,
                    reason = why,
                    "action delivery refused: unexpected body"
                );
                crate::metrics::action_delivery(route, "bad_request");
                return (StatusCode::BAD_REQUEST, json!({"error": why}));
            }
        };
        let run_id = job.run_id.clone();
        if !self.accept(&run_id) {
            tracing::info!(route, run = %run_id, "the run was already delivered; this delivery is dropped");
            crate::metrics::action_delivery(route, "duplicate");
            return (
                StatusCode::ACCEPTED,
                json!({"status": "duplicate", "runId": run_id}),
            );
        }
        if self.queue.try_send((handler.clone(), job)).is_err() {
            self.forget(&run_id);
            crate::metrics::action_delivery(route, "busy");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "too many action runs are waiting; try again"}),
            );
        }
        tracing::info!(route, run = %run_id, "action run accepted");
        crate::metrics::action_delivery(route, "accepted");
        (
            StatusCode::ACCEPTED,
            json!({"status": "accepted", "runId": run_id}),
        )
    }

    fn accept(&self, run_id: &str) -> bool {
        self.accepted
            .lock()
            .map(|mut a| a.insert(run_id))
            .unwrap_or(false)
    }

    fn forget(&self, run_id: &str) {
        if let Ok(mut a) = self.accepted.lock() {
            a.remove(run_id);
        }
    }

    /// Once Port answers: creates the missing action definitions and queues the runs a
    /// previous process left in progress. Failures are logged; deliveries are served anyway.
    pub(crate) async fn start(&self, ctx: &Ctx) {
        if self.handlers.is_empty() {
            return;
        }
        if ctx.settings.initialize_port_resources {
            self.define(ctx).await;
        }
        let runs = match port::runs::active(&ctx.port).await {
            Ok(runs) => runs,
            Err(e) => {
                tracing::error!(error = %e, "cannot list the action runs in progress; none is resumed");
                return;
            }
        };
        for run in runs {
            let Some(handler) = self.handlers.iter().find(|h| h.resumes(&run)) else {
                continue;
            };
            if !self.accept(&run.id) {
                continue;
            }
            tracing::info!(run = %run.id, action = %run.action, "resuming an action run left in progress");
            let job = Job {
                run_id: run.id.clone(),
                inputs: run.properties.clone(),
            };
            if self.queue.send((handler.clone(), job)).await.is_err() {
                return;
            }
        }
    }

    /// Creates the definitions of the served actions that Port does not have.
    async fn define(&self, ctx: &Ctx) {
        let Some(base) = &ctx.settings.actions.base_url else {
            tracing::warn!(
                "OCEAN__BASE_URL is not set, so the actions are not created in Port; set it to this daemon's public URL, or create them from resources/actions.json"
            );
            return;
        };
        if let Err(e) =
            port::runs::ensure_blueprint(&ctx.port, &port::defaults::account_blueprint()).await
        {
            tracing::error!(error = %e, "cannot create the awsAccount blueprint the actions use");
            return;
        }
        for handler in &self.handlers {
            let Some(mut definition) = port::defaults::action(handler.action()) else {
                continue;
            };
            definition["invocationMethod"]["url"] = json!(format!(
                "{base}{}/actions/{}",
                ctx.settings.path_prefix,
                handler.route()
            ));
            match port::runs::ensure_action(&ctx.port, &definition).await {
                Ok(true) => tracing::info!(action = handler.action(), "created the action in Port"),
                Ok(false) => {
                    tracing::debug!(action = handler.action(), "the action exists in Port")
                }
                Err(e) => {
                    tracing::error!(action = handler.action(), error = %e, "cannot create the action in Port")
                }
            }
        }
    }

    /// Runs `workers` workers over the queue until the returned future is dropped.
    pub(crate) async fn work(ctx: Arc<Ctx>, queue: Queue, workers: usize) {
        let queue = Arc::new(tokio::sync::Mutex::new(queue.0));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..workers.max(1) {
            let (ctx, queue) = (ctx.clone(), queue.clone());
            set.spawn(async move {
                loop {
                    let next = queue.lock().await.recv().await;
                    let Some((handler, job)) = next else { return };
                    handler.work(&ctx, job).await;
                }
            });
        }
        // The set aborts its tasks when dropped (on shutdown): runs stay resumable.
        while set.join_next().await.is_some() {}
    }
}

/// A run id and inputs from a delivery body (see the module doc for the two shapes).
fn delivery(body: &[u8]) -> Result<Job, &'static str> {
    let body: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON")?;
    let object = body.as_object().ok_or("the body is not a JSON object")?;
    let text = |key: &str| {
        object
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    };
    if let Some(run_id) = text("runId") {
        let inputs = match object.get("inputs") {
            Some(Value::String(s)) => {
                serde_json::from_str(s).map_err(|_| "inputs is not a JSON object")?
            }
            Some(v) => v.clone(),
            None => Value::Null,
        };
        if !inputs.is_object() {
            return Err("inputs is not a JSON object");
        }
        return Ok(Job {
            run_id: run_id.trim().to_string(),
            inputs,
        });
    }
    if let Some(run_id) = text("RUN_ID") {
        let mut inputs = object.clone();
        inputs.remove("RUN_ID");
        return Ok(Job {
            run_id: run_id.trim().to_string(),
            inputs: Value::Object(inputs),
        });
    }
    Err("the body has no runId (or RUN_ID)")
}

/// Reports on one run: each step a line of the run's log in Port (and of ours).
pub(crate) struct Report<'a> {
    port: &'a port::Client,
    run: &'a str,
}

impl<'a> Report<'a> {
    pub(crate) fn new(port: &'a port::Client, run: &'a str) -> Report<'a> {
        Report { port, run }
    }

    /// One log line. A line Port refuses is only logged here: the work goes on.
    pub(crate) async fn line(&self, message: &str) {
        tracing::info!(run = self.run, "{message}");
        if let Err(e) = port::runs::log(self.port, self.run, message).await {
            tracing::warn!(run = self.run, error = %e, "cannot add a line to the run's log");
        }
    }

    /// Sets keys of the run (link, external id, label).
    pub(crate) async fn update(&self, update: port::runs::Update) {
        if let Err(e) = port::runs::update(self.port, self.run, &update).await {
            tracing::warn!(run = self.run, error = %e, "cannot update the run");
        }
    }

    /// Ends the run with a summary line (also logged).
    pub(crate) async fn end(
        &self,
        outcome: port::runs::Outcome,
        summary: String,
        link: Vec<String>,
    ) {
        self.line(&summary).await;
        let label = match outcome {
            port::runs::Outcome::Success => "success",
            port::runs::Outcome::Failure => "failure",
        };
        crate::metrics::action_run(label);
        let update = port::runs::Update {
            status: Some(outcome),
            summary: Some(summary),
            link,
            ..Default::default()
        };
        if let Err(e) = port::runs::update(self.port, self.run, &update).await {
            tracing::error!(run = self.run, error = %e, "cannot end the run in Port");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_run_ids_are_bounded_oldest_first() {
        let mut a = Accepted::default();
        assert!(a.insert("r0"));
        assert!(!a.insert("r0"));
        for i in 1..=REMEMBERED {
            assert!(a.insert(&format!("r{i}")));
        }
        assert_eq!(a.ids.len(), REMEMBERED);
        // r0 was forgotten, the newest are remembered.
        assert!(a.insert("r0"));
        assert!(!a.insert(&format!("r{REMEMBERED}")));
        a.remove("r0");
        assert!(a.insert("r0"));
    }

    #[test]
    fn both_body_shapes_give_a_run_and_inputs() {
        let job =
            delivery(br#"{"runId":"r_1","inputs":{"email":"a@b.io"},"triggeredBy":"x@y.io"}"#)
                .unwrap();
        assert_eq!(
            (job.run_id.as_str(), &job.inputs),
            ("r_1", &json!({"email": "a@b.io"}))
        );
        let job = delivery(br#"{"runId":"r_1","inputs":"{\"email\":\"a@b.io\"}"}"#).unwrap();
        assert_eq!(job.inputs, json!({"email": "a@b.io"}));
        let job =
            delivery(br#"{"RUN_ID":"r_2","account_name":"n","email":"a@b.io","iam_role_name":""}"#)
                .unwrap();
        assert_eq!(job.run_id, "r_2");
        assert_eq!(
            job.inputs,
            json!({"account_name": "n", "email": "a@b.io", "iam_role_name": ""})
        );
        for bad in [
            &b"x"[..],
            b"[]",
            b"{}",
            br#"{"runId":""}"#,
            br#"{"runId":"r","inputs":"[1]"}"#,
            br#"{"runId":"r","inputs":3}"#,
        ] {
            assert!(delivery(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
