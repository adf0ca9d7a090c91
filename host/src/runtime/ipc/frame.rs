//! Splits a plugin's IPC bytes into whole messages before arrow sees any of them. Each
//! message's declared metadata length is bounded as soon as its 4-byte prefix arrives, and its
//! declared body length (with the rest of its header, see [`super::header`]) as soon as its
//! metadata is complete: nothing is allocated or decoded on a length the plugin wrote until it
//! passed its cap, and a body is only ever buffered as its bytes actually arrive.

use arrow::buffer::Buffer;

use super::header::{self, Declared};
use super::{IpcCaps, IpcError, mib};

/// The IPC continuation marker that starts every message of the current format.
const CONTINUATION: [u8; 4] = [0xff; 4];

/// The most metadata (the flatbuffer header of one message) accepted, whatever
/// `ipc_batch_mib` says: a schema of 100 000 fields with long names fits several times over.
pub const METADATA_CAP: usize = 16 << 20;

/// One whole message, split into its flatbuffer header and its body.
pub struct Message {
    /// The flatbuffer `Message`, verified and checked by [`header::check`].
    pub metadata: Buffer,
    /// Its body: `bodyLength` bytes.
    pub body: Buffer,
}

/// What [`Framer::next`] found.
pub enum Frame {
    /// A whole message.
    Message(Message),
    /// The end-of-stream marker (a zero length).
    End,
}

enum Stage {
    /// Reading the 4-byte length, or the continuation marker and the length.
    Prefix,
    /// Reading `len` bytes of metadata into `head`, after a prefix of `start` bytes.
    Metadata { start: usize, len: usize },
    /// Reading the body of the message whose metadata is `head[start..]`.
    Body { start: usize, declared: Declared },
    /// The end-of-stream marker was read: nothing may follow.
    Ended,
}

/// Message boundaries of one IPC stream, with every declared length bounded.
pub struct Framer {
    caps: IpcCaps,
    stage: Stage,
    /// The prefix and metadata of the message being read.
    head: Vec<u8>,
    /// The body read so far, when it spans chunks.
    body: Vec<u8>,
}

impl Framer {
    /// A framer for a stream held to `caps`.
    pub fn new(caps: IpcCaps) -> Self {
        Framer {
            caps,
            stage: Stage::Prefix,
            head: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The most metadata one message may declare under these caps.
    fn metadata_cap(&self) -> usize {
        METADATA_CAP.min(self.caps.batch_bytes)
    }

    /// Whether a message has begun and not ended: a stream ending now ended mid-message.
    pub fn mid_message(&self) -> bool {
        match self.stage {
            Stage::Prefix => !self.head.is_empty(),
            Stage::Ended => false,
            _ => true,
        }
    }

    /// Consume bytes of `input` up to the end of the next whole message, and return it; `None`
    /// when `input` ran out first (what was read is kept for the next call).
    pub fn next(&mut self, input: &mut Buffer) -> Result<Option<Frame>, IpcError> {
        loop {
            match self.stage {
                Stage::Prefix => {
                    let want = if self.head.len() >= 4 && self.head[..4] == CONTINUATION {
                        8
                    } else {
                        4
                    };
                    if !take(&mut self.head, input, want) {
                        return Ok(None);
                    }
                    if want == 4 && self.head[..4] == CONTINUATION {
                        continue;
                    }
                    let h = &self.head[want - 4..want];
                    let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
                    let len = len as usize;
                    if len == 0 {
                        self.head.clear();
                        self.stage = Stage::Ended;
                        return Ok(Some(Frame::End));
                    }
                    if len > self.metadata_cap() {
                        return Err(IpcError::Limit(format!(
                            "it sent an IPC message whose header claims {} MiB, over the cap \
                             of {} MiB for one message's header (16 MiB, or its cap of {} MiB \
                             per batch, grants.ipc_batch_mib, if smaller); the plugin's IPC is \
                             malformed or its schema unreasonably large",
                            mib(len),
                            mib(self.metadata_cap()),
                            mib(self.caps.batch_bytes)
                        )));
                    }
                    self.stage = Stage::Metadata { start: want, len };
                }
                Stage::Metadata { start, len } => {
                    if !take(&mut self.head, input, start + len) {
                        return Ok(None);
                    }
                    let declared = header::check(&self.head[start..], self.caps)?;
                    self.stage = Stage::Body { start, declared };
                }
                Stage::Body { start, declared } => {
                    let len = declared.body_len;
                    let body = if self.body.is_empty() && input.len() >= len {
                        let body = input.slice_with_length(0, len);
                        input.advance(len);
                        body
                    } else {
                        if !take(&mut self.body, input, len) {
                            return Ok(None);
                        }
                        Buffer::from_vec(std::mem::take(&mut self.body))
                    };
                    let metadata = Buffer::from_vec(self.head.split_off(start));
                    self.head.clear();
                    self.stage = Stage::Prefix;
                    return Ok(Some(Frame::Message(Message { metadata, body })));
                }
                Stage::Ended if input.is_empty() => return Ok(None),
                Stage::Ended => {
                    return Err(IpcError::Malformed(
                        "it sent bytes after the IPC end-of-stream marker".into(),
                    ));
                }
            }
        }
    }
}

/// Move bytes from `input` into `into` until it holds `want`; whether it does.
fn take(into: &mut Vec<u8>, input: &mut Buffer, want: usize) -> bool {
    let missing = want.saturating_sub(into.len());
    let n = missing.min(input.len());
    into.extend_from_slice(&input[..n]);
    input.advance(n);
    into.len() >= want
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPS: IpcCaps = IpcCaps {
        chunk_bytes: 1 << 20,
        batch_bytes: 1 << 20,
    };

    #[test]
    fn a_metadata_length_over_the_cap_is_refused_from_its_prefix_alone() {
        let mut framer = Framer::new(CAPS);
        let mut input = Buffer::from_vec(vec![0xffu8, 0xff, 0xff, 0xff, 0x00, 0x00, 0x20, 0x00]);
        let next = framer.next(&mut input);
        let Err(IpcError::Limit(reason)) = next else {
            panic!(
                "a 2 MiB header under a 1 MiB batch cap is a limit: {:?}",
                next.err()
            );
        };
        assert!(reason.contains("ipc_batch_mib"), "{reason}");
    }

    #[test]
    fn bytes_after_the_end_marker_are_malformed() {
        let mut framer = Framer::new(CAPS);
        let mut input = Buffer::from_vec(vec![0xffu8, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1]);
        assert!(matches!(framer.next(&mut input), Ok(Some(Frame::End))));
        assert!(matches!(
            framer.next(&mut input),
            Err(IpcError::Malformed(_))
        ));
    }

    #[test]
    fn a_prefix_cut_short_is_mid_message() {
        let mut framer = Framer::new(CAPS);
        let mut input = Buffer::from_vec(vec![0xffu8, 0xff]);
        assert!(matches!(framer.next(&mut input), Ok(None)));
        assert!(framer.mid_message());
    }
}
