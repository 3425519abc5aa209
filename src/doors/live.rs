//! Live news for the pages' event streams. One task per process hears the store's chat news (this
//! instance's commits, and other instances' through PostgreSQL `NOTIFY` or the SQLite poll), finds out
//! once per chat whose it is (account, channel, destination), and wakes only the streams that follow
//! that chat (a webchat visitor) or that account (an operator console): a message costs the streams
//! it concerns, not every open stream.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use moka::sync::Cache;
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;

use crate::storage::Store;

type Followers<K> = Mutex<HashMap<K, Vec<Weak<Notify>>>>;

pub struct Live {
    /// Chat id → (account, channel, destination); chats never move.
    keys: Cache<i64, Option<(i64, i64, String)>>,
    visitors: Followers<(i64, String)>,
    accounts: Followers<i64>,
    open: AtomicUsize,
}

/// A stream's place among the followers: woken (a permit is kept if it was busy) on news; counted
/// as open until dropped.
pub struct Follow {
    pub news: Arc<Notify>,
    live: Arc<Live>,
}

impl Drop for Follow {
    fn drop(&mut self) {
        self.live.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Live {
    pub fn start(store: Arc<dyn Store>) -> Arc<Self> {
        let live = Arc::new(Live {
            keys: Cache::builder().max_capacity(100_000).build(),
            visitors: Mutex::default(),
            accounts: Mutex::default(),
            open: AtomicUsize::new(0),
        });
        let weak = Arc::downgrade(&live);
        let mut news = store.chat_news();
        tokio::spawn(async move {
            loop {
                let chat = match news.recv().await {
                    Ok(chat) => Some(chat),
                    Err(RecvError::Lagged(_)) => None,
                    Err(RecvError::Closed) => return,
                };
                let Some(live) = weak.upgrade() else { return };
                match chat {
                    Some(chat) => live.dispatch(store.as_ref(), chat).await,
                    None => live.wake_everyone(),
                }
            }
        });
        live
    }

    /// Event streams open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Follows a webchat visitor's chat.
    pub fn follow_visitor(self: &Arc<Self>, channel_id: i64, visitor: &str) -> Follow {
        self.follow(&self.visitors, (channel_id, visitor.to_string()))
    }

    /// Follows every chat of an account.
    pub fn follow_account(self: &Arc<Self>, account_id: i64) -> Follow {
        self.follow(&self.accounts, account_id)
    }

    fn follow<K: std::hash::Hash + Eq>(self: &Arc<Self>, map: &Followers<K>, key: K) -> Follow {
        let news = Arc::new(Notify::new());
        if let Ok(mut map) = map.lock() {
            let list = map.entry(key).or_default();
            list.retain(|w| w.strong_count() > 0);
            list.push(Arc::downgrade(&news));
        }
        self.open.fetch_add(1, Ordering::Relaxed);
        Follow { news, live: self.clone() }
    }

    async fn dispatch(&self, store: &dyn Store, chat: i64) {
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
