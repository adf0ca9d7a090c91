//! A datastore as an operation sees it: the plugin version that reads it, its settings and
//! what its sandbox grants.

use std::path::Path;
use std::sync::Arc;

use crate::contract::{Capability, Setting};
use crate::runtime::{Grants, LoneFile, Plugin, PluginSession};
use crate::{Error, Result};

/// A configured datastore.
#[derive(Clone)]
pub struct Datastore {
    /// Its name, for logs and reports.
    pub name: String,
    /// The plugin version serving it.
    pub plugin: Arc<Plugin>,
    /// The settings its sessions are opened with.
    pub settings: Vec<Setting>,
    /// What its plugin instances may touch.
    pub grants: Grants,
}

impl Datastore {
    /// An ad-hoc files datastore over a file or a directory: a directory is granted
    /// read-only; a file is granted alone, through a private directory holding only it
    /// ([`LoneFile`]), never its whole parent. `path` names what to read.
    pub fn for_path(plugin: Arc<Plugin>, path: &Path, grants: Grants) -> Result<Self> {
        let path = path.canonicalize().map_err(|e| Error::Path {
            path: path.to_path_buf(),
            reason: match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".into(),
                _ => e.to_string(),
            },
        })?;
        let meta = std::fs::metadata(&path).map_err(|e| Error::Path {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let (directory, read, lone) = if meta.is_dir() {
            (path.clone(), path.clone(), None)
        } else if meta.is_file() {
            let lone = LoneFile::new(&path)?;
            (
                lone.dir().to_path_buf(),
                lone.path().to_path_buf(),
                Some(Arc::new(lone)),
            )
        } else {
            return Err(Error::Path {
                path,
                reason: "not a regular file or a directory (a pipe or a device cannot be \
                         profiled); give a data file or a directory of them"
                    .into(),
            });
        };
        Ok(Datastore {
            name: path.display().to_string(),
            plugin,
            settings: vec![Setting {
                name: "path".into(),
                value: read.display().to_string(),
            }],
            grants: Grants {
                directories: vec![directory],
                lone_file: lone,
                ..grants
            },
        })
    }

    /// A fresh sandboxed session, once the grants cover every capability the plugin declares.
    pub fn open(&self) -> Result<PluginSession> {
        self.check_capabilities()?;
        self.plugin.open(&self.grants, &self.settings)
    }

    /// Refuse, before any call, a plugin that asks for more than the datastore grants, or
    /// settings that name a path or host the grants do not cover.
    pub fn check_capabilities(&self) -> Result<()> {
        for capability in &self.plugin.info().capabilities {
            let (needs, what_to_do) = match capability {
                Capability::Filesystem if self.grants.directories.is_empty() => (
                    "read access to directories",
                    "list the directories it may read in the datastore's grants.directories",
                ),
                Capability::Network if self.grants.hosts.is_empty() => (
                    "network access",
                    "list the host:port pairs it may reach in the datastore's grants.hosts",
                ),
                Capability::Http => (
                    "outgoing HTTP",
                    "this qualityd grants no HTTP yet; use a plugin that does not need it",
                ),
                Capability::Filesystem | Capability::Network => continue,
            };
            return Err(Error::NotGranted {
                plugin: self.plugin.label().clone(),
                datastore: self.name.clone(),
                capability: needs.into(),
                what_to_do: what_to_do.into(),
            });
        }
        let specs = &self.plugin.info().settings;
        if let Some(uncovered) = self.grants.uncovered(specs, &self.settings) {
            return Err(Error::NotGranted {
                plugin: self.plugin.label().clone(),
                datastore: self.name.clone(),
                capability: uncovered.needs,
                what_to_do: uncovered.what_to_do,
            });
        }
        Ok(())
    }
}
