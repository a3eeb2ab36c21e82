//! The Port REST API client.
//!
//! - **Auth**: `POST /v1/auth/access_token` with the client credentials; the token is cached
//!   until its `expiresIn` is (almost) over and refreshed once on a 401 from any other route.
//!   Port keeps one active token per credential pair, so refreshing early gains nothing.
//! - **Identity**: every request carries Ocean's User-Agent,
//!   `port-ocean/{type}/{version}/{identifier}`, with `/exporter` appended on entity and
//!   blueprint writes. Port stamps each entity's `$datasource` with it, and reconciliation
//!   finds "our" entities by its prefix and suffix: it must never change shape.
//! - **Transient failures**: 408/429/502/503/504 and connection errors are retried with
//!   exponential backoff and jitter, honouring `Retry-After` / `x-ratelimit-reset`, when the
//!   call is idempotent (GETs, upserts); other errors are returned with the status, Port's
//!   `error`/`message` and the `x-trace-id` Port support asks for.
//!
//! - **Rate**: `OCEAN__PORT__RATE_LIMIT` requests per second, when set, paces every call
//!   (a `governor` token bucket shared by all tasks).
//!
//! [`integration`] holds the integration lifecycle (bootstrap, resync state),
//! [`loader`] the bulk upsert path, [`entities`] the owned-entity listing and bulk delete,
//! [`resync_request`] the resync a user asks for in Port (what POLLING watches), [`runs`]
//! the self-service actions and their runs, and
//! [`timing`] reads the delays and token lifetimes Port sends, whatever their value.

pub mod defaults;
pub(crate) mod entities;
pub(crate) mod examples;
pub(crate) mod integration;
pub(crate) mod loader;
pub(crate) mod resync_request;
pub(crate) mod runs;
pub(crate) mod timing;

pub use loader::BlueprintStats;

use std::time::{Duration, Instant, SystemTime};

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::config::Settings;

/// A failed Port call.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The client credentials were refused.
    #[error(
        "Port refused the client credentials (HTTP {status}): {message}; check OCEAN__PORT__CLIENT_ID / OCEAN__PORT__CLIENT_SECRET and OCEAN__PORT__BASE_URL"
    )]
    Auth {
        /// HTTP status.
        status: u16,
        /// Port's message.
        message: String,
    },
    /// Port answered with an error status.
    #[error("{method} {path} failed with HTTP {status}: {message} (x-trace-id: {trace_id})")]
    Status {
        /// HTTP method.
        method: String,
        /// Path under the base URL.
        path: String,
        /// HTTP status.
        status: u16,
        /// Port's `error: message`.
        message: String,
        /// Port's `x-trace-id` header.
        trace_id: String,
    },
    /// The request did not complete.
    #[error("{method} {path}: {reason}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Path under the base URL.
        path: String,
        /// What went wrong (no credentials in it: bodies are never included).
        reason: String,
    },
}

impl PortError {
    /// HTTP status, when Port answered.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            PortError::Auth { status, .. } | PortError::Status { status, .. } => Some(*status),
            PortError::Transport { .. } => None,
        }
    }

    /// A 4xx answer about the request itself (not auth, not rate limiting, which the client
    /// handles): retrying the same request cannot help, a smaller one may.
    pub(crate) fn is_refusal(&self) -> bool {
        matches!(self.status(), Some(s) if (400..500).contains(&s) && s != 401 && s != 429)
    }
}

/// Whether a request carries the `/exporter` User-Agent suffix (Ocean does so on entity
/// and blueprint writes; `$datasource` is taken from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Feature {
    /// Plain User-Agent.
    None,
    /// `.../exporter`.
    Exporter,
}

/// Whether a call may be retried on a transient failure (408/429/502/503/504, a
/// connection error): only when repeating it cannot do harm twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Idempotent (reads, upserts, bulk deletes): retried with backoff.
    Transient,
    /// Not idempotent (creates): sent once; the caller decides what a failure means.
    Never,
}

/// The Port API client. Cheap to share behind an `Arc`.
pub struct Client {
    http: reqwest::Client,
    api: String,
    client_id: SecretString,
    client_secret: SecretString,
    token: Mutex<Option<Token>>,
    user_agent: String,
    /// Integration type and identifier, for `$datasource` matching.
    pub(crate) integration_type: String,
    /// Integration identifier.
    pub(crate) identifier: String,
    max_attempts: u32,
    /// Client-side rate limit (`OCEAN__PORT__RATE_LIMIT`), shared by every request.
    limiter: Option<governor::DefaultDirectRateLimiter>,
}

struct Token {
    header: SecretString,
    valid_until: Instant,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("api", &self.api)
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

/// A successful response.
#[derive(Debug)]
pub(crate) struct Response {
    /// Parsed JSON body (`null` when empty).
    pub(crate) body: Value,
}

/// A JSON body as a value (`null` when empty; a text that is not JSON as `{"message"}`).
fn parse_body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(bytes).unwrap_or_else(
            |_| json!({"message": String::from_utf8_lossy(&bytes[..bytes.len().min(500)])}),
        )
    }
}

impl Client {
    /// Builds a client from settings. No network call happens here.
    pub fn new(settings: &Settings) -> Result<Client, PortError> {
        let user_agent = format!(
            "port-ocean/{}/{}/{}",
            settings.integration.integration_type,
            crate::VERSION,
            settings.integration.identifier
        );
        let http = reqwest::Client::builder()
            .timeout(settings.port.request_timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(32)
            .build()
            .map_err(|e| PortError::Transport {
                method: "-".into(),
                path: "-".into(),
                reason: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Client {
            http,
            api: format!("{}/v1", settings.port.base_url),
            client_id: settings.port.client_id.clone(),
            client_secret: settings.port.client_secret.clone(),
            token: Mutex::new(None),
            user_agent,
            integration_type: settings.integration.integration_type.clone(),
            identifier: settings.integration.identifier.clone(),
            max_attempts: 5,
            limiter: settings
                .port
                .rate_limit
                .and_then(std::num::NonZeroU32::new)
                .map(|n| governor::RateLimiter::direct(governor::Quota::per_second(n))),
        })
    }

    /// The User-Agent sent on entity writes; Port stores it as `$datasource`.
    pub(crate) fn datasource(&self) -> String {
        format!("{}/exporter", self.user_agent)
    }

    /// `GET path`: a read, retried on transient failures.
    pub(crate) async fn get(&self, path: &str) -> Result<Response, PortError> {
        self.request(
            Method::GET,
            path,
            &[],
            None,
            Feature::None,
            Retry::Transient,
        )
        .await
    }

    /// Sends one request, with auth, retries and error mapping.
    pub(crate) async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        feature: Feature,
        retry: Retry,
    ) -> Result<Response, PortError> {
        // Serialised once, not once per attempt.
        let body = body.map(|b| bytes::Bytes::from(serde_json::to_vec(b).unwrap_or_default()));
        self.request_json(method, path, query, body, feature, retry)
            .await
    }

    /// [`Client::request`] with a body that is already JSON text (the loader writes each
    /// entity once, straight into the request body).
    pub(crate) async fn request_json(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<bytes::Bytes>,
        feature: Feature,
        retry: Retry,
    ) -> Result<Response, PortError> {
        let (_, bytes) = self
            .request_raw(method, path, query, body, feature, retry)
            .await?;
        Ok(Response {
            body: parse_body(&bytes),
        })
    }

    /// [`Client::request_json`] with the answer read straight into `T`: only the fields `T`
    /// names are kept (the owned-entity listing needs two fields of each entity, not the
    /// whole entity as a JSON tree).
    pub(crate) async fn request_as<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<bytes::Bytes>,
        feature: Feature,
        retry: Retry,
    ) -> Result<T, PortError> {
        let (status, bytes) = self
            .request_raw(method.clone(), path, &[], body, feature, retry)
            .await?;
        serde_json::from_slice(&bytes).map_err(|e| PortError::Status {
            method: method.to_string(),
            path: path.to_string(),
            status,
            message: format!("unexpected answer: {e}"),
            trace_id: "-".into(),
        })
    }

    /// Sends with retries; a 2xx answer's status and body bytes.
    async fn request_raw(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<bytes::Bytes>,
        feature: Feature,
        retry: Retry,
    ) -> Result<(u16, bytes::Bytes), PortError> {
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self.token(refreshed).await?;
            if let Some(limiter) = &self.limiter {
                limiter.until_ready().await;
            }
            crate::metrics::port_call(method.as_str(), path, attempt > 1 || refreshed);
            let ua = match feature {
                Feature::None => self.user_agent.clone(),
                Feature::Exporter => self.datasource(),
            };
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.api))
                .header(reqwest::header::USER_AGENT, ua)
                .header(reqwest::header::AUTHORIZATION, token.expose_secret())
                .query(query);
            if let Some(body) = &body {
                req = req
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let transport = |e: reqwest::Error| PortError::Transport {
                method: method.to_string(),
                path: path.to_string(),
                reason: describe(&e),
            };
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) if retry == Retry::Transient && attempt < self.max_attempts => {
                    let wait = backoff(attempt, None);
                    tracing::warn!(path, attempt, error = %describe(&e), wait_ms = wait.as_millis() as u64, "Port request failed, retrying");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                Err(e) => return Err(transport(e)),
            };
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                // Expired or revoked token: fetch a new one once and retry.
                refreshed = true;
                tracing::debug!(path, "Port answered 401, refreshing the token");
                continue;
            }
            let retry_status = matches!(status.as_u16(), 408 | 429 | 502 | 503 | 504);
            if retry_status && retry == Retry::Transient && attempt < self.max_attempts {
                let wait = backoff(
                    attempt,
                    timing::retry_after(resp.headers(), SystemTime::now()),
                );
                tracing::warn!(
                    path,
                    attempt,
                    status = status.as_u16(),
                    wait_ms = wait.as_millis() as u64,
                    "Port is busy, retrying"
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            let trace_id = resp
                .headers()
                .get("x-trace-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_string();
            let bytes = resp.bytes().await.map_err(transport)?;
            if status.is_success() {
                return Ok((status.as_u16(), bytes));
            }
            return Err(PortError::Status {
                method: method.to_string(),
                path: path.to_string(),
                status: status.as_u16(),
                message: error_message(&parse_body(&bytes)),
                trace_id,
            });
        }
    }

    /// The cached `Authorization` header value, fetching a token when there is none, it is
    /// about to expire, or `force` is set after a 401.
    async fn token(&self, force: bool) -> Result<SecretString, PortError> {
        let mut guard = self.token.lock().await;
        if let Some(t) = guard.as_ref()
            && !force
            && Instant::now() < t.valid_until
        {
            return Ok(t.header.clone());
        }
        let path = "/auth/access_token";
        let body = json!({
            "clientId": self.client_id.expose_secret(),
            "clientSecret": self.client_secret.expose_secret(),
        });
        let mut attempt = 0;
        let resp = loop {
            attempt += 1;
            let sent = self
                .http
                .post(format!("{}{path}", self.api))
                .header(reqwest::header::USER_AGENT, &self.user_agent)
                .json(&body)
                .send()
                .await;
            match sent {
                Ok(r)
                    if matches!(r.status().as_u16(), 408 | 429 | 502 | 503 | 504)
                        && attempt < self.max_attempts =>
                {
                    let wait =
                        backoff(attempt, timing::retry_after(r.headers(), SystemTime::now()));
                    tokio::time::sleep(wait).await;
                }
                Ok(r) => break r,
                Err(_) if attempt < self.max_attempts => {
                    tokio::time::sleep(backoff(attempt, None)).await;
                }
                Err(e) => {
                    return Err(PortError::Transport {
                        method: "POST".into(),
                        path: path.into(),
                        reason: describe(&e),
                    });
                }
            }
        };
        let status = resp.status().as_u16();
        let parsed: Value = resp.json().await.unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            return Err(PortError::Auth {
                status,
                message: error_message(&parsed),
            });
        }
        let (Some(access), Some(expires_in)) = (
            parsed.get("accessToken").and_then(Value::as_str),
            parsed.get("expiresIn").and_then(Value::as_f64),
        ) else {
            return Err(PortError::Auth {
                status,
                message: "the token response has no accessToken/expiresIn".into(),
            });
        };
        let kind = parsed
            .get("tokenType")
            .and_then(Value::as_str)
            .unwrap_or("Bearer");
        let header = SecretString::from(format!("{kind} {access}"));
        *guard = Some(Token {
            header: header.clone(),
            // Bounded to a day: the addition cannot overflow whatever Port sent.
            valid_until: Instant::now() + timing::token_lifetime(expires_in),
        });
        Ok(header)
    }
}

/// `error: message` from Port's error body.
fn error_message(body: &Value) -> String {
    let err = body.get("error").and_then(Value::as_str).unwrap_or("");
    let msg = body.get("message").and_then(Value::as_str).unwrap_or("");
    match (err.is_empty(), msg.is_empty()) {
        (false, false) => format!("{err}: {msg}"),
        (false, true) => err.to_string(),
        (true, false) => msg.to_string(),
        (true, true) => body.to_string().chars().take(300).collect(),
    }
}

/// A reqwest error without the URL's query (none of ours carry secrets, but keep it short).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut msg = kind.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// Exponential backoff from 300 ms with ±10 % jitter, or the server's hint.
fn backoff(attempt: u32, hint: Option<Duration>) -> Duration {
    if let Some(h) = hint {
        return h;
    }
    let base = 0.3 * 2f64.powi(attempt.saturating_sub(1) as i32);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = 0.9 + 0.2 * (nanos % 1000) as f64 / 1000.0;
    Duration::from_secs_f64((base * jitter).min(30.0))
}
