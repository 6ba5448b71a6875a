//! What the small bench binaries share (a folder, so cargo does not take it for a bench).

/// The number after `--name` on the command line, or `default` when it is missing or not a
/// number (the benches take a few counts, which a flag parser would only dress up).
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
