//! Parity with SQLAlchemy for the session scenarios of issue 17: the same steps through
//! `tests/parity/session_scenarios.py` (SQLAlchemy 2.x) and through `orm`, each on a SQLite file
//! of its own, compared value by value.

mod support;

use orm::prelude::*;
use orm::{ObjectState, Value};
use serde_json::{json, Value as Json};
use support::models::authors::{Article, Author};
use support::models::people::User;
use support::models::school::{enrol, Course, Student};

struct Scenarios {
    folder: tempfile::TempDir,
}

impl Scenarios {
    fn fresh(&self, name: &str, ages: &[i64]) -> Engine {
        let path = self.folder.path().join(format!("{name}.db"));
        let engine = create_engine(&format!("sqlite:///{}", path.display())).unwrap();
        MetaData::new()
            .add::<User>()
            .add::<Student>()
            .add::<Course>()
            .add_table(Student::courses.secondary_table())
            .add::<Author>()
            .add::<Article>()
            .create_all(&engine)
            .unwrap();
        Session::scoped(&engine, |s| {
            for (i, age) in ages.iter().enumerate() {
                s.add(User {
                    name: format!("user{}", i + 1),
                    age: Some(*age),
                    ..Default::default()
                });
            }
            Ok(())
        })
        .unwrap();
        engine
    }
}

fn count(engine: &Engine, table: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    match &engine.execute(orm::core::text(sql)).unwrap().rows[0][0] {
        Value::Integer(n) => *n,
        other => panic!("a count, not {other:?}"),
    }
}

fn age(user: &Obj<User>) -> Option<i64> {
    user.borrow().age
}

fn stale_after_commit(s: &Scenarios) -> orm::Result<Json> {
    let engine = s.fresh("stale", &[30]);
    let a = Session::new(&engine);
    let alice = a.get::<User>(1)?.unwrap();
    a.commit()?;
    let b = Session::new(&engine);
    b.get::<User>(1)?.unwrap().borrow_mut().age = Some(31);
    b.commit()?;
    let got = age(&a.get::<User>(1)?.unwrap());
    b.get::<User>(1)?.unwrap().borrow_mut().age = Some(32);
    b.commit()?;
    a.commit()?;
    let queried = age(&a.query::<User>().filter(User::id.eq(1)).one()?);
    Ok(json!([got, queried, age(&alice)]))
}

fn no_expire_on_commit(s: &Scenarios) -> orm::Result<Json> {
    let engine = s.fresh("noexpire", &[30]);
    let a = Session::new(&engine).expire_on_commit(false);
    let alice = a.get::<User>(1)?.unwrap();
    a.commit()?;
    let b = Session::new(&engine);
    b.get::<User>(1)?.unwrap().borrow_mut().age = Some(31);
    b.commit()?;
    let kept = age(&a.get::<User>(1)?.unwrap());
    a.refresh(&alice)?;
    Ok(json!([kept, age(&alice)]))
}

fn rollback_after_autoflush(s: &Scenarios) -> orm::Result<Json> {
    let engine = s.fresh("rollback", &[30, 40]);
    let session = Session::new(&engine);
    let alice = session.get::<User>(1)?.unwrap();
    let bob = session.get::<User>(2)?.unwrap();
    alice.borrow_mut().age = Some(31);
    let flushed = session.query::<User>().filter(User::age.eq(31)).count()?;
    session.delete(&bob)?;
    session.flush()?;
    let carol = session.add(User {
        name: "carol".into(),
        age: Some(20),
        ..Default::default()
    });
    session.flush()?;
    let dave = session.add(User {
        name: "dave".into(),
        ..Default::default()
    });
    session.rollback()?;
    Ok(json!({
        "flushed": flushed,
        "alice_age": age(&alice),
        "bob_persistent": bob.state() == ObjectState::Persistent,
        "carol_transient": carol.state() == ObjectState::Transient,
        "dave_transient": dave.state() == ObjectState::Transient,
        "count": session.query::<User>().count()?,
    }))
}

fn offset_without_limit(s: &Scenarios) -> orm::Result<Json> {
    let engine = s.fresh("offset", &[1, 2, 3, 4, 5]);
    let session = Session::new(&engine);
    let users = session.query::<User>().order_by(User::id).offset(2).all()?;
    Ok(json!(users
        .iter()
        .map(|u| u.borrow().name.clone())
        .collect::<Vec<_>>()))
}

fn stale_update(s: &Scenarios) -> orm::Result<Json> {
    let engine = s.fresh("staleupdate", &[30]);
    let a = Session::new(&engine).expire_on_commit(false);
    let alice = a.get::<User>(1)?.unwrap();
    a.commit()?;
    let b = Session::new(&engine);
    let gone = b.get::<User>(1)?.unwrap();
    b.delete(&gone)?;
    b.commit()?;
    alice.borrow_mut().age = Some(31);
    Ok(match a.commit() {
        Ok(()) => json!("no error"),
        Err(e @ Error::StaleData { .. }) => json!(["StaleDataError", e.to_string()]),
        Err(other) => json!(["another error", other.to_string()]),
    })
}

fn enrolled(
    s: &Scenarios,
    name: &str,
) -> orm::Result<(Engine, Session, Obj<Student>, Obj<Course>)> {
    let engine = s.fresh(name, &[]);
    let session = Session::new(&engine);
    let (ann, courses) = enrol(&session, "Ann", &["Math", "Art"])?;
    let math = courses[0].clone();
    session.commit()?;
    Ok((engine, session, ann, math))
}

fn remove_then_append(s: &Scenarios) -> orm::Result<Json> {
    let (engine, session, ann, math) = enrolled(s, "relink")?;
    ann.remove(Student::courses, &math)?;
    ann.append(Student::courses, &math)?;
    session.commit()?;
    Ok(json!(count(&engine, "student_courses")))
}

fn delete_student_with_courses(s: &Scenarios) -> orm::Result<Json> {
    let (engine, session, ann, _) = enrolled(s, "deletestudent")?;
    session.delete(&ann)?;
    session.commit()?;
    Ok(json!([
        count(&engine, "student_courses"),
        count(&engine, "courses"),
        count(&engine, "students")
    ]))
}

fn pending_orphan(s: &Scenarios) -> orm::Result<Json> {
    let engine = s.fresh("orphan", &[]);
    let session = Session::new(&engine);
    let author = session.add(Author {
        name: "Ann".into(),
        ..Default::default()
    });
    session.commit()?;
    author.append(
        Author::articles,
        Article {
            title: "kept".into(),
            ..Default::default()
        },
    )?;
    let draft = author.append(
        Author::articles,
        Article {
            title: "draft".into(),
            ..Default::default()
        },
    )?;
    author.remove(Author::articles, &draft)?;
    session.commit()?;
    Ok(json!([
        count(&engine, "articles"),
        draft.state() == ObjectState::Transient
    ]))
}

fn ours() -> orm::Result<Json> {
    let s = Scenarios {
        folder: tempfile::tempdir().unwrap(),
    };
    Ok(json!({
        "stale_after_commit": stale_after_commit(&s)?,
        "no_expire_on_commit": no_expire_on_commit(&s)?,
        "rollback_after_autoflush": rollback_after_autoflush(&s)?,
        "offset_without_limit": offset_without_limit(&s)?,
        "stale_update": stale_update(&s)?,
        "remove_then_append": remove_then_append(&s)?,
        "delete_student_with_courses": delete_student_with_courses(&s)?,
        "pending_orphan": pending_orphan(&s)?,
    }))
}

#[test]
fn session_scenarios_match_sqlalchemy() {
    let Some(expected) = support::sqlalchemy_reference("session_scenarios.py") else {
        return;
    };
    let actual = ours().unwrap();
    let (expected, actual) = (expected.as_object().unwrap(), actual.as_object().unwrap());
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>()
    );
    for (name, want) in expected {
        assert_eq!(
            &actual[name], want,
            "scenario {name:?} differs from SQLAlchemy"
        );
    }
}
