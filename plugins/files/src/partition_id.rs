//! What a partition id of this connector says, so that a read stats and infers only the
//! files it reads, never the whole directory or the whole group.
//!
//! A partition of a container that is one file is `<part>@<file>` (`0-1024@orders.csv`),
//! `<part>` being the format's own id of a part of the file (a byte range, a run of row
//! groups). A partition of a group of files reads one or more pieces, each a part of one
//! file, and carries the group's unified schema (computed once, when the read was planned):
//! `<n> files;<schema as hex Arrow IPC>;<len>:<part>@<file>...`, each piece prefixed by its
//! length in bytes, so file names may hold any character.

use std::io::Cursor;

use arrow_ipc::reader::StreamReader;
use arrow_schema::SchemaRef;
use qualityd_plugin_sdk::{Error, Result, schema_to_ipc};

/// A part of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    /// The format's id of the part (`0-1024`, `rg0-3`).
    pub part: String,
    /// The file's name in the datastore.
    pub file: String,
}

/// A decoded partition id.
#[derive(Debug, Clone, PartialEq)]
pub enum PartitionId {
    /// A part of the one file that is the container.
    File(Piece),
    /// Pieces of the files of a group, read one after another, and the group's schema.
    Group {
        schema: SchemaRef,
        pieces: Vec<Piece>,
    },
}

impl PartitionId {
    /// The id as text.
    pub fn encode(&self) -> Result<String> {
        match self {
            PartitionId::File(piece) => Ok(format!("{}@{}", piece.part, piece.file)),
            PartitionId::Group { schema, pieces } => {
                let mut id = format!("{} files;{};", pieces.len(), hex(&schema_to_ipc(schema)?));
                for piece in pieces {
                    let text = format!("{}@{}", piece.part, piece.file);
                    id.push_str(&format!("{}:{text}", text.len()));
                }
                Ok(id)
            }
        }
    }

    /// Decode an id that [`PartitionId::encode`] wrote.
    pub fn parse(id: &str) -> Result<Self> {
        let not_ours = || {
            Error::not_found(format!(
                "`{}` is not a partition of this connector; ask `partitions` for them",
                shorten(id)
            ))
        };
        // A part id is never a bare number, so a file name holding ` files;` is no group.
        let group = id
            .split_once(" files;")
            .and_then(|(count, rest)| Some((count.parse::<usize>().ok()?, rest)));
        let Some((count, rest)) = group else {
            return piece(id).map(PartitionId::File).ok_or_else(not_ours);
        };
        let (schema_hex, mut rest) = rest.split_once(';').ok_or_else(not_ours)?;
        let schema = unhex(schema_hex)
            .and_then(|bytes| {
                StreamReader::try_new(Cursor::new(bytes), None)
                    .ok()
                    .map(|r| r.schema())
            })
            .ok_or_else(not_ours)?;
        let mut pieces = Vec::new();
        while !rest.is_empty() {
            let (len, after) = rest.split_once(':').ok_or_else(not_ours)?;
            let len: usize = len.parse().map_err(|_| not_ours())?;
            let text = after.get(..len).ok_or_else(not_ours)?;
            pieces.push(piece(text).ok_or_else(not_ours)?);
            rest = &after[len..];
        }
        if pieces.len() != count || pieces.is_empty() {
            return Err(not_ours());
        }
        Ok(PartitionId::Group { schema, pieces })
    }
}

fn piece(text: &str) -> Option<Piece> {
    let (part, file) = text.split_once('@')?;
    (!file.is_empty()).then(|| Piece {
        part: part.to_string(),
        file: file.to_string(),
    })
}

/// The start of a long id, for messages.
fn shorten(id: &str) -> String {
    match id.char_indices().nth(120) {
        Some((at, _)) => format!("{}…", &id[..at]),
        None => id.to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 15)] as char);
    }
    text
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::LargeUtf8, true),
        ]))
    }

    #[test]
    fn ids_round_trip_with_any_file_name() {
        let file = PartitionId::File(Piece {
            part: "0-10".into(),
            file: "a@b.csv".into(),
        });
        assert_eq!(file.encode().unwrap(), "0-10@a@b.csv");
        assert_eq!(PartitionId::parse("0-10@a@b.csv").unwrap(), file);
        let odd = PartitionId::File(Piece {
            part: "0-10".into(),
            file: "3 files;x;.csv".into(),
        });
        assert_eq!(PartitionId::parse(&odd.encode().unwrap()).unwrap(), odd);

        let group = PartitionId::Group {
            schema: schema(),
            pieces: vec![
                Piece {
                    part: "0-5".into(),
                    file: "dir/x 1;2:3.csv".into(),
                },
                Piece {
                    part: "rg0-2".into(),
                    file: "ünï/y@2.parquet".into(),
                },
            ],
        };
        let id = group.encode().unwrap();
        assert!(id.starts_with("2 files;"), "{id}");
        assert_eq!(PartitionId::parse(&id).unwrap(), group);
    }

    #[test]
    fn damaged_ids_are_refused() {
        let group = PartitionId::Group {
            schema: schema(),
            pieces: vec![Piece {
                part: "0-5".into(),
                file: "x.csv".into(),
            }],
        };
        let id = group.encode().unwrap();
        for bad in [
            id.replacen("1 files", "2 files", 1),
            id[..id.len() - 1].to_string(),
            format!("{id}9:"),
            id.replacen(";", ";zz", 1),
            "no at sign".to_string(),
        ] {
            let error = PartitionId::parse(&bad).unwrap_err();
            assert!(
                matches!(&error, Error::NotFound(m) if m.contains("not a partition of this connector")),
                "{bad}: {error:?}"
            );
        }
    }
}
