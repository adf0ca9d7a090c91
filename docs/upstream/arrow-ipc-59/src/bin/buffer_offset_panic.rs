//! Found by qualityd's `ipc_decode` fuzz target (issue 6): a record batch whose buffer offset
//! points past the message body makes `StreamDecoder::decode` panic in
//! `Buffer::slice_with_length` ("the offset of the new Buffer cannot exceed the existing
//! length") instead of returning an error; other words of the header (a node's null count)
//! panic elsewhere (`BooleanBuffer::new`: "buffer not large enough"). This patches each
//! 8-byte word of a valid batch's header to 16384 and reports every one that makes arrow
//! panic.

use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc_59_repro::one_batch;

fn decode(bytes: Vec<u8>) -> std::thread::Result<()> {
    let mut decoder = StreamDecoder::new();
    let mut buffer = Buffer::from_vec(bytes);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        while !buffer.is_empty() {
            if decoder.decode(&mut buffer).is_err() {
                return;
            }
        }
    }))
}

fn main() {
    std::panic::set_hook(Box::new(|info| println!("  panic: {info}")));
    let (bytes, schema_len) = one_batch(1);
    let mut panics = 0;
    for at in (schema_len..bytes.len() - 8).step_by(8) {
        let mut patched = bytes.clone();
        patched[at..at + 8].copy_from_slice(&16384u64.to_le_bytes());
        if decode(patched).is_err() {
            println!("patching the word at byte {at} to 16384 made StreamDecoder::decode panic");
            panics += 1;
        }
    }
    println!("{panics} panics");
}
