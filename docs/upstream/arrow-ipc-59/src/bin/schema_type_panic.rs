//! A schema whose field is an `Int` of 7 bits makes `fb_to_schema` (and so `StreamReader`,
//! `StreamDecoder` and `try_schema_from_ipc_buffer`) panic ("Unexpected bitwidth and
//! signed") instead of returning an error. Other unknown widths, units and precisions panic
//! the same way (convert.rs has a `panic!` for each).

use std::io::Cursor;

use arrow_ipc::reader::StreamReader;
use arrow_ipc::{
    FieldBuilder, IntBuilder, MessageBuilder, MessageHeader, MetadataVersion, SchemaBuilder, Type,
};
use arrow_ipc_59_repro::frame;
use flatbuffers::FlatBufferBuilder;

fn main() {
    let mut fbb = FlatBufferBuilder::new();
    let name = fbb.create_string("n");
    let mut int = IntBuilder::new(&mut fbb);
    int.add_bitWidth(7);
    int.add_is_signed(true);
    let int = int.finish();
    let mut field = FieldBuilder::new(&mut fbb);
    field.add_name(name);
    field.add_nullable(true);
    field.add_type_type(Type::Int);
    field.add_type_(int.as_union_value());
    let field = field.finish();
    let fields = fbb.create_vector(&[field]);
    let mut schema = SchemaBuilder::new(&mut fbb);
    schema.add_fields(fields);
    let schema = schema.finish();
    let mut message = MessageBuilder::new(&mut fbb);
    message.add_version(MetadataVersion::V5);
    message.add_header_type(MessageHeader::Schema);
    message.add_header(schema.as_union_value());
    let message = message.finish();
    fbb.finish(message, None);
    let bytes = frame(fbb.finished_data());
    let read = std::panic::catch_unwind(|| StreamReader::try_new(Cursor::new(bytes), None).is_ok());
    println!("StreamReader::try_new panicked: {}", read.is_err());
}
