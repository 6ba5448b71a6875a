//! The teacher's class report (`grader report`): one self-contained HTML page with the score
//! histogram, each hidden test's pass rate (lowest first: the test that sinks the class), each
//! exercise's mean and median, the slowest submissions and the failing ones — what nbgrader's
//! per-question statistics (nbgrader #235, #938) ask for.
//!
//! It reads what `grader batch` writes: the folder of JSON reports (`--results-dir`, schema
//! `orm-grader/1`, everything known) or a gradebook CSV (scores per exercise; pass rates need
//! `--per-test` columns, whose maxima come from the assignment; no timings). Charts are SVG
//! drawn by `plotters` (SVG backend, its built-in text layout: no system font is read, the
//! browser draws the text).

use crate::cli::{exit, ReportArgs};
use crate::reports::feedback::as_points;
use crate::reports::html::{self, text};
use crate::scale::gradebook::{read_gradebook, Columns};
use plotters::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One learner's results as the report uses them.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnerResult {
    /// The submission's file stem.
    pub learner: String,
    /// False when the submission could not be graded (`status` says why).
    pub graded: bool,
    /// `graded` or `not graded: why`.
    pub status: String,
    /// The total score.
    pub score: f64,
    /// Points per exercise, in [`ClassResults::exercises`] order.
    pub exercises: Vec<f64>,
    /// Points per hidden test, in [`ClassResults::tests`] order (`None`: not known).
    pub tests: Option<Vec<f64>>,
    /// Grading time in seconds (`None` from a gradebook).
    pub seconds: Option<f64>,
}

/// A class's results: the columns and every learner's row.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassResults {
    /// What was read, for the page.
    pub source: String,
    /// Exercise name and maximum points.
    pub exercises: Vec<(String, f64)>,
    /// Test column (`ex1: name`) and maximum points; empty when not known.
    pub tests: Vec<(String, f64)>,
    /// The assignment's maximum score.
    pub max_score: f64,
    /// Every learner, in the input's order.
    pub learners: Vec<LearnerResult>,
}

/// Why the class report could not be made: its input does not read, or a chart does not draw.
#[derive(Debug, thiserror::Error)]
pub enum ClassError {
    /// A file or the folder cannot be read.
    #[error(transparent)]
    File(#[from] crate::FileError),
    /// A `*.json` of the folder is not JSON.
    #[error(transparent)]
    NotJson(#[from] crate::JsonError),
    /// A report graded against other exercises or tests than the ones before it.
    #[error(
        "{} was graded against other exercises or tests than the reports before it (mixed \
         assignments in {})",
        path.display(), dir.display()
    )]
    MixedAssignments {
        /// The report.
        path: PathBuf,
        /// The folder.
        dir: PathBuf,
    },
    /// A folder without a grader report.
    #[error(
        "{} holds no grader reports (*.json with schema orm-grader/…); write them with \
         `grader batch --results-dir`",
        dir.display()
    )]
    NoReports {
        /// The folder.
        dir: PathBuf,
    },
    /// The gradebook does not read.
    #[error(transparent)]
    Gradebook(#[from] crate::scale::gradebook::GradebookError),
    /// A gradebook's per-test column that is not a hidden test of the assignment.
    #[error(
        "{}: the column `{column}` is not a hidden test of the assignment",
        path.display()
    )]
    UnknownTestColumn {
        /// The gradebook.
        path: PathBuf,
        /// The column.
        column: String,
    },
    /// plotters could not draw a chart.
    #[error("a chart could not be drawn: {0}")]
    Chart(#[from] DrawingAreaErrorKind<std::io::Error>),
}

/// Reads a folder of JSON reports or a gradebook CSV (`assignment` gives the tests' maxima for
/// a gradebook's per-test columns).
///
/// # Errors
/// [`ClassError`]: an unreadable input, a folder without reports, reports of different
/// assignments, or per-test columns the assignment does not have.
pub fn read_results(
    input: &Path,
    assignment: Option<&crate::assignment::Assignment>,
) -> Result<ClassResults, ClassError> {
    if input.is_dir() {
        read_results_dir(input)
    } else {
        read_gradebook_results(input, assignment)
    }
}

fn read_results_dir(dir: &Path) -> Result<ClassResults, ClassError> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(crate::FileError::read(dir))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut class: Option<ClassResults> = None;
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(crate::FileError::read(&path))?;
        let report: Value = match serde_json::from_str(&text) {
            Ok(report) => report,
            Err(source) => return Err(crate::JsonError { path, source }.into()),
        };
        if !report["schema"]
            .as_str()
            .is_some_and(|s| s.starts_with("orm-grader/"))
        {
            continue;
        }
        let learner = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let list = |key: &str| report[key].as_array().cloned().unwrap_or_default();
        let exercises: Vec<(String, f64)> = list("exercises")
            .iter()
            .map(|e| (string(&e["exercise"]), number(&e["max_score"])))
            .collect();
        let tests: Vec<(String, f64)> = list("tests")
            .iter()
            .map(|t| {
                (
                    Columns::test_column(&string(&t["exercise"]), &string(&t["name"])),
                    number(&t["max_points"]),
                )
            })
            .collect();
        let class = class.get_or_insert_with(|| ClassResults {
            source: format!("the JSON reports in {}", dir.display()),
            exercises: exercises.clone(),
            tests: tests.clone(),
            max_score: number(&report["max_score"]),
            learners: Vec::new(),
        });
        if class.exercises != exercises || class.tests != tests {
            return Err(ClassError::MixedAssignments {
                path,
                dir: dir.to_owned(),
            });
        }
        let error = report["error"].as_str();
        class.learners.push(LearnerResult {
            learner,
            graded: error.is_none(),
            status: error.map_or("graded".into(), |e| format!("not graded: {e}")),
            score: number(&report["score"]),
            exercises: list("exercises")
                .iter()
                .map(|e| number(&e["score"]))
                .collect(),
            tests: Some(list("tests").iter().map(|t| number(&t["points"])).collect()),
            seconds: report["timings"]["total_seconds"].as_f64(),
        });
    }
    class.ok_or_else(|| ClassError::NoReports {
        dir: dir.to_owned(),
    })
}

fn string(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or(0.0)
}

fn read_gradebook_results(
    path: &Path,
    assignment: Option<&crate::assignment::Assignment>,
) -> Result<ClassResults, ClassError> {
    let gradebook = read_gradebook(path)?;
    // A `manual: <name>` column (`grader merge-manual`) is out of the question's points.
    let max_of_exercise = |exercise: &str| {
        assignment.map_or(0.0, |a| {
            as_points(
                crate::scale::manual::question_of_column(a, exercise)
                    .map_or_else(|| a.max_score_of(exercise), |q| q.points),
            )
        })
    };
    let mut tests = Vec::new();
    for column in &gradebook.columns.tests {
        let max = assignment
            .and_then(|a| {
                a.tests
                    .iter()
                    .find(|t| Columns::test_column(&t.exercise, &t.name) == *column)
            })
            .map(|t| as_points(t.points))
            .ok_or_else(|| ClassError::UnknownTestColumn {
                path: path.to_owned(),
                column: column.clone(),
            })?;
        tests.push((column.clone(), max));
    }
    let exercises: Vec<(String, f64)> = gradebook
        .columns
        .exercises
        .iter()
        .map(|e| (e.clone(), max_of_exercise(e)))
        .collect();
    let learners = gradebook
        .rows
        .iter()
        .map(|row| LearnerResult {
            learner: row.learner.clone(),
            graded: row.status == "graded",
            status: row.status.clone(),
            score: as_points(row.total),
            exercises: row.scores.iter().copied().map(as_points).collect(),
            tests: (!tests.is_empty()).then(|| row.tests.iter().copied().map(as_points).collect()),
            seconds: None,
        })
        .collect();
    Ok(ClassResults {
        source: format!("the gradebook {}", path.display()),
        max_score: exercises.iter().map(|(_, m)| m).sum(),
        exercises,
        tests,
        learners,
    })
}

/// The median of `values` (the mean of the two middle ones for an even count); 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The mean of `values`; 0 when empty.
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// A test's pass rate over the graded learners: the share who earned all its points.
#[derive(Debug, Clone, PartialEq)]
pub struct PassRate {
    /// The test column (`ex1: name`).
    pub test: String,
    /// How many graded learners passed it.
    pub passed: usize,
    /// How many learners were graded.
    pub graded: usize,
}

impl PassRate {
    /// In percent.
    pub fn percent(&self) -> f64 {
        if self.graded == 0 {
            0.0
        } else {
            100.0 * self.passed as f64 / self.graded as f64
        }
    }
}

impl ClassResults {
    fn graded(&self) -> impl Iterator<Item = &LearnerResult> {
        self.learners.iter().filter(|l| l.graded)
    }

    /// Every test's pass rate, lowest first (ties in the assignment's order).
    pub fn pass_rates(&self) -> Vec<PassRate> {
        let mut rates: Vec<PassRate> = self
            .tests
            .iter()
            .enumerate()
            .map(|(i, (test, max))| {
                let graded: Vec<&LearnerResult> =
                    self.graded().filter(|l| l.tests.is_some()).collect();
                PassRate {
                    test: test.clone(),
                    passed: graded
                        .iter()
                        .filter(|l| {
                            l.tests
                                .as_ref()
                                .and_then(|t| t.get(i))
                                .is_some_and(|p| *p >= *max && *max > 0.0)
                        })
                        .count(),
                    graded: graded.len(),
                }
            })
            .collect();
        rates.sort_by(|a, b| a.percent().total_cmp(&b.percent()));
        rates
    }

    /// Per exercise: name, maximum, mean and median over the graded learners.
    pub fn exercise_stats(&self) -> Vec<(String, f64, f64, f64)> {
        self.exercises
            .iter()
            .enumerate()
            .map(|(i, (name, max))| {
                let scores: Vec<f64> = self
                    .graded()
                    .map(|l| l.exercises.get(i).copied().unwrap_or(0.0))
                    .collect();
                (name.clone(), *max, mean(&scores), median(&scores))
            })
            .collect()
    }

    /// The learners not graded, and those below `pass_percent` of the maximum, lowest first.
    pub fn failing(&self, pass_percent: f64) -> Vec<&LearnerResult> {
        let bar = self.max_score * pass_percent / 100.0;
        let mut failing: Vec<&LearnerResult> = self
            .learners
            .iter()
            .filter(|l| !l.graded || l.score < bar)
            .collect();
        failing.sort_by(|a, b| {
            a.graded
                .cmp(&b.graded)
                .then(a.score.total_cmp(&b.score))
                .then(a.learner.cmp(&b.learner))
        });
        failing
    }

    /// The `n` slowest graded submissions (known only from JSON reports).
    pub fn slowest(&self, n: usize) -> Vec<&LearnerResult> {
        let mut timed: Vec<&LearnerResult> = self
            .learners
            .iter()
            .filter(|l| l.seconds.is_some())
            .collect();
        timed.sort_by(|a, b| {
            b.seconds
                .unwrap_or(0.0)
                .total_cmp(&a.seconds.unwrap_or(0.0))
        });
        timed.truncate(n);
        timed
    }
}

/// The score histogram as SVG: one bar per score bin (width 1 point up to 20 points, then
/// a twentieth of the maximum), graded learners only.
///
/// # Errors
/// [`ClassError::Chart`]: plotters could not draw.
pub fn histogram_svg(class: &ClassResults) -> Result<String, ClassError> {
    let width = if class.max_score <= 20.0 {
        1.0
    } else {
        (class.max_score / 20.0).ceil()
    };
    let bins = (class.max_score / width).floor() as u32 + 1;
    let mut counts = vec![0u32; bins as usize];
    for learner in class.graded() {
        let bin = ((learner.score / width).floor() as usize).min(bins as usize - 1);
        counts[bin] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(0) + 1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 320)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Scores", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(44)
            .build_cartesian_2d((0..bins - 1).into_segmented(), 0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(if width == 1.0 {
                "points".to_owned()
            } else {
                format!("points (bins of {})", html::points(width))
            })
            .y_desc("learners")
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(bin) => html::points(f64::from(*bin) * width),
                _ => String::new(),
            })
            .draw()?;
        chart.draw_series(
            Histogram::vertical(&chart)
                .style(RGBColor(0x3b, 0x6e, 0xa8).filled())
                .margin(4)
                .data(counts.iter().enumerate().map(|(bin, &c)| (bin as u32, c))),
        )?;
        root.present()?;
    }
    Ok(svg)
}

/// Horizontal bars in percent, one per `(label, percent)`, top to bottom in the given order.
///
/// # Errors
/// [`ClassError::Chart`]: plotters could not draw.
pub fn percent_bars_svg(caption: &str, bars: &[(String, f64)]) -> Result<String, ClassError> {
    let n = bars.len().max(1) as u32;
    let label_width = bars
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 48) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (820, 70 + 26 * n)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(12 + 7 * label_width)
            .build_cartesian_2d(0.0..100.0f64, (0..n - 1).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n as usize)
            .x_desc("%")
            .y_label_formatter(&|v| match v {
                // The first bar at the top: segment i shows bars[n - 1 - i].
                SegmentValue::CenterOf(i) => (n - 1)
                    .checked_sub(*i)
                    .and_then(|k| bars.get(k as usize))
                    .map(|(l, _)| crate::reports::report::cut(l, 48))
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .draw()?;
        chart.draw_series(
            Histogram::horizontal(&chart)
                .style(RGBColor(0xc0, 0x5a, 0x2b).filled())
                .margin(3)
                .data(
                    bars.iter()
                        .enumerate()
                        .map(|(k, (_, percent))| (n - 1 - k as u32, *percent)),
                ),
        )?;
        root.present()?;
    }
    Ok(svg)
}

/// The report page.
///
/// # Errors
/// [`ClassError::Chart`]: a chart could not be drawn.
pub fn report_html(
    class: &ClassResults,
    pass_percent: f64,
    slowest: usize,
) -> Result<String, ClassError> {
    let graded: Vec<f64> = class.graded().map(|l| l.score).collect();
    let mut body = format!(
        "<h1>Class report</h1>\n<p>From {}. Statistics are over the {} graded submission(s) of {}; \
         a submission that could not be graded is listed under failing.</p>\n\
         <table id=\"summary\"><tr><th>submissions</th><th>graded</th><th class=\"num\">mean</th>\
         <th class=\"num\">median</th><th class=\"num\">maximum</th></tr>\n\
         <tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td class=\"num\">{}</td><td class=\"num\">{}</td></tr></table>\n",
        text(&class.source),
        graded.len(),
        class.learners.len(),
        class.learners.len(),
        graded.len(),
        html::points(mean(&graded)),
        html::points(median(&graded)),
        html::points(class.max_score),
    );
    body.push_str(&format!(
        "<h2>Score histogram</h2>\n<div class=\"chart\" id=\"histogram\">{}</div>\n",
        histogram_svg(class)?
    ));

    body.push_str("<h2>Exercises</h2>\n");
    let stats = class.exercise_stats();
    let bars: Vec<(String, f64)> = stats
        .iter()
        .map(|(name, max, mean, _)| {
            (
                name.clone(),
                if *max > 0.0 { 100.0 * mean / max } else { 0.0 },
            )
        })
        .collect();
    body.push_str(&format!(
        "<div class=\"chart\" id=\"exercise-chart\">{}</div>\n",
        percent_bars_svg("Mean score per exercise (% of its points)", &bars)?
    ));
    body.push_str(
        "<table id=\"exercises\"><tr><th>exercise</th><th class=\"num\">points</th>\
         <th class=\"num\">mean</th><th class=\"num\">median</th></tr>\n",
    );
    for (name, max, mean, median) in &stats {
        body.push_str(&format!(
            "<tr data-exercise=\"{}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num mean\">{}</td>\
             <td class=\"num median\">{}</td></tr>\n",
            html::attribute(name),
            text(name),
            html::points(*max),
            html::points(*mean),
            html::points(*median)
        ));
    }
    body.push_str("</table>\n");

    body.push_str("<h2>Tests: pass rates, lowest first</h2>\n");
    let rates = class.pass_rates();
    if rates.is_empty() {
        body.push_str(
            "<p class=\"note\">This gradebook has no per-test columns: grade with \
             <code>grader batch --per-test</code>, or report from the folder of JSON reports \
             (<code>--results-dir</code>).</p>\n",
        );
    } else {
        let bars: Vec<(String, f64)> = rates
            .iter()
            .map(|r| (r.test.clone(), r.percent()))
            .collect();
        body.push_str(&format!(
            "<div class=\"chart\" id=\"pass-rates\">{}</div>\n",
            percent_bars_svg("Learners passing each test (%)", &bars)?
        ));
        body.push_str(
            "<table id=\"tests\"><tr><th>test</th><th class=\"num\">passed</th>\
             <th class=\"num\">pass rate</th></tr>\n",
        );
        for rate in &rates {
            body.push_str(&format!(
                "<tr data-test=\"{}\"><td>{}</td><td class=\"num\">{}/{}</td>\
                 <td class=\"num rate\">{}%</td></tr>\n",
                html::attribute(&rate.test),
                text(&rate.test),
                rate.passed,
                rate.graded,
                html::points(rate.percent())
            ));
        }
        body.push_str("</table>\n");
    }

    body.push_str("<h2>Slowest submissions</h2>\n");
    let slow = class.slowest(slowest);
    if slow.is_empty() {
        body.push_str(
            "<p class=\"note\">A gradebook has no timings: report from the folder of JSON \
             reports (<code>grader batch --results-dir</code>) to see them.</p>\n",
        );
    } else {
        body.push_str("<table id=\"slowest\"><tr><th>learner</th><th class=\"num\">seconds</th><th class=\"num\">score</th></tr>\n");
        for learner in slow {
            body.push_str(&format!(
                "<tr data-learner=\"{}\"><td>{}</td><td class=\"num\">{:.1}</td><td class=\"num\">{}</td></tr>\n",
                html::attribute(&learner.learner),
                text(&learner.learner),
                learner.seconds.unwrap_or(0.0),
                html::points(learner.score)
            ));
        }
        body.push_str("</table>\n");
    }

    body.push_str(&format!(
        "<h2>Failing submissions</h2>\n<p>Not graded, or below {}% of {} points.</p>\n",
        html::points(pass_percent),
        html::points(class.max_score)
    ));
    let failing = class.failing(pass_percent);
    if failing.is_empty() {
        body.push_str("<p id=\"failing-none\">None.</p>\n");
    } else {
        body.push_str("<table id=\"failing\"><tr><th>learner</th><th class=\"num\">score</th><th>status</th></tr>\n");
        for learner in failing {
            body.push_str(&format!(
                "<tr data-learner=\"{}\"><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
                html::attribute(&learner.learner),
                text(&learner.learner),
                html::points(learner.score),
                text(&crate::reports::report::cut(&learner.status, 300))
            ));
        }
        body.push_str("</table>\n");
    }
    Ok(html::page("Class report", &body))
}

/// `grader report`.
pub fn run(args: &ReportArgs) -> i32 {
    // A gradebook needs the assignment for the tests' maxima; a results folder does not.
    let assignment = if args.input.is_dir() {
        None
    } else {
        match crate::read_assignment(&args.assignment.assignment) {
            Ok(assignment) => Some(assignment),
            Err(message) => {
                eprintln!("grader report: {message}");
                return exit::BAD_ASSIGNMENT;
            }
        }
    };
    let class = match read_results(&args.input, assignment.as_ref()) {
        Ok(class) => class,
        Err(message) => {
            eprintln!("grader report: {message}");
            return exit::BAD_INPUT;
        }
    };
    let page = match report_html(&class, args.pass_percent, args.slowest) {
        Ok(page) => page,
        Err(message) => {
            eprintln!("grader report: cannot draw a chart: {message}");
            return exit::CANNOT_RUN;
        }
    };
    if let Err(message) = crate::reports::feedback::write_file(&args.output, &page) {
        eprintln!("grader report: {message}");
        return exit::CANNOT_RUN;
    }
    eprintln!(
        "class report of {} submission(s): {}",
        class.learners.len(),
        args.output.display()
    );
    exit::GRADED
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learner(name: &str, score: f64, tests: [f64; 2], seconds: f64) -> LearnerResult {
        LearnerResult {
            learner: name.into(),
            graded: true,
            status: "graded".into(),
            score,
            exercises: vec![score],
            tests: Some(tests.to_vec()),
            seconds: Some(seconds),
        }
    }

    fn class() -> ClassResults {
        ClassResults {
            source: "test".into(),
            exercises: vec![("ex1".into(), 3.0)],
            tests: vec![("ex1: a".into(), 2.0), ("ex1: b".into(), 1.0)],
            max_score: 3.0,
            learners: vec![
                learner("ann", 3.0, [2.0, 1.0], 2.0),
                learner("bo", 1.0, [0.0, 1.0], 9.0),
                learner("cy", 2.0, [2.0, 0.0], 4.0),
                learner("<dee>", 0.0, [0.0, 0.0], 1.0),
            ],
        }
    }

    #[test]
    fn statistics_of_a_small_class() {
        let class = class();
        assert_eq!(median(&[3.0, 1.0, 2.0, 0.0]), 1.5);
        assert_eq!(median(&[5.0, 1.0, 2.0]), 2.0);
        let rates = class.pass_rates();
        assert_eq!(rates[0].test, "ex1: a");
        assert_eq!((rates[0].passed, rates[0].graded), (2, 4));
        assert_eq!(class.exercise_stats()[0], ("ex1".into(), 3.0, 1.5, 1.5));
        let slow: Vec<&str> = class
            .slowest(2)
            .iter()
            .map(|l| l.learner.as_str())
            .collect();
        assert_eq!(slow, ["bo", "cy"]);
        let failing: Vec<&str> = class
            .failing(50.0)
            .iter()
            .map(|l| l.learner.as_str())
            .collect();
        assert_eq!(failing, ["<dee>", "bo"]);
    }

    #[test]
    fn the_page_has_svg_charts_with_text_and_escapes_names() {
        let page = report_html(&class(), 50.0, 5).unwrap();
        assert_eq!(
            page.matches("<svg").count(),
            3,
            "histogram, exercises, pass rates"
        );
        assert!(page.contains("<text"), "plotters writes labels as SVG text");
        assert!(page.contains("&lt;dee&gt;"));
        assert!(!page.contains("<dee>"));
    }
}
