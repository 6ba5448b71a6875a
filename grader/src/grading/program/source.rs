//! A submission written out as one Rust program, with a map from the program's lines back to
//! the cells and tests they came from.
//!
//! Layout of the program:
//!
//! ```text
//! #![forbid(unsafe_code)]                 crate attributes, `use orm::prelude::*;`
//! <items of every cell, notebook order>   the last definition of each name only
//! fn main() {
//!     let mut __grader_program = Program::start();
//!     let mut __grader_slot_<cell>_<var> = None;      one per variable a later cell reads
//!     __grader_program.cell(<index>, || { take; statements; show the value; store; Ok(()) });
//!     __grader_program.test(<n>, || { let _ = { <hidden test> }; Ok(()) });
//!     __grader_program.finish();
//! }
//! ```
//!
//! Learner fragments are copied byte for byte, each starting on a line of its own at its own
//! column, so rustc's places map back to the cell's line and column. Notebook semantics this
//! keeps: cells run in order and a failing cell does not stop the next; an item keeps its last
//! definition; a variable is carried to the cells and tests that read it (moved into a cell's
//! closure and stored back at its end). What differs from a kernel session is listed in
//! grader/README.md ("The program engine").

use crate::grading::analysis;
use crate::grading::program::scan;
use proc_macro2::LineColumn;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use syn::spanned::Spanned;

/// A piece of a cell copied into the program: its text and where it starts in the cell.
#[derive(Debug, Clone)]
pub struct Fragment {
    /// The text.
    pub text: String,
    /// 1-based line in the cell.
    pub line: usize,
    /// 0-based column (in characters) of its first character.
    pub column: usize,
}

/// What identifies an item for "the last definition wins".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ItemKey {
    /// Functions, types, traits, constants, modules, `macro_rules!`: by name.
    Named(String),
    /// `impl` blocks: by their header (`impl Display for Book`).
    Impl(String),
    /// `use` items: by their text (identical ones are written once).
    Use(String),
}

/// An item of a cell, hoisted to the top of the program.
#[derive(Debug, Clone)]
pub struct Item {
    /// How later definitions replace it (`None`: never replaced).
    pub key: Option<ItemKey>,
    /// Its text and place.
    pub fragment: Fragment,
}

/// A learner cell, parsed.
#[derive(Debug, Clone)]
pub struct ParsedCell {
    /// The cell's index in the notebook.
    pub index: usize,
    /// The cell's source.
    pub source: String,
    /// Its items, hoisted to the top of the program.
    pub items: Vec<Item>,
    /// Its statements, in order.
    pub statements: Vec<Fragment>,
    /// The final expression, whose value a notebook shows.
    pub value: Option<Fragment>,
    /// Variables its top-level `let`s bind.
    pub bindings: BTreeSet<String>,
    /// Identifiers it reads from outside itself.
    pub free: BTreeSet<String>,
    /// Why it cannot be part of the program at all.
    pub unusable: Option<Unusable>,
}

/// A cell that cannot be part of the program, and where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    /// orm-eval's name for the error: `CommandRejected` (a `:command` or `!shell` line, as the
    /// kernel refuses them) or `CompileError` (does not parse, or a refused construct).
    pub kind: &'static str,
    /// 1-based line in the cell.
    pub line: usize,
    /// 0-based column.
    pub column: usize,
    /// What is wrong, for the learner.
    pub message: String,
}

impl ParsedCell {
    /// Parses `source` as a cell: items, statements and a final expression, as a block holds.
    pub fn parse(index: usize, source: &str) -> ParsedCell {
        let mut cell = ParsedCell {
            index,
            source: source.to_owned(),
            items: Vec::new(),
            statements: Vec::new(),
            value: None,
            bindings: BTreeSet::new(),
            free: BTreeSet::new(),
            unusable: None,
        };
        // An evcxr command line first, then what the program refuses to compile.
        let refused = scan::command_line(source)
            .map(|r| ("CommandRejected", r))
            .or_else(|| {
                scan::refusals(source)
                    .into_iter()
                    .next()
                    .map(|r| ("CompileError", r))
            });
        if let Some((kind, refusal)) = refused {
            cell.unusable = Some(Unusable {
                kind,
                line: refusal.line,
                column: refusal.column,
                message: refusal.message,
            });
            return cell;
        }
        // The cell inside braces, on lines of its own: line n of the cell is line n + 1.
        let block = match syn::parse_str::<syn::Block>(&format!("{{\n{source}\n}}")) {
            Ok(block) => block,
            Err(error) => {
                let start = error.span().start();
                cell.unusable = Some(Unusable {
                    kind: "CompileError",
                    line: start.line.saturating_sub(1).max(1),
                    column: start.column + 1,
                    message: format!("the cell does not parse as Rust: {error}"),
                });
                return cell;
            }
        };
        let text = format!("{{\n{source}\n}}");
        let last = block.stmts.len().saturating_sub(1);
        for (i, stmt) in block.stmts.iter().enumerate() {
            let fragment = fragment_of(&text, stmt.span().start(), stmt.span().end());
            match stmt {
                syn::Stmt::Item(item) if is_hoisted(item) => cell.items.push(Item {
                    key: item_key(item),
                    fragment,
                }),
                syn::Stmt::Expr(_, None) if i == last => cell.value = Some(fragment),
                syn::Stmt::Macro(mac) if i == last && mac.semi_token.is_none() => {
                    cell.value = Some(fragment)
                }
                _ => cell.statements.push(fragment),
            }
        }
        cell.bindings = analysis::top_level_bindings(source).unwrap_or_default();
        cell.free = analysis::variable_reads(&format!("{{\n{source}\n}}"));
        cell
    }
}

/// Items that live at the top of the program. A macro call in item position stays a
/// statement, as in a kernel session (DESIGN fact 3: its items do not persist).
fn is_hoisted(item: &syn::Item) -> bool {
    match item {
        syn::Item::Macro(mac) => mac.ident.is_some(),
        syn::Item::Verbatim(_) => false,
        _ => true,
    }
}

fn item_key(item: &syn::Item) -> Option<ItemKey> {
    use quote::ToTokens;
    let named = |ident: &syn::Ident| Some(ItemKey::Named(ident.to_string()));
    match item {
        syn::Item::Const(i) => named(&i.ident),
        syn::Item::Enum(i) => named(&i.ident),
        syn::Item::Fn(i) => named(&i.sig.ident),
        syn::Item::Macro(i) => i.ident.as_ref().and_then(named),
        syn::Item::Mod(i) => named(&i.ident),
        syn::Item::Static(i) => named(&i.ident),
        syn::Item::Struct(i) => named(&i.ident),
        syn::Item::Trait(i) => named(&i.ident),
        syn::Item::TraitAlias(i) => named(&i.ident),
        syn::Item::Type(i) => named(&i.ident),
        syn::Item::Union(i) => named(&i.ident),
        syn::Item::Impl(i) => {
            let mut header = i.generics.to_token_stream().to_string();
            if let Some((bang, path, _)) = &i.trait_ {
                header.push_str(if bang.is_some() { " !" } else { " " });
                header.push_str(&path.to_token_stream().to_string());
                header.push_str(" for");
            }
            header.push(' ');
            header.push_str(&i.self_ty.to_token_stream().to_string());
            Some(ItemKey::Impl(header))
        }
        syn::Item::Use(i) => Some(ItemKey::Use(i.to_token_stream().to_string())),
        _ => None,
    }
}

/// The text between two places of `text` (lines 1-based, columns in characters); the line of
/// the start is counted from the cell's first line (the braces' line is line 1).
fn fragment_of(text: &str, start: LineColumn, end: LineColumn) -> Fragment {
    let from = byte_offset(text, start);
    let to = byte_offset(text, end).max(from);
    Fragment {
        text: text[from..to].to_owned(),
        line: start.line - 1,
        column: start.column,
    }
}

fn byte_offset(text: &str, place: LineColumn) -> usize {
    let mut offset = 0;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        if number + 1 == place.line {
            return offset
                + line
                    .char_indices()
                    .nth(place.column)
                    .map_or(line.len(), |(i, _)| i);
        }
        offset += line.len();
    }
    text.len()
}

/// A hidden test as the program runs it.
#[derive(Debug, Clone)]
pub struct ProgramTest {
    /// The block, with std macros written with their full path.
    pub code: String,
    /// Identifiers it reads from outside itself.
    pub free: BTreeSet<String>,
}

/// What the program leaves out, decided round after round from the compiler's errors.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Cells (by position in the cell list) that failed to compile: they define nothing.
    pub dropped_cells: BTreeSet<usize>,
    /// Tests (by position) that failed to compile.
    pub dropped_tests: BTreeSet<usize>,
    /// Variables a cell moved away, so it cannot store them for later readers.
    pub moved: BTreeSet<(usize, String)>,
}

/// Where a line of the program came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Code of the cell at this position in the cell list; `line` is the cell's line for the
    /// first line of the region.
    Cell {
        /// The cell's position in the cell list.
        cell: usize,
        /// The cell's line of the region's first line.
        line: usize,
    },
    /// The glue around that cell (taking, showing, storing).
    CellGlue {
        /// The cell's position in the cell list.
        cell: usize,
    },
    /// Storing variable `variable` at the end of that cell.
    Store {
        /// The cell's position in the cell list.
        cell: usize,
        /// The variable stored.
        variable: String,
    },
    /// Hidden test number `test`.
    Test {
        /// The test's position in the assignment.
        test: usize,
    },
    /// The program's own frame.
    Frame,
}

/// A run of program lines with one origin.
#[derive(Debug, Clone)]
struct Region {
    first: usize,
    last: usize,
    origin: Origin,
}

/// The program's text and where its lines came from.
#[derive(Debug, Clone)]
pub struct Program {
    /// The program's source (`main.rs`).
    pub text: String,
    regions: Vec<Region>,
}

impl Program {
    /// Where program line `line` (1-based) came from.
    pub fn origin(&self, line: usize) -> Origin {
        self.regions
            .iter()
            .find(|r| r.first <= line && line <= r.last)
            .map_or(Origin::Frame, |r| match &r.origin {
                Origin::Cell { cell, line: first } => Origin::Cell {
                    cell: *cell,
                    line: first + (line - r.first),
                },
                other => other.clone(),
            })
    }
}

struct Writer {
    text: String,
    /// The line the next text starts on (1-based).
    line: usize,
    regions: Vec<Region>,
}

impl Writer {
    fn put(&mut self, text: &str, origin: Origin) {
        let lines = text.split('\n').count();
        self.regions.push(Region {
            first: self.line,
            last: self.line + lines - 1,
            origin,
        });
        self.text.push_str(text);
        self.text.push('\n');
        self.line += lines;
    }

    fn fragment(&mut self, fragment: &Fragment, cell: usize) {
        let padded = format!("{}{}", " ".repeat(fragment.column), fragment.text);
        self.put(
            &padded,
            Origin::Cell {
                cell,
                line: fragment.line,
            },
        );
    }
}

/// Which earlier cell each cell and test takes each variable from, and which stores are read.
struct Flow {
    /// Per cell position: (variable, providing cell position).
    cell_takes: BTreeMap<usize, Vec<(String, usize)>>,
    test_takes: BTreeMap<usize, Vec<(String, usize)>>,
    /// (cell position, variable) stored at the end of the cell.
    stores: BTreeSet<(usize, String)>,
}

fn flow(cells: &[ParsedCell], tests: &[ProgramTest], plan: &Plan) -> Flow {
    let mut providers: BTreeMap<String, usize> = BTreeMap::new();
    let mut flow = Flow {
        cell_takes: BTreeMap::new(),
        test_takes: BTreeMap::new(),
        stores: BTreeSet::new(),
    };
    let reads = |from: &BTreeSet<String>,
                 providers: &BTreeMap<String, usize>,
                 stores: &mut BTreeSet<(usize, String)>| {
        let mut takes = Vec::new();
        for name in from {
            if let Some(&cell) = providers.get(name) {
                if !plan.moved.contains(&(cell, name.clone())) {
                    stores.insert((cell, name.clone()));
                    takes.push((name.clone(), cell));
                }
            }
        }
        takes
    };
    for (position, cell) in cells.iter().enumerate() {
        if plan.dropped_cells.contains(&position) || cell.unusable.is_some() {
            continue;
        }
        let takes = reads(&cell.free, &providers, &mut flow.stores);
        for (name, _) in &takes {
            providers.insert(name.clone(), position);
        }
        for name in &cell.bindings {
            providers.insert(name.clone(), position);
        }
        flow.cell_takes.insert(position, takes);
    }
    for (position, test) in tests.iter().enumerate() {
        if plan.dropped_tests.contains(&position) {
            continue;
        }
        let takes = reads(&test.free, &providers, &mut flow.stores);
        flow.test_takes.insert(position, takes);
    }
    flow
}

fn slot(cell: usize, variable: &str) -> String {
    format!("{}_slot_{cell}_{variable}", scan::RESERVED_PREFIX)
}

/// Writes the program for `cells` and `tests` under `plan`.
pub fn generate(cells: &[ParsedCell], tests: &[ProgramTest], plan: &Plan) -> Program {
    let mut out = Writer {
        text: String::new(),
        line: 1,
        regions: Vec::new(),
    };
    out.put(
        "// A submission as one program, written by the grader: the learner's cells, then the\n\
         // assignment's hidden tests.\n\
         #![allow(warnings)]\n\
         #![forbid(unsafe_code)]\n\
         use orm::prelude::*;",
        Origin::Frame,
    );
    let live = |position: &usize| {
        !plan.dropped_cells.contains(position) && cells[*position].unusable.is_none()
    };
    // The last live definition of each key; `use` items once.
    let mut last_definition: BTreeMap<&ItemKey, (usize, usize)> = BTreeMap::new();
    for (position, cell) in cells.iter().enumerate().filter(|(p, _)| live(p)) {
        for (i, item) in cell.items.iter().enumerate() {
            if let Some(key) = &item.key {
                let earlier = last_definition.insert(key, (position, i));
                if matches!(key, ItemKey::Use(_)) {
                    if let Some(first) = earlier {
                        last_definition.insert(key, first);
                    }
                }
            }
        }
    }
    for (position, cell) in cells.iter().enumerate().filter(|(p, _)| live(p)) {
        let mut superseded = Vec::new();
        for (i, item) in cell.items.iter().enumerate() {
            let kept = item
                .key
                .as_ref()
                .is_none_or(|key| last_definition.get(key) == Some(&(position, i)));
            if kept {
                out.fragment(&item.fragment, position);
            } else if matches!(item.key, Some(ItemKey::Named(_))) {
                superseded.push(&item.fragment);
            }
        }
        // A definition a later cell replaces is still compiled, in a module of its own, so a
        // draft that does not compile fails its cell as it does in a notebook. (`impl` and
        // `use` items that were replaced are left out: an `impl` applies wherever it is.)
        if !superseded.is_empty() {
            out.put(
                &format!(
                    "#[allow(unused_imports, dead_code)]\nmod {}_earlier_{position} {{\nuse super::*;",
                    scan::RESERVED_PREFIX
                ),
                Origin::CellGlue { cell: position },
            );
            for fragment in superseded {
                out.fragment(fragment, position);
            }
            out.put("}", Origin::CellGlue { cell: position });
        }
    }

    let flow = flow(cells, tests, plan);
    out.put(
        "fn main() {\n\
         use ::orm_grader_harness::show::{ViaDebug as _, ViaNothing as _};\n\
         let mut __grader_program = ::orm_grader_harness::Program::start();",
        Origin::Frame,
    );
    for (cell, variable) in &flow.stores {
        out.put(
            &format!(
                "let mut {} = ::std::option::Option::None;",
                slot(*cell, variable)
            ),
            Origin::Frame,
        );
    }
    for (position, cell) in cells.iter().enumerate().filter(|(p, _)| live(p)) {
        let glue = Origin::CellGlue { cell: position };
        out.put(
            &format!(
                "__grader_program.cell({}, || -> ::orm_grader_harness::CellResult {{",
                cell.index
            ),
            glue.clone(),
        );
        for (variable, from) in &flow.cell_takes[&position] {
            out.put(
                &format!(
                    "let mut {variable} = ::orm_grader_harness::take(&mut {}, \"{variable}\", {})?;",
                    slot(*from, variable),
                    cells[*from].index
                ),
                glue.clone(),
            );
        }
        for statement in &cell.statements {
            out.fragment(statement, position);
        }
        if let Some(value) = &cell.value {
            out.put("{\nlet __grader_value =", glue.clone());
            out.fragment(value, position);
            out.put(
                ";\n::orm_grader_harness::show::print_value(\
                 (&::orm_grader_harness::show::Probe(&__grader_value)).describe());\n}",
                glue.clone(),
            );
        }
        for (stored_cell, variable) in flow.stores.iter().filter(|(c, _)| *c == position) {
            out.put(
                &format!(
                    "{} = ::std::option::Option::Some({variable});",
                    slot(*stored_cell, variable)
                ),
                Origin::Store {
                    cell: position,
                    variable: variable.clone(),
                },
            );
        }
        out.put("::std::result::Result::Ok(())\n});", glue);
    }
    for (position, test) in tests.iter().enumerate() {
        if plan.dropped_tests.contains(&position) {
            continue;
        }
        let origin = Origin::Test { test: position };
        let mut head =
            format!("__grader_program.test({position}, || -> ::orm_grader_harness::CellResult {{");
        for (variable, from) in &flow.test_takes[&position] {
            let _ = write!(
                head,
                "\nlet mut {variable} = ::orm_grader_harness::take(&mut {}, \"{variable}\", {})?;",
                slot(*from, variable),
                cells[*from].index
            );
        }
        out.put(&head, origin.clone());
        out.put(&format!("let _ = {};", test.code), origin.clone());
        out.put("::std::result::Result::Ok(())\n});", origin);
    }
    out.put("__grader_program.finish();\n}", Origin::Frame);
    Program {
        text: out.text,
        regions: out.regions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(sources: &[&str]) -> Vec<ParsedCell> {
        sources
            .iter()
            .enumerate()
            .map(|(i, s)| ParsedCell::parse(i * 2, s))
            .collect()
    }

    #[test]
    fn items_statements_and_the_value_are_told_apart() {
        let cell = ParsedCell::parse(
            3,
            "#[derive(Debug)]\npub struct A { x: i64 }\nlet a = A { x: 1 };  let b = 2;\nfn f() {}\na.x + b",
        );
        assert_eq!(cell.items.len(), 2);
        assert_eq!(cell.items[0].fragment.line, 1);
        assert!(cell.items[0].fragment.text.starts_with("#[derive(Debug)]"));
        assert_eq!(cell.statements.len(), 2);
        assert_eq!(cell.statements[1].text, "let b = 2;");
        assert_eq!(
            (cell.statements[1].line, cell.statements[1].column),
            (3, 21)
        );
        assert_eq!(cell.value.as_ref().unwrap().text, "a.x + b");
        assert_eq!(
            cell.bindings.iter().collect::<Vec<_>>(),
            [&"a".to_string(), &"b".to_string()]
        );
    }

    #[test]
    fn program_lines_map_back_to_cell_lines_and_columns() {
        let parsed = cells(&[
            "pub fn f() -> i64 {\n    1\n}",
            "let x = f();\n  let y = x + 1;",
        ]);
        let program = generate(&parsed, &[], &Plan::default());
        let line_of = |needle: &str| {
            program
                .text
                .lines()
                .position(|l| l.contains(needle))
                .unwrap()
                + 1
        };
        assert_eq!(
            program.origin(line_of("    1")),
            Origin::Cell { cell: 0, line: 2 }
        );
        let y = line_of("let y = x + 1;");
        assert_eq!(program.origin(y), Origin::Cell { cell: 1, line: 2 });
        let text_line = program.text.lines().nth(y - 1).unwrap();
        assert_eq!(text_line.find("let y"), Some(2), "the column is kept");
    }

    #[test]
    fn the_last_definition_wins_and_a_dropped_one_brings_back_the_earlier() {
        let parsed = cells(&[
            "pub fn answer() -> i64 { 1 }",
            "pub fn answer() -> i64 { 2 }\nuse std::fmt;",
            "use std::fmt;",
        ]);
        let program = generate(&parsed, &[], &Plan::default());
        assert!(
            program.text.contains(
                "mod __grader_earlier_0 {\nuse super::*;\npub fn answer() -> i64 { 1 }\n}"
            ),
            "the replaced draft is still compiled, apart: {}",
            program.text
        );
        assert_eq!(program.text.matches("{ 1 }").count(), 1);
        assert_eq!(program.text.matches("{ 2 }").count(), 1);
        assert_eq!(program.text.matches("use std::fmt;").count(), 1);
        let plan = Plan {
            dropped_cells: [1].into(),
            ..Plan::default()
        };
        let program = generate(&parsed, &[], &plan);
        assert!(program.text.contains("{ 1 }") && !program.text.contains("{ 2 }"));
        assert_eq!(program.text.matches("use std::fmt;").count(), 1);
    }

    #[test]
    fn variables_flow_to_the_cells_and_tests_that_read_them() {
        let parsed = cells(&["let n = 1;\nlet unused = 2;", "let m = n + 1;", "n * m"]);
        let tests = vec![ProgramTest {
            code: "{ assert_eq!(m, 2); }".into(),
            free: analysis::variable_reads("{ assert_eq!(m, 2); }"),
        }];
        let program = generate(&parsed, &tests, &Plan::default());
        let text = &program.text;
        assert!(text.contains("let mut __grader_slot_0_n = ::std::option::Option::None;"));
        assert!(!text.contains("__grader_slot_0_unused"), "{text}");
        // Cell 1 takes n from cell 0 and passes it on; cell 2 takes both from cell 1.
        assert!(text.contains(
            "let mut n = ::orm_grader_harness::take(&mut __grader_slot_0_n, \"n\", 0)?;"
        ));
        assert!(
            text.contains("take(&mut __grader_slot_1_n, \"n\", 2)?"),
            "{text}"
        );
        assert!(
            text.contains("take(&mut __grader_slot_1_m, \"m\", 2)?"),
            "{text}"
        );
        assert!(text.contains("__grader_slot_2_m = ::std::option::Option::Some(m);"));
        let plan = Plan {
            moved: [(2, "m".to_string())].into(),
            ..Plan::default()
        };
        let text = generate(&parsed, &tests, &plan).text;
        assert!(!text.contains("__grader_slot_2_m = "), "{text}");
    }

    #[test]
    fn unparseable_and_refused_cells_are_unusable_with_a_place() {
        let cell = ParsedCell::parse(0, "let a = 1;\nlet b = ;");
        let unusable = cell.unusable.unwrap();
        assert_eq!((unusable.kind, unusable.line), ("CompileError", 2));
        assert!(unusable.message.contains("does not parse"), "{unusable:?}");
        let cell = ParsedCell::parse(0, "fn f() -> &'static str { include_str!(\"main.rs\") }");
        assert!(cell.unusable.unwrap().message.contains("include_str"));
        let cell = ParsedCell::parse(0, "// setup\n:dep rand\nlet a = 1;");
        let unusable = cell.unusable.unwrap();
        assert_eq!((unusable.kind, unusable.line), ("CommandRejected", 2));
    }
}
