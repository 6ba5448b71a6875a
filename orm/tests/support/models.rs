//! The models several test files share, written once. Each module is one small schema, as the
//! tests use it (`use support::models::school::{Course, Student};`); a file whose model differs
//! (another column, another relationship) keeps its own.

/// A `users` model in a module of its own: `id`, `name` and the columns given (the shape every
/// version of the lesson's `User` shares), with a `metadata()` of it and of the models named
/// after `with`. The migration tests declare their successive versions with it.
#[allow(unused_macros)]
macro_rules! users_model {
    ($(#[$doc:meta])* $module:ident { $($columns:tt)* } $(with $($other:ty),+)?) => {
        $(#[$doc])*
        pub mod $module {
            use orm::prelude::*;
            #[derive(Model, Debug, Clone, Default)]
            #[orm(table = "users")]
            pub struct User {
                #[orm(primary_key)]
                pub id: i64,
                pub name: String,
                $($columns)*
            }
            pub fn metadata() -> MetaData {
                MetaData::new().add::<User>()$($(.add::<$other>())+)?
            }
        }
    };
}

/// An `offerings` model, `Offering` (a course as given in one term, keyed by term and code),
/// with the container options given after a comma, as `registration_model!`.
#[allow(unused_macros)]
macro_rules! offering_model {
    ($($options:tt)*) => {
        /// A course as given in one term.
        #[derive(Model, Debug, Clone, Default, PartialEq)]
        #[orm(table = "offerings" $($options)*)]
        pub struct Offering {
            #[orm(primary_key, length = 10)]
            pub term: String,
            #[orm(primary_key, length = 10)]
            pub code: String,
            pub title: String,
        }
    };
}

/// A `registrations` model, `Registration` (an id, a student, and the (term, code) of an
/// offering, both nullable), with the container options given after a comma: the composite-key
/// tests declare their variants with it (with and without the two-column foreign key, with a
/// well- or misdeclared `belongs_to`).
#[allow(unused_macros)]
macro_rules! registration_model {
    ($($options:tt)*) => {
        /// A student's place in one offering.
        #[derive(Model, Debug, Clone, Default, PartialEq)]
        #[orm(table = "registrations" $($options)*)]
        pub struct Registration {
            #[orm(primary_key)]
            pub id: i64,
            pub student: String,
            #[orm(length = 10)]
            pub term: Option<String>,
            #[orm(length = 10)]
            pub code: Option<String>,
        }
    };
}

users_model!(
    /// Users with a name and an age: the session and Core tests.
    people { pub age: Option<i64>, }
);
users_model!(
    /// Users with a unique e-mail address: bad input and the SQLAlchemy comparison.
    contacts { #[orm(unique)] pub email: Option<String>, pub age: Option<i64>, }
);

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

    /// A new student named `student`, added to `session`, in a new course per name of `courses`
    /// (appended through `Student::courses`, so the association rows are written at the next
    /// flush); nothing is committed.
    ///
    /// # Errors
    ///
    /// The error of an `append` (a session that is busy).
    pub fn enrol(
        session: &Session,
        student: &str,
        courses: &[&str],
    ) -> orm::Result<(Obj<Student>, Vec<Obj<Course>>)> {
        let student = session.add(Student {
            name: student.into(),
            ..Default::default()
        });
        let courses = courses
            .iter()
            .map(|&name| {
                student.append(
                    Student::courses,
                    Course {
                        name: name.into(),
                        ..Default::default()
                    },
                )
            })
            .collect::<orm::Result<Vec<_>>>()?;
        Ok((student, courses))
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

/// A composite primary key: a row per student and course, the pair is the key (SQLAlchemy's
/// `primary_key=True` on two `mapped_column`s).
pub mod keys {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, Default, PartialEq)]
    #[orm(table = "enrollments")]
    pub struct Enrollment {
        #[orm(primary_key)]
        pub student_id: i64,
        #[orm(primary_key, length = 20)]
        pub course_code: String,
        pub grade: Option<String>,
    }
}

/// A parent with a composite key as the target of relationships (issue 19): course offerings
/// keyed by (term, code), and the enrollments that point at one through a two-column foreign
/// key (SQLAlchemy's `ForeignKeyConstraint(["term", "code"], ["offerings.term",
/// "offerings.code"])`). Registrations, not enrollments: `keys::Enrollment` has that table.
pub mod offerings {
    use orm::prelude::*;

    offering_model!(
        , has_many(registrations: Registration, foreign_key = "term, code", back_populates = "offering",
                   cascade = "all, delete-orphan")
    );

    registration_model!(
        , belongs_to(offering: Offering, foreign_key = "term, code", back_populates = "registrations"),
        foreign_key_constraint("term", "code", references = "offerings(term, code)")
    );

    pub fn metadata() -> MetaData {
        MetaData::new().add::<Offering>().add::<Registration>()
    }

    /// Each offering's code and its registrations' students (sorted), through `related`.
    #[allow(dead_code)]
    pub fn students(offerings: &[Obj<Offering>]) -> Vec<(String, Vec<String>)> {
        offerings
            .iter()
            .map(|o| {
                let mut names: Vec<String> = o
                    .related(Offering::registrations)
                    .unwrap()
                    .iter()
                    .map(|r| r.borrow().student.clone())
                    .collect();
                names.sort();
                (o.borrow().code.clone(), names)
            })
            .collect()
    }
}

/// An account whose writes are checked against the version it was loaded at (SQLAlchemy's
/// `version_id_col`).
pub mod versions {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "accounts", version_id_col = "version")]
    pub struct Account {
        #[orm(primary_key)]
        pub id: i64,
        pub owner: String,
        pub balance: i64,
        pub version: i64,
    }
}

/// A category tree: `parent` and `children` on the same model (SQLAlchemy's adjacency list).
pub mod tree {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, Default)]
    #[orm(
        table = "categories",
        belongs_to(parent: Category, foreign_key = "parent_id", back_populates = "children"),
        has_many(children: Category, foreign_key = "parent_id", back_populates = "parent", cascade = "all, delete-orphan")
    )]
    pub struct Category {
        #[orm(primary_key)]
        pub id: i64,
        pub name: String,
        #[orm(foreign_key = "categories.id")]
        pub parent_id: Option<i64>,
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
