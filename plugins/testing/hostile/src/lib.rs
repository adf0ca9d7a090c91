//! A connector that breaks the contract on purpose, for the host's tests.
//!
//! It implements the generated bindings directly (not the SDK's traits) so that it can send
//! what a correct connector never would. The `mode` setting picks the misbehaviour:
//!
//! - `malformed-ipc`: `next` returns bytes that are not Arrow IPC.
//! - `schema-mismatch`: the stream's schema differs from the one `discover` announced.
//! - `read-file`: `read` opens the file named by the `target` setting and reports what it
//!   got, to prove the sandbox denies paths outside the granted directories.
//! - `panic`: `discover` panics.
//! - `spin`: `discover` loops forever.
//! - `hog`: `discover` allocates memory until it is refused.
//! - `write-file`: `read` tries to create the file named by `target` (in a granted,
//!   read-only directory, or anywhere).
//! - `ambient`: `read` reports the environment variables and arguments it can see.
//! - `spin-next`: `next` loops forever.
//! - `endless`: `next` sends batches and never ends the stream.
//! - `log-flood`: `discover` sends 100 000 log lines, then answers as usual.
//! - `huge-claim`: `next` sends an IPC message prefix claiming a 2 GiB message, then 1 MiB
//!   of zeros per call, forever.
//! - `big-chunk`: `next` sends one 96 MiB chunk.
//! - `connect`: `read` opens a TCP connection to `target` (`host:port`), sends `ping` and
//!   reports what came back, to prove the sandbox lets through only granted addresses.
//! - `echo-secret`: `discover` logs its `target` and `token` settings (the second declared
//!   secret) and `read` panics with them, to prove the host scrubs them.
//! - `slow`: a well-behaved stream that takes its time: `batches` batches of three rows
//!   (default 20), each after a pause of `pause_ms` (default 100), so a test can act while a
//!   read is in flight.
//!
//! Modes that try to hold the host forever or make it keep memory for the plugin
//! (`src/limits.rs`):
//!
//! - `empty-chunks`: `next` returns an empty chunk after a pause of `pause_ms`, forever.
//! - `stall-next`: `next` sleeps for a day, blocked inside WASI where no epoch reaches.
//! - `many-partitions`: `partitions` announces 200 000 partitions.
//! - `stall-first-partition`: `partitions` announces 2 000 partitions; the first sends a
//!   batch every `pause_ms`, forever, the others one batch each.
//!
//! Modes added for the scrubbing of secrets (issue 15, item 7; code in `leak.rs`):
//!
//! - `leak-secret`: `discover` logs its `target` and `token` settings with newlines that try
//!   to forge log lines, and again straddling the host's line cap (on `log` and on stderr);
//!   `read` fails with a typed `internal` error quoting both.
//!
//! Modes attacking the host's IPC decoding (`ipc_bounds.rs`, where each is described):
//! `huge-schema-body`, `malformed-schema`, `compressed-bomb`, `view-amplify`, `dict-amplify`,
//! `delta-dict-growth`.

mod ipc_bounds;
mod leak;
mod limits;

use std::cell::Cell;
use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use qualityd_plugin_sdk::bindings::exports::qualityd::connector::connector::{
    BatchStream, Container, Guest, GuestBatchStream, GuestSession, ReadResponse, Session,
};
use qualityd_plugin_sdk::{
    Capability, ContainerKind, Error, IpcStream, Partition, PartitionHint, PluginInfo, ReadRequest,
    Setting, SettingSpec, SettingType, schema_to_ipc,
};

struct Hostile;

qualityd_plugin_sdk::bindings::export_bindings!(Hostile with_types_in qualityd_plugin_sdk::bindings);

struct HostileSession {
    mode: String,
    target: String,
    token: String,
    batches: u32,
    pause: std::time::Duration,
}

enum Stream {
    Garbage(Cell<bool>),
    /// `spin-next`.
    Spin,
    /// `huge-claim`: whether the claim was sent.
    Claim(Cell<bool>),
    /// `big-chunk`: whether it was sent.
    BigChunk(Cell<bool>),
    Ipc(Box<std::cell::RefCell<IpcStream>>),
    /// The modes of `limits.rs`.
    Limits(limits::Chunks),
    /// The `ipc_bounds` modes.
    Chunks(std::cell::RefCell<ipc_bounds::Chunks>),
}

fn announced() -> Arc<Schema> {
    Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]))
}

fn text_setting(name: &str, help: &str) -> SettingSpec {
    SettingSpec {
        name: name.into(),
        type_: SettingType::Text,
        required: false,
        secret: false,
        default: Some(String::new()),
        help: help.into(),
    }
}

impl Guest for Hostile {
    type Session = HostileSession;
    type BatchStream = Stream;

    fn describe() -> PluginInfo {
        PluginInfo {
            name: "hostile".into(),
            version: "0.0.1".into(),
            kinds: vec!["hostile".into()],
            settings: vec![
                text_setting("mode", "Which misbehaviour to show."),
                text_setting("target", "The path `read-file` tries to open."),
                SettingSpec {
                    secret: true,
                    ..text_setting("token", "A secret `echo-secret` leaks.")
                },
                text_setting("batches", "How many batches `slow` sends."),
                text_setting("pause_ms", "How long `slow` pauses before each batch."),
                SettingSpec {
                    name: "path".into(),
                    type_: SettingType::Path,
                    required: false,
                    secret: false,
                    default: None,
                    help: "A granted directory (unused).".into(),
                },
            ],
            capabilities: vec![Capability::Filesystem],
        }
    }

    fn open(settings: Vec<Setting>) -> Result<Session, Error> {
        let get = |name: &str| {
            settings
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.value.clone())
                .unwrap_or_default()
        };
        let number = |name: &str, default: u32| match get(name).as_str() {
            "" => Ok(default),
            text => text.parse().map_err(|_| {
                Error::config(format!("`{name}` must be a whole number, not `{text}`"))
            }),
        };
        Ok(Session::new(HostileSession {
            mode: get("mode"),
            target: get("target"),
            token: get("token"),
            batches: number("batches", 20)?,
            pause: std::time::Duration::from_millis(number("pause_ms", 100)?.into()),
        }))
    }
}

impl GuestSession for HostileSession {
    fn check(&self) -> Result<(), Error> {
        Ok(())
    }

    fn discover(&self) -> Result<Vec<Container>, Error> {
        if let Some(containers) = ipc_bounds::discover(&self.mode) {
            return containers;
        }
        match self.mode.as_str() {
            "panic" => panic!("the hostile plugin panics in discover, as asked"),
            "hog" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 16 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "spin" => spin(),
            "leak-secret" => {
                leak::discover(&self.target, &self.token);
                Ok(vec![numbers_container()?])
            }
            "echo-secret" => {
                let leak = format!("target is {}, token is {}", self.target, self.token);
                qualityd_plugin_sdk::log::warn(&leak);
                Ok(vec![numbers_container()?])
            }
            "log-flood" => {
                for line in 0..100_000 {
                    qualityd_plugin_sdk::log::warn(&format!("flood line {line}"));
                }
                Ok(vec![numbers_container()?])
            }
            _ => Ok(vec![numbers_container()?]),
        }
    }

    fn partitions(
        &self,
        _container: String,
        _hint: PartitionHint,
    ) -> Result<Vec<Partition>, Error> {
        if let Some(partitions) = limits::partitions(&self.mode) {
            return Ok(partitions);
        }
        Ok(vec![Partition {
            id: "all".into(),
            description: "everything".into(),
            row_estimate: Some(3),
            byte_size: None,
            watermark: None,
        }])
    }

    fn read(&self, request: ReadRequest) -> Result<ReadResponse, Error> {
        if let Some(chunks) = ipc_bounds::read(&self.mode) {
            return Ok(ReadResponse {
                stream: BatchStream::new(Stream::Chunks(std::cell::RefCell::new(chunks?))),
                filter_applied: false,
            });
        }
        if let Some(stream) = limits::stream(&self.mode, &request.partition.id, self.pause) {
            return Ok(ReadResponse {
                stream: BatchStream::new(stream?),
                filter_applied: false,
            });
        }
        let stream = match self.mode.as_str() {
            "malformed-ipc" => Stream::Garbage(Cell::new(false)),
            "read-file" => {
                let contents = std::fs::read(&self.target)
                    .map_err(|e| Error::not_found(format!("cannot open {}: {e}", self.target)))?;
                return Err(Error::internal(format!(
                    "read {} bytes from {}: the sandbox let it through",
                    contents.len(),
                    self.target
                )));
            }
            "write-file" => {
                return match std::fs::write(&self.target, b"written by a plugin") {
                    Ok(()) => Err(Error::internal(format!(
                        "wrote {}: the sandbox let it through",
                        self.target
                    ))),
                    Err(e) => Err(Error::not_found(format!(
                        "cannot write {}: {e}",
                        self.target
                    ))),
                };
            }
            "ambient" => {
                let vars: Vec<String> = std::env::vars().map(|(name, _)| name).collect();
                let args: Vec<String> = std::env::args().collect();
                return Err(Error::internal(format!(
                    "sees {} environment variables {vars:?} and {} arguments {args:?}",
                    vars.len(),
                    args.len()
                )));
            }
            "echo-secret" => panic!("leaking {} and {}", self.target, self.token),
            "leak-secret" => return Err(leak::read(&self.target, &self.token)),
            "connect" => return Err(connect(&self.target)),
            "spin-next" => Stream::Spin,
            "huge-claim" => Stream::Claim(Cell::new(false)),
            "big-chunk" => Stream::BigChunk(Cell::new(false)),
            "endless" => {
                let batch = numbers()?;
                let batches = std::iter::repeat_with(move || Ok(batch.clone()));
                Stream::Ipc(Box::new(std::cell::RefCell::new(IpcStream::new(
                    qualityd_plugin_sdk::Batches {
                        schema: announced(),
                        batches: Box::new(batches),
                        filter_applied: false,
                    },
                ))))
            }
            "schema-mismatch" => {
                let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Utf8, false)]));
                let column = Arc::new(arrow_array::StringArray::from(vec!["a", "b"]));
                let batch = RecordBatch::try_new(schema.clone(), vec![column])
                    .map_err(|e| Error::internal(e.to_string()))?;
                ipc_stream(schema, batch)
            }
            "slow" => {
                let batch = numbers()?;
                let pause = self.pause;
                let batches = (0..self.batches).map(move |_| {
                    std::thread::sleep(pause);
                    Ok(batch.clone())
                });
                Stream::Ipc(Box::new(std::cell::RefCell::new(IpcStream::new(
                    qualityd_plugin_sdk::Batches {
                        schema: announced(),
                        batches: Box::new(batches),
                        filter_applied: false,
                    },
                ))))
            }
            _ => ipc_stream(announced(), numbers()?),
        };
        Ok(ReadResponse {
            stream: BatchStream::new(stream),
            filter_applied: false,
        })
    }
}

/// Connect to `target`, say `ping`, and report the answer (or the refusal) as an error.
fn connect(target: &str) -> Error {
    use std::io::{Read, Write};
    let mut stream = match std::net::TcpStream::connect(target) {
        Ok(stream) => stream,
        Err(e) => return Error::connection(format!("cannot connect to {target}: {e}")),
    };
    let mut answer = [0u8; 4];
    match stream
        .write_all(b"ping")
        .and_then(|()| stream.read_exact(&mut answer))
    {
        Ok(()) => Error::internal(format!(
            "connected to {target}, which answered {}",
            String::from_utf8_lossy(&answer)
        )),
        Err(e) => Error::connection(format!("connected to {target}, then: {e}")),
    }
}

fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

fn numbers_container() -> Result<Container, Error> {
    Ok(Container {
        name: "numbers".into(),
        kind: ContainerKind::Table,
        schema: schema_to_ipc(&announced())?,
        row_estimate: Some(3),
        byte_size: None,
        error: None,
    })
}

fn numbers() -> Result<RecordBatch, Error> {
    let column = Arc::new(Int64Array::from(vec![1, 2, 3]));
    RecordBatch::try_new(announced(), vec![column]).map_err(|e| Error::internal(e.to_string()))
}

fn ipc_stream(schema: Arc<Schema>, batch: RecordBatch) -> Stream {
    Stream::Ipc(Box::new(std::cell::RefCell::new(IpcStream::new(
        qualityd_plugin_sdk::Batches {
            schema,
            batches: Box::new(std::iter::once(Ok(batch))),
            filter_applied: false,
        },
    ))))
}

impl GuestBatchStream for Stream {
    fn next(&self) -> Result<Option<Vec<u8>>, Error> {
        match self {
            Stream::Garbage(sent) if sent.get() => Ok(None),
            Stream::Garbage(sent) => {
                sent.set(true);
                Ok(Some(
                    b"\xff\xff\xff\xff\x10\x00\x00\x00this is not arrow ipc".to_vec(),
                ))
            }
            Stream::Spin => spin(),
            Stream::Claim(sent) if sent.get() => Ok(Some(vec![0; 1 << 20])),
            Stream::Claim(sent) => {
                sent.set(true);
                // The IPC continuation marker, then a metadata length of 2 GiB - 1.
                Ok(Some(b"\xff\xff\xff\xff\xff\xff\xff\x7f".to_vec()))
            }
            Stream::BigChunk(sent) if sent.get() => Ok(None),
            Stream::BigChunk(sent) => {
                sent.set(true);
                Ok(Some(vec![0; 96 << 20]))
            }
            Stream::Ipc(stream) => stream.borrow_mut().next_chunk(),
            Stream::Limits(chunks) => chunks.next(),
            Stream::Chunks(chunks) => chunks.borrow_mut().next().transpose(),
        }
    }
}
