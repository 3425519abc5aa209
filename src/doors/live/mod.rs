//! Live news for the pages' event streams. One task per process hears the store's chat news (this
//! instance's commits, and other instances' through PostgreSQL `NOTIFY` or the SQLite poll), finds out
//! once per chat whose it is (account, channel, destination), and wakes only the streams that follow
//! that chat (a webchat visitor) or that account (an operator console): a message costs the streams
//! it concerns, not every open stream. Who may open a stream at all is the `gate`'s to say.

mod gate;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use quick_cache::sync::Cache;
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;

pub use gate::{Gate, Pass, StreamRefusal};

use crate::domain::console_ports::ConsoleStore;

type Followers<K> = Mutex<HashMap<K, Vec<Weak<Notify>>>>;

pub struct Live {
    /// Chat id → (account, channel, destination); chats never move.
    keys: Cache<i64, Option<(i64, i64, String)>>,
    visitors: Followers<(i64, String)>,
    accounts: Followers<i64>,
    gate: Arc<Gate>,
    /// Reads of the visitors' streams at once: at most half the database's readers, so that a burst of
    /// streams (hundreds opened together each read their conversation) never queues every other read —
    /// `/readyz`, the API — behind it.
    pub stream_reads: tokio::sync::Semaphore,
}

/// A stream's place among the followers: woken (a permit is kept if it was busy) on news; its
/// `Pass` counts it as open until dropped.
pub struct Follow {
    pub news: Arc<Notify>,
    _pass: Pass,
}

impl Live {
    /// Follows `news` (the store's `chat_news`), finding out whose each chat is from `keys`.
    pub fn start(
        mut news: tokio::sync::broadcast::Receiver<i64>,
        keys: Arc<dyn ConsoleStore>,
        gate: Arc<Gate>,
        readers: u32,
    ) -> Arc<Self> {
        let live = Arc::new(Live {
            keys: Cache::new(100_000),
            visitors: Mutex::default(),
            accounts: Mutex::default(),
            gate,
            stream_reads: tokio::sync::Semaphore::new((readers as usize / 2).max(1)),
        });
        let weak = Arc::downgrade(&live);
        tokio::spawn(async move {
            loop {
                let chat = match news.recv().await {
                    Ok(chat) => Some(chat),
                    Err(RecvError::Lagged(_)) => None,
                    Err(RecvError::Closed) => return,
                };
                let Some(live) = weak.upgrade() else { return };
                match chat {
                    Some(chat) => live.dispatch(keys.as_ref(), chat).await,
                    None => live.wake_everyone(),
                }
            }
        });
        live
    }

    /// Event streams open now.
    pub fn open(&self) -> usize {
        self.gate.open()
    }

    /// A place for one more stream (see `gate`).
    pub fn admit(&self, client: std::net::IpAddr, visitor: String) -> Result<Pass, StreamRefusal> {
        self.gate.admit(client, visitor)
    }

    /// Follows a webchat visitor's chat.
    pub fn follow_visitor(&self, pass: Pass, channel_id: i64, visitor: &str) -> Follow {
        self.follow(&self.visitors, (channel_id, visitor.to_string()), pass)
    }

    /// Follows every chat of an account.
    pub fn follow_account(&self, pass: Pass, account_id: i64) -> Follow {
        self.follow(&self.accounts, account_id, pass)
    }

    fn follow<K: std::hash::Hash + Eq>(&self, map: &Followers<K>, key: K, pass: Pass) -> Follow {
        let news = Arc::new(Notify::new());
        if let Ok(mut map) = map.lock() {
            let list = map.entry(key).or_default();
            list.retain(|w| w.strong_count() > 0);
            list.push(Arc::downgrade(&news));
        }
        Follow { news, _pass: pass }
    }

    async fn dispatch(&self, store: &dyn ConsoleStore, chat: i64) {
        // No stream open, no one to wake: a busy server with no page open pays nothing per message. (A
        // stream holds its pass before it follows, and reads its chat after following.)
        if self.gate.open() == 0 {
            return;
        }
        let key = match self.keys.get(&chat) {
            Some(k) => k,
            None => {
                let k = store.chat_key(chat).await.ok().flatten();
                self.keys.insert(chat, k.clone());
                k
            }
        };
        let Some((account, channel, destination)) = key else { return };
        wake(&self.visitors, &(channel, destination));
        wake(&self.accounts, &account);
    }

    /// Some news was missed: every stream looks again.
    fn wake_everyone(&self) {
        if let Ok(map) = self.visitors.lock() {
            map.values().flatten().filter_map(Weak::upgrade).for_each(|n| n.notify_one());
        }
        if let Ok(map) = self.accounts.lock() {
            map.values().flatten().filter_map(Weak::upgrade).for_each(|n| n.notify_one());
        }
    }
}

/// A changed account (a password, a secret, an access disabled — on any instance) wakes its consoles'
/// streams, which end if their session no longer holds (`doors::console::stream`).
impl crate::domain::ports::AccountCache for Live {
    fn account_changed(&self, account_id: i64) {
        wake(&self.accounts, &account_id);
    }

    fn everything_changed(&self) {
        self.wake_everyone();
    }
}

fn wake<K: std::hash::Hash + Eq>(map: &Followers<K>, key: &K) {
    let Ok(mut map) = map.lock() else { return };
    let Some(list) = map.get_mut(key) else { return };
    list.retain(|w| match w.upgrade() {
        Some(n) => {
            n.notify_one();
            true
        }
        None => false,
    });
    if list.is_empty() {
        map.remove(key);
    }
}
