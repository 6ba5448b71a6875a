//! Every Core construct run on SQLite and PostgreSQL from one body, checking the rows. The SQL
//! text each dialect writes is checked without a server in `sql_golden.rs`.

mod support;

use orm::core::{insert, select, update, ColumnDef, Statement, Table};
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

mod constructs {
    use super::*;
    use orm::core::{case, cast, excluded, exists, literal, union, union_all, window};

    fn posts() -> Table {
        Table::new("posts")
            .column(ColumnDef::new("id", ColumnType::Integer).primary_key())
            .column(ColumnDef::new("user_id", ColumnType::Integer))
            .column(ColumnDef::new("title", ColumnType::Text))
    }

    /// `seeded` plus posts: Alice 2 ("Rust", "SQL"), Carol 1 ("Rust again").
    fn with_posts(engine: &Engine) -> (Table, Table) {
        let u = seeded(engine);
        let p = posts();
        engine
            .execute(Statement::CreateTable {
                table: p.clone(),
                if_not_exists: false,
            })
            .unwrap();
        for (user, title) in [(1, "Rust"), (1, "SQL"), (3, "Rust again")] {
            engine
                .execute(insert(&p).value("user_id", user).value("title", title))
                .unwrap();
        }
        (u, p)
    }

    fn rows<T: orm::core::FromRow>(engine: &Engine, stmt: impl Into<Statement>) -> Vec<T> {
        let stmt = stmt.into();
        engine
            .execute(stmt.clone())
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", engine.dialect(), stmt.to_sql()))
            .all()
            .unwrap_or_else(|e| panic!("{}: {e}", engine.dialect()))
    }

    #[test]
    fn upsert_updates_with_excluded_values_or_skips() {
        each_engine(|engine| {
            let u = seeded(&engine);
            let upsert = |id: i64, name: &str, age: i64| {
                insert(&u)
                    .value("id", id)
                    .value("name", name)
                    .value("age", age)
                    .on_conflict(["id"])
            };
            engine
                .execute(
                    upsert(1, "Alicia", 31)
                        .do_update([("name", excluded("name")), ("age", excluded("age"))]),
                )
                .unwrap();
            engine
                .execute(upsert(2, "Robert", 99).do_nothing())
                .unwrap();
            engine
                .execute(upsert(5, "Eve", 22).do_update([("name", excluded("name"))]))
                .unwrap();
            // Only when the proposed age is greater: Carol keeps 42.
            engine
                .execute(
                    upsert(3, "Caroline", 40)
                        .do_update([("name", excluded("name"))])
                        .where_(u.c("age").lt(excluded("age"))),
                )
                .unwrap();
            // RETURNING hands back the key of the row inserted or updated.
            let returned = engine
                .execute(
                    insert(&u)
                        .value("id", 2)
                        .value("name", "Bob")
                        .value("age", 17)
                        .returning("id")
                        .on_conflict(["id"])
                        .do_update([("age", excluded("age"))]),
                )
                .unwrap();
            assert_eq!(
                returned.scalars::<i64>().unwrap(),
                [2],
                "{}",
                engine.dialect()
            );
            let got: Vec<(i64, String, Option<i64>)> = rows(
                &engine,
                select([u.c("id"), u.c("name"), u.c("age")])
                    .from(&u)
                    .order_by(u.c("id")),
            );
            assert_eq!(
                got,
                [
                    (1, "Alicia".to_string(), Some(31)),
                    (2, "Bob".to_string(), Some(17)),
                    (3, "Carol".to_string(), Some(42)),
                    (4, "Dave".to_string(), None),
                    (5, "Eve".to_string(), Some(22)),
                ],
                "{}",
                engine.dialect()
            );
        });
    }

    #[test]
    fn scalar_subqueries_correlated_in_select_list_and_in_filters() {
        each_engine(|engine| {
            let (u, p) = with_posts(&engine);
            let post_count = select([func::count_all()])
                .from(&p)
                .filter(p.c("user_id").eq(u.c("id")))
                .scalar_subquery();
            let got: Vec<(String, i64)> = rows(
                &engine,
                select([u.c("name")])
                    .column(post_count.label("posts"))
                    .from(&u)
                    .order_by(u.c("id")),
            );
            assert_eq!(
                got,
                [
                    ("Alice".to_string(), 2),
                    ("Bob".to_string(), 0),
                    ("Carol".to_string(), 1),
                    ("Dave".to_string(), 0)
                ],
                "{}",
                engine.dialect()
            );
            let oldest = select([func::max(u.c("age"))]).from(&u).scalar_subquery();
            let got: Vec<(String,)> = rows(
                &engine,
                select([u.c("name")]).from(&u).filter(u.c("age").eq(oldest)),
            );
            assert_eq!(got, [("Carol".to_string(),)], "{}", engine.dialect());
        });
    }

    #[test]
    fn in_subquery_and_exists() {
        each_engine(|engine| {
            let (u, p) = with_posts(&engine);
            let rust_authors = select([p.c("user_id")])
                .from(&p)
                .filter(p.c("title").like("Rust%"));
            let got: Vec<(String,)> = rows(
                &engine,
                select([u.c("name")])
                    .from(&u)
                    .filter(u.c("id").in_(rust_authors.clone()))
                    .order_by(u.c("id")),
            );
            assert_eq!(got, [("Alice".to_string(),), ("Carol".to_string(),)]);
            let got: Vec<(String,)> = rows(
                &engine,
                select([u.c("name")])
                    .from(&u)
                    .filter(u.c("id").not_in(rust_authors))
                    .order_by(u.c("id")),
            );
            assert_eq!(got, [("Bob".to_string(),), ("Dave".to_string(),)]);
            let has_posts = || {
                exists(
                    select([p.c("id")])
                        .from(&p)
                        .filter(p.c("user_id").eq(u.c("id"))),
                )
            };
            let got: Vec<(String,)> = rows(
                &engine,
                select([u.c("name")])
                    .from(&u)
                    .filter(!has_posts())
                    .order_by(u.c("id")),
            );
            assert_eq!(
                got,
                [("Bob".to_string(),), ("Dave".to_string(),)],
                "{}",
                engine.dialect()
            );
        });
    }

    #[test]
    fn self_join_through_an_alias() {
        each_engine(|engine| {
            let u = seeded(&engine);
            let older = u.alias("older");
            // For each user, how many are older.
            let got: Vec<(String, i64)> = rows(
                &engine,
                select([u.c("name")])
                    .column(func::count(older.c("id")))
                    .from(&u)
                    .outer_join(&older, older.c("age").gt(u.c("age")))
                    .group_by(u.c("name"))
                    .order_by(u.c("name")),
            );
            assert_eq!(
                got,
                [
                    ("Alice".to_string(), 1),
                    ("Bob".to_string(), 2),
                    ("Carol".to_string(), 0),
                    ("Dave".to_string(), 0)
                ],
                "{}",
                engine.dialect()
            );
        });
    }

    #[test]
    fn ctes_and_a_recursive_tree() {
        each_engine(|engine| {
            let u = seeded(&engine);
            let adults = select([u.c("name"), u.c("age")])
                .from(&u)
                .filter(u.c("age").ge(18))
                .cte("adults");
            let got: Vec<(String,)> = rows(
                &engine,
                select([adults.c("name")])
                    .from(&adults)
                    .order_by(adults.c("name")),
            );
            assert_eq!(got, [("Alice".to_string(),), ("Carol".to_string(),)]);

            // A category tree: 1 root, 2 and 3 under it, 4 under 3; the subtree of 3 with depths.
            let cats = Table::new("categories")
                .column(ColumnDef::new("id", ColumnType::Integer).primary_key())
                .column(ColumnDef::new("parent_id", ColumnType::Integer))
                .column(ColumnDef::new("name", ColumnType::Text));
            engine
                .execute(Statement::CreateTable {
                    table: cats.clone(),
                    if_not_exists: false,
                })
                .unwrap();
            for (id, parent, name) in [
                (1, None, "all"),
                (2, Some(1), "books"),
                (3, Some(1), "music"),
                (4, Some(3), "jazz"),
            ] {
                engine
                    .execute(
                        insert(&cats)
                            .value("id", id)
                            .value("parent_id", parent)
                            .value("name", name),
                    )
                    .unwrap();
            }
            let tree = select([cats.c("id"), cats.c("name")])
                .column(literal(0i64).label("depth"))
                .from(&cats)
                .filter(cats.c("id").eq(1))
                .cte("tree")
                .recursive();
            let tree = tree.clone().union_all(
                select([cats.c("id"), cats.c("name")])
                    .column(tree.c("depth").add(1))
                    .from(&cats)
                    .join(&tree, cats.c("parent_id").eq(tree.c("id"))),
            );
            let got: Vec<(String, i64)> = rows(
                &engine,
                select([tree.c("name"), tree.c("depth")])
                    .from(&tree)
                    .order_by(tree.c("depth"))
                    .order_by(tree.c("name")),
            );
            assert_eq!(
                got,
                [
                    ("all".to_string(), 0),
                    ("books".to_string(), 1),
                    ("music".to_string(), 1),
                    ("jazz".to_string(), 2)
                ],
                "{}",
                engine.dialect()
            );
        });
    }

    #[test]
    fn window_functions_over_partitions() {
        each_engine(|engine| {
            let (_, p) = with_posts(&engine);
            let got: Vec<(String, i64, i64, i64)> = rows(
                &engine,
                select([p.c("title")])
                    .column(func::row_number().over(window().order_by(p.c("id"))))
                    .column(
                        func::rank().over(
                            window()
                                .partition_by(p.c("user_id"))
                                .order_by(p.c("title").desc()),
                        ),
                    )
                    .column(func::sum(p.c("id")).over(window().partition_by(p.c("user_id"))))
                    .from(&p)
                    .order_by(p.c("id")),
            );
            assert_eq!(
                got,
                [
                    ("Rust".to_string(), 1, 2, 3),
                    ("SQL".to_string(), 2, 1, 3),
                    ("Rust again".to_string(), 3, 1, 3)
                ],
                "{}",
                engine.dialect()
            );
            let avg: Vec<(f64,)> = rows(
                &engine,
                select([func::avg(p.c("user_id")).over(window())])
                    .from(&p)
                    .limit(1),
            );
            assert!((avg[0].0 - 5.0 / 3.0).abs() < 1e-9, "{avg:?}");
        });
    }

    #[test]
    fn case_cast_coalesce_string_functions_and_distinct_count() {
        each_engine(|engine| {
            let u = seeded(&engine);
            let got: Vec<(String, String, Option<f64>, i64, String, i64)> = rows(
                &engine,
                select([u.c("name")])
                    .column(
                        case([(u.c("age").lt(18), "minor"), (u.c("age").ge(18), "adult")])
                            .else_("unknown"),
                    )
                    .column(cast::<Option<f64>>(u.c("age")))
                    .column(func::coalesce(u.c("age"), 0))
                    .column(func::upper(func::lower(u.c("name"))))
                    .column(func::length(u.c("name")))
                    .from(&u)
                    .order_by(u.c("id")),
            );
            assert_eq!(
                got,
                [
                    (
                        "Alice".into(),
                        "adult".into(),
                        Some(30.0),
                        30,
                        "ALICE".into(),
                        5
                    ),
                    (
                        "Bob".into(),
                        "minor".into(),
                        Some(17.0),
                        17,
                        "BOB".into(),
                        3
                    ),
                    (
                        "Carol".into(),
                        "adult".into(),
                        Some(42.0),
                        42,
                        "CAROL".into(),
                        5
                    ),
                    ("Dave".into(), "unknown".into(), None, 0, "DAVE".into(), 4),
                ],
                "{}",
                engine.dialect()
            );
            let lengths: Vec<(i64, i64)> = rows(
                &engine,
                select([func::count_distinct(func::length(u.c("name")))])
                    .column(func::count(func::length(u.c("name"))))
                    .from(&u),
            );
            assert_eq!(lengths, [(3, 4)], "{}", engine.dialect());
            let distinct: Vec<(i64, i64)> = rows(
                &engine,
                select([func::count(func::length(u.c("name")).distinct())])
                    .column(func::sum(func::length(u.c("name")).distinct()))
                    .from(&u),
            );
            assert_eq!(distinct, [(3, 12)], "{}", engine.dialect());
        });
    }

    #[test]
    fn union_and_union_all() {
        each_engine(|engine| {
            let u = seeded(&engine);
            let young = || select([u.c("name")]).from(&u).filter(u.c("age").lt(31));
            let got: Vec<(String,)> = rows(
                &engine,
                union_all([young(), young()]).order_by(u.c("name")).limit(3),
            );
            assert_eq!(
                got,
                [
                    ("Alice".to_string(),),
                    ("Alice".to_string(),),
                    ("Bob".to_string(),)
                ],
                "{}",
                engine.dialect()
            );
            let got: Vec<(String,)> =
                rows(&engine, union([young(), young()]).order_by(u.c("name")));
            assert_eq!(got, [("Alice".to_string(),), ("Bob".to_string(),)]);
            let adults = || select([u.c("name")]).from(&u).filter(u.c("age").ge(18));
            let got: Vec<(String,)> = rows(&engine, adults().intersect(young()));
            assert_eq!(got, [("Alice".to_string(),)], "{}", engine.dialect());
            let got: Vec<(String,)> = rows(&engine, adults().except(young()).order_by(u.c("name")));
            assert_eq!(got, [("Carol".to_string(),)], "{}", engine.dialect());
            let grown = select([u.c("id")])
                .from(&u)
                .filter(u.c("age").ge(18))
                .subquery("grown");
            let got: Vec<(String,)> = rows(
                &engine,
                select([u.c("name")])
                    .from(&u)
                    .join(&grown, grown.c("id").eq(u.c("id")))
                    .order_by(u.c("name")),
            );
            assert_eq!(
                got,
                [("Alice".to_string(),), ("Carol".to_string(),)],
                "{}",
                engine.dialect()
            );
            // A select with its own order and limit inside a compound (NULLs sort last on
            // SQLite and first on PostgreSQL when descending: leave them out).
            let oldest = select([u.c("name")])
                .from(&u)
                .filter(u.c("age").is_not_null())
                .order_by(u.c("age").desc())
                .limit(1);
            let got: Vec<(String,)> = rows(&engine, oldest.union(young()).order_by(u.c("name")));
            assert_eq!(
                got,
                [
                    ("Alice".to_string(),),
                    ("Bob".to_string(),),
                    ("Carol".to_string(),)
                ],
                "{}",
                engine.dialect()
            );
        });
    }
}

mod orm_queries {
    use super::*;
    use crate::support::models::people::User;

    /// The report: `filter(User::age.in_(Vec::<i64>::new()))` wrote `IN ()`, which
    /// PostgreSQL rejects.
    #[test]
    fn in_and_not_in_of_an_empty_list_run_on_every_engine() {
        each_engine(|engine| {
            seeded(&engine);
            let session = Session::new(&engine);
            let none = session
                .query::<User>()
                .filter(User::age.in_(Vec::<i64>::new()))
                .all()
                .unwrap();
            assert!(none.is_empty(), "{}", engine.dialect());
            let all = session
                .query::<User>()
                .filter(User::age.not_in(Vec::<i64>::new()))
                .count()
                .unwrap();
            assert_eq!(all, 4, "{}", engine.dialect());
            let mixed = session
                .query_values(User::name)
                .filter(User::name.in_(Vec::<String>::new()).or(User::age.gt(40)))
                .all()
                .unwrap();
            assert_eq!(mixed, ["Carol"], "{}", engine.dialect());
        });
    }

    #[test]
    fn empty_case_and_empty_upsert_run_on_every_engine() {
        each_engine(|engine| {
            let u = seeded(&engine);
            let rows = engine
                .execute(
                    select([orm::core::case(Vec::<(Condition, &str)>::new()).else_("none")])
                        .from(&u)
                        .limit(1),
                )
                .unwrap();
            assert_eq!(rows.all::<(String,)>().unwrap(), [("none".to_string(),)]);
            engine
                .execute(
                    insert(&u)
                        .value("id", 1)
                        .value("name", "X")
                        .on_conflict(["id"])
                        .do_update(Vec::<(&str, orm::core::AnyColumn)>::new()),
                )
                .unwrap();
            let name = engine
                .execute(select([u.c("name")]).from(&u).filter(u.c("id").eq(1)))
                .unwrap();
            assert_eq!(
                name.scalars::<String>().unwrap(),
                ["Alice"],
                "{}",
                engine.dialect()
            );
        });
    }
}

#[test]
fn update_sets_columns_to_expressions() {
    each_engine(|engine| {
        let u = seeded(&engine);
        let changed = engine
            .execute(
                update(&u)
                    .set_expr("age", u.c("age").add(1))
                    .filter(u.c("age").is_not_null()),
            )
            .unwrap();
        assert_eq!(changed.rows_affected, 3, "{}", engine.dialect());
        let ages = engine
            .execute(select([u.c("age")]).from(&u).order_by(u.c("id")))
            .unwrap();
        assert_eq!(
            ages.scalars::<Option<i64>>().unwrap(),
            [Some(31), Some(18), Some(43), None],
            "{}",
            engine.dialect()
        );
    });
}

/// A model that is also read from hand-written SQL: both derives read the same `#[orm(...)]`.
#[derive(orm::Model, orm::FromRow, Debug, Clone, Default, PartialEq)]
#[orm(table = "members")]
pub struct Member {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(column = "full_name", unique)]
    pub name: String,
}

#[test]
fn a_model_can_also_derive_from_row() {
    each_engine(|engine| {
        MetaData::new().add::<Member>().create_all(&engine).unwrap();
        let session = Session::new(&engine);
        session.add(Member {
            name: "Ann".into(),
            ..Default::default()
        });
        session.commit().unwrap();
        let rows = engine
            .execute(orm::core::text("SELECT id, full_name FROM members"))
            .unwrap();
        assert_eq!(
            rows.all::<Member>().unwrap(),
            [Member {
                id: 1,
                name: "Ann".into()
            }],
            "{}",
            engine.dialect()
        );
    });
}
