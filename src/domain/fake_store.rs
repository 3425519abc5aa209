//! An in-memory `CommandStore` for the command layer's unit tests: channels, chats and messages in a
//! mutex, no database and no HTTP. Webhook methods answer as a store with no webhooks would; the
//! account has one operator (`alice`) and one group (`support`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::events::EventKind;
use super::model::{
    Channel, ChannelConfig, ChannelSettings, InboundEdit, InboundMessage, Message, MessageDetails,
    MessageStatus, OutboundMessage, Platform,
};
use super::ports::ChatStore;
use super::store_error::{StoreError, StoreResult};
use super::webhook_ports::{AttemptRecord, DeliveryInfo, NewWebhook, Webhook, WebhookBatch, WebhookStore};

#[derive(Default)]
pub struct FakeStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    channels: Vec<Channel>,
    chats: HashSet<(i64, String)>,
    conversations: std::collections::HashMap<(i64, String), super::contacts::Conversation>,
    messages: Vec<Message>,
    /// Destinations whose sends the "database" fails.
    failing: HashSet<String>,
}

impl FakeStore {
    /// A store with these channels (id, account, platform).
    pub fn with_channels(channels: &[(i64, i64, Platform)]) -> Arc<Self> {
        let store = FakeStore::default();
        store.lock().channels = channels
            .iter()
            .map(|&(id, account_id, platform)| Channel { id, account_id, platform, name: format!("c{id}") })
            .collect();
        Arc::new(store)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends to `destination` fail in the store from now on.
    pub fn fail_sends_to(&self, destination: &str) {
        self.lock().failing.insert(destination.to_string());
    }

    /// A message received from `destination` in channel `channel_id`: its id.
    pub fn store_for_test(&self, channel_id: i64, destination: &str) -> i64 {
        self.store_message(channel_id, destination, Some("hello".into()), false, 0).unwrap_or_default()
    }

    /// The messages stored, oldest first.
    pub fn stored(&self) -> Vec<Message> {
        self.lock().messages.clone()
    }

    fn store_message(
        &self,
        channel_id: i64,
        destination: &str,
        text: Option<String>,
        sent: bool,
        now: i64,
    ) -> StoreResult<i64> {
        let mut inner = self.lock();
        if inner.failing.contains(destination) {
            return Err(StoreError::Backend("the fake database failed".into()));
        }
        let platform =
            inner.channels.iter().find(|c| c.id == channel_id).map_or(Platform::Webchat, |c| c.platform);
        let id = inner.messages.len() as i64 + 1;
        inner.chats.insert((channel_id, destination.to_string()));
        let status = if sent { MessageStatus::Pending } else { MessageStatus::Unread };
        inner.messages.push(Message {
            id,
            channel_id,
            platform,
            destination: destination.to_string(),
            text,
            attachment: None,
            sent,
            status,
            reason: None,
            created_at: now,
            details: MessageDetails::default(),
        });
        Ok(id)
    }
}

#[async_trait]
impl ChatStore for FakeStore {
    async fn channels(&self, account_id: i64) -> StoreResult<Vec<Channel>> {
        Ok(self.lock().channels.iter().filter(|c| c.account_id == account_id).cloned().collect())
    }

    async fn channel(&self, account_id: i64, channel_id: i64) -> StoreResult<Option<Channel>> {
        Ok(self.lock().channels.iter().find(|c| c.account_id == account_id && c.id == channel_id).cloned())
    }

    async fn chat_exists(&self, channel_id: i64, destination: &str) -> StoreResult<bool> {
        Ok(self.lock().chats.contains(&(channel_id, destination.to_string())))
    }

    async fn send_message(&self, m: &OutboundMessage) -> StoreResult<i64> {
        self.store_message(m.channel_id, &m.destination, m.text.clone(), true, m.now)
    }

    async fn send_messages(&self, messages: Vec<OutboundMessage>) -> Vec<StoreResult<i64>> {
        messages
            .iter()
            .map(|m| self.store_message(m.channel_id, &m.destination, m.text.clone(), true, m.now))
            .collect()
    }

    async fn receive_message(&self, m: &InboundMessage) -> StoreResult<i64> {
        self.store_message(m.channel_id, &m.destination, m.text.clone(), false, m.now)
    }

    async fn edit_received(&self, _: &InboundEdit) -> StoreResult<bool> {
        Ok(false)
    }

    async fn last_inbound_at(&self, _: i64, _: &str) -> StoreResult<Option<i64>> {
        Ok(None)
    }

    async fn last_message_per_chat(
        &self,
        channel_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let inner = self.lock();
        let mut seen = HashSet::new();
        Ok(inner
            .messages
            .iter()
            .rev()
            .filter(|m| m.channel_id == channel_id && seen.insert(m.destination.clone()))
            .filter(|m| before.is_none_or(|b| m.id < b))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn messages(
        &self,
        channel_id: i64,
        destination: &str,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let inner = self.lock();
        Ok(inner
            .messages
            .iter()
            .rev()
            .filter(|m| m.channel_id == channel_id && m.destination == destination)
            .filter(|m| before.is_none_or(|b| m.id < b))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn message(&self, account_id: i64, message_id: i64) -> StoreResult<Option<Message>> {
        let inner = self.lock();
        let owned =
            |m: &&Message| inner.channels.iter().any(|c| c.id == m.channel_id && c.account_id == account_id);
        Ok(inner.messages.iter().filter(owned).find(|m| m.id == message_id).cloned())
    }

    async fn unread_messages(
        &self,
        channel_id: i64,
        destination: &str,
        _mark_read: bool,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let inner = self.lock();
        Ok(inner
            .messages
            .iter()
            .filter(|m| {
                m.channel_id == channel_id
                    && m.destination == destination
                    && m.status == MessageStatus::Unread
            })
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn mark_read(&self, _channel_id: i64, _destination: &str, _up_to: i64) -> StoreResult<u64> {
        Ok(0)
    }

    async fn mark_outbound(&self, _c: i64, _d: &str, _up_to: i64, _s: MessageStatus) -> StoreResult<u64> {
        Ok(0)
    }

    async fn update_status_by_platform_id(
        &self,
        _c: i64,
        _p: &str,
        _s: MessageStatus,
        _r: Option<&str>,
    ) -> StoreResult<bool> {
        Ok(false)
    }

    async fn channel_config(&self, channel_id: i64) -> StoreResult<Option<ChannelConfig>> {
        let channel = self.lock().channels.iter().find(|c| c.id == channel_id).cloned();
        Ok(channel.map(|channel| ChannelConfig { channel, settings: ChannelSettings::default() }))
    }

    async fn channel_configs(&self, platform: Platform) -> StoreResult<Vec<ChannelConfig>> {
        let channels = self.lock().channels.clone();
        Ok(channels
            .into_iter()
            .filter(|c| c.platform == platform)
            .map(|channel| ChannelConfig { channel, settings: ChannelSettings::default() })
            .collect())
    }

    fn chat_news(&self) -> tokio::sync::broadcast::Receiver<i64> {
        tokio::sync::broadcast::channel(1).1
    }
}

#[async_trait]
impl WebhookStore for FakeStore {
    async fn create_webhook(&self, _w: &NewWebhook, _max: i64) -> StoreResult<Option<i64>> {
        Ok(Some(1))
    }

    async fn webhooks(&self, _account_id: i64) -> StoreResult<Vec<Webhook>> {
        Ok(Vec::new())
    }

    async fn delete_webhook(&self, _account_id: i64, _webhook_id: i64) -> StoreResult<bool> {
        Ok(false)
    }

    async fn deliveries(&self, _a: i64, _w: Option<i64>, _limit: u32) -> StoreResult<Vec<DeliveryInfo>> {
        Ok(Vec::new())
    }

    async fn redeliver(&self, _a: i64, _d: i64, _now: i64) -> StoreResult<bool> {
        Ok(false)
    }

    async fn emit_operator_event(&self, _a: i64, _k: EventKind, _l: &str, _now: i64) -> StoreResult<u64> {
        Ok(0)
    }

    async fn end_idle_sessions(&self, _idle_since: i64, _now: i64, _limit: u32) -> StoreResult<u64> {
        Ok(0)
    }

    async fn due_webhooks(&self, _now: i64, _skip: &[i64], _limit: u32) -> StoreResult<Vec<i64>> {
        Ok(Vec::new())
    }

    async fn claim_webhook_batch(
        &self,
        _webhook_id: i64,
        _owner: i64,
        _lease_until: i64,
        _now: i64,
        _limit: u32,
        _skip: &[i64],
    ) -> StoreResult<Option<WebhookBatch>> {
        Ok(None)
    }

    async fn record_webhook_attempts(&self, _attempts: &[AttemptRecord]) -> StoreResult<()> {
        Ok(())
    }

    async fn release_webhook(&self, _webhook_id: i64, _owner: i64) -> StoreResult<()> {
        Ok(())
    }

    async fn prune_deliveries(&self, _before: i64, _limit: u32) -> StoreResult<u64> {
        Ok(0)
    }

    fn webhook_signal(&self) -> Arc<tokio::sync::Notify> {
        Arc::default()
    }
}

#[async_trait]
impl crate::domain::ports::TemplateStore for FakeStore {
    async fn templates(&self, _: i64) -> StoreResult<Vec<crate::domain::templates::Template>> {
        Ok(Vec::new())
    }

    async fn replace_templates(
        &self,
        _: i64,
        _: &[crate::domain::templates::Template],
        _: i64,
    ) -> StoreResult<()> {
        Ok(())
    }

    async fn set_template_status(&self, _: i64, _: &str, _: &str, _: &str) -> StoreResult<bool> {
        Ok(false)
    }
}

#[async_trait]
impl super::ports::ConversationStore for FakeStore {
    async fn conversation(
        &self,
        channel_id: i64,
        destination: &str,
    ) -> StoreResult<Option<super::contacts::Conversation>> {
        let inner = self.lock();
        let key = (channel_id, destination.to_string());
        Ok(inner.chats.contains(&key).then(|| inner.conversations.get(&key).cloned().unwrap_or_default()))
    }

    async fn update_contact(
        &self,
        channel_id: i64,
        destination: &str,
        change: &super::contacts::ContactChange,
        create: bool,
        _now: i64,
    ) -> StoreResult<Option<super::contacts::Contact>> {
        let mut inner = self.lock();
        let key = (channel_id, destination.to_string());
        if create {
            inner.chats.insert(key.clone());
        }
        if !inner.chats.contains(&key) {
            return Ok(None);
        }
        let conversation = inner.conversations.entry(key).or_default();
        conversation.contact = conversation.contact.apply(change).0;
        Ok(Some(conversation.contact.clone()))
    }

    async fn end_conversation(
        &self,
        channel_id: i64,
        destination: &str,
        now: i64,
    ) -> StoreResult<Option<bool>> {
        let mut inner = self.lock();
        let key = (channel_id, destination.to_string());
        if !inner.chats.contains(&key) {
            return Ok(None);
        }
        let conversation = inner.conversations.entry(key).or_default();
        let ended = conversation.ended_at.is_none();
        conversation.ended_at.get_or_insert(now);
        Ok(Some(ended))
    }

    async fn assign(
        &self,
        channel_id: i64,
        destination: &str,
        assignee: &super::contacts::Assignee,
        _now: i64,
    ) -> StoreResult<Option<bool>> {
        let mut inner = self.lock();
        let key = (channel_id, destination.to_string());
        if !inner.chats.contains(&key) {
            return Ok(None);
        }
        let conversation = inner.conversations.entry(key).or_default();
        let changed = conversation.assignee.as_ref() != Some(assignee);
        conversation.assignee = Some(assignee.clone());
        Ok(Some(changed))
    }

    async fn take_after_end(
        &self,
        channel_id: i64,
        destination: &str,
        after_end: &super::contacts::AfterEnd,
        now: i64,
    ) -> StoreResult<Option<Result<(), super::contacts::Refusal>>> {
        let mut inner = self.lock();
        let key = (channel_id, destination.to_string());
        if !inner.chats.contains(&key) {
            return Ok(None);
        }
        let c = inner.conversations.entry(key).or_default();
        if let Err(refusal) = c.may_take(after_end) {
            return Ok(Some(Err(refusal)));
        }
        match after_end {
            super::contacts::AfterEnd::Rating { rate, feedback } => {
                (c.rating, c.feedback, c.rated_at) = (Some(*rate), feedback.clone(), Some(now));
            }
            super::contacts::AfterEnd::Survey { option } => {
                (c.survey, c.surveyed_at) = (Some(option.clone()), Some(now));
            }
        }
        Ok(Some(Ok(())))
    }

    async fn reach_goals(
        &self,
        _channel_id: i64,
        _destination: &str,
        goals: &[String],
        _now: i64,
    ) -> StoreResult<usize> {
        Ok(goals.len())
    }

    async fn operators(&self, _account_id: i64) -> StoreResult<(Vec<String>, Vec<String>)> {
        Ok((vec!["alice".into()], vec!["support".into()]))
    }
}
