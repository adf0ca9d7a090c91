//! The proposals for text fields: the type their values parse as, their categories, their
//! lengths and their shape.

use super::pattern::pattern_of_shape;
use super::propose::Proposer;
use crate::checks::params::{Scalar, ValueType};
use crate::checks::rule::Rule;
use crate::profile::TextType;

impl Proposer<'_> {
    /// `is_type` when every text value (none empty: an empty value parses as nothing) parses
    /// as one type. Dates mixed with timestamps agree on timestamps in the profile, but the
    /// rule's `timestamp` takes no plain date, so they get none.
    pub(super) fn text_type(&mut self) {
        let f = self.field;
        let Some(text) = &f.text else {
            return;
        };
        let types = text.types;
        if text.empty > 0 || types.total() != f.count {
            return;
        }
        let (value_type, what) = match types.agreed() {
            Some(TextType::Integral) => (ValueType::Integer, "integers"),
            Some(TextType::Fractional) => (ValueType::Float, "numbers"),
            Some(TextType::Boolean) => (ValueType::Boolean, "booleans"),
            Some(TextType::Date) => (ValueType::Date, "dates"),
            Some(TextType::Timestamp) if types.date == 0 => (ValueType::Timestamp, "timestamps"),
            _ => return,
        };
        let evidence = format!("all {} parse as {what}", self.values());
        self.propose(
            Rule::IsType { value_type },
            format!("holds {what} as text"),
            evidence,
        );
    }

    /// `expected_values` for a text field; whether it was proposed.
    pub(super) fn text_categories(&mut self) -> bool {
        let f = self.field;
        let Some(top) = &f.top_values else {
            return false;
        };
        let Some(mut texts) = self.categories(top.top_texts()) else {
            return false;
        };
        texts.sort();
        self.expected(texts.into_iter().map(Scalar::Text).collect())
    }

    /// `min_length` (when not 0) and `max_length`, in characters as the profile counts them.
    pub(super) fn lengths(&mut self) {
        let Some(text) = &self.field.text else {
            return;
        };
        let (Some(lo), Some(hi)) = (text.min_length, text.max_length) else {
            return;
        };
        if self.sample.is_some() {
            return;
        }
        let evidence = format!("lengths {lo} to {hi} characters over {}", self.values());
        if lo > 0 {
            let description = format!("is at least {lo} characters long");
            self.propose(Rule::MinLength { value: lo }, description, evidence.clone());
        }
        let description = format!("is at most {hi} characters long");
        self.propose(Rule::MaxLength { value: hi }, description, evidence);
    }

    /// `matches_pattern` when every value (none empty) has the same shape, counted exactly.
    pub(super) fn pattern(&mut self) {
        let f = self.field;
        let Some(text) = &f.text else {
            return;
        };
        if self.sample.is_some() || text.empty > 0 {
            return;
        }
        let shapes = text.top_shapes();
        let [shape] = shapes.as_slice() else {
            return;
        };
        if shape.error != 0 || shape.count != f.count {
            return;
        }
        let Some(pattern) = pattern_of_shape(&shape.value) else {
            return;
        };
        let evidence = format!("all {} have the shape {}", self.values(), shape.value);
        let description = format!("has the shape {}", shape.value);
        self.propose(Rule::MatchesPattern { pattern }, description, evidence);
    }
}
