//! The lesson's Alembic commands for the lesson's `User` model: a project's migration tool is
//! these few lines, its models handed to `orm::migrate::cli::run`.
//!
//! ```text
//! cargo run -p orm --features cli --example migrate -- init migrations
//! export DATABASE_URL=sqlite:///app.db
//! cargo run -p orm --features cli --example migrate -- revision --autogenerate -m "Add email column"
//! cargo run -p orm --features cli --example migrate -- upgrade head
//! cargo run -p orm --features cli --example migrate -- history
//! ```

use orm::prelude::*;

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "users")]
pub struct User {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[orm(unique)]
    pub email: Option<String>,
    #[orm(index)]
    pub age: Option<i64>,
}

pub fn main() -> std::process::ExitCode {
    orm::migrate::cli::run(&MetaData::new().add::<User>())
}
