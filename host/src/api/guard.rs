//! The API's guard, in front of every route: the `Host` (and `Origin`) allow-list against DNS
//! rebinding, bearer tokens and their roles, and `Content-Type: application/json` on every
//! write so that no web page can reach one with a form or a simple request. The model is in
//! `docs/SECURITY.md`, "The HTTP API".
//!
//! Order: `Host` (421), `Origin` (403), token (401, then 403 for a `read` token that writes),
//! content type of a write (415). No CORS header is ever added.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::config::{ApiConfig, ApiToken, Role, split_host};

/// Paths anyone who passes the `Host` check may `GET` without a token: liveness and
/// readiness probes.
pub(super) const PROBES: [&str; 2] = ["/healthz", "/readyz"];

/// What the guard checks requests against.
#[derive(Debug)]
pub struct Guard {
    /// Allowed `Host` names, each with its port or `None` for any port.
    hosts: Vec<(String, Option<u16>)>,
    tokens: Vec<ApiToken>,
    /// The port a `Host` without one means: 443 with TLS, 80 without.
    default_port: u16,
}

impl Guard {
    /// The guard of a daemon listening on `address` (the bound one: its real port), with
    /// the `[api]` table `api`.
    pub fn new(api: &ApiConfig, address: SocketAddr) -> Guard {
        let port = address.port();
        let mut hosts: Vec<(String, Option<u16>)> = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .map(|name| (name.to_string(), Some(port)))
            .collect();
        // The address itself, when it is one (not 0.0.0.0 or [::]): a client that uses the IP.
        if !address.ip().is_unspecified() && !address.ip().is_loopback() {
            let name = match address.ip() {
                IpAddr::V4(ip) => ip.to_string(),
                IpAddr::V6(ip) => format!("[{ip}]"),
            };
            hosts.push((name, Some(port)));
        }
        for host in &api.allowed_hosts {
            let (name, port) = split_host(host);
            hosts.push((name.to_owned(), port.and_then(|p| p.parse().ok())));
        }
        Guard {
            hosts,
            tokens: api.tokens.clone(),
            default_port: if api.tls.is_some() { 443 } else { 80 },
        }
    }

    /// Whether `authority` (`NAME[:PORT]`, as in `Host`) is one this daemon answers to;
    /// `default_port` is what no port means.
    fn allows(&self, authority: &str, default_port: u16) -> bool {
        let authority = authority.trim().to_ascii_lowercase();
        let (name, port) = split_host(&authority);
        let name = name.strip_suffix('.').unwrap_or(name);
        let port = match port {
            Some(port) => match port.parse::<u16>() {
                Ok(port) => port,
                Err(_) => return false,
            },
            None => default_port,
        };
        self.hosts.iter().any(|(allowed, allowed_port)| {
            allowed == name && allowed_port.is_none_or(|p| p == port)
        })
    }

    /// The token `presented` is, compared with every configured one in constant time (the
    /// SHA-256 of each side, so the length of a token shows no more than its content).
    fn token(&self, presented: &str) -> Option<&ApiToken> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for token in &self.tokens {
            let difference =
                (token.digest.iter().zip(digest.iter())).fold(0u8, |d, (a, b)| d | (a ^ b));
            // No early exit: every token is compared whatever matched.
            if std::hint::black_box(difference) == 0 {
                found = Some(token);
            }
        }
        found
    }
}

/// Whether `method` changes anything: everything but `GET`, `HEAD` and `OPTIONS`.
fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The guard as an axum middleware.
pub async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    match refusal(&guard, &request) {
        None => next.run(request).await,
        Some(refusal) => refusal,
    }
}

/// The answer refusing `request`, or `None` when it may pass.
fn refusal(guard: &Guard, request: &Request) -> Option<Response> {
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    // An absolute request target (`GET http://name/ HTTP/1.1`) names its host too.
    let target = request.uri().authority().map(|a| a.as_str());
    let host_ok = match (host, target) {
        (Some(host), target) => {
            guard.allows(host, guard.default_port)
                && target.is_none_or(|t| guard.allows(t, guard.default_port))
        }
        (None, Some(target)) => guard.allows(target, guard.default_port),
        (None, None) => false,
    };
    if !host_ok {
        let shown: String = host.or(target).unwrap_or("").chars().take(100).collect();
        return Some(ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "host-not-allowed",
            format!(
                "this daemon does not answer to the host `{shown}`; use http(s)://127.0.0.1:PORT, or add the name to api.allowed_hosts in the config if it is a name of this daemon"
            ),
        )
        .into_response());
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let allowed = origin.to_str().ok().and_then(|origin| {
            let (scheme, authority) = origin.split_once("://")?;
            let port = match scheme.to_ascii_lowercase().as_str() {
                "http" => 80,
                "https" => 443,
                _ => return None,
            };
            Some(guard.allows(authority, port))
        });
        if allowed != Some(true) {
            return Some(ApiError::new(
                StatusCode::FORBIDDEN,
                "origin-not-allowed",
                "requests from web pages of other origins are refused; call the API from a program, or from a page served under one of the daemon's own host names",
            )
            .into_response());
        }
    }
    let write = is_write(request.method());
    let probe = !write && PROBES.contains(&request.uri().path());
    if !guard.tokens.is_empty() && !probe {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            });
        let Some(token) = presented.and_then(|token| guard.token(token)) else {
            let message = match presented {
                Some(_) => {
                    "the bearer token is not one of the configured tokens; check it against api.tokens in the daemon's config"
                }
                None => {
                    "this API needs a token: send `Authorization: Bearer TOKEN` with a token from api.tokens in the daemon's config"
                }
            };
            let mut refusal =
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
            refusal.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"qualityd\""),
            );
            return Some(refusal);
        };
        if write && token.role != Role::Admin {
            return Some(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "the token `{}` has the role `{}`, which may only read; {} needs a token with role = \"admin\"",
                    token.name,
                    token.role.as_str(),
                    request.method()
                ),
            )
            .into_response());
        }
        tracing::debug!(token = %token.name, method = %request.method(), path = %request.uri().path(), "API request");
    }
    if write {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| {
                let media = value.split(';').next().unwrap_or("").trim();
                media.eq_ignore_ascii_case("application/json")
            });
        if !json {
            return Some(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                format!(
                    "{} takes `Content-Type: application/json`, even with no body (so that no web page can send it as a form)",
                    request.method()
                ),
            )
            .into_response());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(allowed: &[&str]) -> Guard {
        let api = ApiConfig {
            allowed_hosts: allowed.iter().map(|h| h.to_string()).collect(),
            ..ApiConfig::default()
        };
        Guard::new(&api, "127.0.0.1:8432".parse().unwrap())
    }

    #[test]
    fn loopback_names_need_the_listen_port_and_configured_names_any_port_unless_given() {
        let guard = guard(&["qualityd.example.com", "10.0.0.5:9000"]);
        for allowed in [
            "localhost:8432",
            "127.0.0.1:8432",
            "[::1]:8432",
            "LOCALHOST.:8432",
        ] {
            assert!(guard.allows(allowed, 80), "{allowed}");
        }
        assert!(guard.allows("qualityd.example.com", 443));
        assert!(guard.allows("qualityd.example.com:1234", 80));
        assert!(guard.allows("10.0.0.5:9000", 80));
        for refused in [
            "localhost",
            "localhost:8433",
            "attacker.example:8432",
            "10.0.0.5",
            "127.0.0.1:x",
            "",
            "qualityd.example.com.attacker.example",
        ] {
            assert!(!guard.allows(refused, 80), "{refused}");
        }
    }

    #[test]
    fn tokens_match_only_exactly() {
        let token = |name: &str, role, value: &str| ApiToken {
            name: name.into(),
            role,
            digest: Sha256::digest(value.as_bytes()).into(),
        };
        let mut guard = guard(&[]);
        guard.tokens = vec![
            token("reader", Role::Read, "read-token-0123456789"),
            token("ops", Role::Admin, "admin-token-0123456789"),
        ];
        assert_eq!(guard.token("read-token-0123456789").unwrap().name, "reader");
        assert_eq!(
            guard.token("admin-token-0123456789").unwrap().role,
            Role::Admin
        );
        assert!(guard.token("admin-token-012345678").is_none());
        assert!(guard.token("").is_none());
    }
}
