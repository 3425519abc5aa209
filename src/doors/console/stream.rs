//! The console's event stream: `event: changed` whenever one of the account's chats has news (on any
//! instance), so the console reloads its inbox and the open conversation. Opening it makes
//! the operator `online` and its end `offline` (SPEC §5.4 presence → `operator.*` events). It ends
//! as soon as its session no longer holds: a change of the account (a password or secret changed, an
//! access disabled — on any instance) wakes it, and it looks again before every frame.

use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};

use super::session::{Signed, still_holds};
use crate::domain::console_ports::ConsoleSession;
use crate::domain::events::EventKind;
use crate::doors::PagesState;
use crate::doors::live::Follow;
use crate::doors::webchat::stream::{frame, sse, stream_refused};
use crate::doors::wire::client_of;

struct Console {
    state: web::Data<PagesState>,
    session: ConsoleSession,
    follow: Follow,
    heartbeat: Duration,
    started: bool,
    _presence: Presence,
}

/// Online while the stream lives; offline when it ends.
struct Presence {
    state: web::Data<PagesState>,
    account_id: i64,
    login: String,
}

impl Drop for Presence {
    fn drop(&mut self) {
        let (state, account, login) = (self.state.clone(), self.account_id, std::mem::take(&mut self.login));
        tokio::spawn(async move {
            let _ = state.gateway.operator_presence(account, EventKind::OperatorOffline, &login).await;
        });
    }
}

pub async fn events(req: HttpRequest, signed: Signed, state: web::Data<PagesState>) -> HttpResponse {
    let account_id = signed.principal.account_id;
    let key = format!("console:{}", signed.session.token_hash);
    let pass = match state.live.admit(client_of(&req, &state.settings), key) {
        Ok(pass) => pass,
        Err(refused) => return stream_refused(refused, &state),
    };
    let login = signed.session.login.clone();
    let session = signed.session;
    let _ = state.gateway.operator_presence(account_id, EventKind::OperatorOnline, &login).await;
    let s = Console {
        state: state.clone(),
        session,
        follow: state.live.follow_account(pass, account_id),
        heartbeat: Duration::from_millis(state.settings.chat.stream_heartbeat_ms.max(100)),
        started: false,
        _presence: Presence { state: state.clone(), account_id, login },
    };
    sse(futures_util::stream::unfold(s, |mut s| async move {
        let bytes = s.next().await?;
        Some((Ok::<_, actix_web::Error>(bytes), s))
    }))
}

impl Console {
    /// The next frame; `None` (the stream ends) once the session no longer holds.
    async fn next(&mut self) -> Option<Bytes> {
        if !self.started {
            self.started = true;
            return Some(Bytes::from_static(b"retry: 2000\n: connected\n\n"));
        }
        let news = tokio::time::timeout(self.heartbeat, self.follow.news.notified()).await.is_ok();
        if !still_holds(&self.state, &self.session).await {
            return None;
        }
        Some(if news { frame("changed", "{}") } else { Bytes::from_static(b": ping\n\n") })
    }
}
