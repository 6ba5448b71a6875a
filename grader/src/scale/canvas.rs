//! `grader export --canvas`: a gradebook as the CSV Canvas's gradebook imports (Canvas
//! Instructor Guide, "How do I import grades in the Gradebook?",
//! <https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807>):
//! the columns `Student`, `ID`, `SIS User ID`, `SIS Login ID`, `Section`, then one column per
//! assignment named `Name (id)` (an existing assignment) or `Name` (Canvas offers to create
//! it), and a `Points Possible` row under the header as Canvas's own export has it. Canvas
//! matches a row to a student by its ids, so the five columns are always written, empty when
//! unknown (PrairieLearn's maintainers found `Student`, `SIS Login ID` and a `Section` column
//! enough: PrairieLearn issue #4547).
//!
//! Learners are the gradebook's file stems; who they are in Canvas comes from a roster (Canvas's
//! own gradebook export, or any CSV with those columns and optionally `learner`) or from
//! Gradescope's `submission_metadata.json` of each submission
//! (<https://gradescope-autograders.readthedocs.io/en/latest/submission_metadata/>: `users[]`
//! with `name`, `email`, `id`, and `sid` where the course has student ids). A learner found
//! in neither is refused: nothing is written, and the error lists every such learner.

use crate::cli::{exit, ExportArgs};
use crate::reports::feedback::as_points;
use crate::reports::html;
use crate::scale::gradebook::{read_gradebook, Row};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Canvas's identity columns, in its order.
pub const IDENTITY_COLUMNS: [&str; 5] = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"];

/// One person as Canvas knows them (the five identity columns).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CanvasStudent {
    /// Canvas's `Student` (the learner's name).
    pub student: String,
    /// Canvas's `ID`.
    pub id: String,
    /// Canvas's `SIS User ID`.
    pub sis_user_id: String,
    /// Canvas's `SIS Login ID`.
    pub sis_login_id: String,
    /// Canvas's `Section`.
    pub section: String,
    /// The learner name (submission file stem) it is for, when the roster says so.
    pub learner: String,
}

impl CanvasStudent {
    fn identity(&self) -> [&str; 5] {
        [
            self.student.as_str(),
            self.id.as_str(),
            self.sis_user_id.as_str(),
            self.sis_login_id.as_str(),
            self.section.as_str(),
        ]
    }

    /// Whether this roster row is the learner `learner`: its `learner` column, else its SIS
    /// Login ID, SIS User ID or Canvas ID equals it.
    fn is(&self, learner: &str) -> bool {
        if !self.learner.is_empty() {
            return self.learner == learner;
        }
        [&self.sis_login_id, &self.sis_user_id, &self.id]
            .iter()
            .any(|v| !v.is_empty() && v.as_str() == learner)
    }
}

/// Why a Canvas export could not be made: a roster or Gradescope metadata that does not read,
/// or learners it does not find.
#[derive(Debug, thiserror::Error)]
pub enum CanvasError {
    /// The roster file cannot be opened.
    #[error("cannot read the roster {}: {source}", path.display())]
    Roster {
        /// The roster.
        path: PathBuf,
        /// The CSV reader's error.
        source: csv::Error,
    },
    /// The roster's CSV does not read.
    #[error(transparent)]
    Csv(#[from] crate::CsvError),
    /// A roster without a column that identifies a learner.
    #[error(
        "{}: the roster has none of the columns learner, ID, SIS User ID, SIS Login ID (its \
         columns: {header:?})",
        path.display()
    )]
    NoIdentityColumn {
        /// The roster.
        path: PathBuf,
        /// Its columns.
        header: Vec<String>,
    },
    /// A `submission_metadata.json` that cannot be read.
    #[error(transparent)]
    File(#[from] crate::FileError),
    /// A `submission_metadata.json` that is not JSON.
    #[error(transparent)]
    NotJson(#[from] crate::JsonError),
    /// A `submission_metadata.json` without a `users` list.
    #[error("{}: no `users` list", path.display())]
    NoUsers {
        /// The file.
        path: PathBuf,
    },
    /// The gradebook does not read.
    #[error(transparent)]
    Gradebook(#[from] crate::scale::gradebook::GradebookError),
    /// A learner matching several roster rows.
    #[error(
        "learner `{learner}` matches {} roster rows ({}); give the roster a `learner` column",
        students.len(), students.join(", ")
    )]
    Ambiguous {
        /// The gradebook's learner.
        learner: String,
        /// The roster's `Student` of each row matched.
        students: Vec<String>,
    },
    /// Learners of the gradebook not found (all of them named).
    #[error("{} learner(s) of the gradebook are not {whence}: {}", learners.len(), learners.join(", "))]
    Missing {
        /// The learners.
        learners: Vec<String>,
        /// Where they were looked for.
        whence: String,
    },
}

/// Reads a roster CSV: Canvas's gradebook export (its `Points Possible` and test-student rows
/// are skipped) or any CSV with some of the identity columns and optionally `learner`.
///
/// # Errors
/// [`CanvasError`]: an unreadable file, or one without any column that identifies a learner.
pub fn read_roster(path: &Path) -> Result<Vec<CanvasStudent>, CanvasError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|source| CanvasError::Roster {
            path: path.to_owned(),
            source,
        })?;
    let header: Vec<String> = reader
        .headers()
        .map_err(crate::CsvError::at(path))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    let column = |wanted: &str| header.iter().position(|h| h.eq_ignore_ascii_case(wanted));
    let identifying = ["learner", "ID", "SIS User ID", "SIS Login ID"];
    if identifying.iter().all(|c| column(c).is_none()) {
        return Err(CanvasError::NoIdentityColumn {
            path: path.to_owned(),
            header,
        });
    }
    let mut students = Vec::new();
    for record in reader.records() {
        let record = record.map_err(crate::CsvError::at(path))?;
        let get = |wanted: &str| {
            column(wanted)
                .and_then(|i| record.get(i))
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let student = get("Student");
        if student == "Points Possible" || student.eq_ignore_ascii_case("Student, Test") {
            continue;
        }
        students.push(CanvasStudent {
            student,
            id: get("ID"),
            sis_user_id: get("SIS User ID"),
            sis_login_id: get("SIS Login ID"),
            section: get("Section"),
            learner: get("learner"),
        });
    }
    Ok(students)
}

/// The people of one submission from Gradescope's `submission_metadata.json` (several for a
/// group submission): `name` as Student, `sid` as SIS User ID, `email` as SIS Login ID.
///
/// # Errors
/// [`CanvasError`]: an unreadable file, not JSON, or one without `users`.
pub fn read_submission_metadata(
    path: &Path,
    learner: &str,
) -> Result<Vec<CanvasStudent>, CanvasError> {
    let text = std::fs::read_to_string(path).map_err(crate::FileError::read(path))?;
    let value: Value = serde_json::from_str(&text).map_err(|source| crate::JsonError {
        path: path.to_owned(),
        source,
    })?;
    let users = value["users"]
        .as_array()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| CanvasError::NoUsers {
            path: path.to_owned(),
        })?;
    Ok(users
        .iter()
        .map(|user| {
            let field = |key: &str| match &user[key] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            CanvasStudent {
                student: field("name"),
                id: String::new(),
                sis_user_id: field("sid"),
                sis_login_id: field("email"),
                section: String::new(),
                learner: learner.to_owned(),
            }
        })
        .collect())
}

/// Where Gradescope's metadata of `learner` is in `dir`: `<learner>.json` or
/// `<learner>/submission_metadata.json`.
fn metadata_path(dir: &Path, learner: &str) -> Option<std::path::PathBuf> {
    [
        dir.join(format!("{learner}.json")),
        dir.join(learner).join("submission_metadata.json"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// Who each gradebook row is in Canvas.
pub enum Identities<'a> {
    /// A roster CSV's rows.
    Roster(&'a [CanvasStudent]),
    /// A folder of `submission_metadata.json` files.
    Gradescope(&'a Path),
}

/// The Canvas import CSV of `rows`. A learner not graded gets an empty cell (Canvas leaves
/// the grade as it is); `points_possible` fills the `Points Possible` row.
///
/// # Errors
/// [`CanvasError`]: learners missing from the roster (all of them named), a learner matching
/// two roster rows, or unreadable metadata; nothing is returned then.
pub fn canvas_csv(
    rows: &[Row],
    identities: Identities<'_>,
    column: &str,
    points_possible: f64,
) -> Result<String, CanvasError> {
    let mut missing = Vec::new();
    let mut lines: Vec<(CanvasStudent, &Row)> = Vec::new();
    for row in rows {
        let found: Vec<CanvasStudent> = match &identities {
            Identities::Roster(roster) => roster
                .iter()
                .filter(|s| s.is(&row.learner))
                .cloned()
                .collect(),
            Identities::Gradescope(dir) => match metadata_path(dir, &row.learner) {
                Some(path) => read_submission_metadata(&path, &row.learner)?,
                None => Vec::new(),
            },
        };
        if found.is_empty() {
            missing.push(row.learner.clone());
        } else if matches!(identities, Identities::Roster(_)) && found.len() > 1 {
            return Err(CanvasError::Ambiguous {
                learner: row.learner.clone(),
                students: found.into_iter().map(|s| s.student).collect(),
            });
        }
        lines.extend(found.into_iter().map(|s| (s, row)));
    }
    if !missing.is_empty() {
        let whence = match identities {
            Identities::Roster(_) => "on the roster (matched by its `learner`, `SIS Login ID`, \
                                      `SIS User ID` or `ID` column)"
                .to_owned(),
            Identities::Gradescope(dir) => format!(
                "in {} (no <learner>.json or <learner>/submission_metadata.json)",
                dir.display()
            ),
        };
        return Err(CanvasError::Missing {
            learners: missing,
            whence,
        });
    }
    // Records of strings written to memory: the csv writer cannot fail on them.
    const IN_MEMORY: &str = "a CSV written to memory";
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = IDENTITY_COLUMNS.to_vec();
    header.push(column);
    writer.write_record(&header).expect(IN_MEMORY);
    let possible = html::points(points_possible);
    writer
        .write_record(["    Points Possible", "", "", "", "", possible.as_str()])
        .expect(IN_MEMORY);
    for (student, row) in lines {
        let score = if row.status == "graded" {
            html::points(as_points(row.total))
        } else {
            String::new()
        };
        let mut record: Vec<&str> = student.identity().to_vec();
        record.push(&score);
        writer.write_record(&record).expect(IN_MEMORY);
    }
    let bytes = writer.into_inner().expect(IN_MEMORY);
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 strings"))
}

/// The assignment column's name: `Name (id)` for an existing Canvas assignment, else `Name`.
pub fn assignment_column(name: &str, id: Option<u64>) -> String {
    match id {
        Some(id) => format!("{name} ({id})"),
        None => name.to_owned(),
    }
}

/// `grader export --canvas`.
pub fn run(args: &ExportArgs) -> i32 {
    let assignment = match crate::read_assignment(&args.assignment.assignment) {
        Ok(assignment) => assignment,
        Err(message) => {
            eprintln!("grader export: {message}");
            return exit::BAD_ASSIGNMENT;
        }
    };
    let roster = match &args.roster {
        Some(path) => match read_roster(path) {
            Ok(roster) => Some(roster),
            Err(message) => {
                eprintln!("grader export: {message}");
                return exit::BAD_INPUT;
            }
        },
        None => None,
    };
    let identities = match (&roster, &args.submission_metadata) {
        (Some(roster), _) => Identities::Roster(roster),
        (None, Some(dir)) => Identities::Gradescope(dir),
        (None, None) => {
            eprintln!("grader export: give --roster or --submission-metadata");
            return exit::USAGE;
        }
    };
    let made = read_gradebook(&args.canvas)
        .map_err(CanvasError::from)
        .and_then(|gradebook| {
            canvas_csv(
                &gradebook.rows,
                identities,
                &assignment_column(&args.assignment_name, args.assignment_id),
                as_points(crate::scale::manual::points_possible(
                    &assignment,
                    &gradebook.columns,
                )),
            )
        });
    let text = match made {
        Ok(text) => text,
        Err(message) => {
            eprintln!("grader export: {message}");
            return exit::BAD_INPUT;
        }
    };
    if let Err(message) = crate::reports::feedback::write_file(&args.output, &text) {
        eprintln!("grader export: {message}");
        return exit::CANNOT_RUN;
    }
    eprintln!("Canvas import CSV: {}", args.output.display());
    exit::GRADED
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::points::Points;

    fn row(learner: &str, total: u32, status: &str) -> Row {
        let total = Points::whole(total.into());
        Row {
            learner: learner.into(),
            scores: vec![total],
            total,
            status: status.into(),
            tests: Vec::new(),
        }
    }

    #[test]
    fn a_canvas_export_is_read_as_a_roster() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.csv");
        std::fs::write(
            &path,
            "\u{feff}Student,ID,SIS User ID,SIS Login ID,Section,Old (1)\n\
             \"    Points Possible\",,,,,10\n\
             \"Lovelace, Ada\",101,S1,ada,Sec A,3\n\
             \"Student, Test\",999,,,Sec A,\n",
        )
        .unwrap();
        let roster = read_roster(&path).unwrap();
        assert_eq!(roster.len(), 1);
        assert_eq!(roster[0].student, "Lovelace, Ada");
        let csv = canvas_csv(
            &[row("ada", 7, "graded")],
            Identities::Roster(&roster),
            &assignment_column("ORM", Some(42)),
            37.0,
        )
        .unwrap();
        assert_eq!(
            csv,
            "Student,ID,SIS User ID,SIS Login ID,Section,ORM (42)\n\
             \x20   Points Possible,,,,,37\n\
             \"Lovelace, Ada\",101,S1,ada,Sec A,7\n"
        );
    }

    #[test]
    fn learners_missing_from_the_roster_are_all_named() {
        let roster = vec![CanvasStudent {
            student: "Ada".into(),
            sis_login_id: "ada".into(),
            ..CanvasStudent::default()
        }];
        let error = canvas_csv(
            &[
                row("ada", 1, "graded"),
                row("bob", 1, "graded"),
                row("cy", 0, "not graded: x"),
            ],
            Identities::Roster(&roster),
            "ORM",
            1.0,
        )
        .unwrap_err();
        assert!(
            matches!(&error, CanvasError::Missing { learners, .. } if learners == &["bob", "cy"]),
            "{error:?}"
        );
        let error = error.to_string();
        assert!(
            error.starts_with("2 learner(s) of the gradebook are not on the roster"),
            "{error}"
        );
        assert!(error.ends_with(": bob, cy"), "{error}");
    }

    #[test]
    fn gradescope_metadata_names_every_member_of_a_group() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("team")).unwrap();
        std::fs::write(
            dir.path().join("team/submission_metadata.json"),
            r#"{"id": 1, "users": [{"email": "a@x.org", "id": 5, "name": "A", "sid": "S5"},
                                    {"email": "b@x.org", "id": 6, "name": "B"}]}"#,
        )
        .unwrap();
        let export = || {
            canvas_csv(
                &[row("team", 2, "graded"), row("late", 0, "not graded: x")],
                Identities::Gradescope(dir.path()),
                "ORM",
                3.0,
            )
        };
        let error = export().unwrap_err();
        assert!(
            matches!(&error, CanvasError::Missing { learners, .. } if learners == &["late"]),
            "{error:?}"
        );
        assert!(error.to_string().contains(": late"), "{error}");
        std::fs::write(
            dir.path().join("late.json"),
            r#"{"users": [{"name": "L", "email": "l@x.org"}]}"#,
        )
        .unwrap();
        let csv = export().unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[2], "A,,S5,a@x.org,,2");
        assert_eq!(lines[3], "B,,,b@x.org,,2");
        assert_eq!(lines[4], "L,,,l@x.org,,", "not graded: left empty");
    }
}
