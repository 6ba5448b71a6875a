//! `examples/migrate.rs` built as a binary, so that tests can run it as a process: cargo gives
//! integration tests the path of a package's bins (`CARGO_BIN_EXE_orm-migrate`), not of its
//! examples. One source, two targets.

#[path = "../../examples/migrate.rs"]
mod example;

fn main() -> std::process::ExitCode {
    example::main()
}
