//! What a text field's values look like: lengths, empty and whitespace-padded values, the
//! types they parse as (and the one they agree on), and their most common shapes.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use std::hash::BuildHasherDefault;

use xxhash_rust::xxh3::xxh3_64;

use super::distinct::IdentityHasher;

use super::inference::{TextType, classify, shape_of};
use super::top_values::{Frequent, TopValues};

/// Statistics of a text field's non-null values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TextStats {
    /// Empty values (`""`; not classified, not shaped).
    pub empty: u64,
    /// Values with whitespace before or after them.
    pub padded: u64,
    /// Shortest value, in characters.
    pub min_length: Option<u64>,
    /// Longest value, in characters.
    pub max_length: Option<u64>,
    /// The lengths of all values added up, for the mean.
    pub total_length: u64,
    /// How many non-empty values parse as each type (each counted once, as its most specific
    /// type).
    pub types: TypeCounts,
    /// The values' shapes.
    pub shapes: TopValues,
    /// Shapes of the batch being added, counted before they go into the sketch.
    #[serde(skip)]
    batch_shapes: HashMap<u64, (String, u64), BuildHasherDefault<IdentityHasher>>,
}

/// Non-empty values per [`TextType`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeCounts {
    /// Whole numbers.
    pub integral: u64,
    /// Other numbers.
    pub fractional: u64,
    /// Truth values.
    pub boolean: u64,
    /// Dates.
    pub date: u64,
    /// Dates with a time.
    pub timestamp: u64,
    /// Anything else.
    pub text: u64,
}

impl Default for TextStats {
    fn default() -> Self {
        TextStats {
            empty: 0,
            padded: 0,
            min_length: None,
            max_length: None,
            total_length: 0,
            types: TypeCounts::default(),
            shapes: TopValues::text(),
            batch_shapes: HashMap::default(),
        }
    }
}

impl TextStats {
    /// Add a batch's non-null values.
    pub fn add<'a>(&mut self, values: impl Iterator<Item = &'a str>) {
        let (mut shortest, mut longest) = (u64::MAX, 0u64);
        let mut shape = String::new();
        for value in values {
            let length = if value.is_ascii() {
                value.len()
            } else {
                value.chars().count()
            } as u64;
            shortest = shortest.min(length);
            longest = longest.max(length);
            self.total_length += length;
            let trimmed = value.trim();
            if trimmed.len() != value.len() {
                self.padded += 1;
            }
            if trimmed.is_empty() {
                self.empty += u64::from(value.is_empty());
                if value.is_empty() {
                    continue;
                }
            }
            self.types.add(classify(trimmed));
            shape_of(value, &mut shape);
            self.batch_shapes
                .entry(xxh3_64(shape.as_bytes()))
                .or_insert_with(|| (shape.clone(), 0))
                .1 += 1;
        }
        if longest >= shortest {
            self.min_length = Some(self.min_length.map_or(shortest, |l| l.min(shortest)));
            self.max_length = Some(self.max_length.map_or(longest, |l| l.max(longest)));
        }
        let shapes: Vec<(String, u64)> = self.batch_shapes.drain().map(|(_, v)| v).collect();
        self.shapes
            .add_texts(shapes.iter().map(|(shape, count)| (shape.as_str(), *count)));
    }

    /// Combine with the statistics of another part of the same field.
    pub fn merge(&mut self, other: &TextStats) {
        self.empty += other.empty;
        self.padded += other.padded;
        self.min_length = pick(self.min_length, other.min_length, u64::min);
        self.max_length = pick(self.max_length, other.max_length, u64::max);
        self.total_length += other.total_length;
        self.types.merge(&other.types);
        self.shapes.merge(&other.shapes);
    }

    /// The most common shapes, most common first.
    pub fn top_shapes(&self) -> Vec<Frequent<String>> {
        self.shapes.top_texts()
    }
}

impl TypeCounts {
    fn add(&mut self, text_type: TextType) {
        *self.slot(text_type) += 1;
    }

    fn slot(&mut self, text_type: TextType) -> &mut u64 {
        match text_type {
            TextType::Integral => &mut self.integral,
            TextType::Fractional => &mut self.fractional,
            TextType::Boolean => &mut self.boolean,
            TextType::Date => &mut self.date,
            TextType::Timestamp => &mut self.timestamp,
            TextType::Text => &mut self.text,
        }
    }

    fn merge(&mut self, other: &TypeCounts) {
        self.integral += other.integral;
        self.fractional += other.fractional;
        self.boolean += other.boolean;
        self.date += other.date;
        self.timestamp += other.timestamp;
        self.text += other.text;
    }

    /// Values classified.
    pub fn total(&self) -> u64 {
        self.integral + self.fractional + self.boolean + self.date + self.timestamp + self.text
    }

    /// The share of classified values that parse as each type, counting a value as every
    /// type it parses as: an integer is also fractional, a date also a timestamp.
    pub fn shares(&self) -> Vec<(TextType, f64)> {
        let total = self.total().max(1) as f64;
        let numbers = self.integral + self.fractional;
        let temporal = self.date + self.timestamp;
        [
            (TextType::Integral, self.integral),
            (TextType::Fractional, numbers),
            (TextType::Boolean, self.boolean),
            (TextType::Date, self.date),
            (TextType::Timestamp, temporal),
            (TextType::Text, self.text),
        ]
        .into_iter()
        .map(|(t, n)| (t, n as f64 / total))
        .collect()
    }

    /// The most specific type every classified value parses as, if there were any values.
    pub fn agreed(&self) -> Option<TextType> {
        let total = self.total();
        let numbers = self.integral + self.fractional;
        let temporal = self.date + self.timestamp;
        Some(match total {
            0 => return None,
            _ if self.integral == total => TextType::Integral,
            _ if numbers == total => TextType::Fractional,
            _ if self.boolean == total => TextType::Boolean,
            _ if self.date == total => TextType::Date,
            _ if temporal == total => TextType::Timestamp,
            _ => TextType::Text,
        })
    }
}

fn pick(a: Option<u64>, b: Option<u64>, choose: fn(u64, u64) -> u64) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(choose(a, b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(values: &[&str]) -> TextStats {
        let mut stats = TextStats::default();
        stats.add(values.iter().copied());
        stats
    }

    #[test]
    fn tricky_text_is_classified_and_agreed_on() {
        let s = stats(&["42", " 17 ", "1,000", "-3", "", "  "]);
        assert_eq!((s.empty, s.padded), (1, 2));
        assert_eq!(s.types.integral, 4);
        assert_eq!(s.types.text, 1, "whitespace only is text: {:?}", s.types);
        assert_eq!(s.types.agreed(), Some(TextType::Text));
        let numbers = stats(&["1", "2.5", "NaN", "3e2"]);
        assert_eq!(numbers.types.agreed(), Some(TextType::Fractional));
        let codes = stats(&["007", "012", "123"]);
        assert_eq!(codes.types.agreed(), Some(TextType::Text));
        assert_eq!(codes.types.integral, 1);
        let dates = stats(&["2024-01-31", "01/31/2024", "31.01.2024"]);
        assert_eq!(dates.types.agreed(), Some(TextType::Date));
        let mixed = stats(&["2024-01-31", "2024-01-31 10:00:00"]);
        assert_eq!(mixed.types.agreed(), Some(TextType::Timestamp));
        let shares = mixed.types.shares();
        assert_eq!(shares[3], (TextType::Date, 0.5));
        assert_eq!(shares[4], (TextType::Timestamp, 1.0));
        assert_eq!(stats(&[""]).types.agreed(), None);
    }

    #[test]
    fn lengths_and_shapes_merge() {
        let mut a = stats(&["AB-12", "CD-34", "Zoë"]);
        let b = stats(&["EF-56", "x"]);
        a.merge(&b);
        assert_eq!(
            (a.min_length, a.max_length, a.total_length),
            (Some(1), Some(5), 19)
        );
        let shapes = a.top_shapes();
        assert_eq!(shapes[0].value, "A-99");
        assert_eq!(shapes[0].count, 3);
        assert_eq!(shapes.len(), 3);
    }
}
