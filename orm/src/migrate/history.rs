//! The revision graph: every file in `versions/`, checked, and the paths between revisions.

use super::script::{self, Revision};
use crate::error::{Error, Result};
use std::path::Path;

/// All revisions of a migrations folder, in a line from base to head once checked.
pub(crate) struct History {
    revisions: Vec<Revision>,
}

/// Which way a target is asked for, so `+N`/`-N` and the error messages fit the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Up,
    Down,
    /// `stamp`: any revision, either way.
    Any,
}

fn migration(message: impl Into<String>) -> Error {
    Error::Migration(message.into())
}

/// `id (message)`, as errors name a revision.
fn describe(rev: &Revision) -> String {
    format!("{} ({})", rev.id(), rev.message())
}

impl History {
    /// Reads and checks every `*.sql` file in `versions`: ids unique, parents present, no cycles.
    ///
    /// # Errors
    ///
    /// [`Error::Migration`] when `versions` cannot be read, two files have the same revision id, a
    /// `down_revision` names a revision no file has, or the revisions form a cycle;
    /// [`Error::MigrationScript`] (with the file and line) for a file that is not a revision.
    pub fn load(versions: &Path) -> Result<History> {
        let entries = std::fs::read_dir(versions).map_err(|e| {
            migration(format!(
                "cannot read {}: {e} (is this a migrations folder? `init` makes one)",
                versions.display()
            ))
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "sql") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut revisions: Vec<Revision> = Vec::new();
        for path in paths {
            let content = std::fs::read_to_string(&path)
                .map_err(|e| migration(format!("cannot read {}: {e}", path.display())))?;
            let rev = script::parse(&path, &content)?;
            if let Some(other) = revisions.iter().find(|r| r.id() == rev.id()) {
                return Err(migration(format!(
                    "two files have revision id {}: {} and {}; give one of them another id",
                    rev.id(),
                    other.path().display(),
                    rev.path().display()
                )));
            }
            revisions.push(rev);
        }
        for rev in &revisions {
            if let Some(parent) = rev.down_revision() {
                if !revisions.iter().any(|r| r.id() == parent) {
                    return Err(migration(format!(
                        "{}: down_revision {parent} names a revision that no file in {} has \
                         (was its file deleted or renamed?)",
                        rev.path().display(),
                        versions.display()
                    )));
                }
            }
        }
        let history = History { revisions };
        for rev in &history.revisions {
            // In a graph without cycles, walking to base takes fewer steps than there are revisions.
            let mut at = Some(rev);
            for _ in 0..=history.revisions.len() {
                at = at
                    .and_then(|r| r.down_revision())
                    .and_then(|p| history.get(p));
            }
            if at.is_some() {
                return Err(migration(format!(
                    "the down_revision lines form a cycle through {} ({}): a revision cannot come after itself",
                    rev.id(),
                    rev.path().display()
                )));
            }
        }
        let mut history = history;
        // Oldest first: the order `history` and the paths use.
        let depths: Vec<usize> = history
            .revisions
            .iter()
            .map(|r| history.ancestors(r.id()).len())
            .collect();
        let mut keyed: Vec<(usize, Revision)> = depths.into_iter().zip(history.revisions).collect();
        keyed.sort_by(|(da, a), (db, b)| da.cmp(db).then_with(|| a.id().cmp(b.id())));
        history.revisions = keyed.into_iter().map(|(_, r)| r).collect();
        Ok(history)
    }

    /// The revisions, oldest first.
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// The revision with this exact id.
    pub fn get(&self, id: &str) -> Option<&Revision> {
        self.revisions.iter().find(|r| r.id() == id)
    }

    /// The revisions below `id`, nearest first.
    fn ancestors(&self, id: &str) -> Vec<&Revision> {
        let mut out = Vec::new();
        let mut at = self.get(id).and_then(|r| r.down_revision());
        while let Some(parent) = at.and_then(|p| self.get(p)) {
            if out.len() > self.revisions.len() {
                break;
            }
            out.push(parent);
            at = parent.down_revision();
        }
        out
    }

    /// Revisions no other revision builds on.
    pub fn heads(&self) -> Vec<&Revision> {
        self.revisions
            .iter()
            .filter(|r| {
                !self
                    .revisions
                    .iter()
                    .any(|c| c.down_revision() == Some(r.id()))
            })
            .collect()
    }

    /// The one head, or `None` when there are no revisions; two heads are an error.
    ///
    /// # Errors
    ///
    /// [`Error::Migration`] naming both heads when two revisions build on the same parent.
    pub fn head(&self) -> Result<Option<&Revision>> {
        match self.heads().as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            many => Err(two_heads(many)),
        }
    }

    fn children(&self, id: Option<&str>) -> Vec<&Revision> {
        self.revisions
            .iter()
            .filter(|r| r.down_revision() == id)
            .collect()
    }

    /// The revision a database says it is at; a revision no file describes is an error.
    ///
    /// # Errors
    ///
    /// [`Error::Migration`] when `id` names a revision no file in `versions` describes.
    pub fn known<'h>(&'h self, id: Option<&str>, versions: &Path) -> Result<Option<&'h Revision>> {
        let Some(id) = id else { return Ok(None) };
        self.get(id).map(Some).ok_or_else(|| {
            migration(format!(
                "the database is at revision {id}, which no file in {} describes: it was migrated by \
                 revision files this folder does not have (get them, or `stamp` the revision the database \
                 really is at)",
                versions.display()
            ))
        })
    }

    /// Resolves a target: `head`, `base`, an id or a unique prefix of one (4 characters at least),
    /// `+N` (up only) or `-N` (down only), relative to `current`.
    ///
    /// # Errors
    ///
    /// [`Error::Migration`] for a target that names no revision, a prefix shorter than 4 characters
    /// or shared by several revisions, `+N`/`-N` that is no number, goes the wrong way for
    /// `direction` or past the first or last revision, and for `head` when there are two heads.
    pub fn resolve(
        &self,
        target: &str,
        current: Option<&str>,
        direction: Direction,
    ) -> Result<Option<&Revision>> {
        let target = target.trim();
        let lower = target.to_ascii_lowercase();
        if lower == "head" || lower == "heads" {
            return self.head();
        }
        if lower == "base" {
            return Ok(None);
        }
        if let Some(steps) = target
            .strip_prefix('+')
            .or_else(|| target.strip_prefix('-'))
        {
            let up = target.starts_with('+');
            let n: usize = steps.parse().map_err(|_| {
                migration(format!("{target:?} is not a relative target: write +N or -N with a number, like +1 or -2"))
            })?;
            match (direction, up) {
                (Direction::Down, true) => {
                    return Err(migration(format!(
                        "downgrade goes back: write -{n}, not {target}"
                    )));
                }
                (Direction::Up, false) => {
                    return Err(migration(format!(
                        "upgrade goes forward: write +{n}, not {target}"
                    )))
                }
                _ => {}
            }
            return if up {
                self.forward(current, n)
            } else {
                self.backward(current, n)
            };
        }
        if let Some(rev) = self.get(target) {
            return Ok(Some(rev));
        }
        if let Err(reason) = script::check_id(target) {
            return Err(migration(format!(
                "{reason}; a target is head, base, +N, -N or a revision id"
            )));
        }
        let matches: Vec<&Revision> = if target.len() >= 4 {
            self.revisions
                .iter()
                .filter(|r| r.id().starts_with(target))
                .collect()
        } else {
            Vec::new()
        };
        match matches.as_slice() {
            [one] => Ok(Some(one)),
            [] => {
                let known: Vec<&str> = self
                    .revisions
                    .iter()
                    .rev()
                    .take(10)
                    .map(|r| r.id())
                    .collect();
                let known = if known.is_empty() {
                    "none yet".to_string()
                } else {
                    known.join(", ")
                };
                Err(migration(format!(
                    "unknown revision {target:?}: no file in versions/ has this id (known, newest first: {known})"
                )))
            }
            many => Err(migration(format!(
                "revision {target:?} is ambiguous: it starts {}; write more of the id",
                many.iter()
                    .map(|r| r.id())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ))),
        }
    }

    fn forward(&self, current: Option<&str>, n: usize) -> Result<Option<&Revision>> {
        let mut at = current.and_then(|c| self.get(c));
        for step in 0..n {
            at = match self.children(at.map(|r| r.id())).as_slice() {
                [] => {
                    return Err(migration(format!(
                        "cannot go +{n}: only {step} revision(s) lie above {}",
                        at.map_or("base".to_string(), describe)
                    )))
                }
                [one] => Some(*one),
                many => return Err(two_heads(many)),
            };
        }
        Ok(at)
    }

    fn backward(&self, current: Option<&str>, n: usize) -> Result<Option<&Revision>> {
        let mut at = current.and_then(|c| self.get(c));
        for step in 0..n {
            let Some(rev) = at else {
                return Err(migration(format!(
                    "cannot go -{n}: the database is only {step} revision(s) above base"
                )));
            };
            at = rev.down_revision().and_then(|p| self.get(p));
        }
        Ok(at)
    }

    /// The revisions to apply going from `from` up to `to`, oldest first; `None` when `from` is
    /// not below `to`.
    pub fn path_up(&self, from: Option<&str>, to: Option<&str>) -> Option<Vec<&Revision>> {
        let mut path = Vec::new();
        let mut at = to;
        while at != from {
            let rev = self.get(at?)?;
            path.push(rev);
            at = rev.down_revision();
        }
        path.reverse();
        Some(path)
    }
}

fn two_heads(heads: &[&Revision]) -> Error {
    let list: Vec<String> = heads
        .iter()
        .map(|r| {
            format!(
                "{} ({}, after {})",
                r.id(),
                r.path().display(),
                r.down_revision().unwrap_or("base")
            )
        })
        .collect();
    migration(format!(
        "the history has {} heads: {}. Revisions must form one line: edit the down_revision of one of \
         them to name the other",
        heads.len(),
        list.join(" and ")
    ))
}
