//! Secrets kept as SHA-256 digests, compared in constant time, and random bearer tokens.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::model::Timestamp;

/// A SHA-256 digest of a secret or token; the plain text is never kept.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct SecretDigest([u8; 32]);

impl SecretDigest {
    /// The digest of `secret`.
    pub(crate) fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// Compares with the digest of `candidate` in time independent of where they differ.
    pub(crate) fn matches(&self, candidate: &str) -> bool {
        let other = Self::of(candidate);
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
    }
}

/// A fresh random bearer token (122 random bits, UUID-formatted as Arrigoo's are).
pub(crate) fn random_token() -> String {
    Uuid::new_v4().hyphenated().to_string()
}

/// Tokens issued to clients, kept by digest, each with its grant and expiry.
#[derive(Debug)]
pub(crate) struct TokenStore<G> {
    tokens: HashMap<SecretDigest, (G, Timestamp)>,
}

impl<G> Default for TokenStore<G> {
    fn default() -> Self {
        Self {
            tokens: HashMap::new(),
        }
    }
}

impl<G: Clone> TokenStore<G> {
    /// Issues a new token for `grant`, valid until `expiry`.
    pub(crate) fn issue(&mut self, grant: G, expiry: Timestamp) -> String {
        let token = random_token();
        self.tokens
            .insert(SecretDigest::of(&token), (grant, expiry));
        token
    }

    /// The grant of a token that is known and not expired at `now`. Expired tokens are
    /// forgotten as they are met.
    pub(crate) fn check(&mut self, token: &str, now: Timestamp) -> Option<G> {
        let digest = SecretDigest::of(token);
        match self.tokens.get(&digest) {
            Some((grant, expiry)) if *expiry > now => Some(grant.clone()),
            Some(_) => {
                self.tokens.remove(&digest);
                None
            }
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_only_its_secret() {
        let digest = SecretDigest::of("s3cret");
        assert!(digest.matches("s3cret"));
        assert!(!digest.matches("s3cret "));
        assert!(!digest.matches(""));
    }

    #[test]
    fn tokens_expire() {
        let mut store = TokenStore::default();
        let now = Timestamp::from_millis(1_000);
        let token = store.issue("admin", now.plus_seconds(60));
        assert_ne!(token, store.issue("admin", now.plus_seconds(60)));
        assert_eq!(store.check(&token, now), Some("admin"));
        assert_eq!(store.check(&token, now.plus_seconds(60)), None);
        assert_eq!(
            store.check(&token, now),
            None,
            "an expired token is forgotten"
        );
        assert_eq!(store.check("forged", now), None);
    }
}
