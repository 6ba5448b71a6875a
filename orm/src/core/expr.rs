//! The expression tree (plain data, no dialect) and the typed column handles built on it.

use super::writer::SqlWriter as _;
use crate::value::{kind, ColumnType, SqlType, Value};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// A SQL expression as data. Writers turn it into text for one dialect.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A column, qualified by its table (or alias) when `table` is set.
    Column {
        /// The table or alias the column belongs to.
        table: Option<Cow<'static, str>>,
        /// The column's name.
        name: Cow<'static, str>,
    },
    /// A value bound as a parameter, never spliced into the SQL text.
    Value(Value),
    /// A parameter the caller binds later (prepared statements of the unit of work).
    Placeholder,
    /// `*`, as in `count(*)`.
    Star,
    /// `left op right`.
    Binary {
        /// The left operand.
        left: Box<Expr>,
        /// The operator.
        op: BinOp,
        /// The right operand.
        right: Box<Expr>,
    },
    /// Every part holds (`1 = 1` when there are none).
    And(Vec<Expr>),
    /// At least one part holds (`1 = 0` when there are none).
    Or(Vec<Expr>),
    /// `NOT expr`.
    Not(Box<Expr>),
    /// `expr IS [NOT] NULL`.
    IsNull {
        /// The expression tested.
        expr: Box<Expr>,
        /// `IS NOT NULL` instead of `IS NULL`.
        negated: bool,
    },
    /// `expr [NOT] IN (values…)`; an empty list is written as an always-false (always-true) test.
    InList {
        /// The left side.
        expr: Box<Expr>,
        /// The values.
        list: Vec<Expr>,
        /// `NOT IN` instead of `IN`.
        negated: bool,
    },
    /// `expr [NOT] IN (SELECT …)`.
    InSelect {
        /// The left side.
        expr: Box<Expr>,
        /// The subquery.
        select: Box<super::statement::Select>,
        /// `NOT IN` instead of `IN`.
        negated: bool,
    },
    /// `expr BETWEEN low AND high`.
    Between {
        /// The expression tested.
        expr: Box<Expr>,
        /// The lower bound, included.
        low: Box<Expr>,
        /// The upper bound, included.
        high: Box<Expr>,
    },
    /// `LIKE pattern ESCAPE '\'`; `case_insensitive` asks for `ILIKE` where the dialect has it.
    Like {
        /// The text tested.
        expr: Box<Expr>,
        /// The pattern (`%` and `_` are wildcards, `\\` escapes them).
        pattern: Box<Expr>,
        /// Ask for `ILIKE` where the dialect has it.
        case_insensitive: bool,
        /// `NOT LIKE` instead of `LIKE`.
        negated: bool,
    },
    /// A function call: `name(args…)`, `name(DISTINCT arg)`.
    Function {
        /// The function's name, written as is.
        name: &'static str,
        /// The arguments.
        args: Vec<Expr>,
        /// `DISTINCT` before the arguments (`count(DISTINCT x)`).
        distinct: bool,
    },
    /// `EXISTS (SELECT …)`.
    Exists(Box<super::statement::Select>),
    /// A select that gives one value (`(SELECT max(age) FROM users)`).
    Subquery(Box<super::statement::Select>),
    /// A window function: `function OVER (PARTITION BY … ORDER BY …)`.
    Over {
        /// The function (`row_number()`, `sum(x)`, …).
        function: Box<Expr>,
        /// Its window.
        window: Window,
    },
    /// `CASE WHEN condition THEN value … ELSE value END`.
    Case {
        /// Each condition and the value when it is the first to hold.
        whens: Vec<(Expr, Expr)>,
        /// The value when none holds (`NULL` without it).
        else_: Option<Box<Expr>>,
    },
    /// `CAST(expr AS type)`, the type written by each dialect.
    Cast {
        /// The expression converted.
        expr: Box<Expr>,
        /// The type it is converted to.
        ty: ColumnType,
    },
    /// An expression named in a select list (`expr AS "name"`).
    Label {
        /// The expression named.
        expr: Box<Expr>,
        /// Its name.
        name: String,
    },
    /// `DISTINCT expr`, the argument of an aggregate (`count(DISTINCT age)`).
    Distinct(Box<Expr>),
    /// SQL written as is, with no parameters: a column's `onupdate` expression from the model
    /// (`CURRENT_TIMESTAMP`), never a value from outside the program.
    Sql(Cow<'static, str>),
    /// A row value, `(a, b)`: the left side of a composite key's `IN` (an `InList` whose items
    /// are tuples too), written `(a, b) IN (VALUES (?, ?), …)` on SQLite, which reads
    /// `(a, b) IN ((?, ?), …)` as an error, and `(a, b) IN (($1, $2), …)` on PostgreSQL (see
    /// `SqlWriter::row_values_in_values_list`).
    Tuple(Vec<Expr>),
}

/// The window of a window function: which rows form a partition, and their order in it.
///
/// # Examples
/// ```
/// use orm::core::{select, window, ColumnDef, Table};
/// use orm::prelude::*;
/// let emp = Table::new("emp")
///     .column(ColumnDef::new("dept", orm::ColumnType::Text))
///     .column(ColumnDef::new("pay", orm::ColumnType::Integer));
/// let rank = func::rank().over(window().partition_by(emp.c("dept")).order_by(emp.c("pay").desc()));
/// assert_eq!(
///     rank.to_string(),
///     r#"rank() OVER (PARTITION BY "emp"."dept" ORDER BY "emp"."pay" DESC)"#
/// );
/// let engine = create_engine("sqlite:///:memory:")?;
/// MetaData::new().add_table(emp.clone()).create_all(&engine)?;
/// engine.execute(orm::core::text("INSERT INTO emp VALUES ('a', 10), ('a', 30), ('b', 20)"))?;
/// let stmt = select([emp.c("pay")]).column(rank.label("rank")).from(&emp).order_by(emp.c("pay"));
/// assert_eq!(engine.execute(stmt)?.all::<(i64, i64)>()?, [(10, 2), (20, 1), (30, 1)]);
/// # Ok::<(), orm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Window {
    /// `PARTITION BY` expressions.
    pub partition_by: Vec<Expr>,
    /// `ORDER BY` inside the window.
    pub order_by: Vec<OrderBy>,
}

/// An empty window (`OVER ()`: every row of the result); add to it with the builder methods.
pub fn window() -> Window {
    Window::default()
}

impl Window {
    /// Adds an expression to `PARTITION BY`.
    pub fn partition_by(mut self, expr: impl SqlExpr) -> Self {
        self.partition_by.push(expr.expr());
        self
    }
    /// Adds a key to the window's `ORDER BY`.
    pub fn order_by(mut self, key: impl IntoOrderBy) -> Self {
        self.order_by.push(key.into_order_by());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// A binary operator.
pub enum BinOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `||` (text concatenation)
    Concat,
}

impl BinOp {
    /// The operator as SQL writes it.
    pub fn sql(self) -> &'static str {
        match self {
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Concat => "||",
        }
    }
}

impl Expr {
    /// The column `table.name`.
    pub fn column(table: impl Into<Cow<'static, str>>, name: impl Into<Cow<'static, str>>) -> Expr {
        Expr::Column {
            table: Some(table.into()),
            name: name.into(),
        }
    }
    /// A value, bound as a parameter.
    pub fn value(v: impl Into<Value>) -> Expr {
        Expr::Value(v.into())
    }
    fn binary(self, op: BinOp, right: Expr) -> Expr {
        Expr::Binary {
            left: Box::new(self),
            op,
            right: Box::new(right),
        }
    }
}

impl fmt::Display for Expr {
    /// The expression as standard SQL text ([`StandardWriter`](super::StandardWriter)) with
    /// parameters shown as `?`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let compiled = super::writer::StandardWriter.expr_to_sql(self);
        f.write_str(&compiled.sql)
    }
}

/// A typed expression: `T` is the Rust type of its values, so results decode without annotations.
pub struct TypedExpr<T> {
    /// The expression.
    pub expr: Expr,
    _type: PhantomData<fn() -> T>,
}

impl<T> TypedExpr<T> {
    /// Gives an untyped expression the Rust type `T` of its values.
    pub fn new(expr: Expr) -> Self {
        TypedExpr {
            expr,
            _type: PhantomData,
        }
    }
}

impl<T> TypedExpr<T> {
    /// This function as a window function over `window`: `func::row_number().over(window()
    /// .partition_by(…).order_by(…))` (SQLAlchemy's `.over(partition_by=…, order_by=…)`).
    ///
    /// # Examples
    /// ```
    /// use orm::core::{window, ColumnDef, Table};
    /// use orm::prelude::*;
    /// let emp = Table::new("emp").column(ColumnDef::new("pay", orm::ColumnType::Integer));
    /// let running = func::sum(emp.c("pay")).over(window().order_by(emp.c("pay")));
    /// assert_eq!(running.to_string(), r#"sum("emp"."pay") OVER (ORDER BY "emp"."pay" ASC)"#);
    /// ```
    pub fn over(self, window: Window) -> TypedExpr<T> {
        TypedExpr::new(Expr::Over {
            function: Box::new(self.expr),
            window,
        })
    }
}

impl<T> Clone for TypedExpr<T> {
    fn clone(&self) -> Self {
        TypedExpr::new(self.expr.clone())
    }
}

impl<T> fmt::Debug for TypedExpr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}

impl<T> fmt::Display for TypedExpr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}

/// A boolean SQL expression: what `filter` takes.
pub type Condition = TypedExpr<bool>;

/// A model's column: `User::age` is a `Column<User, Option<i64>>`.
pub struct Column<M, T> {
    /// The table's name.
    pub table: &'static str,
    /// The column's name in the table.
    pub name: &'static str,
    _types: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Column<M, T> {
    /// The column `name` of the model's table `table` (the derive makes these).
    pub const fn new(table: &'static str, name: &'static str) -> Self {
        Column {
            table,
            name,
            _types: PhantomData,
        }
    }
}

impl<M, T> Clone for Column<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M, T> Copy for Column<M, T> {}

impl<M, T> fmt::Debug for Column<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.table, self.name)
    }
}

impl<M, T> fmt::Display for Column<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.table, self.name)
    }
}

/// A column of a Core table, untyped: compared with any value, read as `Value`.
///
/// Not `PartialEq`: `users.c("name").eq("Ann")` is SQL's `=` ([`SqlExpr::eq`]), never Rust's.
#[derive(Debug, Clone)]
pub struct AnyColumn {
    /// The table (or alias, CTE, subquery) it belongs to.
    pub table: Cow<'static, str>,
    /// The column's name.
    pub name: Cow<'static, str>,
}

impl AnyColumn {
    /// The column `name` of `table`.
    pub fn new(table: Cow<'static, str>, name: Cow<'static, str>) -> Self {
        AnyColumn { table, name }
    }
}

impl fmt::Display for AnyColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr())
    }
}

/// A value or expression that may stand on the right of an operator whose left side has kind `K`.
pub trait Operand<K> {
    /// The right side as an expression (values become bound parameters).
    fn into_expr(self) -> Expr;
}

macro_rules! operands {
    ($kind:ident: $($ty:ty),*) => {$(
        impl Operand<kind::$kind> for $ty {
            fn into_expr(self) -> Expr { Expr::Value(SqlType::to_value(&self)) }
        }
        impl Operand<kind::Any> for $ty {
            fn into_expr(self) -> Expr { Expr::Value(SqlType::to_value(&self)) }
        }
    )*};
}
operands!(Integer: i64, i32);
operands!(Float: f64);
operands!(Text: String);
operands!(Boolean: bool);
operands!(DateTime: chrono::NaiveDateTime, chrono::DateTime<chrono::Utc>);
operands!(Date: chrono::NaiveDate);
operands!(Time: chrono::NaiveTime);
operands!(Json: serde_json::Value);
operands!(Blob: Vec<u8>);

impl Operand<kind::Float> for i32 {
    fn into_expr(self) -> Expr {
        Expr::Value(Value::Real(self as f64))
    }
}
impl Operand<kind::Float> for i64 {
    fn into_expr(self) -> Expr {
        Expr::Value(Value::Real(self as f64))
    }
}
impl Operand<kind::Integer> for u32 {
    fn into_expr(self) -> Expr {
        Expr::Value(Value::Integer(self as i64))
    }
}
impl Operand<kind::Text> for &str {
    fn into_expr(self) -> Expr {
        Expr::Value(Value::Text(self.to_owned()))
    }
}
impl Operand<kind::Any> for &str {
    fn into_expr(self) -> Expr {
        Expr::Value(Value::Text(self.to_owned()))
    }
}
impl Operand<kind::Text> for &String {
    fn into_expr(self) -> Expr {
        Expr::Value(Value::Text(self.clone()))
    }
}
impl Operand<kind::Any> for Value {
    fn into_expr(self) -> Expr {
        Expr::Value(self)
    }
}
/// `None` compares as SQL `NULL` (`eq(None)` becomes `IS NULL`, as in SQLAlchemy).
impl<K, R: Operand<K>> Operand<K> for Option<R> {
    fn into_expr(self) -> Expr {
        match self {
            Some(v) => v.into_expr(),
            None => Expr::Value(Value::Null),
        }
    }
}
impl<K, M, T: SqlType<Kind = K>> Operand<K> for Column<M, T> {
    fn into_expr(self) -> Expr {
        self.expr()
    }
}
impl<K, T: SqlType<Kind = K>> Operand<K> for TypedExpr<T> {
    fn into_expr(self) -> Expr {
        self.expr
    }
}
impl Operand<kind::Any> for AnyColumn {
    fn into_expr(self) -> Expr {
        self.expr()
    }
}

/// What `in_` and `not_in` take for a left side of kind `K`: values, or a subquery.
pub trait InValues<K> {
    /// The `IN` expression with `expr` on the left.
    fn into_in(self, expr: Expr, negated: bool) -> Expr;
}

impl<K, I, R> InValues<K> for I
where
    I: IntoIterator<Item = R>,
    R: Operand<K>,
{
    fn into_in(self, expr: Expr, negated: bool) -> Expr {
        Expr::InList {
            expr: Box::new(expr),
            list: self.into_iter().map(Operand::into_expr).collect(),
            negated,
        }
    }
}

impl<K> InValues<K> for super::statement::Select {
    fn into_in(self, expr: Expr, negated: bool) -> Expr {
        Expr::InSelect {
            expr: Box::new(expr),
            select: Box::new(self),
            negated,
        }
    }
}

/// Sort direction for `order_by`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    /// The expression sorted by.
    pub expr: Expr,
    /// Largest first (`DESC`).
    pub descending: bool,
}

/// Anything `order_by` takes: a column (ascending), an expression, or `col.desc()`.
pub trait IntoOrderBy {
    /// The sort key.
    fn into_order_by(self) -> OrderBy;
}
impl IntoOrderBy for OrderBy {
    fn into_order_by(self) -> OrderBy {
        self
    }
}
impl<E: SqlExpr> IntoOrderBy for E {
    fn into_order_by(self) -> OrderBy {
        OrderBy {
            expr: self.expr(),
            descending: false,
        }
    }
}

/// Escapes `%`, `_` and `\` so `contains("50%")` matches the text literally.
fn like_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Operators shared by columns and expressions: the lesson's `User.age > 21` is `User::age.gt(21)`.
///
/// # Examples
///
/// Where clauses with comparisons, patterns, lists, ranges and `NULL`, combined with `&`, `|`
/// and `!` (or [`and_`], [`or_`], [`not_`]):
///
/// ```
/// # use orm::prelude::*;
/// # #[derive(Model, Debug, Clone, Default)]
/// # #[orm(table = "users")]
/// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
/// # let engine = create_engine("sqlite:///:memory:")?;
/// # MetaData::new().add::<User>().create_all(&engine)?;
/// # let session = Session::new(&engine);
/// # for (name, age) in [("Alice", Some(30)), ("Bob", Some(17)), ("carol", None), ("Dave", Some(64))] {
/// #     session.add(User { name: name.into(), age, ..Default::default() });
/// # }
/// let names = |condition: Condition| -> orm::Result<Vec<String>> {
///     session.query_values(User::name).filter(condition).order_by(User::id).all()
/// };
/// assert_eq!(names(User::age.ge(18) & User::age.lt(60))?, ["Alice"]);
/// assert_eq!(names(User::age.lt(18) | User::age.is_null())?, ["Bob", "carol"]);
/// assert_eq!(names(User::name.startswith("D"))?, ["Dave"]);
/// assert_eq!(names(User::name.ilike("C%"))?, ["carol"]);
/// assert_eq!(names(User::name.in_(["Bob", "Dave"]))?, ["Bob", "Dave"]);
/// assert_eq!(names(User::age.between(17, 30))?, ["Alice", "Bob"]);
/// assert_eq!(names(!User::age.is_not_null())?, ["carol"]);
/// assert_eq!(names(and_([User::age.ne(17), User::age.gt(20)]))?, ["Alice", "Dave"]);
/// // Arithmetic and labels in the select list.
/// let next = session.query_values(User::age.add(1)).filter(User::name.eq("Bob")).scalar()?;
/// assert_eq!(next, Some(18));
/// # Ok::<(), orm::Error>(())
/// ```
pub trait SqlExpr: Sized {
    /// The Rust type of this expression's values.
    type Ty: SqlType;

    /// The expression tree of this column or expression.
    fn expr(&self) -> Expr;

    /// `= value`; `eq(None)` is `IS NULL`.
    fn eq<R: Operand<<Self::Ty as SqlType>::Kind>>(&self, rhs: R) -> Condition {
        match rhs.into_expr() {
            Expr::Value(Value::Null) => self.is_null(),
            r => TypedExpr::new(self.expr().binary(BinOp::Eq, r)),
        }
    }
    /// `!= value`; `ne(None)` is `IS NOT NULL`.
    fn ne<R: Operand<<Self::Ty as SqlType>::Kind>>(&self, rhs: R) -> Condition {
        match rhs.into_expr() {
            Expr::Value(Value::Null) => self.is_not_null(),
            r => TypedExpr::new(self.expr().binary(BinOp::Ne, r)),
        }
    }
    /// `> value`.
    fn gt<R: Operand<<Self::Ty as SqlType>::Kind>>(&self, rhs: R) -> Condition {
        TypedExpr::new(self.expr().binary(BinOp::Gt, rhs.into_expr()))
    }
    /// `>= value`.
    fn ge<R: Operand<<Self::Ty as SqlType>::Kind>>(&self, rhs: R) -> Condition {
        TypedExpr::new(self.expr().binary(BinOp::Ge, rhs.into_expr()))
    }
    /// `< value`.
    fn lt<R: Operand<<Self::Ty as SqlType>::Kind>>(&self, rhs: R) -> Condition {
        TypedExpr::new(self.expr().binary(BinOp::Lt, rhs.into_expr()))
    }
    /// `<= value`.
    fn le<R: Operand<<Self::Ty as SqlType>::Kind>>(&self, rhs: R) -> Condition {
        TypedExpr::new(self.expr().binary(BinOp::Le, rhs.into_expr()))
    }
    /// `LIKE pattern` with the pattern as written (`%` and `_` are wildcards).
    fn like(&self, pattern: &str) -> Condition {
        TypedExpr::new(Expr::Like {
            expr: Box::new(self.expr()),
            pattern: Box::new(Expr::value(pattern)),
            case_insensitive: false,
            negated: false,
        })
    }
    /// Case-insensitive `LIKE` (`ILIKE` on PostgreSQL; SQLite's `LIKE` already ignores ASCII case).
    fn ilike(&self, pattern: &str) -> Condition {
        TypedExpr::new(Expr::Like {
            expr: Box::new(self.expr()),
            pattern: Box::new(Expr::value(pattern)),
            case_insensitive: true,
            negated: false,
        })
    }
    /// Contains `text` anywhere; `%` and `_` in `text` match themselves.
    fn contains(&self, text: &str) -> Condition {
        self.like(&format!("%{}%", like_literal(text)))
    }
    /// Starts with `text`; `%` and `_` in `text` match themselves.
    fn startswith(&self, text: &str) -> Condition {
        self.like(&format!("{}%", like_literal(text)))
    }
    /// Ends with `text`; `%` and `_` in `text` match themselves.
    fn endswith(&self, text: &str) -> Condition {
        self.like(&format!("%{}", like_literal(text)))
    }
    /// `IN (values…)` or `IN (subquery)`: a list of values (an empty one is always false,
    /// never `IN ()`), a Core [`Select`](super::Select) or an ORM [`Query`](crate::Query).
    fn in_<V: InValues<<Self::Ty as SqlType>::Kind>>(&self, values: V) -> Condition {
        TypedExpr::new(values.into_in(self.expr(), false))
    }
    /// `NOT IN (values…)` or `NOT IN (subquery)`; an empty list is always true.
    fn not_in<V: InValues<<Self::Ty as SqlType>::Kind>>(&self, values: V) -> Condition {
        TypedExpr::new(values.into_in(self.expr(), true))
    }
    /// `DISTINCT expr`, for an aggregate over distinct values: `func::sum(User::age.distinct())`
    /// writes `sum(DISTINCT "users"."age")` (SQLAlchemy's `column.distinct()`).
    fn distinct(&self) -> TypedExpr<Self::Ty> {
        TypedExpr::new(Expr::Distinct(Box::new(self.expr())))
    }
    /// Names the expression in a select list (`expr AS "name"`), as SQLAlchemy's `label`.
    fn label(&self, name: &str) -> TypedExpr<Self::Ty> {
        TypedExpr::new(Expr::Label {
            expr: Box::new(self.expr()),
            name: name.to_string(),
        })
    }
    /// `IS NULL`.
    fn is_null(&self) -> Condition {
        TypedExpr::new(Expr::IsNull {
            expr: Box::new(self.expr()),
            negated: false,
        })
    }
    /// `IS NOT NULL`.
    fn is_not_null(&self) -> Condition {
        TypedExpr::new(Expr::IsNull {
            expr: Box::new(self.expr()),
            negated: true,
        })
    }
    /// `BETWEEN low AND high`, both included.
    fn between<A, B>(&self, low: A, high: B) -> Condition
    where
        A: Operand<<Self::Ty as SqlType>::Kind>,
        B: Operand<<Self::Ty as SqlType>::Kind>,
    {
        TypedExpr::new(Expr::Between {
            expr: Box::new(self.expr()),
            low: Box::new(low.into_expr()),
            high: Box::new(high.into_expr()),
        })
    }
    /// Ascending sort key (`ASC`).
    fn asc(&self) -> OrderBy {
        OrderBy {
            expr: self.expr(),
            descending: false,
        }
    }
    /// Descending sort key (`DESC`).
    fn desc(&self) -> OrderBy {
        OrderBy {
            expr: self.expr(),
            descending: true,
        }
    }
    /// Arithmetic keeps the left side's type: `User::age.modulo(10)`.
    fn add<R: Operand<<Self::Ty as SqlType>::Kind>>(&self, rhs: R) -> TypedExpr<Self::Ty> {
        TypedExpr::new(self.expr().binary(BinOp::Add, rhs.into_expr()))
    }
    /// `- value`.
    fn sub<R: Operand<<Self::Ty as SqlType>::Kind>>(&self, rhs: R) -> TypedExpr<Self::Ty> {
        TypedExpr::new(self.expr().binary(BinOp::Sub, rhs.into_expr()))
    }
    /// `* value`.
    fn mul<R: Operand<<Self::Ty as SqlType>::Kind>>(&self, rhs: R) -> TypedExpr<Self::Ty> {
        TypedExpr::new(self.expr().binary(BinOp::Mul, rhs.into_expr()))
    }
    /// `/ value` (integer division for integers, as SQL does).
    fn div<R: Operand<<Self::Ty as SqlType>::Kind>>(&self, rhs: R) -> TypedExpr<Self::Ty> {
        TypedExpr::new(self.expr().binary(BinOp::Div, rhs.into_expr()))
    }
    /// `% value`.
    fn modulo<R: Operand<<Self::Ty as SqlType>::Kind>>(&self, rhs: R) -> TypedExpr<Self::Ty> {
        TypedExpr::new(self.expr().binary(BinOp::Rem, rhs.into_expr()))
    }
}

impl<M, T: SqlType> SqlExpr for Column<M, T> {
    type Ty = T;
    fn expr(&self) -> Expr {
        Expr::Column {
            table: Some(Cow::Borrowed(self.table)),
            name: Cow::Borrowed(self.name),
        }
    }
}

impl<T: SqlType> SqlExpr for TypedExpr<T> {
    type Ty = T;
    fn expr(&self) -> Expr {
        self.expr.clone()
    }
}

impl SqlExpr for AnyColumn {
    type Ty = Value;
    fn expr(&self) -> Expr {
        Expr::Column {
            table: Some(self.table.clone()),
            name: self.name.clone(),
        }
    }
}

impl Condition {
    /// Both conditions hold (also `a & b`).
    pub fn and(self, other: Condition) -> Condition {
        and_([self, other])
    }
    /// Either condition holds (also `a | b`).
    pub fn or(self, other: Condition) -> Condition {
        or_([self, other])
    }
}

impl std::ops::BitAnd for Condition {
    type Output = Condition;
    fn bitand(self, rhs: Condition) -> Condition {
        self.and(rhs)
    }
}
impl std::ops::BitOr for Condition {
    type Output = Condition;
    fn bitor(self, rhs: Condition) -> Condition {
        self.or(rhs)
    }
}
impl std::ops::Not for Condition {
    type Output = Condition;
    fn not(self) -> Condition {
        not_(self)
    }
}

/// All conditions hold: `and_([User::name.eq("Alice"), User::age.ge(18)])`.
pub fn and_(conditions: impl IntoIterator<Item = Condition>) -> Condition {
    let mut parts = Vec::new();
    for c in conditions {
        match c.expr {
            Expr::And(inner) => parts.extend(inner),
            other => parts.push(other),
        }
    }
    TypedExpr::new(Expr::And(parts))
}

/// At least one condition holds.
pub fn or_(conditions: impl IntoIterator<Item = Condition>) -> Condition {
    let mut parts = Vec::new();
    for c in conditions {
        match c.expr {
            Expr::Or(inner) => parts.extend(inner),
            other => parts.push(other),
        }
    }
    TypedExpr::new(Expr::Or(parts))
}

/// The condition does not hold.
pub fn not_(condition: Condition) -> Condition {
    TypedExpr::new(Expr::Not(Box::new(condition.expr)))
}

/// SQL functions, as SQLAlchemy's `func`: aggregates return typed expressions.
///
/// # Examples
///
/// ```
/// # use orm::prelude::*;
/// # #[derive(Model, Debug, Clone, Default)]
/// # #[orm(table = "users")]
/// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
/// # let engine = create_engine("sqlite:///:memory:")?;
/// # MetaData::new().add::<User>().create_all(&engine)?;
/// # let session = Session::new(&engine);
/// # for (name, age) in [("Alice", Some(30)), ("Bob", Some(17)), ("carol", None), ("Dave", Some(64))] {
/// #     session.add(User { name: name.into(), age, ..Default::default() });
/// # }
/// let stats = session
///     .query_values((func::count_all(), func::count(User::age), func::min(User::age), func::max(User::age)))
///     .one()?;
/// assert_eq!(stats, (4, 3, Some(17), Some(64)));
/// assert_eq!(session.query_values(func::sum(User::age)).scalar()?, Some(111));
/// assert_eq!(session.query_values(func::avg(User::age)).scalar()?, Some(37.0));
/// let shouted = session.query_values(func::upper(User::name)).filter(User::id.eq(3)).scalar()?;
/// assert_eq!(shouted, "CAROL");
/// let ages = session.query_values(func::coalesce(User::age, 0)).order_by(User::id).all()?;
/// assert_eq!(ages, [30, 17, 0, 64]);
/// # Ok::<(), orm::Error>(())
/// ```
pub mod func {
    use super::*;

    fn call<T>(name: &'static str, args: Vec<Expr>) -> TypedExpr<T> {
        TypedExpr::new(Expr::Function {
            name,
            args,
            distinct: false,
        })
    }

    /// `count(expr)`: the rows where `expr` is not NULL.
    pub fn count<E: SqlExpr>(e: E) -> TypedExpr<i64> {
        call("count", vec![e.expr()])
    }
    /// `count(*)`: every row (SQLAlchemy's `func.count()`).
    pub fn count_all() -> TypedExpr<i64> {
        call("count", vec![Expr::Star])
    }
    /// `count(DISTINCT expr)`.
    pub fn count_distinct<E: SqlExpr>(e: E) -> TypedExpr<i64> {
        TypedExpr::new(Expr::Function {
            name: "count",
            args: vec![e.expr()],
            distinct: true,
        })
    }
    /// `sum(expr)`: `None` over no rows.
    pub fn sum<E: SqlExpr>(e: E) -> TypedExpr<Option<<E::Ty as SqlType>::NonNull>> {
        call("sum", vec![e.expr()])
    }
    /// `avg(expr)`: always a float, `None` over no rows.
    pub fn avg<E: SqlExpr>(e: E) -> TypedExpr<Option<f64>> {
        call("avg", vec![e.expr()])
    }
    /// `min(expr)`: `None` over no rows.
    pub fn min<E: SqlExpr>(e: E) -> TypedExpr<Option<<E::Ty as SqlType>::NonNull>> {
        call("min", vec![e.expr()])
    }
    /// `max(expr)`: `None` over no rows.
    pub fn max<E: SqlExpr>(e: E) -> TypedExpr<Option<<E::Ty as SqlType>::NonNull>> {
        call("max", vec![e.expr()])
    }
    /// `lower(text)`.
    pub fn lower<E: SqlExpr>(e: E) -> TypedExpr<E::Ty> {
        call("lower", vec![e.expr()])
    }
    /// `upper(text)`.
    pub fn upper<E: SqlExpr>(e: E) -> TypedExpr<E::Ty> {
        call("upper", vec![e.expr()])
    }
    /// `length(text)`: its number of characters.
    pub fn length<E: SqlExpr>(e: E) -> TypedExpr<Option<i64>> {
        call("length", vec![e.expr()])
    }
    /// `coalesce(expr, default)`: `default` where `expr` is NULL.
    ///
    /// # Examples
    /// ```
    /// use orm::core::{ColumnDef, Table};
    /// use orm::prelude::*;
    /// let users = Table::new("users").column(ColumnDef::new("age", orm::ColumnType::Integer));
    /// assert_eq!(func::coalesce(users.c("age"), 0).to_string(), r#"coalesce("users"."age", ?)"#);
    /// ```
    pub fn coalesce<E: SqlExpr, R: Operand<<E::Ty as SqlType>::Kind>>(
        e: E,
        default: R,
    ) -> TypedExpr<<E::Ty as SqlType>::NonNull> {
        call("coalesce", vec![e.expr(), default.into_expr()])
    }
    /// `row_number()`: the row's position in its window, from 1 (use with `.over(…)`).
    pub fn row_number() -> TypedExpr<i64> {
        call("row_number", Vec::new())
    }
    /// `rank()`: the position in the window with gaps after ties (use with `.over(…)`).
    pub fn rank() -> TypedExpr<i64> {
        call("rank", Vec::new())
    }
    /// `dense_rank()`: the position in the window without gaps after ties.
    pub fn dense_rank() -> TypedExpr<i64> {
        call("dense_rank", Vec::new())
    }
}

/// A value as an expression (a bound parameter), e.g. a constant column of a select: SQLAlchemy's
/// `literal(0)`.
///
/// # Examples
/// ```
/// use orm::core::literal;
/// assert_eq!(literal(0i64).to_string(), "?");
/// ```
pub fn literal<T: SqlType>(value: T) -> TypedExpr<T> {
    TypedExpr::new(Expr::Value(value.to_value()))
}

/// A column named without its table (`"name"`), as in the `ORDER BY` of a compound select.
pub fn literal_column(name: &str) -> TypedExpr<Value> {
    TypedExpr::new(Expr::Column {
        table: None,
        name: Cow::Owned(name.to_string()),
    })
}

/// `CAST(expr AS type)` with the column type of `T` in each dialect: `cast::<f64>(User::age)`.
///
/// # Examples
/// ```
/// use orm::core::{cast, ColumnDef, Table};
/// use orm::prelude::*;
/// let users = Table::new("users").column(ColumnDef::new("age", orm::ColumnType::Integer));
/// assert_eq!(cast::<Option<f64>>(users.c("age")).to_string(), r#"CAST("users"."age" AS FLOAT)"#);
/// ```
pub fn cast<T: SqlType>(expr: impl SqlExpr) -> TypedExpr<T> {
    TypedExpr::new(Expr::Cast {
        expr: Box::new(expr.expr()),
        ty: T::COLUMN_TYPE,
    })
}

/// A value or expression with a Rust type: what a `case` gives in each branch.
pub trait IntoTyped {
    /// The Rust type of its values.
    type Ty: SqlType;
    /// The expression.
    fn into_typed(self) -> TypedExpr<Self::Ty>;
}

macro_rules! into_typed_values {
    ($($ty:ty => $out:ty),*) => {$(
        impl IntoTyped for $ty {
            type Ty = $out;
            fn into_typed(self) -> TypedExpr<$out> {
                TypedExpr::new(Expr::Value(Value::from(self)))
            }
        }
    )*};
}
into_typed_values!(i64 => i64, i32 => i64, f64 => f64, bool => bool, String => String, &str => String, Value => Value);

impl<M, T: SqlType> IntoTyped for Column<M, T> {
    type Ty = T;
    fn into_typed(self) -> TypedExpr<T> {
        TypedExpr::new(self.expr())
    }
}
impl<T: SqlType> IntoTyped for TypedExpr<T> {
    type Ty = T;
    fn into_typed(self) -> TypedExpr<T> {
        self
    }
}
impl IntoTyped for AnyColumn {
    type Ty = Value;
    fn into_typed(self) -> TypedExpr<Value> {
        TypedExpr::new(self.expr())
    }
}

/// `CASE WHEN … THEN … END` being built: add branches with [`Case::when`], finish with
/// [`Case::else_`] (a value of the same type) or [`Case::end`] (NULL when no branch holds).
pub struct Case<T> {
    whens: Vec<(Expr, Expr)>,
    _type: PhantomData<fn() -> T>,
}

/// `CASE WHEN condition THEN value …`: SQLAlchemy's `case((condition, value), …, else_=…)`.
///
/// # Examples
/// ```
/// use orm::core::{case, ColumnDef, Table};
/// use orm::prelude::*;
/// let users = Table::new("users").column(ColumnDef::new("age", orm::ColumnType::Integer));
/// let group = case([(users.c("age").lt(18), "minor")]).else_("adult");
/// assert_eq!(group.to_string(), r#"CASE WHEN "users"."age" < ? THEN ? ELSE ? END"#);
/// ```
pub fn case<V: IntoTyped>(whens: impl IntoIterator<Item = (Condition, V)>) -> Case<V::Ty> {
    Case {
        whens: whens
            .into_iter()
            .map(|(c, v)| (c.expr, v.into_typed().expr))
            .collect(),
        _type: PhantomData,
    }
}

impl<T: SqlType> Case<T> {
    /// Another branch, tried after those before it.
    pub fn when(mut self, condition: Condition, value: impl IntoTyped<Ty = T>) -> Self {
        self.whens.push((condition.expr, value.into_typed().expr));
        self
    }
    /// The value when no branch holds.
    pub fn else_(self, value: impl IntoTyped<Ty = T>) -> TypedExpr<T> {
        TypedExpr::new(Expr::Case {
            whens: self.whens,
            else_: Some(Box::new(value.into_typed().expr)),
        })
    }
    /// No `ELSE`: NULL when no branch holds.
    pub fn end(self) -> TypedExpr<Option<T::NonNull>> {
        TypedExpr::new(Expr::Case {
            whens: self.whens,
            else_: None,
        })
    }
}
