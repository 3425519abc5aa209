//! API tokens (SPEC §1): `cg_` + 43 base64url characters of 32 random bytes, for the doors whose callers
//! carry one token and no login (Feedbot's `auth` header, Chat&Messenger's `x-cam-apiToken`). Kept as
//! their SHA-256 only: a token is as random as a key, so no argon2 is needed to make guessing useless.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

const PREFIX: &str = "cg_";

/// A new token (shown to its owner once).
pub fn generate() -> String {
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()))
}

/// What is stored of a token: its SHA-256, in hex.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `text` has a token's form (so that anything else is refused before any lookup).
pub fn well_formed(text: &str) -> bool {
    text.strip_prefix(PREFIX).is_some_and(|rest| {
        rest.len() == 43 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_their_form_and_differ() {
        let (a, b) = (generate(), generate());
        assert!(well_formed(&a) && well_formed(&b) && a != b, "{a} {b}");
        assert_eq!(hash(&a).len(), 64);
        assert!(!well_formed("cg_short") && !well_formed(&a.replace("cg_", "xx_")));
    }
}
