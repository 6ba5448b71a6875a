//! What of a submission runs: finding the notebook in an upload, and the code cells in order
//! with the teacher's given cells restored (as nbgrader runs the released version of locked
//! cells, whatever the learner did to them).

use crate::assignment::Assignment;
use crate::notebook::{Cell, CellKind};
use crate::reports::report::cut;
use std::path::{Path, PathBuf};

/// One code cell that runs, in notebook order.
#[derive(Debug, Clone)]
pub struct RunCell {
    /// Position in the submission notebook (0-based, every cell counted); a given cell the
    /// learner deleted is put back with the index of the cell it now precedes.
    pub index: usize,
    /// `metadata.grader.kind`, if any.
    pub kind: Option<CellKind>,
    /// `metadata.grader.exercise`, if any.
    pub exercise: Option<String>,
    /// The cell's source.
    pub source: String,
    /// Whether this is a cell the teacher gave (run as released).
    pub given: bool,
}

/// The submission's code cells as they run: cells marked as hidden tests are left out, and
/// each cell the assignment gives runs as the teacher wrote it. Given cells are matched by
/// their nbformat cell id (Jupyter keeps it while a cell is edited). What was set aside is
/// said in `notes`.
pub fn cells_to_run(
    assignment: &Assignment,
    submission: &[Cell],
    notes: &mut Vec<String>,
) -> Vec<RunCell> {
    let given: Vec<&Cell> = assignment.given_code_cells().collect();
    let mut cells = Vec::new();
    let mut marked_tests = Vec::new();
    for cell in submission.iter().filter(|c| c.is_code) {
        let kind = cell.tag.as_ref().map(|t| t.kind);
        if kind == Some(CellKind::Tests) {
            marked_tests.push(cell.index.to_string());
            continue;
        }
        // The self-check of public tests: grading runs those tests from the assignment.
        if kind == Some(CellKind::Public) {
            continue;
        }
        // A manually graded answer is read by a teacher from the review sheet, never run: it
        // may be prose or code that does not compile, and scores nothing automatically.
        if kind == Some(CellKind::Manual) {
            continue;
        }
        let teacher = cell
            .id
            .as_ref()
            .and_then(|id| given.iter().find(|g| g.id.as_ref() == Some(id)));
        let source = match teacher {
            Some(teacher) if kind.is_none() => {
                if teacher.source.trim() != cell.source.trim() {
                    notes.push(format!(
                        "cell {} is given by the assignment and was edited; it ran as released \
                         (your edit, starting `{}`, was set aside)",
                        cell.index,
                        cut(first_changed_line(&teacher.source, &cell.source), 60)
                    ));
                }
                teacher.source.clone()
            }
            _ => cell.source.clone(),
        };
        cells.push(RunCell {
            index: cell.index,
            kind,
            exercise: cell.tag.as_ref().map(|t| t.exercise.clone()),
            source,
            given: teacher.is_some() && kind.is_none(),
        });
    }
    restore_deleted_given_cells(assignment, submission, &given, &mut cells, notes);
    if !marked_tests.is_empty() {
        notes.push(format!(
            "cell(s) {} are marked as hidden tests in the submission and were not run \
             (the hidden tests come from the assignment only)",
            marked_tests.join(", ")
        ));
    }
    cells
}

/// Given cells whose id is nowhere in the submission run anyway, before the first submission
/// cell that comes after them in the assignment.
fn restore_deleted_given_cells(
    assignment: &Assignment,
    submission: &[Cell],
    given: &[&Cell],
    cells: &mut Vec<RunCell>,
    notes: &mut Vec<String>,
) {
    let position_in_assignment = |id: &str| {
        assignment
            .notebook
            .cells
            .iter()
            .position(|c| c.id.as_deref() == Some(id))
    };
    for teacher in given {
        let Some(id) = teacher.id.as_deref() else {
            continue;
        };
        if submission.iter().any(|c| c.id.as_deref() == Some(id)) {
            continue;
        }
        // Without any id in the submission (a notebook rebuilt outside Jupyter), nothing can
        // be matched: leave the cells as they are.
        if submission.iter().all(|c| c.id.is_none()) {
            return;
        }
        let at = cells
            .iter()
            .position(|c| {
                submission
                    .iter()
                    .find(|s| s.index == c.index)
                    .and_then(|s| s.id.as_deref())
                    .and_then(position_in_assignment)
                    .is_some_and(|p| p > teacher.index)
            })
            .unwrap_or(cells.len());
        let index = cells.get(at).map_or(submission.len(), |c| c.index);
        notes.push(format!(
            "the given cell `{}` was missing from the submission; it ran as released",
            cut(first_line(&teacher.source), 60)
        ));
        cells.insert(
            at,
            RunCell {
                index,
                kind: None,
                exercise: None,
                source: teacher.source.clone(),
                given: true,
            },
        );
    }
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

fn first_changed_line<'a>(released: &str, edited: &'a str) -> &'a str {
    let released: Vec<&str> = released.lines().map(str::trim).collect();
    edited
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !released.contains(l))
        .unwrap_or_else(|| first_line(edited))
}

/// Why no notebook could be chosen in an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoveryError {
    /// No notebook at all.
    None(PathBuf),
    /// Several notebooks, none with the expected name.
    Several(Vec<PathBuf>),
}

impl std::fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiscoveryError::None(dir) => {
                write!(f, "no notebook (*.ipynb) was found in {}", dir.display())
            }
            DiscoveryError::Several(found) => {
                let names: Vec<String> = found.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "{} notebooks were found and none has the expected name; submit one: {}",
                    found.len(),
                    names.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for DiscoveryError {}

/// The notebook to grade in an upload folder: the one named `preferred` if it is there,
/// else the only real notebook, whatever its name. macOS zip debris (`__MACOSX/`, `._*`),
/// hidden files and folders, and Jupyter's `.ipynb_checkpoints/` are not notebooks.
///
/// # Errors
/// [`DiscoveryError`] when there is no notebook, or several and none is `preferred`.
pub fn find_notebook(dir: &Path, preferred: Option<&str>) -> Result<PathBuf, DiscoveryError> {
    if let Some(name) = preferred {
        let path = dir.join(name);
        if path.is_file() {
            return Ok(path);
        }
    }
    let mut found = Vec::new();
    collect_notebooks(dir, 0, &mut found);
    found.sort();
    if let Some(name) = preferred {
        let named: Vec<&PathBuf> = found
            .iter()
            .filter(|p| p.file_name().is_some_and(|n| n == name))
            .collect();
        if named.len() == 1 {
            return Ok(named[0].clone());
        }
    }
    match found.len() {
        0 => Err(DiscoveryError::None(dir.to_owned())),
        1 => Ok(found.remove(0)),
        _ => Err(DiscoveryError::Several(found)),
    }
}

fn collect_notebooks(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    // Uploads are shallow; a limit keeps a hostile zip of nested folders cheap.
    if depth > 8 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "__MACOSX" {
            continue;
        }
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            collect_notebooks(&entry.path(), depth + 1, found);
        } else if file_type.is_file() && name.ends_with(".ipynb") {
            found.push(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "{}").unwrap();
    }

    #[test]
    fn a_macos_zip_gives_its_one_real_notebook() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("exercises (1).ipynb"));
        touch(&dir.path().join("__MACOSX/._exercises (1).ipynb"));
        touch(&dir.path().join("._exercises (1).ipynb"));
        touch(
            &dir.path()
                .join(".ipynb_checkpoints/exercises (1)-checkpoint.ipynb"),
        );
        assert_eq!(
            find_notebook(dir.path(), Some("exercises.ipynb")).unwrap(),
            dir.path().join("exercises (1).ipynb")
        );
    }

    #[test]
    fn the_expected_name_wins_and_two_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("a.ipynb"));
        touch(&dir.path().join("b.ipynb"));
        let error = find_notebook(dir.path(), Some("exercises.ipynb")).unwrap_err();
        assert!(
            matches!(&error, DiscoveryError::Several(found) if found.len() == 2),
            "{error}"
        );
        assert!(error.to_string().contains("a.ipynb"), "{error}");
        touch(&dir.path().join("sub/exercises.ipynb"));
        assert_eq!(
            find_notebook(dir.path(), Some("exercises.ipynb")).unwrap(),
            dir.path().join("sub/exercises.ipynb")
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            find_notebook(empty.path(), None),
            Err(DiscoveryError::None(_))
        ));
    }
}
