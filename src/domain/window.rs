//! WhatsApp's 24-hour window (SPEC §5.2): a business may send free text and files to a person only
//! within 24 hours of that person's last message; outside it, only a template. chatgate knows the
//! window from the messages it received, by the platform's own time of each.

use super::context::Context;
use super::error::DomainResult;
use super::model::{Attachment, Channel, FileType, Platform};
use super::templates::{self, Header, Parameters, TemplateArgs, TemplateCall};

pub const WINDOW_MS: i64 = 24 * 3600 * 1000;

/// What is known of a chat's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Open until this time (Unix ms).
    Open(i64),
    /// The person wrote, more than 24 hours ago.
    Closed,
    /// Nothing was ever received from them: only Meta knows.
    Unknown,
}

impl Window {
    pub fn of(last_inbound_at: Option<i64>, now: i64) -> Self {
        match last_inbound_at {
            Some(at) if now < at + WINDOW_MS => Window::Open(at + WINDOW_MS),
            Some(_) => Window::Closed,
            None => Window::Unknown,
        }
    }
}

/// Why a free text to a closed window is not sent.
pub const CLOSED_REASON: &str = "whatsapp: outside the 24-hour window; send a template";

/// The channel's `fallback_template` filled with `text` (a file's caption), for free text or a file
/// to a WhatsApp chat whose window is not known to be open; `None` to send the message as it is —
/// another platform, an open window, no usable fallback, or a file the template cannot carry (its
/// header must be of the file's kind, and a file without a caption has no text for the parameter).
pub async fn fallback_for(
    ctx: &Context<'_>,
    channel: &Channel,
    destination: &str,
    text: Option<&str>,
    file: Option<&Attachment>,
) -> DomainResult<Option<TemplateCall>> {
    if channel.platform != Platform::Whatsapp {
        return Ok(None);
    }
    let book = ctx.templates.of(channel.id).await?;
    let Some((name, language)) = book.fallback.clone() else { return Ok(None) };
    let last = ctx.store.last_inbound_at(channel.id, destination).await?;
    if matches!(Window::of(last, ctx.now), Window::Open(_)) {
        return Ok(None);
    }
    // The fallback may not have been listed yet (a channel set up since the last listing).
    let book = ctx.templates.find_or_refresh(channel.id, &name, &language).await?;
    let (Ok(template), Some(text)) = (templates::find(&book.templates, &name, &language), text) else {
        return Ok(None);
    };
    let header = match (file, &template.header) {
        (None, None | Some(Header::Text(_))) => None,
        (Some(f), Some(Header::Image)) if f.file_type == FileType::Image => Some(f.url.clone()),
        (Some(f), Some(Header::Video)) if f.file_type == FileType::Video => Some(f.url.clone()),
        (Some(f), Some(Header::Document)) if f.file_type == FileType::Document => Some(f.url.clone()),
        _ => return Ok(None),
    };
    let parameters = match (template.named, template.placeholders().as_slice()) {
        (false, [_]) => Parameters::Positional(vec![text.to_string()]),
        (true, [one]) => Parameters::Named(vec![(one.clone(), text.to_string())]),
        _ => return Ok(None),
    };
    let args = TemplateArgs { parameters, header, buttons: Vec::new() };
    Ok(template.fill(&args).ok().map(|(call, _)| call))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_closed_unknown() {
        assert_eq!(Window::of(Some(1_000), 2_000), Window::Open(1_000 + WINDOW_MS));
        assert_eq!(Window::of(Some(1_000), 1_000 + WINDOW_MS), Window::Closed);
        assert_eq!(Window::of(None, 5), Window::Unknown);
    }
}
