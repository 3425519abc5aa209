//! The visitor's event stream (Server-Sent Events): `event: messages` with the conversation's recent
//! messages whenever its chat has news (a message from the business through any door, on any instance,
//! or a status change), plus a comment when idle (`chat.stream_heartbeat_ms`, 15 s) so that a dead
//! connection is noticed and dropped.
//! Every open stream is counted (`doors::live::Live::open`), and the count goes down when it is dropped.

use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{api_channel, mark_delivered, recent, refusal, with_cors};
use crate::doors::AppState;
use crate::doors::live::Follow;

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
    follow: Follow,
    /// What the page was last sent, to send only what changed.
    last: String,
    started: bool,
    heartbeat: Duration,
}

pub async fn events(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<StreamQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (c, origin) = match api_channel(&req, &path, &state).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let StreamQuery { visitor, token } = query.into_inner();
    if !state.visitors.check(c.channel.id, &visitor, &token) {
        return refusal(actix_web::http::StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
    }
    let follow = state.live.follow_visitor(c.channel.id, &visitor);
    // What the page shows may have changed between its history and this stream: send it at once.
    follow.news.notify_one();
    let s = Visitor {
        follow,
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
            if tokio::time::timeout(self.heartbeat, self.follow.news.notified()).await.is_err() {
                return Bytes::from_static(b": ping\n\n");
            }
            let Ok((list, arriving)) = recent(&self.state, self.channel_id, &self.visitor).await else {
                continue;
            };
            if let Some(up_to) = arriving {
                // Recorded beside the push, not before it: the page need not wait for a write.
                let (state, channel, visitor) = (self.state.clone(), self.channel_id, self.visitor.clone());
                tokio::spawn(async move { mark_delivered(&state, channel, &visitor, up_to).await });
            }
            let data = serde_json::json!({ "list": list }).to_string();
            if data != self.last {
                self.last.clone_from(&data);
                return frame("messages", &data);
            }
        }
    }
}
