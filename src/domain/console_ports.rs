//! What the operator console needs from the store: sessions, and the shared inbox.

use async_trait::async_trait;

use super::model::Message;
use super::store_error::StoreResult;

/// A signed-in console.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub token_hash: String,
    pub credential_id: i64,
    pub account_id: i64,
    pub login: String,
    pub csrf: String,
    pub expires_at: i64,
}

impl std::fmt::Debug for ConsoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSession").field("login", &self.login).finish_non_exhaustive()
    }
}

/// A chat in the inbox: its last message and how many received messages are unread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxChat {
    pub last: Message,
    pub unread: i64,
    pub assignee: Option<super::contacts::Assignee>,
}

#[async_trait]
pub trait ConsoleStore: Send + Sync {
    async fn create_session(&self, s: &ConsoleSession) -> StoreResult<()>;
    /// The session if it exists and has not expired.
    async fn session(&self, token_hash: &str, now: i64) -> StoreResult<Option<ConsoleSession>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// The account's chats on every channel, newest activity first, at most `limit`.
    async fn inbox(&self, account_id: i64, limit: u32) -> StoreResult<Vec<InboxChat>>;
    /// A chat's account, channel and destination.
    async fn chat_key(&self, chat_id: i64) -> StoreResult<Option<(i64, i64, String)>>;
}
