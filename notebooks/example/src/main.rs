//! The lesson's complete example, end to end: models with relationships, an engine from an
//! environment variable, tables, CRUD, relationships both ways, queries, eager loading.
//!
//! Run it with `cargo run -p lesson-example`; set `DATABASE_URL` to use another database
//! (default: an in-memory SQLite database).

use orm::prelude::*;

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "users", has_many(posts: Post, foreign_key = "user_id", back_populates = "author"))]
pub struct User {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[orm(unique)]
    pub email: Option<String>,
    #[orm(index)]
    pub age: Option<i64>,
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

fn user(name: &str, email: &str, age: i64) -> User {
    User {
        name: name.into(),
        email: Some(email.into()),
        age: Some(age),
        ..Default::default()
    }
}

fn main() -> orm::Result<()> {
    // Best practice: the connection string comes from the environment.
    let engine = create_engine_from_env("DATABASE_URL", "sqlite:///:memory:")?;
    let metadata = MetaData::new()
        .add::<User>()
        .add::<Post>()
        .add::<Student>()
        .add::<Course>()
        .add_table(Student::courses.secondary_table());
    metadata.create_all(&engine)?;
    println!(
        "Connected to {} and created {} tables",
        engine.url(),
        metadata.tables().len()
    );

    // Create, in a scoped session: committed on success, rolled back on error.
    Session::scoped(&engine, |session| {
        let alice = session.add(user("Alice", "alice@example.com", 30));
        let bob = session.add(user("Bob", "bob@example.com", 17));
        session.add(user("Carol", "carol@example.com", 42));
        alice.append(
            User::posts,
            Post {
                title: "Getting started with Python".into(),
                ..Default::default()
            },
        )?;
        alice.append(
            User::posts,
            Post {
                title: "Rust ownership explained".into(),
                ..Default::default()
            },
        )?;
        bob.append(
            User::posts,
            Post {
                title: "My first SQL query".into(),
                ..Default::default()
            },
        )?;
        let ann = session.add(Student {
            name: "Ann".into(),
            ..Default::default()
        });
        let ben = session.add(Student {
            name: "Ben".into(),
            ..Default::default()
        });
        let databases = ann.append(
            Student::courses,
            Course {
                name: "Databases".into(),
                ..Default::default()
            },
        )?;
        ann.append(
            Student::courses,
            Course {
                name: "Rust".into(),
                ..Default::default()
            },
        )?;
        ben.append(Student::courses, &databases)?;
        Ok(())
    })?;

    let session = Session::new(&engine);

    // Read.
    let users = session.query::<User>().order_by(User::name).all()?;
    println!("\nAll users:");
    for u in &users {
        let u = u.borrow();
        println!(
            "  {} <{}> age {}",
            u.name,
            u.email.as_deref().unwrap_or("-"),
            u.age.unwrap_or_default()
        );
    }
    let adults = session
        .query::<User>()
        .filter(User::age.ge(18))
        .order_by(User::name)
        .all()?;
    println!("Adults: {}", names(&adults));
    let first = session.get::<User>(1)?.expect("user 1 exists");
    println!("User 1 is {}", first.borrow().name);

    // Update: change a loaded object, commit writes one UPDATE.
    let alice = session
        .query::<User>()
        .filter(User::name.eq("Alice"))
        .one()?;
    alice.borrow_mut().age = Some(31);
    session.commit()?;
    println!("Alice is now {}", alice.borrow().age.unwrap_or_default());

    // Relationships, both directions.
    println!("\nAlice's posts:");
    for post in alice.related(User::posts)? {
        println!("  {}", post.borrow().title);
    }
    let post = session
        .query::<Post>()
        .filter(Post::title.contains("SQL"))
        .one()?;
    let author = post
        .related(Post::author)?
        .expect("every post has an author");
    println!(
        "'{}' was written by {}",
        post.borrow().title,
        author.borrow().name
    );
    let databases = session
        .query::<Course>()
        .filter(Course::name.eq("Databases"))
        .one()?;
    println!(
        "Databases students: {}",
        student_names(&databases.related(Course::students)?)
    );

    // Queries: ordering, limiting, counting, aggregates, joins, combined filters.
    println!(
        "\nOldest first: {}",
        names(&session.query::<User>().order_by(User::age.desc()).all()?)
    );
    println!(
        "First two: {}",
        names(&session.query::<User>().order_by(User::id).limit(2).all()?)
    );
    println!("Users: {}", session.query::<User>().count()?);
    let avg = session
        .query_values(func::avg(User::age))
        .scalar()?
        .unwrap_or_default();
    let max = session
        .query_values(func::max(User::age))
        .scalar()?
        .unwrap_or_default();
    println!("Average age {avg:.2}, oldest {max}");
    let python = session
        .query::<User>()
        .join::<Post>()
        .filter(Post::title.contains("Python"))
        .all()?;
    println!("Wrote about Python: {}", names(&python));
    let per_user = session
        .query_values((User::name, func::count(Post::id)))
        .outer_join::<Post>()
        .group_by(User::name)
        .order_by(User::name)
        .all()?;
    println!("Posts per user: {per_user:?}");
    let alice_or_bob = session
        .query::<User>()
        .filter(or_([User::name.eq("Alice"), User::name.eq("Bob")]))
        .order_by(User::name)
        .all()?;
    println!("Alice or Bob: {}", names(&alice_or_bob));

    // Avoiding N+1: one statement for users and their posts.
    let fresh = Session::new(&engine);
    engine.reset_statement_count();
    let users = fresh
        .query::<User>()
        .options(joinedload(User::posts))
        .all()?;
    let total: usize = users
        .iter()
        .map(|u| u.related(User::posts).map(|p| p.len()))
        .sum::<orm::Result<usize>>()?;
    println!(
        "\n{} posts loaded with {} statement(s)",
        total,
        engine.statement_count()
    );

    // Delete.
    let carol = session
        .query::<User>()
        .filter(User::name.eq("Carol"))
        .one()?;
    session.delete(&carol)?;
    session.commit()?;
    println!(
        "After deleting Carol: {} users",
        session.query::<User>().count()?
    );
    session.close();
    Ok(())
}

fn names(users: &[Obj<User>]) -> String {
    users
        .iter()
        .map(|u| u.borrow().name.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

fn student_names(students: &[Obj<Student>]) -> String {
    let mut names: Vec<String> = students.iter().map(|s| s.borrow().name.clone()).collect();
    names.sort();
    names.join(", ")
}
