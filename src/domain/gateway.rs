//! The entrance every door uses: authenticate, resolve, check scope, parse, apply — in the spec's order.

use std::net::IpAddr;
use std::sync::Arc;

use super::command::Command;
use super::context::Context;
use super::directory::ChannelDirectory;
use super::error::{DomainError, DomainResult, ErrorCode};
use super::events::EventKind;
use super::model::{ChannelConfig, InboundEdit, InboundMessage, MessageStatus, Platform, Principal};
use super::operation::Operation;
use super::params::Params;
use super::ports::{Authenticate, RequestLimits, Store, Unlimited};
use super::reply::Reply;
use super::template_book::{NoTemplateSource, TemplateBook, TemplateSource};
use super::webhook_ports::UrlGuard;

/// One call through a password door (plain, Basic, SOAP): credentials, client address, what to do.
#[derive(Debug, Clone)]
pub struct Call {
    pub login: Option<String>,
    pub secret: Option<String>,
    /// The credentials' other reading, when the door has one (Basic, form-decoded).
    pub decoded: Option<(String, String)>,
    pub client: IpAddr,
    pub class: Option<String>,
    pub method: Option<String>,
    pub params: Params,
}

impl Call {
    /// Takes `user`, `password`, `class` and `method` out of the parameters, as the plain door and
    /// SOAP bodies carry them; the credentials do not travel further with the parameters.
    pub fn from_params(mut params: Params, client: IpAddr) -> Self {
        Self {
            login: params.take("user"),
            secret: params.take("password"),
            decoded: None,
            class: params.take("class"),
            method: params.take("method"),
            client,
            params,
        }
    }
}

#[derive(Clone)]
pub struct Gateway {
    pub(super) store: Arc<dyn Store>,
    auth: Arc<dyn Authenticate>,
    channels: Arc<ChannelDirectory>,
    urls: Arc<dyn UrlGuard>,
    limits: Arc<dyn RequestLimits>,
    templates: Arc<TemplateBook>,
    /// Rooms by account and name, for messages sent to them (`rooms.rs`).
    pub(super) rooms_by_name: Arc<super::room::RoomNames>,
}

impl Gateway {
    pub fn new(store: Arc<dyn Store>, auth: Arc<dyn Authenticate>, urls: Arc<dyn UrlGuard>) -> Self {
        let channels = Arc::new(ChannelDirectory::new(store.clone()));
        let templates = Arc::new(TemplateBook::new(store.clone(), Arc::new(NoTemplateSource)));
        let rooms_by_name = Arc::new(super::room::RoomNames::default());
        Self { channels, store, auth, urls, limits: Arc::new(Unlimited), templates, rooms_by_name }
    }

    /// The same gateway with WhatsApp's template listing to fetch from (the server's connectors).
    pub fn with_template_source(mut self, source: Arc<dyn TemplateSource>) -> Self {
        self.templates = Arc::new(TemplateBook::new(self.store.clone(), source));
        self
    }

    /// The channels' templates (the inbound webhook reports status changes to it; the server refreshes
    /// it from Meta every `templates.refresh_secs`).
    pub fn templates(&self) -> &Arc<TemplateBook> {
        &self.templates
    }

    /// The same gateway with request limits per client address and per credential.
    pub fn with_request_limits(mut self, limits: Arc<dyn RequestLimits>) -> Self {
        self.limits = limits;
        self
    }

    /// Counts a request from `client` against its address's limit (before any credential is checked).
    pub fn admit(&self, client: IpAddr) -> DomainResult<()> {
        Ok(self.limits.admit_address(client)?)
    }

    pub fn channels(&self) -> &Arc<ChannelDirectory> {
        &self.channels
    }

    /// Stores a message a platform reported (inbound webhooks); a repeat of one already stored
    /// (same `dedup_key`) stores nothing.
    pub async fn receive(&self, m: &InboundMessage) -> DomainResult<i64> {
        Ok(self.store.receive_message(m).await?)
    }

    /// A received message its sender edited (Telegram): the stored one gets the new text.
    pub async fn edit_received(&self, e: &InboundEdit) -> DomainResult<bool> {
        Ok(self.store.edit_received(e).await?)
    }

    /// Every channel of `platform` with its settings: an app-wide WhatsApp webhook is filed under the
    /// channel whose number it names.
    pub async fn channel_configs(&self, platform: Platform) -> DomainResult<Vec<ChannelConfig>> {
        Ok(self.store.channel_configs(platform).await?)
    }

    /// Asks Meta again for the templates of every WhatsApp channel that names its business account;
    /// a channel Meta refuses is logged and the others go on.
    pub async fn refresh_all_templates(&self) -> DomainResult<()> {
        for c in self.store.channel_configs(Platform::Whatsapp).await? {
            if c.settings.get("waba_id").is_none() {
                continue;
            }
            if let Err(e) = self.templates.refresh(c.channel.id).await {
                let why = e.message.unwrap_or_else(|| e.code.to_string());
                tracing::warn!(channel = c.channel.id, error = %why, "refreshing templates failed");
            }
        }
        Ok(())
    }

    /// A platform's status report of a message we sent; a step backwards changes nothing.
    pub async fn platform_status(
        &self,
        channel_id: i64,
        platform_message_id: &str,
        status: MessageStatus,
        reason: Option<&str>,
    ) -> DomainResult<bool> {
        Ok(self.store.update_status_by_platform_id(channel_id, platform_message_id, status, reason).await?)
    }

    /// An operator's presence changed (the console): `operator.*` for the account's webhooks.
    pub async fn operator_presence(&self, account_id: i64, kind: EventKind, login: &str) -> DomainResult<()> {
        let now = chrono::Utc::now().timestamp_millis();
        self.store.emit_operator_event(account_id, kind, login, now).await?;
        Ok(())
    }

    /// A login and secret, checked exactly as the doors check them (the operator console's sign-in).
    pub async fn authenticate(&self, login: &str, secret: &str, client: IpAddr) -> DomainResult<Principal> {
        if login.is_empty() {
            return Err(ErrorCode::MissingUser.into());
        }
        if secret.is_empty() {
            return Err(ErrorCode::MissingPassword.into());
        }
        self.auth.authenticate(login, secret, client).await
    }

    /// An API token, for the doors whose callers carry one (Feedbot, Chat&Messenger); the address's
    /// request limit first, as for every call.
    pub async fn authenticate_token(&self, token: &str, client: IpAddr) -> DomainResult<Principal> {
        self.admit(client)?;
        if token.is_empty() {
            return Err(ErrorCode::InvalidToken.into());
        }
        self.auth.authenticate_token(token, client).await
    }

    /// Missing credentials → login + IP filters → password → class → method → scope → parameters →
    /// existence (SPEC §2 "Check order").
    pub async fn call(&self, call: Call) -> DomainResult<Reply> {
        self.admit(call.client)?;
        let login = call.login.filter(|l| !l.is_empty()).ok_or(ErrorCode::MissingUser)?;
        let secret = call.secret.filter(|s| !s.is_empty()).ok_or(ErrorCode::MissingPassword)?;
        let decoded = call.decoded.as_ref().map(|(l, s)| (l.as_str(), s.as_str()));
        let principal = self.auth.authenticate_either((&login, &secret), decoded, call.client).await?;
        self.execute(principal, call.class.as_deref(), call.method.as_deref(), &call.params).await
    }

    /// Everything after authentication, for doors that authenticate otherwise (bearer tokens).
    pub async fn execute(
        &self,
        principal: Principal,
        class: Option<&str>,
        method: Option<&str>,
        params: &Params,
    ) -> DomainResult<Reply> {
        self.limits.admit_credential(principal.credential_id)?;
        let op = Operation::resolve(class, method)?;
        allowed(&principal, op)?;
        let now = chrono::Utc::now().timestamp_millis();
        let command = Command::parse(op, params, now)?;
        self.apply(principal, command, now).await
    }

    /// A command a door built itself, run as `principal`: the credential's request limit, the scope,
    /// then the command.
    pub async fn run(&self, principal: Principal, command: Command) -> DomainResult<Reply> {
        self.limits.admit_credential(principal.credential_id)?;
        allowed(&principal, command.operation())?;
        self.apply(principal, command, chrono::Utc::now().timestamp_millis()).await
    }

    async fn apply(&self, principal: Principal, command: Command, now: i64) -> DomainResult<Reply> {
        let ctx = Context {
            store: self.store.as_ref(),
            channels: &self.channels,
            templates: &self.templates,
            urls: self.urls.as_ref(),
            principal,
            now,
        };
        command.apply(&ctx).await
    }
}

/// Whether the principal's scopes allow `op`.
fn allowed(principal: &Principal, op: Operation) -> DomainResult<()> {
    if principal.scopes.allows(op.scope()) { Ok(()) } else { Err(DomainError::new(ErrorCode::AccessDenied)) }
}
