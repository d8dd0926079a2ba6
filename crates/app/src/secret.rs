//! Secrets: opaque tokens (sessions, single-use links) and passwords.
//!
//! A token is 32 random bytes shown to its holder once, base64url-encoded;
//! only its SHA-256 is stored ([`TokenHash`]). Passwords are hashed with
//! Argon2id off the async threads.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ferry_ports::records::TokenHash;
use sha2::{Digest, Sha256};

use crate::AppError;

/// A secret token in the holder's hands. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    /// A new random token.
    ///
    /// # Panics
    /// If the operating system has no randomness to give (nothing can be secure then).
    #[must_use]
    pub fn mint() -> Self {
        let mut raw = [0_u8; 32];
        getrandom::fill(&mut raw).expect("the operating system's random number generator failed");
        Self(URL_SAFE_NO_PAD.encode(raw))
    }

    /// A token as presented by a caller.
    #[must_use]
    pub fn from_presented(raw: &str) -> Self {
        Self(raw.trim().to_owned())
    }

    /// The token, to hand to its holder (in a cookie, a response, a link).
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What is stored in its place.
    #[must_use]
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// A value derived from the token for a second purpose (such as the CSRF
    /// token of a cookie session): knowing it does not reveal the token.
    #[must_use]
    pub fn derive(&self, purpose: &str) -> String {
        let mut digest = Sha256::new();
        digest.update(purpose.as_bytes());
        digest.update([0]);
        digest.update(self.0.as_bytes());
        URL_SAFE_NO_PAD.encode(digest.finalize())
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(<redacted>)")
    }
}

/// How passwords are hashed and what a new password must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Argon2id memory in KiB (OWASP: 19 MiB).
    pub memory_kib: u32,
    /// Argon2id passes (OWASP: 2).
    pub iterations: u32,
    /// Argon2id lanes (OWASP: 1).
    pub parallelism: u32,
    /// The fewest characters a new password may have.
    pub min_chars: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1, min_chars: 10 }
    }
}

/// The longest password accepted (longer input is refused before hashing,
/// so nobody can make the server hash megabytes).
pub(crate) const MAX_PASSWORD_CHARS: usize = 256;

impl PasswordPolicy {
    fn argon2(&self) -> Result<Argon2<'static>, AppError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| AppError::Internal(format!("argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Checks a new password: long enough, not absurdly long, not the email address.
    pub(crate) fn check_new(&self, password: &str, email: &str) -> Result<(), AppError> {
        let chars = password.chars().count();
        let invalid = |message: String| AppError::invalid("password", message);
        if chars < self.min_chars {
            return Err(invalid(format!("password must have at least {} characters", self.min_chars)));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(invalid(format!("password must have at most {MAX_PASSWORD_CHARS} characters")));
        }
        if password.trim().eq_ignore_ascii_case(email) {
            return Err(invalid("password must not be your email address".to_owned()));
        }
        Ok(())
    }

    /// Hashes `password` into a PHC string, on a blocking thread.
    pub(crate) async fn hash(&self, password: String) -> Result<String, AppError> {
        let argon2 = self.argon2()?;
        tokio::task::spawn_blocking(move || {
            let mut salt = [0_u8; 16];
            getrandom::fill(&mut salt).map_err(|e| AppError::Internal(format!("randomness: {e}")))?;
            let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(format!("salt: {e}")))?;
            argon2
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| AppError::Internal(format!("hashing: {e}")))
        })
        .await
        .map_err(|e| AppError::Internal(format!("hashing task: {e}")))?
    }

    /// Whether `password` matches the PHC string `phc`, on a blocking thread.
    /// With no stored hash it spends the same time and answers false, so
    /// response times do not tell which accounts exist.
    pub(crate) async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, AppError> {
        let argon2 = self.argon2()?;
        let policy = *self;
        tokio::task::spawn_blocking(move || match phc {
            Some(phc) => {
                let parsed = PasswordHash::new(&phc).map_err(|e| AppError::Internal(format!("stored hash: {e}")))?;
                Ok(argon2.verify_password(password.as_bytes(), &parsed).is_ok())
            }
            None => {
                let salt = SaltString::encode_b64(b"ferry-dummy-salt").expect("a valid salt");
                let _ = policy.argon2().map(|a| a.hash_password(password.as_bytes(), &salt).is_ok());
                Ok(false)
            }
        })
        .await
        .map_err(|e| AppError::Internal(format!("hashing task: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> PasswordPolicy {
        PasswordPolicy { memory_kib: 64, iterations: 1, ..PasswordPolicy::default() }
    }

    #[test]
    fn tokens_are_random_and_hash_stably() {
        let a = SecretToken::mint();
        let b = SecretToken::mint();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
        assert_eq!(a.hash(), SecretToken::from_presented(a.expose()).hash());
        assert_ne!(a.hash(), b.hash());
        assert_ne!(a.derive("csrf"), a.expose());
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let policy = quick();
        let phc = policy.hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(policy.verify("correct horse battery".into(), Some(phc.clone())).await.unwrap());
        assert!(!policy.verify("wrong horse battery".into(), Some(phc)).await.unwrap());
        assert!(!policy.verify("anything at all".into(), None).await.unwrap());
    }

    #[test]
    fn new_passwords_are_checked() {
        let policy = PasswordPolicy::default();
        assert!(policy.check_new("short", "a@b.c").is_err());
        assert!(policy.check_new(&"x".repeat(MAX_PASSWORD_CHARS + 1), "a@b.c").is_err());
        assert!(policy.check_new("ada@example.com", "ada@example.com").is_err());
        assert!(policy.check_new("a long enough passphrase", "ada@example.com").is_ok());
    }
}
