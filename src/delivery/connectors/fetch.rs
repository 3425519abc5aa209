//! Files a message names by URL that chatgate itself must fetch before a platform takes them: a
//! contact's vCard (read for its name and number) and Telegram documents that Telegram will not fetch
//! by URL. The URL is the customer's, so the request goes through the SSRF-guarded client (SPEC §4)
//! and the download is bounded in size.

use std::sync::Arc;

use futures_util::StreamExt;

use super::SendOutcome;
use crate::net::describe;
use crate::net::guard::{AddressPolicy, refused_by_policy};

/// The guarded client and its policy.
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

/// A downloaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
}

impl Fetcher {
    pub fn new(client: reqwest::Client, policy: Arc<AddressPolicy>) -> Self {
        Self { client, policy }
    }

    /// The file at `url`, at most `limit` bytes. The error is what the send becomes: a file that is
    /// too big, forbidden or gone fails the message (`platform` names whose rule it is); a network
    /// error or a server error is retried.
    pub async fn fetch(&self, platform: &str, url: &str, limit: u64) -> Result<Fetched, SendOutcome> {
        let refused = |why: String| SendOutcome::Refused { reason: format!("{platform}: {why}") };
        let parsed = url::Url::parse(url).map_err(|_| refused("fileurl is not a URL".into()))?;
        if self.policy.permits_literal(&parsed) == Some(false) {
            return Err(refused("fileurl is an address chatgate may not reach".into()));
        }
        let res = self.client.get(parsed).send().await.map_err(|e| {
            if refused_by_policy(&e) {
                refused("fileurl is an address chatgate may not reach".into())
            } else {
                SendOutcome::later(format!("{platform}: fetching fileurl: {}", describe(&e)))
            }
        })?;
        let status = res.status().as_u16();
        if !res.status().is_success() {
            let why = format!("fetching fileurl: HTTP {status}");
            return Err(if super::is_temporary(status) {
                SendOutcome::later(format!("{platform}: {why}"))
            } else {
                refused(why)
            });
        }
        let too_big = || refused(format!("the file at fileurl is over {limit} bytes"));
        if res.content_length().is_some_and(|len| len > limit) {
            return Err(too_big());
        }
        let content_type = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut bytes = Vec::new();
        let mut stream = res.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk
                .map_err(|e| SendOutcome::later(format!("{platform}: fetching fileurl: {}", describe(&e))))?;
            if bytes.len() as u64 + chunk.len() as u64 > limit {
                return Err(too_big());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched { bytes, content_type })
    }
}
