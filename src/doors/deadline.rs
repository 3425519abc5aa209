//! A deadline for request bodies (SPEC §4 "read timeouts"): a request that announces a body must have
//! sent all of it within `body_timeout_secs` of its head, or it is answered `408 Request Timeout` and
//! its connection closed. Without it, a client announcing `Content-Length: 100` and sending 10 bytes
//! held a connection and a file descriptor for as long as it liked (1,100 of them exhausted the file
//! limit). Requests without a body (event streams among them) are not affected, and neither is a
//! handler that is still working after the whole body arrived.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, HttpResponse};
use futures_util::Stream;

/// The body stream with its deadline: past it, before the body's end, reading fails (and `expired` is
/// set, for the middleware to answer 408). The timer is armed only when the body is still missing at
/// the second read, `timeout` from then: most bodies arrive with their head, and then no clock is read
/// and no timer set up and torn down. The doors read the body first thing, so that read is
/// microseconds after the head.
///
/// Why the second read: actix's connection task calls the handler as soon as it has decoded the head,
/// and only then hands over the body bytes already in its buffer, so the first read nearly always
/// finds nothing. That read wakes its task again instead of arming the timer (the task runs again at
/// once, the body then there); a body still missing then is really late, and the timer starts.
struct Watched<S> {
    inner: S,
    timeout: Duration,
    /// A read found nothing once already (see above).
    waited: bool,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    ended: bool,
    expired: Arc<AtomicBool>,
}

impl<S: Stream<Item = Result<Bytes, PayloadError>> + Unpin> Stream for Watched<S> {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let next = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(None) = next {
            self.ended = true;
            return next;
        }
        if next.is_pending() && !self.waited {
            self.waited = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if next.is_pending() && self.timer(cx).is_ready() {
            self.expired.store(true, Ordering::Release);
            self.ended = true;
            let late = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body not received in time");
            return Poll::Ready(Some(Err(PayloadError::Io(late))));
        }
        next
    }
}

impl<S> Watched<S> {
    fn timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let timeout = self.timeout;
        self.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout))).as_mut().poll(cx)
    }
}

fn announces_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    let length =
        headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    length.is_some_and(|n| n > 0) || headers.contains_key(TRANSFER_ENCODING)
}

pub async fn body_deadline(
    timeout: Duration,
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if !announces_body(&req) {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    let expired = Arc::new(AtomicBool::new(false));
    let watched = Watched {
        inner: req.take_payload(),
        timeout,
        waited: false,
        timer: None,
        ended: false,
        expired: expired.clone(),
    };
    req.set_payload(Payload::Stream { payload: Box::pin(watched) });
    let res = next.call(req).await?;
    if !expired.load(Ordering::Acquire) {
        return Ok(res.map_into_left_body());
    }
    // Whatever the handler made of the failed read, the answer is 408, and the connection goes.
    let late = HttpResponse::RequestTimeout()
        .force_close()
        .content_type("text/plain")
        .body("request body not received in time");
    Ok(res.into_response(late).map_into_right_body())
}
