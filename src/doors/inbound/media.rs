//! Received files (SPEC §5.3): a message's `fileurl` is `{public_url}/media/{token}`, where the token
//! names the channel and the platform's file and is signed with a server-wide key, so it cannot be
//! guessed or altered. Fetching it streams the file from the platform (Telegram's download URL carries
//! the bot token, WhatsApp's needs the access token: neither is ever shown to a caller).

use actix_web::http::StatusCode;
use actix_web::http::header::{
    Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Refusal, answer, channel_of};
use crate::domain::model::Platform;
use crate::doors::AppState;

/// What a media URL points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRef {
    /// A Telegram `file_id`.
    Telegram(String),
    /// A WhatsApp media id.
    WhatsApp(String),
    /// A contact, as its vCard (served by chatgate itself).
    VCard(String),
}

impl MediaRef {
    fn encode(&self) -> String {
        match self {
            MediaRef::Telegram(id) => format!("tg:{id}"),
            MediaRef::WhatsApp(id) => format!("wa:{id}"),
            MediaRef::VCard(card) => format!("vc:{card}"),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        let (kind, rest) = text.split_once(':')?;
        match kind {
            "tg" => Some(MediaRef::Telegram(rest.to_string())),
            "wa" => Some(MediaRef::WhatsApp(rest.to_string())),
            "vc" => Some(MediaRef::VCard(rest.to_string())),
            _ => None,
        }
    }
}

/// Signs and checks media tokens with the server-wide key (the same on every instance).
pub struct MediaSigner {
    key: Vec<u8>,
}

/// Bytes of HMAC kept in a token: 128 bits are plenty against guessing.
const SIGNATURE_BYTES: usize = 16;

impl MediaSigner {
    pub fn new(key: Vec<u8>) -> Self {
        Self { key }
    }

    /// HMAC of `payload` (HMAC takes a key of any length, so this is `None` only in theory).
    fn mac(&self, payload: &[u8]) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        mac.update(payload);
        Some(mac)
    }

    /// The URL of a received file; its `name`, when the sender gave one, is signed with it and sent
    /// back in `Content-Disposition`.
    pub fn url(&self, base: &str, channel_id: i64, reference: &MediaRef, name: Option<&str>) -> String {
        let payload = match name {
            Some(name) => format!("{channel_id}:nm:{}:{}", URL_SAFE_NO_PAD.encode(name), reference.encode()),
            None => format!("{channel_id}:{}", reference.encode()),
        };
        let signature =
            self.mac(payload.as_bytes()).map(|m| m.finalize().into_bytes().to_vec()).unwrap_or_default();
        format!(
            "{base}/media/{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(signature.get(..SIGNATURE_BYTES).unwrap_or_default())
        )
    }

    /// The channel, file and file name a token names, if its signature holds.
    pub fn open(&self, token: &str) -> Option<(i64, MediaRef, Option<String>)> {
        let (payload, signature) = token.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok().filter(|s| s.len() == SIGNATURE_BYTES)?;
        self.mac(&payload)?.verify_truncated_left(&signature).ok()?;
        let text = String::from_utf8(payload).ok()?;
        let (channel, rest) = text.split_once(':')?;
        let (name, reference) = match rest.strip_prefix("nm:") {
            Some(named) => {
                let (name, reference) = named.split_once(':')?;
                (Some(String::from_utf8(URL_SAFE_NO_PAD.decode(name).ok()?).ok()?), reference)
            }
            None => (None, rest),
        };
        Some((channel.parse().ok()?, MediaRef::decode(reference)?, name))
    }
}

/// The base of URLs we hand out: `public_url`, else the scheme and host the request came to.
pub fn public_base(req: &HttpRequest, state: &AppState) -> String {
    match &state.settings.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

/// A minimal vCard 3.0 of a shared contact.
pub fn vcard(name: &str, phones: &[&str]) -> String {
    let clean = |s: &str| s.chars().filter(|c| !c.is_control()).collect::<String>();
    let mut card = format!("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{}\r\n", clean(name.trim()));
    for phone in phones.iter().filter(|p| !p.is_empty()) {
        card.push_str(&format!("TEL:{}\r\n", clean(phone)));
    }
    card.push_str("END:VCARD\r\n");
    card
}

/// The headers of a received file: its content is the sender's, served from our origin, so it must
/// never run as a page here.
fn received_file<'a>(
    res: &'a mut actix_web::HttpResponseBuilder,
    content_type: &str,
) -> &'a mut actix_web::HttpResponseBuilder {
    res.content_type(content_type)
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "private, max-age=3600"))
}

/// `Content-Disposition: attachment` with the sender's file name: as ASCII for old clients and in
/// full (RFC 8187) for the others.
fn attachment_named(name: &str) -> ContentDisposition {
    let ascii: String = name.chars().map(|c| if c.is_ascii() { c } else { '_' }).collect();
    let mut parameters = vec![DispositionParam::Filename(ascii)];
    if !name.is_ascii() {
        parameters.push(DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: name.as_bytes().to_vec(),
        }));
    }
    ContentDisposition { disposition: DispositionType::Attachment, parameters }
}

/// `GET /media/{token}`: 404 for a token that is not ours, 502 when the platform will not give the file.
pub async fn serve(path: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        let (channel_id, reference, name) = state.media.open(&path).ok_or(Refusal::UnknownChannel)?;
        let channel_id = channel_id.to_string();
        let fetched = match &reference {
            MediaRef::VCard(card) => {
                let mut res = HttpResponse::Ok();
                return Ok(received_file(&mut res, "text/vcard; charset=utf-8").body(card.clone()));
            }
            MediaRef::Telegram(file_id) => {
                let channel = channel_of(&state, &channel_id, Platform::Telegram).await?;
                let token = channel.settings.get("bot_token").ok_or(Refusal::UnknownChannel)?;
                state.connectors.telegram.fetch_file(token, file_id).await.map_err(|e| e.0)
            }
            MediaRef::WhatsApp(media_id) => {
                let channel = channel_of(&state, &channel_id, Platform::Whatsapp).await?;
                let token = channel.settings.get("access_token").ok_or(Refusal::UnknownChannel)?;
                state.connectors.whatsapp.fetch_media(token, media_id).await.map_err(|e| e.0)
            }
        };
        let upstream = match fetched {
            Ok(res) => res,
            Err(reason) => {
                tracing::warn!(%reason, "fetching a received file failed");
                return Ok(HttpResponse::build(StatusCode::BAD_GATEWAY)
                    .content_type("text/plain")
                    .body("file not available"));
            }
        };
        let content_type = upstream
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let mut res = HttpResponse::Ok();
        received_file(&mut res, &content_type);
        if let Some(name) = name {
            res.insert_header(attachment_named(&name));
        }
        if let Some(len) = upstream.content_length() {
            res.no_chunking(len);
        }
        Ok(res.streaming(upstream.bytes_stream()))
    }
    .await;
    answer("media", result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_only_as_signed() {
        let signer = MediaSigner::new(b"k".to_vec());
        let url = signer.url("http://x", 7, &MediaRef::Telegram("AgAD-1".into()), None);
        let token = url.strip_prefix("http://x/media/").unwrap();
        assert_eq!(signer.open(token), Some((7, MediaRef::Telegram("AgAD-1".into()), None)));
        let named = signer.url("http://x", 7, &MediaRef::WhatsApp("9".into()), Some("Факту:ра.pdf"));
        let named = named.strip_prefix("http://x/media/").unwrap();
        assert_eq!(
            signer.open(named),
            Some((7, MediaRef::WhatsApp("9".into()), Some("Факту:ра.pdf".to_string())))
        );
        assert_eq!(MediaSigner::new(b"other".to_vec()).open(token), None);
        let (payload, sig) = token.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode("8:tg:AgAD-1");
        assert_eq!(signer.open(&format!("{forged}.{sig}")), None);
        assert_eq!(signer.open(&format!("{payload}.{}", &sig[..4])), None, "a shortened signature");
        assert_eq!(signer.open("garbage"), None);
    }
}
