//! Secret values a datastore's settings hold, scrubbed from whatever its plugin says before
//! qualityd logs or stores it: log lines, last words, error messages. A plugin sees its
//! secrets (it needs them to connect); nothing it echoes back carries them further.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::config::REDACTED;

/// Values shorter than this are not scrubbed: replacing `1` or `ab` everywhere would mangle
/// every message, and so short a secret protects nothing.
const SHORTEST_SECRET: usize = 4;

/// The secret values of one datastore.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<[String]>,
}

impl Redactor {
    /// A redactor of `secrets`, longest first (so a secret inside another is not half-cut).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.len() >= SHORTEST_SECRET)
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor {
            secrets: secrets.into(),
        }
    }

    /// `text` with every secret value replaced by `[redacted]`.
    pub fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut text = Cow::Borrowed(text);
        for secret in self.secrets.iter() {
            if text.contains(secret.as_str()) {
                text = Cow::Owned(text.replace(secret.as_str(), REDACTED));
            }
        }
        text
    }
}

/// Never the values: how many there are.
impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_longest_first_and_never_printed() {
        let redactor = Redactor::new(["s3cret".into(), "s3cret-and-more".into(), "ab".into()]);
        assert_eq!(
            redactor.scrub("login s3cret-and-more, then s3cret; ab stays"),
            "login [redacted], then [redacted]; ab stays"
        );
        assert!(matches!(redactor.scrub("nothing here"), Cow::Borrowed(_)));
        assert_eq!(format!("{redactor:?}"), "Redactor(2 secrets)");
    }
}
