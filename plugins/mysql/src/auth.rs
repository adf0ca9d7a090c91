//! The handshake's authentication: the scramble for `mysql_native_password` and
//! `caching_sha2_password` (fast path), auth-switch requests, and clear refusals of what
//! needs TLS or another plugin.

use mysql_common::packets::AuthPlugin;
use mysql_common::scramble::{scramble_native, scramble_sha256};
use qualityd_plugin_sdk::Error;

use crate::errors::{Failure, tls_unsupported};
use crate::packets::{Reader, Wire, err_failure};

/// Who logs in where; the password never appears in a message.
pub struct Credentials<'a> {
    pub address: &'a str,
    pub user: &'a str,
    pub password: &'a str,
}

/// The plugin a handshake response is made for: the server's choice when supported,
/// otherwise `mysql_native_password` (the server switches if the user needs another).
pub fn initial_plugin(offered: Option<AuthPlugin<'_>>) -> AuthPlugin<'static> {
    match offered {
        Some(AuthPlugin::CachingSha2Password) => AuthPlugin::CachingSha2Password,
        _ => AuthPlugin::MysqlNativePassword,
    }
}

/// The response to a challenge (`nonce`) for a supported plugin. An empty password is an
/// empty response.
pub fn scramble(
    plugin: &AuthPlugin<'_>,
    nonce: &[u8],
    credentials: &Credentials<'_>,
) -> Result<Vec<u8>, Failure> {
    let password = credentials.password.as_bytes();
    if password.is_empty() {
        return Ok(Vec::new());
    }
    match plugin {
        AuthPlugin::MysqlNativePassword => Ok(scramble_native(nonce, password)
            .map(|s| s.to_vec())
            .unwrap_or_default()),
        AuthPlugin::CachingSha2Password => Ok(scramble_sha256(nonce, password)
            .map(|s| s.to_vec())
            .unwrap_or_default()),
        AuthPlugin::MysqlClearPassword => Err(tls_unsupported(
            credentials.address,
            &format!(
                "user `{}` authenticates with mysql_clear_password, which would send the \
                 password in clear",
                credentials.user
            ),
        )
        .into()),
        other => Err(Error::unsupported(format!(
            "user `{}` at {} authenticates with `{}`; this connector supports \
             mysql_native_password and caching_sha2_password: give the user one of those",
            credentials.user,
            credentials.address,
            String::from_utf8_lossy(other.as_bytes())
        ))
        .into()),
    }
}

/// After the handshake response: follow auth switches and caching_sha2_password's fast
/// path until the server says OK.
pub fn finish(
    wire: &mut Wire,
    mut plugin: AuthPlugin<'static>,
    credentials: &Credentials<'_>,
) -> Result<(), Failure> {
    loop {
        let packet = wire.read()?;
        match packet.first() {
            Some(0x00) => return Ok(()),
            Some(0xFF) => return Err(err_failure(packet)),
            Some(0xFE) if packet.len() == 1 => {
                return Err(Error::unsupported(format!(
                    "the server at {} asks for the pre-4.1 password scramble for user `{}`; \
                     give the user mysql_native_password",
                    credentials.address, credentials.user
                ))
                .into());
            }
            Some(0xFE) => {
                // Auth switch: plugin name (NUL-terminated), then the new challenge.
                let rest = &packet[1..];
                let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
                let name = rest[..end].to_vec();
                let data = rest.get(end + 1..).unwrap_or_default();
                // The challenge ends with a NUL terminator, not part of it.
                let nonce = data.strip_suffix(&[0]).unwrap_or(data).to_vec();
                plugin = AuthPlugin::from_bytes(&name).into_owned();
                let response = scramble(&plugin, &nonce, credentials)?;
                wire.write(&response)?;
            }
            Some(0x01) if matches!(plugin, AuthPlugin::CachingSha2Password) => {
                match Reader::new(packet).bytes(2)?.get(1) {
                    // Fast authentication succeeded: an OK packet follows.
                    Some(0x03) => continue,
                    Some(0x04) => {
                        return Err(Error::unsupported(format!(
                            "the server at {} needs caching_sha2_password's full \
                             authentication for user `{}`, which sends the password and needs \
                             TLS or the server's RSA key; this connector supports only the fast \
                             path: let the server cache the password (log in once with the \
                             mysql client) or give the user mysql_native_password",
                            credentials.address, credentials.user
                        ))
                        .into());
                    }
                    other => {
                        return Err(Failure::Protocol(format!(
                            "unexpected caching_sha2_password state {other:?}"
                        )));
                    }
                }
            }
            other => {
                return Err(Failure::Protocol(format!(
                    "unexpected packet {other:?} during authentication"
                )));
            }
        }
    }
}
