//! Validation of parameter values, shared by every operation (SPEC §2 "Values").

use chrono::{Datelike, NaiveDateTime, TimeZone, Timelike, Utc};

use super::error::{DomainError, DomainResult, ErrorCode};
use super::model::{Attachment, FileType, Platform};
use super::params::Params;

pub const MAX_MESSAGE_CHARS: usize = 4096;
/// A file's caption: both platforms cap it at 1,024 characters (Telegram counts code points).
pub const MAX_CAPTION_CHARS: usize = 1024;
pub const MAX_DESTINATION_CHARS: usize = 256;
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;
pub use super::urls::{MAX_URL_CHARS, is_absolute_http_url};
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

/// The wire date format: `YYYY-MM-DD HH:MM:SS`, UTC.
pub const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

pub fn format_datetime(unix_ms: i64) -> String {
    // `DATETIME_FORMAT` written out field by field: chrono's `format` reads its format string again
    // for every value, and a page of 1,000 messages formats 1,000 dates.
    Utc.timestamp_millis_opt(unix_ms)
        .single()
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_default()
}

pub fn platform(params: &Params) -> DomainResult<Platform> {
    Platform::parse(params.required("platform")?).ok_or(DomainError::incorrect("platform"))
}

/// A `platformid` that is not a channel id of ours cannot name a channel: it is simply not found.
pub fn platform_id(params: &Params) -> DomainResult<i64> {
    params
        .required("platformid")?
        .parse::<i64>()
        .map_err(|_| DomainError::param(ErrorCode::ChannelNotFound, "platformid"))
}

/// A message id given as `name`; one that cannot be ours is not found.
pub fn message_id(params: &Params, name: &'static str) -> DomainResult<i64> {
    params.required(name)?.parse::<i64>().map_err(|_| DomainError::param(ErrorCode::MessageNotFound, name))
}

/// The recipient. Per platform: WhatsApp wants a phone number in international form (digits, an
/// optional leading `+`), Telegram a chat id (an integer) or an `@username`; webchat visitor ids and
/// operator logins are free text. Nothing may hold control characters. A WhatsApp number is kept
/// without its `+`.
pub fn destination(params: &Params, platform: Platform) -> DomainResult<String> {
    let d = params.required("destination")?;
    let bad = || DomainError::incorrect("destination");
    if d.chars().count() > MAX_DESTINATION_CHARS || d.chars().any(char::is_control) {
        return Err(bad());
    }
    let ok = match platform {
        Platform::Whatsapp => {
            let digits = whatsapp_number(d);
            (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        }
        Platform::Telegram => match d.strip_prefix('@') {
            Some(user) => {
                (1..=64).contains(&user.len()) && user.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            }
            None => d.parse::<i64>().is_ok(),
        },
        Platform::Webchat | Platform::Operator => !d.trim().is_empty(),
    };
    if !ok {
        return Err(bad());
    }
    // WhatsApp names a user by the digits alone in international form (`wa_id`, the `from` of what
    // they send): a reply to `+34 600-111-222` or `0034600111222` belongs to the chat of `34600111222`.
    Ok(match platform {
        Platform::Whatsapp => whatsapp_number(d),
        _ => d.to_string(),
    })
}

/// A phone number as typed (`+34 600 11 12 22`, `0034-600…`, `(600) 111`) → its international digits.
fn whatsapp_number(typed: &str) -> String {
    let kept: String = typed.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
    let international = kept.strip_prefix('+').or_else(|| kept.strip_prefix("00")).unwrap_or(&kept);
    international.to_string()
}

/// Whether text can be stored: no NUL, which neither engine's text type holds (PostgreSQL refuses
/// U+0000 outright). Every other character, control characters such as newlines included, is kept.
pub fn storable(value: &str) -> bool {
    !value.contains('\0')
}

/// Text received from a platform, made storable (a NUL becomes U+FFFD) rather than refused: the
/// platform would only send it again.
pub fn storable_received(value: &str) -> String {
    value.replace('\0', "\u{FFFD}")
}

/// Message text: 1 to 4096 characters (Unicode scalar values), any script, no NUL.
/// A message's text: not only whitespace (a platform refuses it: Telegram's "text must be non-empty"),
/// at most `MAX_MESSAGE_CHARS`, and storable.
pub fn text(value: &str) -> DomainResult<String> {
    if value.trim().is_empty() || value.chars().count() > MAX_MESSAGE_CHARS || !storable(value) {
        return Err(DomainError::incorrect("message"));
    }
    Ok(value.to_string())
}

/// A message a person typed in a page (a webchat visitor, an operator): without its surrounding
/// whitespace, not empty, and within `text`'s rule.
pub fn typed_text(value: &str) -> DomainResult<String> {
    match value.trim() {
        "" => Err(DomainError::incorrect("message")),
        trimmed => text(trimmed),
    }
}

/// A file's caption (`message`, optional): `text`'s rule, and at most `MAX_CAPTION_CHARS`.
pub fn caption(params: &Params) -> DomainResult<Option<String>> {
    let caption = params.get("message").map(text).transpose()?;
    match caption {
        Some(c) if c.chars().count() > MAX_CAPTION_CHARS => Err(DomainError::incorrect("message")),
        c => Ok(c),
    }
}

/// Whether a file of `file_type` can carry a caption on `platform`: WhatsApp shows none on audio, and
/// no platform shows one on a contact card. A caption that would be dropped is refused instead
/// (`INCORRECT_PARAM`, `message`), so that `sent` never hides a lost text.
pub fn caption_allowed(platform: Platform, file_type: FileType, caption: Option<&str>) -> DomainResult<()> {
    let shown = match file_type {
        FileType::Contact => platform.is_internal(),
        FileType::Audio | FileType::Voice => platform != Platform::Whatsapp,
        FileType::Image | FileType::Video | FileType::Document => true,
    };
    if caption.is_some() && !shown { Err(DomainError::incorrect("message")) } else { Ok(()) }
}

/// `type`, `fileurl` and `thumburl` of `sendfile`, each with its own error code.
pub fn attachment(params: &Params) -> DomainResult<Attachment> {
    let file_type = FileType::parse(params.required("type")?)
        .ok_or(DomainError::param(ErrorCode::IncorrectFiletype, "type"))?;
    let url = params.required("fileurl")?;
    if !is_absolute_http_url(url) {
        return Err(DomainError::param(ErrorCode::IncorrectFileurl, "fileurl"));
    }
    let thumb_url = match params.get("thumburl") {
        Some(t) if !is_absolute_http_url(t) => {
            return Err(DomainError::param(ErrorCode::IncorrectThumburl, "thumburl"));
        }
        t => t.map(str::to_string),
    };
    Ok(Attachment { file_type, url: url.to_string(), thumb_url })
}

/// `invalidationtime`: Unix milliseconds or `YYYY-MM-DD HH:MM:SS` UTC, and in the future — a message
/// that is already invalid could never be sent, so asking for one is a mistake the caller should hear of.
pub fn invalidation_time(params: &Params, now: i64) -> DomainResult<Option<i64>> {
    let Some(v) = params.get("invalidationtime") else { return Ok(None) };
    let bad = || DomainError::incorrect("invalidationtime");
    let at = if v.bytes().all(|b| b.is_ascii_digit()) {
        v.parse::<i64>().map_err(|_| bad())?
    } else {
        NaiveDateTime::parse_from_str(v, DATETIME_FORMAT).map_err(|_| bad())?.and_utc().timestamp_millis()
    };
    if at <= now {
        return Err(bad());
    }
    Ok(Some(at))
}

/// `idempotencykey`: up to 255 characters, no control characters.
pub fn idempotency_key(params: &Params) -> DomainResult<Option<String>> {
    let Some(k) = params.get("idempotencykey") else { return Ok(None) };
    if k.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS || k.chars().any(char::is_control) {
        return Err(DomainError::incorrect("idempotencykey"));
    }
    Ok(Some(k.to_string()))
}

/// `limit`: 1..=1000, default 100.
pub fn limit(params: &Params) -> DomainResult<u32> {
    limit_or(params, DEFAULT_LIMIT)
}

/// `before`: a message id, when given (the paging cursor of `getmessages` and `getchats`).
pub fn before(params: &Params) -> DomainResult<Option<i64>> {
    match params.get("before") {
        Some(_) => Ok(Some(message_id(params, "before")?)),
        None => Ok(None),
    }
}

/// `limit` (1…`MAX_LIMIT`), `default` when absent.
pub fn limit_or(params: &Params, default: u32) -> DomainResult<u32> {
    match params.get("limit") {
        None => Ok(default),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or(DomainError::incorrect("limit")),
    }
}

/// A 0/1 flag (also `true`/`false`, as JSON clients send them).
pub fn flag(params: &Params, name: &'static str, default: bool) -> DomainResult<bool> {
    match params.get(name) {
        None => Ok(default),
        Some("1") | Some("true") => Ok(true),
        Some("0") | Some("false") => Ok(false),
        Some(_) => Err(DomainError::incorrect(name)),
    }
}

/// A webhook id given as `name`; one that cannot be ours is not found.
pub fn webhook_id(params: &Params, name: &'static str) -> DomainResult<i64> {
    params.required(name)?.parse::<i64>().map_err(|_| DomainError::param(ErrorCode::WebhookNotFound, name))
}

/// A delivery id given as `name`; one that cannot be ours is not found.
pub fn delivery_id(params: &Params, name: &'static str) -> DomainResult<i64> {
    params.required(name)?.parse::<i64>().map_err(|_| DomainError::param(ErrorCode::DeliveryNotFound, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_the_wire_format_says() {
        for ms in [0, 1_700_000_000_123, 253_402_300_799_000, -86_400_000] {
            let t = Utc.timestamp_millis_opt(ms).unwrap();
            assert_eq!(format_datetime(ms), t.format(DATETIME_FORMAT).to_string());
        }
    }

    #[test]
    fn typed_text_is_trimmed_and_never_empty() {
        assert_eq!(typed_text("  hi there \n").unwrap(), "hi there");
        for bad in ["", "   \n\t", &"x".repeat(MAX_MESSAGE_CHARS + 1), "a\u{0}b"] {
            assert_eq!(typed_text(bad).unwrap_err().param, Some("message"), "{bad:?}");
        }
        assert!(
            typed_text(&format!(" {} ", "y".repeat(MAX_MESSAGE_CHARS))).is_ok(),
            "counted after trimming"
        );
    }
}
