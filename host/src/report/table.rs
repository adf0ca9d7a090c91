//! The profile as aligned text tables for people: one table per container, one row per field,
//! the statistics a person scans first.

use super::{FieldReport, ProfileReport};

/// Column names; the flag says whether the column holds numbers (aligned right).
const COLUMNS: [(&str, bool); 13] = [
    ("field", false),
    ("type", false),
    ("count", true),
    ("nulls", true),
    ("distinct", true),
    ("min", false),
    ("max", false),
    ("mean", true),
    ("stddev", true),
    ("median", false),
    ("length", false),
    ("top value", false),
    ("looks like", false),
];
const MAX_CELL: usize = 28;

/// The report as aligned text tables, one per container.
pub fn render_table(report: &ProfileReport) -> String {
    let mut out = String::new();
    for container in &report.containers {
        match &container.error {
            Some(error) => out.push_str(&format!("{}: FAILED: {error}\n\n", container.name)),
            None => {
                let sampled = container
                    .sample_fraction
                    .map(|f| format!(", a {:.2}% sample", f * 100.0))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "{} ({} rows{sampled})\n",
                    container.name, container.rows
                ));
                let rows: Vec<Vec<String>> = container.fields.iter().map(table_row).collect();
                out.push_str(&align(&rows));
                out.push('\n');
            }
        }
    }
    out
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn table_row(f: &FieldReport) -> Vec<String> {
    let number = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
    let distinct = match (f.distinct, f.distinct_is_approximate) {
        (Some(d), true) => format!("~{d}"),
        (Some(d), false) => d.to_string(),
        (None, _) => String::new(),
    };
    let length = match (f.min_length, f.max_length) {
        (Some(lo), Some(hi)) => format!("{lo}..{hi}"),
        _ => String::new(),
    };
    let top = f
        .top_values
        .as_ref()
        .and_then(|top| top.first())
        .filter(|top| top.count > 1 && f.count > 0)
        .map(|top| {
            let share = top.count as f64 / f.count as f64 * 100.0;
            format!("{} ({share:.1}%)", text(&top.value))
        })
        .unwrap_or_default();
    let looks_like = match (&f.inferred_type, f.data_type.contains("string")) {
        (Some(t), true) => serde_json::to_value(t)
            .map(|t| text(&t))
            .unwrap_or_default(),
        _ => String::new(),
    };
    vec![
        f.name.clone(),
        f.data_type.clone(),
        f.count.to_string(),
        f.nulls.to_string(),
        distinct,
        text(&f.min),
        text(&f.max),
        number(f.mean),
        number(f.stddev),
        f.quantiles
            .as_ref()
            .map(|q| match f.quantile_rank_error {
                Some(error) if error > 0.0 => format!("~{}", text(q.median())),
                _ => text(q.median()),
            })
            .unwrap_or_default(),
        length,
        top,
        looks_like,
    ]
}

fn align(rows: &[Vec<String>]) -> String {
    let cell = |s: &str| -> String {
        let clean: String = s
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if clean.chars().count() > MAX_CELL {
            format!("{}…", clean.chars().take(MAX_CELL - 1).collect::<String>())
        } else {
            clean
        }
    };
    let header: Vec<String> = COLUMNS.iter().map(|(name, _)| name.to_string()).collect();
    let cells: Vec<Vec<String>> = std::iter::once(&header)
        .chain(rows)
        .map(|row| row.iter().map(|c| cell(c)).collect())
        .collect();
    let widths: Vec<usize> = (0..COLUMNS.len())
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &cells {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .zip(COLUMNS)
            .map(|((c, w), (_, numeric))| {
                let pad = " ".repeat(w - c.chars().count());
                if numeric {
                    format!("{pad}{c}")
                } else {
                    format!("{c}{pad}")
                }
            })
            .collect();
        out.push_str("  ");
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
