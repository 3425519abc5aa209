//! The visitor's event stream (Server-Sent Events): `event: messages` with the conversation's recent
//! messages whenever its chat has news (a message from the business through any door, on any instance,
//! or a status change), plus a comment when idle (`chat.stream_heartbeat_ms`, 15 s) so that a dead
//! connection is noticed and dropped.
//! A stream opens only within the caps of `doors::live::Gate` (per visitor, per address, overall); it
//! is counted until dropped. It keeps a hash of what it last sent, not the text, so that thousands of
//! open streams cost little memory.

use std::time::Duration;

use std::hash::{BuildHasher, Hasher};

use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{api_channel, mark_delivered, recent, with_cors};
use crate::doors::PagesState;
use crate::doors::live::{Follow, StreamRefusal};
use crate::doors::refused::Refused;
use crate::doors::wire::client_of;

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

/// A stream refused by a cap: 429 (this caller's) or 503 (the server's), `Retry-After`, and the
/// connection closed so that the refused caller holds nothing.
pub fn stream_refused(refused: StreamRefusal, state: &PagesState) -> HttpResponse {
    let status = match refused {
        StreamRefusal::Caller => StatusCode::TOO_MANY_REQUESTS,
        StreamRefusal::Full => StatusCode::SERVICE_UNAVAILABLE,
    };
    let wait = state.settings.streams.retry_after_secs.max(1);
    let mut res = Refused::new(status, "TOO_MANY_REQUESTS").retry_after(wait).response();
    res.head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
    res
}

struct Visitor {
    state: web::Data<PagesState>,
    channel_id: i64,
    visitor: String,
    follow: Follow,
    /// A hash of what the page was last sent, to send only what changed.
    last: u64,
    started: bool,
    heartbeat: Duration,
}

pub async fn events(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<StreamQuery>,
    state: web::Data<PagesState>,
) -> HttpResponse {
    let (c, origin) = match api_channel(&req, &path, &state).await {
        Ok(v) => v,
        Err(refused) => return refused.response(),
    };
    let StreamQuery { visitor, token } = query.into_inner();
    if !state.visitors.check(c.channel.id, &visitor, &token) {
        return with_cors(Refused::new(StatusCode::UNAUTHORIZED, "INVALID_TOKEN").response(), origin);
    }
    let key = format!("webchat:{}:{visitor}", c.channel.id);
    let pass = match state.live.admit(client_of(&req, &state.settings), key) {
        Ok(pass) => pass,
        Err(refused) => return with_cors(stream_refused(refused, &state), origin),
    };
    let follow = state.live.follow_visitor(pass, c.channel.id, &visitor);
    // What the page shows may have changed between its history and this stream: send it at once.
    follow.news.notify_one();
    let s = Visitor {
        follow,
        channel_id: c.channel.id,
        visitor,
        last: 0,
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
            if tokio::time::timeout(self.heartbeat, self.follow.news.notified()).await.is_err() {
                return Bytes::from_static(b": ping\n\n");
            }
            let Ok(_reading) = self.state.live.stream_reads.acquire().await else { continue };
            let Ok((list, arriving)) = recent(&self.state, self.channel_id, &self.visitor).await else {
                continue;
            };
            if let Some(up_to) = arriving {
                // Recorded beside the push, not before it: the page need not wait for a write.
                let (state, channel, visitor) = (self.state.clone(), self.channel_id, self.visitor.clone());
                tokio::spawn(async move { mark_delivered(&state, channel, &visitor, up_to).await });
            }
            // The conversation's state and what the page is asked after its end.
            let asked = match self.state.gateway.channel_config(self.channel_id).await {
                Ok(Some(c)) => {
                    super::after::asked_of(&self.state, &c, &self.visitor, !list.is_empty()).await.ok()
                }
                _ => None,
            };
            let data = serde_json::json!({ "list": list, "conversation": asked }).to_string();
            let mut hasher = foldhash::quality::FixedState::default().build_hasher();
            hasher.write(data.as_bytes());
            let hash = hasher.finish();
            if hash != self.last {
                self.last = hash;
                return frame("messages", &data);
            }
        }
    }
}
