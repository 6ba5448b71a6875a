//! SQLAlchemy's relationship rules in the unit of work and the loaders (issue 17, faults 4–6):
//! net link changes per pair, association rows deleted with their object, delete-orphan for
//! pending children, select-in loading in chunks of 500 keys.

mod support;

use orm::prelude::*;
use orm::{ObjectState, Relationship, Value};
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

/// Countries keyed by their ISO code, with their cities: select-in loading over text keys.
mod places {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "countries", has_many(cities: City, foreign_key = "country_code"))]
    pub struct Country {
        #[orm(primary_key)]
        pub code: String,
    }

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "cities")]
    pub struct City {
        #[orm(primary_key)]
        pub id: i64,
        pub name: String,
        #[orm(foreign_key = "countries.code")]
        pub country_code: Option<String>,
    }
}

/// How many children the parent at `index` gets: 0 to 3, so some parents have none.
fn children_of(index: usize) -> usize {
    index % 4
}

/// Select-in loads every `P` (in `order`) with `relationship`, checks that it took
/// `statements` statements (the parents, then one a chunk of 500 keys), and compares each
/// parent's children with what a hand-built `IN (…)` query of the same keys finds (`rows_of`:
/// `(foreign key, label)` rows for a chunk of keys). Returns each parent's key with the sorted
/// labels of its children.
fn selectin_matches_in_list<
    P: Model + orm::Entities<Fetcher = orm::Models<P>>,
    C: Model,
    K: Ord + Clone + std::fmt::Debug,
>(
    engine: &Engine,
    relationship: impl Relationship<P, Output = Vec<Obj<C>>>,
    order: impl orm::core::IntoOrderBy,
    statements: u64,
    (key, label): (impl Fn(&P) -> K, impl Fn(&C) -> String),
    rows_of: impl Fn(&Session, &[K]) -> Vec<(Option<K>, String)>,
) -> Vec<(K, Vec<String>)> {
    let session = Session::new(engine);
    engine.reset_statement_count();
    let parents = session
        .query::<P>()
        .options(selectinload(relationship))
        .order_by(order)
        .all()
        .unwrap();
    assert_eq!(engine.statement_count(), statements);
    let loaded: Vec<(K, Vec<String>)> = parents
        .iter()
        .map(|parent| {
            let children = parent.related(relationship).unwrap();
            let mut labels: Vec<String> = children.iter().map(|c| label(&c.borrow())).collect();
            labels.sort();
            (key(&parent.borrow()), labels)
        })
        .collect();
    let keys: Vec<K> = loaded.iter().map(|(k, _)| k.clone()).collect();
    let mut by_in: std::collections::BTreeMap<K, Vec<String>> =
        keys.iter().map(|k| (k.clone(), Vec::new())).collect();
    for chunk in keys.chunks(500) {
        for (key, label) in rows_of(&session, chunk) {
            by_in
                .get_mut(&key.expect("a child of a parent"))
                .unwrap()
                .push(label);
        }
    }
    let expected: Vec<(K, Vec<String>)> = keys
        .iter()
        .map(|k| {
            let mut labels = by_in.remove(k).unwrap();
            labels.sort();
            (k.clone(), labels)
        })
        .collect();
    assert_eq!(loaded, expected);
    loaded
}

/// Select-in loading over 1,200 parents (chunks of 500, 500 and 200 keys: on PostgreSQL one
/// `= ANY($1)` statement for all three, on SQLite `IN (…)` per chunk) gives every parent the
/// children the `IN (…)` form of a hand-built query finds for its key, and no others.
#[test]
fn selectin_loading_finds_the_rows_the_in_list_form_finds() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        for i in 0..1_200 {
            let user = session.add(User {
                name: format!("u{i}"),
                ..Default::default()
            });
            for j in 0..children_of(i) {
                let title = format!("p{i}-{j}");
                let post = Post {
                    title,
                    ..Default::default()
                };
                user.append(User::posts, post).unwrap();
            }
        }
        session.commit().unwrap();
        session.close();

        let labels = (|u: &User| u.id, |p: &Post| p.title.clone());
        let loaded =
            selectin_matches_in_list(&engine, User::posts, User::id, 1 + 3, labels, |s, chunk| {
                let query = s.query_values((Post::user_id, Post::title));
                query
                    .filter(Post::user_id.in_(chunk.to_vec()))
                    .all()
                    .unwrap()
            });
        // The values themselves: user 4 (index 3) has three posts, 1,800 in all.
        assert_eq!(
            loaded[3],
            (4, vec!["p3-0".into(), "p3-1".into(), "p3-2".into()])
        );
        let total: usize = loaded.iter().map(|(_, t)| t.len()).sum();
        assert_eq!(total, 1_800);
    });
}

/// The same over text keys: on PostgreSQL the keys go as one array of the key column's text
/// type, and each country gets the cities the `IN (…)` form finds.
#[test]
fn selectin_loading_over_text_keys_finds_the_rows_the_in_list_form_finds() {
    use places::{City, Country};
    each_engine(|engine| {
        let metadata = MetaData::new().add::<Country>().add::<City>();
        metadata.create_all(&engine).unwrap();
        let session = Session::new(&engine);
        for i in 0..600 {
            let code = format!("C{i:04}");
            let country = session.add(Country { code });
            for j in 0..children_of(i) {
                let name = format!("c{i}-{j}");
                let city = City {
                    name,
                    ..Default::default()
                };
                country.append(Country::cities, city).unwrap();
            }
        }
        session.commit().unwrap();
        session.close();

        let labels = (|c: &Country| c.code.clone(), |c: &City| c.name.clone());
        let loaded = selectin_matches_in_list(
            &engine,
            Country::cities,
            Country::code,
            1 + 2,
            labels,
            |s, chunk| {
                let query = s.query_values((City::country_code, City::name));
                query
                    .filter(City::country_code.in_(chunk.to_vec()))
                    .all()
                    .unwrap()
            },
        );
        let third = ("C0002".to_string(), vec!["c2-0".into(), "c2-1".into()]);
        assert_eq!(loaded[2], third);
        let total: usize = loaded.iter().map(|(_, n)| n.len()).sum();
        assert_eq!(total, 900);
    });
}
