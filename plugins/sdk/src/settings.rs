//! Typed access to a session's settings, checked against the connector's own specs.

use std::collections::BTreeMap;

use crate::{Error, Result, Setting, SettingSpec, SettingType};

/// A session's settings: every required one present, every value of its declared type,
/// defaults filled in. Built by the SDK before [`crate::Connector::open`] is called.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    values: BTreeMap<String, String>,
}

impl Settings {
    /// Check `given` against `specs`: unknown names, duplicates, missing required settings and
    /// values of the wrong form are config errors that name the setting.
    pub fn from_specs(specs: &[SettingSpec], given: Vec<Setting>) -> Result<Self> {
        let mut values = BTreeMap::new();
        for setting in given {
            let Some(spec) = specs.iter().find(|spec| spec.name == setting.name) else {
                let known: Vec<&str> = specs.iter().map(|spec| spec.name.as_str()).collect();
                return Err(Error::config(format!(
                    "unknown setting `{}`; this connector accepts: {}",
                    setting.name,
                    known.join(", ")
                )));
            };
            check_form(spec, &setting.value)?;
            if values.insert(setting.name.clone(), setting.value).is_some() {
                return Err(Error::config(format!(
                    "setting `{}` is given twice; give it once",
                    setting.name
                )));
            }
        }
        for spec in specs {
            if values.contains_key(&spec.name) {
                continue;
            }
            match (&spec.default, spec.required) {
                (Some(default), _) => {
                    values.insert(spec.name.clone(), default.clone());
                }
                (None, true) => {
                    return Err(Error::config(format!(
                        "setting `{}` is required: {}",
                        spec.name, spec.help
                    )));
                }
                (None, false) => {}
            }
        }
        Ok(Settings { values })
    }

    /// The raw value of a setting, if it has one (given or by default).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value of a setting that is required or has a default.
    pub fn text(&self, name: &str) -> Result<&str> {
        self.get(name).ok_or_else(|| {
            Error::internal(format!(
                "setting `{name}` has no value and no default; declare it required or give it a default"
            ))
        })
    }

    /// An integer setting (its form was checked against the spec).
    pub fn integer(&self, name: &str) -> Result<i64> {
        parse_integer(name, self.text(name)?)
    }

    /// An integer setting that must be at least 1 (a size, a count, a timeout).
    pub fn positive(&self, name: &str) -> Result<u64> {
        match self.integer(name)? {
            n if n > 0 => Ok(n as u64),
            n => Err(Error::config(format!(
                "setting `{name}` must be greater than zero, got {n}"
            ))),
        }
    }

    /// A boolean setting (its form was checked against the spec).
    pub fn boolean(&self, name: &str) -> Result<bool> {
        parse_boolean(name, self.text(name)?)
    }
}

/// A setting's spec: required when it has no default, not secret. Change the rest with
/// struct update syntax: `SettingSpec { secret: true, required: false, ..setting_spec(..) }`.
pub fn setting_spec(
    name: &str,
    type_: SettingType,
    default: Option<&str>,
    help: &str,
) -> SettingSpec {
    SettingSpec {
        name: name.into(),
        type_,
        required: default.is_none(),
        secret: false,
        default: default.map(Into::into),
        help: help.into(),
    }
}

fn check_form(spec: &SettingSpec, value: &str) -> Result<()> {
    match spec.type_ {
        SettingType::Text | SettingType::Address => Ok(()),
        SettingType::Integer => parse_integer(&spec.name, value).map(drop),
        SettingType::Boolean => parse_boolean(&spec.name, value).map(drop),
        SettingType::Float => value.trim().parse::<f64>().map(drop).map_err(|_| {
            Error::config(format!(
                "setting `{}` must be a number, got `{value}`",
                spec.name
            ))
        }),
        SettingType::Path if value.starts_with('/') => Ok(()),
        SettingType::Path => Err(Error::config(format!(
            "setting `{}` must be an absolute path, got `{value}`",
            spec.name
        ))),
    }
}

fn parse_integer(name: &str, value: &str) -> Result<i64> {
    value.trim().parse().map_err(|_| {
        Error::config(format!(
            "setting `{name}` must be a whole number, got `{value}`"
        ))
    })
}

fn parse_boolean(name: &str, value: &str) -> Result<bool> {
    match value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::config(format!(
            "setting `{name}` must be `true` or `false`, got `{value}`"
        ))),
    }
}
