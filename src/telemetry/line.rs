//! The log's line format: what tracing-subscriber's default (`Full`, target and colours off) writes —
//! `2026-11-28T08:58:20.663742Z  INFO request request_id=… door="plain" … latency_us=35` — written
//! without its styling machinery. The default formatter passes every part of every line through
//! `nu_ansi_term` even when colours are off; with one line per request that cost 1.8 µs of a
//! `/healthz` request's 7.2 (`CHATGATE_LOG=warn` against `info` on the benchmark's machine).
//!
//! Strings are written as Rust debug strings (quoted, newlines and quotes escaped), so that a value a
//! caller chose (a method name) cannot start a line of its own.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Timestamp, level, the spans the event is in (`name{fields}:`), then the message and the fields.
pub struct Line;

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut w: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        // RFC 3339 in UTC with microseconds, as the default format's clock writes it, digit by digit.
        write!(w, "{}", humantime::format_rfc3339_micros(std::time::SystemTime::now()))?;
        w.write_str(match *event.metadata().level() {
            Level::ERROR => " ERROR ",
            Level::WARN => "  WARN ",
            Level::INFO => "  INFO ",
            Level::DEBUG => " DEBUG ",
            Level::TRACE => " TRACE ",
        })?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                w.write_str(span.name())?;
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(w, "{{{fields}}}")?;
                }
                w.write_str(": ")?;
            }
        }
        let mut fields = Fields { w: &mut w, first: true, result: Ok(()) };
        event.record(&mut fields);
        fields.result?;
        w.write_char('\n')
    }
}

/// Writes `message` bare and every other field as ` name=value`.
struct Fields<'a, 'w> {
    w: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    /// Writes the separator and name of a field, and says whether its value is to follow: not for the
    /// fields tracing-log adds (`log.target`, …), which the default format leaves out too.
    fn name(&mut self, field: &Field) -> bool {
        let name = field.name();
        if name.starts_with("log.") || self.result.is_err() {
            return false;
        }
        let sep = if std::mem::take(&mut self.first) { "" } else { " " };
        self.result = if name == "message" {
            self.w.write_str(sep)
        } else {
            let name = name.strip_prefix("r#").unwrap_or(name);
            self.w.write_str(sep).and_then(|_| self.w.write_str(name)).and_then(|_| self.w.write_char('='))
        };
        self.result.is_ok()
    }
}

/// `value` as its Rust debug string. Most values (door, class, method, outcome) are printable ASCII
/// without quotes or backslashes, which `Debug` writes unchanged between quotes: those are copied
/// whole rather than escaped character by character.
fn quoted(w: &mut Writer<'_>, value: &str) -> fmt::Result {
    if value.bytes().all(|b| matches!(b, b' '..=b'~') && b != b'"' && b != b'\\') {
        w.write_char('"')?;
        w.write_str(value)?;
        w.write_char('"')
    } else {
        write!(w, "{value:?}")
    }
}

impl Visit for Fields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.name(field) {
            self.result =
                if field.name() == "message" { self.w.write_str(value) } else { quoted(self.w, value) };
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.name(field) {
            self.result = self.w.write_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.name(field) {
            self.result = self.w.write_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.name(field) {
            self.result = self.w.write_str(if value { "true" } else { "false" });
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.name(field) {
            self.result = write!(self.w, "{value}");
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.name(field) {
            self.result = write!(self.w, "{value:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::Line;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("buffer").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl MakeWriter<'_> for Buf {
        type Writer = Buf;
        fn make_writer(&self) -> Buf {
            self.clone()
        }
    }

    /// Byte for byte what the default format (target and colours off) writes — these assertions pass
    /// with it in place of `Line` — a caller's newline escaped.
    #[test]
    fn writes_the_default_formats_line() {
        let buf = Buf::default();
        let subscriber = tracing_subscriber::fmt()
            .with_target(false)
            .with_ansi(false)
            .with_writer(buf.clone())
            .event_format(Line)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let id = "7e23";
            tracing::info!(request_id = %id, status = 200u16, door = "plain", method = "a\"b\nc", class = "é\\", ok = true, "request");
            tracing::warn!(refused = 3, "malformed {} refused", "requests");
            let span = tracing::info_span!("worker", n = 2);
            let _in = span.enter();
            tracing::error!(error = %"boom", "failed");
        });
        let text = String::from_utf8(buf.0.lock().expect("buffer").clone()).expect("utf-8");
        let lines: Vec<&str> = text.lines().map(|l| l.split_once('Z').expect("timestamp").1).collect();
        assert_eq!(
            lines,
            [
                r#"  INFO request request_id=7e23 status=200 door="plain" method="a\"b\nc" class="é\\" ok=true"#,
                "  WARN malformed requests refused refused=3",
                " ERROR worker{n=2}: failed error=boom",
            ]
        );
        assert!(text.starts_with("20") && text.as_bytes()[10] == b'T', "{text}");
    }
}
