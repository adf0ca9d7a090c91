//! The logical size of a decoded batch: the bytes it takes once every value is materialised
//! (as the profiler's casts to plain text or numbers do), whatever it took on the wire. Views,
//! dictionary keys, list views, dense unions and run-end encoding let a few bytes reference
//! the same large value many times: 2048 `Utf8View` views of one 32 MiB buffer are 32 MiB on
//! the wire and 64 GiB as `Utf8`. Every count is O(the bytes actually received), allocates
//! nothing proportional to a length a plugin declared, and saturates instead of overflowing.
//!
//! The rules: a fixed-width value counts its width, a variable-width value its bytes plus an
//! offset; every row of every column counts at least one byte (a `Null` column or a struct
//! without fields has no buffers to bound its length); each reference (a key, a view of a
//! list, a run, a dense union slot) counts the value it refers to. Where a reference points
//! into a nested array, it counts as that whole array.

use arrow::array::{
    Array, AsArray, GenericByteViewArray, RecordBatch, UnionArray, downcast_dictionary_array,
    downcast_run_array,
};
use arrow::datatypes::{ArrowNativeType, ByteViewType, DataType, UnionMode};

/// The logical size of `batch` in bytes.
pub fn batch_bytes(batch: &RecordBatch) -> u64 {
    batch
        .columns()
        .iter()
        .fold(batch.num_rows() as u64, |sum, column| {
            sum.saturating_add(array_bytes(column.as_ref()))
        })
}

/// The logical size of one array in bytes.
pub fn array_bytes(array: &dyn Array) -> u64 {
    let rows = array.len() as u64;
    let offsets = |width: u64| width.saturating_mul(rows.saturating_add(1));
    let payload = match array.data_type() {
        DataType::Null => 0,
        DataType::Boolean => rows.div_ceil(8),
        DataType::FixedSizeBinary(width) => rows.saturating_mul(*width as u64),
        DataType::Utf8 => offset_bytes(array.as_string::<i32>().value_offsets(), 4),
        DataType::Binary => offset_bytes(array.as_binary::<i32>().value_offsets(), 4),
        DataType::LargeUtf8 => offset_bytes(array.as_string::<i64>().value_offsets(), 8),
        DataType::LargeBinary => offset_bytes(array.as_binary::<i64>().value_offsets(), 8),
        DataType::Utf8View => view_bytes(array.as_string_view()),
        DataType::BinaryView => view_bytes(array.as_binary_view()),
        DataType::List(_) => {
            offsets(4).saturating_add(array_bytes(array.as_list::<i32>().values()))
        }
        DataType::LargeList(_) => {
            offsets(8).saturating_add(array_bytes(array.as_list::<i64>().values()))
        }
        DataType::Map(..) => offsets(4).saturating_add(array_bytes(array.as_map().entries())),
        DataType::FixedSizeList(..) => array_bytes(array.as_fixed_size_list().values()),
        DataType::ListView(_) => {
            let list = array.as_list_view::<i32>();
            let sizer = Sizer::of(list.values().as_ref());
            let refs = (0..list.len()).filter(|i| list.is_valid(*i)).map(|i| {
                let (start, len) = (list.value_offsets()[i], list.value_sizes()[i]);
                sizer.range(start.as_usize(), len.as_usize())
            });
            (8 * rows).saturating_add(sum(refs))
        }
        DataType::LargeListView(_) => {
            let list = array.as_list_view::<i64>();
            let sizer = Sizer::of(list.values().as_ref());
            let refs = (0..list.len()).filter(|i| list.is_valid(*i)).map(|i| {
                let (start, len) = (list.value_offsets()[i], list.value_sizes()[i]);
                sizer.range(start.as_usize(), len.as_usize())
            });
            (16 * rows).saturating_add(sum(refs))
        }
        DataType::Struct(_) => sum(array.as_struct().columns().iter().map(|c| array_bytes(c))),
        DataType::Union(_, mode) => match array.as_any().downcast_ref() {
            Some(union) => union_bytes(union, *mode),
            // Not reached: arrow builds every array of a union type as a `UnionArray`.
            None => array.get_buffer_memory_size() as u64,
        },
        DataType::Dictionary(key, _) => {
            let keys = rows.saturating_mul(key.primitive_width().unwrap_or(8) as u64);
            keys.saturating_add(dictionary_refs(array))
        }
        DataType::RunEndEncoded(..) => run_bytes(array),
        data_type => match data_type.primitive_width() {
            Some(width) => rows.saturating_mul(width as u64),
            // A type this list does not know: what it holds in memory.
            None => array.get_array_memory_size() as u64,
        },
    };
    payload.max(rows)
}

fn sum(values: impl Iterator<Item = u64>) -> u64 {
    values.fold(0u64, u64::saturating_add)
}

/// An offset of `width` bytes a value, plus the bytes between the first and last offsets.
fn offset_bytes<O: ArrowNativeType>(offsets: &[O], width: u64) -> u64 {
    let values = match (offsets.first(), offsets.last()) {
        (Some(first), Some(last)) => span(first.as_usize(), last.as_usize()),
        _ => 0,
    };
    (width * offsets.len() as u64).saturating_add(values)
}

fn span(start: usize, end: usize) -> u64 {
    end.saturating_sub(start) as u64
}

/// 16 bytes a view, plus the bytes of every valid view's value.
fn view_bytes<T: ByteViewType + ?Sized>(array: &GenericByteViewArray<T>) -> u64 {
    let values = (0..array.len())
        .filter(|i| array.is_valid(*i))
        .map(|i| u64::from(array.views()[i] as u32));
    (16 * array.len() as u64).saturating_add(sum(values))
}

/// Each valid key counts the value it refers to.
fn dictionary_refs(array: &dyn Array) -> u64 {
    downcast_dictionary_array!(
        array => {
            let sizer = Sizer::of(array.values().as_ref());
            let keys = array.keys();
            sum(keys.iter().flatten().map(|key| sizer.range(key.as_usize(), 1)))
        },
        _ => array.get_array_memory_size() as u64
    )
}

/// The run ends, and each run's value times the run's length.
fn run_bytes(array: &dyn Array) -> u64 {
    downcast_run_array!(
        array => {
            let ends = array.run_ends().values();
            let sizer = Sizer::of(array.values().as_ref());
            let mut previous = 0usize;
            let runs = ends.iter().enumerate().map(|(i, end)| {
                let end = end.as_usize();
                let length = end.saturating_sub(previous) as u64;
                previous = end;
                length.saturating_mul(sizer.range(i, 1))
            });
            let run_ends = ends.len() as u64 * 8;
            run_ends.saturating_add(sum(runs))
        },
        _ => array.get_array_memory_size() as u64
    )
}

/// A sparse union holds its children side by side; a dense one refers into them by offset.
fn union_bytes(array: &UnionArray, mode: UnionMode) -> u64 {
    let DataType::Union(fields, _) = array.data_type() else {
        return array.get_array_memory_size() as u64;
    };
    let rows = array.len() as u64;
    match mode {
        UnionMode::Sparse => {
            let children = fields
                .iter()
                .map(|(id, _)| array_bytes(array.child(id).as_ref()));
            rows.saturating_add(sum(children))
        }
        UnionMode::Dense => {
            let sizers: Vec<(i8, Sizer)> = fields
                .iter()
                .map(|(id, _)| (id, Sizer::of(array.child(id).as_ref())))
                .collect();
            let offsets = array.offsets().map(|o| o.as_ref()).unwrap_or(&[]);
            let refs = array.type_ids().iter().zip(offsets).map(|(id, offset)| {
                sizers
                    .iter()
                    .find(|(child, _)| child == id)
                    .map_or(0, |(_, sizer)| sizer.range(offset.as_usize(), 1))
            });
            (5 * rows).saturating_add(sum(refs))
        }
    }
}

/// The logical size of a range of an array's values, for references into it.
enum Sizer<'a> {
    /// Every value is this many bytes.
    Fixed(u64),
    /// Byte arrays: an offset of this width per value, plus the bytes between offsets.
    Offsets32(&'a [i32]),
    Offsets64(&'a [i64]),
    /// Prefix sums of each value's size (views: 16 bytes plus the value's length).
    Prefix(Vec<u64>),
    /// Nested values: each reference counts as the whole array.
    Whole(u64),
}

impl<'a> Sizer<'a> {
    fn of(array: &'a dyn Array) -> Sizer<'a> {
        let data_type = array.data_type();
        match data_type {
            DataType::Null => Sizer::Fixed(1),
            DataType::Boolean => Sizer::Fixed(1),
            DataType::FixedSizeBinary(width) => Sizer::Fixed(*width as u64),
            DataType::Utf8 => Sizer::Offsets32(array.as_string::<i32>().value_offsets()),
            DataType::Binary => Sizer::Offsets32(array.as_binary::<i32>().value_offsets()),
            DataType::LargeUtf8 => Sizer::Offsets64(array.as_string::<i64>().value_offsets()),
            DataType::LargeBinary => Sizer::Offsets64(array.as_binary::<i64>().value_offsets()),
            DataType::Utf8View => Sizer::prefix(array.as_string_view().views()),
            DataType::BinaryView => Sizer::prefix(array.as_binary_view().views()),
            _ => match data_type.primitive_width() {
                Some(width) => Sizer::Fixed(width as u64),
                None => Sizer::Whole(array_bytes(array)),
            },
        }
    }

    fn prefix(views: &[u128]) -> Sizer<'a> {
        let mut total = 0u64;
        let mut sums = Vec::with_capacity(views.len() + 1);
        sums.push(0);
        for view in views {
            total = total.saturating_add(16 + u64::from(*view as u32));
            sums.push(total);
        }
        Sizer::Prefix(sums)
    }

    /// The size of `len` values from `start`; a range outside the array (only null slots can
    /// hold one, arrow validates the others) counts as nothing.
    fn range(&self, start: usize, len: usize) -> u64 {
        let Some(end) = start.checked_add(len) else {
            return 0;
        };
        match self {
            Sizer::Fixed(width) => width.saturating_mul(len as u64),
            Sizer::Offsets32(offsets) => match (offsets.get(start), offsets.get(end)) {
                (Some(a), Some(b)) => {
                    (4 * len as u64).saturating_add(span(a.as_usize(), b.as_usize()))
                }
                _ => 0,
            },
            Sizer::Offsets64(offsets) => match (offsets.get(start), offsets.get(end)) {
                (Some(a), Some(b)) => {
                    (8 * len as u64).saturating_add(span(a.as_usize(), b.as_usize()))
                }
                _ => 0,
            },
            Sizer::Prefix(sums) => match (sums.get(start), sums.get(end)) {
                (Some(a), Some(b)) => b - a,
                _ => 0,
            },
            Sizer::Whole(bytes) => bytes.saturating_mul(len as u64),
        }
    }
}
