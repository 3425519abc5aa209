//! The workers that hold claims in the database: delivery and event webhooks (with the sweep that
//! ends idle sessions), started by configuration and stopped at shutdown.

use std::sync::Arc;
use std::time::Duration;

use super::StartError;
use crate::config::Settings;
use crate::delivery::Worker;
use crate::delivery::connectors::Connectors;
use crate::domain::directory::ChannelDirectory;
use crate::metrics::Metrics;
use crate::storage::Store;
use crate::webhooks;

/// The workers that hold claims in the database, stopped at shutdown so that they finish or give back
/// what they hold.
#[derive(Default)]
pub(super) struct Background {
    delivery: Option<Arc<Worker>>,
    webhooks: Option<webhooks::SenderHandle>,
}

impl Background {
    /// The workers the settings enable; delivery reads channels' settings through `channels`.
    pub(super) fn start(
        settings: &Settings,
        store: &Arc<dyn Store>,
        channels: &Arc<ChannelDirectory>,
        connectors: &Arc<Connectors>,
        metrics: &Arc<Metrics>,
    ) -> Result<Self, StartError> {
        let mut background = Background::default();
        if settings.delivery.enabled {
            let worker = Worker::start(
                store.clone(),
                channels.clone(),
                connectors.clone(),
                settings.connectors.clone(),
                settings.delivery.clone(),
                store.outbox_signal(),
                metrics.clone(),
            );
            background.delivery = Some(worker);
        }
        if settings.webhooks.enabled {
            let policy = crate::net::address_policy(&settings.outbound);
            let timeout = Duration::from_millis(settings.webhooks.timeout_ms);
            let client = crate::net::customer_client(&settings.outbound, policy.clone(), timeout)?;
            let sender = webhooks::Sender::start(
                store.clone(),
                client,
                policy,
                settings.webhooks.clone(),
                metrics.clone(),
            );
            background.webhooks = Some(sender);
            webhooks::start_sweep(store.clone(), settings.chat.clone(), &settings.webhooks);
        }
        Ok(background)
    }

    /// Both at once, bounded by `deadline`; false if something was still held then.
    pub(super) async fn stop(self, deadline: tokio::time::Instant) -> bool {
        let delivery = async {
            match &self.delivery {
                Some(w) => w.stop(deadline).await,
                None => true,
            }
        };
        let webhooks = async {
            match self.webhooks {
                Some(h) => h.stop(deadline).await,
                None => true,
            }
        };
        let (a, b) = tokio::join!(delivery, webhooks);
        a && b
    }
}

/// Every `every_secs`, each WhatsApp channel's templates asked of Meta again (the first time at once),
/// for as long as the process runs; `0` never.
pub(super) fn refresh_templates(gateway: crate::domain::Gateway, every_secs: u64) {
    if every_secs == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(every_secs));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = gateway.refresh_all_templates().await {
                tracing::warn!(error = %e, "listing the WhatsApp channels to refresh their templates failed");
            }
        }
    });
}
