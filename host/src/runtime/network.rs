//! Network grants: the `host:port` pairs a datastore lets its plugin reach over TCP. The
//! sandbox turns them into WASI's socket address check, asked before every bind and
//! connect: the implicit bind a connect makes (wildcard address, port 0) and connections to
//! a granted address pass; everything else is refused. Granted names are resolved by the
//! host when a session starts, so the check sees the addresses a name stands for then.

use std::collections::HashSet;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;

use wasmtime_wasi::sockets::SocketAddrUse;

use super::sandbox::Uncovered;
use crate::contract::Setting;

/// One granted `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostGrant {
    /// A name (`db.internal`) or an IP address (`10.0.0.5`, `::1`).
    pub host: String,
    /// The TCP port.
    pub port: u16,
}

impl HostGrant {
    /// Whether the host is a name, which the plugin must be able to look up.
    pub fn is_name(&self) -> bool {
        self.host.parse::<std::net::IpAddr>().is_err()
    }
}

impl FromStr for HostGrant {
    type Err = String;

    /// `HOST:PORT`, with an IPv6 address in brackets (`[::1]:5432`).
    fn from_str(text: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!("`{text}` {why}; write HOST:PORT, e.g. db.internal:5432 or [::1]:5432")
        };
        let (host, port) = text.rsplit_once(':').ok_or_else(|| bad("has no port"))?;
        let port: u16 = port.parse().map_err(|_| bad("has no valid port"))?;
        if host.is_empty() || port == 0 {
            return Err(bad("has an empty host or port 0"));
        }
        let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(v6) if v6.parse::<std::net::Ipv6Addr>().is_ok() => v6,
            Some(_) => return Err(bad("has brackets around something not an IPv6 address")),
            // An IPv6 address needs brackets: `::1:5432` could be an address without a port.
            None if host.contains(':') => return Err(bad("is ambiguous (IPv6 needs brackets)")),
            None => host,
        };
        Ok(HostGrant {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for HostGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.host.contains(':') {
            true => write!(f, "[{}]:{}", self.host, self.port),
            false => write!(f, "{}:{}", self.host, self.port),
        }
    }
}

/// The addresses the grants stand for now. A name that does not resolve grants nothing (its
/// plugin then fails to connect, with the lookup's error on the host's log).
pub(crate) fn granted_addresses(hosts: &[HostGrant]) -> HashSet<SocketAddr> {
    let mut addresses = HashSet::new();
    for grant in hosts {
        match (grant.host.as_str(), grant.port).to_socket_addrs() {
            Ok(resolved) => addresses.extend(resolved),
            Err(e) => tracing::warn!(host = %grant, error = %e, "a granted host does not resolve"),
        }
    }
    addresses
}

/// An address setting whose host is a name, for a datastore that grants no host by name:
/// the sandbox allows name lookups only when some grant is a name, so the plugin's lookup
/// would fail with a resolver error that says nothing of grants.
pub(crate) fn uncovered_name(hosts: &[HostGrant], setting: &Setting) -> Option<Uncovered> {
    let address: HostGrant = setting.value.parse().ok()?; // malformed: the plugin says so
    if !address.is_name() || hosts.iter().any(HostGrant::is_name) {
        return None;
    }
    let granted: Vec<String> = hosts.iter().map(ToString::to_string).collect();
    let granted = match granted.is_empty() {
        true => "it grants no host".to_owned(),
        false => format!(
            "it grants hosts by IP address only ({})",
            granted.join(", ")
        ),
    };
    Some(Uncovered {
        needs: format!(
            "to look up the host name `{}` (setting `{}` = {address})",
            address.host, setting.name
        ),
        what_to_do: format!(
            "{granted}, and the sandbox looks names up only for a datastore that grants a host \
             by name; add \"{address}\" to the datastore's grants.hosts, or write a granted \
             address in the setting"
        ),
    })
}

/// Whether a socket use passes the grants: connects to granted addresses, and the implicit
/// bind before them. No listening, no explicit binds, no UDP.
pub(crate) fn allows(
    granted: &HashSet<SocketAddr>,
    address: SocketAddr,
    used: SocketAddrUse,
) -> bool {
    match used {
        SocketAddrUse::TcpBind => address.ip().is_unspecified() && address.port() == 0,
        SocketAddrUse::TcpConnect => granted.contains(&address),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_parse_and_say_what_to_write() {
        let grant: HostGrant = "db.internal:5432".parse().unwrap();
        assert_eq!(
            (grant.host.as_str(), grant.port, grant.is_name()),
            ("db.internal", 5432, true)
        );
        let v6: HostGrant = "[::1]:3306".parse().unwrap();
        assert_eq!(
            (v6.host.as_str(), v6.is_name(), v6.to_string()),
            ("::1", false, "[::1]:3306".into())
        );
        for bad in ["db.internal", "db:port", ":5432", "db:0", "::1:5432"] {
            let error = bad.parse::<HostGrant>().unwrap_err();
            assert!(error.contains("HOST:PORT"), "{bad}: {error}");
        }
    }

    #[test]
    fn only_granted_connects_and_their_implicit_bind_pass() {
        let granted = granted_addresses(&["127.0.0.1:5432".parse().unwrap()]);
        let at = |text: &str| text.parse::<SocketAddr>().unwrap();
        assert!(allows(
            &granted,
            at("127.0.0.1:5432"),
            SocketAddrUse::TcpConnect
        ));
        assert!(!allows(
            &granted,
            at("127.0.0.1:5433"),
            SocketAddrUse::TcpConnect
        ));
        assert!(!allows(
            &granted,
            at("10.0.0.1:5432"),
            SocketAddrUse::TcpConnect
        ));
        assert!(allows(&granted, at("0.0.0.0:0"), SocketAddrUse::TcpBind));
        assert!(!allows(
            &granted,
            at("0.0.0.0:8080"),
            SocketAddrUse::TcpBind
        ));
        assert!(!allows(
            &granted,
            at("127.0.0.1:5432"),
            SocketAddrUse::TcpListen
        ));
        assert!(!allows(
            &granted,
            at("127.0.0.1:5432"),
            SocketAddrUse::UdpSend
        ));
    }
}
