//! The `[api]` table: who may use the HTTP API and how it is reached. Bearer tokens with a
//! role (`read` or `admin`), the extra `Host` names the daemon answers to, and the TLS
//! certificate and key. Checked here with the `listen` address: a daemon that listens beyond
//! loopback must have tokens, and TLS unless the config says plain HTTP is meant.
//!
//! Tokens are kept only as their SHA-256 (compared in constant time by the API's guard), so
//! no `Debug` output or error can show one.

use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::secret::ConfigValue;
use crate::Error;

/// The shortest token accepted: 16 characters (128 bits as hex would be 32).
pub const MIN_TOKEN_LEN: usize = 16;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `GET` (and `HEAD`, `OPTIONS`) only.
    Read,
    /// Everything: starting and cancelling jobs, editing checks, reloading plugins.
    Admin,
}

impl Role {
    /// The role as the config and the API write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Admin => "admin",
        }
    }
}

/// One configured token: its name (for logs), its role and the SHA-256 of its value.
#[derive(Clone)]
pub struct ApiToken {
    /// The token's name (`name`), logged with the requests it makes; never the value.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// SHA-256 of the token's value.
    pub digest: [u8; 32],
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiToken")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// The API's TLS: the certificate chain and key files, loaded and checked when the config is
/// read.
#[derive(Clone)]
pub struct ApiTls {
    /// The certificate chain file (PEM).
    pub cert: PathBuf,
    /// The private key file (PEM).
    pub key: PathBuf,
    /// The server config built from them.
    pub server: Arc<tokio_rustls::rustls::ServerConfig>,
}

impl std::fmt::Debug for ApiTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiTls")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// The `[api]` table, checked.
#[derive(Debug, Clone, Default)]
pub struct ApiConfig {
    /// The bearer tokens; none means no authentication (allowed on loopback only).
    pub tokens: Vec<ApiToken>,
    /// `Host` names besides the loopback ones, each `NAME` (any port) or `NAME:PORT`,
    /// lowercase.
    pub allowed_hosts: Vec<String>,
    /// TLS, when configured.
    pub tls: Option<ApiTls>,
    /// `allow_plaintext`: a non-loopback listener without TLS was meant (a TLS proxy in
    /// front, on a private network).
    pub allow_plaintext: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApi {
    #[serde(default)]
    tokens: Vec<Spanned<RawToken>>,
    #[serde(default)]
    allowed_hosts: Vec<Spanned<String>>,
    tls: Option<Spanned<RawTls>>,
    allow_plaintext: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    name: Spanned<String>,
    role: Spanned<String>,
    token: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert: Spanned<String>,
    key: Spanned<String>,
}

/// Check the `[api]` table (`raw`, when written) against the `listen` address (`listen_span`:
/// where `listen` is written, when it is).
pub(super) fn api_config(
    raw: Option<&Spanned<RawApi>>,
    listen: SocketAddr,
    listen_span: Option<Range<usize>>,
    base: &Path,
    at: &impl Fn(&Range<usize>, &str, String) -> Error,
) -> Result<ApiConfig, Error> {
    let default = Spanned::new(0..0, RawApi::default());
    let raw = raw.unwrap_or(&default);
    let table = raw.get_ref();
    let mut tokens: Vec<ApiToken> = Vec::with_capacity(table.tokens.len());
    for (index, token) in table.tokens.iter().enumerate() {
        let key = format!("api.tokens[{index}]");
        let token = token.get_ref();
        let name = token.name.get_ref();
        if name.is_empty() || tokens.iter().any(|t| &t.name == name) {
            return Err(at(
                &token.name.span(),
                &format!("{key}.name"),
                format!(
                    "`{name}` is empty or names another token too; give each token its own name"
                ),
            ));
        }
        let role = match token.role.get_ref().as_str() {
            "read" => Role::Read,
            "admin" => Role::Admin,
            other => {
                return Err(at(
                    &token.role.span(),
                    &format!("{key}.role"),
                    format!(
                        "`{other}` is not a role; write \"read\" (GET only) or \"admin\" (everything)"
                    ),
                ));
            }
        };
        let value = ConfigValue::resolve(token.token.get_ref(), base)
            .map_err(|reason| at(&token.token.span(), &format!("{key}.token"), reason))?;
        let value = value.expose();
        let bad = |reason: &str| {
            at(
                &token.token.span(),
                &format!("{key}.token"),
                format!(
                    "{reason}; make one with e.g. `openssl rand -hex 32`, keep it in a file and write token = \"${{file:PATH}}\""
                ),
            )
        };
        if value.len() < MIN_TOKEN_LEN {
            return Err(bad(&format!(
                "the token is shorter than {MIN_TOKEN_LEN} characters"
            )));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad(
                "the token holds spaces, control or non-ASCII characters, which an HTTP header cannot carry",
            ));
        }
        let digest: [u8; 32] = Sha256::digest(value.as_bytes()).into();
        if tokens.iter().any(|t| t.digest == digest) {
            return Err(bad("the same token is configured twice"));
        }
        tokens.push(ApiToken {
            name: name.clone(),
            role,
            digest,
        });
    }
    let mut allowed_hosts = Vec::with_capacity(table.allowed_hosts.len());
    for host in &table.allowed_hosts {
        let name = host.get_ref().trim().to_ascii_lowercase();
        if !valid_host(&name) {
            return Err(at(
                &host.span(),
                "api.allowed_hosts",
                format!(
                    "`{}` is not a host name: write the name clients put in the URL, NAME or NAME:PORT (e.g. \"qualityd.example.com\" or \"10.0.0.5:8432\"), without a scheme or path",
                    host.get_ref()
                ),
            ));
        }
        allowed_hosts.push(name);
    }
    let tls = match &table.tls {
        Some(tls) => {
            let files = tls.get_ref();
            let cert = base.join(files.cert.get_ref());
            let key = base.join(files.key.get_ref());
            let server = crate::api::tls::server_config(&cert, &key)
                .map_err(|reason| at(&tls.span(), "api.tls", reason))?;
            Some(ApiTls { cert, key, server })
        }
        None => None,
    };
    let allow_plaintext = table.allow_plaintext.as_ref().is_some_and(|p| *p.get_ref());
    if !listen.ip().is_loopback() {
        // The default address is loopback: a non-loopback one is always written.
        let span = listen_span.unwrap_or(0..0);
        let refuse = |reason: String| at(&span, "listen", reason);
        if tokens.is_empty() {
            return Err(refuse(format!(
                "{listen} is not a loopback address, and the API has no tokens: anyone who reaches it could run jobs and read profiles. Add tokens ([[api.tokens]] with name, role = \"admin\" or \"read\", token = \"${{file:PATH}}\"), or listen on 127.0.0.1"
            )));
        }
        if tls.is_none() && !allow_plaintext {
            return Err(refuse(format!(
                "{listen} is not a loopback address, and the API has no TLS: tokens and profiles would cross the network in clear. Add [api.tls] with cert and key (PEM files), or set api.allow_plaintext = true if a TLS proxy or a private network is in front"
            )));
        }
    }
    Ok(ApiConfig {
        tokens,
        allowed_hosts,
        tls,
        allow_plaintext,
    })
}

/// Whether `host` is `NAME`, `NAME:PORT`, `[IPV6]` or `[IPV6]:PORT` (lowercase).
fn valid_host(host: &str) -> bool {
    let (name, port) = split_host(host);
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok());
    let name_ok = match name.strip_prefix('[') {
        Some(v6) => v6
            .strip_suffix(']')
            .is_some_and(|v6| v6.parse::<std::net::Ipv6Addr>().is_ok()),
        None => {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        }
    };
    port_ok && name_ok
}

/// `host` as its name and its port, when it has one: `[::1]:80` → (`[::1]`, `80`).
pub fn split_host(host: &str) -> (&str, Option<&str>) {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => {
                let (name, rest) = host.split_at(end + 1);
                (name, rest.strip_prefix(':'))
            }
            None => (host, None),
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    }
}
