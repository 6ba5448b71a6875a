//! Parity with SQLAlchemy for the Core constructs beyond the lesson: the same statements on the
//! same data give the same rows as `tests/parity/core_constructs.py` (SQLAlchemy 2.x on SQLite),
//! here on SQLite and on PostgreSQL. Some are written twice, in Core and through ORM queries.

mod support;

use orm::core::{
    case, cast, excluded, exists, insert, literal, literal_column, select, text, union, union_all,
    window, Statement,
};
use orm::prelude::*;
use orm::query::aliased;
use orm::{ResultSet, Value};
use serde_json::{json, Map, Value as Json};
use support::each_engine;
use support::models::people::User;

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "posts")]
pub struct Post {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(foreign_key = "users.id")]
    pub user_id: Option<i64>,
    pub title: Option<String>,
}

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "categories")]
pub struct Category {
    #[orm(primary_key)]
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
}

fn reference() -> Option<Json> {
    support::sqlalchemy_reference("core_constructs.py")
}

fn cell(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Integer(i) => json!(i),
        Value::Real(f) => json!((f * 1e9).round() / 1e9),
        Value::Text(t) => json!(t),
        Value::Bool(b) => json!(b),
        other => json!(other.to_string()),
    }
}

fn table(rows: &ResultSet) -> Json {
    Json::Array(
        rows.rows
            .iter()
            .map(|r| Json::Array(r.iter().map(cell).collect()))
            .collect(),
    )
}

fn seed(engine: &Engine) {
    MetaData::new()
        .add::<User>()
        .add::<Post>()
        .add::<Category>()
        .create_all(engine)
        .unwrap();
    let session = Session::new(engine);
    for (name, age) in [
        ("Alice", Some(30)),
        ("Bob", Some(17)),
        ("Carol", Some(42)),
        ("Dave", None),
    ] {
        session.add(User {
            name: name.into(),
            age,
            ..Default::default()
        });
    }
    session.commit().unwrap();
    for (user, title) in [(1, "Rust"), (1, "SQL"), (3, "Rust again")] {
        session.add(Post {
            user_id: Some(user),
            title: Some(title.into()),
            ..Default::default()
        });
    }
    for (id, parent_id, name) in [
        (1, None, "all"),
        (2, Some(1), "books"),
        (3, Some(1), "music"),
        (4, Some(3), "jazz"),
    ] {
        session.add(Category {
            id,
            parent_id,
            name: name.into(),
        });
    }
    session.commit().unwrap();
}

/// Every construct on `engine`, keyed as the Python script keys them; ORM spellings of the same
/// query under `orm:<key>`.
fn ours(engine: &Engine) -> Map<String, Json> {
    seed(engine);
    let run = |stmt: Statement| -> Json {
        match engine.execute(stmt.clone()) {
            Ok(rows) => table(&rows),
            Err(e) => panic!("{}: {e}\n{}", engine.dialect(), stmt.to_sql()),
        }
    };
    let (users, posts, cats) = (User::TABLE, Post::TABLE, Category::TABLE);
    let (u, p, c) = (
        |n: &str| users.c(n),
        |n: &str| posts.c(n),
        |n: &str| cats.c(n),
    );
    let session = Session::new(engine);
    let mut out = Map::new();
    let mut put = |key: &str, value: Json| {
        out.insert(key.to_string(), value);
    };

    put(
        "empty_in",
        run(select([u("name")])
            .from(&users)
            .filter(u("age").in_(Vec::<i64>::new()))
            .order_by(u("id"))
            .into()),
    );
    put(
        "empty_not_in",
        run(select([u("name")])
            .from(&users)
            .filter(u("age").not_in(Vec::<i64>::new()))
            .order_by(u("id"))
            .into()),
    );
    put(
        "text_bind",
        run(
            text("SELECT name, age FROM users WHERE age > :min AND name != :skip ORDER BY age")
                .bind("min", 18)
                .bind("skip", "Bob")
                .into(),
        ),
    );

    let post_count = select([func::count_all()])
        .from(&posts)
        .filter(p("user_id").eq(u("id")))
        .scalar_subquery();
    put(
        "scalar_subquery",
        run(select([u("name")])
            .column(post_count.label("posts"))
            .from(&users)
            .order_by(u("id"))
            .into()),
    );
    let orm_count = select_values(func::count(Post::id))
        .filter(Post::user_id.eq(User::id))
        .scalar_subquery();
    let rows = session
        .query_values((User::name, orm_count))
        .order_by(User::id)
        .all()
        .unwrap();
    put(
        "orm:scalar_subquery",
        json!(rows
            .into_iter()
            .map(|(n, c)| json!([n, c]))
            .collect::<Vec<_>>()),
    );

    let oldest = select([func::max(u("age"))]).from(&users).scalar_subquery();
    put(
        "scalar_subquery_filter",
        run(select([u("name")])
            .from(&users)
            .filter(u("age").eq(oldest))
            .into()),
    );
    let orm_oldest = select_values(func::max(User::age)).scalar_subquery();
    let rows = session
        .query_values(User::name)
        .filter(User::age.eq(orm_oldest))
        .all()
        .unwrap();
    put(
        "orm:scalar_subquery_filter",
        json!(rows.into_iter().map(|n| json!([n])).collect::<Vec<_>>()),
    );

    let rust_authors = select([p("user_id")])
        .from(&posts)
        .filter(p("title").like("Rust%"));
    put(
        "in_subquery",
        run(select([u("name")])
            .from(&users)
            .filter(u("id").in_(rust_authors))
            .order_by(u("id"))
            .into()),
    );
    let orm_authors = select_values(Post::user_id).filter(Post::title.like("Rust%"));
    let rows = session
        .query_values(User::name)
        .filter(User::id.in_(orm_authors))
        .order_by(User::id)
        .all()
        .unwrap();
    put(
        "orm:in_subquery",
        json!(rows.into_iter().map(|n| json!([n])).collect::<Vec<_>>()),
    );

    let no_posts = !exists(
        select([p("id")])
            .from(&posts)
            .filter(p("user_id").eq(u("id"))),
    );
    put(
        "not_exists",
        run(select([u("name")])
            .from(&users)
            .filter(no_posts)
            .order_by(u("id"))
            .into()),
    );
    let orm_no_posts = !exists(select_values(Post::id).filter(Post::user_id.eq(User::id)));
    let rows = session
        .query_values(User::name)
        .filter(orm_no_posts)
        .order_by(User::id)
        .all()
        .unwrap();
    put(
        "orm:not_exists",
        json!(rows.into_iter().map(|n| json!([n])).collect::<Vec<_>>()),
    );

    let older = users.alias("older");
    put(
        "self_join",
        run(select([u("name")])
            .column(func::count(older.c("id")))
            .from(&users)
            .outer_join(&older, older.c("age").gt(u("age")))
            .group_by(u("name"))
            .order_by(u("name"))
            .into()),
    );
    let orm_older = aliased::<User>("older");
    let rows = session
        .query_values((User::name, func::count(orm_older.col(User::id))))
        .outer_join_alias(&orm_older, orm_older.col(User::age).gt(User::age))
        .group_by(User::name)
        .order_by(User::name)
        .all()
        .unwrap();
    put(
        "orm:self_join",
        json!(rows
            .into_iter()
            .map(|(n, c)| json!([n, c]))
            .collect::<Vec<_>>()),
    );

    let adults = select([u("name"), u("age")])
        .from(&users)
        .filter(u("age").ge(18))
        .cte("adults");
    put(
        "cte",
        run(select([adults.c("name")])
            .from(&adults)
            .order_by(adults.c("name"))
            .into()),
    );
    let tree = select([c("id"), c("name")])
        .column(literal(0i64).label("depth"))
        .from(&cats)
        .filter(c("id").eq(1))
        .cte("tree")
        .recursive();
    let tree = tree.clone().union_all(
        select([c("id"), c("name")])
            .column(tree.c("depth").add(1))
            .from(&cats)
            .join(&tree, c("parent_id").eq(tree.c("id"))),
    );
    put(
        "recursive_cte",
        run(select([tree.c("name"), tree.c("depth")])
            .from(&tree)
            .order_by(tree.c("depth"))
            .order_by(tree.c("name"))
            .into()),
    );

    put(
        "window",
        run(select([p("title")])
            .column(func::row_number().over(window().order_by(p("id"))))
            .column(
                func::rank().over(
                    window()
                        .partition_by(p("user_id"))
                        .order_by(p("title").desc()),
                ),
            )
            .column(func::sum(p("id")).over(window().partition_by(p("user_id"))))
            .from(&posts)
            .order_by(p("id"))
            .into()),
    );
    put(
        "window_avg",
        run(select([func::avg(p("user_id")).over(window())])
            .from(&posts)
            .limit(1)
            .into()),
    );
    let rows = session
        .query_values((
            Post::title,
            func::row_number().over(window().partition_by(Post::user_id).order_by(Post::id)),
        ))
        .order_by(Post::id)
        .all()
        .unwrap();
    assert_eq!(
        rows,
        [
            (Some("Rust".into()), 1),
            (Some("SQL".into()), 2),
            (Some("Rust again".into()), 1)
        ],
        "{}",
        engine.dialect()
    );

    put(
        "case_cast_coalesce",
        run(select([u("name")])
            .column(case([(u("age").lt(18), "minor"), (u("age").ge(18), "adult")]).else_("unknown"))
            .column(cast::<Option<f64>>(u("age")))
            .column(func::coalesce(u("age"), 0))
            .column(func::upper(func::lower(u("name"))))
            .column(func::length(u("name")))
            .from(&users)
            .order_by(u("id"))
            .into()),
    );
    let rows = session
        .query_values((
            User::name,
            case([(User::age.lt(18), "minor")]).else_("adult"),
            func::coalesce(User::age, 0),
        ))
        .order_by(User::id)
        .all()
        .unwrap();
    put(
        "orm:case_coalesce",
        json!(rows
            .into_iter()
            .map(|(n, g, a)| json!([n, g, a]))
            .collect::<Vec<_>>()),
    );
    put(
        "count_distinct",
        run(select([func::count_distinct(func::length(u("name")))])
            .column(func::count(func::length(u("name"))))
            .from(&users)
            .into()),
    );

    let young = || select([u("name")]).from(&users).filter(u("age").lt(31));
    put(
        "union_all",
        run(union_all([young(), young()])
            .order_by(literal_column("name"))
            .limit(3)
            .into()),
    );
    put(
        "union",
        run(union([young(), young()]).order_by(u("name")).into()),
    );

    let upsert = |id: i64, name: &str, age: i64| {
        insert(&users)
            .value("id", id)
            .value("name", name)
            .value("age", age)
            .on_conflict(["id"])
    };
    for stmt in [
        upsert(1, "Alicia", 31).do_update([("name", excluded("name")), ("age", excluded("age"))]),
        upsert(2, "Robert", 99).do_nothing(),
        upsert(5, "Eve", 22).do_update([("name", excluded("name"))]),
        upsert(3, "Caroline", 40)
            .do_update([("name", excluded("name"))])
            .where_(u("age").lt(excluded("age"))),
    ] {
        engine.execute(stmt).unwrap();
    }
    put(
        "upsert",
        run(select([u("id"), u("name"), u("age")])
            .from(&users)
            .order_by(u("id"))
            .into()),
    );
    out
}

#[test]
fn core_constructs_match_sqlalchemy_on_every_engine() {
    let Some(expected) = reference() else { return };
    let expected = expected.as_object().unwrap().clone();
    each_engine(|engine| {
        let dialect = engine.dialect();
        let actual = ours(&engine);
        for (name, want) in &expected {
            assert_eq!(
                actual.get(name),
                Some(want),
                "{dialect}: {name:?} differs from SQLAlchemy"
            );
        }
        let mut orm_keys = 0;
        for (name, got) in &actual {
            if let Some(core_name) = name.strip_prefix("orm:") {
                orm_keys += 1;
                let want = match core_name {
                    "case_coalesce" => json!(expected["case_cast_coalesce"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| json!([
                            r[0],
                            if r[1] == "minor" { "minor" } else { "adult" },
                            r[3]
                        ]))
                        .collect::<Vec<_>>()),
                    other => expected[other].clone(),
                };
                assert_eq!(
                    got, &want,
                    "{dialect}: the ORM spelling {name:?} differs from SQLAlchemy"
                );
            }
        }
        assert_eq!(orm_keys, 6, "{dialect}");
        assert_eq!(
            expected.len(),
            actual.len() - orm_keys,
            "{dialect}: keys differ"
        );
    });
}
