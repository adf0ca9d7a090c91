//! Host-side bindings of the connector contract (`wit/`, `qualityd:connector@0.1.0`), and how
//! a plugin's typed errors read to a user.

#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
});

use std::fmt;

pub use exports::qualityd::connector::connector::{Container, ReadRequest, ReadResponse};
pub use qualityd::connector::types::{
    Capability, Comparison, ContainerKind, DataError, Error as PluginError, Location, Partition,
    PartitionHint, PluginInfo, Predicate, Scalar, Setting, SettingSpec, SettingType, Watermark,
};

/// The contract version this host speaks.
pub const CONTRACT_VERSION: &str = "0.1.0";

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = &self.location;
        let mut place = Vec::new();
        if let Some(path) = &at.path {
            place.push(path.clone());
        }
        if let Some(line) = at.line {
            place.push(format!("line {line}"));
        }
        if let Some(row) = at.row {
            place.push(format!("row {row}"));
        }
        if let Some(field) = &at.field {
            place.push(format!("field `{field}`"));
        }
        if let Some(detail) = &at.detail {
            place.push(detail.clone());
        }
        if place.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", place.join(", "), self.message)
        }
    }
}

impl ContainerKind {
    /// Every kind, in the contract's order.
    pub const ALL: [ContainerKind; 5] = [
        ContainerKind::Table,
        ContainerKind::View,
        ContainerKind::File,
        ContainerKind::FileGroup,
        ContainerKind::Sheet,
    ];

    /// The kind as the contract spells it, and as the store and the API write it
    /// (`table`, `file-group`); the generated `Debug` form (`ContainerKind::FileGroup`) is
    /// not for users.
    pub fn as_str(&self) -> &'static str {
        match self {
            ContainerKind::Table => "table",
            ContainerKind::View => "view",
            ContainerKind::File => "file",
            ContainerKind::FileGroup => "file-group",
            ContainerKind::Sheet => "sheet",
        }
    }
}

impl SettingType {
    /// Every setting type, in the contract's order.
    pub const ALL: [SettingType; 6] = [
        SettingType::Text,
        SettingType::Integer,
        SettingType::Float,
        SettingType::Boolean,
        SettingType::Path,
        SettingType::Address,
    ];

    /// The type as the contract spells it, and as the API writes it (`text`, `address`).
    pub fn as_str(&self) -> &'static str {
        match self {
            SettingType::Text => "text",
            SettingType::Integer => "integer",
            SettingType::Float => "float",
            SettingType::Boolean => "boolean",
            SettingType::Path => "path",
            SettingType::Address => "address",
        }
    }
}

impl PluginError {
    /// The error as a user reads it (the generated `Display` is the debug form).
    pub fn message(&self) -> String {
        match self {
            PluginError::Config(m) => format!("configuration error: {m}"),
            PluginError::Auth(m) => format!("authentication failed: {m}"),
            PluginError::Connection(m) => format!("connection error: {m}"),
            PluginError::NotFound(m) => format!("not found: {m}"),
            PluginError::Unsupported(m) => format!("unsupported: {m}"),
            PluginError::Data(e) => format!("data error: {e}"),
            PluginError::Internal(m) => format!("internal error: {m}"),
        }
    }

    /// The variant's name, for metrics and tests.
    pub fn class(&self) -> &'static str {
        match self {
            PluginError::Config(_) => "config",
            PluginError::Auth(_) => "auth",
            PluginError::Connection(_) => "connection",
            PluginError::NotFound(_) => "not-found",
            PluginError::Unsupported(_) => "unsupported",
            PluginError::Data(_) => "data",
            PluginError::Internal(_) => "internal",
        }
    }
}
