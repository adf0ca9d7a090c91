//! Check files: YAML files in the config's `checks_dir` (by default `checks/` next to
//! `qualityd.toml`), reviewed in git the way Soda users keep theirs. Each names a datastore
//! and lists its checks in the API's JSON shape:
//!
//! ```yaml
//! datastore: example
//! checks:
//!   - container: orders.csv
//!     fields: [quantity]
//!     rule: {rule: between, min: 1, max: 100}
//!     description: Orders are of 1 to 100 items
//! ```
//!
//! A file is the truth for its checks: the store follows it on every sync (daemon start,
//! `POST /checks/sync`, `qualityd scan`). An error names the file, the line and the field.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Config;
use crate::checks::Check;
use crate::{Error, Result};

/// One check file, read and checked.
#[derive(Debug, Clone)]
pub struct CheckFile {
    /// Its path.
    pub path: PathBuf,
    /// How the store names it: `file:` and its path relative to the config's directory.
    pub source: String,
    /// Its checks, each with its datastore.
    pub checks: Vec<(String, Check)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheckFile {
    datastore: String,
    #[serde(default)]
    checks: Vec<Check>,
}

impl Config {
    /// Every `*.yaml` / `*.yml` file in the checks directory, sorted by name; none when the
    /// directory does not exist.
    pub fn check_files(&self) -> Result<Vec<CheckFile>> {
        let entries = match std::fs::read_dir(&self.checks_dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::Path {
                    path: self.checks_dir.clone(),
                    reason: format!("cannot list the check files: {e}"),
                });
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        paths.sort();
        paths.iter().map(|path| self.check_file(path)).collect()
    }

    /// Read and check one check file.
    pub fn check_file(&self, path: &Path) -> Result<CheckFile> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Path {
            path: path.to_path_buf(),
            reason: format!("cannot read the check file: {e}"),
        })?;
        let fail = |line: Option<usize>, key: &str, reason: String| Error::Config {
            path: path.to_path_buf(),
            line,
            key: key.to_owned(),
            reason,
        };
        let raw: RawCheckFile = serde_saphyr::from_str(&text).map_err(|e| {
            let line = e.location().map(|l| l.line() as usize);
            fail(line, "", first_line(&e.to_string()))
        })?;
        if self.datastore(&raw.datastore).is_none() {
            let error = self.configured(&raw.datastore).err();
            let reason = error.map_or_else(String::new, |e| e.to_string());
            return Err(fail(line_of(&text, "datastore:"), "datastore", reason));
        }
        for (index, check) in raw.checks.iter().enumerate() {
            if check.id.is_some() {
                return Err(fail(
                    None,
                    &format!("checks[{index}].id"),
                    "a check file gives no ids (the store does); remove the `id`".into(),
                ));
            }
        }
        let relative = path.strip_prefix(&self.base_dir).unwrap_or(path);
        Ok(CheckFile {
            path: path.to_path_buf(),
            source: format!("file:{}", relative.display()),
            checks: raw
                .checks
                .into_iter()
                .map(|check| (raw.datastore.clone(), check))
                .collect(),
        })
    }
}

/// The first line of a message (serde-saphyr appends a snippet of the file).
fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).to_owned()
}

/// The 1-based line on which `needle` first appears.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> Config {
        let path = dir.join("qualityd.toml");
        std::fs::write(&path, "[datastores.shop]\nplugin = \"files\"\n").expect("a config");
        Config::load(&path).expect("the config loads")
    }

    #[test]
    fn a_check_file_gives_each_check_its_datastore_and_source() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let config = config(dir.path());
        std::fs::create_dir(dir.path().join("checks")).expect("checks/");
        std::fs::write(
            dir.path().join("checks/orders.yaml"),
            "datastore: shop\nchecks:\n  - container: orders.csv\n    fields: [quantity]\n    \
             rule: {rule: between, min: 1, max: 100}\n    tags: [sales]\n",
        )
        .expect("a check file");
        std::fs::write(dir.path().join("checks/notes.txt"), "not a check file").expect("a file");
        let files = config.check_files().expect("the files load");
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].source, "file:checks/orders.yaml");
        let (datastore, check) = &files[0].checks[0];
        assert_eq!(datastore, "shop");
        assert_eq!(check.fields, ["quantity"]);
        assert_eq!(check.rule.name(), "between");
        assert_eq!(check.tags, ["sales"]);
    }

    #[test]
    fn a_bad_check_file_is_refused_naming_the_file_line_and_problem() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let config = config(dir.path());
        let file = dir.path().join("bad.yaml");
        let error = |text: &str| {
            std::fs::write(&file, text).expect("a check file");
            config.check_file(&file).expect_err("refused").to_string()
        };
        let unknown_rule = error(
            "datastore: shop\nchecks:\n  - container: t\n    fields: [a]\n    rule: {rule: betwen}\n",
        );
        assert!(unknown_rule.contains("bad.yaml"), "{unknown_rule}");
        assert!(unknown_rule.contains("bad.yaml:5:"), "{unknown_rule}");
        assert!(unknown_rule.contains("betwen"), "{unknown_rule}");
        let no_datastore = error("datastore: nope\nchecks: []\n");
        assert!(no_datastore.contains("bad.yaml:1:"), "{no_datastore}");
        assert!(no_datastore.contains("nope"), "{no_datastore}");
        assert!(no_datastore.contains("shop"), "{no_datastore}");
        let with_id =
            error("datastore: shop\nchecks:\n  - {id: 3, container: t, rule: {rule: not_null}}\n");
        assert!(with_id.contains("checks[0].id"), "{with_id}");
    }
}
