//! A client connection as actix-http reads it: the bytes pass through `Framing`, and a request head
//! over the limit is answered 431 here and the connection closed, before the decoder holds it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::framing::Framing;
use super::per_address::Admitted;

/// After refusing a head, how long and how much more of what the client is still sending is read and
/// dropped, so that closing does not reset the connection before the client has read the answer.
const DRAIN_FOR: Duration = Duration::from_millis(500);
const DRAIN_BYTES: usize = 1 << 20;

pub struct Guarded {
    io: TcpStream,
    framing: Framing,
    refused: Option<Drain>,
    _admitted: Admitted,
}

struct Drain {
    until: Pin<Box<tokio::time::Sleep>>,
    left: usize,
}

impl Guarded {
    pub fn new(io: TcpStream, admitted: Admitted, head_limit: usize) -> Self {
        Guarded { io, framing: Framing::new(head_limit), refused: None, _admitted: admitted }
    }

    fn refuse(&mut self) {
        let limit = self.framing.limit();
        let body = format!("request head too large: at most {limit} bytes\n");
        let answer = format!(
            "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        // A fresh answer on a connection whose previous answers were written fits the socket buffer.
        let _ = self.io.try_write(answer.as_bytes());
        let _ = socket2::SockRef::from(&self.io).shutdown(std::net::Shutdown::Write);
        self.refused = Some(Drain { until: Box::pin(tokio::time::sleep(DRAIN_FOR)), left: DRAIN_BYTES });
    }
}

impl AsyncRead for Guarded {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(drain) = &mut this.refused {
            // actix-http sees the end of the stream once the client stops sending or time is up.
            let mut scratch = [0u8; 8192];
            loop {
                if drain.left == 0 || drain.until.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Ok(()));
                }
                let mut sink = ReadBuf::new(&mut scratch);
                match Pin::new(&mut this.io).poll_read(cx, &mut sink) {
                    Poll::Ready(Ok(())) if sink.filled().is_empty() => return Poll::Ready(Ok(())),
                    Poll::Ready(Ok(())) => drain.left = drain.left.saturating_sub(sink.filled().len()),
                    Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                    Poll::Pending => return Poll::Pending,
                }
            }
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        if this.framing.feed(&buf.filled()[before..]).is_err() {
            buf.set_filled(before);
            this.refuse();
            return Pin::new(this).poll_read(cx, buf);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
