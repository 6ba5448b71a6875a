//! The model features of issue 19, each run on SQLite and PostgreSQL from one body: composite
//! primary keys (DDL, identity map, `session.get` with a tuple, UPDATE and DELETE by the full
//! key) and the association table keyed by its pair.

mod support;

use orm::prelude::*;
use orm::Value;
use support::models::keys::Enrollment;
use support::models::school::{enrol, Course, Student};
use support::models::tree::Category;
use support::models::versions::Account;
use support::{each_engine, parent_names, rows};

fn enrollment(student_id: i64, course_code: &str, grade: &str) -> Enrollment {
    Enrollment {
        student_id,
        course_code: course_code.into(),
        grade: Some(grade.into()),
    }
}

/// `(student_id, course_code, grade)` of every enrollment, in key order.
fn enrollments(engine: &Engine) -> Vec<(i64, String, String)> {
    rows(
        engine,
        "SELECT student_id, course_code, grade FROM enrollments ORDER BY student_id, course_code",
    )
    .into_iter()
    .map(|r| match &r[..] {
        [Value::Integer(s), Value::Text(c), Value::Text(g)] => (*s, c.clone(), g.clone()),
        other => panic!("unexpected row {other:?}"),
    })
    .collect()
}

fn seeded(engine: &Engine) {
    MetaData::new()
        .add::<Enrollment>()
        .create_all(engine)
        .unwrap();
    let session = Session::new(engine);
    session.add_all([
        enrollment(1, "math", "B"),
        enrollment(1, "art", "A"),
        enrollment(2, "math", "C"),
    ]);
    session.commit().unwrap();
}

#[test]
fn composite_key_is_one_table_constraint_and_rows_keep_their_given_keys() {
    each_engine(|engine| {
        seeded(&engine);
        assert_eq!(
            enrollments(&engine),
            [
                (1, "art".into(), "A".into()),
                (1, "math".into(), "B".into()),
                (2, "math".into(), "C".into()),
            ]
        );
        // The database holds the pair as its primary key: a second row for (1, art) is refused.
        let session = Session::new(&engine);
        session.add(enrollment(1, "art", "F"));
        match session.commit() {
            Err(Error::UniqueViolation { table, .. }) => assert_eq!(table, "enrollments"),
            other => panic!("expected a unique violation on enrollments, got {other:?}"),
        }
        session.rollback().unwrap();
        assert_eq!(enrollments(&engine).len(), 3);
    });
}

#[test]
fn get_with_a_tuple_key_uses_the_identity_map() {
    each_engine(|engine| {
        seeded(&engine);
        let session = Session::new(&engine);
        let math = session.get::<Enrollment>((1, "math")).unwrap().unwrap();
        assert_eq!(math.get(), enrollment(1, "math", "B"));
        let again = session.get::<Enrollment>((1, "math")).unwrap().unwrap();
        assert!(again.ptr_eq(&math), "one object per key in a session");
        let from_query = session
            .query::<Enrollment>()
            .filter(Enrollment::course_code.eq("math"))
            .order_by(Enrollment::student_id)
            .all()
            .unwrap();
        assert!(from_query[0].ptr_eq(&math));
        assert_eq!(from_query[1].get(), enrollment(2, "math", "C"));
        assert!(session.get::<Enrollment>((2, "art")).unwrap().is_none());
        // A key with the wrong number of values names the key columns.
        match session.get::<Enrollment>(1) {
            Err(Error::InvalidRequest(message)) => assert_eq!(
                message,
                "the primary key of enrollments has 2 columns (student_id, course_code), but the \
                 key given has 1 value: 1"
            ),
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    });
}

#[test]
fn update_and_delete_match_the_full_composite_key() {
    each_engine(|engine| {
        seeded(&engine);
        let session = Session::new(&engine);
        let math = session.get::<Enrollment>((1, "math")).unwrap().unwrap();
        math.borrow_mut().grade = Some("A+".into());
        let other = session.get::<Enrollment>((2, "math")).unwrap().unwrap();
        session.delete(&other).unwrap();
        session.commit().unwrap();
        // Only (1, math) changed and only (2, math) went: not every row of student 1 or of math.
        assert_eq!(
            enrollments(&engine),
            [
                (1, "art".into(), "A".into()),
                (1, "math".into(), "A+".into())
            ]
        );
        // A row deleted by another session: the UPDATE by the full key matches nothing.
        let art = session.get::<Enrollment>((1, "art")).unwrap().unwrap();
        engine
            .execute(orm::core::text(
                "DELETE FROM enrollments WHERE student_id = 1 AND course_code = 'art'",
            ))
            .unwrap();
        art.borrow_mut().grade = Some("B".into());
        match session.commit() {
            Err(Error::StaleData {
                statement,
                table,
                expected,
                matched,
            }) => assert_eq!(
                (statement, table.as_str(), expected, matched),
                ("UPDATE", "enrollments", 1, 0)
            ),
            other => panic!("expected StaleData, got {other:?}"),
        }
    });
}

fn with_students(engine: &Engine) {
    MetaData::new()
        .add::<Student>()
        .add::<Course>()
        .add_table(Student::courses.secondary_table())
        .create_all(engine)
        .unwrap();
}

#[test]
fn the_database_refuses_a_duplicate_pair_in_the_association_table() {
    each_engine(|engine| {
        with_students(&engine);
        rows(&engine, "INSERT INTO students (id, name) VALUES (1, 'Ann')");
        rows(&engine, "INSERT INTO courses (id, name) VALUES (1, 'Math')");
        let link = orm::core::insert(&Student::courses.secondary_table())
            .value("student_id", 1)
            .value("course_id", 1);
        engine.execute(link.clone()).unwrap();
        match engine.execute(link) {
            Err(Error::UniqueViolation { table, .. }) => assert_eq!(table, "student_courses"),
            other => panic!("expected a unique violation on student_courses, got {other:?}"),
        }
        assert_eq!(
            rows(&engine, "SELECT count(*) FROM student_courses"),
            [[Value::Integer(1)]]
        );
    });
}

#[test]
fn linking_a_pair_twice_from_both_sides_writes_one_row() {
    each_engine(|engine| {
        with_students(&engine);
        let session = Session::new(&engine);
        let ann = session.add(Student {
            name: "Ann".into(),
            ..Default::default()
        });
        let math = session.add(Course {
            name: "Math".into(),
            ..Default::default()
        });
        session.commit().unwrap();
        ann.append(Student::courses, &math).unwrap();
        ann.append(Student::courses, &math).unwrap();
        math.append(Course::students, &ann).unwrap();
        // Remove and link again: still the one pair, net.
        ann.remove(Student::courses, &math).unwrap();
        ann.append(Student::courses, &math).unwrap();
        session.commit().unwrap();
        assert_eq!(
            rows(&engine, "SELECT student_id, course_id FROM student_courses"),
            [[Value::Integer(1), Value::Integer(1)]]
        );
    });
}

#[test]
fn appending_a_course_already_in_a_loaded_collection_writes_nothing() {
    each_engine(|engine| {
        with_students(&engine);
        let session = Session::new(&engine);
        let (ann, courses) = enrol(&session, "Ann", &["Math"]).unwrap();
        let math = &courses[0];
        session.commit().unwrap();
        // Loaded from the database: the pair is there, so appending it again changes nothing.
        assert_eq!(ann.related(Student::courses).unwrap().len(), 1);
        ann.append(Student::courses, math).unwrap();
        assert_eq!(ann.related(Student::courses).unwrap().len(), 1);
        session.commit().unwrap();
        assert_eq!(
            rows(&engine, "SELECT student_id, course_id FROM student_courses"),
            [[Value::Integer(1), Value::Integer(1)]]
        );
    });
}

/// Table-level constraints and an index (SQLAlchemy's `__table_args__`), and columns the
/// database computes.
#[derive(Model, Debug, Clone, Default)]
#[orm(
    table = "members",
    unique_constraint("team", "name"),
    index("team", "age"),
    index("name", "age", name = "ix_members_by_name", unique = true),
    check_constraint(name = "age_positive", sql = "age >= 0")
)]
pub struct Member {
    #[orm(primary_key)]
    pub id: i64,
    pub team: String,
    pub name: String,
    pub age: i64,
    #[orm(server_default = "CURRENT_TIMESTAMP")]
    pub created_at: Option<NaiveDateTime>,
    #[orm(onupdate = "CURRENT_TIMESTAMP")]
    pub updated_at: Option<NaiveDateTime>,
}

fn member(team: &str, name: &str, age: i64) -> Member {
    Member {
        team: team.into(),
        name: name.into(),
        age,
        ..Default::default()
    }
}

fn with_members(engine: &Engine) -> Session {
    MetaData::new().add::<Member>().create_all(engine).unwrap();
    let session = Session::new(engine);
    session.add(member("red", "Ann", 30));
    session.commit().unwrap();
    session
}

#[test]
fn table_unique_constraint_and_check_constraint_are_enforced_under_their_names() {
    each_engine(|engine| {
        let session = with_members(&engine);
        // The same name in another team is fine; in the same team it is refused.
        session.add(member("blue", "Ann", 32));
        session.commit().unwrap();
        session.add(member("red", "Ann", 31));
        match session.commit() {
            Err(Error::UniqueViolation { table, columns, .. }) => {
                assert_eq!(table, "members");
                // SQLite names the columns; PostgreSQL names the constraint.
                assert!(
                    columns == ["team", "name"] || columns == ["uq_members_team_name"],
                    "{columns:?}"
                );
            }
            other => panic!("expected a unique violation, got {other:?}"),
        }
        session.rollback().unwrap();
        session.add(member("green", "Bob", -1));
        match session.commit() {
            Err(Error::ConstraintViolation { table, message, .. }) => {
                assert_eq!(table, "members");
                assert!(message.contains("ck_members_age_positive"), "{message}");
            }
            other => panic!("expected the check constraint to refuse age -1, got {other:?}"),
        }
        session.rollback().unwrap();
        assert_eq!(
            rows(&engine, "SELECT count(*) FROM members"),
            [[Value::Integer(2)]]
        );
        // The indexes exist under the convention's name and the given one.
        let names: Vec<Value> = if engine.dialect() == "postgresql" {
            rows(
                &engine,
                "SELECT indexname::text FROM pg_indexes WHERE tablename = 'members' \
                 AND indexname LIKE 'ix%' ORDER BY indexname",
            )
        } else {
            rows(
                &engine,
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'members' \
                 AND name LIKE 'ix%' ORDER BY name",
            )
        }
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
        assert_eq!(
            names,
            [
                Value::Text("ix_members_by_name".into()),
                Value::Text("ix_members_team_age".into())
            ]
        );
    });
}

#[test]
fn server_default_is_read_back_after_insert_and_onupdate_after_update() {
    each_engine(|engine| {
        let session = with_members(&engine);
        let ann = session
            .query::<Member>()
            .filter(Member::name.eq("Ann"))
            .one()
            .unwrap();
        let stored = |column: &str| {
            rows(
                &engine,
                &format!("SELECT {column} FROM members WHERE name = 'Ann'"),
            )[0][0]
                .clone()
        };
        let created = ann.borrow().created_at;
        let Some(created) = created else {
            panic!("created_at was not read back after the INSERT")
        };
        // The database's value, not one the program made up.
        assert_eq!(
            Value::Text(created.format("%Y-%m-%d %H:%M:%S").to_string()),
            match stored("created_at") {
                Value::DateTime(d) => Value::Text(d.format("%Y-%m-%d %H:%M:%S").to_string()),
                other => other,
            }
        );
        assert_eq!(ann.borrow().updated_at, None, "no UPDATE yet");
        assert_eq!(stored("updated_at"), Value::Null);
        // A given value is written as given: the server default is only for an unset column.
        let fixed = NaiveDate::from_ymd_opt(2001, 2, 3)
            .unwrap()
            .and_hms_opt(4, 5, 6)
            .unwrap();
        let bob = session.add(Member {
            created_at: Some(fixed),
            ..member("red", "Bob", 40)
        });
        session.commit().unwrap();
        session.refresh(&bob).unwrap();
        assert_eq!(bob.borrow().created_at, Some(fixed));

        ann.borrow_mut().age = 31;
        session.commit().unwrap();
        let updated = ann.borrow().updated_at;
        let Some(updated) = updated else {
            panic!("updated_at was not set by the UPDATE and read back")
        };
        assert!(updated >= created, "{updated} < {created}");
        assert_ne!(stored("updated_at"), Value::Null);
    });
}

/// A ticket's state, stored as text.
#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Default)]
pub enum Status {
    #[default]
    Open,
    OnHold,
    #[orm(rename = "done")]
    Closed,
}

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "tickets")]
pub struct Ticket {
    #[orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub status: Status,
    pub previous: Option<Status>,
}

#[test]
fn enums_are_stored_as_their_strings_and_the_database_refuses_others() {
    each_engine(|engine| {
        MetaData::new().add::<Ticket>().create_all(&engine).unwrap();
        let session = Session::new(&engine);
        for (title, status, previous) in [
            ("a", Status::Open, None),
            ("b", Status::OnHold, Some(Status::Open)),
            ("c", Status::Closed, Some(Status::OnHold)),
        ] {
            session.add(Ticket {
                title: title.into(),
                status,
                previous,
                ..Default::default()
            });
        }
        session.commit().unwrap();
        assert_eq!(
            rows(
                &engine,
                "SELECT status, previous FROM tickets ORDER BY title"
            ),
            [
                [Value::Text("open".into()), Value::Null],
                [Value::Text("on_hold".into()), Value::Text("open".into())],
                [Value::Text("done".into()), Value::Text("on_hold".into())],
            ]
        );
        let held = session
            .query::<Ticket>()
            .filter(Ticket::status.eq(Status::OnHold))
            .one()
            .unwrap();
        assert_eq!(
            (held.borrow().status, held.borrow().previous),
            (Status::OnHold, Some(Status::Open))
        );
        let after_hold = session
            .query::<Ticket>()
            .filter(Ticket::previous.eq(Some(Status::OnHold)))
            .all()
            .unwrap();
        assert_eq!(after_hold.len(), 1);
        assert_eq!(after_hold[0].borrow().status, Status::Closed);
        for sql in [
            "INSERT INTO tickets (title, status) VALUES ('d', 'paused')",
            "UPDATE tickets SET previous = 'Open' WHERE title = 'a'",
        ] {
            match engine.execute(orm::core::text(sql)) {
                // Raw SQL names no table; the message names the constraint.
                Err(Error::ConstraintViolation { message, .. }) => {
                    assert!(message.contains("ck_tickets_"), "{message}");
                }
                other => panic!("{sql}: expected the enum's check to refuse it, got {other:?}"),
            }
        }
        assert_eq!(
            rows(&engine, "SELECT count(*) FROM tickets"),
            [[Value::Integer(3)]]
        );
    });
}

#[test]
fn reading_an_unknown_enum_string_names_the_column_and_the_value() {
    each_engine(|engine| {
        // A table made without the check (by hand, or by another program) holding a string
        // that is no variant.
        rows(
            &engine,
            "CREATE TABLE tickets (id INTEGER PRIMARY KEY, title VARCHAR NOT NULL, \
             status VARCHAR(7) NOT NULL, previous VARCHAR(7))",
        );
        rows(
            &engine,
            "INSERT INTO tickets (id, title, status) VALUES (1, 'a', 'paused')",
        );
        let session = Session::new(&engine);
        match session.query::<Ticket>().all() {
            Err(error @ Error::WrongType { .. }) => assert_eq!(
                error.to_string(),
                "column tickets.status holds the unknown value \"paused\", but the model expects \
                 one of the Status values 'open', 'on_hold', 'done'"
            ),
            other => panic!("expected WrongType, got {other:?}"),
        }
    });
}

/// `(owner, balance, version)` of every account, by owner.
fn accounts(engine: &Engine) -> Vec<Vec<Value>> {
    rows(
        engine,
        "SELECT owner, balance, version FROM accounts ORDER BY owner",
    )
}

fn account_row(owner: &str, balance: i64, version: i64) -> Vec<Value> {
    vec![
        Value::Text(owner.into()),
        Value::Integer(balance),
        Value::Integer(version),
    ]
}

#[test]
fn version_id_col_counts_updates_and_a_stale_version_is_stale_data() {
    each_engine(|engine| {
        MetaData::new()
            .add::<Account>()
            .create_all(&engine)
            .unwrap();
        let first = Session::new(&engine);
        let ann = first.add(Account {
            owner: "Ann".into(),
            balance: 100,
            ..Default::default()
        });
        let bob = first.add(Account {
            owner: "Bob".into(),
            balance: 50,
            ..Default::default()
        });
        first.commit().unwrap();
        assert_eq!(ann.borrow().version, 1, "a new row starts at version 1");
        assert_eq!(
            accounts(&engine),
            [account_row("Ann", 100, 1), account_row("Bob", 50, 1)]
        );
        let ann_id = ann.borrow().id;
        // Both sessions hold Ann at version 1.
        let ann = first.get::<Account>(ann_id).unwrap().unwrap();
        let second = Session::new(&engine);
        let ann_again = second.get::<Account>(ann_id).unwrap().unwrap();
        ann_again.borrow_mut().balance = 90;
        second.commit().unwrap();
        assert_eq!(ann_again.borrow().version, 2);
        // The first session's change is based on version 1: refused, and Bob's change in the
        // same flush is not written either. PostgreSQL updates both rows in one paged UPDATE
        // (one of the two matched); SQLite one a row (Ann's first, matching none).
        ann.borrow_mut().balance = 130;
        bob.borrow_mut().balance = 60;
        let want = if engine.dialect() == "postgresql" {
            (2, 1)
        } else {
            (1, 0)
        };
        match first.commit() {
            Err(Error::StaleData {
                statement,
                table,
                expected,
                matched,
            }) => assert_eq!(
                (statement, table.as_str(), (expected, matched)),
                ("UPDATE", "accounts", want)
            ),
            other => panic!("expected StaleData, got {other:?}"),
        }
        first.rollback().unwrap();
        assert_eq!(
            accounts(&engine),
            [account_row("Ann", 90, 2), account_row("Bob", 50, 1)]
        );
        // Loaded again at version 2, the change goes through and counts.
        first.refresh(&ann).unwrap();
        assert_eq!((ann.borrow().balance, ann.borrow().version), (90, 2));
        ann.borrow_mut().balance = 130;
        first.commit().unwrap();
        assert_eq!(
            accounts(&engine),
            [account_row("Ann", 130, 3), account_row("Bob", 50, 1)]
        );
        // A DELETE matches the version too: another writer moved it on since the load.
        let stale = Session::new(&engine);
        let ann_old = stale.get::<Account>(ann_id).unwrap().unwrap();
        engine
            .execute(orm::core::text(
                "UPDATE accounts SET version = 4 WHERE owner = 'Ann'",
            ))
            .unwrap();
        stale.delete(&ann_old).unwrap();
        match stale.commit() {
            Err(Error::StaleData {
                statement, matched, ..
            }) => assert_eq!((statement, matched), ("DELETE", 0)),
            other => panic!("expected StaleData on DELETE, got {other:?}"),
        }
        stale.rollback().unwrap();
        assert_eq!(
            accounts(&engine),
            [account_row("Ann", 130, 4), account_row("Bob", 50, 1)]
        );
    });
}

fn category(name: &str) -> Category {
    Category {
        name: name.into(),
        ..Default::default()
    }
}

/// food → (fruit → (apple, pear), bread); tools alone.
fn tree(engine: &Engine) -> Session {
    MetaData::new()
        .add::<Category>()
        .create_all(engine)
        .unwrap();
    let session = Session::new(engine);
    let food = session.add(category("food"));
    let fruit = food.append(Category::children, category("fruit")).unwrap();
    fruit.append(Category::children, category("apple")).unwrap();
    fruit.append(Category::children, category("pear")).unwrap();
    food.append(Category::children, category("bread")).unwrap();
    session.add(category("tools"));
    session.commit().unwrap();
    session
}

fn names(objects: &[Obj<Category>]) -> Vec<String> {
    let mut names: Vec<String> = objects.iter().map(|c| c.borrow().name.clone()).collect();
    names.sort();
    names
}

fn by_name(session: &Session, name: &str) -> Obj<Category> {
    session
        .query::<Category>()
        .filter(Category::name.eq(name))
        .one()
        .unwrap()
}

#[test]
fn a_category_tree_loads_parent_and_children_lazily_and_by_select_in() {
    each_engine(|engine| {
        drop(tree(&engine));
        // The parents' keys were written before the children that point at them.
        assert_eq!(
            rows(
                &engine,
                "SELECT c.name, p.name FROM categories c LEFT JOIN categories p \
                 ON p.id = c.parent_id ORDER BY c.name"
            ),
            [
                ["apple", "fruit"],
                ["bread", "food"],
                ["food", ""],
                ["fruit", "food"],
                ["pear", "fruit"],
                ["tools", ""],
            ]
            .map(|[c, p]| [
                Value::Text(c.into()),
                if p.is_empty() {
                    Value::Null
                } else {
                    Value::Text(p.into())
                }
            ])
        );
        let fresh = Session::new(&engine);
        let apple = by_name(&fresh, "apple");
        // Lazy: up the tree, and down from the top.
        let fruit = apple.related(Category::parent).unwrap().unwrap();
        let food = fruit.related(Category::parent).unwrap().unwrap();
        assert_eq!(food.borrow().name, "food");
        assert!(food.related(Category::parent).unwrap().is_none());
        assert_eq!(
            names(&food.related(Category::children).unwrap()),
            ["bread", "fruit"]
        );
        let again = fruit.related(Category::children).unwrap();
        assert!(again.iter().any(|c| c.ptr_eq(&apple)), "one object per row");

        // Select-in: the roots with their children and their parents, in one query each.
        let other = Session::new(&engine);
        let roots = other
            .query::<Category>()
            .filter(Category::parent_id.eq(None::<i64>))
            .options(selectinload(Category::children))
            .order_by(Category::name)
            .all()
            .unwrap();
        assert_eq!(names(&roots), ["food", "tools"]);
        assert_eq!(
            names(&roots[0].related(Category::children).unwrap()),
            ["bread", "fruit"]
        );
        assert!(roots[1].related(Category::children).unwrap().is_empty());
        let leaves = other
            .query::<Category>()
            .filter(Category::name.in_(["apple", "pear", "bread"]))
            .options(selectinload(Category::parent))
            .all()
            .unwrap();
        let parents: Vec<String> = {
            let mut p = parent_names(&leaves, Category::parent, |c| c.name.clone());
            p.sort();
            p
        };
        assert_eq!(parents, ["food", "fruit", "fruit"]);
    });
}

#[test]
fn deleting_a_category_deletes_its_whole_subtree() {
    each_engine(|engine| {
        let _ = tree(&engine);
        let session = Session::new(&engine);
        let food = by_name(&session, "food");
        session.delete(&food).unwrap();
        session.commit().unwrap();
        assert_eq!(
            rows(&engine, "SELECT name FROM categories ORDER BY name"),
            [[Value::Text("tools".into())]]
        );
        // Moving a child out of its parent keeps it (it has a new parent, not none).
        let session = tree_again(&engine);
        let bread = by_name(&session, "bread");
        let tools = by_name(&session, "tools");
        tools.append(Category::children, &bread).unwrap();
        session.commit().unwrap();
        assert_eq!(
            rows(
                &engine,
                "SELECT p.name FROM categories c JOIN categories p ON p.id = c.parent_id \
                 WHERE c.name = 'bread'"
            ),
            [[Value::Text("tools".into())]]
        );
    });
}

/// The tree written again into a database whose table exists.
fn tree_again(engine: &Engine) -> Session {
    rows(engine, "DELETE FROM categories");
    tree(engine)
}
