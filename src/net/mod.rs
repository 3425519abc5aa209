//! The outbound HTTP client: every request chatgate makes (to Telegram, WhatsApp, and customers'
//! webhooks) goes through one of the clients built here. Pooled connections, a connect timeout, a
//! whole-request timeout that also bounds any silence (a file's download gets longer as a whole), no
//! redirects (a platform never redirects an API call, and a webhook's redirect
//! could lead anywhere), no proxy from the environment. Requests to customers' URLs go through
//! [`customer_client`], whose resolver applies the SSRF rule of SPEC §4 at every connection.

pub mod guard;

use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use guard::{AddressPolicy, GuardedResolver};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboundSettings {
    /// Time to establish a connection (TCP + TLS), ms.
    pub connect_timeout_ms: u64,
    /// Time for a whole request, answer included, ms; also the longest silence within an answer.
    pub request_timeout_ms: u64,
    /// Time for a whole download of a received file (`/media/…` streams it from the platform), ms. A
    /// platform that goes quiet for `request_timeout_ms` still ends it sooner.
    pub file_timeout_ms: u64,
    /// Networks customers' URLs may reach although SPEC §4 forbids them (e.g. `127.0.0.0/8` in tests).
    /// A list, or one comma-separated string (`CHATGATE_OUTBOUND__ALLOW_NETWORKS`).
    #[serde(deserialize_with = "crate::auth::ip_filter::cidr_list")]
    pub allow_networks: Vec<IpNet>,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 5_000,
            request_timeout_ms: 15_000,
            file_timeout_ms: 600_000,
            allow_networks: Vec::new(),
        }
    }
}

/// Builds the client for the platforms (operator-configured URLs). Cheap to clone (an `Arc` inside);
/// build it once per process.
pub fn client(settings: &OutboundSettings) -> Result<reqwest::Client, reqwest::Error> {
    builder(settings, Duration::from_millis(settings.request_timeout_ms)).build()
}

/// The policy for customers' URLs that `settings` configures.
pub fn address_policy(settings: &OutboundSettings) -> Arc<AddressPolicy> {
    Arc::new(AddressPolicy::new(settings.allow_networks.clone()))
}

/// The client for customers' URLs: names resolve only to addresses `policy` permits (IP literals do not
/// reach a resolver: check them with [`AddressPolicy::permits_literal`] before each request).
pub fn customer_client(
    settings: &OutboundSettings,
    policy: Arc<AddressPolicy>,
    timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    builder(settings, timeout).dns_resolver(Arc::new(GuardedResolver::new(policy))).build()
}

fn builder(settings: &OutboundSettings, timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
        .timeout(timeout)
        // Also the longest silence: a request given more time as a whole (a file's download) is still
        // cut when the other side stops sending.
        .read_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("chatgate/", env!("CARGO_PKG_VERSION")))
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
