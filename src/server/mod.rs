//! The HTTP/1.1 server under the doors. actix-web's `HttpServer` hands the socket straight to
//! actix-http, whose request-head buffer is fixed at 128 KiB (and which panics on a header name of
//! 64 KiB or more); so connections are accepted here, with actix-server and actix-http's `H1Service`
//! as `HttpServer` builds them, and each is first admitted per client address and overall
//! (`per_address`, under the descriptor budget of `descriptors`) and wrapped in a `Guarded` stream that
//! bounds every request head (`framing`).

mod descriptors;
mod framing;
mod per_address;
mod stream;

use std::net::TcpListener;
use std::time::Duration;

use actix_http::{HttpService, Request, Response, body::MessageBody};
use actix_service::{IntoServiceFactory, ServiceFactory, ServiceFactoryExt, fn_service, map_config};
use actix_web::dev::{AppConfig, Server};
use actix_web::rt::net::TcpStream;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub use descriptors::Budget;
pub use per_address::ConnectionCounts;
use per_address::OverCap;
use stream::Guarded;

/// `connections.*` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionSettings {
    /// Open connections one client address (an IPv6 /64) may hold (0: no cap). Trusted proxies are
    /// not capped per address.
    pub per_address: usize,
    /// Open connections overall (0: derived from the descriptor limit, `Budget`).
    pub max: usize,
    /// Largest request head (request line and header fields), bytes; 431 beyond it.
    pub head_limit: usize,
    /// A request head must be complete this long after the connection opened or the previous
    /// request ended, else the connection is closed.
    pub head_timeout_secs: u64,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self { per_address: 256, max: 0, head_limit: 32 * 1024, head_timeout_secs: 5 }
    }
}

/// What the listener needs besides the app.
pub struct Listening {
    pub listener: TcpListener,
    pub workers: usize,
    pub shutdown_timeout_secs: u64,
    pub connections: ConnectionSettings,
    pub counts: std::sync::Arc<ConnectionCounts>,
    pub budget: Budget,
}

const FROM_ADDRESS: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n\
Retry-After: 1\r\nContent-Length: 39\r\nConnection: close\r\n\r\ntoo many connections from this address\n";
const OVERALL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n\
Retry-After: 1\r\nContent-Length: 21\r\nConnection: close\r\n\r\ntoo many connections\n";

/// Starts serving `factory`'s app on the listener (the bounds are `HttpServer::new`'s).
pub fn serve<F, I, S, B>(l: Listening, factory: F) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as actix_service::Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let addr = l.listener.local_addr()?;
    let (counts, limit) = (l.counts, l.connections.head_limit.max(1024));
    let head_timeout = Duration::from_secs(l.connections.head_timeout_secs.max(1));
    let lingering = std::sync::Arc::new(tokio::sync::Semaphore::new(l.budget.lingering));
    let builder = actix_server::Server::build();
    let graceful = builder.graceful_shutdown_signal();
    Ok(builder
        .workers(l.workers)
        // Per worker; ours (`counts`) is the cap that answers, overall, before this one would stop
        // accepting.
        .max_concurrent_connections(l.budget.connections.saturating_add(l.budget.lingering))
        // Signals are ours (`run_until_signalled`): a second one must end the process at once.
        .disable_signals()
        .shutdown_timeout(l.shutdown_timeout_secs)
        .listen("chatgate", l.listener, move || {
            let graceful = graceful.clone();
            let app = factory().into_factory().map_err(|err| err.into().error_response());
            let http = HttpService::<Guarded, _, _>::build()
                .graceful_shutdown_signal(move || {
                    let signal = graceful.clone();
                    async move { signal.notified().await }
                })
                .client_request_timeout(head_timeout)
                .client_disconnect_timeout(Duration::from_secs(1))
                .local_addr(addr)
                .h1(map_config(app, move |_| AppConfig::default()));
            let (counts, lingering) = (counts.clone(), lingering.clone());
            fn_service(move |io: TcpStream| {
                let (counts, lingering) = (counts.clone(), lingering.clone());
                async move {
                    let peer = io.peer_addr().ok();
                    let admitted = peer.map_or(Err(OverCap::Total), |p| counts.admit(p.ip()));
                    match admitted {
                        Ok(admitted) => {
                            let _ = io.set_nodelay(true);
                            Ok((Guarded::new(io, admitted, limit), peer))
                        }
                        Err(over) => {
                            let answer = if over == OverCap::Address { FROM_ADDRESS } else { OVERALL };
                            refuse(io, answer, lingering.try_acquire_owned().ok()).await;
                            Err(actix_http::error::DispatchError::Io(std::io::Error::other("connection cap")))
                        }
                    }
                }
            })
            .and_then(http)
        })?
        .run())
}

/// Answers 503 to a connection over a cap, then, while few others do so (`linger`), reads (and drops)
/// what the client sends for a moment so that closing does not reset the answer away. Under a flood
/// the answer is written and the descriptor given back at once.
async fn refuse(mut io: TcpStream, answer: &[u8], linger: Option<tokio::sync::OwnedSemaphorePermit>) {
    let wait = if linger.is_some() { Duration::from_millis(500) } else { Duration::from_millis(50) };
    let _ = tokio::time::timeout(wait, async {
        io.write_all(answer).await?;
        io.shutdown().await?;
        if linger.is_some() {
            let mut sink = [0u8; 4096];
            while io.read(&mut sink).await? > 0 {}
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
}
