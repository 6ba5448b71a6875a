//! history_request: the inputs (and text outputs) of this kernel's session: tail, range, search.
//!
//! History lives in memory for the kernel's life; there is one session, numbered 1.

use super::{Handled, Kernel};
use crate::protocol::message::Message;
use serde_json::{json, Value};

const SESSION: i64 = 1;

#[derive(Debug, Clone)]
struct Entry {
    line: usize,
    input: String,
    output: Option<String>,
}

/// The cells run in this session, with their outputs, in order.
#[derive(Debug, Default)]
pub struct History {
    entries: Vec<Entry>,
}

/// Records cell `line`'s input and its text output (if any).
pub fn record(kernel: &Kernel, line: usize, input: &str, output: Option<String>) {
    let mut history = kernel
        .history
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    history.entries.push(Entry {
        line,
        input: input.to_owned(),
        output,
    });
}

/// history_reply for `tail`, `range` and `search` (IPython's glob) requests.
pub fn history(kernel: &Kernel, request: &Message) -> Handled {
    let found = {
        let history = kernel
            .history
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        history.select(&request.content)
    };
    let with_output = request.bool_field("output", false);
    let rows: Vec<Value> = found
        .into_iter()
        .map(|entry| {
            if with_output {
                json!([SESSION, entry.line, [entry.input, entry.output]])
            } else {
                json!([SESSION, entry.line, entry.input])
            }
        })
        .collect();
    Handled::reply(kernel.session.reply(
        request,
        "history_reply",
        json!({"status": "ok", "history": rows}),
    ))
}

impl History {
    fn select(&self, query: &Value) -> Vec<Entry> {
        let n = query["n"].as_u64().map(|n| n as usize);
        match query["hist_access_type"].as_str().unwrap_or("tail") {
            "range" => {
                let session = query["session"].as_i64().unwrap_or(0);
                // 0 means the current session; negative numbers mean earlier ones (none kept).
                if session != 0 && session != SESSION {
                    return Vec::new();
                }
                let start = query["start"].as_u64().unwrap_or(0) as usize;
                let stop = query["stop"].as_u64().map(|s| s as usize);
                self.entries
                    .iter()
                    .filter(|e| e.line >= start && stop.is_none_or(|stop| e.line < stop))
                    .cloned()
                    .collect()
            }
            "search" => {
                let pattern = query["pattern"].as_str().unwrap_or("*");
                let unique = query["unique"].as_bool().unwrap_or(false);
                let mut found: Vec<Entry> = self
                    .entries
                    .iter()
                    .filter(|e| glob_match(pattern, &e.input))
                    .cloned()
                    .collect();
                if unique {
                    // Keep the latest occurrence of each input, in order.
                    let mut seen = std::collections::HashSet::new();
                    found.reverse();
                    found.retain(|e| seen.insert(e.input.clone()));
                    found.reverse();
                }
                last(found, n)
            }
            _ => last(self.entries.clone(), Some(n.unwrap_or(10))),
        }
    }
}

fn last(mut entries: Vec<Entry>, n: Option<usize>) -> Vec<Entry> {
    if let Some(n) = n {
        let skip = entries.len().saturating_sub(n);
        entries.drain(..skip);
    }
    entries
}

/// Glob matching as IPython's history search does (SQLite's `GLOB`, case-sensitive, the pattern
/// taken as given, not wrapped in `*…*`): `*` any run, `?` one character, `[abc]`, `[a-z]` and
/// `[^a]` one character of a set. A `*` in the pattern is always the wildcard, also where the
/// text holds a `*` (`6 *` matches `6 * 7`).
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
            continue;
        }
        if pi < p.len() {
            if let Some((matched, width)) = match_one(&p[pi..], t[ti]) {
                if matched {
                    pi += width;
                    ti += 1;
                    continue;
                }
            }
        }
        match star {
            Some((star_p, star_t)) => {
                pi = star_p + 1;
                ti = star_t + 1;
                star = Some((star_p, star_t + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether the pattern's first element (a character, `?` or a `[set]`) matches `c`, and how
/// many pattern characters it spans; `None` when the pattern is empty.
fn match_one(p: &[char], c: char) -> Option<(bool, usize)> {
    match p.first()? {
        '?' => Some((true, 1)),
        '[' => match set_end(p) {
            Some(end) => Some((set_contains(&p[1..end], c), end + 1)),
            // An unclosed `[` is a literal, as in SQLite.
            None => Some((c == '[', 1)),
        },
        &literal => Some((c == literal, 1)),
    }
}

/// The index of the `]` closing the set that starts `p` (a `]` right after `[` or `[^` is a member).
fn set_end(p: &[char]) -> Option<usize> {
    let mut i = 1;
    if p.get(i) == Some(&'^') {
        i += 1;
    }
    if p.get(i) == Some(&']') {
        i += 1;
    }
    (i..p.len()).find(|&j| p[j] == ']')
}

fn set_contains(set: &[char], c: char) -> bool {
    let (negated, set) = match set.first() {
        Some('^') => (true, &set[1..]),
        _ => (false, set),
    };
    let mut found = false;
    let mut i = 0;
    while i < set.len() {
        if i + 2 < set.len() && set[i + 1] == '-' {
            found |= set[i] <= c && c <= set[i + 2];
            i += 3;
        } else {
            found |= set[i] == c;
            i += 1;
        }
    }
    found != negated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(inputs: &[&str]) -> History {
        History {
            entries: inputs
                .iter()
                .enumerate()
                .map(|(i, input)| Entry {
                    line: i + 1,
                    input: input.to_string(),
                    output: None,
                })
                .collect(),
        }
    }

    fn inputs(found: Vec<Entry>) -> Vec<String> {
        found.into_iter().map(|e| e.input).collect()
    }

    #[test]
    fn globs_match_like_ipython() {
        assert!(glob_match("6*7", "6*7"));
        assert!(glob_match("*len*", "v.len()"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("6*7", "1 + 1"));
        assert!(glob_match("*", ""));
        assert!(glob_match("6 *", "6 * 7"));
        assert!(glob_match("6 * 7", "6 * 7"));
        assert!(!glob_match("6 *", "16 * 7"));
        assert!(glob_match("[0-9] ? [^a]", "6 * 7"));
        assert!(!glob_match("[a-z]*", "6 * 7"));
        assert!(glob_match("a[]]b", "a]b"));
    }

    #[test]
    fn tail_range_and_search_select_entries() {
        let h = history(&["a", "6*7", "b", "6*7", "c"]);
        assert_eq!(
            inputs(h.select(&json!({"hist_access_type": "tail", "n": 2}))),
            ["6*7", "c"]
        );
        assert_eq!(
            inputs(h.select(
                &json!({"hist_access_type": "range", "session": 1, "start": 2, "stop": 3})
            )),
            ["6*7"]
        );
        assert_eq!(
            inputs(
                h.select(&json!({"hist_access_type": "search", "pattern": "6*7", "unique": true}))
            ),
            ["6*7"]
        );
        assert_eq!(
            h.select(&json!({"hist_access_type": "search", "pattern": "*", "n": 3}))
                .len(),
            3
        );
        assert!(h
            .select(&json!({"hist_access_type": "range", "session": -1, "start": 1}))
            .is_empty());
    }
}
