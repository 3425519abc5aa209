//! Visitor identity: an id (the chat's `destination`) and a token = HMAC of channel and id under a
//! server-wide key (the same on every instance), so nothing is stored per visitor and a token cannot be
//! forged or moved to another visitor or channel.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub struct VisitorKeys {
    key: Vec<u8>,
}

impl VisitorKeys {
    pub fn new(key: Vec<u8>) -> Self {
        Self { key }
    }

    pub fn new_visitor() -> String {
        format!("visitor-{:016x}", rand::random::<u64>())
    }

    pub fn token(&self, channel_id: i64, visitor: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else { return String::new() };
        mac.update(format!("{channel_id}:{visitor}").as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    pub fn check(&self, channel_id: i64, visitor: &str, token: &str) -> bool {
        let expected = self.token(channel_id, visitor);
        !visitor.is_empty() && !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
    }
}
