//! The ports of the command layer: what it needs from the floors below it, as traits it owns. The
//! store (`crate::storage` implements it for SQLite and PostgreSQL), the authenticator
//! (`crate::auth`), and the caches of account state that the change log keeps fresh. The domain
//! names these and nothing of the crates behind them.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use ipnet::IpNet;

use super::console_ports::ConsoleStore;
use super::error::{DomainResult, Throttled};
use super::model::{
    Attachment, Channel, ChannelConfig, ChannelSettings, InboundEdit, InboundMessage, Message, MessageStatus,
    OutboundMessage, Platform, Principal, Scopes,
};
use super::room::{Room, RoomChange};
pub use super::store_error::{StoreError, StoreResult};
use super::templates::{Template, TemplateCall};
use super::webhook_ports::WebhookStore;

/// Checks a login and secret from a client address (argon2, caches, IP filters, failure limits).
#[async_trait]
pub trait Authenticate: Send + Sync {
    async fn authenticate(&self, login: &str, secret: &str, client: IpAddr) -> DomainResult<Principal>;
    /// Credentials that also have a second reading (`Authorization: Basic`, form-decoded per RFC 6749
    /// §2.3.1, when that differs): the first is tried first, the second only if it can be what was
    /// meant; one attempt for the failure limits.
    async fn authenticate_either(
        &self,
        first: (&str, &str),
        second: Option<(&str, &str)>,
        client: IpAddr,
    ) -> DomainResult<Principal>;
    /// An API token (the Feedbot and Chat&Messenger doors): `INVALID_TOKEN` when it is no live token.
    async fn authenticate_token(&self, token: &str, client: IpAddr) -> DomainResult<Principal>;
}

/// A cache of per-account state, told by the account change log what changed.
pub trait AccountCache: Send + Sync {
    fn account_changed(&self, account_id: i64);
    /// The log could not be read: nothing cached can be trusted.
    fn everything_changed(&self);
}

/// A login (the account's own, or one of its accesses) with what is needed to check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    pub id: i64,
    pub account_id: i64,
    pub login: String,
    pub secret_hash: String,
    pub scopes: Scopes,
    pub enabled: bool,
    /// This credential's own allow-list (accesses only); empty = any address.
    pub ip_allow: Vec<IpNet>,
    /// The account-wide allow-list; empty = any address.
    pub account_ip_allow: Vec<IpNet>,
    /// Bumped whenever the secret, scopes, list or state change, so that cached proofs die with it.
    pub version: i64,
    /// The account's own login (not one of its accesses): it may introspect and revoke the tokens of
    /// every access of the account, where an access may only touch its own (RFC 7009 §2.1).
    pub is_primary: bool,
    /// The one channel an access may use, if it was created with one.
    pub channel_id: Option<i64>,
    /// The operators' group an access belongs to (`access create --group`): chats assigned to the
    /// group are this operator's too.
    pub group: Option<String>,
}

impl CredentialRecord {
    /// Whether this credential may introspect or revoke tokens issued to `owner`.
    pub fn manages(&self, owner: &CredentialRecord) -> bool {
        self.account_id == owner.account_id && (self.id == owner.id || self.is_primary)
    }
}

/// A new access of an account.
#[derive(Debug, Clone)]
pub struct NewAccess {
    pub account_login: String,
    pub login: String,
    pub name: String,
    /// Empty for an access that has only a token (no password works for it).
    pub secret_hash: String,
    pub scopes: Scopes,
    pub ip_allow: Vec<IpNet>,
    /// The SHA-256 (hex) of its API token, if it has one.
    pub token_hash: Option<String>,
    /// The one channel it may use (a channel of the same account).
    pub channel_id: Option<i64>,
    /// The operator group it belongs to.
    pub group: Option<String>,
}

/// An outbox entry claimed by a delivery worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OutboxClaim {
    pub id: i64,
    pub message_id: i64,
}

/// A claimed outbox entry with what its connector needs to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryJob {
    pub outbox_id: i64,
    pub message_id: i64,
    pub chat_id: i64,
    pub channel_id: i64,
    pub platform: Platform,
    pub destination: String,
    pub text: Option<String>,
    pub attachment: Option<Attachment>,
    pub expires_at: Option<i64>,
    /// When the message was acknowledged (Unix ms).
    pub created_at: i64,
    /// Claims so far, this one included.
    pub attempts: i64,
    /// What the last temporary failure was, if any.
    pub last_error: Option<String>,
    /// The lease this claim holds; a retry is recorded only while it is still this one.
    pub lease_until: i64,
    /// A template to send instead of text (WhatsApp).
    pub template: Option<TemplateCall>,
    /// When the person last wrote (WhatsApp's 24-hour window), if they ever did.
    pub last_inbound_at: Option<i64>,
}

/// What the outbox holds for one platform (`/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxBacklog {
    pub platform: Platform,
    pub depth: i64,
    /// When the oldest entry was acknowledged (Unix ms).
    pub oldest_created_at: i64,
}

/// This process's database connections (`/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolState {
    pub in_use: u32,
    pub idle: u32,
}

/// What became of a claimed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    Sent {
        platform_message_id: Option<String>,
        /// The platform's own id of the recipient when it differs from the chat's destination
        /// (WhatsApp's `wa_id`): kept as another name of the chat, so that replies from it join it.
        recipient: Option<String>,
    },
    Failed {
        reason: String,
    },
    Expired,
    /// Not sent now: the entry is due again at `at` (Unix ms). `error` is the platform's temporary
    /// failure, if that was the reason (kept for the reason of a final failure).
    Retry {
        at: i64,
        error: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedDelivery {
    pub outbox_id: i64,
    pub message_id: i64,
    pub chat_id: i64,
    pub lease_until: i64,
    pub result: DeliveryResult,
}

/// A change to credentials or IP filters, seen by every instance that polls the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialChange {
    pub id: i64,
    pub account_id: i64,
}

/// An Ed25519 signing key of the authorization server.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    /// PKCS#8 DER.
    pub private_key: Vec<u8>,
    /// The raw 32-byte public key.
    pub public_key: Vec<u8>,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("private_key", &"[redacted]").finish()
    }
}

/// A revoked access token, by its `jti`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub id: i64,
    pub jti: String,
    pub expires_at: i64,
}

/// A stored refresh token (its hash, never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub token_hash: String,
    pub chain: String,
    pub credential_id: i64,
    /// The credential's login (joined in when read; ignored on insert).
    pub login: String,
    pub cred_version: i64,
    pub scope: String,
    pub expires_at: i64,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshUse {
    /// Valid and now used: the caller may issue its successor.
    Fresh(RefreshToken),
    /// Used before, so the chain has just been revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

/// What the authorization server keeps: signing keys, revocations, refresh tokens.
#[async_trait]
pub trait OAuthStore: Send + Sync {
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKey>>;
    /// How many keys there are: a cheap way for every instance to notice a rotation.
    async fn signing_key_count(&self) -> StoreResult<i64>;
    /// Adds a key and retires every other one at `key.created_at`.
    async fn rotate_signing_key(&self, key: &SigningKey) -> StoreResult<()>;
    async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> StoreResult<()>;
    /// Unexpired revocations with an id above `after`, oldest first.
    async fn revocations_since(&self, after: i64, now: i64) -> StoreResult<Vec<Revocation>>;
    async fn insert_refresh_token(&self, token: &RefreshToken, now: i64) -> StoreResult<()>;
    /// Marks the token used (or, if it was used already, revokes its chain) in one transaction.
    async fn use_refresh_token(&self, token_hash: &str, now: i64) -> StoreResult<RefreshUse>;
    /// The token if it is valid now (not used, revoked or expired).
    async fn find_refresh_token(&self, token_hash: &str, now: i64) -> StoreResult<Option<RefreshToken>>;
    async fn revoke_refresh_chain(&self, chain: &str) -> StoreResult<()>;
}

/// The credentials every door checks, and the log of changes every instance polls.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    async fn find_credential(&self, login: &str) -> StoreResult<Option<CredentialRecord>>;
    /// The access whose API token has this SHA-256 (hex).
    async fn find_token(&self, token_hash: &str) -> StoreResult<Option<CredentialRecord>>;
    /// Changes with an id above `after`, oldest first.
    async fn credential_changes_since(&self, after: i64) -> StoreResult<Vec<CredentialChange>>;
    async fn last_credential_change(&self) -> StoreResult<i64>;
}

/// Channels, chats and messages: what the commands read and write, and the platforms report.
#[async_trait]
pub trait ChatStore: Send + Sync {
    async fn channels(&self, account_id: i64) -> StoreResult<Vec<Channel>>;
    async fn channel(&self, account_id: i64, channel_id: i64) -> StoreResult<Option<Channel>>;
    async fn chat_exists(&self, channel_id: i64, destination: &str) -> StoreResult<bool>;
    /// Stores the message as `pending` and its outbox entry in one transaction (creating the chat if
    /// needed) and returns its id; with an idempotency key seen in the last 24 h, returns the first
    /// message's id and stores nothing.
    async fn send_message(&self, m: &OutboundMessage) -> StoreResult<i64>;
    /// Stores a bulk call's messages as `send_message` stores each, numbered in the list's order (a
    /// chat's messages keep it); one result per message, in order.
    async fn send_messages(&self, messages: Vec<OutboundMessage>) -> Vec<StoreResult<i64>>;
    /// Stores a received message as `unread` and returns its id; a `dedup_key` already stored for the
    /// channel stores nothing and returns the first message's id.
    async fn receive_message(&self, m: &InboundMessage) -> StoreResult<i64>;
    /// A received message edited by its sender: the new text and `edited_at` on the message stored
    /// with that `dedup_key` (a later edit is never undone by an earlier one); false when none is.
    async fn edit_received(&self, e: &InboundEdit) -> StoreResult<bool>;
    /// When the person of a chat last wrote (the platform's time), if they ever did.
    async fn last_inbound_at(&self, channel_id: i64, destination: &str) -> StoreResult<Option<i64>>;
    /// The last message of each chat, newest first: `limit` chats whose last message is below `before`.
    async fn last_message_per_chat(
        &self,
        channel_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    /// Newest first, ids below `before` when given.
    async fn messages(
        &self,
        channel_id: i64,
        destination: &str,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    async fn message(&self, account_id: i64, message_id: i64) -> StoreResult<Option<Message>>;
    /// The `limit` oldest unread received messages, oldest first; marked read in the same transaction
    /// when asked.
    async fn unread_messages(
        &self,
        channel_id: i64,
        destination: &str,
        mark_read: bool,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    async fn mark_read(&self, channel_id: i64, destination: &str, up_to: i64) -> StoreResult<u64>;
    /// A page showed the chat's outbound messages up to `up_to`: each moves to `status` (`delivered` or
    /// `read`) if that is a step forwards, with its `message_status` event; how many moved.
    async fn mark_outbound(
        &self,
        channel_id: i64,
        destination: &str,
        up_to: i64,
        status: MessageStatus,
    ) -> StoreResult<u64>;
    /// A platform's status callback: moves the channel's outbound message with that platform id to
    /// `status` if that is a step forwards; false when nothing changed.
    async fn update_status_by_platform_id(
        &self,
        channel_id: i64,
        platform_message_id: &str,
        status: MessageStatus,
        reason: Option<&str>,
    ) -> StoreResult<bool>;
    /// A channel of any account with its settings (inbound webhooks and connectors).
    async fn channel_config(&self, channel_id: i64) -> StoreResult<Option<ChannelConfig>>;
    /// Every channel of `platform`, of any account, with its settings (routing an app-wide webhook).
    async fn channel_configs(&self, platform: Platform) -> StoreResult<Vec<ChannelConfig>>;
    /// Ids of chats that gained a message or whose messages changed status, as their transactions commit
    /// (on this instance, and on PostgreSQL on every instance): what live pages listen to.
    fn chat_news(&self) -> tokio::sync::broadcast::Receiver<i64>;
}

/// The outbox as the delivery workers claim and finish it.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    async fn outbox_len(&self) -> StoreResult<i64>;
    /// Claims up to `limit` due outbox entries for `lease_ms` — expired ones, and the oldest entry of
    /// each chat (a chat's messages go out in order): entries another worker holds under an
    /// unexpired lease are skipped (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so N workers on N
    /// instances never hold the same entry at once; an entry whose lease ran out is claimable again.
    async fn claim_outbox(&self, limit: u32, lease_ms: i64, now: i64) -> StoreResult<Vec<OutboxClaim>>;
    /// `claim_outbox` for the delivery worker `owner` (none of `skip_channels`, leased until
    /// `lease_until` or until the owner's heart stops, whichever comes first), with what sending needs.
    async fn claim_deliveries(
        &self,
        limit: u32,
        owner: i64,
        lease_until: i64,
        now: i64,
        skip_channels: &[i64],
    ) -> StoreResult<Vec<DeliveryJob>>;
    /// The delivery worker `owner` is alive until `alive_until`; the claims of owners whose time ran out
    /// by `now` are freed (due at once, for any worker) and those owners forgotten. How many were freed.
    async fn delivery_heartbeat(&self, owner: i64, alive_until: i64, now: i64) -> StoreResult<u64>;
    /// The delivery worker `owner` stopped: its remaining claims are freed and its heart forgotten.
    async fn delivery_owner_gone(&self, owner: i64) -> StoreResult<()>;
    /// Records outcomes in one transaction: a final one sets the message's status (only if still
    /// `pending`) and removes the entry; a retry makes it due again (only while the lease is ours).
    async fn finish_deliveries(&self, done: &[FinishedDelivery]) -> StoreResult<()>;
    /// Signalled after a new outbox entry was committed by this process, so that its delivery worker
    /// starts at once.
    fn outbox_signal(&self) -> Arc<tokio::sync::Notify>;
}

/// What `/readyz` and `/metrics` read.
#[async_trait]
pub trait HealthStore: Send + Sync {
    /// Whether the database answers and every migration this build knows has run: `Err` with a short
    /// reason otherwise (`/readyz`).
    async fn readiness(&self) -> Result<(), String>;
    /// Entries waiting per platform, with the oldest one's age.
    async fn outbox_backlog(&self) -> StoreResult<Vec<OutboxBacklog>>;
    /// Connections of this process's pools, in use and idle.
    fn pool_state(&self) -> PoolState;
}

/// Server-wide keys and the sealing of stored secrets.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The server-wide key `name`, created from `candidate` by whichever instance asks first.
    async fn server_key(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>>;
    /// The value sealed under the database's secret key when its secrets were first sealed, if any
    /// (`storage::sealed::unlock` checks the keys given against it).
    async fn secret_key_check(&self) -> StoreResult<Option<Vec<u8>>>;
    /// Seals every stored secret, and the key check, under the newest secret key, in one transaction;
    /// values under older keys are opened with them (`chatgate secrets rotate`, and the first start).
    async fn reseal_secrets(&self) -> StoreResult<ResealReport>;
    /// Seals webhook headers stored plainly (by a version that did not seal them); how many.
    async fn seal_plain_webhook_headers(&self) -> StoreResult<u64>;
}

/// Administration: accounts, accesses, channels (the CLI).
#[async_trait]
pub trait AdminStore: Send + Sync {
    async fn account_count(&self) -> StoreResult<i64>;
    async fn create_account(&self, login: &str, secret_hash: &str) -> StoreResult<i64>;
    async fn set_account_ip_filter(&self, login: &str, allow: &[IpNet]) -> StoreResult<()>;
    async fn create_access(&self, access: &NewAccess) -> StoreResult<i64>;
    async fn set_access_enabled(&self, login: &str, enabled: bool) -> StoreResult<()>;
    async fn set_secret(&self, login: &str, secret_hash: &str) -> StoreResult<()>;
    async fn create_channel(
        &self,
        account_login: &str,
        platform: Platform,
        name: &str,
        settings: &ChannelSettings,
    ) -> StoreResult<i64>;
    /// Sets (`Some`) or removes (`None`) settings of a channel and records the change for every instance.
    async fn set_channel_settings(
        &self,
        channel_id: i64,
        changes: &[(String, Option<String>)],
    ) -> StoreResult<()>;
}

/// A WhatsApp channel's message templates, as its listing last gave them: stored, so that every
/// instance checks sends against the same set.
#[async_trait]
pub trait TemplateStore: Send + Sync {
    async fn templates(&self, channel_id: i64) -> StoreResult<Vec<Template>>;
    /// Replaces the channel's templates with a listing's.
    async fn replace_templates(&self, channel_id: i64, templates: &[Template], now: i64) -> StoreResult<()>;
    /// A status Meta reported for one template; false when the channel has no such template.
    async fn set_template_status(
        &self,
        channel_id: i64,
        name: &str,
        language: &str,
        status: &str,
    ) -> StoreResult<bool>;
}

/// An account's rooms (Chat&Messenger's chat rooms).
#[async_trait]
pub trait RoomStore: Send + Sync {
    async fn rooms(&self, account_id: i64) -> StoreResult<Vec<Room>>;
    /// Creates (`change.id` none; by name, so a room named twice is one room) or changes a room;
    /// `NotFound("room")` for an id that is not one of the account's.
    async fn save_room(&self, account_id: i64, change: &RoomChange) -> StoreResult<Room>;
}

/// What the commands run against (`Context`): chats and messages, webhooks and their deliveries,
/// templates.
/// A chat's person and conversation (`contacts.rs`): each change in one transaction with its event.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// The chat's contact, state and assignee; `None` when there is no such chat.
    async fn conversation(
        &self,
        channel_id: i64,
        destination: &str,
    ) -> StoreResult<Option<crate::domain::contacts::Conversation>>;
    /// Applies `change` to the chat's contact; when a value really changed, writes `contact.updated`
    /// with `changed`. The contact after it; `None` when there is no such chat — unless `create`, which
    /// keeps the contact of a chat that has no message yet (a webchat visitor's page gives it first).
    async fn update_contact(
        &self,
        channel_id: i64,
        destination: &str,
        change: &crate::domain::contacts::ContactChange,
        create: bool,
        now: i64,
    ) -> StoreResult<Option<crate::domain::contacts::Contact>>;
    /// Ends the open conversation and writes `conversation.ended`; `Some(false)` when it was ended
    /// already (nothing written), `None` when there is no such chat.
    async fn end_conversation(
        &self,
        channel_id: i64,
        destination: &str,
        now: i64,
    ) -> StoreResult<Option<bool>>;
    /// Assigns the chat; when the assignee changes, writes `chat_session.forward` with the previous and
    /// current one. `Some(changed)`, `None` when there is no such chat.
    async fn assign(
        &self,
        channel_id: i64,
        destination: &str,
        assignee: &crate::domain::contacts::Assignee,
        now: i64,
    ) -> StoreResult<Option<bool>>;
    /// Takes what the contact left after the end (`chat_session.rating` and, with words,
    /// `chat_session.feedback`; or `chat_session.survey`), once per end. `None` when there is no such
    /// chat.
    async fn take_after_end(
        &self,
        channel_id: i64,
        destination: &str,
        after_end: &crate::domain::contacts::AfterEnd,
        now: i64,
    ) -> StoreResult<Option<Result<(), crate::domain::contacts::Refusal>>>;
    /// Goals reached by the chat's current session: each not reached before in this session, while the
    /// conversation has an assignee and a message, writes `chat_session.goal`. How many were new.
    async fn reach_goals(
        &self,
        channel_id: i64,
        destination: &str,
        goals: &[String],
        now: i64,
    ) -> StoreResult<usize>;
    /// The account's operators who may be assigned chats (its login and accesses with `chat:write`) and
    /// its groups.
    async fn operators(&self, account_id: i64) -> StoreResult<(Vec<String>, Vec<String>)>;
}

pub trait CommandStore: ChatStore + WebhookStore + TemplateStore + ConversationStore {}

impl<T: ChatStore + WebhookStore + TemplateStore + ConversationStore + ?Sized> CommandStore for T {}

/// Everything the storage engines implement: each consumer is given only the ports it uses.
pub trait Store:
    CredentialStore
    + CommandStore
    + RoomStore
    + OutboxStore
    + HealthStore
    + SecretStore
    + AdminStore
    + OAuthStore
    + ConsoleStore
{
}

impl<T> Store for T where
    T: CredentialStore
        + CommandStore
        + RoomStore
        + OutboxStore
        + HealthStore
        + SecretStore
        + AdminStore
        + OAuthStore
        + ConsoleStore
        + ?Sized
{
}

/// Request limits per client address and per credential (SPEC §8), checked by the gateway.
pub trait RequestLimits: Send + Sync {
    fn admit_address(&self, client: IpAddr) -> Result<(), Throttled>;
    fn admit_credential(&self, credential_id: i64) -> Result<(), Throttled>;
}

/// No request limits (the CLI, and a server configured without them).
pub struct Unlimited;

impl RequestLimits for Unlimited {
    fn admit_address(&self, _client: IpAddr) -> Result<(), Throttled> {
        Ok(())
    }

    fn admit_credential(&self, _credential_id: i64) -> Result<(), Throttled> {
        Ok(())
    }
}

/// How many stored secrets a re-sealing rewrote (those already under the newest key are left).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ResealReport {
    pub channels: u64,
    pub webhooks: u64,
    pub webhook_headers: u64,
    pub signing_keys: u64,
    pub server_keys: u64,
}

impl ResealReport {
    pub fn total(&self) -> u64 {
        self.channels + self.webhooks + self.webhook_headers + self.signing_keys + self.server_keys
    }
}
