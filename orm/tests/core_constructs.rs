//! Every Core construct run on SQLite and PostgreSQL from one body, checking the rows. The SQL
//! text each dialect writes is checked without a server in `sql_golden.rs`.

mod support;

use orm::core::{insert, select, ColumnDef, Statement, Table};
use orm::prelude::*;
use orm::{ColumnType, Value};
use support::each_engine;

fn users() -> Table {
    Table::new("users")
        .column(ColumnDef::new("id", ColumnType::Integer).primary_key())
        .column(ColumnDef::new("name", ColumnType::String(None)).not_null())
        .column(ColumnDef::new("age", ColumnType::Integer))
}

/// Alice 30, Bob 17, Carol 42, Dave (no age), keys 1 to 4.
fn seeded(engine: &Engine) -> Table {
    let u = users();
    engine
        .execute(Statement::CreateTable {
            table: u.clone(),
            if_not_exists: false,
        })
        .unwrap();
    for (name, age) in [
        ("Alice", Some(30)),
        ("Bob", Some(17)),
        ("Carol", Some(42)),
        ("Dave", None),
    ] {
        engine
            .execute(insert(&u).value("name", name).value("age", age))
            .unwrap();
    }
    u
}

fn texts(values: &[&str]) -> Vec<Vec<Value>> {
    values
        .iter()
        .map(|v| vec![Value::Text(v.to_string())])
        .collect()
}

#[test]
fn empty_in_matches_nothing_and_empty_not_in_matches_everything() {
    each_engine(|engine| {
        let u = seeded(&engine);
        let none = engine
            .execute(
                select([u.c("name")])
                    .from(&u)
                    .filter(u.c("age").in_(Vec::<i64>::new())),
            )
            .unwrap();
        assert_eq!(none.rows, texts(&[]), "{}", engine.dialect());
        let all = engine
            .execute(
                select([u.c("name")])
                    .from(&u)
                    .filter(u.c("age").not_in(Vec::<i64>::new()))
                    .order_by(u.c("id")),
            )
            .unwrap();
        // NOT IN of no values holds for a NULL age too, as SQLAlchemy's expansion does.
        assert_eq!(
            all.rows,
            texts(&["Alice", "Bob", "Carol", "Dave"]),
            "{}",
            engine.dialect()
        );
    });
}

#[test]
fn offset_without_limit_skips_rows() {
    each_engine(|engine| {
        let u = seeded(&engine);
        let rows = engine
            .execute(select([u.c("name")]).from(&u).order_by(u.c("id")).offset(2))
            .unwrap();
        assert_eq!(rows.rows, texts(&["Carol", "Dave"]), "{}", engine.dialect());
    });
}
