//! Why a check cannot be evaluated. A check that runs and finds bad rows is not an error (it
//! is an outcome); these are checks that do not fit their data or are not built yet, and each
//! message names the check and says what to change.

/// A check that cannot be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckError {
    /// The check names a field the container does not have.
    #[error("check {check}: the container has no field `{field}`; fix the check's fields")]
    NoSuchField {
        /// The check, as [`Check::label`](super::Check::label) names it.
        check: String,
        /// The field asked for.
        field: String,
    },

    /// The rule does not apply to the field's type.
    #[error(
        "check {check}: field `{field}` is {data_type}, but the rule needs {needs}; \
         apply it to another field or choose another rule"
    )]
    UnsupportedType {
        /// The check.
        check: String,
        /// The field.
        field: String,
        /// The field's Arrow type.
        data_type: String,
        /// What the rule works on.
        needs: String,
    },

    /// The check has the wrong number of fields for its rule.
    #[error("check {check}: the rule needs {needs}, but the check names {found} field(s)")]
    FieldCount {
        /// The check.
        check: String,
        /// How many fields the rule takes.
        needs: &'static str,
        /// How many the check names.
        found: usize,
    },

    /// A parameter of the rule cannot be used (a pattern that does not compile, a time that
    /// does not parse, a value of the wrong kind).
    #[error("check {check}: parameter `{parameter}` {reason}")]
    Parameter {
        /// The check.
        check: String,
        /// The parameter's name.
        parameter: &'static str,
        /// What is wrong with it and what it should be.
        reason: String,
    },

    /// A SQL expression (a check's filter, `satisfies_expression`, `metric`) that does not
    /// parse, does not plan against the container's fields, gives values of the wrong type
    /// for its use, or fails on the data.
    #[error(
        "check {check}: SQL expression `{expression}` {reason}; fix the expression (fields \
         are named exactly as in the container, case included; double-quote a name that has \
         spaces or punctuation or is a SQL keyword)"
    )]
    Expression {
        /// The check.
        check: String,
        /// The SQL, as written.
        expression: String,
        /// What is wrong: `does not parse: …`, `does not plan: …`, the type it gives and
        /// the type needed, or `failed on the data: …`.
        reason: String,
    },

    /// The rule is evaluated elsewhere: row rules by `failing_rows`, whole-container rules by
    /// an [`AggregateState`](super::AggregateState).
    #[error("check {check}: {rule} is {kind}; evaluate it with {with}")]
    WrongEvaluation {
        /// The check.
        check: String,
        /// The rule's name.
        rule: &'static str,
        /// What kind of rule it is.
        kind: &'static str,
        /// What evaluates it.
        with: &'static str,
    },

    /// The rule needs history, another container or SQL, which are not built yet.
    #[error(
        "check {check}: {rule} is not evaluated yet (it needs {needs}); \
         disable the check until a later qualityd version"
    )]
    NotYet {
        /// The check.
        check: String,
        /// The rule's name.
        rule: &'static str,
        /// What evaluating it takes.
        needs: &'static str,
    },

    /// The other container a rule is checked against could not be read.
    #[error(
        "check {check}: the other container could not be read: {reason}; fix the check's \
         reference or the other datastore"
    )]
    Reference {
        /// The check.
        check: String,
        /// Why.
        reason: String,
    },

    /// Arrow could not compute over the field (a cast that failed).
    #[error("check {check}: field `{field}`: {reason}")]
    Arrow {
        /// The check.
        check: String,
        /// The field.
        field: String,
        /// Arrow's error.
        reason: String,
    },
}
