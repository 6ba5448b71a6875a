//! Manually graded answers (nbgrader's "manually graded answer" cells): the review sheet
//! `grader batch` writes (`manual.csv` for the scores, `manual.html` to read the answers) and
//! `grader merge-manual`, which adds the teacher's scores to the gradebook.
//!
//! The sheet's CSV columns are `learner, question, max_points, score, comment, answer`, one row
//! per learner and question; the teacher fills `score` (and `comment`, which the grader keeps
//! out of the gradebook). Points are exact ([`Points`], hundredths).

use crate::assignment::{Assignment, ManualQuestion};
use crate::cli::{exit, MergeManualArgs};
use crate::notebook::{CellKind, Notebook};
use crate::points::Points;
use crate::reports::html;
use crate::scale::gradebook::{read_gradebook, write_csv, Columns, GradebookError, Row};
use crate::FileError;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The review sheet's CSV columns, in order.
pub const SHEET_COLUMNS: [&str; 6] = [
    "learner",
    "question",
    "max_points",
    "score",
    "comment",
    "answer",
];

/// The gradebook column of a manual question (`manual: <name>`, as a test's is `ex1: <name>`).
pub fn column(question: &str) -> String {
    format!("manual: {question}")
}

/// The manual question whose gradebook column is `column`, if it is one.
pub fn question_of_column<'a>(
    assignment: &'a Assignment,
    column: &str,
) -> Option<&'a ManualQuestion> {
    let name = column.strip_prefix("manual: ")?;
    assignment.manual.iter().find(|q| q.name == name)
}

/// The points a gradebook with `columns` is out of: the autograded maximum, plus the points of
/// each manual question merged into it (`grader merge-manual`).
pub fn points_possible(assignment: &Assignment, columns: &Columns) -> Points {
    assignment.max_score()
        + columns
            .exercises
            .iter()
            .filter_map(|c| question_of_column(assignment, c))
            .map(|q| q.points)
            .sum::<Points>()
}

/// One learner's answer to one manual question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The submission's file stem, as in the gradebook's `learner` column.
    pub learner: String,
    /// The question's name ([`ManualQuestion::name`]).
    pub question: String,
    /// The cell's text without its `MANUAL` line; empty when there is none.
    pub answer: String,
    /// Why there is no answer (the notebook unreadable, the cell deleted).
    pub missing: Option<String>,
}

/// The answers of `learner`'s notebook at `path`, one per manual question of `assignment`
/// (in its order). The answer is the cell with the question's nbformat cell id, else the
/// `manual` cell whose `metadata.grader.name` is the question's name.
pub fn answers_of(assignment: &Assignment, learner: &str, path: &Path) -> Vec<Answer> {
    let notebook = Notebook::read(path);
    assignment
        .manual
        .iter()
        .map(|question| {
            let found = match &notebook {
                Ok(notebook) => find_answer(notebook, question)
                    .ok_or_else(|| "the question's cell is not in the notebook".to_owned()),
                Err(error) => Err(format!("unreadable notebook: {error}")),
            };
            let (answer, missing) = match found {
                Ok(answer) => (answer, None),
                Err(why) => (String::new(), Some(why)),
            };
            Answer {
                learner: learner.to_owned(),
                question: question.name.clone(),
                answer,
                missing,
            }
        })
        .collect()
}

fn find_answer(notebook: &Notebook, question: &ManualQuestion) -> Option<String> {
    let by_id = question
        .cell_id
        .as_ref()
        .and_then(|id| notebook.cells.iter().find(|c| c.id.as_ref() == Some(id)));
    let by_name = || {
        notebook.cells.iter().find(|c| {
            c.tag.as_ref().is_some_and(|t| t.kind == CellKind::Manual)
                && notebook.json["cells"][c.index]["metadata"]["grader"]["name"]
                    == question.name.as_str()
        })
    };
    by_id
        .or_else(by_name)
        .map(|cell| ManualQuestion::answer_of(&cell.source))
}

/// Writes the sheet's CSV: a row per answer, `score` and `comment` empty.
///
/// # Errors
/// The writer's error.
pub fn write_sheet_csv(
    out: impl Write,
    assignment: &Assignment,
    answers: &[Answer],
) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(SHEET_COLUMNS)?;
    for answer in answers {
        let points = assignment
            .manual
            .iter()
            .find(|q| q.name == answer.question)
            .map_or(Points::ZERO, |q| q.points);
        writer.write_record([
            answer.learner.as_str(),
            answer.question.as_str(),
            &points.to_string(),
            "",
            "",
            answer.answer.as_str(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// The sheet as a self-contained HTML page: a section per question (its released text and
/// points), then each learner's answer. Everything from a notebook is escaped.
pub fn sheet_html(assignment: &Assignment, answers: &[Answer]) -> String {
    let mut body = String::from("<h1>Manually graded answers</h1>\n");
    body.push_str(
        "<p>Score each answer in <code>manual.csv</code> (its <code>score</code> column), then \
         <code>grader merge-manual manual.csv gradebook.csv</code>.</p>\n",
    );
    for question in &assignment.manual {
        body.push_str(&format!(
            "<section class=\"question\" id=\"{}\">\n<h2>{} ({} of {} points)</h2>\n\
             <div class=\"cell\"><div class=\"head\">the question as given</div>\
             <pre class=\"markdown\">{}</pre></div>\n",
            html::attribute(&question.name),
            html::text(&question.name),
            html::text(&question.exercise),
            question.points,
            html::text(&question.released),
        ));
        for answer in answers.iter().filter(|a| a.question == question.name) {
            let text = match &answer.missing {
                Some(why) => format!("<p class=\"note\">no answer: {}</p>", html::text(why)),
                None if answer.answer.is_empty() => "<p class=\"note\">empty answer</p>".into(),
                None => format!("<pre>{}</pre>", html::text(&answer.answer)),
            };
            body.push_str(&format!(
                "<div class=\"cell answer\"><div class=\"head\">{}</div>{text}</div>\n",
                html::text(&answer.learner)
            ));
        }
        body.push_str("</section>\n");
    }
    html::page("Manually graded answers", &body)
}

/// Writes `manual<suffix>.csv` and `manual<suffix>.html` into `dir`; returns the CSV's path.
///
/// # Errors
/// [`FileError`] naming the folder or file that could not be made or written.
pub fn write_sheet(
    dir: &Path,
    suffix: &str,
    assignment: &Assignment,
    answers: &[Answer],
) -> Result<PathBuf, FileError> {
    std::fs::create_dir_all(dir).map_err(|source| FileError {
        action: "make",
        path: dir.to_owned(),
        source,
    })?;
    let csv_path = dir.join(format!("manual{suffix}.csv"));
    let html_path = dir.join(format!("manual{suffix}.html"));
    let mut csv_bytes = Vec::new();
    write_sheet_csv(&mut csv_bytes, assignment, answers).expect("a CSV written to memory");
    std::fs::write(&csv_path, csv_bytes).map_err(FileError::write(&csv_path))?;
    std::fs::write(&html_path, sheet_html(assignment, answers))
        .map_err(FileError::write(&html_path))?;
    Ok(csv_path)
}

/// Why a review sheet's scores do not read ([`read_scores`]); each names the sheet, and the
/// line where one row is at fault.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    /// The sheet cannot be opened.
    #[error("cannot read {}: {source}", path.display())]
    Open {
        /// The sheet.
        path: PathBuf,
        /// The CSV reader's error.
        source: csv::Error,
    },
    /// The sheet's CSV does not read.
    #[error(transparent)]
    Csv(#[from] crate::CsvError),
    /// A column of the review sheet is missing.
    #[error(
        "{}: no `{column}` column (a review sheet has {})",
        path.display(), SHEET_COLUMNS.join(", ")
    )]
    MissingColumn {
        /// The sheet.
        path: PathBuf,
        /// The column.
        column: &'static str,
    },
    /// A learner who is not in the gradebook.
    #[error("{}:{line}: learner `{learner}` is not in the gradebook", path.display())]
    UnknownLearner {
        /// The sheet.
        path: PathBuf,
        /// The row's line (from 1).
        line: u64,
        /// The learner as written.
        learner: String,
    },
    /// A question that is not a manual question of the assignment.
    #[error(
        "{}:{line}: question `{question}` is not a manual question of the assignment (they \
         are: {})",
        path.display(), questions.join(", ")
    )]
    UnknownQuestion {
        /// The sheet.
        path: PathBuf,
        /// The row's line (from 1).
        line: u64,
        /// The question as written.
        question: String,
        /// The assignment's manual questions.
        questions: Vec<String>,
    },
    /// `max_points` that is not the question's points (a sheet of another version).
    #[error(
        "{}:{line}: max_points `{found}` is not the {points} points the assignment gives \
         `{question}` (a sheet of another version of the assignment?)",
        path.display()
    )]
    MaxPoints {
        /// The sheet.
        path: PathBuf,
        /// The row's line (from 1).
        line: u64,
        /// `max_points` as written.
        found: String,
        /// The question's points in the assignment.
        points: Points,
        /// The question.
        question: String,
    },
    /// An empty score.
    #[error(
        "{}:{line}: {learner}'s answer to `{question}` is not graded yet (empty score)",
        path.display()
    )]
    NotGraded {
        /// The sheet.
        path: PathBuf,
        /// The row's line (from 1).
        line: u64,
        /// The learner.
        learner: String,
        /// The question.
        question: String,
    },
    /// A score that is not a number of points.
    #[error("{}:{line}: score of {learner}, `{question}`: {source}", path.display())]
    BadScore {
        /// The sheet.
        path: PathBuf,
        /// The row's line (from 1).
        line: u64,
        /// The learner.
        learner: String,
        /// The question.
        question: String,
        /// Why the score does not read.
        source: crate::points::PointsError,
    },
    /// A negative score.
    #[error("{}:{line}: score {score} of {learner}, `{question}` is negative", path.display())]
    Negative {
        /// The sheet.
        path: PathBuf,
        /// The row's line (from 1).
        line: u64,
        /// The learner.
        learner: String,
        /// The question.
        question: String,
        /// The score.
        score: Points,
    },
    /// A score above the question's points.
    #[error(
        "{}:{line}: score {score} of {learner}, `{question}` is above the question's \
         {points} points",
        path.display()
    )]
    AboveMax {
        /// The sheet.
        path: PathBuf,
        /// The row's line (from 1).
        line: u64,
        /// The learner.
        learner: String,
        /// The question.
        question: String,
        /// The score.
        score: Points,
        /// The question's points.
        points: Points,
    },
    /// A second row for one learner and question.
    #[error("{}:{line}: a second row for {learner}, `{question}`", path.display())]
    Duplicate {
        /// The sheet.
        path: PathBuf,
        /// The second row's line (from 1).
        line: u64,
        /// The learner.
        learner: String,
        /// The question.
        question: String,
    },
    /// No row for a learner and question.
    #[error(
        "{}: no row for {learner}, `{question}` (every learner of the gradebook needs a \
         score for every manual question)",
        path.display()
    )]
    MissingRow {
        /// The sheet.
        path: PathBuf,
        /// The learner.
        learner: String,
        /// The question.
        question: String,
    },
}

/// The teacher's scores read from a sheet: `(learner, question, score)`.
///
/// # Errors
/// [`SheetError`] naming the sheet's line: a missing column, an unknown learner (not in
/// `learners`) or question, a score that is empty (not graded yet), not a number, negative or
/// above the question's points, a `max_points` that is not the question's, a row given twice.
pub fn read_scores(
    path: &Path,
    assignment: &Assignment,
    learners: &[String],
) -> Result<Vec<(String, String, Points)>, SheetError> {
    let path = path.to_owned();
    let mut reader = csv::Reader::from_path(&path).map_err(|source| SheetError::Open {
        path: path.clone(),
        source,
    })?;
    let header = reader
        .headers()
        .map_err(crate::CsvError::at(&path))?
        .clone();
    let position = |column: &'static str| {
        header
            .iter()
            .position(|c| c == column)
            .ok_or_else(|| SheetError::MissingColumn {
                path: path.clone(),
                column,
            })
    };
    let [learner_at, question_at, max_at, score_at] =
        ["learner", "question", "max_points", "score"].map(position);
    let (learner_at, question_at, max_at, score_at) =
        (learner_at?, question_at?, max_at?, score_at?);
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut scores = Vec::new();
    for record in reader.records() {
        let record = record.map_err(crate::CsvError::at(&path))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or_default().trim();
        let (learner, question_name) = (field(learner_at), field(question_at));
        if !learners.iter().any(|l| l == learner) {
            return Err(SheetError::UnknownLearner {
                path,
                line,
                learner: learner.to_owned(),
            });
        }
        let Some(question) = assignment.manual.iter().find(|q| q.name == question_name) else {
            return Err(SheetError::UnknownQuestion {
                path,
                line,
                question: question_name.to_owned(),
                questions: assignment.manual.iter().map(|q| q.name.clone()).collect(),
            });
        };
        if field(max_at).parse::<Points>().ok() != Some(question.points) {
            return Err(SheetError::MaxPoints {
                path,
                line,
                found: field(max_at).to_owned(),
                points: question.points,
                question: question.name.clone(),
            });
        }
        let (learner, question_name) = (learner.to_owned(), question_name.to_owned());
        let text = field(score_at);
        if text.is_empty() {
            return Err(SheetError::NotGraded {
                path,
                line,
                learner,
                question: question_name,
            });
        }
        let score: Points = match text.parse() {
            Ok(score) => score,
            Err(source) => {
                return Err(SheetError::BadScore {
                    path,
                    line,
                    learner,
                    question: question_name,
                    source,
                })
            }
        };
        if score < Points::ZERO {
            return Err(SheetError::Negative {
                path,
                line,
                learner,
                question: question_name,
                score,
            });
        }
        if score > question.points {
            return Err(SheetError::AboveMax {
                path,
                line,
                learner,
                question: question_name,
                score,
                points: question.points,
            });
        }
        if !seen.insert((learner.clone(), question.name.clone())) {
            return Err(SheetError::Duplicate {
                path,
                line,
                learner,
                question: question_name,
            });
        }
        scores.push((learner, question.name.clone(), score));
    }
    for learner in learners {
        for question in &assignment.manual {
            if !seen.contains(&(learner.clone(), question.name.clone())) {
                return Err(SheetError::MissingRow {
                    path,
                    learner: learner.clone(),
                    question: question.name.clone(),
                });
            }
        }
    }
    Ok(scores)
}

/// The gradebook with a `manual: <name>` column per question (after the exercises, before
/// `total`) and the scores added to each total. Columns of an earlier merge are replaced: their
/// points leave the total first.
pub fn add_scores(
    columns: &Columns,
    rows: &[Row],
    assignment: &Assignment,
    scores: &[(String, String, Points)],
) -> (Columns, Vec<Row>) {
    let manual_columns: Vec<String> = assignment.manual.iter().map(|q| column(&q.name)).collect();
    let kept: Vec<usize> = (0..columns.exercises.len())
        .filter(|&i| !manual_columns.contains(&columns.exercises[i]))
        .collect();
    let mut exercises: Vec<String> = kept.iter().map(|&i| columns.exercises[i].clone()).collect();
    exercises.extend(manual_columns.iter().cloned());
    let new_columns = Columns {
        exercises,
        tests: columns.tests.clone(),
    };
    let rows = rows
        .iter()
        .map(|row| {
            let earlier: Points = (0..columns.exercises.len())
                .filter(|i| !kept.contains(i))
                .map(|i| row.scores[i])
                .sum();
            let mut scores_of_row: Vec<Points> = kept.iter().map(|&i| row.scores[i]).collect();
            let manual: Vec<Points> = assignment
                .manual
                .iter()
                .map(|q| {
                    scores
                        .iter()
                        .find(|(l, n, _)| *l == row.learner && *n == q.name)
                        .map_or(Points::ZERO, |(_, _, s)| *s)
                })
                .collect();
            let added: Points = manual.iter().copied().sum();
            scores_of_row.extend(manual);
            Row {
                learner: row.learner.clone(),
                scores: scores_of_row,
                total: Points::from_hundredths(
                    row.total.hundredths() - earlier.hundredths() + added.hundredths(),
                ),
                status: row.status.clone(),
                tests: row.tests.clone(),
            }
        })
        .collect();
    (new_columns, rows)
}

/// `grader merge-manual SHEET.csv GRADEBOOK.csv [-o OUT.csv]`. Nothing is written when the
/// sheet is refused; the gradebook is written to a temporary file beside the output, then
/// renamed over it.
pub fn merge_command(args: &MergeManualArgs) -> i32 {
    match merge(args) {
        Ok((output, rows)) => {
            eprintln!(
                "added the manual scores of {rows} learners: {}",
                output.display()
            );
            exit::GRADED
        }
        Err(error) => {
            eprintln!("grader merge-manual: {error}");
            error.exit_code()
        }
    }
}

/// Why `grader merge-manual` did not write the gradebook.
#[derive(Debug, thiserror::Error)]
pub enum MergeManualError {
    /// The solution notebook does not read.
    #[error(transparent)]
    Assignment(#[from] crate::ReadAssignmentError),
    /// The assignment has no manual question.
    #[error("{} has no manual questions (cells of kind \"manual\")", path.display())]
    NoManualQuestions {
        /// The solution notebook.
        path: PathBuf,
    },
    /// The gradebook does not read.
    #[error(transparent)]
    Gradebook(#[from] GradebookError),
    /// The review sheet does not read.
    #[error(transparent)]
    Sheet(#[from] SheetError),
    /// The new gradebook could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The gradebook written.
        path: PathBuf,
        /// The writer's error.
        source: std::io::Error,
    },
}

impl MergeManualError {
    /// The command's exit code ([`exit`]).
    pub fn exit_code(&self) -> i32 {
        match self {
            MergeManualError::Assignment(_) | MergeManualError::NoManualQuestions { .. } => {
                exit::BAD_ASSIGNMENT
            }
            MergeManualError::Gradebook(_) | MergeManualError::Sheet(_) => exit::BAD_INPUT,
            MergeManualError::Write { .. } => exit::CANNOT_RUN,
        }
    }
}

fn merge(args: &MergeManualArgs) -> Result<(PathBuf, usize), MergeManualError> {
    let assignment = crate::read_assignment(&args.assignment.assignment)?;
    if assignment.manual.is_empty() {
        return Err(MergeManualError::NoManualQuestions {
            path: args.assignment.assignment.clone(),
        });
    }
    let gradebook = read_gradebook(&args.gradebook)?;
    let learners: Vec<String> = gradebook.rows.iter().map(|r| r.learner.clone()).collect();
    let scores = read_scores(&args.sheet, &assignment, &learners)?;
    let (columns, rows) = add_scores(&gradebook.columns, &gradebook.rows, &assignment, &scores);
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| args.gradebook.clone());
    let cannot = |source| MergeManualError::Write {
        path: output.clone(),
        source,
    };
    let dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temporary = tempfile::NamedTempFile::new_in(dir).map_err(cannot)?;
    write_csv(&mut temporary, &columns, &rows).map_err(|e| cannot(e.into()))?;
    temporary.persist(&output).map_err(|e| cannot(e.error))?;
    Ok((output, rows.len()))
}
