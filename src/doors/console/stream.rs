//! The console's event stream: `event: changed` whenever one of the account's chats has news (on any
//! instance), so the console reloads its inbox and the open conversation. Opening it makes
//! the operator `online` and its end `offline` (SPEC §5.4 presence → `operator.*` events).

use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};

use super::session::Signed;
use crate::domain::events::EventKind;
use crate::doors::AppState;
use crate::doors::live::Follow;
use crate::doors::webchat::stream::{frame, sse};

struct Console {
    follow: Follow,
    heartbeat: Duration,
    started: bool,
    _presence: Presence,
}

/// Online while the stream lives; offline when it ends.
struct Presence {
    state: web::Data<AppState>,
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

pub async fn events(signed: Signed, state: web::Data<AppState>) -> HttpResponse {
    let account_id = signed.principal.account_id;
    let login = signed.session.login.clone();
    let _ = state.gateway.operator_presence(account_id, EventKind::OperatorOnline, &login).await;
    let s = Console {
        follow: state.live.follow_account(account_id),
        heartbeat: Duration::from_millis(state.settings.chat.stream_heartbeat_ms.max(100)),
        started: false,
        _presence: Presence { state: state.clone(), account_id, login },
    };
    sse(futures_util::stream::unfold(s, |mut s| async move {
        let bytes = s.next().await;
        Some((Ok::<_, actix_web::Error>(bytes), s))
    }))
}

impl Console {
    async fn next(&mut self) -> Bytes {
        if !self.started {
            self.started = true;
            return Bytes::from_static(b"retry: 2000\n: connected\n\n");
        }
        match tokio::time::timeout(self.heartbeat, self.follow.news.notified()).await {
            Ok(()) => frame("changed", "{}"),
            Err(_) => Bytes::from_static(b": ping\n\n"),
        }
    }
}
