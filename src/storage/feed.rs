//! Live news of chats: after a commit that added a message to a chat or changed a message's status,
//! the chat's id is announced to this process's subscribers (the webchat page's and the console's event
//! streams). On PostgreSQL the same transaction also sends `NOTIFY chatgate_chats`, and every instance
//! listens, so a page connected to one instance hears of a message sent through another (SPEC §5.4)
//! without polling the database per request. On SQLite (one file, possibly several processes) a
//! process with subscribers reads the ids of messages stored since it last looked, every 250 ms: one
//! query per interval, none per request.

use std::sync::OnceLock;

use tokio::sync::broadcast;

/// The channel PostgreSQL notifications travel on; the payload is `instance:chat_id,chat_id,…`.
pub const PG_CHANNEL: &str = "chatgate_chats";

/// This process's id among the instances (its own notifications are already announced locally).
pub fn instance() -> i64 {
    static ID: OnceLock<i64> = OnceLock::new();
    *ID.get_or_init(|| rand::random::<i64>() & i64::MAX)
}

pub struct Feed {
    tx: broadcast::Sender<i64>,
}

impl Default for Feed {
    fn default() -> Self {
        // A subscriber that falls this far behind misses news and reloads what it shows.
        Self { tx: broadcast::channel(4096).0 }
    }
}

impl Feed {
    pub fn announce(&self, chats: impl IntoIterator<Item = i64>) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        for chat in chats {
            let _ = self.tx.send(chat);
        }
    }

    pub fn has_subscribers(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.tx.subscribe()
    }

    /// The chats of a notification from another instance (`None` for this instance's own).
    pub fn from_notification(payload: &str) -> Option<Vec<i64>> {
        let (instance_id, chats) = payload.split_once(':')?;
        (instance_id.parse::<i64>().ok()? != instance())
            .then(|| chats.split(',').filter_map(|c| c.parse().ok()).collect())
    }
}
