//! HTTP to the Neon API v2: one call with its retries, and error text a human can act on.
//!
//! What is retried, and why (Neon's `GeneralError` documentation):
//! - `423 Locked` and `503` always: the request was refused, not applied;
//! - `429` after the `Retry-After` the server sends (seconds or an HTTP date, capped at
//!   [`RETRY_AFTER_CAP`]), else after a backoff;
//! - network errors and timeouts only for `GET` (and for any method when the connection could
//!   not even be opened). A `POST` or `DELETE` whose answer was lost may have been applied: the
//!   caller gets [`ApiError::Transport`] with `maybe_applied` set and re-checks the state
//!   before sending it again.
//!
//! Waits are exponential with full jitter (a random wait between zero and the exponential
//! step, capped at [`BACKOFF_CAP`]), so that several clients locked out together do not come
//! back together; attempts are bounded by [`MAX_ATTEMPTS`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{ACCEPT, RETRY_AFTER};
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use crate::secret::{Redactor, Secret};

/// Default timeout of one HTTP request (connect, send, answer).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeout of opening the connection alone.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts per call, the first one included.
pub const MAX_ATTEMPTS: u32 = 6;
/// First backoff step; it doubles with every attempt.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// Longest backoff step.
pub const BACKOFF_CAP: Duration = Duration::from_secs(8);
/// Longest wait we accept from a `Retry-After` header.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(30);

/// A successful answer. `Debug` leaves the body out: a create's holds connection URIs.
pub struct Reply {
    pub method: Method,
    /// Path and query, relative to the base URL.
    pub path: String,
    pub status: u16,
    /// The JSON body (`Null` when there is none, e.g. a 204).
    pub body: Value,
    /// The `X-Request-ID` we sent.
    pub request_id: String,
}

/// A failed call.
#[derive(Debug)]
pub enum ApiError {
    /// Neon answered with an error status (after any retries).
    Status {
        method: Method,
        path: String,
        status: u16,
        /// Neon's `message` (or the start of a body that is not Neon's error JSON).
        message: String,
        /// Neon's `request_id`, else the `X-Request-ID` we sent.
        request_id: String,
        attempts: u32,
    },
    /// No complete answer: a network error or a timeout.
    Transport {
        method: Method,
        path: String,
        detail: String,
        request_id: String,
        attempts: u32,
        /// The request may have reached Neon (only a failed connect proves it did not).
        maybe_applied: bool,
    },
    /// A 2xx answer whose body is not JSON.
    Decode {
        method: Method,
        path: String,
        status: u16,
        detail: String,
        request_id: String,
    },
}

impl ApiError {
    /// The HTTP status of a [`ApiError::Status`].
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The path (and query) of the call.
    pub fn path(&self) -> &str {
        match self {
            ApiError::Status { path, .. }
            | ApiError::Transport { path, .. }
            | ApiError::Decode { path, .. } => path,
        }
    }

    /// Whether a mutating call may have been applied although it failed: its answer was
    /// lost, or it was a success we could not read.
    pub fn maybe_applied(&self) -> bool {
        match self {
            ApiError::Transport { maybe_applied, .. } => *maybe_applied,
            ApiError::Decode { .. } => true,
            ApiError::Status { .. } => false,
        }
    }

    /// Whether Neon could not be reached at all (as opposed to answering with an error).
    pub fn is_transport(&self) -> bool {
        matches!(self, ApiError::Transport { .. })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Status {
                method,
                path,
                status,
                message,
                request_id,
                attempts,
            } => {
                let reason = reqwest::StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default();
                write!(f, "{method} {path} answered {status}{reason}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                write!(f, " (request id {request_id}")?;
                if *attempts > 1 {
                    write!(f, ", after {attempts} attempts")?;
                }
                write!(f, ")")
            }
            ApiError::Transport {
                method,
                path,
                detail,
                request_id,
                attempts,
                ..
            } => {
                write!(f, "{method} {path} got no answer: {detail} (request id {request_id}")?;
                if *attempts > 1 {
                    write!(f, ", after {attempts} attempts")?;
                }
                write!(f, ")")
            }
            ApiError::Decode {
                method,
                path,
                status,
                detail,
                request_id,
            } => write!(
                f,
                "{method} {path} answered {status} with a body that is not JSON: {detail} (request id {request_id})"
            ),
        }
    }
}

/// Neon's error body (`GeneralError`).
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// The Neon API at one base URL, with one key.
pub struct Api {
    http: reqwest::Client,
    timeout: Duration,
    base: String,
    key: Secret<String>,
    redactor: Redactor,
}

/// The HTTP client could not be built (the TLS stack did not start).
#[derive(Debug, thiserror::Error)]
#[error("{chain}")]
pub struct ClientSetupError {
    /// The error with its causes, in one line.
    chain: String,
    #[source]
    source: reqwest::Error,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl Api {
    /// A client for `base` (no trailing `/`) whose requests time out after `timeout`. Fails
    /// only when the TLS stack cannot start.
    pub fn new(
        base: &str,
        key: Secret<String>,
        timeout: Duration,
        redactor: Redactor,
    ) -> Result<Api, ClientSetupError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("neon-migrate/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout);
        if super::uri::is_loopback(&host_of_base(base)) {
            // A local emulator: an HTTP(S)_PROXY from the environment must not capture it.
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|source| ClientSetupError {
            chain: error_chain(&source),
            source,
        })?;
        Ok(Api {
            http,
            timeout,
            base: base.trim_end_matches('/').to_owned(),
            key,
            redactor,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// A `GET`: retried on network errors and timeouts too.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Reply, ApiError> {
        self.call(Method::GET, path, query, None).await
    }

    /// Any call. Only `GET` is retried after a network error or a timeout.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Reply, ApiError> {
        let idempotent = method == Method::GET;
        let target = with_query(path, query);
        let url = format!("{}{}", self.base, target);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request_id = new_request_id();
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(self.key.expose())
                .header(ACCEPT, "application/json")
                .header("X-Request-ID", &request_id);
            if let Some(body) = body {
                request = request.json(body);
            }
            let answer = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, Utc::now()));
                    response
                        .bytes()
                        .await
                        .map(|bytes| (status, retry_after, bytes))
                        .map_err(|e| (e, true))
                }
                // A connection that could not be opened carried no request.
                Err(e) => {
                    let sent = !e.is_connect();
                    Err((e, sent))
                }
            };
            let (status, retry_after, bytes) = match answer {
                Ok(a) => a,
                Err((e, sent)) => {
                    if (idempotent || !sent) && attempt < MAX_ATTEMPTS {
                        tokio::time::sleep(backoff(attempt, random_u64())).await;
                        continue;
                    }
                    let detail = if e.is_timeout() {
                        format!(
                            "timed out after {}",
                            crate::config::duration::format(self.timeout)
                        )
                    } else {
                        error_chain(&e)
                    };
                    return Err(ApiError::Transport {
                        method,
                        path: target,
                        detail: self.redactor.redact(&detail),
                        request_id,
                        attempts: attempt,
                        maybe_applied: sent && !idempotent,
                    });
                }
            };
            if (200..300).contains(&status) {
                let body = if bytes.iter().all(u8::is_ascii_whitespace) {
                    Value::Null
                } else {
                    match serde_json::from_slice(&bytes) {
                        Ok(v) => v,
                        Err(e) => {
                            return Err(ApiError::Decode {
                                method,
                                path: target,
                                status,
                                detail: e.to_string(),
                                request_id,
                            })
                        }
                    }
                };
                return Ok(Reply {
                    method,
                    path: target,
                    status,
                    body,
                    request_id,
                });
            }
            if retryable_status(status, idempotent) && attempt < MAX_ATTEMPTS {
                tokio::time::sleep(retry_wait(status, retry_after, attempt, random_u64())).await;
                continue;
            }
            let parsed: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
            let message = match parsed.message {
                Some(m) => m,
                None => {
                    let text = String::from_utf8_lossy(&bytes);
                    let text = text.trim();
                    match text.char_indices().nth(200) {
                        Some((cut, _)) => format!("{}…", &text[..cut]),
                        None => text.to_owned(),
                    }
                }
            };
            return Err(ApiError::Status {
                method,
                path: target,
                status,
                message: self.redactor.redact(&message),
                request_id: parsed
                    .request_id
                    .filter(|r| !r.is_empty())
                    .unwrap_or(request_id),
                attempts: attempt,
            });
        }
    }
}

/// Statuses that mean "refused, not applied: try again later".
fn retryable_status(status: u16, idempotent: bool) -> bool {
    match status {
        423 | 429 | 503 => true,
        // Gateway errors: a GET can always be repeated.
        502 | 504 => idempotent,
        _ => false,
    }
}

/// How long to wait before attempt `attempt + 1` after an answer with `status`.
pub fn retry_wait(
    status: u16,
    retry_after: Option<Duration>,
    attempt: u32,
    random: u64,
) -> Duration {
    match retry_after {
        Some(wait) if matches!(status, 429 | 423 | 503) => wait.min(RETRY_AFTER_CAP),
        _ => backoff(attempt, random),
    }
}

/// Exponential backoff with full jitter: a wait between zero and
/// `min(BACKOFF_CAP, BACKOFF_BASE * 2^(attempt-1))`, picked by `random`.
pub fn backoff(attempt: u32, random: u64) -> Duration {
    let step = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
        .min(BACKOFF_CAP);
    let millis = step.as_millis() as u64;
    Duration::from_millis(if millis == 0 {
        0
    } else {
        random % (millis + 1)
    })
}

/// The wait a `Retry-After` header asks for: delay-seconds or an HTTP date (a date in the
/// past means now). `None` when it is neither.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) is RFC 2822 with the obsolete `GMT` zone.
    let date = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (date.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// `path?k=v&…` with the values percent-encoded.
fn with_query(path: &str, query: &[(&str, &str)]) -> String {
    let mut out = path.to_owned();
    for (i, (k, v)) in query.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(&encode_component(k));
        out.push('=');
        out.push_str(&encode_component(v));
    }
    out
}

/// Percent-encodes a query component.
pub fn encode_component(s: &str) -> String {
    crate::pg::percent_encode(s)
}

/// The host of a base URL, for the loopback test.
fn host_of_base(base: &str) -> String {
    let rest = base.split_once("://").map(|(_, r)| r).unwrap_or(base);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    super::uri::split_host_port(authority).0
}

/// An error and its causes on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(&format!(": {text}"));
        }
        source = inner.source();
    }
    s
}

/// 64 random bits: `RandomState` is seeded from the OS once per thread and advanced on every
/// use, which is all the randomness jitter and request ids need.
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
}

/// A random UUID (version 4), for `X-Request-ID`.
pub fn new_request_id() -> String {
    let (a, b) = (random_u64(), random_u64());
    let hi = (a & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_an_http_date() {
        let now = DateTime::parse_from_rfc3339("2026-11-25T16:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 25 Nov 2026 16:00:07 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Wed, 25 Nov 2026 15:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    #[test]
    fn retry_after_is_honoured_but_capped() {
        let one = Some(Duration::from_secs(1));
        assert_eq!(retry_wait(429, one, 1, 0), Duration::from_secs(1));
        assert_eq!(
            retry_wait(429, Some(Duration::from_secs(3600)), 1, 0),
            RETRY_AFTER_CAP
        );
        // Without the header: the jittered backoff.
        assert!(retry_wait(429, None, 3, u64::MAX) <= Duration::from_secs(1));
    }

    #[test]
    fn backoff_is_full_jitter_under_an_exponential_cap() {
        assert_eq!(backoff(1, 0), Duration::ZERO);
        assert_eq!(backoff(1, 250), Duration::from_millis(250));
        assert_eq!(
            backoff(1, 251),
            Duration::ZERO,
            "random is taken modulo step+1"
        );
        assert_eq!(backoff(2, 500), Duration::from_millis(500));
        assert_eq!(backoff(3, 1000), Duration::from_millis(1000));
        for attempt in 1..40 {
            for r in [0, 1, 12345, u64::MAX] {
                assert!(backoff(attempt, r) <= BACKOFF_CAP);
            }
        }
        // Spread: 200 draws at attempt 5 are not all the same.
        let draws: std::collections::BTreeSet<_> =
            (0..200).map(|_| backoff(5, random_u64())).collect();
        assert!(draws.len() > 50, "{draws:?}");
    }

    #[test]
    fn which_statuses_are_retried() {
        for s in [423, 429, 503] {
            assert!(retryable_status(s, false), "{s} on a mutating call");
            assert!(retryable_status(s, true), "{s} on a GET");
        }
        assert!(retryable_status(502, true) && !retryable_status(502, false));
        for s in [400, 401, 403, 404, 409, 412, 422, 500] {
            assert!(!retryable_status(s, true), "{s}");
        }
    }

    #[test]
    fn request_ids_are_version_4_uuids() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12],
            "{a}"
        );
        assert!(parts[2].starts_with('4'), "{a}");
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "{a}");
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            with_query(
                "/projects/p/branches",
                &[("search", "migrate/feature x&y"), ("limit", "100")]
            ),
            "/projects/p/branches?search=migrate%2Ffeature%20x%26y&limit=100"
        );
        assert_eq!(with_query("/a", &[]), "/a");
    }

    #[test]
    fn errors_name_method_path_status_message_and_request_id() {
        let e = ApiError::Status {
            method: Method::POST,
            path: "/projects/p/branches".into(),
            status: 409,
            message: "branch already exists".into(),
            request_id: "rid-1".into(),
            attempts: 1,
        };
        assert_eq!(
            e.to_string(),
            "POST /projects/p/branches answered 409 Conflict: branch already exists (request id rid-1)"
        );
        let e = ApiError::Status {
            method: Method::DELETE,
            path: "/projects/p/branches/br-a".into(),
            status: 423,
            message: String::new(),
            request_id: "rid-2".into(),
            attempts: 6,
        };
        assert_eq!(
            e.to_string(),
            "DELETE /projects/p/branches/br-a answered 423 Locked (request id rid-2, after 6 attempts)"
        );
    }

    #[test]
    fn base_hosts() {
        assert_eq!(host_of_base("http://127.0.0.1:8080/api/v2"), "127.0.0.1");
        assert_eq!(
            host_of_base("https://console.neon.tech/api/v2"),
            "console.neon.tech"
        );
        assert_eq!(host_of_base("http://[::1]:80"), "::1");
    }
}
