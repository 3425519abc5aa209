//! The Ed25519 signing keys: generation, the key ring loaded from the store, the JWKS.

use std::collections::HashMap;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, Header};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::storage::SigningKey;

/// A new key; its `kid` is derived from the public key.
pub fn generate(now: i64) -> Result<SigningKey, String> {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|e| e.to_string())?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|e| e.to_string())?;
    let public_key = pair.public_key().as_ref().to_vec();
    let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(&public_key)[..12]);
    Ok(SigningKey {
        kid,
        private_key: pkcs8.as_ref().to_vec(),
        public_key,
        created_at: now,
        retired_at: None,
    })
}

/// One entry of `/oauth/jwks.json` (RFC 8037 OKP key).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub x: String,
    pub kid: String,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
}

/// The newest key, parsed once. `jsonwebtoken::encode` parses the PKCS#8 document again for every
/// token, and that derives the public key from the seed, which costs as much as the signature itself
/// (18 % of the token endpoint's time under load).
pub struct Signer {
    pub kid: String,
    pair: Ed25519KeyPair,
}

impl Signer {
    /// The compact JWS (RFC 7515 §7.1) of `header` and `claims`, signed with EdDSA: what
    /// `jsonwebtoken::encode` writes, byte for byte.
    pub fn sign<T: Serialize>(&self, header: &Header, claims: &T) -> Result<String, serde_json::Error> {
        let mut token = String::with_capacity(512);
        URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(header)?, &mut token);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(claims)?, &mut token);
        let signature = self.pair.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
        Ok(token)
    }
}

/// The keys in force: the newest signs, every key whose tokens may still be alive verifies.
pub struct KeyRing {
    pub signing: Option<Signer>,
    pub verifying: HashMap<String, DecodingKey>,
    pub jwks: Vec<Jwk>,
    /// How many keys the store had when this ring was built (a cheap change detector).
    pub generation: usize,
}

impl KeyRing {
    /// Keys retired longer ago than `token_ttl_ms` can no longer have live tokens and are left out.
    pub fn new(keys: &[SigningKey], now: i64, token_ttl_ms: i64) -> Self {
        let live: Vec<&SigningKey> =
            keys.iter().filter(|k| k.retired_at.is_none_or(|r| r + token_ttl_ms > now)).collect();
        let signing =
            keys.iter().filter(|k| k.retired_at.is_none()).max_by_key(|k| k.created_at).and_then(|k| {
                let pair = Ed25519KeyPair::from_pkcs8(&k.private_key).ok()?;
                Some(Signer { kid: k.kid.clone(), pair })
            });
        Self {
            signing,
            verifying: live
                .iter()
                .map(|k| (k.kid.clone(), DecodingKey::from_ed_der(&k.public_key)))
                .collect(),
            jwks: live
                .iter()
                .map(|k| Jwk {
                    kty: "OKP",
                    crv: "Ed25519",
                    x: URL_SAFE_NO_PAD.encode(&k.public_key),
                    kid: k.kid.clone(),
                    alg: "EdDSA",
                    use_: "sig",
                })
                .collect(),
            generation: keys.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Algorithm, EncodingKey};

    use super::*;

    #[test]
    fn signs_what_jsonwebtoken_signs_byte_for_byte() {
        let key = generate(0).unwrap();
        let ring = KeyRing::new(std::slice::from_ref(&key), 0, 1000);
        let signer = ring.signing.as_ref().unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some("at+jwt".into());
        header.kid = Some(key.kid.clone());
        let claims = serde_json::json!({"sub": "acme", "scope": "chat:read", "exp": 2_000_000_000_i64});
        let ours = signer.sign(&header, &claims).unwrap();
        let theirs =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(&key.private_key)).unwrap();
        // Ed25519 signatures are deterministic: the same key and message give the same token.
        assert_eq!(ours, theirs);
    }
}
