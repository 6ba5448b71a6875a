//! Eager loading more than one level deep (issue 19), on SQLite and PostgreSQL from one body:
//! `selectinload(User::posts).selectinload(Post::comments)` is one statement per level, a joined
//! chain is one statement, and after either no lazy load is left (the statement count stays).

mod support;

use orm::prelude::*;
use orm::LoadOption;
use support::each_engine;

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "users", has_many(posts: Post, foreign_key = "user_id"))]
pub struct User {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
}

#[derive(Model, Debug, Clone, Default)]
#[orm(
    table = "posts",
    has_many(comments: Comment, foreign_key = "post_id"),
    belongs_to(author: User, foreign_key = "user_id")
)]
pub struct Post {
    #[orm(primary_key)]
    pub id: i64,
    pub title: String,
    #[orm(foreign_key = "users.id")]
    pub user_id: Option<i64>,
}

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "comments", belongs_to(post: Post, foreign_key = "post_id"))]
pub struct Comment {
    #[orm(primary_key)]
    pub id: i64,
    pub text: String,
    #[orm(foreign_key = "posts.id")]
    pub post_id: Option<i64>,
}

/// Users `u0`..`u{users-1}`; user `i` has `i % 3` posts, post `k` of it has `k + 1` comments.
/// Returns the engine with the rows committed.
fn seeded(engine: Engine, users: usize) -> Engine {
    MetaData::new()
        .add::<User>()
        .add::<Post>()
        .add::<Comment>()
        .create_all(&engine)
        .unwrap();
    let session = Session::new(&engine);
    for i in 0..users {
        let user = session.add(User {
            name: format!("u{i}"),
            ..Default::default()
        });
        for k in 0..i % 3 {
            let post = user
                .append(
                    User::posts,
                    Post {
                        title: format!("u{i} p{k}"),
                        ..Default::default()
                    },
                )
                .unwrap();
            for c in 0..=k {
                post.append(
                    Post::comments,
                    Comment {
                        text: format!("u{i} p{k} c{c}"),
                        ..Default::default()
                    },
                )
                .unwrap();
            }
        }
    }
    session.commit().unwrap();
    session.close();
    engine
}

/// A user's name with each post's title and the texts of its comments.
type Tree = Vec<(String, Vec<(String, Vec<String>)>)>;

/// Every user's posts and their comments as text, read through `related` (lazy loads where
/// nothing was loaded yet).
fn tree(users: &[Obj<User>]) -> Tree {
    users
        .iter()
        .map(|u| {
            let mut posts: Vec<(String, Vec<String>)> = u
                .related(User::posts)
                .unwrap()
                .iter()
                .map(|p| {
                    let mut comments: Vec<String> = p
                        .related(Post::comments)
                        .unwrap()
                        .iter()
                        .map(|c| c.borrow().text.clone())
                        .collect();
                    comments.sort();
                    (p.borrow().title.clone(), comments)
                })
                .collect();
            posts.sort();
            (u.borrow().name.clone(), posts)
        })
        .collect()
}

/// What `seeded` wrote, for the first `users` users.
fn expected_tree(users: usize) -> Tree {
    (0..users)
        .map(|i| {
            let posts = (0..i % 3)
                .map(|k| {
                    let comments = (0..=k).map(|c| format!("u{i} p{k} c{c}")).collect();
                    (format!("u{i} p{k}"), comments)
                })
                .collect();
            (format!("u{i}"), posts)
        })
        .collect()
}

/// Loads `users` seeded users with `option` and checks that it took `statements` statements,
/// that the tree of users, posts and comments is the one written, and that reading it ran
/// nothing more (no lazy load was left).
fn check_path(option: LoadOption, users: usize, statements: u64) {
    each_engine(|engine| {
        let engine = seeded(engine, users);
        let session = Session::new(&engine);
        engine.reset_statement_count();
        let loaded = session
            .query::<User>()
            .order_by(User::id)
            .options(option.clone())
            .all()
            .unwrap();
        assert_eq!(engine.statement_count(), statements, "{option:?}");
        // One object per user, however many rows the joins made.
        assert_eq!(loaded.len(), users);
        assert_eq!(tree(&loaded), expected_tree(users));
        assert_eq!(
            engine.statement_count(),
            statements,
            "no lazy load was needed"
        );
    });
}

#[test]
fn selectin_two_levels_is_one_statement_per_level() {
    // The users, their posts, the posts' comments.
    check_path(
        selectinload(User::posts).selectinload(Post::comments),
        30,
        3,
    );
}

#[test]
fn selectin_levels_are_chunked_by_500_keys_each() {
    // 1,200 users: 3 chunks of users' keys; 1,200 posts (0 + 1 + 2 per three users): 3 chunks.
    check_path(
        selectinload(User::posts).selectinload(Post::comments),
        1200,
        1 + 3 + 3,
    );
}

#[test]
fn a_joined_chain_is_one_statement() {
    check_path(joinedload(User::posts).joinedload(Post::comments), 30, 1);
}

#[test]
fn joined_then_selectin_is_one_statement_more() {
    check_path(joinedload(User::posts).selectinload(Post::comments), 30, 2);
}

#[test]
fn a_path_down_and_up_again_loads_the_same_objects() {
    each_engine(|engine| {
        let engine = seeded(engine, 9);
        let session = Session::new(&engine);
        engine.reset_statement_count();
        // Comments, their posts, the posts' authors: three levels, three statements.
        let comments = session
            .query::<Comment>()
            .options(selectinload(Comment::post).selectinload(Post::author))
            .all()
            .unwrap();
        assert_eq!(engine.statement_count(), 3);
        for comment in &comments {
            let post = comment.related(Comment::post).unwrap().unwrap();
            let author = post.related(Post::author).unwrap().unwrap();
            let text = comment.borrow().text.clone();
            assert!(
                text.starts_with(&format!("{} ", author.borrow().name)),
                "{text} is not by {}",
                author.borrow().name
            );
        }
        assert_eq!(engine.statement_count(), 3);
    });
}

#[test]
fn a_path_that_does_not_connect_is_a_named_error() {
    each_engine(|engine| {
        let engine = seeded(engine, 3);
        let session = Session::new(&engine);
        // User::posts leads to posts; Comment::post starts from comments.
        let err = session
            .query::<User>()
            .options(selectinload(User::posts).selectinload(Comment::post))
            .all()
            .unwrap_err();
        assert!(
            matches!(
                &err,
                Error::InvalidRequest(message) if message
                    == "selectinload(users.posts).selectinload(comments.post): comments.post \
                        does not start from posts, where users.posts leads"
            ),
            "{err:?}"
        );
    });
}
