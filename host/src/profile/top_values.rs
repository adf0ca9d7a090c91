//! The most frequent values of a field, from a frequent-items sketch (Apache DataSketches,
//! Misra–Gries with a 1024-slot map). Counts are exact while a field has fewer than 768
//! distinct values; past that each count is within the sketch's maximum error, reported with
//! it.
//!
//! Values arrive counted per chunk of rows. Once the sketch is past exact, values seen only
//! once in a chunk are left out (on a column of unique values that saves most of the sketch's
//! work): a value's true count can then exceed its tracked one by at most the number of chunks
//! that left something out, which is added to the reported error.

use datasketches::frequencies::{ErrorType, FrequentItemsSketch};

use super::sketch_bytes::serde_via_bytes;

/// How many values a profile reports.
pub const TOP: usize = 10;

const MAP_SIZE: usize = 1024;

/// Frequent values and what the error bound owes to left-out singletons.
#[derive(Debug, Clone)]
pub struct TopValues {
    items: Items,
    /// Chunks whose singletons were left out.
    skipped_chunks: u64,
}

/// A frequent-items sketch over values as 64-bit keys (numbers, dates, booleans: see
/// [`TopValues::add_keys`]) or over text.
#[derive(Debug, Clone)]
enum Items {
    /// Keys standing for values of a non-text field.
    Keys(FrequentItemsSketch<i64>),
    /// Text values.
    Text(FrequentItemsSketch<String>),
}

/// One frequent value with its count and the most that count can be off by.
#[derive(Debug, Clone, PartialEq)]
pub struct Frequent<T> {
    /// The value (its key, for non-text fields).
    pub value: T,
    /// Its estimated count.
    pub count: u64,
    /// The true count is within `count ± error`.
    pub error: u64,
}

impl TopValues {
    /// An empty sketch for keys.
    pub fn keys() -> Self {
        TopValues::of(Items::Keys(
            FrequentItemsSketch::new(MAP_SIZE).expect("MAP_SIZE is a power of two"),
        ))
    }

    /// An empty sketch for text.
    pub fn text() -> Self {
        TopValues::of(Items::Text(
            FrequentItemsSketch::new(MAP_SIZE).expect("MAP_SIZE is a power of two"),
        ))
    }

    fn of(items: Items) -> Self {
        TopValues {
            items,
            skipped_chunks: 0,
        }
    }

    /// Add one chunk's counts of keys. A key is the value's i64 form (an integer, days, units
    /// since the epoch, or the bits of a float).
    pub fn add_keys(&mut self, counts: impl Iterator<Item = (i64, u64)>) {
        let exact = self.sketch_error() == 0;
        let skipped = match &mut self.items {
            Items::Keys(sketch) => feed(exact, counts, |key, n| sketch.update_with_count(key, n)),
            Items::Text(_) => false,
        };
        self.skipped_chunks += u64::from(skipped);
    }

    /// Add one chunk's counts of texts.
    pub fn add_texts<'a>(&mut self, counts: impl Iterator<Item = (&'a str, u64)>) {
        let exact = self.sketch_error() == 0;
        let skipped = match &mut self.items {
            Items::Text(sketch) => feed(exact, counts, |text, n| {
                sketch.update_with_count_ref(text, n)
            }),
            Items::Keys(_) => false,
        };
        self.skipped_chunks += u64::from(skipped);
    }

    /// Combine with the sketch of another part of the same field.
    pub fn merge(&mut self, other: &TopValues) {
        match (&mut self.items, &other.items) {
            (Items::Keys(mine), Items::Keys(theirs)) => mine.merge(theirs),
            (Items::Text(mine), Items::Text(theirs)) => mine.merge(theirs),
            _ => {}
        }
        self.skipped_chunks += other.skipped_chunks;
    }

    /// The most frequent keys, most frequent first (ties by key).
    pub fn top_keys(&self) -> Vec<Frequent<i64>> {
        match &self.items {
            Items::Keys(sketch) => top(sketch, self.skipped_chunks),
            Items::Text(_) => Vec::new(),
        }
    }

    /// The most frequent texts, most frequent first (ties by text).
    pub fn top_texts(&self) -> Vec<Frequent<String>> {
        match &self.items {
            Items::Text(sketch) => top(sketch, self.skipped_chunks),
            Items::Keys(_) => Vec::new(),
        }
    }

    /// The sketch's own maximum error: 0 while it is exact.
    fn sketch_error(&self) -> u64 {
        match &self.items {
            Items::Keys(sketch) => sketch.maximum_error(),
            Items::Text(sketch) => sketch.maximum_error(),
        }
    }

    /// Tag, skipped chunks (8 bytes, little-endian), sketch.
    fn to_bytes(&self) -> Vec<u8> {
        let (tag, body) = match &self.items {
            Items::Keys(sketch) => (0u8, sketch.serialize()),
            Items::Text(sketch) => (1u8, sketch.serialize()),
        };
        [vec![tag], self.skipped_chunks.to_le_bytes().to_vec(), body].concat()
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let error = |e: datasketches::error::Error| format!("a top-values sketch is corrupt: {e}");
        let (Some((tag, rest)), true) = (bytes.split_first(), bytes.len() > 9) else {
            return Err("a top-values sketch is truncated".into());
        };
        let (skipped, body) = rest.split_at(8);
        let items = match tag {
            0 => Items::Keys(FrequentItemsSketch::deserialize(body).map_err(error)?),
            1 => Items::Text(FrequentItemsSketch::deserialize(body).map_err(error)?),
            _ => return Err("a top-values sketch has an unknown kind".into()),
        };
        Ok(TopValues {
            items,
            skipped_chunks: u64::from_le_bytes(skipped.try_into().unwrap_or_default()),
        })
    }
}

serde_via_bytes!(TopValues, TopValues::to_bytes, TopValues::from_bytes);

/// Give one chunk's counts to `update`, leaving out values seen once unless the sketch is still
/// exact; says whether any was left out.
fn feed<T>(
    exact: bool,
    counts: impl Iterator<Item = (T, u64)>,
    mut update: impl FnMut(T, u64),
) -> bool {
    let mut skipped = false;
    for (item, count) in counts {
        if exact || count > 1 {
            update(item, count);
        } else {
            skipped = true;
        }
    }
    skipped
}

/// The [`TOP`] items whose count is certain to be above the error.
fn top<T: Clone + Ord + std::hash::Hash>(
    sketch: &FrequentItemsSketch<T>,
    skipped_chunks: u64,
) -> Vec<Frequent<T>> {
    let threshold = sketch.maximum_error() + skipped_chunks;
    let mut rows = sketch.frequent_items_with_threshold(ErrorType::NoFalsePositives, threshold);
    rows.sort_by(|a, b| {
        b.estimate()
            .cmp(&a.estimate())
            .then_with(|| a.item().cmp(b.item()))
    });
    rows.into_iter()
        .take(TOP)
        .map(|row| Frequent {
            value: row.item().clone(),
            count: row.estimate(),
            error: row.upper_bound() - row.lower_bound() + skipped_chunks,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_for_few_values_in_any_split() {
        let mut whole = TopValues::text();
        let mut parts = [TopValues::text(), TopValues::text()];
        for i in 0..1000u64 {
            let value = format!("v{}", i % 7 * (i % 3));
            whole.add_texts([(value.as_str(), 1)].into_iter());
            parts[(i % 2) as usize].add_texts([(value.as_str(), 1)].into_iter());
        }
        let [mut left, right] = parts;
        left.merge(&right);
        let top = left.top_texts();
        assert_eq!(top, whole.top_texts());
        assert_eq!(top[0].value, "v0");
        assert!(top.iter().all(|f| f.error == 0));
        assert_eq!(top.iter().map(|f| f.count).sum::<u64>(), 1000);
    }

    #[test]
    fn heavy_hitters_survive_many_distinct_values_within_the_error() {
        let mut sketch = TopValues::keys();
        for chunk in (0..200_000i64).collect::<Vec<_>>().chunks(4096) {
            let heavy = chunk.iter().filter(|i| *i % 10 == 0).count() as u64;
            let rest = chunk.iter().filter(|i| *i % 10 != 0).map(|i| (*i, 1));
            sketch.add_keys(std::iter::once((-1, heavy)).chain(rest));
        }
        let top = sketch.top_keys();
        assert_eq!(top[0].value, -1);
        assert!(
            top[0].count.abs_diff(20_000) <= top[0].error,
            "{:?}",
            top[0]
        );
        let back: TopValues =
            serde_json::from_str(&serde_json::to_string(&sketch).unwrap()).unwrap();
        assert_eq!(back.top_keys(), top);
    }
}
