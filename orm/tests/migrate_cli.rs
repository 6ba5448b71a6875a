//! The migrations command line, run as a process in a temporary folder: the `orm-migrate` binary
//! is `examples/migrate.rs` (the lesson's `User` model handed to `orm::migrate::cli::run`).
//! Needs the `cli` feature: `cargo test -p orm --features cli`.

use std::path::Path;
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `orm-migrate ARGS` in `dir` with no DATABASE_URL from the environment.
fn migrate(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_orm-migrate"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .output()
        .expect("the orm-migrate binary runs");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[track_caller]
fn ok(dir: &Path, args: &[&str]) -> String {
    let run = migrate(dir, args);
    assert_eq!(
        run.code, 0,
        "{args:?}\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    run.stdout
}

const URL: &str = "--url=sqlite:///app.db";

#[test]
fn lesson_commands_init_autogenerate_upgrade_and_inspect() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    let out = ok(dir, &["init", "migrations"]);
    assert!(out.contains("Created migrations"), "{out}");
    assert!(dir.join("migrations/versions").is_dir());

    // The models have a users table, the new database nothing: check says so with exit code 1.
    let run = migrate(dir, &["check", URL]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("New upgrade operations detected:\n  - added table users"),
        "{}",
        run.stdout
    );

    let out = ok(
        dir,
        &[
            "revision",
            "--autogenerate",
            "-m",
            "Create users table",
            URL,
        ],
    );
    assert!(out.contains("Detected added table users"), "{out}");
    assert!(
        out.contains("Generating migrations/versions/")
            && out.contains("_create_users_table.sql ... done"),
        "{out}"
    );
    let files: Vec<_> = std::fs::read_dir(dir.join("migrations/versions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let content = std::fs::read_to_string(&files[0]).unwrap();
    assert!(content.contains("CREATE TABLE \"users\""), "{content}");
    assert!(
        content.contains("CREATE INDEX \"ix_users_age\""),
        "{content}"
    );
    let id = content
        .lines()
        .next()
        .unwrap()
        .strip_prefix("-- revision: ")
        .unwrap()
        .to_string();

    let out = ok(dir, &["upgrade", "head", URL]);
    assert_eq!(
        out,
        format!("Running upgrade <base> -> {id}, Create users table\n")
    );
    assert_eq!(ok(dir, &["current", URL]), format!("{id} (head)\n"));
    assert_eq!(
        ok(dir, &["history"]),
        format!("<base> -> {id} (head), Create users table\n")
    );
    assert_eq!(
        ok(dir, &["heads"]),
        format!("{id} (head), Create users table\n")
    );
    assert_eq!(
        ok(dir, &["check", URL]),
        "No new upgrade operations detected.\n"
    );
    assert!(ok(dir, &["upgrade", "head", URL]).contains("Nothing to upgrade"));

    // An empty revision for hand-written SQL, then the database drifts from the models.
    let out = ok(dir, &["revision", "-m", "Add nickname by hand"]);
    assert!(out.contains("_add_nickname_by_hand.sql ... done"), "{out}");
    let path = out
        .trim()
        .strip_prefix("Generating ")
        .unwrap()
        .strip_suffix(" ... done")
        .unwrap();
    let text = std::fs::read_to_string(dir.join(path)).unwrap();
    let text = text
        .replacen(
            "-- +up\n",
            "-- +up\nALTER TABLE users ADD COLUMN nickname VARCHAR;\n",
            1,
        )
        .replacen(
            "-- +down\n",
            "-- +down\nALTER TABLE users DROP COLUMN nickname;\n",
            1,
        );
    std::fs::write(dir.join(path), text).unwrap();
    let out = ok(dir, &["upgrade", "+1", URL]);
    assert!(out.contains("Add nickname by hand"), "{out}");
    let run = migrate(dir, &["check", URL]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("removed column users.nickname"),
        "{}",
        run.stdout
    );

    // --echo shows the SQL as it runs.
    let out = ok(dir, &["downgrade", "-1", URL, "--echo"]);
    assert!(
        out.contains("SQL: ALTER TABLE users DROP COLUMN nickname"),
        "{out}"
    );
    assert!(
        out.contains("Running downgrade ")
            && out.contains(&format!("-> {id}, Add nickname by hand")),
        "{out}"
    );
    assert_eq!(ok(dir, &["current", URL]), format!("{id}\n"));

    let out = ok(dir, &["downgrade", "base", URL]);
    assert_eq!(
        out,
        format!("Running downgrade {id} -> <base>, Create users table\n")
    );
    assert_eq!(ok(dir, &["current", URL]), "<base>\n");
    assert!(ok(dir, &["stamp", "head", URL]).starts_with("Stamped the database at "));
}

#[test]
fn errors_exit_two_with_the_message_on_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    let run = migrate(dir, &["upgrade", "head", URL]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("error: migration: migrations is not a migrations folder"),
        "{}",
        run.stderr
    );

    ok(dir, &["--dir", "db/migrations", "init"]);
    let run = migrate(dir, &["--dir", "db/migrations", "upgrade", "head"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no database given: pass --url"),
        "{}",
        run.stderr
    );

    let run = migrate(
        dir,
        &["-d", "db/migrations", "upgrade", "0123456789ab", URL],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown revision \"0123456789ab\""),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());

    let run = migrate(dir, &["init", "db/migrations"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("already exists and is not empty"),
        "{}",
        run.stderr
    );

    // Usage errors are clap's, with exit code 2 as well; --help is not an error.
    let run = migrate(dir, &["upgrade"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("<REVISION>"), "{}", run.stderr);
    let run = migrate(dir, &["sideways"]);
    assert_eq!(run.code, 2);
    let help = ok(dir, &["--help"]);
    for verb in [
        "init",
        "revision",
        "upgrade",
        "downgrade",
        "current",
        "history",
        "heads",
        "stamp",
        "check",
    ] {
        assert!(help.contains(verb), "{verb} in {help}");
    }

    // A malformed file stops every command that reads the history, naming file and line.
    std::fs::write(
        dir.join("db/migrations/versions/x.sql"),
        "-- revision: x1\n-- down_revision: none\nDROP TABLE users;\n",
    )
    .unwrap();
    let run = migrate(dir, &["--dir=db/migrations", "history"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("db/migrations/versions/x.sql:3: SQL before `-- +up`"),
        "{}",
        run.stderr
    );
}
