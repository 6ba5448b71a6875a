//! The teacher's solution notebook read as an assignment (exercises, hidden tests), and `assign`,
//! which makes the learner's notebook from it.

use crate::notebook::{source_lines, CellKind, Notebook};
use crate::points::Points;
use serde::Serialize;
use serde_json::{json, Value};

/// One test: `// TEST <name> (<N> points) [public] [visibility=<value>]` and the block after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenTest {
    /// The test's name (letters, digits, `_`, `-`, `.`; unique in the assignment).
    pub name: String,
    /// `metadata.grader.exercise` of its tests cell.
    pub exercise: String,
    /// Its points (fractional points are kept exactly, in hundredths).
    pub points: Points,
    /// Marked `public`: kept in the learner's notebook, which checks it (`grader check`, the
    /// exercise's check cell); still graded with the hidden ones.
    pub public: bool,
    /// When a learner on Gradescope sees the test (`visibility=…`; `visible` by default).
    pub visibility: Visibility,
    /// The block of Rust, as the teacher wrote it.
    pub code: String,
}

impl HiddenTest {
    /// The test's header line, as a teacher writes it (`// TEST name (1.5 points) public`).
    pub fn header(&self) -> String {
        let unit = if self.points == Points::whole(1) {
            "point"
        } else {
            "points"
        };
        let mut line = format!("// TEST {} ({} {unit})", self.name, self.points);
        if self.public {
            line.push_str(" public");
        }
        if self.visibility != Visibility::Visible {
            line.push_str(" visibility=");
            line.push_str(self.visibility.as_str());
        }
        line
    }
}

/// When a learner sees a test's result: Gradescope's values for a test's `visibility` in
/// `results.json` (<https://gradescope-autograders.readthedocs.io/en/latest/specs/>).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Always shown.
    #[default]
    Visible,
    /// Never shown to learners (instructors see it).
    Hidden,
    /// Shown once the due date has passed.
    AfterDueDate,
    /// Shown once the grades are published.
    AfterPublished,
}

impl Visibility {
    /// The values, as written in a test header and in `results.json`.
    pub const ALL: [Visibility; 4] = [
        Visibility::Visible,
        Visibility::Hidden,
        Visibility::AfterDueDate,
        Visibility::AfterPublished,
    ];

    /// Gradescope's spelling (`after_due_date`).
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Visible => "visible",
            Visibility::Hidden => "hidden",
            Visibility::AfterDueDate => "after_due_date",
            Visibility::AfterPublished => "after_published",
        }
    }
}

impl std::str::FromStr for Visibility {
    type Err = HeaderError;

    /// Reads Gradescope's spelling (`after_due_date`).
    ///
    /// # Errors
    /// [`HeaderError::UnknownVisibility`] for any other text.
    fn from_str(text: &str) -> Result<Visibility, HeaderError> {
        Visibility::ALL
            .into_iter()
            .find(|v| v.as_str() == text)
            .ok_or_else(|| HeaderError::UnknownVisibility {
                value: text.to_owned(),
            })
    }
}

/// What is wrong with a `// TEST` or `MANUAL` header line (its name, points and options).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HeaderError {
    /// Not `<keyword> <name> (<N> points) …` at all.
    #[error(
        "expected `{keyword} <name> (<N> points){}`, found `{keyword} {header}`",
        if *keyword == TEST_KEYWORD { " [public] [visibility=<value>]" } else { "" }
    )]
    Malformed {
        /// `// TEST` or `MANUAL`.
        keyword: &'static str,
        /// The header after its keyword.
        header: String,
    },
    /// The points are not a number of points.
    #[error("{source} in `{keyword} {header}`")]
    Points {
        /// `// TEST` or `MANUAL`.
        keyword: &'static str,
        /// The header after its keyword.
        header: String,
        /// Why the points do not read.
        source: crate::points::PointsError,
    },
    /// Negative points.
    #[error("test `{name}`: points cannot be negative")]
    NegativePoints {
        /// The test's name.
        name: String,
    },
    /// `visibility=` with a value that is not Gradescope's.
    #[error(
        "`visibility={value}`: the values are visible, hidden, after_due_date and \
         after_published (Gradescope's)"
    )]
    UnknownVisibility {
        /// The value as written.
        value: String,
    },
    /// An option after the points that is not `public` or `visibility=…`, or one given twice.
    #[error(
        "`{option}` in `{keyword} {header}`: the options after the points are `public` and \
         `visibility=<value>`, each at most once"
    )]
    UnknownOption {
        /// The option as written.
        option: String,
        /// `// TEST` or `MANUAL`.
        keyword: &'static str,
        /// The header after its keyword.
        header: String,
    },
    /// A name with characters other than letters, digits, `_`, `-` and `.`.
    #[error("test name `{name}`: use letters, digits and `_`")]
    BadName {
        /// The name as written.
        name: String,
    },
    /// A `MANUAL` header with options after its points.
    #[error("`{line}`: a manual question takes no options after its points")]
    ManualOptions {
        /// The header line.
        line: String,
    },
}

/// What is wrong inside one cell of the solution notebook: its test headers, its tests, its
/// solution regions or its `MANUAL` line. Lines count from 1.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CellError {
    /// A `// TEST` header that does not read.
    #[error("line {line}: {source}")]
    Header {
        /// The header's line.
        line: usize,
        /// What is wrong with it.
        source: HeaderError,
    },
    /// A manual cell's `MANUAL` header (its first line) that does not read.
    #[error(transparent)]
    ManualHeader(HeaderError),
    /// A manual cell whose first line is not a `MANUAL` header.
    #[error("its first line must be {expected}, found `{found}`")]
    ManualFirstLine {
        /// The header expected (code or markdown form).
        expected: &'static str,
        /// The first line found.
        found: String,
    },
    /// Code that is not blank or a comment before the first test header.
    #[error("line {line}: code before the first `// TEST <name> (<N> points)` line")]
    CodeBeforeFirstTest {
        /// The line of that code.
        line: usize,
    },
    /// A test whose code is not one `{ … }` block.
    #[error("test `{test}`: its code must be one `{{ … }}` block")]
    NotABlock {
        /// The test's name.
        test: String,
    },
    /// A tests cell without a test header.
    #[error("no `// TEST <name> (<N> points)` line")]
    NoTests,
    /// A solution region opened inside another.
    #[error("line {line}: a solution region inside another")]
    NestedRegion {
        /// The inner BEGIN line.
        line: usize,
    },
    /// A BEGIN marker followed by something other than `=> <text>`.
    #[error("line {line}: expected `{begin} => <text>`")]
    MalformedBegin {
        /// The BEGIN line.
        line: usize,
        /// The BEGIN marker of the cell's kind.
        begin: &'static str,
    },
    /// An END marker with no region open.
    #[error("line {line}: `{end}` without a BEGIN")]
    EndWithoutBegin {
        /// The END line.
        line: usize,
        /// The END marker of the cell's kind.
        end: &'static str,
    },
    /// A line that starts like a marker and is not one.
    #[error("line {line}: malformed region marker")]
    MalformedMarker {
        /// The line.
        line: usize,
    },
    /// A region never closed.
    #[error("line {line}: `{begin}` is never closed")]
    NeverClosed {
        /// The BEGIN line.
        line: usize,
        /// The BEGIN marker of the cell's kind.
        begin: &'static str,
    },
}

/// A manually graded answer (nbgrader's "manually graded answer" cell, `nbgrader.grade` and
/// `nbgrader.solution` both true): a cell of kind `manual` whose first line is
/// `// MANUAL <name> (<N> points)` in a code cell or `<!-- MANUAL <name> (<N> points) -->` in a
/// markdown cell. The learner answers in the cell; a teacher scores the answer from the review
/// sheet `grader batch` writes (`manual.csv`, `manual.html`) and `grader merge-manual` adds the
/// scores to the gradebook. Its points are not in the autograded total ([`Assignment::max_score`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualQuestion {
    /// The name in the `MANUAL` line (letters, digits, `_`, `-`, `.`; unique among the manual
    /// questions).
    pub name: String,
    /// `metadata.grader.exercise` of the cell.
    pub exercise: String,
    /// Its points (exact, in hundredths).
    pub points: Points,
    /// The cell's nbformat id, kept by `grader assign`: the learner's answer is the cell with
    /// this id (else the `manual` cell with this name in `metadata.grader.name`).
    pub cell_id: Option<String>,
    /// A code cell (else markdown).
    pub is_code: bool,
    /// The cell as the learner receives it (header line, prompt, answer regions emptied).
    pub released: String,
}

impl ManualQuestion {
    /// The learner's answer in a manual cell's `source`: the cell without its header line.
    pub fn answer_of(source: &str) -> String {
        let mut lines = source.splitn(2, '\n');
        match lines.next() {
            Some(first) if parse_manual_line(first).is_some() => {
                lines.next().unwrap_or_default().trim().to_owned()
            }
            _ => source.trim().to_owned(),
        }
    }
}

/// The header of a manual cell, `// MANUAL name (N points)` or `<!-- MANUAL name (N points) -->`,
/// as its name and points; `None` when `line` is not one, `Some(Err)` when it is one badly
/// written.
fn parse_manual_line(line: &str) -> Option<Result<(String, Points), HeaderError>> {
    let line = line.trim();
    let header = line.strip_prefix("// MANUAL ").or_else(|| {
        line.strip_prefix("<!-- MANUAL ")
            .and_then(|rest| rest.strip_suffix("-->"))
    })?;
    Some(parse_header(header, MANUAL_KEYWORD).and_then(|h| {
        if h.public || h.visibility != Visibility::Visible {
            Err(HeaderError::ManualOptions {
                line: line.to_owned(),
            })
        } else {
            Ok((h.name, h.points))
        }
    }))
}

/// A manual cell read from the solution notebook.
fn manual_question(
    cell: &crate::notebook::Cell,
    exercise: &str,
) -> Result<ManualQuestion, CellError> {
    let first = cell.source.lines().next().unwrap_or_default();
    let expected = if cell.is_code {
        "`// MANUAL <name> (<N> points)`"
    } else {
        "`<!-- MANUAL <name> (<N> points) -->`"
    };
    let (name, points) = parse_manual_line(first)
        .ok_or_else(|| CellError::ManualFirstLine {
            expected,
            found: first.to_owned(),
        })?
        .map_err(CellError::ManualHeader)?;
    let released = if cell.is_code {
        strip_regions(&cell.source, BEGIN, END, "// YOUR ANSWER HERE")
    } else {
        strip_regions(&cell.source, MD_BEGIN, MD_END, "YOUR ANSWER HERE")
    }?;
    Ok(ManualQuestion {
        name,
        exercise: exercise.to_owned(),
        points,
        cell_id: cell.id.clone(),
        is_code: cell.is_code,
        released,
    })
}

/// What the grader needs from the solution notebook.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// The solution notebook as read.
    pub notebook: Notebook,
    /// Exercise ids in the order they first appear.
    pub exercises: Vec<String>,
    /// The hidden tests, in notebook order.
    pub tests: Vec<HiddenTest>,
    /// The manually graded answers, in notebook order (not in the exercises' scores).
    pub manual: Vec<ManualQuestion>,
}

/// Why a notebook is not an assignment ([`Assignment::from_notebook`], [`assign`],
/// [`crate::grading::check::public_assignment`]); cells are numbered from 0, counting every
/// cell.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AssignmentError {
    /// A manual cell that does not read.
    #[error("manual cell {cell} ({exercise}): {source}")]
    Manual {
        /// The cell's index.
        cell: usize,
        /// Its `metadata.grader.exercise`.
        exercise: String,
        /// What is wrong in it.
        source: CellError,
    },
    /// A tests cell that does not read.
    #[error("tests cell {cell} ({exercise}): {source}")]
    Tests {
        /// The cell's index.
        cell: usize,
        /// Its `metadata.grader.exercise`.
        exercise: String,
        /// What is wrong in it.
        source: CellError,
    },
    /// A learner's check cell whose public tests (`metadata.grader.tests`) do not read.
    #[error("check cell {cell} ({exercise}): its public tests: {source}")]
    Check {
        /// The cell's index.
        cell: usize,
        /// Its `metadata.grader.exercise`.
        exercise: String,
        /// What is wrong in them.
        source: CellError,
    },
    /// A solution cell whose regions do not read.
    #[error("cell {cell}: {source}")]
    Solution {
        /// The cell's index.
        cell: usize,
        /// What is wrong in it.
        source: CellError,
    },
    /// Two manual questions with one name.
    #[error("two manual questions are named `{name}`")]
    DuplicateManual {
        /// The name.
        name: String,
    },
    /// Two hidden tests with one name.
    #[error("two hidden tests are named `{name}`")]
    DuplicateTest {
        /// The name.
        name: String,
    },
    /// No tests cell with a test (the solution notebook).
    #[error("the assignment has no hidden tests (cells with metadata.grader.kind \"tests\")")]
    NoTests,
    /// No check cell with a public test (a learner's notebook, `grader check`).
    #[error(
        "the notebook has no public tests (check cells with metadata.grader.kind \"public\", \
         written by `grader assign`)"
    )]
    NoPublicTests,
    /// A learner's check cell in the solution notebook.
    #[error(
        "cell {cell} is a learner's check cell (kind \"public\"): `grader assign` writes \
         those; mark tests `public` in a tests cell instead"
    )]
    CheckCellInSolution {
        /// The cell's index.
        cell: usize,
    },
    /// A manual cell whose `MANUAL` line was not read.
    #[error("cell {cell}: a manual cell without its `MANUAL` line")]
    ManualWithoutHeader {
        /// The cell's index.
        cell: usize,
    },
    /// A public test calling `partial!`.
    #[error(
        "cell {cell}: test `{test}` is public and calls partial!: a public test passes or \
         fails (partial credit is for hidden tests)"
    )]
    PublicPartial {
        /// The tests cell's index.
        cell: usize,
        /// The test's name.
        test: String,
    },
    /// Solution markers in a cell that is not a solution cell.
    #[error(
        "cell {cell} has solution markers but is not tagged as a solution cell; its answer \
         would be given away"
    )]
    MarkersOutsideSolution {
        /// The cell's index.
        cell: usize,
    },
}

impl Assignment {
    /// Reads the solution notebook's exercises, hidden tests and manual questions.
    ///
    /// # Errors
    /// [`AssignmentError`] naming the cell: a tests or manual cell that does not read, two
    /// tests or manual questions with one name, no hidden test at all.
    pub fn from_notebook(notebook: Notebook) -> Result<Assignment, AssignmentError> {
        let mut exercises: Vec<String> = Vec::new();
        let mut tests: Vec<HiddenTest> = Vec::new();
        let mut manual: Vec<ManualQuestion> = Vec::new();
        for cell in &notebook.cells {
            let Some(tag) = &cell.tag else { continue };
            if tag.kind == CellKind::Manual {
                let question = manual_question(cell, &tag.exercise).map_err(|source| {
                    AssignmentError::Manual {
                        cell: cell.index,
                        exercise: tag.exercise.clone(),
                        source,
                    }
                })?;
                if manual.iter().any(|q| q.name == question.name) {
                    return Err(AssignmentError::DuplicateManual {
                        name: question.name,
                    });
                }
                manual.push(question);
                continue;
            }
            if !exercises.contains(&tag.exercise) {
                exercises.push(tag.exercise.clone());
            }
            if tag.kind != CellKind::Tests {
                continue;
            }
            let found = parse_tests(&cell.source, &tag.exercise).map_err(|source| {
                AssignmentError::Tests {
                    cell: cell.index,
                    exercise: tag.exercise.clone(),
                    source,
                }
            })?;
            for test in found {
                if tests.iter().any(|t| t.name == test.name) {
                    return Err(AssignmentError::DuplicateTest { name: test.name });
                }
                tests.push(test);
            }
        }
        if tests.is_empty() {
            return Err(AssignmentError::NoTests);
        }
        Ok(Assignment {
            notebook,
            exercises,
            tests,
            manual,
        })
    }

    /// The points of every test.
    pub fn max_score(&self) -> Points {
        self.tests.iter().map(|t| t.points).sum()
    }

    /// The points of the tests of `exercise`.
    pub fn max_score_of(&self, exercise: &str) -> Points {
        self.tests
            .iter()
            .filter(|t| t.exercise == exercise)
            .map(|t| t.points)
            .sum()
    }

    /// Code cells given to the learner as they are (no `metadata.grader`), by source.
    pub fn given_code_cells(&self) -> impl Iterator<Item = &crate::notebook::Cell> {
        self.notebook
            .code_cells()
            .filter(|c| c.tag.is_none() && !c.source.trim().is_empty())
    }
}

/// Splits a tests cell into its tests. Text before the first header must be blank or comments.
///
/// # Errors
/// [`CellError`] naming the line: a header that does not read, code before the first header,
/// a test that is not one block, no test at all.
pub fn parse_tests(source: &str, exercise: &str) -> Result<Vec<HiddenTest>, CellError> {
    let mut tests = Vec::new();
    let mut current: Option<(Header, String)> = None;
    for (number, line) in source.lines().enumerate() {
        if let Some(header) = line.trim().strip_prefix("// TEST ") {
            if let Some(test) = current.take() {
                tests.push(finish_test(test, exercise)?);
            }
            let header =
                parse_header(header, TEST_KEYWORD).map_err(|source| CellError::Header {
                    line: number + 1,
                    source,
                })?;
            current = Some((header, String::new()));
            continue;
        }
        match current.as_mut() {
            Some((_, code)) => {
                code.push_str(line);
                code.push('\n');
            }
            None => {
                let trimmed = line.trim();
                if !trimmed.is_empty() && !trimmed.starts_with("//") {
                    return Err(CellError::CodeBeforeFirstTest { line: number + 1 });
                }
            }
        }
    }
    if let Some(test) = current {
        tests.push(finish_test(test, exercise)?);
    }
    if tests.is_empty() {
        return Err(CellError::NoTests);
    }
    Ok(tests)
}

fn finish_test((header, code): (Header, String), exercise: &str) -> Result<HiddenTest, CellError> {
    let code = code.trim().to_owned();
    if !(code.starts_with('{') && code.ends_with('}')) {
        return Err(CellError::NotABlock { test: header.name });
    }
    Ok(HiddenTest {
        name: header.name,
        exercise: exercise.to_owned(),
        points: header.points,
        public: header.public,
        visibility: header.visibility,
        code,
    })
}

/// What a test's header line says.
struct Header {
    name: String,
    points: Points,
    public: bool,
    visibility: Visibility,
}

/// `name (1.5 points) public visibility=after_due_date` → its [`Header`]. After the points
/// come options separated by spaces, each at most once: `public`, `visibility=<value>`.
/// `keyword` is the header's ([`TEST_KEYWORD`], [`MANUAL_KEYWORD`]), for the messages.
fn parse_header(header: &str, keyword: &'static str) -> Result<Header, HeaderError> {
    let header = header.trim();
    let bad = || HeaderError::Malformed {
        keyword,
        header: header.to_owned(),
    };
    let (name, rest) = header.trim().split_once('(').ok_or_else(bad)?;
    let name = name.trim();
    let (inside, options) = rest.split_once(')').ok_or_else(bad)?;
    let (number, unit) = inside.trim().split_once(' ').ok_or_else(bad)?;
    if !matches!(unit.trim(), "point" | "points") {
        return Err(bad());
    }
    let points: Points = number
        .trim()
        .parse()
        .map_err(|source| HeaderError::Points {
            keyword,
            header: header.to_owned(),
            source,
        })?;
    if points < Points::ZERO {
        return Err(HeaderError::NegativePoints {
            name: name.to_owned(),
        });
    }
    let mut public = false;
    let mut visibility = None;
    for option in options.split_whitespace() {
        match option.split_once('=') {
            None if option == "public" && !public => public = true,
            Some(("visibility", value)) if visibility.is_none() => {
                visibility = Some(value.parse::<Visibility>()?)
            }
            _ => {
                return Err(HeaderError::UnknownOption {
                    option: option.to_owned(),
                    keyword,
                    header: header.to_owned(),
                })
            }
        }
    }
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.');
    if !valid_name {
        return Err(HeaderError::BadName {
            name: name.to_owned(),
        });
    }
    Ok(Header {
        name: name.to_owned(),
        points,
        public,
        visibility: visibility.unwrap_or_default(),
    })
}

/// The keyword of a test's header line.
const TEST_KEYWORD: &str = "// TEST";
/// The keyword of a manual question's header line.
const MANUAL_KEYWORD: &str = "MANUAL";
const BEGIN: &str = "// BEGIN SOLUTION";
const END: &str = "// END SOLUTION";
/// The solution markers of a markdown manual cell (nbgrader's markdown cells use
/// `### BEGIN SOLUTION`; an HTML comment stays out of the rendered cell).
const MD_BEGIN: &str = "<!-- BEGIN SOLUTION -->";
const MD_END: &str = "<!-- END SOLUTION -->";

/// Replaces every `// BEGIN SOLUTION` … `// END SOLUTION` region (whole lines) with `todo!()`
/// at the region's indentation, or with the text after `=>` on the BEGIN line.
///
/// # Errors
/// [`CellError`] naming the line: a region never closed, nested, or a malformed marker.
pub fn strip_solutions(source: &str) -> Result<String, CellError> {
    strip_regions(source, BEGIN, END, "todo!()")
}

/// [`strip_solutions`] with other markers and another default replacement.
fn strip_regions(
    source: &str,
    begin: &'static str,
    end: &'static str,
    default: &str,
) -> Result<String, CellError> {
    // `<!-- BEGIN SOLUTION => text -->`: the `=>` text sits before a closing `-->`.
    let closing = begin.strip_prefix("<!--").map(|_| "-->");
    let mut out = String::with_capacity(source.len());
    let mut open: Option<(usize, String)> = None;
    for (number, line) in source.split_inclusive('\n').enumerate() {
        let trimmed = line.trim();
        let begin_rest = match closing {
            Some(close) => trimmed
                .strip_prefix(begin.trim_end_matches(close).trim_end())
                .and_then(|rest| rest.strip_suffix(close)),
            None => trimmed.strip_prefix(begin),
        };
        if let Some(rest) = begin_rest {
            if open.is_some() {
                return Err(CellError::NestedRegion { line: number + 1 });
            }
            let rest = rest.trim();
            let replacement = match rest.strip_prefix("=>") {
                Some(text) => text.trim().to_owned(),
                None if rest.is_empty() => default.to_owned(),
                None => {
                    return Err(CellError::MalformedBegin {
                        line: number + 1,
                        begin,
                    })
                }
            };
            let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
            let indent = indent.trim_end_matches(['\n', '\r']).to_owned();
            open = Some((number, format!("{indent}{replacement}")));
            continue;
        }
        if trimmed == end {
            let Some((_, replacement)) = open.take() else {
                return Err(CellError::EndWithoutBegin {
                    line: number + 1,
                    end,
                });
            };
            out.push_str(&replacement);
            if line.ends_with('\n') {
                out.push('\n');
            }
            continue;
        }
        let marker = |m: &str| m.trim_end_matches("-->").trim_end().to_owned();
        if trimmed.starts_with(&marker(end)) || trimmed.starts_with(&marker(begin)) {
            return Err(CellError::MalformedMarker { line: number + 1 });
        }
        if open.is_none() {
            out.push_str(line);
        }
    }
    if let Some((line, _)) = open {
        return Err(CellError::NeverClosed {
            line: line + 1,
            begin,
        });
    }
    Ok(out)
}

/// The learner's check cell of `exercise`'s public `tests` (made from the tests cell `raw`,
/// whose id it keeps): Rust that runs them with [`orm::check::Check`] in the kernel, and the
/// tests in the teacher's format in `metadata.grader.tests`, for `grader check`.
fn public_check_cell(
    mut raw: Value,
    cell: usize,
    exercise: &str,
    tests: &[&HiddenTest],
) -> Result<Value, AssignmentError> {
    let mut source = format!(
        "// The public tests of {exercise}: run this cell to check your answer.\n\
         // Hidden tests run when your notebook is graded.\n\
         orm::check::Check::new({exercise:?})\n"
    );
    let mut text = String::new();
    for test in tests {
        if test.code.contains("partial!") {
            return Err(AssignmentError::PublicPartial {
                cell,
                test: test.name.clone(),
            });
        }
        // The block's first line after `let _ = `, the others indented into the closure.
        let body = test.code.replace('\n', "\n        ");
        source.push_str(&format!(
            "    .test({:?}, {:?}, || {{\n        let _ = {body};\n        Ok(())\n    }})\n",
            test.name,
            test.points.as_f64()
        ));
        text.push_str(&format!("{}\n{}\n", test.header(), test.code));
    }
    source.push_str("    .run();");
    raw["source"] = source_lines(&source);
    raw["outputs"] = json!([]);
    raw["execution_count"] = Value::Null;
    raw["metadata"] =
        json!({"grader": {"kind": CellKind::Public.as_str(), "exercise": exercise, "tests": text}});
    Ok(raw)
}

/// Makes the learner's notebook: solution regions replaced, hidden tests removed (each tests
/// cell with public tests becomes the exercise's check cell), outputs cleared, and
/// `metadata.grader` reduced to kind and exercise.
///
/// # Errors
/// [`AssignmentError`] naming the cell: unbalanced solution markers, markers outside a
/// solution cell, a public test that calls `partial!`.
pub fn assign(solution: &Assignment) -> Result<Value, AssignmentError> {
    let mut notebook = solution.notebook.json.clone();
    let raw_cells = notebook["cells"].as_array().cloned().unwrap_or_default();
    let mut cells = Vec::with_capacity(raw_cells.len());
    for (raw, cell) in raw_cells.into_iter().zip(&solution.notebook.cells) {
        let mut raw = raw;
        let kind = cell.tag.as_ref().map(|t| t.kind);
        if kind == Some(CellKind::Public) {
            return Err(AssignmentError::CheckCellInSolution { cell: cell.index });
        }
        if let (Some(CellKind::Manual), Some(tag)) = (kind, &cell.tag) {
            // Names are unique and every manual cell was read by `from_notebook`.
            let name = parse_manual_line(cell.source.lines().next().unwrap_or_default())
                .and_then(Result::ok)
                .map(|(name, _)| name);
            let question = solution
                .manual
                .iter()
                .find(|q| Some(&q.name) == name.as_ref())
                .ok_or(AssignmentError::ManualWithoutHeader { cell: cell.index })?;
            raw["source"] = source_lines(&question.released);
            if cell.is_code {
                raw["outputs"] = json!([]);
                raw["execution_count"] = Value::Null;
            }
            raw["metadata"]["grader"] = json!({"kind": CellKind::Manual.as_str(), "exercise": tag.exercise, "name": question.name});
            cells.push(raw);
            continue;
        }
        if let (Some(CellKind::Tests), Some(tag)) = (kind, &cell.tag) {
            let public: Vec<&HiddenTest> = parse_tests(&cell.source, &tag.exercise)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|t| solution.tests.iter().find(|s| s.name == t.name && t.public))
                .collect();
            if !public.is_empty() {
                cells.push(public_check_cell(raw, cell.index, &tag.exercise, &public)?);
            }
            continue;
        }
        let has_markers = cell.source.contains(BEGIN) || cell.source.contains(END);
        if cell.is_code {
            if kind == Some(CellKind::Solution) {
                let stripped =
                    strip_solutions(&cell.source).map_err(|source| AssignmentError::Solution {
                        cell: cell.index,
                        source,
                    })?;
                raw["source"] = source_lines(&stripped);
            } else if has_markers {
                return Err(AssignmentError::MarkersOutsideSolution { cell: cell.index });
            }
            raw["outputs"] = json!([]);
            raw["execution_count"] = Value::Null;
        }
        if let Some(metadata) = raw.get_mut("metadata").and_then(Value::as_object_mut) {
            match &cell.tag {
                Some(tag) => {
                    metadata.insert(
                        "grader".into(),
                        json!({"kind": tag.kind.as_str(), "exercise": tag.exercise}),
                    );
                }
                None => {
                    metadata.remove("grader");
                }
            }
        }
        cells.push(raw);
    }
    notebook["cells"] = Value::Array(cells);
    Ok(notebook)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::points::PointsError;

    #[test]
    fn tests_cells_split_into_named_tests() {
        let source = "// TEST first_one (2 points)\n{\n    assert!(true);\n}\n\n// TEST second (1 point)\n{ let x = 1; }\n";
        let tests = parse_tests(source, "ex1").unwrap();
        assert_eq!(tests.len(), 2);
        assert_eq!(tests[0].name, "first_one");
        assert_eq!(tests[0].points, Points::whole(2));
        assert_eq!(tests[0].code, "{\n    assert!(true);\n}");
        assert_eq!(tests[1].points, Points::whole(1));
        assert_eq!(tests[1].exercise, "ex1");
    }

    #[test]
    fn headers_take_fractional_points_public_and_visibility() {
        let source = "// TEST a (1.5 points) public visibility=after_due_date\n{}\n// TEST b (0.25 point)\n{}\n// TEST c (2 points) visibility=hidden\n{}";
        let tests = parse_tests(source, "ex1").unwrap();
        assert_eq!(tests[0].points.to_string(), "1.5");
        assert!(tests[0].public);
        assert_eq!(tests[0].visibility, Visibility::AfterDueDate);
        assert_eq!(tests[1].points.to_string(), "0.25");
        assert!(!tests[1].public);
        assert_eq!(tests[1].visibility, Visibility::Visible);
        assert_eq!(tests[2].visibility, Visibility::Hidden);
        let error = parse_tests("// TEST a (1 point) visibility=later\n{}", "e").unwrap_err();
        assert_eq!(
            error,
            CellError::Header {
                line: 1,
                source: HeaderError::UnknownVisibility {
                    value: "later".into()
                }
            }
        );
        let text = error.to_string();
        assert!(
            text.contains("`visibility=later`") && text.contains("after_published"),
            "{text}"
        );
        let header_error = |source: &str| match parse_tests(source, "e").unwrap_err() {
            CellError::Header { line: 1, source } => source,
            other => panic!("{other:?}"),
        };
        let error = header_error("// TEST a (1 point) secret\n{}");
        assert!(
            matches!(&error, HeaderError::UnknownOption { option, keyword: "// TEST", .. } if option == "secret"),
            "{error:?}"
        );
        let error = header_error("// TEST a (1 point) public public\n{}");
        assert!(
            matches!(&error, HeaderError::UnknownOption { option, .. } if option == "public"),
            "{error:?}"
        );
        assert!(error.to_string().contains("each at most once"), "{error}");
        let error = header_error("// TEST a (1.234 points)\n{}");
        assert!(
            matches!(&error, HeaderError::Points { source: PointsError::NotANumber { text }, .. } if text == "1.234"),
            "{error:?}"
        );
        assert!(error.to_string().contains("at most two places"), "{error}");
    }

    #[test]
    fn malformed_test_headers_are_refused() {
        let error = |source: &str| parse_tests(source, "e").unwrap_err();
        assert!(matches!(
            error("// TEST x (two points)\n{}"),
            CellError::Header {
                line: 1,
                source: HeaderError::Points { .. }
            }
        ));
        assert_eq!(
            error("{}\n// TEST x 2 points\n{}"),
            CellError::CodeBeforeFirstTest { line: 1 }
        );
        assert_eq!(
            error("// a comment\n// TEST x 2 points\n{}"),
            CellError::Header {
                line: 2,
                source: HeaderError::Malformed {
                    keyword: "// TEST",
                    header: "x 2 points".into()
                }
            }
        );
        assert_eq!(
            error("// TEST (2 points)\n{}"),
            CellError::Header {
                line: 1,
                source: HeaderError::BadName { name: "".into() }
            }
        );
        assert_eq!(
            error("// TEST x (-2 points)\n{}"),
            CellError::Header {
                line: 1,
                source: HeaderError::NegativePoints { name: "x".into() }
            }
        );
        assert_eq!(
            error("// TEST x (2 points)\nassert!(true);"),
            CellError::NotABlock { test: "x".into() }
        );
        assert_eq!(
            error("let a = 1;\n// TEST x (2 points)\n{}"),
            CellError::CodeBeforeFirstTest { line: 1 }
        );
        assert_eq!(error("// nothing here"), CellError::NoTests);
    }

    #[test]
    fn solution_regions_become_todo_or_the_given_text() {
        let source = "fn f() -> i32 {\n    // BEGIN SOLUTION\n    42\n    // END SOLUTION\n}\nstruct S {\n  // BEGIN SOLUTION => // your fields here\n  a: i32,\n  // END SOLUTION\n}";
        assert_eq!(
            strip_solutions(source).unwrap(),
            "fn f() -> i32 {\n    todo!()\n}\nstruct S {\n  // your fields here\n}"
        );
    }

    #[test]
    fn unbalanced_regions_are_errors() {
        let error = |source: &str| strip_solutions(source).unwrap_err();
        assert_eq!(
            error("// BEGIN SOLUTION\nx"),
            CellError::NeverClosed {
                line: 1,
                begin: BEGIN
            }
        );
        assert_eq!(
            error("x\n// END SOLUTION\n"),
            CellError::EndWithoutBegin { line: 2, end: END }
        );
        assert_eq!(
            error("// BEGIN SOLUTION\n// BEGIN SOLUTION\n// END SOLUTION"),
            CellError::NestedRegion { line: 2 }
        );
        assert_eq!(
            error("// BEGIN SOLUTION oops\n// END SOLUTION"),
            CellError::MalformedBegin {
                line: 1,
                begin: BEGIN
            }
        );
        assert_eq!(
            error("x\n// END SOLUTION here"),
            CellError::MalformedMarker { line: 2 }
        );
        assert_eq!(
            error("// BEGIN SOLUTION\nx").to_string(),
            "line 1: `// BEGIN SOLUTION` is never closed"
        );
    }

    fn tiny_solution() -> Assignment {
        let nb = Notebook::parse(
            r#"{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "rust-orm"}}, "cells": [
              {"cell_type": "markdown", "metadata": {}, "source": ["Intro"]},
              {"cell_type": "code", "metadata": {"grader": {"kind": "solution", "exercise": "ex1", "note": "x"}},
               "source": ["fn answer() -> i32 {\n", "    // BEGIN SOLUTION\n", "    42\n", "    // END SOLUTION\n", "}"],
               "outputs": [{"output_type": "stream", "name": "stdout", "text": "hi"}], "execution_count": 3},
              {"cell_type": "code", "metadata": {"grader": {"kind": "tests", "exercise": "ex1"}},
               "source": ["// TEST answer_is_42 (3 points)\n", "{ assert_eq!(answer(), 42); }"], "outputs": [], "execution_count": null}
            ]}"#,
        )
        .unwrap();
        Assignment::from_notebook(nb).unwrap()
    }

    #[test]
    fn assign_removes_tests_and_answers() {
        let assignment = tiny_solution();
        assert_eq!(assignment.max_score(), Points::whole(3));
        assert_eq!(assignment.exercises, ["ex1"]);
        let student = assign(&assignment).unwrap();
        let text = student.to_string();
        assert!(!text.contains("answer_is_42"), "hidden tests leaked");
        assert!(!text.contains("42"), "the answer leaked");
        let cells = student["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 2);
        assert_eq!(cells[1]["outputs"], json!([]));
        assert_eq!(cells[1]["execution_count"], Value::Null);
        assert_eq!(
            cells[1]["metadata"]["grader"],
            json!({"kind": "solution", "exercise": "ex1"})
        );
        assert_eq!(
            crate::notebook::source_text(&cells[1]["source"]),
            "fn answer() -> i32 {\n    todo!()\n}"
        );
    }

    #[test]
    fn manual_cells_are_questions_with_points_and_their_answers_emptied() {
        let nb = Notebook::parse(
            r#"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
              {"cell_type": "markdown", "id": "m1", "metadata": {"grader": {"kind": "manual", "exercise": "ex1"}},
               "source": ["<!-- MANUAL why (2.5 points) -->\n", "Why?\n", "<!-- BEGIN SOLUTION -->\n", "Because.\n", "<!-- END SOLUTION -->\n", "Thanks."]},
              {"cell_type": "code", "id": "c1", "metadata": {"grader": {"kind": "manual", "exercise": "ex2"}},
               "source": ["// MANUAL how (1 point)\n", "// BEGIN SOLUTION => // write it here\n", "fn f() {}\n", "// END SOLUTION"], "outputs": [], "execution_count": null},
              {"cell_type": "code", "metadata": {"grader": {"kind": "tests", "exercise": "ex1"}},
               "source": ["// TEST t (1 point)\n", "{}"], "outputs": [], "execution_count": null}
            ]}"#,
        )
        .unwrap();
        let assignment = Assignment::from_notebook(nb).unwrap();
        assert_eq!(
            assignment.exercises,
            ["ex1"],
            "a manual cell makes no exercise column"
        );
        assert_eq!(
            assignment.max_score(),
            Points::whole(1),
            "manual points are not autograded"
        );
        let [why, how] = &assignment.manual[..] else {
            panic!("{:?}", assignment.manual)
        };
        assert_eq!(
            (
                why.name.as_str(),
                why.points,
                why.cell_id.as_deref(),
                why.is_code
            ),
            ("why", Points::from_hundredths(250), Some("m1"), false)
        );
        assert_eq!(
            why.released,
            "<!-- MANUAL why (2.5 points) -->\nWhy?\nYOUR ANSWER HERE\nThanks."
        );
        assert_eq!(how.released, "// MANUAL how (1 point)\n// write it here");
        assert_eq!(
            ManualQuestion::answer_of("// MANUAL how (1 point)\n  my answer\n"),
            "my answer"
        );
    }

    #[test]
    fn malformed_manual_cells_are_refused_naming_the_cell() {
        let with = |source: &str| {
            let text = serde_json::json!({"nbformat": 4, "metadata": {}, "cells": [
                {"cell_type": "markdown", "metadata": {"grader": {"kind": "manual", "exercise": "ex1"}}, "source": source},
                {"cell_type": "code", "metadata": {"grader": {"kind": "tests", "exercise": "ex1"}},
                 "source": "// TEST t (1 point)\n{}", "outputs": [], "execution_count": null}
            ]});
            match Assignment::from_notebook(Notebook::parse(&text.to_string()).unwrap()) {
                Err(AssignmentError::Manual {
                    cell: 0,
                    exercise,
                    source,
                }) if exercise == "ex1" => source,
                other => panic!("{other:?}"),
            }
        };
        let error = with("Why?");
        assert_eq!(
            error,
            CellError::ManualFirstLine {
                expected: "`<!-- MANUAL <name> (<N> points) -->`",
                found: "Why?".into()
            }
        );
        let error = with("<!-- MANUAL why (two points) -->");
        assert_eq!(
            error,
            CellError::ManualHeader(HeaderError::Points {
                keyword: "MANUAL",
                header: "why (two points)".into(),
                source: PointsError::NotANumber { text: "two".into() }
            })
        );
        assert!(
            error
                .to_string()
                .contains("`two` is not a number of points")
                && error.to_string().ends_with("in `MANUAL why (two points)`"),
            "{error}"
        );
        let error = with("<!-- MANUAL why (1 point) public -->");
        assert_eq!(
            error,
            CellError::ManualHeader(HeaderError::ManualOptions {
                line: "<!-- MANUAL why (1 point) public -->".into()
            })
        );
        let error = with("<!-- MANUAL why (1 point) -->\n<!-- BEGIN SOLUTION -->\nx");
        assert_eq!(
            error,
            CellError::NeverClosed {
                line: 2,
                begin: MD_BEGIN
            }
        );
    }

    #[test]
    fn an_assignment_without_tests_is_refused() {
        let nb = Notebook::parse(r#"{"nbformat": 4, "metadata": {}, "cells": []}"#).unwrap();
        assert_eq!(
            Assignment::from_notebook(nb).unwrap_err(),
            AssignmentError::NoTests
        );
    }
}
