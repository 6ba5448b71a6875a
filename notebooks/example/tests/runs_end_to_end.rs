//! The example program runs to the end and prints what the lesson says it should.

use std::process::Command;

#[test]
fn the_complete_example_tells_the_whole_story() {
    let out = Command::new(env!("CARGO_BIN_EXE_lesson-example"))
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "Connected to sqlite:///:memory: and created 5 tables",
        "Adults: Alice, Carol",
        "User 1 is Alice",
        "Alice is now 31",
        "'My first SQL query' was written by Bob",
        "Databases students: Ann, Ben",
        "Oldest first: Carol, Alice, Bob",
        "First two: Alice, Bob",
        "Users: 3",
        "Average age 30.00, oldest 42",
        "Wrote about Python: Alice",
        "Posts per user: [(\"Alice\", 2), (\"Bob\", 1), (\"Carol\", 0)]",
        "Alice or Bob: Alice, Bob",
        "3 posts loaded with 1 statement(s)",
        "After deleting Carol: 2 users",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}

#[test]
fn the_example_reads_its_database_url_from_the_environment() {
    let dir = std::env::temp_dir().join(format!("lesson-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:///{}", dir.join("example.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_lesson-example"))
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("example.db").exists());
    let bad = Command::new(env!("CARGO_BIN_EXE_lesson-example"))
        .env("DATABASE_URL", "oracle://x")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown database kind"));
    std::fs::remove_dir_all(&dir).unwrap();
}
