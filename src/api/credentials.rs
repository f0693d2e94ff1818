//! Secrets kept as SHA-256 digests, compared in constant time, and random bearer tokens.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::base64;
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

/// Accepted keys, kept as digests. Every key is compared, so the time taken does not tell
/// which one matched or how far a guess got.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyRing(Vec<SecretDigest>);

impl KeyRing {
    /// A ring accepting `keys`; empty keys are never accepted.
    pub(crate) fn new<'a>(keys: impl IntoIterator<Item = &'a String>) -> Self {
        Self(
            keys.into_iter()
                .filter(|key| !key.is_empty())
                .map(|key| SecretDigest::of(key))
                .collect(),
        )
    }

    /// Whether `candidate` is one of the keys.
    pub(crate) fn accepts(&self, candidate: &str) -> bool {
        self.0
            .iter()
            .fold(false, |found, digest| digest.matches(candidate) | found)
    }
}

/// The user and password of an HTTP Basic `Authorization` header value.
pub(crate) fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64::decode(encoded.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// A fresh random bearer token (122 random bits, UUID-formatted as Arrigoo's are).
pub(crate) fn random_token() -> String {
    Uuid::new_v4().hyphenated().to_string()
}

/// Tokens issued to clients, kept by digest, each with its grant and expiry.
#[derive(Debug)]
pub(crate) struct TokenStore<G> {
    tokens: HashMap<SecretDigest, (G, Timestamp)>,
    sweep_at: usize,
}

/// The store size below which expired tokens are not swept.
const MIN_SWEEP: usize = 1_024;

impl<G> Default for TokenStore<G> {
    fn default() -> Self {
        Self {
            tokens: HashMap::new(),
            sweep_at: MIN_SWEEP,
        }
    }
}

impl<G: Clone> TokenStore<G> {
    /// Issues a new token for `grant` at `now`, valid until `expiry`. Tokens expired by
    /// `now` are forgotten whenever the store has doubled since the last sweep, so a store
    /// under steady log-ins stays proportional to its live tokens.
    pub(crate) fn issue(&mut self, grant: G, now: Timestamp, expiry: Timestamp) -> String {
        if self.tokens.len() >= self.sweep_at {
            self.tokens.retain(|_, (_, until)| *until > now);
            self.sweep_at = (self.tokens.len() * 2).max(MIN_SWEEP);
        }
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
    fn basic_header_is_decoded_into_user_and_password() {
        assert_eq!(
            basic_credentials("Basic dDE6czE="),
            Some(("t1".into(), "s1".into()))
        );
        assert_eq!(
            basic_credentials("basic YXBpa2V5Og"),
            Some(("apikey".into(), String::new()))
        );
        assert_eq!(basic_credentials("Bearer dDE6czE="), None);
        assert_eq!(basic_credentials("Basic !!"), None);
        assert_eq!(basic_credentials("Basic dDE="), None, "no colon");
    }

    #[test]
    fn key_ring_accepts_only_its_keys() {
        let ring = KeyRing::new(&["a".to_owned(), String::new()]);
        assert!(ring.accepts("a"));
        assert!(!ring.accepts(""));
        assert!(!ring.accepts("b"));
    }

    #[test]
    fn expired_tokens_are_swept_as_new_ones_are_issued() {
        let mut store = TokenStore::default();
        let now = Timestamp::from_millis(0);
        for _ in 0..MIN_SWEEP {
            store.issue((), now, now.plus_seconds(1));
        }
        let later = now.plus_seconds(2);
        let live = store.issue((), later, later.plus_seconds(60));
        assert_eq!(store.tokens.len(), 1);
        assert_eq!(store.check(&live, later), Some(()));
    }

    #[test]
    fn tokens_expire() {
        let mut store = TokenStore::default();
        let now = Timestamp::from_millis(1_000);
        let token = store.issue("admin", now, now.plus_seconds(60));
        assert_ne!(token, store.issue("admin", now, now.plus_seconds(60)));
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
