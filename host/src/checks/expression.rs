//! SQL expressions over a container's fields, for a check's `filter` and the
//! `satisfies_expression` and `metric` rules. DataFusion parses the SQL (its generic dialect),
//! plans it against the container's schema (names resolved, types coerced, constants folded)
//! and compiles it once to a physical expression; evaluating it over a batch is then
//! vectorised Arrow compute.
//!
//! Field names are matched exactly, case included: DataFusion's identifier normalisation
//! (which would read `Amount` as `amount`, as PostgreSQL does) is off, so that a field is
//! written as the container names it, `Amount` or `"Amount"`, and `amount` never silently
//! means another field. Names with spaces or punctuation, and SQL keywords, go in double
//! quotes (`"Order Date" > '2024-01-01'`). Function names are not case-sensitive.
//!
//! An expression sees one row: scalar functions only, no aggregates, subqueries or other
//! tables. `now()` and `current_date()` are the moment the expression is compiled at.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::{Arc, LazyLock};

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::compute::prep_null_mask_filter;
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use datafusion_common::config::ConfigOptions;
use datafusion_common::{DFSchema, DataFusionError, TableReference, plan_err};
use datafusion_expr::execution_props::ExecutionProps;
use datafusion_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion_expr::planner::{ContextProvider, ExprPlanner};
use datafusion_expr::simplify::SimplifyContext;
use datafusion_expr::{AggregateUDF, ExprSchemable, HigherOrderUDF, ScalarUDF};
use datafusion_expr::{TableSource, WindowUDF};
use datafusion_functions::{core, datetime, unicode};
use datafusion_optimizer::simplify_expressions::ExprSimplifier;
use datafusion_physical_expr::{PhysicalExpr, create_physical_expr};
use datafusion_sql::parser::DFParserBuilder;
use datafusion_sql::planner::{ParserOptions, PlannerContext, SqlToRel};
use datafusion_sql::sqlparser::dialect::GenericDialect;

use super::{Check, CheckError};

/// A SQL expression compiled against a container's schema, evaluated batch by batch.
/// Compiling takes about a quarter of a millisecond (debug build); evaluating costs about
/// what the same Arrow compute kernels do.
#[derive(Debug, Clone)]
pub struct SqlExpression {
    /// The check, as its errors name it.
    check: String,
    /// The SQL, as written.
    sql: String,
    /// The schema it was compiled against (every field nullable).
    schema: SchemaRef,
    /// What evaluates it.
    physical: Arc<dyn PhysicalExpr>,
    /// The type of its values.
    data_type: DataType,
}

impl SqlExpression {
    /// Compiles `sql` for `check` (which errors name) over batches of `schema`, with `now()`
    /// the present moment.
    pub fn compile(check: &Check, sql: &str, schema: &Schema) -> Result<Self, CheckError> {
        Self::compile_at(check, sql, schema, Utc::now())
    }

    /// Compiles `sql` as [`compile`](Self::compile) does, with `now()` and `current_date()`
    /// the moment `now`.
    pub fn compile_at(
        check: &Check,
        sql: &str,
        schema: &Schema,
        now: DateTime<Utc>,
    ) -> Result<Self, CheckError> {
        let label = check.label();
        let fail = |reason: String| error(&label, sql, reason);
        let parsed = DFParserBuilder::new(sql)
            .with_dialect(&GenericDialect {})
            .build()
            .and_then(|mut parser| parser.parse_into_expr())
            .map_err(|e| fail(format!("does not parse: {}", root(&e))))?;
        // Every field nullable, so that planning never assumes a field has no nulls.
        let schema = Arc::new(Schema::new_with_metadata(
            schema
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect::<Vec<_>>(),
            schema.metadata().clone(),
        ));
        let plan = |e: DataFusionError| fail(format!("does not plan: {}", root(&e)));
        let df_schema = Arc::new(DFSchema::try_from(Arc::clone(&schema)).map_err(plan)?);
        let provider = &*FUNCTIONS;
        let planner =
            SqlToRel::new_with_options(provider, ParserOptions::from(&provider.options.sql_parser));
        let logical = planner
            .sql_to_expr_with_alias(parsed, &df_schema, &mut PlannerContext::new())
            .map_err(plan)?;
        let simplifier = ExprSimplifier::new(
            SimplifyContext::builder()
                .with_schema(Arc::clone(&df_schema))
                .with_config_options(Arc::clone(&provider.options))
                .with_query_execution_start_time(Some(now))
                .build(),
        );
        let logical = simplifier
            .coerce(logical, &df_schema)
            .and_then(|e| simplifier.simplify(e))
            .map_err(plan)?;
        let data_type = logical.get_type(&df_schema).map_err(plan)?;
        let physical = create_physical_expr(
            &logical,
            &df_schema,
            &ExecutionProps::new(),
            &PhysicalPlanningContext::default(),
        )
        .map_err(plan)?;
        Ok(SqlExpression {
            check: label,
            sql: sql.into(),
            schema,
            physical,
            data_type,
        })
    }

    /// The SQL, as written.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The type of the expression's values (`Boolean` for a condition).
    pub fn data_type(&self) -> &DataType {
        &self.data_type
    }

    /// The error for an expression that does not fit its use: `reason` says what it gives
    /// and what is needed.
    pub(crate) fn unfit(&self, reason: impl Display) -> CheckError {
        error(&self.check, &self.sql, reason)
    }

    /// The value per row. The batch must have the fields (names and types, in order) of the
    /// schema the expression was compiled against.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<ArrayRef, CheckError> {
        let (ours, theirs) = (self.schema.fields(), batch.schema_ref().fields());
        if ours.len() != theirs.len()
            || ours
                .iter()
                .zip(theirs)
                .any(|(a, b)| a.name() != b.name() || a.data_type() != b.data_type())
        {
            return Err(self.unfit(
                "was compiled for a schema other than this batch's; compile it for the batch's",
            ));
        }
        self.physical
            .evaluate(batch)
            .and_then(|value| value.into_array(batch.num_rows()))
            .map_err(|e| self.unfit(format!("failed on the data: {}", root(&e))))
    }

    /// The rows where a boolean expression is true (a null or false is false); an error when
    /// the expression is not boolean.
    pub fn matches(&self, batch: &RecordBatch) -> Result<BooleanArray, CheckError> {
        let values = self.evaluate(batch)?;
        Ok(null_as_false(self.booleans(&values)?))
    }

    /// The values of a boolean expression, or the error saying it is not one.
    pub(crate) fn booleans<'a>(
        &self,
        values: &'a ArrayRef,
    ) -> Result<&'a BooleanArray, CheckError> {
        values.as_boolean_opt().ok_or_else(|| {
            self.unfit(format!(
                "gives {} values, not true or false (a condition such as `amount > 0`)",
                values.data_type()
            ))
        })
    }
}

/// `values` with its nulls as false.
pub(crate) fn null_as_false(values: &BooleanArray) -> BooleanArray {
    // Arrow's function panics on an array without a null buffer.
    if values.nulls().is_some() {
        prep_null_mask_filter(values)
    } else {
        values.clone()
    }
}

/// The error naming `check`, the SQL and what is wrong.
fn error(check: &str, sql: &str, reason: impl Display) -> CheckError {
    CheckError::Expression {
        check: check.into(),
        expression: sql.into(),
        reason: reason.to_string(),
    }
}

/// DataFusion's error without the wrappers around its cause, on one line, without its advice
/// about DataFusion's own settings.
fn root(e: &DataFusionError) -> String {
    let text = match e.find_root() {
        DataFusionError::SQL(parser, more) => format!("{parser}{}", more.as_deref().unwrap_or("")),
        e => e.strip_backtrace(),
    };
    let text = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.contains("enable_ident_normalization"))
        .collect::<Vec<_>>()
        .join(" ");
    let text = text.trim_end_matches('.');
    if text.contains("Invalid function") {
        format!(
            "{text} (an expression sees one row: aggregate and window functions such as sum \
             or count are not available)"
        )
    } else {
        text.into()
    }
}

/// What planning an expression can call on: DataFusion's scalar functions (string, regex,
/// unicode, math, date and time) and the planners for SQL syntax that maps to them
/// (`EXTRACT`, `POSITION`, `SUBSTRING`, `OVERLAY`), with the SQL options qualityd uses.
#[derive(Debug)]
struct Functions {
    /// The scalar functions, by name and alias.
    scalar: HashMap<String, Arc<ScalarUDF>>,
    /// The planners for special syntax.
    planners: Vec<Arc<dyn ExprPlanner>>,
    /// The options: identifiers not normalised.
    options: Arc<ConfigOptions>,
}

/// The functions, built once per process.
static FUNCTIONS: LazyLock<Functions> = LazyLock::new(|| {
    let mut options = ConfigOptions::default();
    options.sql_parser.enable_ident_normalization = false;
    let mut scalar = HashMap::new();
    for udf in datafusion_functions::all_default_functions() {
        let udf = match udf.inner().with_updated_config(&options) {
            Some(updated) => Arc::new(updated),
            None => udf,
        };
        for alias in udf.aliases() {
            scalar.insert(alias.clone(), Arc::clone(&udf));
        }
        scalar.insert(udf.name().to_string(), udf);
    }
    Functions {
        scalar,
        planners: vec![
            Arc::new(core::planner::CoreFunctionPlanner::default()),
            Arc::new(datetime::planner::DatetimeFunctionPlanner),
            Arc::new(unicode::planner::UnicodeFunctionPlanner),
        ],
        options: Arc::new(options),
    }
});

impl ContextProvider for Functions {
    fn get_table_source(
        &self,
        name: TableReference,
    ) -> datafusion_common::Result<Arc<dyn TableSource>> {
        plan_err!("`{name}`: an expression reads the fields of one row and cannot query a table")
    }

    fn get_expr_planners(&self) -> &[Arc<dyn ExprPlanner>] {
        &self.planners
    }

    fn get_function_meta(&self, name: &str) -> Option<Arc<ScalarUDF>> {
        self.scalar.get(name).cloned()
    }

    fn get_higher_order_meta(&self, _name: &str) -> Option<Arc<HigherOrderUDF>> {
        None
    }

    fn get_aggregate_meta(&self, _name: &str) -> Option<Arc<AggregateUDF>> {
        None
    }

    fn get_window_meta(&self, _name: &str) -> Option<Arc<WindowUDF>> {
        None
    }

    fn get_variable_type(&self, _variable_names: &[String]) -> Option<DataType> {
        None
    }

    fn options(&self) -> &ConfigOptions {
        &self.options
    }

    fn udf_names(&self) -> Vec<String> {
        self.scalar.keys().cloned().collect()
    }

    fn higher_order_function_names(&self) -> Vec<String> {
        vec![]
    }

    fn udaf_names(&self) -> Vec<String> {
        vec![]
    }

    fn udwf_names(&self) -> Vec<String> {
        vec![]
    }
}

#[cfg(test)]
mod tests;
