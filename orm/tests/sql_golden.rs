//! The SQL each dialect writes for every Core construct, checked as text without a database (as
//! sea-query's tests do): the PostgreSQL spelling is proved on machines with no server. The rows
//! these statements give are checked on both engines in `core_constructs.rs`.

use orm::core::{
    delete, insert, select, update, ColumnDef, PostgresWriter, SqlWriter, SqliteWriter,
    StandardWriter, Statement, Table,
};
use orm::prelude::*;
use orm::{ColumnType, Value};

fn users() -> Table {
    Table::new("users")
        .column(ColumnDef::new("id", ColumnType::Integer).primary_key())
        .column(ColumnDef::new("name", ColumnType::String(None)).not_null())
        .column(ColumnDef::new("age", ColumnType::Integer))
}

/// The statement as SQLite writes it, with its parameters.
fn sqlite(stmt: impl Into<Statement>) -> (String, Vec<Value>) {
    let c = SqliteWriter.compile(&stmt.into());
    (c.sql, c.params)
}

/// The statement as PostgreSQL writes it, with its parameters.
fn postgres(stmt: impl Into<Statement>) -> (String, Vec<Value>) {
    let c = PostgresWriter.compile(&stmt.into());
    (c.sql, c.params)
}

fn no_params(sql: &str) -> (String, Vec<Value>) {
    (sql.to_string(), Vec::new())
}

fn with_params(sql: &str, params: &[Value]) -> (String, Vec<Value>) {
    (sql.to_string(), params.to_vec())
}

#[test]
fn select_with_filter_order_and_limit() {
    let u = users();
    let stmt = || {
        select([u.c("name")])
            .from(&u)
            .filter(u.c("age").gt(21))
            .order_by(u.c("name").desc())
            .limit(10)
            .offset(5)
    };
    assert_eq!(
        sqlite(stmt()),
        with_params(
            r#"SELECT "users"."name" FROM "users" WHERE "users"."age" > ? ORDER BY "users"."name" DESC LIMIT 10 OFFSET 5"#,
            &[Value::Integer(21)]
        )
    );
    assert_eq!(
        postgres(stmt()),
        with_params(
            r#"SELECT "users"."name" FROM "users" WHERE "users"."age" > $1 ORDER BY "users"."name" DESC LIMIT 10 OFFSET 5"#,
            &[Value::Integer(21)]
        )
    );
}

#[test]
fn offset_without_limit_says_limit_minus_one_on_sqlite_only() {
    let u = users();
    let stmt = || select([u.c("name")]).from(&u).offset(2);
    assert_eq!(
        sqlite(stmt()),
        no_params(r#"SELECT "users"."name" FROM "users" LIMIT -1 OFFSET 2"#)
    );
    assert_eq!(
        postgres(stmt()),
        no_params(r#"SELECT "users"."name" FROM "users" OFFSET 2"#)
    );
}

#[test]
fn empty_in_is_always_false_and_empty_not_in_always_true() {
    let u = users();
    let in_ = || {
        select([u.c("name")])
            .from(&u)
            .filter(u.c("age").in_(Vec::<i64>::new()))
    };
    let not_in = || {
        select([u.c("name")])
            .from(&u)
            .filter(u.c("age").not_in(Vec::<i64>::new()))
    };
    assert_eq!(
        sqlite(in_()),
        no_params(
            r#"SELECT "users"."name" FROM "users" WHERE "users"."age" IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)"#
        )
    );
    assert_eq!(
        sqlite(not_in()),
        no_params(
            r#"SELECT "users"."name" FROM "users" WHERE "users"."age" NOT IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)"#
        )
    );
    assert_eq!(
        postgres(in_()),
        no_params(
            r#"SELECT "users"."name" FROM "users" WHERE ("users"."age" IN (NULL) AND (1 != 1))"#
        )
    );
    assert_eq!(
        postgres(not_in()),
        no_params(
            r#"SELECT "users"."name" FROM "users" WHERE ("users"."age" NOT IN (NULL) OR (1 = 1))"#
        )
    );
}

#[test]
fn non_empty_in_binds_every_value() {
    let u = users();
    let stmt = || {
        select([u.c("name")])
            .from(&u)
            .filter(u.c("age").in_([17, 30]))
    };
    assert_eq!(
        sqlite(stmt()),
        with_params(
            r#"SELECT "users"."name" FROM "users" WHERE "users"."age" IN (?, ?)"#,
            &[Value::Integer(17), Value::Integer(30)]
        )
    );
    assert_eq!(
        postgres(stmt()),
        with_params(
            r#"SELECT "users"."name" FROM "users" WHERE "users"."age" IN ($1, $2)"#,
            &[Value::Integer(17), Value::Integer(30)]
        )
    );
}

#[test]
fn ilike_is_ilike_on_postgres_and_like_on_sqlite() {
    let u = users();
    let stmt = || {
        select([u.c("name")])
            .from(&u)
            .filter(u.c("name").ilike("a%"))
    };
    assert_eq!(
        sqlite(stmt()).0,
        r#"SELECT "users"."name" FROM "users" WHERE "users"."name" LIKE ? ESCAPE '\'"#
    );
    assert_eq!(
        postgres(stmt()).0,
        r#"SELECT "users"."name" FROM "users" WHERE "users"."name" ILIKE $1 ESCAPE '\'"#
    );
}

#[test]
fn insert_update_delete() {
    let u = users();
    let ins = || insert(&u).value("name", "Ann").value("age", 30);
    assert_eq!(
        sqlite(ins()),
        with_params(
            r#"INSERT INTO "users" ("name", "age") VALUES (?, ?)"#,
            &[Value::Text("Ann".into()), Value::Integer(30)]
        )
    );
    assert_eq!(
        postgres(ins()).0,
        r#"INSERT INTO "users" ("name", "age") VALUES ($1, $2)"#
    );
    let upd = || update(&u).set("age", 31).filter(u.c("name").eq("Ann"));
    assert_eq!(
        sqlite(upd()).0,
        r#"UPDATE "users" SET "age" = ? WHERE "users"."name" = ?"#
    );
    assert_eq!(
        postgres(upd()).0,
        r#"UPDATE "users" SET "age" = $1 WHERE "users"."name" = $2"#
    );
    let del = || delete(&u).filter(u.c("age").lt(18));
    assert_eq!(
        sqlite(del()).0,
        r#"DELETE FROM "users" WHERE "users"."age" < ?"#
    );
    assert_eq!(
        postgres(del()).0,
        r#"DELETE FROM "users" WHERE "users"."age" < $1"#
    );
}

#[test]
fn create_table_uses_each_dialects_types_and_keys() {
    let stmt = || Statement::CreateTable {
        table: users(),
        if_not_exists: false,
    };
    assert_eq!(
        sqlite(stmt()).0,
        "CREATE TABLE \"users\" (\n  \"id\" INTEGER NOT NULL PRIMARY KEY,\n  \"name\" VARCHAR NOT NULL,\n  \"age\" INTEGER\n)"
    );
    assert_eq!(
        postgres(stmt()).0,
        "CREATE TABLE \"users\" (\n  \"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n  \"name\" VARCHAR NOT NULL,\n  \"age\" BIGINT\n)"
    );
}

#[test]
fn to_sql_and_display_without_an_engine_use_the_standard_writer() {
    let u = users();
    let stmt = select([u.c("name")])
        .from(&u)
        .filter(u.c("name").ilike("a%"))
        .offset(1);
    let standard = StandardWriter.compile_select(&stmt).sql;
    assert_eq!(stmt.to_sql(), standard);
    assert_eq!(
        standard,
        r#"SELECT "users"."name" FROM "users" WHERE "users"."name" ILIKE ? ESCAPE '\' OFFSET 1"#
    );
    assert_eq!(
        u.c("age").in_(Vec::<i64>::new()).to_string(),
        r#"("users"."age" IN (NULL) AND (1 != 1))"#
    );
}

#[test]
fn text_names_its_parameters_and_each_dialect_numbers_them() {
    let stmt = || {
        orm::core::text(
            "SELECT name FROM users WHERE age > :min AND name != ':min' AND age < :max OR age = :min",
        )
        .bind("min", 18)
        .bind("max", 65)
    };
    assert_eq!(
        sqlite(stmt()),
        with_params(
            "SELECT name FROM users WHERE age > ? AND name != ':min' AND age < ? OR age = ?",
            &[Value::Integer(18), Value::Integer(65), Value::Integer(18)]
        )
    );
    assert_eq!(
        postgres(stmt()).0,
        "SELECT name FROM users WHERE age > $1 AND name != ':min' AND age < $2 OR age = $3"
    );
}

#[test]
fn text_leaves_casts_comments_and_escaped_colons_alone() {
    let stmt = orm::core::text(
        "SELECT age::text, '\\:x' -- :not_a_param\nFROM t /* :nor_this */ WHERE a = \\:b AND c = :c",
    )
    .bind("c", 1);
    assert_eq!(stmt.parameter_names(), ["c"]);
    assert_eq!(
        postgres(stmt).0,
        "SELECT age::text, '\\:x' -- :not_a_param\nFROM t /* :nor_this */ WHERE a = :b AND c = $1"
    );
}

#[test]
fn text_refuses_a_missing_or_unused_parameter_by_name() {
    let missing = orm::core::text("SELECT :a, :b").bind("a", 1);
    let err = Statement::from(missing).check().unwrap_err().to_string();
    assert!(err.contains(":b") && err.contains(".bind(\"b\""), "{err}");
    let unused = orm::core::text("SELECT :a").bind("a", 1).bind("z", 2);
    let err = Statement::from(unused).check().unwrap_err().to_string();
    assert!(err.contains(":z"), "{err}");
}
