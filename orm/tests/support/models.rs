//! The models several test files share, written once. Each module is one small schema, as the
//! tests use it (`use support::models::school::{Course, Student};`); a file whose model differs
//! (another column, another relationship) keeps its own.

/// Users with a name and an age: the session and Core tests.
pub mod people {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "users")]
    pub struct User {
        #[orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub age: Option<i64>,
    }
}

/// Users with a unique e-mail address: bad input and the SQLAlchemy comparison.
pub mod contacts {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "users")]
    pub struct User {
        #[orm(primary_key)]
        pub id: i64,
        pub name: String,
        #[orm(unique)]
        pub email: Option<String>,
        pub age: Option<i64>,
    }
}

/// One-to-many both ways: a user's posts and a post's author (`back_populates`).
pub mod blog {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "users", has_many(posts: Post, foreign_key = "user_id", back_populates = "author"))]
    pub struct User {
        #[orm(primary_key)]
        pub id: i64,
        pub name: String,
    }

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "posts", belongs_to(author: User, foreign_key = "user_id", back_populates = "posts"))]
    pub struct Post {
        #[orm(primary_key)]
        pub id: i64,
        pub title: String,
        #[orm(foreign_key = "users.id")]
        pub user_id: Option<i64>,
    }
}

/// Many-to-many through an association table (`student_courses`).
pub mod school {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "students", many_to_many(courses: Course, secondary = "student_courses", local = "student_id", remote = "course_id", back_populates = "students"))]
    pub struct Student {
        #[orm(primary_key)]
        pub id: i64,
        pub name: String,
    }

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "courses", many_to_many(students: Student, secondary = "student_courses", local = "course_id", remote = "student_id", back_populates = "courses"))]
    pub struct Course {
        #[orm(primary_key)]
        pub id: i64,
        pub name: String,
    }
}

/// A parent whose children are deleted with it, and when they leave it (`delete-orphan`).
pub mod authors {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "authors", has_many(articles: Article, foreign_key = "author_id", cascade = "all, delete-orphan"))]
    pub struct Author {
        #[orm(primary_key)]
        pub id: i64,
        pub name: String,
    }

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "articles")]
    pub struct Article {
        #[orm(primary_key)]
        pub id: i64,
        pub title: String,
        #[orm(foreign_key = "authors.id")]
        pub author_id: Option<i64>,
    }
}

/// Tags with a text primary key: the identity map, `get` and deletes by text key.
pub mod tags {
    use orm::prelude::*;

    /// A model whose key is text.
    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "tags")]
    pub struct Tag {
        #[orm(primary_key)]
        pub code: String,
        pub label: String,
    }
}
