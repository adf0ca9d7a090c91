//! Secret values a datastore's settings hold, scrubbed from whatever its plugin says before
//! qualityd logs or stores it: log lines, last words, error messages, scan results. A plugin
//! sees its secrets (it needs them to connect); nothing it echoes back carries them further.
//!
//! Texts are scrubbed whole and only then cut to length, so a cut never leaves half a secret;
//! a text that arrives already cut (a line past its cap) loses any tail that could begin a
//! secret. Text bound for the log is made one line ([`one_line`]) so that a plugin cannot
//! forge log lines with its own newlines.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::config::REDACTED;

/// Values shorter than this are not scrubbed: replacing `1` or `ab` everywhere would mangle
/// every message, and so short a secret protects nothing.
const SHORTEST_SECRET: usize = 4;

/// The secret values of one datastore, or of every datastore a job touched.
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
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Redactor {
            secrets: secrets.into(),
        }
    }

    /// One redactor of the secrets of all `redactors`: for what a job says after it read
    /// several datastores (a scan comparing with another datastore's container).
    pub fn union<'r>(redactors: impl IntoIterator<Item = &'r Redactor>) -> Self {
        Redactor::new(
            redactors
                .into_iter()
                .flat_map(|r| r.secrets.iter().cloned()),
        )
    }

    /// The length in bytes of the longest secret (0 when there is none).
    pub fn longest(&self) -> usize {
        self.secrets.first().map_or(0, String::len)
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

    /// As [`Redactor::scrub`], for a text whose end was cut off before it got here (a line
    /// past its cap): its last characters may be the start of a secret whose rest was cut,
    /// so any tail that begins a secret is dropped too.
    pub fn scrub_cut<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let scrubbed = self.scrub(text);
        let dangling = self
            .secrets
            .iter()
            .filter_map(|secret| {
                // The longest tail of the text that is a proper prefix of this secret.
                (1..secret.len().min(scrubbed.len() + 1))
                    .rev()
                    .filter(|&n| secret.is_char_boundary(n))
                    .find(|&n| scrubbed.ends_with(&secret[..n]))
            })
            .max();
        match dangling {
            None => scrubbed,
            Some(n) => {
                let keep = scrubbed.len() - n;
                Cow::Owned(scrubbed[..keep].to_owned())
            }
        }
    }

    /// `text` scrubbed, made one line and cut to `max_chars` characters: what a plugin said,
    /// ready for the log.
    pub fn log_line(&self, text: &str, max_chars: usize) -> String {
        cut(&one_line(&self.scrub(text)), max_chars)
    }
}

/// `text` on one line: line breaks and other control characters written as escapes (`\n`,
/// `\r`, `\t`, `\u{1b}`), so that what a plugin sends cannot start a line of the log that
/// looks like the daemon's own, nor move the cursor of a terminal showing it.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut line = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            '\t' => line.push_str("\\t"),
            c if c.is_control() => line.push_str(&c.escape_unicode().to_string()),
            c => line.push(c),
        }
    }
    Cow::Owned(line)
}

/// The first `max_chars` characters of `text`.
pub fn cut(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => text[..at].to_owned(),
        None => text.to_owned(),
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

    #[test]
    fn a_union_scrubs_every_datastores_secrets() {
        let one = Redactor::new(["first-secret".into()]);
        let two = Redactor::new(["second-secret".into()]);
        let both = Redactor::union([&one, &two]);
        assert_eq!(
            both.scrub("first-secret, second-secret"),
            "[redacted], [redacted]"
        );
        assert_eq!(both.longest(), "second-secret".len());
    }

    #[test]
    fn a_cut_never_leaves_the_start_of_a_secret() {
        let redactor = Redactor::new(["Zq9-top-secret".into()]);
        // Cut after scrubbing: the whole secret is gone, the cut falls in `[redacted]`.
        let line = redactor.log_line(&format!("{}Zq9-top-secret", "x".repeat(10)), 12);
        assert_eq!(line, "xxxxxxxxxx[r");
        // A text cut before it arrived: its tail that starts the secret goes too.
        assert_eq!(redactor.scrub_cut("abc Zq9-to"), "abc ");
        assert_eq!(redactor.scrub_cut("abc Zq9-top-secret"), "abc [redacted]");
        assert_eq!(redactor.scrub_cut("abc Z-"), "abc Z-");
    }

    #[test]
    fn log_lines_cannot_break_the_line() {
        let redactor = Redactor::default();
        assert_eq!(
            redactor.log_line("one\nFORGED two\r\u{1b}[2J", 100),
            "one\\nFORGED two\\r\\u{1b}[2J"
        );
        assert!(matches!(one_line("plain text"), Cow::Borrowed(_)));
    }
}
