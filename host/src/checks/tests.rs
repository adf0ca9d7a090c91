//! Tests of checks as a whole: their JSON form, every rule's variant round-tripping, and
//! parameters checked when read.

use serde_json::json;

use super::*;

/// One example of every rule, with its parameters.
fn every_rule() -> Vec<Rule> {
    use Number::{Float, Int, UInt};
    vec![
        Rule::AfterDateTime {
            datetime: "2024-01-31T00:00:00Z".into(),
        },
        Rule::BeforeDateTime {
            datetime: "2024-01-31T00:00:00+02:00".into(),
        },
        Rule::Between {
            min: Int(i64::MIN),
            max: UInt(u64::MAX),
            inclusive_min: false,
            inclusive_max: true,
        },
        Rule::BetweenTimes {
            min: "08:00:00".into(),
            max: "17:30:00.5".into(),
        },
        Rule::NotFuture,
        Rule::EqualTo {
            value: Float(-0.5),
            tolerance: Some(0.01),
        },
        Rule::GreaterThan {
            value: Float(1e300),
            inclusive: true,
        },
        Rule::LessThan {
            value: Int(-1),
            inclusive: false,
        },
        Rule::MinValue { value: Int(0) },
        Rule::MaxValue { value: Float(99.5) },
        Rule::NotNegative,
        Rule::Positive,
        Rule::EqualToField {
            field: "total".into(),
            tolerance: None,
        },
        Rule::GreaterThanField {
            field: "start".into(),
            inclusive: true,
        },
        Rule::LessThanField {
            field: "end".into(),
            inclusive: false,
        },
        Rule::NotNull,
        Rule::AnyNotNull {
            fields: vec!["phone".into(), "email".into()],
        },
        Rule::Unique,
        Rule::DistinctCount { value: 3 },
        Rule::IsType {
            value_type: ValueType::Timestamp,
        },
        Rule::MatchesPattern {
            pattern: r"^\d{3}$".into(),
        },
        Rule::MinLength { value: 0 },
        Rule::MaxLength { value: 255 },
        Rule::ExpectedValues {
            values: vec![
                Scalar::Text("open".into()),
                Scalar::Number(Int(1)),
                Scalar::Number(Float(2.5)),
                Scalar::Bool(false),
            ],
        },
        Rule::RequiredValues {
            values: vec![Scalar::Text("".into()), Scalar::Number(UInt(u64::MAX))],
        },
        Rule::ContainsEmail,
        Rule::ContainsUrl,
        Rule::ContainsCreditCard,
        Rule::ContainsSocialSecurityNumber,
        Rule::IsCreditCard,
        Rule::ExistsIn {
            container: "customers".into(),
            field: "id".into(),
            datastore: None,
        },
        Rule::NotExistsIn {
            container: "blocked".into(),
            field: "email".into(),
            datastore: Some("crm".into()),
        },
        Rule::ExpectedSchema {
            fields: vec![
                SchemaField {
                    name: "id".into(),
                    field_type: Some(FieldType::Integer),
                },
                SchemaField {
                    name: "note".into(),
                    field_type: None,
                },
            ],
            allow_other_fields: true,
        },
        Rule::FieldCount { value: 12 },
        Rule::Sum {
            value: Float(1234.5),
            tolerance: None,
        },
        Rule::Volumetric {
            comparison: VolumeComparison::PercentageChange,
            min: Some(-5.0),
            max: None,
        },
        Rule::MinPartitionSize { value: 1 },
        Rule::MaxPartitionSize { value: 1_000_000 },
        Rule::TimeDistributionSize {
            interval: Interval::Daily,
            min: Some(10),
            max: Some(1000),
        },
        Rule::Freshness {
            max_age_seconds: 3600,
        },
        Rule::AggregationComparison {
            expression: "SUM(amount)".into(),
            comparison: Comparison::Lte,
            ref_container: "ledger".into(),
            ref_expression: "SUM(total)".into(),
            ref_datastore: None,
        },
        Rule::DataDiff {
            ref_container: "orders_copy".into(),
            row_identifiers: vec!["id".into()],
            ref_datastore: None,
        },
        Rule::SatisfiesExpression {
            expression: "amount >= discount".into(),
        },
        Rule::Metric {
            expression: "amount * rate".into(),
            min: Some(0.0),
            max: Some(1.0),
        },
    ]
}

#[test]
fn every_rule_round_trips_through_json_with_its_name_as_the_rule_key() {
    let rules = every_rule();
    assert_eq!(rules.len(), 44, "one example per variant");
    for rule in rules {
        let check = Check {
            id: Some(3),
            container: "orders.csv".into(),
            fields: vec!["amount".into()],
            rule: rule.clone(),
            filter: Some("status = 'open'".into()),
            description: "a check".into(),
            tags: vec!["finance".into()],
            weight: 2,
        };
        let json = serde_json::to_value(&check).unwrap();
        assert_eq!(json["rule"]["rule"], rule.name(), "{json}");
        let back: Check =
            serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(back, check);
        let alone = serde_json::to_string(&rule).unwrap();
        assert_eq!(
            serde_json::from_str::<Rule>(&alone).unwrap(),
            rule,
            "{alone}"
        );
    }
}

#[test]
fn a_check_reads_from_the_json_a_user_writes_with_defaults() {
    let check: Check = serde_json::from_value(json!({
        "container": "orders.csv",
        "fields": ["amount"],
        "rule": {"rule": "between", "min": 0, "max": 100.5},
    }))
    .unwrap();
    assert_eq!(
        check.rule,
        Rule::Between {
            min: Number::Int(0),
            max: Number::Float(100.5),
            inclusive_min: true,
            inclusive_max: true
        }
    );
    assert_eq!(
        (check.id, check.weight, check.filter.as_deref()),
        (None, 1, None)
    );
    assert_eq!(check.label(), "between on orders.csv.amount");
    let typed: Rule = serde_json::from_value(json!({"rule": "is_type", "type": "date"})).unwrap();
    assert_eq!(
        typed,
        Rule::IsType {
            value_type: ValueType::Date
        }
    );
}

#[test]
fn misspelt_rules_and_parameters_are_refused() {
    let unknown = serde_json::from_value::<Rule>(json!({"rule": "is_between", "min": 1}));
    assert!(unknown.unwrap_err().to_string().contains("unknown variant"));
    let misspelt = serde_json::from_value::<Rule>(json!({"rule": "min_length", "valeu": 1}));
    assert!(misspelt.is_err());
    let extra = serde_json::from_value::<Rule>(json!({"rule": "min_length", "value": 1, "max": 2}));
    assert!(
        extra
            .unwrap_err()
            .to_string()
            .contains("unknown field `max`")
    );
    let beside_the_check = serde_json::from_value::<Check>(json!({
        "container": "orders.csv", "rule": {"rule": "not_null"}, "wieght": 3
    }));
    assert!(
        beside_the_check
            .unwrap_err()
            .to_string()
            .contains("unknown field `wieght`")
    );
}

#[test]
fn every_rule_has_one_evaluation_and_the_gap_is_named() {
    let rules = every_rule();
    let not_yet: Vec<&str> = rules
        .iter()
        .filter(|r| matches!(r.evaluation(), Evaluation::NotYet(_)))
        .map(Rule::name)
        .collect();
    assert_eq!(not_yet, [""; 0]);
    let reference: Vec<&str> = rules
        .iter()
        .filter(|r| r.evaluation() == Evaluation::Reference)
        .map(Rule::name)
        .collect();
    assert_eq!(
        reference,
        [
            "exists_in",
            "not_exists_in",
            "aggregation_comparison",
            "data_diff"
        ]
    );
    let aggregate = rules
        .iter()
        .filter(|r| r.evaluation() == Evaluation::Aggregate)
        .count();
    assert_eq!(aggregate, 10);
    let history: Vec<&str> = rules
        .iter()
        .filter(|r| r.evaluation() == Evaluation::History)
        .map(Rule::name)
        .collect();
    assert_eq!(history, ["volumetric"]);
}
