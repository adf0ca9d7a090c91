//! A connector built against `qualityd:connector@2.0.0` (its own `wit/`), a contract this
//! host does not speak: the host must refuse it at load with an error that says which
//! version it speaks, and a daemon must keep serving the version it had.

wit_bindgen::generate!({
    path: "wit",
    world: "plugin",
});

use exports::qualityd::connector::connector::{Guest, PluginInfo};

struct FutureContract;

impl Guest for FutureContract {
    fn describe() -> PluginInfo {
        qualityd::connector::log::log("describing a contract from the future");
        PluginInfo {
            name: "future-contract".into(),
            version: "2.0.0".into(),
        }
    }
}

export!(FutureContract);
