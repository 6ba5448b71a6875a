//! The lesson's relationships: one-to-many both ways, many-to-many through `student_courses`,
//! loading strategies with their statement counts, cascades and misuse errors.

mod support;

use orm::prelude::*;
use support::models::authors::{Article, Author};
use support::models::blog::{Post, User};
use support::models::school::{enrol, Course, Student};
use support::{append_all, each_engine, parent_names};

/// A relationship whose foreign key column does not exist: misuse, reported at first use.
#[derive(Model, Debug, Clone, Default)]
#[orm(table = "teams", has_many(members: Post, foreign_key = "team_id"))]
pub struct Team {
    #[orm(primary_key)]
    pub id: i64,
}

/// Every table of this file, created on an empty database.
fn with_tables(engine: Engine) -> Engine {
    MetaData::new()
        .add::<User>()
        .add::<Post>()
        .add::<Student>()
        .add::<Course>()
        .add_table(Student::courses.secondary_table())
        .add::<Author>()
        .add::<Article>()
        .add::<Team>()
        .create_all(&engine)
        .unwrap();
    engine
}

fn titles(posts: &[Obj<Post>]) -> Vec<String> {
    let mut t: Vec<String> = posts.iter().map(|p| p.borrow().title.clone()).collect();
    t.sort();
    t
}

#[test]
fn one_to_many_navigates_both_ways() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        let alice = session.add(User {
            name: "Alice".into(),
            ..Default::default()
        });
        append_all(
            &alice,
            User::posts,
            ["Python tips", "Rust ownership"].map(|title| Post {
                title: title.into(),
                ..Default::default()
            }),
        );
        session.commit().unwrap();

        let fresh = Session::new(&engine);
        let user = fresh.query::<User>().first().unwrap().unwrap();
        assert_eq!(
            titles(&user.related(User::posts).unwrap()),
            ["Python tips", "Rust ownership"]
        );
        let post = fresh
            .query::<Post>()
            .order_by(Post::id)
            .first()
            .unwrap()
            .unwrap();
        let author = post.related(Post::author).unwrap().unwrap();
        assert_eq!(author.borrow().name, "Alice");
        assert!(
            author.ptr_eq(&user),
            "the author is the same object as the user loaded before"
        );
        assert_eq!(post.borrow().user_id, Some(user.borrow().id));
    });
}

#[test]
fn back_populates_keeps_both_sides_consistent() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        let bob = session.add(User {
            name: "Bob".into(),
            ..Default::default()
        });
        session.commit().unwrap();
        assert!(bob.related(User::posts).unwrap().is_empty());
        let post = session.add(Post {
            title: "Hello".into(),
            ..Default::default()
        });
        post.set_related(Post::author, Some(&bob)).unwrap();
        // The loaded collection on the other side sees the post before any flush.
        assert_eq!(titles(&bob.related(User::posts).unwrap()), ["Hello"]);
        session.commit().unwrap();
        assert_eq!(post.borrow().user_id, Some(bob.borrow().id));

        // Appending sets the author on the post side at once, and the key at flush.
        let carol = session.add(User {
            name: "Carol".into(),
            ..Default::default()
        });
        let moved = bob.related(User::posts).unwrap().pop().unwrap();
        carol.append(User::posts, &moved).unwrap();
        assert!(moved.related(Post::author).unwrap().unwrap().ptr_eq(&carol));
        session.commit().unwrap();
        let check = Session::new(&engine);
        let p = check.query::<Post>().one().unwrap();
        assert_eq!(
            p.related(Post::author).unwrap().unwrap().borrow().name,
            "Carol"
        );
        assert!(check
            .get::<User>(bob.borrow().id)
            .unwrap()
            .unwrap()
            .related(User::posts)
            .unwrap()
            .is_empty());
    });
}

#[test]
fn many_to_many_writes_and_deletes_association_rows() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        let (_ann, courses) = enrol(&session, "Ann", &["Math", "Art"]).unwrap();
        let math = &courses[0];
        let ben = session.add(Student {
            name: "Ben".into(),
            ..Default::default()
        });
        ben.append(Student::courses, math).unwrap();
        session.commit().unwrap();
        let rows = engine
            .execute(orm::core::text("SELECT count(*) FROM student_courses"))
            .unwrap();
        assert_eq!(rows.scalar(), Some(&orm::Value::Integer(3)));

        let fresh = Session::new(&engine);
        let math = fresh
            .query::<Course>()
            .filter(Course::name.eq("Math"))
            .one()
            .unwrap();
        let mut names: Vec<String> = math
            .related(Course::students)
            .unwrap()
            .iter()
            .map(|s| s.borrow().name.clone())
            .collect();
        names.sort();
        assert_eq!(names, ["Ann", "Ben"]);
        let ann = fresh
            .query::<Student>()
            .filter(Student::name.eq("Ann"))
            .one()
            .unwrap();
        assert_eq!(ann.related(Student::courses).unwrap().len(), 2);

        ann.remove(Student::courses, &math).unwrap();
        fresh.commit().unwrap();
        let rows = engine
            .execute(orm::core::text("SELECT count(*) FROM student_courses"))
            .unwrap();
        assert_eq!(rows.scalar(), Some(&orm::Value::Integer(2)));
        assert_eq!(ann.related(Student::courses).unwrap().len(), 1);
    });
}

fn seed_blog(engine: &Engine, users: usize, posts_each: usize) {
    let session = Session::new(engine);
    for u in 0..users {
        let user = session.add(User {
            name: format!("user{u:04}"),
            ..Default::default()
        });
        for p in 0..posts_each {
            user.append(
                User::posts,
                Post {
                    title: format!("post {u}-{p}"),
                    ..Default::default()
                },
            )
            .unwrap();
        }
    }
    session.commit().unwrap();
}

fn post_titles_by_user(users: &[Obj<User>]) -> Vec<(String, Vec<String>)> {
    users
        .iter()
        .map(|u| {
            (
                u.borrow().name.clone(),
                titles(&u.related(User::posts).unwrap()),
            )
        })
        .collect()
}

#[test]
fn lazy_joined_and_selectin_loading_count_statements_for_a_thousand_users() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        seed_blog(&engine, 1000, 3);

        let lazy = Session::new(&engine);
        engine.reset_statement_count();
        let users = lazy.query::<User>().order_by(User::id).all().unwrap();
        let lazy_result = post_titles_by_user(&users);
        assert_eq!(
            engine.statement_count(),
            1001,
            "lazy: one query for users, one per user"
        );

        let joined = Session::new(&engine);
        engine.reset_statement_count();
        let users = joined
            .query::<User>()
            .options(joinedload(User::posts))
            .order_by(User::id)
            .all()
            .unwrap();
        let joined_result = post_titles_by_user(&users);
        assert_eq!(engine.statement_count(), 1, "joinedload: one statement");
        assert_eq!(users.len(), 1000);

        let selectin = Session::new(&engine);
        engine.reset_statement_count();
        let users = selectin
            .query::<User>()
            .options(selectinload(User::posts))
            .order_by(User::id)
            .all()
            .unwrap();
        let selectin_result = post_titles_by_user(&users);
        assert_eq!(
            engine.statement_count(),
            3,
            "selectinload: the users, then one statement per 500 keys (as SQLAlchemy)"
        );

        assert_eq!(lazy_result, joined_result);
        assert_eq!(lazy_result, selectin_result);
        assert_eq!(lazy_result[7].1.len(), 3);
    });
}

/// Every post's author's name, loading posts with `option` in a new session: the names and the
/// number of statements that ran.
fn author_names(engine: &Engine, option: orm::LoadOption) -> (Vec<String>, u64) {
    let session = Session::new(engine);
    engine.reset_statement_count();
    let posts = session.query::<Post>().options(option).all().unwrap();
    let authors = parent_names(&posts, Post::author, |u| u.name.clone());
    (authors, engine.statement_count())
}

#[test]
fn eager_loading_of_the_many_to_one_side() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        seed_blog(&engine, 5, 2);
        let (authors, statements) = author_names(&engine, selectinload(Post::author));
        assert_eq!(statements, 2);
        assert_eq!(authors.len(), 10);
        let (authors2, statements) = author_names(&engine, joinedload(Post::author));
        assert_eq!(statements, 1);
        assert_eq!(authors, authors2);
    });
}

#[test]
fn joinedload_with_limit_still_returns_whole_collections() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        seed_blog(&engine, 5, 3);
        let session = Session::new(&engine);
        let users = session
            .query::<User>()
            .options(joinedload(User::posts))
            .order_by(User::id)
            .limit(2)
            .all()
            .unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users[1].related(User::posts).unwrap().len(), 3);
    });
}

#[test]
fn cascade_delete_removes_children_and_orphans() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        let ann = session.add(Author {
            name: "Ann".into(),
            ..Default::default()
        });
        let [_, two] = append_all(
            &ann,
            Author::articles,
            ["One", "Two"].map(|title| Article {
                title: title.into(),
                ..Default::default()
            }),
        );
        session.commit().unwrap();
        // delete-orphan: removing from the collection deletes the row.
        ann.remove(Author::articles, &two).unwrap();
        session.commit().unwrap();
        assert_eq!(session.query::<Article>().count().unwrap(), 1);
        session.delete(&ann).unwrap();
        session.commit().unwrap();
        assert_eq!(session.query::<Article>().count().unwrap(), 0);
        assert_eq!(session.query::<Author>().count().unwrap(), 0);
    });
}

/// SQLAlchemy's default for a collection without a `delete` cascade: the parent's DELETE
/// first sets its children's foreign key to NULL, and they stay (the composite-key, `on_delete`
/// and NOT NULL cases are in `new_user_trials.rs`).
#[test]
fn deleting_a_parent_without_cascade_leaves_its_children_with_no_parent() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        seed_blog(&engine, 1, 1);
        let session = Session::new(&engine);
        let user = session.query::<User>().one().unwrap();
        session.delete(&user).unwrap();
        session.commit().unwrap();
        let check = Session::new(&engine);
        assert_eq!(check.query::<User>().count().unwrap(), 0);
        let posts = check.query::<Post>().all().unwrap();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].borrow().user_id, None);
    });
}

#[test]
fn a_relationship_naming_a_missing_column_fails_at_first_use_naming_the_models() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        let team = session.add(Team::default());
        session.commit().unwrap();
        let err = team.related(Team::members).unwrap_err().to_string();
        assert!(err.contains("teams.members"), "{err}");
        assert!(err.contains("posts"), "{err}");
        assert!(err.contains("team_id"), "{err}");
    });
}

#[test]
fn navigating_a_detached_object_says_why_it_cannot() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        seed_blog(&engine, 1, 1);
        let session = Session::new(&engine);
        let user = session.query::<User>().one().unwrap();
        session.close();
        let err = user.related(User::posts).unwrap_err().to_string();
        assert!(err.contains("not in a session"), "{err}");
    });
}

#[test]
fn joins_on_the_foreign_key_and_filters_on_the_joined_table() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        let alice = session.add(User {
            name: "Alice".into(),
            ..Default::default()
        });
        append_all(
            &alice,
            User::posts,
            ["Learning Python", "Python again"].map(|title| Post {
                title: title.into(),
                ..Default::default()
            }),
        );
        let bob = session.add(User {
            name: "Bob".into(),
            ..Default::default()
        });
        bob.append(
            User::posts,
            Post {
                title: "Rust".into(),
                ..Default::default()
            },
        )
        .unwrap();
        session.add(User {
            name: "Carol".into(),
            ..Default::default()
        });
        session.commit().unwrap();

        let pairs = session
            .query::<(User, Post)>()
            .join::<Post>()
            .order_by(Post::id)
            .all()
            .unwrap();
        let shown: Vec<(String, String)> = pairs
            .iter()
            .map(|(u, p)| (u.borrow().name.clone(), p.borrow().title.clone()))
            .collect();
        assert_eq!(shown.len(), 3);
        assert_eq!(shown[2], ("Bob".to_string(), "Rust".to_string()));

        let with_python = session
            .query::<User>()
            .join::<Post>()
            .filter(Post::title.contains("Python"))
            .all()
            .unwrap();
        assert_eq!(with_python.len(), 1, "one Alice, not one per matching post");

        let explicit = session
            .query::<User>()
            .join_on::<Post>(Post::user_id.eq(User::id))
            .filter(Post::title.eq("Rust"))
            .all()
            .unwrap();
        assert_eq!(explicit[0].borrow().name, "Bob");

        let outer = session
            .query::<(User, Option<Post>)>()
            .outer_join::<Post>()
            .order_by(User::id)
            .all()
            .unwrap();
        assert_eq!(outer.len(), 4);
        assert!(outer[3].1.is_none(), "Carol has no posts");

        let counts = session
            .query_values((User::name, func::count(Post::id)))
            .outer_join::<Post>()
            .group_by(User::name)
            .order_by(User::name)
            .all()
            .unwrap();
        assert_eq!(
            counts,
            vec![("Alice".into(), 2), ("Bob".into(), 1), ("Carol".into(), 0)]
        );

        let err = session
            .query::<Student>()
            .join::<Post>()
            .all()
            .unwrap_err()
            .to_string();
        assert!(err.contains("no foreign key"), "{err}");
    });
}

#[test]
fn navigating_after_the_session_was_dropped_says_to_keep_it() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        seed_blog(&engine, 1, 1);
        let user = Session::new(&engine).query::<User>().one().unwrap();
        let err = user.related(User::posts).unwrap_err().to_string();
        assert!(err.contains("was dropped"), "{err}");
    });
}
