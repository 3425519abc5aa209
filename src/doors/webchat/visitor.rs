//! Visitor identity: an id (the chat's `destination`) and a token = HMAC of channel and id under a
//! server-wide key (the same on every instance), so nothing is stored per visitor and a token cannot be
//! forged or moved to another visitor or channel.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub struct VisitorKeys {
    /// The HMAC keyed once (every visitor API call checks a token: cloning the keyed state saves
    /// hashing the key again each time).
    keyed: Option<Hmac<Sha256>>,
}

impl VisitorKeys {
    pub fn new(key: Vec<u8>) -> Self {
        Self { keyed: Hmac::<Sha256>::new_from_slice(&key).ok() }
    }

    pub fn new_visitor() -> String {
        format!("visitor-{:016x}", rand::random::<u64>())
    }

    /// The MAC of `channel_id:visitor`, not yet finalized.
    fn mac(&self, channel_id: i64, visitor: &str) -> Option<Hmac<Sha256>> {
        let mut mac = self.keyed.clone()?;
        mac.update(channel_id.to_string().as_bytes());
        mac.update(b":");
        mac.update(visitor.as_bytes());
        Some(mac)
    }

    pub fn token(&self, channel_id: i64, visitor: &str) -> String {
        self.mac(channel_id, visitor)
            .map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
            .unwrap_or_default()
    }

    /// Whether `token` is the visitor's (compared in constant time).
    pub fn check(&self, channel_id: i64, visitor: &str, token: &str) -> bool {
        let mut given = [0u8; 32];
        let decoded = URL_SAFE_NO_PAD.decode_slice(token.as_bytes(), &mut given);
        !visitor.is_empty()
            && decoded == Ok(given.len())
            && self.mac(channel_id, visitor).is_some_and(|m| m.verify_slice(&given).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_holds_for_its_visitor_and_channel_only() {
        let keys = VisitorKeys::new(b"a server key of thirty-two bytes".to_vec());
        let token = keys.token(7, "visitor-1");
        assert_eq!(token.len(), 43);
        assert!(keys.check(7, "visitor-1", &token));
        assert!(!keys.check(8, "visitor-1", &token));
        assert!(!keys.check(7, "visitor-2", &token));
        assert!(!keys.check(7, "", &keys.token(7, "")));
        assert!(!keys.check(7, "visitor-1", &token[..42]));
        assert!(!keys.check(7, "visitor-1", &format!("{token}A")));
        assert!(!keys.check(7, "visitor-1", ""));
        let other = VisitorKeys::new(b"another key, also thirty-two b..".to_vec());
        assert!(!other.check(7, "visitor-1", &token));
    }
}
