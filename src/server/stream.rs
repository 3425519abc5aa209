//! A client connection as actix-http reads it: the bytes pass through `Framing`. When a request head
//! passes the limit, actix-http gets what came before it (earlier requests, which it answers as
//! usual) and then the end of the stream; when it closes the connection, the 431 is written after its
//! answers, and what the client is still sending is read for a moment so that closing does not reset
//! the connection before the client has read them.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::framing::Framing;
use super::per_address::Admitted;

const DRAIN_FOR: Duration = Duration::from_millis(500);
const DRAIN_BYTES: usize = 1 << 20;

pub struct Guarded {
    io: TcpStream,
    framing: Framing,
    refusal: Refusal,
    _admitted: Admitted,
}

enum Refusal {
    None,
    /// Refused: reads end; the answer goes out when actix-http closes the connection.
    Pending,
    /// Writing the 431 (bytes written so far).
    Answering(usize),
    Draining {
        until: Pin<Box<tokio::time::Sleep>>,
        left: usize,
    },
    Done,
}

impl Guarded {
    pub fn new(io: TcpStream, admitted: Admitted, head_limit: usize) -> Self {
        Guarded { io, framing: Framing::new(head_limit), refusal: Refusal::None, _admitted: admitted }
    }

    /// Built when the connection closes after a refusal: rare, so not kept.
    fn answer(&self) -> Vec<u8> {
        let body = format!("request head too large: at most {} bytes\n", self.framing.limit());
        format!(
            "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    /// The refusal's steps, run when actix-http shuts the connection down: the 431, the end of our
    /// writing, then reading what the client still sends until it stops or time is up.
    fn poll_refusal(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if matches!(self.refusal, Refusal::None | Refusal::Done) {
            return Poll::Ready(Ok(()));
        }
        let answer = self.answer();
        loop {
            match &mut self.refusal {
                Refusal::None | Refusal::Done => return Poll::Ready(Ok(())),
                Refusal::Pending => self.refusal = Refusal::Answering(0),
                Refusal::Answering(written) => {
                    while *written < answer.len() {
                        match ready!(Pin::new(&mut self.io).poll_write(cx, &answer[*written..])) {
                            Ok(0) | Err(_) => {
                                self.refusal = Refusal::Done;
                                return Poll::Ready(Ok(()));
                            }
                            Ok(n) => *written += n,
                        }
                    }
                    let _ = ready!(Pin::new(&mut self.io).poll_shutdown(cx));
                    self.refusal = Refusal::Draining {
                        until: Box::pin(tokio::time::sleep(DRAIN_FOR)),
                        left: DRAIN_BYTES,
                    };
                }
                Refusal::Draining { until, left } => {
                    let mut scratch = [0u8; 8192];
                    loop {
                        if *left == 0 || until.as_mut().poll(cx).is_ready() {
                            break;
                        }
                        let mut sink = ReadBuf::new(&mut scratch);
                        match ready!(Pin::new(&mut self.io).poll_read(cx, &mut sink)) {
                            Ok(()) if !sink.filled().is_empty() => {
                                *left = left.saturating_sub(sink.filled().len())
                            }
                            _ => break,
                        }
                    }
                    self.refusal = Refusal::Done;
                }
            }
        }
    }
}

impl AsyncRead for Guarded {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !matches!(this.refusal, Refusal::None) {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        if let Err(too_large) = this.framing.feed(&buf.filled()[before..]) {
            buf.set_filled(before + too_large.keep);
            this.refusal = Refusal::Pending;
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
        let this = self.get_mut();
        ready!(this.poll_refusal(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
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
