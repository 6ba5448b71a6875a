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

#[derive(orm::FromRow, Debug, PartialEq)]
struct Person {
    name: String,
    #[orm(column = "years")]
    age: Option<i64>,
}

#[test]
fn text_binds_named_parameters_and_reads_tuples_and_structs() {
    each_engine(|engine| {
        seeded(&engine);
        let stmt = || {
            orm::core::text(
                "SELECT name, age AS years FROM users WHERE age > :min AND name != :skip ORDER BY age",
            )
            .bind("min", 18)
            .bind("skip", "Carol'; DROP TABLE users; --")
        };
        let rows = engine.execute(stmt()).unwrap();
        assert_eq!(
            rows.all::<(String, i64)>().unwrap(),
            [("Alice".to_string(), 30), ("Carol".to_string(), 42)],
            "{}",
            engine.dialect()
        );
        assert_eq!(
            rows.all::<Person>().unwrap(),
            [
                Person {
                    name: "Alice".into(),
                    age: Some(30)
                },
                Person {
                    name: "Carol".into(),
                    age: Some(42)
                }
            ]
        );
        assert_eq!(
            rows.scalars::<String>().unwrap(),
            ["Alice".to_string(), "Carol".to_string()]
        );
        // The same parameter twice, and the value a session would run.
        let session = Session::new(&engine);
        let twice = session
            .execute(
                orm::core::text("SELECT count(*) FROM users WHERE age >= :a AND age <= :a + 12")
                    .bind("a", 30),
            )
            .unwrap();
        assert_eq!(twice.scalars::<i64>().unwrap(), [2], "{}", engine.dialect());
    });
}

#[test]
fn text_without_a_value_for_a_parameter_is_refused_before_it_runs() {
    each_engine(|engine| {
        seeded(&engine);
        let before = engine.statement_count();
        let err = engine
            .execute(orm::core::text("SELECT name FROM users WHERE age > :min"))
            .unwrap_err();
        assert!(err.to_string().contains(":min"), "{err}");
        assert_eq!(engine.statement_count(), before);
    });
}

#[test]
fn rows_that_do_not_fit_say_which_column() {
    each_engine(|engine| {
        seeded(&engine);
        let rows = engine
            .execute(orm::core::text(
                "SELECT name, age AS years FROM users WHERE name = 'Dave'",
            ))
            .unwrap();
        let err = rows.all::<(String, i64)>().unwrap_err().to_string();
        assert!(err.contains("years"), "{err}");
        let err = rows.all::<(String,)>().unwrap_err().to_string();
        assert!(err.contains("2 columns"), "{err}");
        #[derive(orm::FromRow, Debug)]
        #[allow(dead_code)]
        struct Wrong {
            nickname: String,
        }
        let err = rows.all::<Wrong>().unwrap_err().to_string();
        assert!(
            err.contains("nickname") && err.contains("name, years"),
            "{err}"
        );
    });
}
