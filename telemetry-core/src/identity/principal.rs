//! The id sent for a linked account: never the account id itself, a keyed hash of it.
//!
//! A host links with the account's opaque id (`acct_7f3b2a8c`, a UUID, an IdP subject). Two
//! guards keep what it passes off the wire:
//!
//! 1. **Shape.** Values shaped like what the never-sent list names are refused: e-mail
//!    addresses (`@`), URLs (`://`, `www.`), paths (`/`, `\`, a leading `~`), anything with
//!    whitespace or control characters, and anything longer than [`MAX_PRINCIPAL_LEN`] bytes
//!    (tokens, JWTs). A refused value links nothing.
//! 2. **Hash.** What passes is sent as [`PrincipalId`]: `p_` and the hex of the first 16 bytes
//!    of SHA-256(project key ‖ 0x00 ‖ account id). Keyed by the PostHog project key events are
//!    sent with, so one account gets one id on every machine of the product (aliasing still
//!    merges its devices) and a different id in every other product; the id cannot be turned
//!    back into the account id. A user name that passes the shape check is sent only hashed, too.
//!
//! The project key is embedded in the program, so this is pseudonymisation, not anonymity:
//! someone who has the program and guesses an account id can compute its id. What it gives is
//! that no account id, e-mail address or user name is ever in a request or in the analytics
//! store, and ids of different products cannot be joined. A product's own backend computes the
//! same id with [`PrincipalId::derive`] to attribute server-side events to the same person.

use sha2::{Digest, Sha256};

/// The longest account id accepted, in bytes: an opaque id fits (a UUID is 36); tokens and
/// JWTs do not.
pub const MAX_PRINCIPAL_LEN: usize = 64;

/// The prefix of every [`PrincipalId`].
const PREFIX: &str = "p_";

/// How many bytes of the SHA-256 digest are kept (128 bits: no collisions among accounts).
const HASH_BYTES: usize = 16;

/// Why an account id was refused (the value itself is never repeated: it may be personal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrincipalError {
    /// Empty.
    #[error("the account id is empty")]
    Empty,
    /// Longer than [`MAX_PRINCIPAL_LEN`].
    #[error("the account id is longer than {MAX_PRINCIPAL_LEN} bytes (a token?)")]
    TooLong,
    /// Holds whitespace or control characters.
    #[error("the account id holds whitespace or control characters")]
    Whitespace,
    /// Shaped like an e-mail address.
    #[error("the account id looks like an e-mail address")]
    Email,
    /// Shaped like a URL.
    #[error("the account id looks like a URL")]
    Url,
    /// Shaped like a file path.
    #[error("the account id looks like a file path")]
    Path,
}

/// Checks that `principal` is shaped like an opaque account id (see the module documentation).
pub fn check_principal(principal: &str) -> Result<(), PrincipalError> {
    if principal.is_empty() {
        return Err(PrincipalError::Empty);
    }
    if principal.len() > MAX_PRINCIPAL_LEN {
        return Err(PrincipalError::TooLong);
    }
    if principal
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(PrincipalError::Whitespace);
    }
    if principal.contains('@') {
        return Err(PrincipalError::Email);
    }
    let lower = principal.to_ascii_lowercase();
    if lower.contains("://") || lower.starts_with("www.") {
        return Err(PrincipalError::Url);
    }
    if principal.contains(['/', '\\']) || principal.starts_with('~') {
        return Err(PrincipalError::Path);
    }
    Ok(())
}

/// The id a linked account is sent as: `p_` and 32 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PrincipalId(String);

impl PrincipalId {
    /// The id of the account `principal` in the product whose PostHog project key is
    /// `project_key`; refused when `principal` is not shaped like an opaque account id.
    ///
    /// ```
    /// use telemetry_core::PrincipalId;
    ///
    /// let id = PrincipalId::derive("phc_example", "acct_7f3b2a8c").unwrap();
    /// assert!(id.as_str().starts_with("p_"));
    /// assert_eq!(id.as_str().len(), 34);
    /// assert!(PrincipalId::derive("phc_example", "alice@example.com").is_err());
    /// ```
    pub fn derive(project_key: &str, principal: &str) -> Result<Self, PrincipalError> {
        check_principal(principal)?;
        let digest = Sha256::new()
            .chain_update(project_key.as_bytes())
            .chain_update([0u8])
            .chain_update(principal.as_bytes())
            .finalize();
        let mut id = String::with_capacity(PREFIX.len() + 2 * HASH_BYTES);
        id.push_str(PREFIX);
        for byte in &digest[..HASH_BYTES] {
            id.push(hex_digit(byte >> 4));
            id.push(hex_digit(byte & 0x0f));
        }
        Ok(Self(id))
    }

    /// The id, as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `text` has the shape of an id this module makes (what a stored link must be).
    fn is_well_formed(text: &str) -> bool {
        // the digits before the length: with the length known first, the check of every digit
        // is unrolled 32 times
        text.strip_prefix(PREFIX).is_some_and(|hex| {
            hex.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                && hex.len() == 2 * HASH_BYTES
        })
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).unwrap_or('0')
}

impl std::fmt::Display for PrincipalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored link that is not a hashed id: an older version stored the account id itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "its linked id is not a hashed id (an older version stored the account id itself); it is replaced by a new anonymous ID"
)]
pub struct NotAPrincipalId;

impl TryFrom<String> for PrincipalId {
    type Error = NotAPrincipalId;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        if Self::is_well_formed(&text) {
            Ok(Self(text))
        } else {
            Err(NotAPrincipalId)
        }
    }
}

impl From<PrincipalId> for String {
    fn from(id: PrincipalId) -> Self {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_ids_pass_personal_shapes_do_not() {
        for ok in [
            "acct_7f3b2a8c",
            "user-42",
            "7f3b2a8c-1d2e-4f5a-9b8c-0d1e2f3a4b5c",
            "auth0|5f7c8ec7c33c6c004bbafe82",
            "google-oauth2|109876543210987654321",
            &"a".repeat(MAX_PRINCIPAL_LEN),
        ] {
            assert_eq!(check_principal(ok), Ok(()), "{ok}");
        }
        let refused = [
            ("", PrincipalError::Empty),
            ("alice@example.com", PrincipalError::Email),
            ("alice@corp", PrincipalError::Email),
            ("https://id.example.com/u/1", PrincipalError::Url),
            ("www.example.com", PrincipalError::Url),
            ("/home/alice", PrincipalError::Path),
            ("C:\\Users\\alice", PrincipalError::Path),
            ("~alice", PrincipalError::Path),
            ("acme/alice", PrincipalError::Path),
            ("alice smith", PrincipalError::Whitespace),
            (" ", PrincipalError::Whitespace),
            ("a\nb", PrincipalError::Whitespace),
            ("a\u{0}b", PrincipalError::Whitespace),
        ];
        for (value, why) in refused {
            assert_eq!(check_principal(value), Err(why), "{value:?}");
        }
        let jwt = format!("eyJhbGciOiJIUzI1NiJ9.{}", "x".repeat(80));
        assert_eq!(check_principal(&jwt), Err(PrincipalError::TooLong));
        // the refusal never repeats the value
        assert!(!PrincipalError::Email.to_string().contains("alice"));
    }

    #[test]
    fn the_id_is_a_keyed_hash() {
        let id = PrincipalId::derive("phc_a", "user-42").unwrap();
        // p_ + hex(SHA-256("phc_a" ‖ 0x00 ‖ "user-42")[..16]), computed independently:
        // printf 'phc_a\0user-42' | sha256sum | cut -c1-32
        assert_eq!(id.as_str(), "p_03582d0d8e98ea5eb82ff9df5e39cdd0");
        assert!(PrincipalId::is_well_formed(id.as_str()));
        assert_eq!(id, PrincipalId::derive("phc_a", "user-42").unwrap());
        assert_ne!(id, PrincipalId::derive("phc_b", "user-42").unwrap());
        assert_ne!(id, PrincipalId::derive("phc_a", "user-43").unwrap());
        assert!(!id.as_str().contains("user"));
        assert_eq!(
            PrincipalId::derive("phc_a", "a@b.c"),
            Err(PrincipalError::Email)
        );
    }

    #[test]
    fn only_hashed_ids_are_read_back() {
        let id = PrincipalId::derive("phc_a", "user-42").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<PrincipalId>(&json).unwrap(), id);
        for legacy in [
            "\"user-42\"",
            "\"alice@example.com\"",
            "\"p_XYZ\"",
            "\"p_03582D0D8E98EA5EB82FF9DF5E39CDD0\"",
        ] {
            assert!(
                serde_json::from_str::<PrincipalId>(legacy).is_err(),
                "{legacy}"
            );
        }
    }
}
