//! SQLAlchemy's relationship rules in the unit of work and the loaders (issue 17, faults 4–6):
//! net link changes per pair, association rows deleted with their object, delete-orphan for
//! pending children, select-in loading in chunks of 500 keys.

mod support;

use orm::prelude::*;
use orm::{ObjectState, Value};
use support::models::authors::{Article, Author};
use support::models::blog::{Post, User};
use support::models::school::{enrol, Course, Student};
use support::{append_all, each_engine};

fn with_tables(engine: Engine) -> Engine {
    MetaData::new()
        .add::<User>()
        .add::<Post>()
        .add::<Student>()
        .add::<Course>()
        .add_table(Student::courses.secondary_table())
        .add::<Author>()
        .add::<Article>()
        .create_all(&engine)
        .unwrap();
    engine
}

fn count(engine: &Engine, sql: &str) -> i64 {
    match &engine.execute(orm::core::text(sql)).unwrap().rows[0][0] {
        Value::Integer(n) => *n,
        other => panic!("a count, not {other:?}"),
    }
}

/// One student in two courses, committed.
fn enrolled(engine: &Engine) -> (Session, Obj<Student>, Obj<Course>, Obj<Course>) {
    let session = Session::new(engine);
    let (student, courses) = enrol(&session, "Ann", &["Math", "Art"]).unwrap();
    session.commit().unwrap();
    let [math, art] = <[Obj<Course>; 2]>::try_from(courses).ok().unwrap();
    (session, student, math, art)
}

#[test]
fn removing_and_appending_a_course_again_writes_no_link_row() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let (session, student, math, _) = enrolled(&engine);
        student.remove(Student::courses, &math).unwrap();
        student.append(Student::courses, &math).unwrap();
        session.commit().unwrap();
        // SQLAlchemy: 2 rows, one per course, Math's written once.
        assert_eq!(count(&engine, "SELECT count(*) FROM student_courses"), 2);
        let math_rows = "SELECT count(*) FROM student_courses WHERE course_id = 1";
        assert_eq!(count(&engine, math_rows), 1);
    });
}

#[test]
fn appending_and_removing_a_course_before_the_flush_writes_nothing() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let (session, student, _, _) = enrolled(&engine);
        let history = session.add(Course {
            name: "History".into(),
            ..Default::default()
        });
        session.commit().unwrap();
        student.append(Student::courses, &history).unwrap();
        student.remove(Student::courses, &history).unwrap();
        session.commit().unwrap();
        assert_eq!(count(&engine, "SELECT count(*) FROM student_courses"), 2);
    });
}

#[test]
fn deleting_a_student_deletes_its_association_rows_first() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let (session, student, _, _) = enrolled(&engine);
        let other = session.add(Student {
            name: "Bob".into(),
            ..Default::default()
        });
        let chem = other
            .append(
                Student::courses,
                Course {
                    name: "Chemistry".into(),
                    ..Default::default()
                },
            )
            .unwrap();
        session.commit().unwrap();
        session.delete(&student).unwrap();
        session.commit().unwrap();
        // SQLAlchemy: DELETE FROM student_courses WHERE student_id = 1, then the student; the
        // courses and Bob's row stay.
        assert_eq!(count(&engine, "SELECT count(*) FROM student_courses"), 1);
        assert_eq!(count(&engine, "SELECT count(*) FROM courses"), 3);
        assert_eq!(count(&engine, "SELECT count(*) FROM students"), 1);
        // The other side's relationship does the same for a course.
        session.delete(&chem).unwrap();
        session.commit().unwrap();
        assert_eq!(count(&engine, "SELECT count(*) FROM student_courses"), 0);
    });
}

#[test]
fn a_pending_child_removed_under_delete_orphan_is_never_inserted() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        let author = session.add(Author {
            name: "Ann".into(),
            ..Default::default()
        });
        session.commit().unwrap();
        let [kept, draft] = append_all(
            &author,
            Author::articles,
            ["kept", "draft"].map(|title| Article {
                title: title.into(),
                ..Default::default()
            }),
        );
        author.remove(Author::articles, &draft).unwrap();
        session.commit().unwrap();
        // SQLAlchemy: the draft is expunged (transient), only "kept" is written, with its parent.
        assert_eq!(draft.state(), ObjectState::Transient);
        assert_eq!(count(&engine, "SELECT count(*) FROM articles"), 1);
        assert_eq!(
            count(&engine, "SELECT count(*) FROM articles WHERE author_id = 1"),
            1
        );
        assert_eq!(kept.state(), ObjectState::Persistent);
    });
}

/// More parents than SQLite's 32,766 bound variables and PostgreSQL's 65,535 parameters.
const MANY: i64 = 70_000;

#[test]
fn selectin_loading_of_many_parents_runs_in_chunks_of_500() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        let users = session.add_all((0..MANY).map(|i| User {
            name: format!("u{i}"),
            ..Default::default()
        }));
        users[0]
            .append(
                User::posts,
                Post {
                    title: "first".into(),
                    ..Default::default()
                },
            )
            .unwrap();
        users[MANY as usize - 1]
            .append(
                User::posts,
                Post {
                    title: "last".into(),
                    ..Default::default()
                },
            )
            .unwrap();
        session.commit().unwrap();
        session.close();

        let session = Session::new(&engine);
        engine.reset_statement_count();
        let loaded = session
            .query::<User>()
            .options(selectinload(User::posts))
            .all()
            .unwrap();
        // SQLAlchemy: one SELECT of the users, then one per 500 keys (140 here).
        assert_eq!(engine.statement_count(), 1 + (MANY as u64).div_ceil(500));
        assert_eq!(loaded.len(), MANY as usize);
        let with_posts: usize = loaded
            .iter()
            .map(|u| u.related(User::posts).unwrap().len())
            .sum();
        assert_eq!(with_posts, 2);

        // The other way, through the parent key of each post: few keys, one statement.
        let posts = session
            .query::<Post>()
            .options(selectinload(Post::author))
            .all()
            .unwrap();
        assert_eq!(posts.len(), 2);
    });
}

#[test]
fn selectin_loading_of_many_to_many_runs_in_chunks_of_500() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        let course = session.add(Course {
            name: "Everyone".into(),
            ..Default::default()
        });
        for i in 0..1_001 {
            let student = session.add(Student {
                name: format!("s{i}"),
                ..Default::default()
            });
            student.append(Student::courses, &course).unwrap();
        }
        session.commit().unwrap();
        session.close();
        let session = Session::new(&engine);
        engine.reset_statement_count();
        let students = session
            .query::<Student>()
            .options(selectinload(Student::courses))
            .all()
            .unwrap();
        assert_eq!(engine.statement_count(), 1 + 3);
        assert!(students
            .iter()
            .all(|s| s.related(Student::courses).unwrap().len() == 1));
    });
}
