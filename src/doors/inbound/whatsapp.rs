//! `/inbound/whatsapp/{platformid}` and the app-wide `/inbound/whatsapp`: Meta's verification handshake
//! (`GET`, a channel's `verify_token`) and its notifications (`POST`, signed with the app secret in
//! `X-Hub-Signature-256` over the raw body), each filed under the channel it names (what they carry is
//! read by `whatsapp_payload.rs`).

use actix_web::{HttpRequest, HttpResponse, web};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use super::whatsapp_payload::{Change, TemplateUpdate, parse_notification};
use super::{Refusal, answer, body, channel_of, same_secret, store_received};
use crate::domain::model::{ChannelConfig, Platform};
use crate::doors::AppState;

/// Meta sends up to 3 MB per notification.
const BODY_LIMIT: usize = 4 * 1024 * 1024;

#[derive(Deserialize)]
pub struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

pub async fn verify(
    path: web::Path<String>,
    query: Option<web::Query<Handshake>>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        let channel = channel_of(&state, &path, Platform::Whatsapp).await?;
        let hs = query.map(web::Query::into_inner);
        let expected = channel.settings.get("verify_token");
        match (hs, expected) {
            (
                Some(Handshake { mode: Some(mode), verify_token: Some(token), challenge: Some(challenge) }),
                Some(expected),
            ) if mode == "subscribe" && same_secret(token.as_bytes(), expected.as_bytes()) => {
                Ok(HttpResponse::Ok().content_type("text/plain").body(challenge))
            }
            _ => Ok(HttpResponse::Forbidden().content_type("text/plain").body("verification refused")),
        }
    }
    .await;
    answer("whatsapp", result)
}

/// `GET /inbound/whatsapp`: the app-wide callback's handshake, with any WhatsApp channel's `verify_token`.
pub async fn verify_for_app(
    query: Option<web::Query<Handshake>>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        let channels = whatsapp_channels(&state).await?;
        let hs = query.map(web::Query::into_inner);
        let challenge = match hs {
            Some(Handshake { mode: Some(mode), verify_token: Some(token), challenge: Some(challenge) })
                if mode == "subscribe"
                    && channels.iter().any(|c| {
                        c.settings
                            .get("verify_token")
                            .is_some_and(|t| same_secret(token.as_bytes(), t.as_bytes()))
                    }) =>
            {
                challenge
            }
            _ => {
                return Ok(HttpResponse::Forbidden().content_type("text/plain").body("verification refused"));
            }
        };
        Ok(HttpResponse::Ok().content_type("text/plain").body(challenge))
    }
    .await;
    answer("whatsapp", result)
}

/// `POST /inbound/whatsapp/{platformid}`: the channel in the path must exist and its `app_secret`
/// sign the body; each notification is then filed under the channel its number names.
pub async fn receive(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        let channel = channel_of(&state, &path, Platform::Whatsapp).await?;
        let app_secret = channel.settings.get("app_secret").ok_or(Refusal::BadProof)?;
        let raw = body(&req, payload, BODY_LIMIT).await?;
        if !signed(app_secret.as_bytes(), &raw, signature_of(&req)) {
            return Err(Refusal::BadProof);
        }
        let notification: Value = serde_json::from_slice(&raw).map_err(|_| Refusal::Unreadable)?;
        let changes = parse_notification(&notification)?;
        file_changes(&state, &req, &raw, Some(&channel), changes).await?;
        Ok(HttpResponse::Ok().finish())
    }
    .await;
    answer("whatsapp", result)
}

/// `POST /inbound/whatsapp`: the app's one callback URL for all its numbers. Each notification is
/// filed under the channel whose `phone_number_id` it names, proven by that channel's `app_secret`.
pub async fn receive_for_app(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        let raw = body(&req, payload, BODY_LIMIT).await?;
        let notification: Value = serde_json::from_slice(&raw).map_err(|_| Refusal::Unreadable)?;
        let changes = parse_notification(&notification)?;
        file_changes(&state, &req, &raw, None, changes).await?;
        Ok(HttpResponse::Ok().finish())
    }
    .await;
    answer("whatsapp", result)
}

/// A template's status changed: kept for every channel of that business account whose `app_secret`
/// signs the body.
async fn template_changed(
    state: &AppState,
    req: &HttpRequest,
    raw: &[u8],
    update: &TemplateUpdate,
    all: &mut Option<Vec<ChannelConfig>>,
) -> Result<(), Refusal> {
    if all.is_none() {
        *all = Some(whatsapp_channels(state).await?);
    }
    let of_account: Vec<&ChannelConfig> =
        all.iter().flatten().filter(|c| c.settings.get("waba_id") == Some(update.waba_id.as_str())).collect();
    if of_account.is_empty() {
        tracing::warn!(waba_id = %update.waba_id, "a template status for a business account no channel has: skipped");
        return Ok(());
    }
    let proven: Vec<&&ChannelConfig> = of_account.iter().filter(|c| signs(c, raw, req)).collect();
    if proven.is_empty() {
        return Err(Refusal::BadProof);
    }
    for channel in proven {
        let book = state.gateway.templates();
        let changed = book.status_changed(channel.channel.id, &update.name, &update.language, &update.status);
        if let Err(e) = changed.await {
            tracing::error!(error = %e, "recording a template's status failed");
            return Err(Refusal::Internal);
        }
    }
    Ok(())
}

/// Every WhatsApp channel with its settings: what an app-wide notification or handshake is matched
/// against.
async fn whatsapp_channels(state: &AppState) -> Result<Vec<ChannelConfig>, Refusal> {
    state.gateway.channel_configs(Platform::Whatsapp).await.map_err(|e| {
        tracing::error!(error = %e, "reading the WhatsApp channels failed");
        Refusal::Internal
    })
}

/// Whether `channel`'s `app_secret` signed the body.
fn signs(channel: &ChannelConfig, raw: &[u8], req: &HttpRequest) -> bool {
    channel.settings.get("app_secret").is_some_and(|s| signed(s.as_bytes(), raw, signature_of(req)))
}

fn signature_of(req: &HttpRequest) -> &str {
    req.headers().get("x-hub-signature-256").and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Files each change under its channel: the one whose `phone_number_id` the change names (its
/// `app_secret` must sign the body), or the path's channel when the change names no number. A number
/// no channel has is logged and skipped — Meta would retry a refusal for days.
async fn file_changes(
    state: &AppState,
    req: &HttpRequest,
    raw: &[u8],
    path_channel: Option<&ChannelConfig>,
    changes: Vec<Change>,
) -> Result<(), Refusal> {
    let mut all: Option<Vec<ChannelConfig>> = None;
    for change in changes {
        if let Some(update) = &change.template {
            template_changed(state, req, raw, update, &mut all).await?;
            continue;
        }
        let named = change.phone_number_id.as_deref();
        let channel = match (named, path_channel) {
            (None, Some(c)) => c.clone(),
            (Some(id), Some(c)) if c.settings.get("phone_number_id") == Some(id) => c.clone(),
            (None, None) => {
                tracing::warn!(
                    "a WhatsApp notification without a phone_number_id came to the app URL: skipped"
                );
                continue;
            }
            (Some(id), _) => {
                if all.is_none() {
                    all = Some(whatsapp_channels(state).await?);
                }
                let numbered: Vec<&ChannelConfig> =
                    all.iter().flatten().filter(|c| c.settings.get("phone_number_id") == Some(id)).collect();
                if numbered.is_empty() {
                    tracing::warn!(
                        phone_number_id = id,
                        "a WhatsApp notification for a number no channel has: skipped"
                    );
                    continue;
                }
                numbered.into_iter().find(|c| signs(c, raw, req)).cloned().ok_or(Refusal::BadProof)?
            }
        };
        store_received(state, req, &channel, change.received).await?;
        for s in change.statuses {
            let reason = s.reason.as_deref();
            if let Err(e) = state.gateway.platform_status(channel.channel.id, &s.id, s.status, reason).await {
                tracing::error!(error = %e, "recording a WhatsApp status failed");
                return Err(Refusal::Internal);
            }
        }
    }
    Ok(())
}

/// `sha256=` + hex HMAC-SHA256(app secret, raw body), checked in constant time.
fn signed(app_secret: &[u8], raw: &[u8], header: &str) -> bool {
    let Some(given) = header.strip_prefix("sha256=").and_then(|h| hex::decode(h.trim()).ok()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret) else {
        return false;
    };
    mac.update(raw);
    mac.verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_of_the_raw_body() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(b"{}");
        let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert!(signed(b"secret", b"{}", &good));
        assert!(!signed(b"other", b"{}", &good));
        assert!(!signed(b"secret", b"{ }", &good));
        assert!(!signed(b"secret", b"{}", "sha256=zz"));
        assert!(!signed(b"secret", b"{}", ""));
    }
}
