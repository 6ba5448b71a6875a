//! Parity with SQLAlchemy for the model features of issue 19: the same steps through
//! `tests/parity/model_features.py` (SQLAlchemy 2.x) and through `orm` on SQLite and on
//! PostgreSQL, compared value by value: an enum's CHECK, `get` with a composite key,
//! `version_id_col`, server defaults read back after a flush, a self-referential tree,
//! `session.merge` as an upsert, and relationships to a parent with a composite key.

mod support;

use orm::prelude::*;
use orm::Value;
use serde_json::{json, Value as Json};
use support::each_engine;
use support::models::keys::Enrollment;
use support::models::offerings::{Offering, Registration};
use support::models::tree::Category;
use support::models::versions::Account;

#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Default)]
pub enum Status {
    #[default]
    Open,
    Closed,
}

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "tickets")]
pub struct Ticket {
    #[orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub status: Status,
}

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "drafts")]
pub struct Draft {
    #[orm(primary_key)]
    pub id: i64,
    pub title: String,
    #[orm(length = 20, server_default = "'draft'")]
    pub status: Option<String>,
    #[orm(server_default = "0")]
    pub words: Option<i64>,
}

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "people")]
pub struct Person {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub age: Option<i64>,
}

fn cell(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Integer(i) => json!(i),
        Value::Text(t) => json!(t),
        other => json!(other.to_string()),
    }
}

fn rows(engine: &Engine, sql: &str) -> Json {
    let result = engine
        .execute(orm::core::text(sql))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    Json::Array(
        result
            .rows
            .iter()
            .map(|r| Json::Array(r.iter().map(cell).collect()))
            .collect(),
    )
}

fn enum_refused(engine: &Engine) -> orm::Result<Json> {
    let session = Session::new(engine);
    session.add(Ticket {
        title: "a".into(),
        status: Status::Closed,
        ..Default::default()
    });
    session.commit()?;
    let refused = match engine.execute(orm::core::text(
        "INSERT INTO tickets (title, status) VALUES ('b', 'lost')",
    )) {
        Ok(_) => json!("no error"),
        // SQLAlchemy's IntegrityError, for a CHECK the row breaks.
        Err(Error::ConstraintViolation { .. }) => json!("IntegrityError"),
        Err(other) => json!(["another error", other.to_string()]),
    };
    let stored = rows(engine, "SELECT title, status FROM tickets ORDER BY id");
    let read = Session::new(engine)
        .query::<Ticket>()
        .one()?
        .borrow()
        .status;
    let read = match read {
        Status::Open => "open",
        Status::Closed => "closed",
    };
    Ok(json!([refused, stored, read]))
}

fn composite_get(engine: &Engine) -> orm::Result<Json> {
    let session = Session::new(engine);
    for (student_id, course_code, grade) in [(1, "math", "A"), (1, "art", "B"), (2, "math", "C")] {
        session.add(Enrollment {
            student_id,
            course_code: course_code.into(),
            grade: Some(grade.into()),
        });
    }
    session.commit()?;
    let session = Session::new(engine);
    let math = session.get::<Enrollment>((1, "math"))?.unwrap();
    let same = session
        .get::<Enrollment>((1, "math"))?
        .unwrap()
        .ptr_eq(&math);
    let missing = session
        .get::<Enrollment>((2, "art"))?
        .map(|e| e.get().grade);
    session.delete(&session.get::<Enrollment>((1, "art"))?.unwrap())?;
    session.commit()?;
    let grade = math.borrow().grade.clone();
    Ok(json!([
        grade,
        same,
        missing,
        rows(
            engine,
            "SELECT student_id, course_code FROM enrollments ORDER BY student_id, course_code"
        )
    ]))
}

fn version_conflict(engine: &Engine) -> orm::Result<Json> {
    let session = Session::new(engine).expire_on_commit(false);
    let account = session.add(Account {
        owner: "Ann".into(),
        balance: 100,
        ..Default::default()
    });
    session.commit()?;
    let first = account.borrow().version;
    account.borrow_mut().balance = 110;
    session.commit()?;
    let second = account.borrow().version;
    engine.execute(orm::core::text(
        "UPDATE accounts SET balance = 0, version = version + 1 WHERE id = 1",
    ))?;
    account.borrow_mut().balance = 130;
    let outcome = match session.commit() {
        Ok(()) => json!("no error"),
        Err(e @ Error::StaleData { .. }) => {
            session.rollback()?;
            json!(["StaleDataError", e.to_string()])
        }
        Err(other) => json!(["another error", other.to_string()]),
    };
    Ok(json!([
        first,
        second,
        outcome,
        rows(engine, "SELECT balance, version FROM accounts")[0]
    ]))
}

fn server_defaults(engine: &Engine) -> orm::Result<Json> {
    let session = Session::new(engine);
    let d = session.add(Draft {
        title: "x".into(),
        ..Default::default()
    });
    let given = session.add(Draft {
        title: "y".into(),
        status: Some("final".into()),
        words: Some(12),
        ..Default::default()
    });
    session.flush()?;
    let out = json!([
        [d.borrow().status, d.borrow().words],
        [given.borrow().status, given.borrow().words]
    ]);
    session.commit()?;
    Ok(out)
}

fn sorted_names(objects: &[Obj<Category>]) -> Vec<String> {
    let mut names: Vec<String> = objects.iter().map(|c| c.borrow().name.clone()).collect();
    names.sort();
    names
}

fn tree(engine: &Engine) -> orm::Result<Json> {
    let category = |name: &str| Category {
        name: name.into(),
        ..Default::default()
    };
    let session = Session::new(engine);
    let food = session.add(category("food"));
    let fruit = food.append(Category::children, category("fruit"))?;
    fruit.append(Category::children, category("apple"))?;
    fruit.append(Category::children, category("pear"))?;
    food.append(Category::children, category("bread"))?;
    session.add(category("tools"));
    session.commit()?;

    let session = Session::new(engine);
    let food = session
        .query::<Category>()
        .filter(Category::name.eq("food"))
        .one()?;
    let children = food.related(Category::children)?;
    let fruit = children
        .iter()
        .find(|c| c.borrow().name == "fruit")
        .unwrap()
        .clone();
    let grandchildren = fruit.related(Category::children)?;
    let apple = grandchildren
        .iter()
        .find(|c| c.borrow().name == "apple")
        .unwrap();
    let top = apple
        .related(Category::parent)?
        .unwrap()
        .related(Category::parent)?
        .unwrap();
    let roots = session
        .query::<Category>()
        .filter(Category::parent_id.eq(None::<i64>))
        .order_by(Category::id)
        .all()?;
    let roots: Vec<String> = roots.iter().map(|c| c.borrow().name.clone()).collect();
    let top = top.borrow().name.clone();
    session.delete(&fruit)?;
    session.commit()?;
    // By name: the order of the keys the flush gives a tree's rows is the unit of work's own.
    let left: Vec<Json> = match rows(engine, "SELECT name FROM categories ORDER BY name") {
        Json::Array(rows) => rows.into_iter().map(|r| r[0].clone()).collect(),
        other => panic!("rows, not {other}"),
    };
    Ok(json!([
        sorted_names(&children),
        sorted_names(&grandchildren),
        top,
        roots,
        left
    ]))
}

fn merge_upsert(engine: &Engine) -> orm::Result<Json> {
    let person = |id: i64, name: &str, age: i64| Person {
        id,
        name: name.into(),
        age: Some(age),
    };
    let session = Session::new(engine);
    session.add(person(1, "Alice", 30));
    session.add(person(2, "Bob", 40));
    session.commit()?;
    let session = Session::new(engine);
    let alicia = session.merge(person(1, "Alicia", 31))?;
    let eve = session.merge(person(5, "Eve", 22))?;
    session.commit()?;
    let (name, id) = (alicia.borrow().name.clone(), eve.borrow().id);
    Ok(json!([
        name,
        id,
        rows(engine, "SELECT id, name, age FROM people ORDER BY id")
    ]))
}

/// Offerings keyed by (term, code) and their registrations: a lazy many-to-one, a belongs_to
/// assignment (both foreign key columns), an append, a select-in load, and a delete cascade.
fn composite_relationships(engine: &Engine) -> orm::Result<Json> {
    let offering = |code: &str, title: &str| Offering {
        term: "2024F".into(),
        code: code.into(),
        title: title.into(),
    };
    let student = |name: &str| Registration {
        student: name.into(),
        ..Default::default()
    };
    let session = Session::new(engine);
    let course = session.add(offering("CS101", "SQL"));
    course.append(Offering::registrations, student("Ann"))?;
    course.append(Offering::registrations, student("Bob"))?;
    session.add(offering("ART1", "Drawing"));
    session.commit()?;

    let session = Session::new(engine);
    let ann = session
        .query::<Registration>()
        .filter(Registration::student.eq("Ann"))
        .one()?;
    let first = ann
        .related(Registration::offering)?
        .unwrap()
        .borrow()
        .title
        .clone();
    let art = session.get::<Offering>(("2024F", "ART1"))?.unwrap();
    ann.set_related(Registration::offering, Some(&art))?;
    art.append(Offering::registrations, student("Cara"))?;
    session.commit()?;
    let loaded = session
        .query::<Offering>()
        .options(selectinload(Offering::registrations))
        .order_by(Offering::code)
        .all()?;
    let mut by_offering = Vec::new();
    for o in &loaded {
        let mut students: Vec<String> = o
            .related(Offering::registrations)?
            .iter()
            .map(|r| r.borrow().student.clone())
            .collect();
        students.sort();
        by_offering.push(json!([o.borrow().code, students]));
    }
    session.delete(&session.get::<Offering>(("2024F", "CS101"))?.unwrap())?;
    session.commit()?;
    Ok(json!([
        first,
        by_offering,
        rows(
            engine,
            "SELECT student, term, code FROM registrations ORDER BY student"
        )
    ]))
}

fn ours(engine: &Engine) -> orm::Result<Json> {
    MetaData::new()
        .add::<Ticket>()
        .add::<Enrollment>()
        .add::<Account>()
        .add::<Draft>()
        .add::<Category>()
        .add::<Person>()
        .add::<Offering>()
        .add::<Registration>()
        .create_all(engine)?;
    Ok(json!({
        "enum_refused": enum_refused(engine)?,
        "composite_get": composite_get(engine)?,
        "version_conflict": version_conflict(engine)?,
        "server_defaults": server_defaults(engine)?,
        "tree": tree(engine)?,
        "merge_upsert": merge_upsert(engine)?,
        "composite_relationships": composite_relationships(engine)?,
    }))
}

#[test]
fn model_features_match_sqlalchemy_on_every_engine() {
    let Some(expected) = support::sqlalchemy_reference("model_features.py") else {
        return;
    };
    let expected = expected.as_object().unwrap().clone();
    each_engine(|engine| {
        let dialect = engine.dialect();
        let actual = ours(&engine).unwrap_or_else(|e| panic!("{dialect}: {e}"));
        let actual = actual.as_object().unwrap();
        assert_eq!(
            expected.keys().collect::<Vec<_>>(),
            actual.keys().collect::<Vec<_>>()
        );
        for (name, want) in &expected {
            assert_eq!(
                &actual[name], want,
                "{dialect}: scenario {name:?} differs from SQLAlchemy"
            );
        }
    });
}
