//! The most frequent values of a field, from a frequent-items sketch (Apache DataSketches,
//! Misra–Gries with a 1024-slot map). Counts are exact while a field has fewer than 768
//! distinct values; past that each count is within the sketch's maximum error, reported with
//! it.

use datasketches::frequencies::{ErrorType, FrequentItemsSketch};

use super::sketch_bytes::serde_via_bytes;

/// How many values a profile reports.
pub const TOP: usize = 10;

const MAP_SIZE: usize = 1024;

/// A frequent-items sketch over values as 64-bit keys (numbers, dates, booleans: see
/// [`TopValues::add_keys`]) or over text.
#[derive(Debug, Clone)]
pub enum TopValues {
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
        TopValues::Keys(FrequentItemsSketch::new(MAP_SIZE).expect("MAP_SIZE is a power of two"))
    }

    /// An empty sketch for text.
    pub fn text() -> Self {
        TopValues::Text(FrequentItemsSketch::new(MAP_SIZE).expect("MAP_SIZE is a power of two"))
    }

    /// Count `key` `count` times. A key is the value's i64 form (an integer, days, units
    /// since the epoch, or the bits of a float).
    pub fn add_key(&mut self, key: i64, count: u64) {
        if let TopValues::Keys(sketch) = self {
            sketch.update_with_count(key, count);
        }
    }

    /// Count `text` `count` times.
    pub fn add_text(&mut self, text: &str, count: u64) {
        if let TopValues::Text(sketch) = self {
            sketch.update_with_count_ref(text, count);
        }
    }

    /// Combine with the sketch of another part of the same field.
    pub fn merge(&mut self, other: &TopValues) {
        match (self, other) {
            (TopValues::Keys(mine), TopValues::Keys(theirs)) => mine.merge(theirs),
            (TopValues::Text(mine), TopValues::Text(theirs)) => mine.merge(theirs),
            _ => {}
        }
    }

    /// The most frequent keys, most frequent first (ties by key).
    pub fn top_keys(&self) -> Vec<Frequent<i64>> {
        match self {
            TopValues::Keys(sketch) => top(sketch),
            TopValues::Text(_) => Vec::new(),
        }
    }

    /// The most frequent texts, most frequent first (ties by text).
    pub fn top_texts(&self) -> Vec<Frequent<String>> {
        match self {
            TopValues::Text(sketch) => top(sketch),
            TopValues::Keys(_) => Vec::new(),
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let (tag, body) = match self {
            TopValues::Keys(sketch) => (0u8, sketch.serialize()),
            TopValues::Text(sketch) => (1u8, sketch.serialize()),
        };
        [vec![tag], body].concat()
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let error = |e: datasketches::error::Error| format!("a top-values sketch is corrupt: {e}");
        match bytes.split_first() {
            Some((0, body)) => FrequentItemsSketch::deserialize(body)
                .map(TopValues::Keys)
                .map_err(error),
            Some((1, body)) => FrequentItemsSketch::deserialize(body)
                .map(TopValues::Text)
                .map_err(error),
            _ => Err("a top-values sketch has an unknown kind".into()),
        }
    }
}

serde_via_bytes!(TopValues, TopValues::to_bytes, TopValues::from_bytes);

/// The [`TOP`] items whose count is certain to be above the sketch's error.
fn top<T: Clone + Ord + std::hash::Hash>(sketch: &FrequentItemsSketch<T>) -> Vec<Frequent<T>> {
    let mut rows = sketch.frequent_items(ErrorType::NoFalsePositives);
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
            error: row.upper_bound() - row.lower_bound(),
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
            whole.add_text(&value, 1);
            parts[(i % 2) as usize].add_text(&value, 1);
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
        for i in 0..200_000i64 {
            let key = if i % 10 == 0 { -1 } else { i };
            sketch.add_key(key, 1);
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
