//! The cell that runs one hidden test, and how its verdict is read back.
//!
//! A test passes only when its cell evaluates to a verdict string carrying a random nonce made
//! for that one evaluation. The learner's code runs in the same process and can print anything
//! (fake results, evcxr's own protocol lines) and replace the panic hook, but it cannot know the
//! nonce before the test's cell is compiled, so whatever it prints can only make a test fail.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

const VERDICT_PREFIX: &str = "ORM_GRADER_VERDICT";
/// What a `partial!` error starts with in the evcxr engine (then the nonce, the fraction, the
/// message).
const PARTIAL_PREFIX: &str = "ORM_GRADER_PARTIAL";

/// A fresh unguessable token (128 bits from the OS-seeded hasher keys).
pub fn nonce() -> String {
    let mut out = String::new();
    for _ in 0..2 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        out.push_str(&format!("{:016x}", hasher.finish()));
    }
    out
}

/// The cell evaluated for a test: the test's block in a closure (so `?` works and returns an
/// error value), under `catch_unwind` (so a panic is seen even if the learner silenced the panic
/// hook), ending in the verdict string. No items are defined: evcxr would keep them (the
/// `partial!` the test may call is a macro local to the closure: it returns an error carrying
/// the nonce, the fraction and the message).
pub fn wrap(test_code: &str, nonce: &str) -> String {
    let code = qualify_test_macros(test_code, "__grader_partial");
    format!(
        r#"{{
    let __grader_outcome = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(
        || -> ::std::result::Result<(), ::std::boxed::Box<dyn ::std::error::Error>> {{
            macro_rules! __grader_partial {{
                ($fraction:expr, $($message:tt)+) => {{
                    return ::std::result::Result::Err(::std::convert::Into::into(::std::format!(
                        "{PARTIAL_PREFIX} {nonce} {{}} {{}}",
                        ($fraction) as f64,
                        ::std::format!($($message)+)
                    )))
                }};
            }}
            let _ = {code};
            ::std::result::Result::Ok(())
        }},
    ));
    match __grader_outcome {{
        ::std::result::Result::Ok(::std::result::Result::Ok(())) => {{
            ::std::string::String::from("{VERDICT_PREFIX} {nonce} passed")
        }}
        ::std::result::Result::Ok(::std::result::Result::Err(__grader_error)) => {{
            ::std::format!("{VERDICT_PREFIX} {nonce} error {{}}", __grader_error)
        }}
        ::std::result::Result::Err(__grader_panic) => {{
            let __grader_message = if let ::std::option::Option::Some(s) = __grader_panic.downcast_ref::<&str>() {{
                ::std::string::ToString::to_string(s)
            }} else if let ::std::option::Option::Some(s) = __grader_panic.downcast_ref::<::std::string::String>() {{
                ::std::clone::Clone::clone(s)
            }} else {{
                ::std::string::String::from("a panic")
            }};
            ::std::format!("{VERDICT_PREFIX} {nonce} panicked {{}}", __grader_message)
        }}
    }}
}}"#
    )
}

/// What a test's cell said about itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// It passed.
    Passed,
    /// `?` returned this error.
    Error(String),
    /// The test panicked with this message (seen by `catch_unwind`).
    Panicked(String),
    /// The test ended with `partial!(fraction, message)`.
    Partial(f64, String),
}

/// Reads the verdict from the cell's `text/plain` value; `None` unless it carries `nonce`.
pub fn read_verdict(text_plain: &str, nonce: &str) -> Option<Verdict> {
    // evcxr shows a `String` value with `Debug` (quoted, escaped).
    let text = orm_eval::unquote_debug(text_plain.trim());
    let rest = text.strip_prefix(VERDICT_PREFIX)?.strip_prefix(' ')?;
    let rest = rest.strip_prefix(nonce)?.strip_prefix(' ')?;
    if rest == "passed" {
        return Some(Verdict::Passed);
    }
    if let Some(message) = rest.strip_prefix("error ") {
        let partial = message
            .strip_prefix(PARTIAL_PREFIX)
            .and_then(|m| m.strip_prefix(' '))
            .and_then(|m| m.strip_prefix(nonce))
            .and_then(|m| m.strip_prefix(' '))
            .and_then(|m| m.split_once(' '))
            .and_then(|(fraction, why)| {
                Some(Verdict::Partial(fraction.parse().ok()?, why.to_owned()))
            });
        return Some(partial.unwrap_or_else(|| Verdict::Error(message.to_owned())));
    }
    rest.strip_prefix("panicked ")
        .map(|message| Verdict::Panicked(message.to_owned()))
}

/// Macros a test relies on. A learner's `macro_rules! assert_eq { … }` would otherwise replace
/// them inside the hidden tests (evcxr keeps a cell's macros), e.g. to make every assertion
/// vacuous; `::std::assert_eq!` names the real one.
const STD_MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "matches",
    "panic",
    "format",
    "format_args",
    "vec",
    "write",
    "writeln",
    "print",
    "println",
    "eprint",
    "eprintln",
    "unreachable",
    "todo",
    "unimplemented",
];

/// The test's code with every use of a std macro written with its full path (`::std::assert!`),
/// and `partial!` as `partial_path!` (the harness's macro, or the evcxr wrapper's own), so that
/// a learner's macro of that name is never the one called. Code that does not tokenize is
/// returned as it is (it will fail to compile anyway).
pub fn qualify_test_macros(code: &str, partial_path: &str) -> String {
    let partial: TokenStream = partial_path.parse().unwrap_or_default();
    match code.parse::<TokenStream>() {
        Ok(tokens) => qualify(tokens, &partial).to_string(),
        Err(_) => code.to_owned(),
    }
}

fn qualify(tokens: TokenStream, partial: &TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Group(group) => {
                let mut new = Group::new(group.delimiter(), qualify(group.stream(), partial));
                new.set_span(group.span());
                out.push(TokenTree::Group(new));
            }
            TokenTree::Ident(ident) => {
                let is_macro_call = matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!')
                    && matches!(tokens.get(i + 2), Some(TokenTree::Group(g)) if g.delimiter() != Delimiter::None);
                let already_a_path =
                    i >= 1 && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == ':');
                let name = ident.to_string();
                if is_macro_call && !already_a_path && name == "partial" {
                    out.extend(partial.clone());
                    continue;
                }
                if is_macro_call && !already_a_path && STD_MACROS.contains(&name.as_str()) {
                    out.extend(
                        "::std::"
                            .parse::<TokenStream>()
                            .expect("a path prefix tokenizes"),
                    );
                }
                out.push(token.clone());
            }
            // Punctuation keeps its spacing (`::`, `=>`), so the stream prints back as written.
            TokenTree::Punct(_) | TokenTree::Literal(_) => out.push(token.clone()),
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_need_the_nonce() {
        let n = "abc123";
        assert_eq!(
            read_verdict("\"ORM_GRADER_VERDICT abc123 passed\"", n),
            Some(Verdict::Passed)
        );
        assert_eq!(
            read_verdict("ORM_GRADER_VERDICT abc123 panicked boom \\n x", n),
            Some(Verdict::Panicked("boom \\n x".into()))
        );
        assert_eq!(
            read_verdict(
                "\"ORM_GRADER_VERDICT abc123 error no \\\"such\\\" table\"",
                n
            ),
            Some(Verdict::Error("no \"such\" table".into()))
        );
        assert_eq!(read_verdict("\"ORM_GRADER_VERDICT other passed\"", n), None);
        assert_eq!(
            read_verdict("\"ORM_GRADER_VERDICT abc123 passedx\"", n),
            None
        );
        assert_eq!(read_verdict("passed", n), None);
    }

    #[test]
    fn nonces_differ() {
        let a = nonce();
        let b = nonce();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn std_macros_get_their_full_path() {
        let code = "{ assert_eq!(f(), 1); let v = vec![1]; assert!(matches!(x, Some(_))); ::std::assert!(true); my_macro!(y); s.assert(1); }";
        let out = qualify_test_macros(code, "::h::partial");
        assert!(out.contains(":: std :: assert_eq !"), "{out}");
        assert!(out.contains(":: std :: vec !"), "{out}");
        assert!(out.contains(":: std :: matches !"), "{out}");
        assert!(!out.contains(":: std :: :: std"), "{out}");
        assert!(out.contains("my_macro !"), "{out}");
        assert!(out.contains("s . assert (1)"), "{out}");
        let out = qualify_test_macros(
            "{ if n < 6 { partial!(0.5, \"{}\", n); } x.partial(1); }",
            "::h::partial",
        );
        assert!(out.contains(":: h :: partial ! (0.5"), "{out}");
        assert!(out.contains("x . partial (1)"), "{out}");
    }

    #[test]
    fn partial_verdicts_need_the_nonce_too() {
        let n = "abc123";
        assert_eq!(
            read_verdict(
                "\"ORM_GRADER_VERDICT abc123 error ORM_GRADER_PARTIAL abc123 0.5 found 3 of 6\"",
                n
            ),
            Some(Verdict::Partial(0.5, "found 3 of 6".into()))
        );
        assert_eq!(
            read_verdict(
                "\"ORM_GRADER_VERDICT abc123 error ORM_GRADER_PARTIAL forged 1 x\"",
                n
            ),
            Some(Verdict::Error("ORM_GRADER_PARTIAL forged 1 x".into()))
        );
    }

    #[test]
    fn the_wrapper_carries_the_test_and_the_nonce() {
        let cell = wrap("{ assert!(1 + 1 == 2); }", "n0nce");
        assert!(cell.contains("ORM_GRADER_VERDICT n0nce passed"));
        assert!(cell.contains(":: std :: assert !"));
        assert!(cell.trim_start().starts_with('{') && cell.trim_end().ends_with('}'));
    }
}
