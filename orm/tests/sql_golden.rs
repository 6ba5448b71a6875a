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

mod constructs {
    use super::*;
    use orm::core::{case, cast, excluded, exists, literal, union_all, window, Statement};

    fn posts() -> Table {
        Table::new("posts")
            .column(ColumnDef::new("id", ColumnType::Integer).primary_key())
            .column(ColumnDef::new("user_id", ColumnType::Integer))
            .column(ColumnDef::new("title", ColumnType::Text))
    }

    #[test]
    fn upsert_do_update_with_excluded_and_do_nothing() {
        let u = users();
        let update = || {
            insert(&u)
                .value("id", 1)
                .value("name", "Ann")
                .value("age", 31)
                .on_conflict(["id"])
                .do_update([("name", excluded("name")), ("age", excluded("age"))])
                .where_(u.c("age").lt(excluded("age")))
        };
        assert_eq!(
            sqlite(update()).0,
            r#"INSERT INTO "users" ("id", "name", "age") VALUES (?, ?, ?) ON CONFLICT ("id") DO UPDATE SET "name" = "excluded"."name", "age" = "excluded"."age" WHERE "users"."age" < "excluded"."age""#
        );
        assert_eq!(
            postgres(update()).0,
            r#"INSERT INTO "users" ("id", "name", "age") VALUES ($1, $2, $3) ON CONFLICT ("id") DO UPDATE SET "name" = "excluded"."name", "age" = "excluded"."age" WHERE "users"."age" < "excluded"."age""#
        );
        let nothing = || {
            insert(&u)
                .value("id", 1)
                .value("name", "Ann")
                .on_conflict(Vec::<String>::new())
                .do_nothing()
        };
        assert_eq!(
            sqlite(nothing()).0,
            r#"INSERT INTO "users" ("id", "name") VALUES (?, ?) ON CONFLICT DO NOTHING"#
        );
        assert_eq!(
            postgres(nothing()).0,
            r#"INSERT INTO "users" ("id", "name") VALUES ($1, $2) ON CONFLICT DO NOTHING"#
        );
        let set_value = insert(&u)
            .value("id", 1)
            .value("name", "Ann")
            .on_conflict(["id"])
            .do_nothing()
            .set("age", 5);
        assert_eq!(
            postgres(set_value),
            with_params(
                r#"INSERT INTO "users" ("id", "name") VALUES ($1, $2) ON CONFLICT ("id") DO UPDATE SET "age" = $3"#,
                &[
                    Value::Integer(1),
                    Value::Text("Ann".into()),
                    Value::Integer(5)
                ]
            )
        );
    }

    #[test]
    fn scalar_subquery_in_select_list_and_filter() {
        let (u, p) = (users(), posts());
        let stmt = || {
            let post_count = select([func::count_all()])
                .from(&p)
                .filter(p.c("user_id").eq(u.c("id")))
                .scalar_subquery();
            let oldest = select([func::max(u.c("age"))]).from(&u).scalar_subquery();
            select([u.c("name")])
                .column(post_count.label("posts"))
                .from(&u)
                .filter(u.c("age").eq(oldest))
        };
        assert_eq!(
            sqlite(stmt()).0,
            r#"SELECT "users"."name", (SELECT count(*) FROM "posts" WHERE "posts"."user_id" = "users"."id") AS "posts" FROM "users" WHERE "users"."age" = (SELECT max("users"."age") FROM "users")"#
        );
        assert_eq!(sqlite(stmt()).0, postgres(stmt()).0);
    }

    #[test]
    fn in_subquery_and_exists_correlated() {
        let (u, p) = (users(), posts());
        let stmt = || {
            select([u.c("name")])
                .from(&u)
                .filter(
                    u.c("id").in_(
                        select([p.c("user_id")])
                            .from(&p)
                            .filter(p.c("title").like("R%")),
                    ),
                )
                .filter(!exists(
                    select([p.c("id")])
                        .from(&p)
                        .filter(p.c("user_id").eq(u.c("id"))),
                ))
        };
        assert_eq!(
            sqlite(stmt()).0,
            r#"SELECT "users"."name" FROM "users" WHERE "users"."id" IN (SELECT "posts"."user_id" FROM "posts" WHERE "posts"."title" LIKE ? ESCAPE '\') AND (NOT EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."user_id" = "users"."id"))"#
        );
        assert_eq!(
            postgres(stmt()).0,
            r#"SELECT "users"."name" FROM "users" WHERE "users"."id" IN (SELECT "posts"."user_id" FROM "posts" WHERE "posts"."title" LIKE $1 ESCAPE '\') AND (NOT EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."user_id" = "users"."id"))"#
        );
    }

    #[test]
    fn self_join_through_an_alias() {
        let u = users();
        let older = u.alias("older");
        let stmt = || {
            select([u.c("name"), older.c("name")])
                .from(&u)
                .join(&older, older.c("age").gt(u.c("age")))
                .order_by(u.c("name"))
        };
        let expected = r#"SELECT "users"."name", "older"."name" FROM "users" JOIN "users" AS "older" ON "older"."age" > "users"."age" ORDER BY "users"."name" ASC"#;
        assert_eq!(sqlite(stmt()).0, expected);
        assert_eq!(postgres(stmt()).0, expected);
    }

    #[test]
    fn cte_and_recursive_cte() {
        let u = users();
        let adults = select([u.c("name"), u.c("age")])
            .from(&u)
            .filter(u.c("age").ge(18))
            .cte("adults");
        let stmt = select([adults.c("name")]).from(&adults);
        assert_eq!(
            postgres(stmt).0,
            r#"WITH "adults" AS (SELECT "users"."name", "users"."age" FROM "users" WHERE "users"."age" >= $1) SELECT "adults"."name" FROM "adults""#
        );
        let counter = select([literal(1i64).label("n")])
            .cte("counter")
            .recursive();
        let counter = counter.clone().union_all(
            select([counter.c("n").add(1).label("n")])
                .from(&counter)
                .filter(counter.c("n").lt(5)),
        );
        let stmt = || select([counter.c("n")]).from(&counter);
        assert_eq!(
            sqlite(stmt()),
            with_params(
                r#"WITH RECURSIVE "counter" AS (SELECT ? AS "n" UNION ALL SELECT "counter"."n" + ? AS "n" FROM "counter" WHERE "counter"."n" < ?) SELECT "counter"."n" FROM "counter""#,
                &[Value::Integer(1), Value::Integer(1), Value::Integer(5)]
            )
        );
        assert_eq!(
            postgres(stmt()).0,
            r#"WITH RECURSIVE "counter" AS (SELECT $1::BIGINT AS "n" UNION ALL SELECT "counter"."n" + $2 AS "n" FROM "counter" WHERE "counter"."n" < $3) SELECT "counter"."n" FROM "counter""#
        );
    }

    #[test]
    fn window_functions() {
        let u = users();
        let stmt = || {
            select([u.c("name")])
                .column(func::row_number().over(window().order_by(u.c("age").desc())))
                .column(func::rank().over(window().partition_by(u.c("name")).order_by(u.c("age"))))
                .column(func::avg(u.c("age")).over(window()))
                .from(&u)
        };
        let expected = r#"SELECT "users"."name", row_number() OVER (ORDER BY "users"."age" DESC), rank() OVER (PARTITION BY "users"."name" ORDER BY "users"."age" ASC), avg("users"."age") OVER () FROM "users""#;
        assert_eq!(sqlite(stmt()).0, expected);
        assert_eq!(postgres(stmt()).0, expected);
    }

    #[test]
    fn case_cast_coalesce_and_string_functions() {
        let u = users();
        let stmt = || {
            select([case([(u.c("age").lt(18), "minor")]).else_("adult")])
                .column(cast::<Option<f64>>(u.c("age")))
                .column(func::coalesce(u.c("age"), 0))
                .column(func::lower(u.c("name")))
                .column(func::upper(u.c("name")))
                .column(func::length(u.c("name")))
                .column(func::count_distinct(u.c("age")))
                .from(&u)
        };
        assert_eq!(
            sqlite(stmt()).0,
            r#"SELECT CASE WHEN "users"."age" < ? THEN ? ELSE ? END, CAST("users"."age" AS FLOAT), coalesce("users"."age", ?), lower("users"."name"), upper("users"."name"), length("users"."name"), count(DISTINCT "users"."age") FROM "users""#
        );
        assert_eq!(
            postgres(stmt()).0,
            r#"SELECT CASE WHEN "users"."age" < $1 THEN $2::TEXT ELSE $3::TEXT END, CAST("users"."age" AS DOUBLE PRECISION), coalesce("users"."age", $4), lower("users"."name"), upper("users"."name"), length("users"."name"), count(DISTINCT "users"."age") FROM "users""#
        );
    }

    #[test]
    fn union_and_union_all_with_order_and_limit() {
        let u = users();
        let stmt = || {
            union_all([
                select([u.c("name")]).from(&u).filter(u.c("age").lt(18)),
                select([u.c("name")]).from(&u).filter(u.c("age").gt(40)),
            ])
            .order_by(u.c("name"))
            .limit(3)
        };
        assert_eq!(
            sqlite(stmt()).0,
            r#"SELECT "users"."name" FROM "users" WHERE "users"."age" < ? UNION ALL SELECT "users"."name" FROM "users" WHERE "users"."age" > ? ORDER BY "name" ASC LIMIT 3"#
        );
        // A select with its own limit: parentheses in standard SQL, a subquery on SQLite.
        let limited = || {
            select([u.c("name")])
                .from(&u)
                .order_by(u.c("age"))
                .limit(1)
                .union(select([u.c("name")]).from(&u).filter(u.c("age").is_null()))
        };
        assert_eq!(
            sqlite(limited()).0,
            r#"SELECT * FROM (SELECT "users"."name" FROM "users" ORDER BY "users"."age" ASC LIMIT 1) UNION SELECT "users"."name" FROM "users" WHERE "users"."age" IS NULL"#
        );
        assert_eq!(
            postgres(limited()).0,
            r#"(SELECT "users"."name" FROM "users" ORDER BY "users"."age" ASC LIMIT 1) UNION SELECT "users"."name" FROM "users" WHERE "users"."age" IS NULL"#
        );
        assert_eq!(
            Statement::from(limited()).to_sql(),
            postgres(limited()).0.replace("$1", "?")
        );
    }
}

#[test]
fn distinct_inside_aggregates() {
    let u = users();
    let stmt = || {
        select([func::count(u.c("age").distinct())])
            .column(func::sum(u.c("age").distinct()))
            .from(&u)
    };
    let expected =
        r#"SELECT count(DISTINCT "users"."age"), sum(DISTINCT "users"."age") FROM "users""#;
    assert_eq!(sqlite(stmt()).0, expected);
    assert_eq!(postgres(stmt()).0, expected);
}

#[test]
fn empty_inputs_write_valid_sql_on_every_dialect() {
    use orm::core::{and_, case, excluded, or_, window};
    let u = users();
    let stmt = || {
        select([case(Vec::<(Condition, &str)>::new()).else_("none")])
            .column(case(Vec::<(Condition, i64)>::new()).end())
            .column(func::count_all().over(window()))
            .from(&u)
            .filter(u.c("name").in_(Vec::<String>::new()).or(u.c("age").gt(40)))
    };
    assert_eq!(
        sqlite(stmt()).0,
        r#"SELECT ?, NULL, count(*) OVER () FROM "users" WHERE ("users"."name" IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)) OR ("users"."age" > ?)"#
    );
    assert_eq!(
        postgres(stmt()).0,
        r#"SELECT $1::TEXT, NULL, count(*) OVER () FROM "users" WHERE (("users"."name" IN (NULL) AND (1 != 1))) OR ("users"."age" > $2)"#
    );
    let all = || select([u.c("name")]).from(&u).filter(and_([]));
    let none = || select([u.c("name")]).from(&u).filter(or_([]));
    assert_eq!(
        sqlite(all()).0,
        r#"SELECT "users"."name" FROM "users" WHERE 1 = 1"#
    );
    assert_eq!(postgres(all()).0, sqlite(all()).0);
    assert_eq!(
        postgres(none()).0,
        r#"SELECT "users"."name" FROM "users" WHERE 1 = 0"#
    );
    let upsert = || {
        insert(&u)
            .value("id", 1)
            .on_conflict(["id"])
            .do_update(Vec::<(&str, orm::core::AnyColumn)>::new())
    };
    assert_eq!(
        postgres(upsert()).0,
        r#"INSERT INTO "users" ("id") VALUES ($1) ON CONFLICT ("id") DO NOTHING"#
    );
    let _ = excluded("id");
}

#[test]
fn intersect_except_and_joining_a_subquery() {
    let u = users();
    let adults = || select([u.c("name")]).from(&u).filter(u.c("age").ge(18));
    let named_a = || {
        select([u.c("name")])
            .from(&u)
            .filter(u.c("name").like("A%"))
    };
    assert_eq!(
        sqlite(adults().intersect(named_a())).0,
        r#"SELECT "users"."name" FROM "users" WHERE "users"."age" >= ? INTERSECT SELECT "users"."name" FROM "users" WHERE "users"."name" LIKE ? ESCAPE '\'"#
    );
    assert_eq!(
        postgres(adults().except(named_a())).0,
        r#"SELECT "users"."name" FROM "users" WHERE "users"."age" >= $1 EXCEPT SELECT "users"."name" FROM "users" WHERE "users"."name" LIKE $2 ESCAPE '\'"#
    );
    // A subquery as a join target becomes a CTE (a join names what it joins).
    let grown = select([u.c("id")])
        .from(&u)
        .filter(u.c("age").ge(18))
        .subquery("grown");
    let stmt = select([u.c("name")])
        .from(&u)
        .join(&grown, grown.c("id").eq(u.c("id")));
    assert_eq!(
        postgres(stmt).0,
        r#"WITH "grown" AS (SELECT "users"."id" FROM "users" WHERE "users"."age" >= $1) SELECT "users"."name" FROM "users" JOIN "grown" ON "grown"."id" = "users"."id""#
    );
}

#[test]
fn update_set_to_expressions_and_subqueries() {
    let u = users();
    let stmt = || {
        update(&u)
            .set_expr("age", u.c("age").add(1))
            .set_expr(
                "name",
                select([func::max(u.c("name"))]).from(&u).scalar_subquery(),
            )
            .filter(u.c("id").eq(1))
    };
    assert_eq!(
        sqlite(stmt()).0,
        r#"UPDATE "users" SET "age" = "users"."age" + ?, "name" = (SELECT max("users"."name") FROM "users") WHERE "users"."id" = ?"#
    );
    assert_eq!(
        postgres(stmt()).0,
        r#"UPDATE "users" SET "age" = "users"."age" + $1, "name" = (SELECT max("users"."name") FROM "users") WHERE "users"."id" = $2"#
    );
}

#[test]
fn text_leaves_dollar_quoted_strings_alone() {
    let stmt = orm::core::text("SELECT $$ :not $$, $tag$ it's :not $tag$, :yes").bind("yes", 1);
    assert_eq!(stmt.parameter_names(), ["yes"]);
    assert_eq!(
        postgres(stmt).0,
        "SELECT $$ :not $$, $tag$ it's :not $tag$, $1"
    );
}

#[test]
fn upsert_returning_comes_after_the_conflict_clause() {
    let u = users();
    let stmt = || {
        insert(&u)
            .value("name", "Ann")
            .returning("id")
            .on_conflict(["name"])
            .do_update([("name", orm::core::excluded("name"))])
    };
    assert_eq!(
        postgres(stmt()).0,
        r#"INSERT INTO "users" ("name") VALUES ($1) ON CONFLICT ("name") DO UPDATE SET "name" = "excluded"."name" RETURNING "id""#
    );
    assert_eq!(
        sqlite(stmt()).0,
        r#"INSERT INTO "users" ("name") VALUES (?) ON CONFLICT ("name") DO UPDATE SET "name" = "excluded"."name" RETURNING "id""#
    );
}

#[test]
fn composite_primary_key_is_a_table_constraint_after_the_columns() {
    let enrollments = Table::new("enrollments")
        .column(
            ColumnDef::new("student_id", ColumnType::Integer)
                .primary_key()
                .references("students", "id"),
        )
        .column(ColumnDef::new("course_code", ColumnType::String(Some(20))).primary_key())
        .column(ColumnDef::new("grade", ColumnType::String(None)));
    let stmt = || Statement::CreateTable {
        table: enrollments.clone(),
        if_not_exists: false,
    };
    assert_eq!(
        sqlite(stmt()).0,
        "CREATE TABLE \"enrollments\" (\n  \"student_id\" INTEGER NOT NULL,\n  \"course_code\" VARCHAR(20) NOT NULL,\n  \"grade\" VARCHAR,\n  PRIMARY KEY (\"student_id\", \"course_code\"),\n  FOREIGN KEY (\"student_id\") REFERENCES \"students\"(\"id\")\n)"
    );
    assert_eq!(
        postgres(stmt()).0,
        "CREATE TABLE \"enrollments\" (\n  \"student_id\" BIGINT NOT NULL,\n  \"course_code\" VARCHAR(20) NOT NULL,\n  \"grade\" VARCHAR,\n  PRIMARY KEY (\"student_id\", \"course_code\"),\n  FOREIGN KEY (\"student_id\") REFERENCES \"students\"(\"id\")\n)"
    );
}

#[test]
fn table_constraints_server_default_and_multi_column_indexes() {
    let members = Table::new("members")
        .column(ColumnDef::new("id", ColumnType::Integer).primary_key())
        .column(ColumnDef::new("team", ColumnType::String(None)).not_null())
        .column(ColumnDef::new("age", ColumnType::Integer).not_null())
        .column(
            ColumnDef::new("created_at", ColumnType::DateTime).server_default("CURRENT_TIMESTAMP"),
        )
        .unique_constraint(None, &["team", "age"])
        .check("age_positive", "age >= 0")
        .index(None, &["team", "age"], false)
        .index(Some("ix_by_age"), &["age"], true);
    let create = || Statement::CreateTable {
        table: members.clone(),
        if_not_exists: false,
    };
    assert_eq!(
        sqlite(create()).0,
        "CREATE TABLE \"members\" (\n  \"id\" INTEGER NOT NULL PRIMARY KEY,\n  \"team\" VARCHAR NOT NULL,\n  \"age\" INTEGER NOT NULL,\n  \"created_at\" TIMESTAMP DEFAULT (CURRENT_TIMESTAMP),\n  CONSTRAINT \"uq_members_team_age\" UNIQUE (\"team\", \"age\"),\n  CONSTRAINT \"ck_members_age_positive\" CHECK (age >= 0)\n)"
    );
    assert_eq!(
        postgres(create()).0,
        "CREATE TABLE \"members\" (\n  \"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n  \"team\" VARCHAR NOT NULL,\n  \"age\" BIGINT NOT NULL,\n  \"created_at\" TIMESTAMP DEFAULT (CURRENT_TIMESTAMP),\n  CONSTRAINT \"uq_members_team_age\" UNIQUE (\"team\", \"age\"),\n  CONSTRAINT \"ck_members_age_positive\" CHECK (age >= 0)\n)"
    );
    let indexes: Vec<(String, String)> = MetaData::new()
        .add_table(members.clone())
        .create_statements()
        .into_iter()
        .skip(1)
        .map(|s| (sqlite(s.clone()).0, postgres(s).0))
        .collect();
    assert_eq!(
        indexes,
        [
            (
                "CREATE INDEX IF NOT EXISTS \"ix_members_team_age\" ON \"members\" (\"team\", \"age\")".to_string(),
                "CREATE INDEX IF NOT EXISTS \"ix_members_team_age\" ON \"members\" (\"team\", \"age\")".to_string()
            ),
            (
                "CREATE UNIQUE INDEX IF NOT EXISTS \"ix_by_age\" ON \"members\" (\"age\")".to_string(),
                "CREATE UNIQUE INDEX IF NOT EXISTS \"ix_by_age\" ON \"members\" (\"age\")".to_string()
            )
        ]
    );
    // The onupdate expression is written as is into the SET of an UPDATE.
    let touch = Statement::Update(orm::core::Update {
        table: "members".into(),
        set: vec![
            ("age".into(), orm::core::Expr::Placeholder),
            (
                "created_at".into(),
                orm::core::Expr::Sql("CURRENT_TIMESTAMP".into()),
            ),
        ],
        filter: None,
    });
    assert_eq!(
        sqlite(touch.clone()).0,
        "UPDATE \"members\" SET \"age\" = ?, \"created_at\" = (CURRENT_TIMESTAMP)"
    );
    assert_eq!(
        postgres(touch).0,
        "UPDATE \"members\" SET \"age\" = $1, \"created_at\" = (CURRENT_TIMESTAMP)"
    );
}

#[test]
fn enum_columns_get_a_check_constraint_on_both_dialects() {
    let tickets = Table::new("tickets")
        .column(ColumnDef::new("id", ColumnType::Integer).primary_key())
        .column(
            ColumnDef::new("status", ColumnType::String(Some(7)))
                .not_null()
                .enum_values(&["open", "on_hold", "done"]),
        );
    let create = || Statement::CreateTable {
        table: tickets.clone(),
        if_not_exists: false,
    };
    assert_eq!(
        sqlite(create()).0,
        "CREATE TABLE \"tickets\" (\n  \"id\" INTEGER NOT NULL PRIMARY KEY,\n  \"status\" VARCHAR(7) NOT NULL,\n  CONSTRAINT \"ck_tickets_status_enum\" CHECK (\"status\" IN ('open', 'on_hold', 'done'))\n)"
    );
    assert_eq!(
        postgres(create()).0,
        "CREATE TABLE \"tickets\" (\n  \"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n  \"status\" VARCHAR(7) NOT NULL,\n  CONSTRAINT \"ck_tickets_status_enum\" CHECK (\"status\" IN ('open', 'on_hold', 'done'))\n)"
    );
}

#[test]
fn a_table_level_foreign_key_lists_its_columns_on_both_dialects() {
    let registrations = Table::new("registrations")
        .column(ColumnDef::new("id", ColumnType::Integer).primary_key())
        .column(ColumnDef::new("term", ColumnType::String(Some(10))))
        .column(ColumnDef::new("code", ColumnType::String(Some(10))))
        .foreign_key_constraint(&["term", "code"], "offerings", &["term", "code"]);
    let create = || Statement::CreateTable {
        table: registrations.clone(),
        if_not_exists: false,
    };
    assert_eq!(
        sqlite(create()).0,
        "CREATE TABLE \"registrations\" (\n  \"id\" INTEGER NOT NULL PRIMARY KEY,\n  \"term\" VARCHAR(10),\n  \"code\" VARCHAR(10),\n  FOREIGN KEY (\"term\", \"code\") REFERENCES \"offerings\"(\"term\", \"code\")\n)"
    );
    assert_eq!(
        postgres(create()).0,
        "CREATE TABLE \"registrations\" (\n  \"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n  \"term\" VARCHAR(10),\n  \"code\" VARCHAR(10),\n  FOREIGN KEY (\"term\", \"code\") REFERENCES \"offerings\"(\"term\", \"code\")\n)"
    );
}

/// `SELECT id FROM registrations WHERE (term, code) IN (…keys…)`, the select-in load of a
/// composite key.
fn row_value_in(keys: &[(&str, &str)]) -> Statement {
    use orm::core::{Expr, FromItem, Select, SelectItem};
    let column = |name: &'static str| Expr::column("registrations", name);
    let mut stmt = Select::default();
    stmt.columns.push(SelectItem {
        expr: column("id"),
        alias: None,
    });
    stmt.from = vec![FromItem::Table("registrations".into())];
    stmt.filter = Some(Expr::InList {
        expr: Box::new(Expr::Tuple(vec![column("term"), column("code")])),
        list: keys
            .iter()
            .map(|(t, c)| Expr::Tuple(vec![Expr::value(*t), Expr::value(*c)]))
            .collect(),
        negated: false,
    });
    Statement::Select(stmt)
}

#[test]
fn row_values_in_a_list_are_a_values_list_on_sqlite_and_rows_on_postgres() {
    let keys = [("2024F", "CS101"), ("2025S", "ART1")];
    let params = [
        Value::Text("2024F".into()),
        Value::Text("CS101".into()),
        Value::Text("2025S".into()),
        Value::Text("ART1".into()),
    ];
    assert_eq!(
        sqlite(row_value_in(&keys)),
        with_params(
            r#"SELECT "registrations"."id" FROM "registrations" WHERE ("registrations"."term", "registrations"."code") IN (VALUES (?, ?), (?, ?))"#,
            &params
        )
    );
    assert_eq!(
        postgres(row_value_in(&keys)),
        with_params(
            r#"SELECT "registrations"."id" FROM "registrations" WHERE ("registrations"."term", "registrations"."code") IN (($1, $2), ($3, $4))"#,
            &params
        )
    );
    // No keys: always false, and no row value compared with NULL.
    for (dialect, written) in [
        ("sqlite", sqlite(row_value_in(&[]))),
        ("postgres", postgres(row_value_in(&[]))),
    ] {
        assert_eq!(
            written,
            no_params(r#"SELECT "registrations"."id" FROM "registrations" WHERE (1 != 1)"#),
            "{dialect}"
        );
    }
}
