//! Follows HTTP/1.1 message framing (RFC 9112 §6) over the bytes a connection sends, just far enough to
//! know where each request head begins and ends, so that a head longer than the limit is refused before
//! actix-http's decoder holds it (its buffer takes 128 KiB, and a header name of 64 KiB or more panics
//! it). Bodies are skipped by `Content-Length` or chunk sizes; what this cannot follow (a line
//! without a colon, conflicting lengths, an upgrade) is left to actix-http, which answers 400 and closes.

/// Bytes a chunk-size line or a chunk's end may take before the framing counts as not understood.
const MAX_CHUNK_LINE: usize = 4096;

/// A head (or trailer section) passed the limit. `keep`: how many bytes of the read that showed it
/// come before that head — the end of earlier messages, which actix-http should still get and answer.
#[derive(Debug, PartialEq, Eq)]
pub struct HeadTooLarge {
    pub keep: usize,
}

#[derive(Debug)]
enum State {
    /// Inside a request head (or before one): the bytes so far.
    Head(Vec<u8>),
    Body(u64),
    ChunkSize(Vec<u8>),
    ChunkData(u64),
    /// The CRLF after a chunk's data.
    ChunkEnd,
    /// Trailer fields after the last chunk, bounded like a head.
    Trailers(Vec<u8>),
    /// Not followed further; actix-http decides.
    Opaque,
}

#[derive(Debug)]
pub struct Framing {
    state: State,
    limit: usize,
}

/// Where a head (or trailer section) ends in `buf`, if it does: after an empty line. Only line ends
/// from `from - 2` on are looked at (what was before was looked at already).
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(2);
    memchr::memchr_iter(b'\n', &buf[start..])
        .map(|i| start + i)
        .find(|&i| buf[..i].ends_with(b"\n") || buf[..i].ends_with(b"\n\r"))
        .map(|i| i + 1)
}

impl Framing {
    pub fn new(limit: usize) -> Self {
        Framing { state: State::Head(Vec::new()), limit }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Takes the next bytes the client sent.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), HeadTooLarge> {
        let total = data.len();
        // Where, in this read, the section being gathered began (0: in an earlier read).
        let mut section_start = 0;
        while !data.is_empty() {
            let used = match &mut self.state {
                State::Opaque => return Ok(()),
                State::Head(buf) => {
                    if buf.is_empty() {
                        // Empty lines before a request line are ignored (RFC 9112 §2.2).
                        let skip = data.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
                        if skip > 0 {
                            data = &data[skip..];
                            continue;
                        }
                    }
                    if buf.is_empty() {
                        section_start = total - data.len();
                    }
                    // The common case: the whole head in this read, judged where it lies.
                    if buf.is_empty()
                        && let Some(end) = head_end(data, 0).filter(|&end| end <= self.limit)
                    {
                        self.state = after_head(&data[..end]);
                        data = &data[end..];
                        continue;
                    }
                    // At most one byte past the limit is kept: enough to know it was passed.
                    let before = buf.len();
                    let take = data.len().min(self.limit + 1 - before);
                    buf.extend_from_slice(&data[..take]);
                    match head_end(buf, before) {
                        Some(end) => {
                            let head = std::mem::take(buf);
                            self.state = after_head(&head[..end]);
                            end - before
                        }
                        None if buf.len() > self.limit => return Err(HeadTooLarge { keep: section_start }),
                        None => take,
                    }
                }
                State::Body(left) => {
                    let n = (*left).min(data.len() as u64);
                    *left -= n;
                    if *left == 0 {
                        self.state = State::Head(Vec::new());
                    }
                    n as usize
                }
                State::ChunkSize(line) => match data.iter().position(|&b| b == b'\n') {
                    Some(nl) => {
                        line.extend_from_slice(&data[..nl]);
                        self.state = match chunk_size(line) {
                            Some(0) => {
                                section_start = total - data.len() + nl + 1;
                                State::Trailers(Vec::new())
                            }
                            Some(n) => State::ChunkData(n),
                            None => State::Opaque,
                        };
                        nl + 1
                    }
                    None => {
                        line.extend_from_slice(data);
                        if line.len() > MAX_CHUNK_LINE {
                            self.state = State::Opaque;
                        }
                        data.len()
                    }
                },
                State::ChunkData(left) => {
                    let n = (*left).min(data.len() as u64);
                    *left -= n;
                    if *left == 0 {
                        self.state = State::ChunkEnd;
                    }
                    n as usize
                }
                State::ChunkEnd => match data.iter().position(|&b| b == b'\n') {
                    Some(nl) => {
                        self.state = State::ChunkSize(Vec::new());
                        nl + 1
                    }
                    None => data.len(),
                },
                State::Trailers(buf) => {
                    let before = buf.len();
                    let take = data.len().min(self.limit + 1 - before);
                    buf.extend_from_slice(&data[..take]);
                    let end = if buf.starts_with(b"\r\n") {
                        Some(2)
                    } else if buf.starts_with(b"\n") {
                        Some(1)
                    } else {
                        head_end(buf, before)
                    };
                    match end {
                        Some(end) => {
                            self.state = State::Head(Vec::new());
                            end - before
                        }
                        None if buf.len() > self.limit => return Err(HeadTooLarge { keep: section_start }),
                        None => take,
                    }
                }
            };
            data = &data[used..];
        }
        Ok(())
    }
}

/// What follows a complete head: its body's framing.
fn after_head(head: &[u8]) -> State {
    // Only the three fields that frame a body are looked at, line by line; validating the rest is
    // actix-http's (a head it refuses is answered 400 and the connection closed, whatever is read here).
    let mut lines = lines(head);
    if lines.next().is_some_and(|request_line| request_line.starts_with(b"CONNECT ")) {
        return State::Opaque;
    }
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = memchr::memchr(b':', line) else { return State::Opaque };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"transfer-encoding") {
            let last = value.rsplit(|&b| b == b',').next().unwrap_or_default();
            chunked = last.trim_ascii().eq_ignore_ascii_case(b"chunked");
            if !chunked {
                return State::Opaque;
            }
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let n = std::str::from_utf8(value).ok().and_then(|v| v.parse::<u64>().ok());
            match (n, length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(m)) if n == m => {}
                _ => return State::Opaque,
            }
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            return State::Opaque;
        }
    }
    match (chunked, length) {
        (true, _) => State::ChunkSize(Vec::new()),
        (false, Some(n)) if n > 0 => State::Body(n),
        _ => State::Head(Vec::new()),
    }
}

/// `head` split at every `\n`, as `split` does, with memchr finding each one many bytes at a time (a
/// bearer token makes one line of ~400 bytes).
fn lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(head);
    std::iter::from_fn(move || {
        let r = rest?;
        match memchr::memchr(b'\n', r) {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

fn chunk_size(line: &[u8]) -> Option<u64> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let size = line.split(|&b| b == b';').next()?.trim_ascii();
    u64::from_str_radix(std::str::from_utf8(size).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(f: &mut Framing, data: &[u8], step: usize) -> Result<(), HeadTooLarge> {
        data.chunks(step.max(1)).try_for_each(|c| f.feed(c))
    }

    fn header(name_len: usize) -> Vec<u8> {
        format!("GET / HTTP/1.1\r\nHost: x\r\n{}: v\r\n\r\n", "a".repeat(name_len)).into_bytes()
    }

    #[test]
    fn lines_are_what_split_gives() {
        for head in [&b""[..], b"a", b"\n", b"a\nb", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\n\nx\n"] {
            let want: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
            assert_eq!(super::lines(head).collect::<Vec<_>>(), want, "{head:?}");
        }
    }

    #[test]
    fn heads_over_the_limit_are_refused_whatever_the_reads() {
        for step in [1, 7, 1000, 1 << 20] {
            let mut f = Framing::new(32 * 1024);
            assert_eq!(feed_all(&mut f, &header(70_000), step), Err(HeadTooLarge { keep: 0 }), "step {step}");
            let mut f = Framing::new(32 * 1024);
            assert_eq!(feed_all(&mut f, &header(20_000), step), Ok(()), "step {step}");
        }
    }

    #[test]
    fn bodies_are_skipped_and_every_following_head_is_bounded() {
        let big_body = vec![b'x'; 100_000];
        let mut post = b"POST /api/http/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".to_vec();
        post.extend_from_slice(&big_body);
        let mut chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        chunked.extend_from_slice(b"186a0;ext=1\r\n");
        chunked.extend_from_slice(&big_body);
        chunked.extend_from_slice(b"\r\n0\r\nX-Trailer: 1\r\n\r\n");
        for step in [1, 13, 4096, 1 << 20] {
            for first in [&post, &chunked] {
                let mut f = Framing::new(32 * 1024);
                let mut stream = b"\r\n".to_vec();
                stream.extend_from_slice(first);
                stream.extend_from_slice(&header(10));
                assert_eq!(feed_all(&mut f, &stream, step), Ok(()), "step {step}");
                assert!(matches!(&f.state, State::Head(b) if b.is_empty()), "{:?}", f.state);
                assert_eq!(
                    feed_all(&mut f, &header(40_000), step),
                    Err(HeadTooLarge { keep: 0 }),
                    "step {step}"
                );
            }
        }
    }

    #[test]
    fn what_came_before_a_refused_head_in_the_same_read_is_kept() {
        let first = header(10);
        let mut stream = first.clone();
        stream.extend_from_slice(&header(40_000));
        let mut f = Framing::new(32 * 1024);
        assert_eq!(f.feed(&stream), Err(HeadTooLarge { keep: first.len() }));
    }

    #[test]
    fn framing_it_cannot_follow_is_left_to_actix() {
        let mut f = Framing::new(1024);
        f.feed(b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").unwrap();
        assert!(matches!(f.state, State::Opaque));
        f.feed(&vec![b'a'; 10_000]).unwrap();
        let mut f = Framing::new(1024);
        f.feed(b"GET / HTTP/1.1\r\nHost: x\n\nGET / HTTP/1.1\n\n").unwrap();
        assert!(matches!(&f.state, State::Head(b) if b.is_empty()));
    }
}
