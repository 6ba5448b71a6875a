//! CSV gradebooks: the whole batch's, a shard's partial one (the same columns after a few
//! `# key: value` lines saying which assignment, which shard, which batch), and `merge`, which
//! joins the partial ones into the gradebook an unsharded batch writes, byte for byte.

use crate::cli::{exit, MergeArgs};
use crate::points::Points;
use crate::scale::shard::Shard;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A gradebook's score columns: one per exercise, and with `--per-test` one per hidden test
/// (named `ex1: test_name`, as Gradescope names a test), after `total` and `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    /// The exercise columns, in order.
    pub exercises: Vec<String>,
    /// The per-test columns (`ex1: name`), in order; empty without `--per-test`.
    pub tests: Vec<String>,
}

impl Columns {
    /// The exercise columns only (a gradebook without `--per-test`).
    pub fn exercises(exercises: &[String]) -> Columns {
        Columns {
            exercises: exercises.to_vec(),
            tests: Vec::new(),
        }
    }

    /// The column of a hidden test.
    pub fn test_column(exercise: &str, name: &str) -> String {
        format!("{exercise}: {name}")
    }
}

/// One gradebook row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The learner (the submission's file stem).
    pub learner: String,
    /// Score per exercise, in the assignment's order.
    pub scores: Vec<Points>,
    /// The total score.
    pub total: Points,
    /// `graded`, or why not.
    pub status: String,
    /// Points per hidden test, in the order of [`Columns::tests`] (empty without `--per-test`).
    pub tests: Vec<Points>,
}

impl Row {
    /// The row of a learner not graded: zero points, status `not graded: why`.
    pub fn failed(learner: &str, columns: &Columns, why: &str) -> Row {
        Row {
            learner: learner.to_owned(),
            scores: vec![Points::ZERO; columns.exercises.len()],
            total: Points::ZERO,
            status: format!("not graded: {why}"),
            tests: vec![Points::ZERO; columns.tests.len()],
        }
    }
}

/// Writes the gradebook: `learner`, one column per exercise, `total`, `status`, then one
/// column per hidden test when `columns` has them.
pub fn write_csv(out: impl Write, columns: &Columns, rows: &[Row]) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    let mut header = vec!["learner".to_owned()];
    header.extend(columns.exercises.iter().cloned());
    header.push("total".into());
    header.push("status".into());
    header.extend(columns.tests.iter().cloned());
    writer.write_record(&header)?;
    for row in rows {
        let mut record = vec![row.learner.clone()];
        record.extend(row.scores.iter().map(Points::to_string));
        record.push(row.total.to_string());
        record.push(row.status.clone());
        record.extend(row.tests.iter().map(Points::to_string));
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
}

/// Why a gradebook or a partial gradebook does not read; the file and line it is about.
#[derive(Debug, thiserror::Error)]
pub enum GradebookError {
    /// The file cannot be read.
    #[error(transparent)]
    File(#[from] crate::FileError),
    /// A partial gradebook given where a whole one is read.
    #[error(
        "{} is a partial gradebook of one shard: join the parts with `grader merge` first",
        path.display()
    )]
    Partial {
        /// The file.
        path: PathBuf,
    },
    /// A whole gradebook (or other CSV) given where a partial one is read.
    #[error(
        "{} is not a partial gradebook (its first line is not `{PART_MARK}`); a gradebook \
         from an unsharded `grader batch` needs no merge",
        path.display()
    )]
    NotPartial {
        /// The file.
        path: PathBuf,
    },
    /// A partial gradebook's header without a field.
    #[error("{}: the header has no `# {field}:` line", path.display())]
    MissingField {
        /// The file.
        path: PathBuf,
        /// The field (`shard`, `batch-size`, …).
        field: &'static str,
    },
    /// A partial gradebook's `# shard:` that is not I/N.
    #[error("{}: shard: {source}", path.display())]
    Shard {
        /// The file.
        path: PathBuf,
        /// Why the shard does not read.
        source: crate::scale::shard::ShardError,
    },
    /// A partial gradebook's `# batch-size:` that is not a whole number.
    #[error("{}: batch-size: {source}", path.display())]
    BatchSize {
        /// The file.
        path: PathBuf,
        /// Why it does not read.
        source: std::num::ParseIntError,
    },
    /// The CSV does not read.
    #[error(transparent)]
    Csv(#[from] crate::CsvError),
    /// A header that is not a gradebook's.
    #[error(
        "{}: the columns are not learner, the exercises, total, status (then the tests): \
         {header:?}",
        path.display()
    )]
    Columns {
        /// The file.
        path: PathBuf,
        /// The header found.
        header: Vec<String>,
    },
    /// A row with another number of fields than the header.
    #[error("{}:{line}: {found} fields, expected {expected}", path.display())]
    FieldCount {
        /// The file.
        path: PathBuf,
        /// The row's line (from 1).
        line: usize,
        /// Its fields.
        found: usize,
        /// The header's.
        expected: usize,
    },
    /// A score that is not a number of points.
    #[error("{}:{line}: `{text}` is not a score", path.display())]
    NotAScore {
        /// The file.
        path: PathBuf,
        /// The row's line (from 1).
        line: usize,
        /// The field.
        text: String,
    },
}

/// Why partial gradebooks do not make one gradebook (`grader merge`).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A part does not read.
    #[error(transparent)]
    Read(#[from] GradebookError),
    /// No part given.
    #[error("no partial gradebooks given")]
    NoParts,
    /// Parts graded against different assignment notebooks (or with other columns).
    #[error(
        "mixed assignments: {} was graded against assignment sha256 {}, {} against {}",
        first.display(), short(first_sha256), other.display(), short(other_sha256)
    )]
    MixedAssignments {
        /// The first part.
        first: PathBuf,
        /// Its assignment's SHA-256.
        first_sha256: String,
        /// The part that differs.
        other: PathBuf,
        /// Its assignment's SHA-256.
        other_sha256: String,
    },
    /// Parts of different numbers of shards.
    #[error(
        "{} is one of {first_count} shards but {} is one of {other_count}",
        first.display(), other.display()
    )]
    ShardCounts {
        /// The first part.
        first: PathBuf,
        /// Its number of shards.
        first_count: usize,
        /// The part that differs.
        other: PathBuf,
        /// Its number of shards.
        other_count: usize,
    },
    /// Parts graded from different folders of submissions.
    #[error(
        "{} and {} were graded from different folders of submissions ({first_size} and \
         {other_size} submissions, name lists sha256 {} and {})",
        first.display(), other.display(), short(first_sha256), short(other_sha256)
    )]
    DifferentBatches {
        /// The first part.
        first: PathBuf,
        /// Its batch's size.
        first_size: usize,
        /// Its batch's SHA-256 of names.
        first_sha256: String,
        /// The part that differs.
        other: PathBuf,
        /// Its batch's size.
        other_size: usize,
        /// Its batch's SHA-256 of names.
        other_sha256: String,
    },
    /// One shard given twice.
    #[error("overlap: shard {shard} is given twice: {} and {}", first.display(), second.display())]
    ShardTwice {
        /// The shard.
        shard: Shard,
        /// The first file with it.
        first: PathBuf,
        /// The second.
        second: PathBuf,
    },
    /// Shards with no part.
    #[error("gap: no part for shard {} (given: {})", missing.join(", "), given.join(", "))]
    Gap {
        /// The missing shards (`0/4`).
        missing: Vec<String>,
        /// The parts given (`FILE (shard I/N)`).
        given: Vec<String>,
    },
    /// A part with more or fewer rows than its shard of the batch.
    #[error(
        "{} holds {found} rows, but shard {shard} of a batch of {batch_size} holds {expected}",
        path.display()
    )]
    RowCount {
        /// The part.
        path: PathBuf,
        /// Its rows.
        found: usize,
        /// Its shard.
        shard: Shard,
        /// The whole batch's size.
        batch_size: usize,
        /// The rows of that shard.
        expected: usize,
    },
    /// A learner in two parts.
    #[error("overlap: learner {learner} is in {} and in {}", first.display(), second.display())]
    LearnerTwice {
        /// The learner.
        learner: String,
        /// The first part with them.
        first: PathBuf,
        /// The second.
        second: PathBuf,
    },
}

/// A gradebook read back: its columns and rows.
#[derive(Debug, Clone)]
pub struct Gradebook {
    /// Its columns.
    pub columns: Columns,
    /// Its rows, in order.
    pub rows: Vec<Row>,
}

/// Reads a gradebook written by `grader batch` or `grader merge` (with or without per-test
/// columns); errors name the file and the line.
///
/// # Errors
/// [`GradebookError`]: an unreadable file, a partial gradebook (merge it first), columns that
/// are not a gradebook's, or a score that is not a number.
pub fn read_gradebook(path: &Path) -> Result<Gradebook, GradebookError> {
    let text = std::fs::read_to_string(path).map_err(crate::FileError::read(path))?;
    if text.starts_with(PART_MARK) {
        return Err(GradebookError::Partial {
            path: path.to_owned(),
        });
    }
    parse_rows(path, &text, 0)
}

/// Parses the CSV part of a gradebook; `skipped_lines` is how many lines came before it in the
/// file (for line numbers in errors).
fn parse_rows(path: &Path, text: &str, skipped_lines: usize) -> Result<Gradebook, GradebookError> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(crate::CsvError::at(path))?
        .iter()
        .map(str::to_owned)
        .collect();
    let total = header.iter().position(|c| c == "total");
    let well_formed = header.first().is_some_and(|c| c == "learner")
        && total.is_some_and(|t| header.get(t + 1).is_some_and(|c| c == "status"));
    let Some(total) = total.filter(|_| well_formed) else {
        return Err(GradebookError::Columns {
            path: path.to_owned(),
            header,
        });
    };
    let columns = Columns {
        exercises: header[1..total].to_vec(),
        tests: header[total + 2..].to_vec(),
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(crate::CsvError::at(path))?;
        let line = record.position().map_or(0, |p| p.line()) as usize + skipped_lines;
        if record.len() != header.len() {
            return Err(GradebookError::FieldCount {
                path: path.to_owned(),
                line,
                found: record.len(),
                expected: header.len(),
            });
        }
        let number = |i: usize| {
            record[i]
                .parse::<Points>()
                .map_err(|_| GradebookError::NotAScore {
                    path: path.to_owned(),
                    line,
                    text: record[i].to_owned(),
                })
        };
        rows.push(Row {
            learner: record[0].to_owned(),
            scores: (1..total).map(number).collect::<Result<_, _>>()?,
            total: number(total)?,
            status: record[total + 1].to_owned(),
            tests: (total + 2..header.len())
                .map(number)
                .collect::<Result<_, _>>()?,
        });
    }
    Ok(Gradebook { columns, rows })
}

/// The first line of a partial gradebook.
const PART_MARK: &str = "# orm-grader partial gradebook (join the parts with `grader merge`)";

/// What a partial gradebook says about itself, so that `merge` can tell a complete set of
/// parts from overlapping, missing or mixed ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartHeader {
    /// SHA-256 of the assignment notebook's bytes.
    pub assignment_sha256: String,
    /// Which shard of the batch the part is.
    pub shard: Shard,
    /// How many submissions the whole batch has.
    pub batch_size: usize,
    /// SHA-256 of the whole batch's sorted file names (one a line), so parts graded from
    /// different folders are not joined.
    pub batch_sha256: String,
}

impl PartHeader {
    /// The header of `shard` of a batch of `sorted_names`, graded against the notebook of `assignment_bytes`.
    pub fn new(assignment_bytes: &[u8], shard: Shard, sorted_names: &[String]) -> PartHeader {
        let mut names = Sha256::new();
        for name in sorted_names {
            names.update(name.as_bytes());
            names.update(b"\n");
        }
        PartHeader {
            assignment_sha256: hex(&Sha256::digest(assignment_bytes)),
            shard,
            batch_size: sorted_names.len(),
            batch_sha256: hex(&names.finalize()),
        }
    }

    fn lines(&self) -> String {
        format!(
            "{PART_MARK}\n# assignment-sha256: {}\n# shard: {}\n# batch-size: {}\n# batch-sha256: {}\n",
            self.assignment_sha256, self.shard, self.batch_size, self.batch_sha256
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a shard's partial gradebook: the header lines, then the gradebook of its rows.
///
/// # Errors
/// The writer's error.
pub fn write_partial(
    mut out: impl Write,
    header: &PartHeader,
    columns: &Columns,
    rows: &[Row],
) -> csv::Result<()> {
    out.write_all(header.lines().as_bytes())?;
    write_csv(out, columns, rows)
}

/// A partial gradebook read back.
#[derive(Debug, Clone)]
pub struct Part {
    /// The file read.
    pub path: PathBuf,
    /// What it says about itself.
    pub header: PartHeader,
    /// Its columns.
    pub columns: Columns,
    /// Its rows.
    pub rows: Vec<Row>,
}

/// Reads a partial gradebook; errors name the file and the line.
///
/// # Errors
/// [`GradebookError`]: an unreadable file, a whole gradebook, a header without its fields,
/// rows that do not read.
pub fn read_partial(path: &Path) -> Result<Part, GradebookError> {
    let text = std::fs::read_to_string(path).map_err(crate::FileError::read(path))?;
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or_default();
    if first.trim_end() != PART_MARK {
        return Err(GradebookError::NotPartial {
            path: path.to_owned(),
        });
    }
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut consumed = first.len();
    for line in lines {
        let Some(field) = line.strip_prefix("# ") else {
            break;
        };
        consumed += line.len();
        if let Some((key, value)) = field.trim_end().split_once(": ") {
            fields.insert(key.to_owned(), value.to_owned());
        }
    }
    let field = |key: &'static str| {
        fields
            .get(key)
            .cloned()
            .ok_or_else(|| GradebookError::MissingField {
                path: path.to_owned(),
                field: key,
            })
    };
    let shard = Shard::parse(&field("shard")?).map_err(|source| GradebookError::Shard {
        path: path.to_owned(),
        source,
    })?;
    let batch_size =
        field("batch-size")?
            .parse::<usize>()
            .map_err(|source| GradebookError::BatchSize {
                path: path.to_owned(),
                source,
            })?;
    let header = PartHeader {
        assignment_sha256: field("assignment-sha256")?,
        shard,
        batch_size,
        batch_sha256: field("batch-sha256")?,
    };
    let skipped = text[..consumed].lines().count();
    let gradebook = parse_rows(path, &text[consumed..], skipped)?;
    Ok(Part {
        path: path.to_owned(),
        header,
        columns: gradebook.columns,
        rows: gradebook.rows,
    })
}

/// Joins the parts of one batch into its rows, in the order an unsharded batch writes them.
/// Refuses parts of other assignments or batches, a shard given twice or missing, and parts
/// whose rows overlap or fall short.
///
/// # Errors
/// [`MergeError`] naming the files: mixed assignments, shard counts or batches, a shard
/// given twice or missing, a part's rows overlapping another's or falling short.
pub fn merge(parts: &[Part]) -> Result<(Columns, Vec<Row>), MergeError> {
    let first = parts.first().ok_or(MergeError::NoParts)?;
    let named = |part: &Part| format!("{} (shard {})", part.path.display(), part.header.shard);
    for part in &parts[1..] {
        if part.header.assignment_sha256 != first.header.assignment_sha256
            || part.columns != first.columns
        {
            return Err(MergeError::MixedAssignments {
                first: first.path.clone(),
                first_sha256: first.header.assignment_sha256.clone(),
                other: part.path.clone(),
                other_sha256: part.header.assignment_sha256.clone(),
            });
        }
        if part.header.shard.count != first.header.shard.count {
            return Err(MergeError::ShardCounts {
                first: first.path.clone(),
                first_count: first.header.shard.count,
                other: part.path.clone(),
                other_count: part.header.shard.count,
            });
        }
        if (part.header.batch_size, &part.header.batch_sha256)
            != (first.header.batch_size, &first.header.batch_sha256)
        {
            return Err(MergeError::DifferentBatches {
                first: first.path.clone(),
                first_size: first.header.batch_size,
                first_sha256: first.header.batch_sha256.clone(),
                other: part.path.clone(),
                other_size: part.header.batch_size,
                other_sha256: part.header.batch_sha256.clone(),
            });
        }
    }
    let count = first.header.shard.count;
    let mut by_index: Vec<Option<&Part>> = vec![None; count];
    for part in parts {
        let slot = &mut by_index[part.header.shard.index];
        if let Some(earlier) = slot {
            return Err(MergeError::ShardTwice {
                shard: part.header.shard,
                first: earlier.path.clone(),
                second: part.path.clone(),
            });
        }
        *slot = Some(part);
    }
    let missing: Vec<String> = (0..count)
        .filter(|&i| by_index[i].is_none())
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Gap {
            missing,
            given: parts.iter().map(named).collect(),
        });
    }
    let batch_size = first.header.batch_size;
    let mut owner: HashMap<&str, &Path> = HashMap::new();
    for part in parts {
        let expected = part.header.shard.size_of_slice(batch_size);
        if part.rows.len() != expected {
            return Err(MergeError::RowCount {
                path: part.path.clone(),
                found: part.rows.len(),
                shard: part.header.shard,
                batch_size,
                expected,
            });
        }
        for row in &part.rows {
            if let Some(other) = owner.insert(&row.learner, &part.path) {
                return Err(MergeError::LearnerTwice {
                    learner: row.learner.clone(),
                    first: other.to_owned(),
                    second: part.path.clone(),
                });
            }
        }
    }
    // Position k of the sorted batch is row k / N of shard k % N (see `shard`).
    let rows = (0..batch_size)
        .map(|k| {
            let part = by_index[k % count].expect("every shard has its part (the gap check)");
            part.rows[k / count].clone()
        })
        .collect();
    Ok((first.columns.clone(), rows))
}

/// `grader merge`.
pub fn merge_command(args: &MergeArgs) -> i32 {
    let merged = args
        .parts
        .iter()
        .map(|path| read_partial(path))
        .collect::<Result<Vec<Part>, GradebookError>>()
        .map_err(MergeError::from)
        .and_then(|parts| merge(&parts));
    let (columns, rows) = match merged {
        Ok(merged) => merged,
        Err(message) => {
            eprintln!("grader merge: {message}");
            return exit::CANNOT_MERGE;
        }
    };
    let written = std::fs::File::create(&args.output)
        .map_err(csv::Error::from)
        .and_then(|file| write_csv(file, &columns, &rows));
    if let Err(error) = written {
        eprintln!(
            "grader merge: cannot write {}: {error}",
            args.output.display()
        );
        return exit::CANNOT_RUN;
    }
    eprintln!(
        "merged {} parts: {} learners in {}",
        args.parts.len(),
        rows.len(),
        args.output.display()
    );
    exit::GRADED
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercises() -> Columns {
        Columns {
            exercises: vec!["ex1".to_owned(), "ex2".to_owned()],
            tests: vec!["ex1: a".to_owned()],
        }
    }

    fn row(learner: &str, total: u32) -> Row {
        let total = Points::whole(total.into());
        Row {
            learner: learner.into(),
            scores: vec![total, Points::ZERO],
            total,
            status: "graded".into(),
            tests: vec![total],
        }
    }

    /// Writes shard `index` of `count` of a batch of `names` and reads it back.
    fn part(dir: &Path, names: &[&str], index: usize, count: usize, assignment: &[u8]) -> Part {
        let shard = Shard::new(index, count).unwrap();
        let sorted: Vec<String> = names.iter().map(|n| format!("{n}.ipynb")).collect();
        let header = PartHeader::new(assignment, shard, &sorted);
        let rows: Vec<Row> = shard
            .positions(names.len())
            .map(|k| row(names[k], k as u32))
            .collect();
        let path = dir.join(format!("part-{index}-{count}.csv"));
        let mut out = Vec::new();
        write_partial(&mut out, &header, &exercises(), &rows).unwrap();
        std::fs::write(&path, out).unwrap();
        read_partial(&path).unwrap()
    }

    #[test]
    fn merged_parts_give_the_unsharded_gradebook() {
        let dir = tempfile::tempdir().unwrap();
        let names = ["a", "b, \"quoted\"", "c", "d", "e"];
        let parts: Vec<Part> = [2, 0, 1]
            .iter()
            .map(|&i| part(dir.path(), &names, i, 3, b"nb"))
            .collect();
        let (columns, rows) = merge(&parts).unwrap();
        assert_eq!(columns, exercises());
        let mut merged = Vec::new();
        write_csv(&mut merged, &columns, &rows).unwrap();
        let whole: Vec<Row> = names
            .iter()
            .enumerate()
            .map(|(k, n)| row(n, k as u32))
            .collect();
        let mut unsharded = Vec::new();
        write_csv(&mut unsharded, &columns, &whole).unwrap();
        assert_eq!(String::from_utf8(merged), String::from_utf8(unsharded));
    }

    #[test]
    fn merge_names_the_files_of_a_doubled_missing_or_mixed_shard() {
        let dir = tempfile::tempdir().unwrap();
        let names = ["a", "b", "c", "d"];
        let zero = part(dir.path(), &names, 0, 2, b"nb");
        let one = part(dir.path(), &names, 1, 2, b"nb");
        let doubled = merge(&[zero.clone(), zero.clone(), one.clone()]).unwrap_err();
        assert!(
            matches!(&doubled, MergeError::ShardTwice { shard, first, second }
                if shard.index == 0 && first == &zero.path && second == &zero.path),
            "{doubled:?}"
        );
        assert!(
            doubled.to_string().contains("shard 0/2 is given twice"),
            "{doubled}"
        );
        let missing = merge(std::slice::from_ref(&one)).unwrap_err();
        match &missing {
            MergeError::Gap { missing, given } => {
                assert_eq!(missing, &["0/2"]);
                assert_eq!(given, &[format!("{} (shard 1/2)", one.path.display())]);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            missing.to_string().contains("no part for shard 0/2"),
            "{missing}"
        );
        let other_dir = tempfile::tempdir().unwrap();
        let other = part(other_dir.path(), &names, 1, 2, b"another notebook");
        let mixed = merge(&[zero.clone(), other.clone()]).unwrap_err();
        assert!(
            matches!(&mixed, MergeError::MixedAssignments { first, other: second, .. }
                if first == &zero.path && second == &other.path),
            "{mixed:?}"
        );
        assert!(
            mixed.to_string().starts_with("mixed assignments"),
            "{mixed}"
        );
        let elsewhere = part(other_dir.path(), &["a", "b", "c", "x"], 1, 2, b"nb");
        let folders = merge(&[zero.clone(), elsewhere]).unwrap_err();
        assert!(
            matches!(
                folders,
                MergeError::DifferentBatches {
                    first_size: 4,
                    other_size: 4,
                    ..
                }
            ),
            "{folders:?}"
        );
        let mut short = one.clone();
        short.rows.pop();
        let error = merge(&[zero, short]).unwrap_err();
        assert!(
            matches!(
                error,
                MergeError::RowCount {
                    found: 1,
                    expected: 2,
                    batch_size: 4,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("holds 1 rows"), "{error}");
    }

    #[test]
    fn a_full_gradebook_is_not_taken_for_a_part() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gradebook.csv");
        let mut out = Vec::new();
        write_csv(&mut out, &exercises(), &[row("a", 1)]).unwrap();
        std::fs::write(&path, out).unwrap();
        let error = read_partial(&path).unwrap_err();
        assert!(
            matches!(&error, GradebookError::NotPartial { path: p } if p == &path),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("is not a partial gradebook"),
            "{error}"
        );
        let error = read_gradebook(&dir.path().join("missing.csv")).unwrap_err();
        assert!(
            matches!(&error, GradebookError::File(f) if f.action == "read"
                && f.source.kind() == std::io::ErrorKind::NotFound),
            "{error:?}"
        );
    }
}
