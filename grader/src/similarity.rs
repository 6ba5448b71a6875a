//! `grader similarity`: which learners' answers share code, for a teacher to look at. It
//! informs; it never changes a score.
//!
//! The method is MOSS's winnowing (Schleimer, Wilkerson, Aiken, "Winnowing: local algorithms
//! for document fingerprinting", SIGMOD 2003):
//!
//! 1. Each learner's answer cells (`metadata.grader.kind = "solution"`) are tokenised with
//!    `proc-macro2` (the Rust lexer syn uses); a cell it refuses (unbalanced brackets in a
//!    broken draft) goes through [`lex`], a small lexer of our own that never fails.
//! 2. Tokens are normalised so that renaming and retyping do not hide a copy: every literal
//!    becomes `LIT`, and every name the learner declares (found with `syn`: `let` and closure
//!    bindings, parameters, functions, types, fields, constants) becomes `ID`. Names the learner
//!    only uses (the library's `session.query::<Book>()`, std's methods) stay, since a renamed
//!    copy cannot rename them and they tell independent solutions apart.
//! 3. Every run of [`K`] tokens is hashed; in each window of [`W`] consecutive hashes the
//!    smallest (the rightmost on ties) is a fingerprint. Any run of `W + K - 1` shared tokens
//!    shares at least one fingerprint (the paper's guarantee threshold); shorter runs are noise.
//! 4. Fingerprints of the code every learner was given (the assignment's starter code, MOSS's
//!    "base file") are dropped.
//! 5. A pair's similarity is the Jaccard index of the two fingerprint sets; the page also shows
//!    the share of each side's fingerprints found in the other, as MOSS does.

use crate::cli::{exit, SimilarityArgs};
use crate::notebook::{CellKind, Notebook};
use crate::reports::html::{self, text};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{Hash, Hasher};
use std::path::Path;
use syn::visit::Visit;

/// Tokens in a hashed run (MOSS's k-gram).
pub const K: usize = 5;
/// Hashes in a winnowing window.
pub const W: usize = 4;

/// One token of a cell: its normalised text and where it is in the cell's source (bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Its normalised text (identifiers and literals by kind).
    pub norm: String,
    /// Its first byte.
    pub start: usize,
    /// The byte after it.
    pub end: usize,
}

/// A learner's answer code: the answer cells (exercise and source) and their tokens.
#[derive(Debug, Clone)]
pub struct Answers {
    /// The learner (the submission's file stem).
    pub learner: String,
    /// (exercise, source, tokens), in notebook order.
    pub cells: Vec<(String, String, Vec<Token>)>,
}

impl Answers {
    /// The answer cells of `notebook`.
    pub fn of(learner: &str, notebook: &Notebook) -> Answers {
        let cells = notebook
            .cells
            .iter()
            .filter(|c| c.is_code)
            .filter_map(|c| {
                let tag = c.tag.as_ref().filter(|t| t.kind == CellKind::Solution)?;
                Some((tag.exercise.clone(), c.source.clone(), tokens(&c.source)))
            })
            .collect();
        Answers {
            learner: learner.to_owned(),
            cells,
        }
    }

    /// Every k-gram hash with the (cell, first token) it starts at.
    fn kgrams(&self) -> Vec<(u64, usize, usize)> {
        let mut out = Vec::new();
        for (cell, (_, _, tokens)) in self.cells.iter().enumerate() {
            for (at, window) in tokens.windows(K).enumerate() {
                out.push((hash_kgram(window), cell, at));
            }
        }
        out
    }
}

/// The cell's tokens, normalised: proc-macro2's, or [`lex`]'s when it refuses the cell.
pub fn tokens(source: &str) -> Vec<Token> {
    let declared = declared_names(source);
    match source.parse::<proc_macro2::TokenStream>() {
        Ok(stream) => {
            let offsets = LineOffsets::new(source);
            let mut out = Vec::new();
            flatten(stream, &offsets, &declared, &mut out);
            out
        }
        Err(_) => lex(source)
            .into_iter()
            .map(|(kind, start, end)| {
                let raw = &source[start..end];
                let norm = match kind {
                    Lexeme::Literal => "LIT".to_owned(),
                    Lexeme::Ident if declared.contains(raw) => "ID".to_owned(),
                    _ => raw.to_owned(),
                };
                Token { norm, start, end }
            })
            .collect(),
    }
}

/// Byte offsets of the starts of lines, to turn proc-macro2's (line, char column) into bytes.
struct LineOffsets<'a> {
    source: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineOffsets<'a> {
    fn new(source: &'a str) -> LineOffsets<'a> {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        LineOffsets { source, starts }
    }

    fn byte(&self, at: proc_macro2::LineColumn) -> usize {
        let start = self
            .starts
            .get(at.line.saturating_sub(1))
            .copied()
            .unwrap_or(self.source.len());
        self.source[start..]
            .char_indices()
            .nth(at.column)
            .map_or(self.source.len(), |(i, _)| start + i)
    }
}

fn flatten(
    stream: proc_macro2::TokenStream,
    offsets: &LineOffsets<'_>,
    declared: &BTreeSet<String>,
    out: &mut Vec<Token>,
) {
    use proc_macro2::{Delimiter, TokenTree};
    for tree in stream {
        let span = tree.span();
        let (start, end) = (offsets.byte(span.start()), offsets.byte(span.end()));
        match tree {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                let open_span = group.span_open();
                let close_span = group.span_close();
                if !open.is_empty() {
                    out.push(Token {
                        norm: open.into(),
                        start: offsets.byte(open_span.start()),
                        end: offsets.byte(open_span.end()),
                    });
                }
                flatten(group.stream(), offsets, declared, out);
                if !close.is_empty() {
                    out.push(Token {
                        norm: close.into(),
                        start: offsets.byte(close_span.start()),
                        end: offsets.byte(close_span.end()),
                    });
                }
            }
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                let norm = if declared.contains(&name) {
                    "ID".to_owned()
                } else {
                    name
                };
                out.push(Token { norm, start, end });
            }
            TokenTree::Punct(punct) => out.push(Token {
                norm: punct.as_char().to_string(),
                start,
                end,
            }),
            TokenTree::Literal(_) => out.push(Token {
                norm: "LIT".into(),
                start,
                end,
            }),
        }
    }
}

/// The names a cell declares, found with syn (the cell parsed as a block's statements, as the
/// grader's analysis does); by the tokens after `let`, `fn`, `struct`… when syn refuses it.
pub fn declared_names(source: &str) -> BTreeSet<String> {
    #[derive(Default)]
    struct Names(BTreeSet<String>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_pat_ident(&mut self, node: &'ast syn::PatIdent) {
            self.0.insert(node.ident.to_string());
            syn::visit::visit_pat_ident(self, node);
        }
        fn visit_signature(&mut self, node: &'ast syn::Signature) {
            self.0.insert(node.ident.to_string());
            syn::visit::visit_signature(self, node);
        }
        fn visit_item_struct(&mut self, node: &'ast syn::ItemStruct) {
            self.0.insert(node.ident.to_string());
            syn::visit::visit_item_struct(self, node);
        }
        fn visit_item_enum(&mut self, node: &'ast syn::ItemEnum) {
            self.0.insert(node.ident.to_string());
            syn::visit::visit_item_enum(self, node);
        }
        fn visit_field(&mut self, node: &'ast syn::Field) {
            if let Some(ident) = &node.ident {
                self.0.insert(ident.to_string());
            }
            syn::visit::visit_field(self, node);
        }
        fn visit_item_const(&mut self, node: &'ast syn::ItemConst) {
            self.0.insert(node.ident.to_string());
            syn::visit::visit_item_const(self, node);
        }
        fn visit_item_static(&mut self, node: &'ast syn::ItemStatic) {
            self.0.insert(node.ident.to_string());
            syn::visit::visit_item_static(self, node);
        }
        fn visit_item_type(&mut self, node: &'ast syn::ItemType) {
            self.0.insert(node.ident.to_string());
            syn::visit::visit_item_type(self, node);
        }
    }
    match syn::parse_str::<syn::Block>(&format!("{{\n{source}\n}}")) {
        Ok(block) => {
            let mut names = Names::default();
            names.visit_block(&block);
            names.0
        }
        Err(_) => {
            let lexed: Vec<&str> = lex(source)
                .into_iter()
                .filter(|(kind, _, _)| *kind == Lexeme::Ident)
                .map(|(_, start, end)| &source[start..end])
                .collect();
            let introducers = [
                "let", "mut", "fn", "struct", "enum", "const", "static", "type", "for",
            ];
            lexed
                .windows(2)
                .filter(|pair| introducers.contains(&pair[0]) && !introducers.contains(&pair[1]))
                .map(|pair| pair[1].to_owned())
                .collect()
        }
    }
}

/// What [`lex`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lexeme {
    /// An identifier.
    Ident,
    /// A literal.
    Literal,
    /// Punctuation.
    Punct,
}

/// A forgiving Rust lexer for cells proc-macro2 refuses (it refuses unbalanced brackets and
/// unterminated literals, which broken drafts have): identifiers, literals (numbers, strings,
/// raw strings, chars) and one-character punctuation, as byte ranges; comments and whitespace
/// skipped. Hand-rolled because every crate lexer we know stops at the first error, and the
/// point here is to keep going.
pub fn lex(source: &str) -> Vec<(Lexeme, usize, usize)> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let ident_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    while i < bytes.len() {
        let b = bytes[i];
        let rest = &source[i..];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if let Some(comment) = rest.strip_prefix("/*") {
            i += comment.find("*/").map_or(rest.len(), |e| e + 4);
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = rest[1..].bytes().take_while(|&c| c == b'#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let body = 2 + hashes;
            let len = rest[body..]
                .find(&close)
                .map_or(rest.len(), |e| body + e + close.len());
            out.push((Lexeme::Literal, i, i + len));
            i += len;
        } else if b == b'"' || (b == b'b' && rest[1..].starts_with('"')) {
            let open = if b == b'b' { 2 } else { 1 };
            let mut j = i + open;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(bytes.len());
            out.push((Lexeme::Literal, i, end));
            i = end;
        } else if b == b'\'' {
            // A char literal ('a', '\n', '\u{e9}') or a lifetime's quote ('a).
            let mut chars = rest[1..].chars();
            let len = match (chars.next(), chars.next()) {
                (Some('\\'), _) => rest[2..].find('\'').map(|e| e + 3),
                (Some(c), Some('\'')) => Some(2 + c.len_utf8()),
                _ => None,
            };
            match len {
                Some(len) => {
                    out.push((Lexeme::Literal, i, i + len));
                    i += len;
                }
                None => {
                    out.push((Lexeme::Punct, i, i + 1));
                    i += 1;
                }
            }
        } else if b.is_ascii_digit() {
            let mut j = i;
            while j < bytes.len() && (ident_char(bytes[j]) || bytes[j] == b'.') {
                if bytes[j] == b'.' && !bytes.get(j + 1).is_some_and(u8::is_ascii_digit) {
                    break;
                }
                j += 1;
            }
            out.push((Lexeme::Literal, i, j));
            i = j;
        } else if ident_char(b) {
            let mut j = i;
            while j < bytes.len() && ident_char(bytes[j]) {
                j += 1;
            }
            // Stay on a character boundary.
            while !source.is_char_boundary(j) {
                j += 1;
            }
            out.push((Lexeme::Ident, i, j));
            i = j;
        } else {
            let len = rest.chars().next().map_or(1, char::len_utf8);
            out.push((Lexeme::Punct, i, i + len));
            i += len;
        }
    }
    out
}

fn hash_kgram(tokens: &[Token]) -> u64 {
    // SipHash with fixed keys: the same within a run, which is all comparing needs.
    let mut hasher = std::hash::DefaultHasher::new();
    for token in tokens {
        token.norm.hash(&mut hasher);
    }
    hasher.finish()
}

/// Robust winnowing (the paper's section 4): in each window of `w` hashes the minimum, the
/// rightmost on ties, taken once per position.
pub fn winnow(hashes: &[u64], w: usize) -> BTreeSet<u64> {
    let mut picked = BTreeSet::new();
    if hashes.is_empty() {
        return picked;
    }
    if hashes.len() <= w {
        picked.insert(*hashes.iter().min().expect("not empty"));
        return picked;
    }
    for window in hashes.windows(w) {
        let (_, min) =
            window.iter().enumerate().fold(
                (0, u64::MAX),
                |best, (i, &h)| if h <= best.1 { (i, h) } else { best },
            );
        picked.insert(min);
    }
    picked
}

/// A learner's fingerprints, without the base code's.
fn fingerprints(answers: &Answers, base: &HashSet<u64>) -> BTreeSet<u64> {
    let mut all = BTreeSet::new();
    for (_, _, tokens) in &answers.cells {
        let hashes: Vec<u64> = tokens.windows(K).map(hash_kgram).collect();
        all.extend(winnow(&hashes, W));
    }
    all.retain(|h| !base.contains(h));
    all
}

/// Two learners compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// One learner's index.
    pub a: usize,
    /// The other's.
    pub b: usize,
    /// Jaccard index of the fingerprint sets (0 to 1).
    pub similarity: f64,
    /// Share of a's fingerprints also in b's, and of b's in a's.
    pub a_in_b: f64,
    /// Share of b's fingerprints also in a's.
    pub b_in_a: f64,
    /// How many fingerprints they share.
    pub shared: usize,
}

/// Every pair of learners, most similar first (then by name, for a stable page). `base` is
/// the starter code's answer cells.
pub fn rank(learners: &[Answers], base: &Answers) -> Vec<Pair> {
    let base_hashes: HashSet<u64> = base.kgrams().into_iter().map(|(h, _, _)| h).collect();
    let prints: Vec<BTreeSet<u64>> = learners
        .iter()
        .map(|l| fingerprints(l, &base_hashes))
        .collect();
    let mut pairs = Vec::new();
    for a in 0..learners.len() {
        for b in a + 1..learners.len() {
            let shared = prints[a].intersection(&prints[b]).count();
            let union = prints[a].union(&prints[b]).count();
            let share = |n: usize| {
                if n == 0 {
                    0.0
                } else {
                    shared as f64 / n as f64
                }
            };
            pairs.push(Pair {
                a,
                b,
                similarity: share(union),
                a_in_b: share(prints[a].len()),
                b_in_a: share(prints[b].len()),
                shared,
            });
        }
    }
    pairs.sort_by(|x, y| {
        y.similarity
            .total_cmp(&x.similarity)
            .then_with(|| learners[x.a].learner.cmp(&learners[y.a].learner))
            .then_with(|| learners[x.b].learner.cmp(&learners[y.b].learner))
    });
    pairs
}

/// Per cell of `answers`, the byte ranges of its tokens that start a k-gram found in `other`
/// (and not in the base), merged: what the page marks as shared.
fn shared_ranges(answers: &Answers, other: &HashSet<u64>) -> Vec<Vec<(usize, usize)>> {
    answers
        .cells
        .iter()
        .map(|(_, _, tokens)| {
            let mut covered = vec![false; tokens.len()];
            for (at, window) in tokens.windows(K).enumerate() {
                if other.contains(&hash_kgram(window)) {
                    covered[at..at + K].iter_mut().for_each(|c| *c = true);
                }
            }
            let mut ranges: Vec<(usize, usize)> = Vec::new();
            for (token, _) in tokens.iter().zip(&covered).filter(|(_, c)| **c) {
                match ranges.last_mut() {
                    // Neighbouring marked tokens make one mark.
                    Some(last) if last.1 <= token.start => last.1 = token.end,
                    _ => ranges.push((token.start, token.end)),
                }
            }
            ranges
        })
        .collect()
}

/// `source` as HTML with `ranges` marked.
fn marked(source: &str, ranges: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for &(start, end) in ranges {
        if start < at
            || end > source.len()
            || !source.is_char_boundary(start)
            || !source.is_char_boundary(end)
        {
            continue;
        }
        out.push_str(&text(&source[at..start]));
        out.push_str("<mark>");
        out.push_str(&text(&source[start..end]));
        out.push_str("</mark>");
        at = end;
    }
    out.push_str(&text(&source[at..]));
    out
}

/// The similarity page: the ranked pairs, then the top pairs' answers side by side.
pub fn similarity_html(learners: &[Answers], pairs: &[Pair], top: usize, base: &Answers) -> String {
    let base_hashes: HashSet<u64> = base.kgrams().into_iter().map(|(h, _, _)| h).collect();
    let mut body = format!(
        "<h1>Similar answers</h1>\n<p class=\"note\" id=\"never-scores\">This page informs a \
         teacher; it never changes a score. Similar code is a reason to look, not a verdict: \
         short exercises on one library have few ways to be written.</p>\n\
         <p>{} submissions, {} pairs. Answer cells are tokenised, declared names and literals \
         normalised, and compared by winnowing fingerprints (Schleimer, Wilkerson, Aiken, SIGMOD \
         2003: runs of {K} tokens, windows of {W}; any shared run of {} tokens or more is found); \
         code given in the exercises notebook is left out. Similarity is the Jaccard index of the \
         fingerprint sets.</p>\n",
        learners.len(),
        pairs.len(),
        W + K - 1
    );
    body.push_str(
        "<table id=\"pairs\"><tr><th>#</th><th>learner</th><th>learner</th>\
         <th class=\"num\">similarity</th><th class=\"num\">of the first in the second</th>\
         <th class=\"num\">of the second in the first</th></tr>\n",
    );
    for (rank, pair) in pairs.iter().take(top).enumerate() {
        body.push_str(&format!(
            "<tr class=\"pair\" data-a=\"{}\" data-b=\"{}\"><td class=\"num\"><a href=\"#pair-{}\">{}</a></td><td>{}</td><td>{}</td>\
             <td class=\"num similarity\">{}%</td><td class=\"num\">{}%</td><td class=\"num\">{}%</td></tr>\n",
            html::attribute(&learners[pair.a].learner),
            html::attribute(&learners[pair.b].learner),
            rank + 1,
            rank + 1,
            text(&learners[pair.a].learner),
            text(&learners[pair.b].learner),
            html::points(100.0 * pair.similarity),
            html::points(100.0 * pair.a_in_b),
            html::points(100.0 * pair.b_in_a),
        ));
    }
    body.push_str("</table>\n");
    for (rank, pair) in pairs
        .iter()
        .take(top)
        .enumerate()
        .filter(|(_, p)| p.shared > 0)
    {
        let (a, b) = (&learners[pair.a], &learners[pair.b]);
        let hashes = |l: &Answers| -> HashSet<u64> {
            l.kgrams()
                .into_iter()
                .map(|(h, _, _)| h)
                .filter(|h| !base_hashes.contains(h))
                .collect()
        };
        let (a_marks, b_marks) = (shared_ranges(a, &hashes(b)), shared_ranges(b, &hashes(a)));
        body.push_str(&format!(
            "<h2 id=\"pair-{}\">{}. {} and {}: {}%</h2>\n",
            rank + 1,
            rank + 1,
            text(&a.learner),
            text(&b.learner),
            html::points(100.0 * pair.similarity)
        ));
        let exercises: BTreeMap<&str, ()> = a
            .cells
            .iter()
            .chain(&b.cells)
            .map(|(e, _, _)| (e.as_str(), ()))
            .collect();
        for exercise in exercises.keys() {
            let side = |l: &Answers, marks: &[Vec<(usize, usize)>]| -> (String, bool) {
                let mut any = false;
                let html: String = l
                    .cells
                    .iter()
                    .zip(marks)
                    .filter(|((e, _, _), _)| e.as_str() == *exercise)
                    .map(|((_, source, _), ranges)| {
                        any |= !ranges.is_empty();
                        format!("<pre>{}</pre>", marked(source, ranges))
                    })
                    .collect();
                (html, any)
            };
            let (left, left_shared) = side(a, &a_marks);
            let (right, right_shared) = side(b, &b_marks);
            if !left_shared && !right_shared {
                continue;
            }
            body.push_str(&format!(
                "<h3>{}</h3>\n<div class=\"side\"><div class=\"cell\"><div class=\"head\">{}</div>{left}</div>\
                 <div class=\"cell\"><div class=\"head\">{}</div>{right}</div></div>\n",
                text(exercise),
                text(&a.learner),
                text(&b.learner)
            ));
        }
    }
    html::page("Similar answers", &body)
}

/// The learners of a folder (`*.ipynb`, as `batch` lists them); notebooks that cannot be read
/// are named in the second list.
///
/// # Errors
/// [`FileError`](crate::FileError) when the folder cannot be listed.
pub fn read_folder(dir: &Path) -> Result<(Vec<Answers>, Vec<String>), crate::FileError> {
    let paths = crate::scale::batch::list_submissions(dir).map_err(crate::FileError::read(dir))?;
    let mut learners = Vec::new();
    let mut unreadable = Vec::new();
    for path in paths {
        let learner = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match Notebook::read(&path) {
            Ok(notebook) => learners.push(Answers::of(&learner, &notebook)),
            Err(error) => unreadable.push(format!("{learner}: {error}")),
        }
    }
    Ok((learners, unreadable))
}

/// `grader similarity`.
pub fn run(args: &SimilarityArgs) -> i32 {
    let base = match crate::learner_notebook(&args.assignment.assignment) {
        Ok(json) => Answers::of(
            "(given code)",
            &Notebook::parse(&json.to_string()).expect("`assign` writes an nbformat 4 notebook"),
        ),
        Err(message) => {
            eprintln!("grader similarity: {message}");
            return exit::BAD_ASSIGNMENT;
        }
    };
    let (learners, unreadable) = match read_folder(&args.dir) {
        Ok(found) => found,
        Err(message) => {
            eprintln!("grader similarity: {message}");
            return exit::BAD_INPUT;
        }
    };
    for problem in &unreadable {
        eprintln!("grader similarity: left out {problem}");
    }
    if learners.len() < 2 {
        eprintln!(
            "grader similarity: {} holds {} readable notebook(s); comparing needs two",
            args.dir.display(),
            learners.len()
        );
        return exit::BAD_INPUT;
    }
    let pairs = rank(&learners, &base);
    let page = similarity_html(&learners, &pairs, args.top, &base);
    if let Err(message) = crate::reports::feedback::write_file(&args.output, &page) {
        eprintln!("grader similarity: {message}");
        return exit::CANNOT_RUN;
    }
    if let Some(path) = &args.csv {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut rows = vec![vec![
            "learner_a".to_owned(),
            "learner_b".to_owned(),
            "similarity".to_owned(),
            "a_in_b".to_owned(),
            "b_in_a".to_owned(),
        ]];
        rows.extend(pairs.iter().map(|p| {
            vec![
                learners[p.a].learner.clone(),
                learners[p.b].learner.clone(),
                format!("{:.4}", p.similarity),
                format!("{:.4}", p.a_in_b),
                format!("{:.4}", p.b_in_a),
            ]
        }));
        // Records of strings written to memory: the csv writer cannot fail on them.
        for row in &rows {
            writer.write_record(row).expect("a CSV written to memory");
        }
        let bytes = writer.into_inner().expect("a CSV written to memory");
        let written = crate::reports::feedback::write_file(path, &String::from_utf8_lossy(&bytes));
        if let Err(message) = written {
            eprintln!("grader similarity: {message}");
            return exit::CANNOT_RUN;
        }
    }
    eprintln!(
        "compared {} submissions ({} pairs): {}",
        learners.len(),
        pairs.len(),
        args.output.display()
    );
    exit::GRADED
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(learner: &str, source: &str) -> Answers {
        Answers {
            learner: learner.into(),
            cells: vec![("ex1".into(), source.into(), tokens(source))],
        }
    }

    #[test]
    fn declared_names_and_literals_are_normalised() {
        let norm: Vec<String> = tokens("let total = price * 2; total.max(1)")
            .into_iter()
            .map(|t| t.norm)
            .collect();
        assert_eq!(
            norm,
            ["let", "ID", "=", "price", "*", "LIT", ";", "ID", ".", "max", "(", "LIT", ")"]
        );
    }

    #[test]
    fn an_unbalanced_cell_is_lexed_all_the_same() {
        let source = "fn f(x: i64) -> i64 { let y = \"a\" ; x + 'c' as i64 ";
        assert!(source.parse::<proc_macro2::TokenStream>().is_err());
        let toks = tokens(source);
        assert_eq!(toks.iter().filter(|t| t.norm == "LIT").count(), 2);
        assert!(toks.iter().any(|t| t.norm == "ID"), "f, x, y are declared");
        assert_eq!(&source[toks[0].start..toks[0].end], "fn");
    }

    #[test]
    fn winnowing_keeps_a_minimum_per_window() {
        let picked = winnow(&[5, 3, 8, 1, 9, 9, 2], 3);
        assert_eq!(picked, BTreeSet::from([3, 1, 2]));
    }

    #[test]
    fn a_renamed_copy_ranks_above_an_independent_answer() {
        let original = "fn total(items: &[i64]) -> i64 {\n    let mut sum = 0;\n    for item in items {\n        if *item > 10 { sum += item * 2; }\n    }\n    sum\n}";
        let renamed = "fn add_up(values: &[i64]) -> i64 {\n    let mut acc = 1;\n    for v in values {\n        if *v > 99 { acc += v * 3; }\n    }\n    acc\n}";
        let other = "fn total(items: &[i64]) -> i64 {\n    items.iter().filter(|i| **i > 10).map(|i| i * 2).sum()\n}";
        let learners = [
            answers("a", original),
            answers("b", renamed),
            answers("c", other),
        ];
        let base = answers("base", "fn total(items: &[i64]) -> i64 {\n    todo!()\n}");
        let pairs = rank(&learners, &base);
        assert_eq!((pairs[0].a, pairs[0].b), (0, 1));
        assert_eq!(pairs[0].similarity, 1.0);
        assert!(pairs[1].similarity < 0.3, "{pairs:?}");
        let page = similarity_html(&learners, &pairs, 10, &base);
        assert!(page.contains("never changes a score"));
        assert!(page.contains("<mark>"));
    }
}
