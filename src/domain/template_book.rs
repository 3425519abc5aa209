//! Each WhatsApp channel's templates, as the commands check sends against them: read from the store
//! (where every instance keeps the same set) and held here for a second, so that a send costs no
//! database read of them and a change is seen everywhere within that second. The listing itself is
//! fetched from Meta through a [`TemplateSource`]: on `gettemplates refresh=1`, when Meta reports a
//! template's status changed, and every `refresh` interval (`startup::background`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::error::{DomainError, DomainResult};
use super::model::{ChannelSettings, Platform};
use super::ports::CommandStore;
use super::templates::Template;
use super::ttl_cache::TtlCache;

/// Where a channel's templates come from: Meta's listing (`{base}/{waba_id}/message_templates`).
#[async_trait]
pub trait TemplateSource: Send + Sync {
    /// Every template of the channel's WhatsApp Business Account, every page; why not, in words.
    async fn fetch_templates(&self, settings: &ChannelSettings) -> Result<Vec<Template>, String>;
}

/// No source: a server without connectors (the CLI).
pub struct NoTemplateSource;

#[async_trait]
impl TemplateSource for NoTemplateSource {
    async fn fetch_templates(&self, _: &ChannelSettings) -> Result<Vec<Template>, String> {
        Err("templates cannot be fetched here".into())
    }
}

/// A channel's templates and its `fallback_template` (`NAME:LANGUAGE`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelTemplates {
    pub templates: Vec<Template>,
    pub fallback: Option<(String, String)>,
}

pub struct TemplateBook {
    store: Arc<dyn CommandStore>,
    source: Arc<dyn TemplateSource>,
    by_channel: TtlCache<i64, Arc<ChannelTemplates>>,
    /// Channels whose listing a send asked for in the last minute.
    recently_asked: TtlCache<i64, ()>,
}

impl TemplateBook {
    pub fn new(store: Arc<dyn CommandStore>, source: Arc<dyn TemplateSource>) -> Self {
        Self {
            store,
            source,
            by_channel: TtlCache::new(100_000, Duration::from_secs(1)),
            recently_asked: TtlCache::new(100_000, Duration::from_secs(60)),
        }
    }

    /// The channel's templates as stored, and its fallback.
    pub async fn of(&self, channel_id: i64) -> DomainResult<Arc<ChannelTemplates>> {
        if let Some(found) = self.by_channel.get(&channel_id) {
            return Ok(found);
        }
        let templates = self.store.templates(channel_id).await?;
        let settings = self.store.channel_config(channel_id).await?.map(|c| c.settings).unwrap_or_default();
        let fallback = settings
            .get("fallback_template")
            .and_then(|f| f.split_once(':'))
            .map(|(name, language)| (name.trim().to_string(), language.trim().to_string()));
        let found = Arc::new(ChannelTemplates { templates, fallback });
        self.by_channel.insert(channel_id, found.clone());
        Ok(found)
    }

    /// The channel's templates; asked of Meta first when none were ever listed (a channel set up since
    /// the last listing), at most once a minute.
    pub async fn listed(&self, channel_id: i64) -> DomainResult<Arc<ChannelTemplates>> {
        let known = self.of(channel_id).await?;
        if !known.templates.is_empty() {
            return Ok(known);
        }
        Ok(self.ask_once_a_minute(channel_id, known).await)
    }

    /// The channel's templates, asked of Meta first when the one wanted is not among them and they
    /// were not asked for in the last minute (a template approved since, or never listed yet): a send
    /// should not fail because chatgate's copy is behind.
    pub async fn find_or_refresh(
        &self,
        channel_id: i64,
        name: &str,
        language: &str,
    ) -> DomainResult<Arc<ChannelTemplates>> {
        let known = self.of(channel_id).await?;
        if known.templates.iter().any(|t| t.name == name && t.language == language) {
            return Ok(known);
        }
        Ok(self.ask_once_a_minute(channel_id, known).await)
    }

    /// The listing asked of Meta, unless it was asked for the channel in the last minute; `known` when
    /// it was, or when Meta cannot be asked (unreachable, no `waba_id`): the copy there is what the
    /// caller goes on with.
    async fn ask_once_a_minute(
        &self,
        channel_id: i64,
        known: Arc<ChannelTemplates>,
    ) -> Arc<ChannelTemplates> {
        if self.recently_asked.get(&channel_id).is_some() {
            return known;
        }
        self.recently_asked.insert(channel_id, ());
        self.refresh(channel_id).await.unwrap_or(known)
    }

    /// Asks Meta for the channel's templates now and keeps them; what it answered, or why not
    /// (`INCORRECT_PARAM` naming `refresh`, with Meta's reason).
    pub async fn refresh(&self, channel_id: i64) -> DomainResult<Arc<ChannelTemplates>> {
        let why = |m: String| DomainError::incorrect("refresh").because(m);
        let config = self.store.channel_config(channel_id).await?;
        let config = config.filter(|c| c.channel.platform == Platform::Whatsapp);
        let settings = config.map(|c| c.settings).ok_or_else(|| why("templates are WhatsApp's".into()))?;
        if settings.get("waba_id").is_none() {
            return Err(why("the channel has no waba_id setting (its WhatsApp Business Account)".into()));
        }
        let templates = self.source.fetch_templates(&settings).await.map_err(why)?;
        let now = chrono::Utc::now().timestamp_millis();
        self.store.replace_templates(channel_id, &templates, now).await?;
        self.by_channel.remove(&channel_id);
        self.of(channel_id).await
    }

    /// Meta reported a template's new status: kept at once (a paused template must stop being sent),
    /// and the whole listing asked for again in the background (a new template, a changed text).
    pub async fn status_changed(
        self: &Arc<Self>,
        channel_id: i64,
        name: &str,
        language: &str,
        status: &str,
    ) -> DomainResult<()> {
        // Meta writes a language `en_US` in listings and may write `en-US` here.
        let language = language.replace('-', "_");
        self.store.set_template_status(channel_id, name, &language, &status.to_ascii_uppercase()).await?;
        self.by_channel.remove(&channel_id);
        let book = self.clone();
        tokio::spawn(async move {
            if let Err(e) = book.refresh(channel_id).await {
                tracing::warn!(channel = channel_id, error = %e.message.unwrap_or_default(), "refreshing templates failed");
            }
        });
        Ok(())
    }
}
