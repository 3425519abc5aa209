//! What the web pages' doors (the webchat visitor API, the operator console) and the operating
//! endpoints ask of the command layer beyond the API's commands: the page's conversation and what it
//! showed, the console's inbox and sessions, readiness and backlog. The doors reach storage only
//! through these.

use std::net::IpAddr;
use std::sync::Arc;

use super::console_ports::{ConsoleSession, InboxChat};
use super::error::{DomainError, DomainResult, ErrorCode};
use super::gateway::Gateway;
use super::model::{ChannelConfig, InboundMessage, Message, MessageStatus, Platform, Principal, Scope};
use super::ports::{CredentialRecord, OutboxBacklog, PoolState};
use super::values::typed_text;

impl Gateway {
    /// A channel of any account with its settings (the pages and the platforms' webhooks name it in
    /// their URL).
    pub async fn channel_config(&self, channel_id: i64) -> DomainResult<Option<Arc<ChannelConfig>>> {
        self.channels().config(channel_id).await
    }

    /// A chat's newest `limit` messages, newest first (the webchat page's history).
    pub async fn conversation(
        &self,
        channel_id: i64,
        destination: &str,
        limit: u32,
    ) -> DomainResult<Vec<Message>> {
        Ok(self.store.messages(channel_id, destination, None, limit).await?)
    }

    /// One of the account's messages.
    pub async fn message(&self, account_id: i64, message_id: i64) -> DomainResult<Option<Message>> {
        Ok(self.store.message(account_id, message_id).await?)
    }

    /// The page received (`Delivered`) or showed (`Read`) the business's messages of a chat up to
    /// `up_to`: they move forwards to `status`.
    pub async fn page_saw(
        &self,
        channel_id: i64,
        destination: &str,
        up_to: i64,
        status: MessageStatus,
    ) -> DomainResult<u64> {
        Ok(self.store.mark_outbound(channel_id, destination, up_to, status).await?)
    }

    /// The account's chats on every channel, newest activity first (the console's inbox).
    /// Whom `principal`'s account can assign chats to: its operators and its groups (`chat:read`).
    pub async fn assignable(
        &self,
        principal: &super::model::Principal,
    ) -> DomainResult<(Vec<String>, Vec<String>)> {
        if !principal.scopes.allows(super::model::Scope::ChatRead) {
            return Err(super::error::DomainError::new(super::error::ErrorCode::AccessDenied));
        }
        Ok(self.store.operators(principal.account_id).await?)
    }

    pub async fn inbox(&self, account_id: i64, limit: u32) -> DomainResult<Vec<InboxChat>> {
        Ok(self.store.inbox(account_id, limit).await?)
    }

    /// A credential as stored now (the console checks its sessions' credentials on every request).
    pub async fn credential(&self, login: &str) -> DomainResult<Option<CredentialRecord>> {
        Ok(self.store.find_credential(login).await?)
    }

    /// An operator signing in to the console: the credential checked as every door checks it, and it
    /// must read and answer (`chat:read` and `chat:write`); read-only callers use the API.
    pub async fn operator_sign_in(
        &self,
        login: &str,
        secret: &str,
        client: IpAddr,
    ) -> DomainResult<Principal> {
        let principal = self.authenticate(login, secret, client).await?;
        if !principal.scopes.allows(Scope::ChatRead) || !principal.scopes.allows(Scope::ChatWrite) {
            return Err(ErrorCode::AccessDenied.into());
        }
        Ok(principal)
    }

    /// An operator's answer in one of the account's operator channels, to the chat with the operator
    /// themselves (`destination`, their login): a received message of that chat. Another platform's
    /// channel is `CHANNEL_NOT_FOUND`.
    pub async fn answer_as_operator(
        &self,
        principal: &Principal,
        platform_id: &str,
        destination: &str,
        text: &str,
    ) -> DomainResult<i64> {
        let not_found = || DomainError::param(ErrorCode::ChannelNotFound, "platformid");
        let id = platform_id.parse::<i64>().map_err(|_| not_found())?;
        let channel = self.channels().channel(principal.account_id, id).await.ok().flatten();
        let channel = channel.filter(|c| c.platform == Platform::Operator).ok_or_else(not_found)?;
        let now = chrono::Utc::now().timestamp_millis();
        let m = InboundMessage::typed(channel.id, destination.to_string(), typed_text(text)?, now);
        self.receive(&m).await
    }

    pub async fn open_session(&self, session: &ConsoleSession) -> DomainResult<()> {
        Ok(self.store.create_session(session).await?)
    }

    /// The session with this token hash, if it exists and has not expired by `now`.
    pub async fn session(&self, token_hash: &str, now: i64) -> DomainResult<Option<ConsoleSession>> {
        Ok(self.store.session(token_hash, now).await?)
    }

    pub async fn end_session(&self, token_hash: &str) -> DomainResult<()> {
        Ok(self.store.delete_session(token_hash).await?)
    }

    /// Whether the database answers and the migrations ran (`/readyz`); why not otherwise.
    pub async fn readiness(&self) -> Result<(), String> {
        self.store.readiness().await
    }

    /// Entries waiting per platform, with the oldest one's age (`/metrics`).
    pub async fn outbox_backlog(&self) -> DomainResult<Vec<OutboxBacklog>> {
        Ok(self.store.outbox_backlog().await?)
    }

    /// This process's database connections, in use and idle (`/metrics`).
    pub fn pool_state(&self) -> PoolState {
        self.store.pool_state()
    }
}
