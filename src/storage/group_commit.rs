//! Group commit, as both engines' `send_message` use it. Concurrent sends queue up; a writer takes
//! whatever has gathered (up to `max_batch`), writes it in one transaction and answers each caller
//! only after that transaction committed, so an acknowledged message is exactly as durable as one
//! written alone (a SIGKILL loses nothing acknowledged). A batch that fails is written again one
//! message per transaction, so one bad message cannot fail the others. How a batch is written is the
//! engine's (`BatchWrite`: `sqlite/batch.rs`, `postgres/batch.rs`).

use std::sync::Arc;

use tokio::sync::{Mutex, Notify, mpsc, oneshot};

use super::feed::Feed;
use super::{StoreError, StoreResult};
use crate::domain::model::OutboundMessage;

type Job = (OutboundMessage, oneshot::Sender<StoreResult<i64>>);

/// Writes a batch of messages in one transaction.
#[async_trait::async_trait]
pub trait BatchWrite: Send + Sync + 'static {
    async fn write(&self, messages: &[&OutboundMessage]) -> StoreResult<Written>;
}

/// What a committed batch wrote: the messages' ids (in the callers' order), the chats it wrote to, the
/// webhook deliveries, whether any message waits for delivery.
#[derive(Debug, Default)]
pub struct Written {
    pub ids: Vec<i64>,
    pub chats: Vec<i64>,
    pub events: u64,
    pub outbox: bool,
}

/// Who hears of a committed batch: the delivery worker, the webhook sender, the live pages.
#[derive(Clone)]
pub struct Signals {
    pub outbox: Arc<Notify>,
    pub webhooks: Arc<Notify>,
    pub feed: Arc<Feed>,
}

impl Signals {
    fn tell(&self, w: &Written) {
        if w.outbox {
            self.outbox.notify_one();
        }
        if w.events > 0 {
            self.webhooks.notify_one();
        }
        self.feed.announce(w.chats.iter().copied());
    }
}

/// The sending side, held by the store; the writers end when it is dropped.
pub struct SendQueue {
    jobs: mpsc::Sender<Job>,
}

impl SendQueue {
    /// `writers` tasks share the queue: one gathers at a time and lets go of it before it writes, so
    /// several can keep the database busy while one waits for its commit.
    pub fn start(write: impl BatchWrite, signals: Signals, writers: usize, max_batch: usize) -> Self {
        let (jobs, rx) = mpsc::channel(4 * max_batch);
        let (rx, write) = (Arc::new(Mutex::new(rx)), Arc::new(write));
        for _ in 0..writers.max(1) {
            tokio::spawn(run(rx.clone(), write.clone(), signals.clone(), max_batch));
        }
        Self { jobs }
    }

    pub async fn send(&self, m: OutboundMessage) -> StoreResult<i64> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Backend("the message writer stopped".into());
        self.jobs.send((m, reply)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn run(rx: Arc<Mutex<mpsc::Receiver<Job>>>, write: Arc<dyn BatchWrite>, signals: Signals, max: usize) {
    let mut batch: Vec<Job> = Vec::with_capacity(max);
    while rx.lock().await.recv_many(&mut batch, max).await > 0 {
        let messages: Vec<&OutboundMessage> = batch.iter().map(|(m, _)| m).collect();
        match write.write(&messages).await {
            Ok(w) => {
                signals.tell(&w);
                for ((_, reply), id) in batch.drain(..).zip(w.ids) {
                    let _ = reply.send(Ok(id));
                }
            }
            Err(_) if batch.len() > 1 => {
                for (m, reply) in batch.drain(..) {
                    let one = write.write(&[&m]).await.map(|w| {
                        signals.tell(&w);
                        w.ids
                    });
                    let _ = reply
                        .send(one.and_then(|ids| ids.first().copied().ok_or(StoreError::NotFound("id"))));
                }
            }
            Err(e) => {
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(StoreError::Backend(e.to_string())));
                }
            }
        }
    }
}
