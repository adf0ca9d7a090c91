//! Secrets in qualityd.toml: a setting may hold `${env:NAME}` or `${file:PATH}` references,
//! resolved when the config is read. The resolved value goes to the plugin only; everything
//! that prints or stores a setting uses its redacted form, which keeps the references as
//! written and never the values behind them.

use std::fmt;
use std::path::Path;

/// A setting's value from the config: what the plugin gets, and what may be shown.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigValue {
    resolved: String,
    /// The text as written, when it held a reference (so the value is a secret).
    template: Option<String>,
    /// What each reference resolved to: the secret parts of `resolved`.
    secrets: Vec<String>,
}

impl ConfigValue {
    /// A value written in clear in the config.
    pub fn plain(value: impl Into<String>) -> Self {
        ConfigValue {
            resolved: value.into(),
            template: None,
            secrets: Vec::new(),
        }
    }

    /// Resolve the references in `text`; relative `${file:...}` paths are read from `base`.
    /// The error says which reference failed and what to do.
    pub fn resolve(text: &str, base: &Path) -> Result<Self, String> {
        if !text.contains("${") {
            return Ok(ConfigValue::plain(text));
        }
        let mut resolved = String::with_capacity(text.len());
        let mut secrets = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            resolved.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("`{}` has no closing `}}`", &rest[start..]))?;
            let secret = lookup(&after[..end], base)?;
            resolved.push_str(&secret);
            secrets.push(secret);
            rest = &after[end + 1..];
        }
        resolved.push_str(rest);
        Ok(ConfigValue {
            resolved,
            template: Some(text.to_owned()),
            secrets,
        })
    }

    /// The value the plugin is given. Never print it: use [`ConfigValue::redacted`].
    pub fn expose(&self) -> &str {
        &self.resolved
    }

    /// The values to keep out of logs and the store: what its references resolved to, or the
    /// whole value when the plugin declares the setting `secret`.
    pub fn secret_values(&self, declared_secret: bool) -> Vec<String> {
        match declared_secret {
            true => vec![self.resolved.clone()],
            false => self.secrets.clone(),
        }
    }

    /// Whether the value came from a secret reference.
    pub fn is_secret(&self) -> bool {
        self.template.is_some()
    }

    /// What may be shown and stored: the text as written in the config, with its references.
    /// A value written in clear is shown as it is unless `secret` (the plugin declared the
    /// setting secret), when it is replaced by `[redacted]`.
    pub fn redacted(&self, secret: bool) -> String {
        match (&self.template, secret) {
            (Some(template), _) => template.clone(),
            (None, true) => REDACTED.to_owned(),
            (None, false) => self.resolved.clone(),
        }
    }
}

/// What a secret written in clear is shown as.
pub const REDACTED: &str = "[redacted]";

/// Debug output never holds a resolved secret.
impl fmt::Debug for ConfigValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.template {
            Some(template) => write!(f, "{template:?}"),
            None => write!(f, "{:?}", self.resolved),
        }
    }
}

fn lookup(reference: &str, base: &Path) -> Result<String, String> {
    match reference.split_once(':') {
        Some(("env", name)) if !name.is_empty() => std::env::var(name).map_err(|_| {
            format!("`${{env:{name}}}`: the environment variable {name} is not set; export it before starting qualityd")
        }),
        Some(("file", path)) if !path.is_empty() => {
            let full = base.join(path);
            std::fs::read_to_string(&full)
                .map(|text| text.trim_end_matches(['\n', '\r']).to_owned())
                .map_err(|e| {
                    format!("`${{file:{path}}}`: cannot read {}: {e}", full.display())
                })
        }
        _ => Err(format!(
            "`${{{reference}}}` is not a reference qualityd knows: write `${{env:NAME}}` or `${{file:PATH}}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_and_stay_redacted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "s3cret\n").unwrap();
        // SAFETY: this test is the only user of this variable's name.
        unsafe { std::env::set_var("QUALITYD_TEST_SECRET_USER", "alice") };
        let value =
            ConfigValue::resolve("${env:QUALITYD_TEST_SECRET_USER}:${file:pw}@db", dir.path())
                .unwrap();
        assert_eq!(value.expose(), "alice:s3cret@db");
        assert!(value.is_secret());
        assert_eq!(
            value.redacted(false),
            "${env:QUALITYD_TEST_SECRET_USER}:${file:pw}@db"
        );
        let debug = format!("{value:?}");
        assert!(
            !debug.contains("s3cret") && !debug.contains("alice"),
            "{debug}"
        );
    }

    #[test]
    fn plain_values_are_shown_unless_declared_secret() {
        let value = ConfigValue::resolve("orders.csv", Path::new("/")).unwrap();
        assert!(!value.is_secret());
        assert_eq!(value.redacted(false), "orders.csv");
        assert_eq!(value.redacted(true), REDACTED);
    }

    #[test]
    fn bad_references_say_what_to_write() {
        let base = Path::new("/");
        let missing = ConfigValue::resolve("${env:QUALITYD_TEST_NOT_SET_ANYWHERE}", base);
        assert!(missing.unwrap_err().contains("is not set"));
        let unknown = ConfigValue::resolve("${vault:x}", base).unwrap_err();
        assert!(unknown.contains("${env:NAME}"), "{unknown}");
        let open = ConfigValue::resolve("a${env:X", base).unwrap_err();
        assert!(open.contains("no closing"), "{open}");
        let file = ConfigValue::resolve("${file:/no/such/file}", base).unwrap_err();
        assert!(file.contains("/no/such/file"), "{file}");
    }
}
