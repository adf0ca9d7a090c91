//! Which files form one container. Files whose paths differ only by numbers or dates
//! (`orders_2024-01.csv`, `orders_2024-02.csv`) or by Hive partition values
//! (`year=2024/month=02/part-0.parquet`) share a pattern; two or more files of one format
//! with one pattern are one container, named by the pattern (`orders_*.csv`). Glob patterns
//! from the settings override that: every file a glob matches belongs to its container.

use std::collections::BTreeMap;

use qualityd_plugin_sdk::{Error, Result};

use crate::listing::{FileEntry, Kind};

/// A container: one file, or a group of files read as one.
#[derive(Debug, Clone)]
pub struct FileGroup {
    /// The container's name: a file's relative path, or the group's pattern.
    pub name: String,
    /// Its files, sorted by name.
    pub files: Vec<FileEntry>,
    /// For a workbook's sheet: the sheet's name.
    pub sheet: Option<String>,
}

/// Explicit glob patterns, relative to the datastore's path (`*` stays within a folder,
/// `**` crosses folders).
pub struct Globs(Vec<glob::Pattern>);

impl Globs {
    pub fn parse(setting: &str) -> Result<Self> {
        setting
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                glob::Pattern::new(p).map_err(|e| {
                    Error::config(format!("setting `patterns`: `{p}` is not a glob: {e}"))
                })
            })
            .collect::<Result<_>>()
            .map(Globs)
    }

    /// The pattern that groups a file, and whether it is one of these globs: the first glob
    /// that matches it, else its name with the variable parts starred. Workbooks are never
    /// grouped: their sheets are the containers.
    fn pattern_of(&self, name: &str, kind: Kind) -> (String, bool) {
        let options = glob::MatchOptions {
            require_literal_separator: true,
            ..glob::MatchOptions::default()
        };
        if kind == Kind::Xlsx {
            return (name.to_string(), false);
        }
        match self.0.iter().find(|g| g.matches_with(name, options)) {
            Some(glob) => (glob.as_str().to_string(), true),
            None => (pattern_of(name), false),
        }
    }

    /// Whether the file `name` can belong to the container `container` (without listing the
    /// other files): the container is the file itself, one of its sheets, or its group.
    pub fn may_contain(&self, container: &str, name: &str, kind: Kind) -> bool {
        if container == name {
            return true;
        }
        if kind == Kind::Xlsx {
            return container
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('#'));
        }
        self.pattern_of(name, kind).0 == container
    }
}

/// Group files into containers.
pub fn group(files: Vec<FileEntry>, globs: &Globs) -> Vec<FileGroup> {
    let mut by_pattern: BTreeMap<(String, bool, String), Vec<FileEntry>> = BTreeMap::new();
    for file in files {
        let (pattern, explicit) = globs.pattern_of(&file.name, file.kind);
        by_pattern
            .entry((pattern, explicit, kind_key(file.kind)))
            .or_default()
            .push(file);
    }
    let mut groups: Vec<FileGroup> = Vec::new();
    for ((pattern, explicit, _), mut files) in by_pattern {
        files.sort_by(|a, b| a.name.cmp(&b.name));
        if files.len() == 1 && !explicit {
            let file = files.remove(0);
            groups.push(FileGroup {
                name: file.name.clone(),
                files: vec![file],
                sheet: None,
            });
        } else {
            groups.push(FileGroup {
                name: pattern,
                files,
                sheet: None,
            });
        }
    }
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    groups
}

fn kind_key(kind: Kind) -> String {
    format!("{kind:?}")
}

/// A path with its variable parts replaced by `*`: Hive values (`key=value` folders), and
/// runs of digits joined by `-`, `_`, `.` or `:` (numbers, dates, times).
pub fn pattern_of(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.split_once('=') {
            Some((key, _)) if !key.is_empty() => format!("{key}=*"),
            _ => digits_to_star(segment),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn digits_to_star(segment: &str) -> String {
    let chars: Vec<char> = segment.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            // A run of digits, possibly joined by single separators to more digits.
            while i < chars.len() {
                let joins_digits = matches!(chars[i], '-' | '_' | '.' | ':')
                    && chars.get(i + 1).is_some_and(char::is_ascii_digit);
                if !(chars[i].is_ascii_digit() || joins_digits) {
                    break;
                }
                i += 1;
            }
            out.push('*');
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The Hive partition keys and values of a path (`year=2024/month=02/x` → year, month).
pub fn hive_values(path: &str) -> Vec<(String, String)> {
    let mut segments: Vec<&str> = path.split('/').collect();
    segments.pop(); // the file name itself
    segments
        .into_iter()
        .filter_map(|s| s.split_once('='))
        .filter(|(key, _)| !key.is_empty())
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}
