//! The visitor's event stream (Server-Sent Events): `event: messages` with the conversation's recent
//! messages whenever its chat has news (a message from the business through any door, on any instance,
//! or a status change), plus a comment when idle (`chat.stream_heartbeat_ms`, 15 s) so that a dead
//! connection is noticed and dropped.
//! Every open stream is counted (`StreamCount`), and the count goes down when the stream is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::{channel, origin_check, recent, refusal, with_cors};
use crate::doors::AppState;

/// Event streams open in this process (webchat pages and consoles).
#[derive(Default)]
pub struct StreamCount(AtomicUsize);

impl StreamCount {
    pub fn open(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    pub fn enter(self: &Arc<Self>) -> StreamGuard {
        self.0.fetch_add(1, Ordering::Relaxed);
        StreamGuard(self.clone())
    }
}

/// Held by a stream for as long as it lives.
pub struct StreamGuard(Arc<StreamCount>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        (self.0).0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Deserialize)]
pub struct StreamQuery {
    visitor: String,
    token: String,
}

/// One SSE frame.
pub fn frame(event: &str, data: &str) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

/// An SSE response over `body`.
pub fn sse<S>(body: S) -> HttpResponse
where
    S: futures_util::Stream<Item = Result<Bytes, actix_web::Error>> + 'static,
{
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body)
}

struct Visitor {
    state: web::Data<AppState>,
    channel_id: i64,
    visitor: String,
    chat: Option<i64>,
    news: tokio::sync::broadcast::Receiver<i64>,
    /// What the page was last sent, to send only what changed.
    last: String,
    started: bool,
    heartbeat: Duration,
    _open: StreamGuard,
}

pub async fn events(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<StreamQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let c = match channel(&state, &path).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let origin = match origin_check(&req, &c) {
        Ok(o) => o,
        Err(res) => return res,
    };
    let StreamQuery { visitor, token } = query.into_inner();
    if !state.visitors.check(c.channel.id, &visitor, &token) {
        return refusal(actix_web::http::StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
    }
    let s = Visitor {
        news: state.gateway.store().chat_news(),
        chat: state.gateway.store().chat_id(c.channel.id, &visitor).await.ok().flatten(),
        _open: state.streams.enter(),
        channel_id: c.channel.id,
        visitor,
        last: String::new(),
        started: false,
        heartbeat: Duration::from_millis(state.settings.chat.stream_heartbeat_ms.max(100)),
        state,
    };
    let body = futures_util::stream::unfold(s, |mut s| async move {
        let bytes = s.next().await;
        Some((Ok::<_, actix_web::Error>(bytes), s))
    });
    with_cors(sse(body), origin)
}

impl Visitor {
    /// The next frame: the conversation when it changed, else a heartbeat.
    async fn next(&mut self) -> Bytes {
        if !self.started {
            self.started = true;
            return Bytes::from_static(b"retry: 2000\n: connected\n\n");
        }
        loop {
            let news = match tokio::time::timeout(self.heartbeat, self.news.recv()).await {
                Err(_) => return Bytes::from_static(b": ping\n\n"),
                Ok(Ok(chat)) => Some(chat),
                // Missed some news: look anyway. A closed feed ends nothing; the heartbeat goes on.
                Ok(Err(RecvError::Lagged(_))) => None,
                Ok(Err(RecvError::Closed)) => {
                    tokio::time::sleep(self.heartbeat).await;
                    return Bytes::from_static(b": ping\n\n");
                }
            };
            if self.chat.is_none() {
                self.chat =
                    self.state.gateway.store().chat_id(self.channel_id, &self.visitor).await.ok().flatten();
            }
            if news.is_some() && news != self.chat {
                continue;
            }
            let Ok(list) = recent(&self.state, self.channel_id, &self.visitor).await else { continue };
            let data = serde_json::json!({ "list": list }).to_string();
            if data != self.last {
                self.last.clone_from(&data);
                return frame("messages", &data);
            }
        }
    }
}
