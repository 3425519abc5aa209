//! The one outbound HTTP client: every request chatgate makes (to Telegram, WhatsApp, and later to
//! customers' webhooks) goes through it. Pooled connections, a connect timeout and a whole-request
//! timeout, no redirects (a platform never redirects an API call; a redirect would be a surprise worth
//! failing on), no proxy from the environment.

pub mod guard;

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboundSettings {
    /// Time to establish a connection (TCP + TLS), ms.
    pub connect_timeout_ms: u64,
    /// Time for a whole request, answer included, ms.
    pub request_timeout_ms: u64,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        Self { connect_timeout_ms: 5_000, request_timeout_ms: 15_000 }
    }
}

/// Builds the client. Cheap to clone (an `Arc` inside); build it once per process.
pub fn client(settings: &OutboundSettings) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
        .timeout(Duration::from_millis(settings.request_timeout_ms))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("chatgate/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A transport error as text that is safe to store and log: reqwest's own message carries the URL,
/// and a Telegram URL carries the bot token.
pub fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "unreadable answer"
    } else {
        "request failed"
    };
    match std::error::Error::source(e) {
        // The source is hyper's or the OS's error, which never holds the URL.
        Some(cause) => format!("{kind}: {cause}"),
        None => kind.to_string(),
    }
}
