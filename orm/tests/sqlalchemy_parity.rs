//! Parity with SQLAlchemy: the lesson's queries on the same data give the same rows in the same
//! order. The reference comes from `tests/parity/lesson_queries.py`, run by SQLAlchemy 2.x from
//! the project's virtual environment (`tests/setup.sh` installs it).

mod support;

use orm::prelude::*;
use serde_json::{json, Value as Json};
use support::models::contacts::User;

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "posts")]
pub struct Post {
    #[orm(primary_key)]
    pub id: i64,
    pub title: Option<String>,
    #[orm(foreign_key = "users.id")]
    pub user_id: Option<i64>,
}

fn reference() -> Option<Json> {
    support::sqlalchemy_reference("lesson_queries.py")
}

fn row(u: &Obj<User>) -> Json {
    let u = u.borrow();
    json!([u.id, u.name, u.email, u.age])
}

fn names(users: Vec<Obj<User>>) -> Json {
    json!(users
        .iter()
        .map(|u| u.borrow().name.clone())
        .collect::<Vec<_>>())
}

fn ours() -> orm::Result<Json> {
    let engine = create_engine("sqlite:///:memory:")?;
    MetaData::new()
        .add::<User>()
        .add::<Post>()
        .create_all(&engine)?;
    let session = Session::new(&engine);
    let users = [
        ("Alice", Some("alice@example.com"), Some(30)),
        ("Bob", Some("bob@example.com"), Some(17)),
        ("Carol", Some("carol@example.com"), Some(42)),
        ("Dave", None, Some(25)),
        ("Eve", Some("eve@example.com"), None),
    ];
    for (name, email, age) in users {
        session.add(User {
            name: name.into(),
            email: email.map(Into::into),
            age,
            ..Default::default()
        });
    }
    session.commit()?;
    for (title, user) in [
        ("Learning Python", 1),
        ("Python tips", 1),
        ("Rust ownership", 3),
        ("SQL basics", 2),
    ] {
        session.add(Post {
            title: Some(title.into()),
            user_id: Some(user),
            ..Default::default()
        });
    }
    session.commit()?;

    let q = || session.query::<User>();
    Ok(json!({
        "all": q().order_by(User::id).all()?.iter().map(row).collect::<Vec<_>>(),
        "first_alice": row(&q().filter(User::name.eq("Alice")).first()?.unwrap()),
        "adults": q().filter(User::age.ge(18)).order_by(User::id).all()?.iter().map(row).collect::<Vec<_>>(),
        "by_name": names(q().order_by(User::name).all()?),
        "by_age_desc": names(q().filter(User::age.is_not_null()).order_by(User::age.desc()).all()?),
        "limit_2": names(q().order_by(User::id).limit(2).all()?),
        "count": q().count()?,
        "avg_age": session.query_values(func::avg(User::age)).scalar()?,
        "max_age": session.query_values(func::max(User::age)).scalar()?,
        "join": session.query::<(User, Post)>().join::<Post>().order_by(Post::id).all()?
            .iter().map(|(u, p)| json!([u.borrow().name, p.borrow().title])).collect::<Vec<_>>(),
        "python_authors": names(q().join::<Post>().filter(Post::title.contains("Python")).all()?),
        "and": names(q().filter(and_([User::name.eq("Alice"), User::age.ge(18)])).all()?),
        "or": names(q().filter(or_([User::name.eq("Alice"), User::name.eq("Bob")])).order_by(User::id).all()?),
        "posts_per_user": session.query_values((User::name, func::count(Post::id))).outer_join::<Post>()
            .group_by(User::name).order_by(User::name).all()?
            .into_iter().map(|(n, c)| json!([n, c])).collect::<Vec<_>>(),
        "null_email": names(q().filter(User::email.eq(None::<String>)).all()?),
        "in": names(q().filter(User::name.in_(["Bob", "Eve"])).order_by(User::id).all()?),
        "like": names(q().filter(User::email.like("%@example.com")).order_by(User::id).all()?),
    }))
}

#[test]
fn lesson_queries_match_sqlalchemy() {
    let Some(expected) = reference() else { return };
    let actual = ours().unwrap();
    let (expected, actual) = (expected.as_object().unwrap(), actual.as_object().unwrap());
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>()
    );
    for (name, want) in expected {
        assert_eq!(
            &actual[name], want,
            "query {name:?} differs from SQLAlchemy"
        );
    }
}
