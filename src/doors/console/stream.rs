//! The console's event stream: `event: changed` with a chat's id whenever one of the account's chats has
//! news (on any instance), so the console reloads its inbox and the open conversation. Opening it makes
//! the operator `online` and its end `offline` (SPEC §5.4 presence → `operator.*` events).

use std::collections::HashMap;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use tokio::sync::broadcast::error::RecvError;

use super::session::Signed;
use crate::domain::events::EventKind;
use crate::doors::AppState;
use crate::doors::webchat::stream::{StreamGuard, frame, sse};

struct Console {
    state: web::Data<AppState>,
    account_id: i64,
    news: tokio::sync::broadcast::Receiver<i64>,
    /// Which account each chat seen belongs to (chats never move).
    owners: HashMap<i64, bool>,
    heartbeat: Duration,
    started: bool,
    _presence: Presence,
    _open: StreamGuard,
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
        news: state.gateway.store().chat_news(),
        owners: HashMap::new(),
        heartbeat: Duration::from_millis(state.settings.chat.stream_heartbeat_ms.max(100)),
        started: false,
        _presence: Presence { state: state.clone(), account_id, login },
        _open: state.streams.enter(),
        account_id,
        state,
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
        loop {
            match tokio::time::timeout(self.heartbeat, self.news.recv()).await {
                Err(_) => return Bytes::from_static(b": ping\n\n"),
                Ok(Ok(chat)) => {
                    if self.owns(chat).await {
                        return frame("changed", &format!("{{\"chat\":\"{chat}\"}}"));
                    }
                }
                Ok(Err(RecvError::Lagged(_))) => return frame("changed", "{}"),
                Ok(Err(RecvError::Closed)) => {
                    tokio::time::sleep(self.heartbeat).await;
                    return Bytes::from_static(b": ping\n\n");
                }
            }
        }
    }

    async fn owns(&mut self, chat: i64) -> bool {
        if let Some(known) = self.owners.get(&chat) {
            return *known;
        }
        let mine =
            self.state.gateway.store().chat_account(chat).await.ok().flatten() == Some(self.account_id);
        if self.owners.len() < 100_000 {
            self.owners.insert(chat, mine);
        }
        mine
    }
}
