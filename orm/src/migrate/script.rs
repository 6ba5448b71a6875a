//! Revision files: the SQL scripts in `versions/` that a person reads and edits, parsed and written.

use super::Dialect;
use crate::error::{Error, Result};
use std::fmt;
use std::path::{Path, PathBuf};

/// One migration script: where it sits in the history, and its upgrade and downgrade steps.
///
/// Read from a file in `versions/` (see the [module docs](super) for the format); `content()`
/// is the file's text, so a notebook can print what `revision` wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    id: String,
    down_revision: Option<String>,
    message: String,
    created: Option<String>,
    dialect: Option<Dialect>,
    path: PathBuf,
    content: String,
    pub(crate) up: Vec<Step>,
    pub(crate) down: Vec<Step>,
}

impl Revision {
    /// The revision id (12 hex digits when `revision` made it).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The revision this one applies on top of; `None` for the first revision.
    pub fn down_revision(&self) -> Option<&str> {
        self.down_revision.as_deref()
    }

    /// What the revision does, as given to `revision` (`-m`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// When `revision` wrote the file (`None` if a hand-written file leaves it out).
    pub fn created(&self) -> Option<&str> {
        self.created.as_deref()
    }

    /// The database kind autogenerate wrote the revision for (`-- dialect: sqlite` or
    /// `postgresql`); `None` for a file without that line (hand-written, or older).
    pub fn dialect(&self) -> Option<&'static str> {
        self.dialect.map(Dialect::name)
    }

    pub(crate) fn generated_for(&self) -> Option<Dialect> {
        self.dialect
    }

    /// The file, under `DIR/versions/`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's text.
    pub fn content(&self) -> &str {
        &self.content
    }
}

/// Alembic's history line: `parent -> id, message`.
impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {}, {}",
            self.down_revision.as_deref().unwrap_or("<base>"),
            self.id,
            self.message
        )
    }
}

/// A statement of a revision file and the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sql {
    pub text: String,
    pub line: usize,
}

/// What one part of an `-- +up` or `-- +down` section does.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// A statement run as written.
    Sql(Sql),
    /// `-- +batch TABLE` … `-- +end`: rebuild TABLE as `create` says, copying the rows of the
    /// columns it keeps, then run `after` (its indexes).
    Batch {
        table: String,
        line: usize,
        create: Sql,
        after: Vec<Sql>,
    },
}

const HEADER_KEYS: [&str; 5] = ["revision", "down_revision", "message", "created", "dialect"];
/// Words a revision id cannot be: they name positions in the history.
const RESERVED_IDS: [&str; 4] = ["head", "heads", "base", "none"];

/// Checks that `id` can name a revision: letters, digits and `_`, at most 32 of them.
pub(crate) fn check_id(id: &str) -> std::result::Result<(), String> {
    if id.is_empty() {
        return Err("a revision id cannot be empty".into());
    }
    if id.len() > 32 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "{id:?} is not a revision id: use at most 32 letters, digits or `_`"
        ));
    }
    if RESERVED_IDS.contains(&id.to_ascii_lowercase().as_str()) {
        return Err(format!("{id:?} is a reserved word, not a revision id"));
    }
    Ok(())
}

fn fail(path: &Path, line: usize, message: impl fmt::Display) -> Error {
    Error::MigrationScript {
        file: path.to_path_buf(),
        line,
        message: message.to_string(),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Header,
    Up,
    Down,
}

/// Lines of SQL between directives, with the line the first of them is on.
struct Chunk {
    text: String,
    line: usize,
}

/// Reads a revision file. Every problem names the file and the line.
pub(crate) fn parse(path: &Path, content: &str) -> Result<Revision> {
    let mut headers: [Option<(String, usize)>; 5] = Default::default();
    let mut section = Section::Header;
    let mut up: Vec<Step> = Vec::new();
    let mut down: Vec<Step> = Vec::new();
    let mut seen_up = None;
    let mut seen_down = None;
    let mut batch: Option<(String, usize, Chunk)> = None;
    let mut chunk = Chunk {
        text: String::new(),
        line: 0,
    };

    // Turns the SQL gathered since the last directive into steps of the current section.
    let flush = |chunk: &mut Chunk, steps: &mut Vec<Step>| -> Result<()> {
        let text = std::mem::take(&mut chunk.text);
        for sql in
            split_statements(&text, chunk.line).map_err(|(line, msg)| fail(path, line, msg))?
        {
            check_statement(path, &sql)?;
            steps.push(Step::Sql(sql));
        }
        Ok(())
    };

    for (index, raw) in content.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if let Some(directive) = line
            .strip_prefix("--")
            .map(str::trim_start)
            .and_then(|l| l.strip_prefix('+'))
        {
            let (word, rest) = directive
                .split_once(char::is_whitespace)
                .unwrap_or((directive, ""));
            let steps = if section == Section::Down {
                &mut down
            } else {
                &mut up
            };
            match word {
                "up" | "down" => {
                    if let Some((table, line, _)) = &batch {
                        return Err(fail(path, number, format!("`-- +{word}` inside the `-- +batch {table}` block of line {line}: close it with `-- +end` first")));
                    }
                    if section != Section::Header {
                        flush(&mut chunk, steps)?;
                    }
                    if word == "down" && seen_up.is_none() {
                        return Err(fail(path, number, "`-- +down` comes before `-- +up`: write the upgrade section first"));
                    }
                    let seen = if word == "up" { &mut seen_up } else { &mut seen_down };
                    if let Some(first) = seen {
                        return Err(fail(path, number, format!("a second `-- +{word}` section (the first is on line {first})")));
                    }
                    *seen = Some(number);
                    section = if word == "up" { Section::Up } else { Section::Down };
                }
                "batch" => {
                    if section == Section::Header {
                        return Err(fail(path, number, "`-- +batch` before `-- +up`: batch blocks belong in a section"));
                    }
                    if let Some((table, line, _)) = &batch {
                        return Err(fail(path, number, format!("`-- +batch` inside the `-- +batch {table}` block of line {line}: close it with `-- +end` first")));
                    }
                    let table = parse_table_name(rest.trim()).map_err(|m| fail(path, number, m))?;
                    flush(&mut chunk, steps)?;
                    batch = Some((table, number, Chunk { text: String::new(), line: number + 1 }));
                }
                "end" => {
                    let Some((table, line, block)) = batch.take() else {
                        return Err(fail(path, number, "`-- +end` without a `-- +batch TABLE` before it"));
                    };
                    steps.push(batch_step(path, table, line, block)?);
                }
                other => {
                    return Err(fail(
                        path,
                        number,
                        format!("unknown directive `-- +{other}` (known: `-- +up`, `-- +down`, `-- +batch TABLE`, `-- +end`)"),
                    ))
                }
            }
            chunk = Chunk {
                text: String::new(),
                line: number + 1,
            };
            continue;
        }
        match section {
            Section::Header => {
                if line.is_empty() {
                    continue;
                }
                let Some(comment) = line.strip_prefix("--") else {
                    return Err(fail(path, number, "SQL before `-- +up`: statements belong in the `-- +up` or `-- +down` section"));
                };
                if let Some((key, value)) = comment.split_once(':') {
                    let key = key.trim();
                    if let Some(slot) = HEADER_KEYS.iter().position(|k| *k == key) {
                        if let Some((_, first)) = &headers[slot] {
                            return Err(fail(
                                path,
                                number,
                                format!("a second `-- {key}:` line (the first is on line {first})"),
                            ));
                        }
                        headers[slot] = Some((value.trim().to_string(), number));
                    }
                }
            }
            Section::Up | Section::Down => {
                let target = match &mut batch {
                    Some((_, _, block)) => block,
                    None => &mut chunk,
                };
                target.text.push_str(raw);
                target.text.push('\n');
            }
        }
    }
    if let Some((table, line, _)) = batch {
        return Err(fail(
            path,
            line,
            format!("`-- +batch {table}` has no `-- +end`"),
        ));
    }
    let last = content.lines().count().max(1);
    match section {
        Section::Header => {}
        Section::Up => flush(&mut chunk, &mut up)?,
        Section::Down => flush(&mut chunk, &mut down)?,
    }

    let [revision, down_revision, message, created, dialect] = headers;
    let missing = |key: &str, example: &str| {
        fail(path, 1, format!("no `-- {key}:` line: a revision file starts with header lines such as `-- {key}: {example}`"))
    };
    let (id, id_line) = revision.ok_or_else(|| missing("revision", "1975ea83b712"))?;
    check_id(&id).map_err(|m| fail(path, id_line, m))?;
    let (parent, parent_line) = down_revision.ok_or_else(|| missing("down_revision", "none"))?;
    let down_revision = match parent.to_ascii_lowercase().as_str() {
        "" | "none" | "base" => None,
        _ => {
            check_id(&parent)
                .map_err(|m| fail(path, parent_line, format!("down_revision: {m}")))?;
            Some(parent)
        }
    };
    if down_revision.as_deref() == Some(id.as_str()) {
        return Err(fail(
            path,
            parent_line,
            format!("revision {id} names itself as its down_revision"),
        ));
    }
    let (message, _) = message.ok_or_else(|| missing("message", "Add email column"))?;
    let dialect = match dialect {
        None => None,
        Some((name, line)) => Some(Dialect::parse(&name).ok_or_else(|| {
            fail(
                path,
                line,
                format!("unknown dialect {name:?}: write `-- dialect: sqlite` or `-- dialect: postgresql`, or leave the line out"),
            )
        })?),
    };
    if seen_up.is_none() {
        return Err(fail(
            path,
            last,
            "no `-- +up` section: write `-- +up` and the upgrade statements under it",
        ));
    }
    if seen_down.is_none() {
        return Err(fail(path, last, "no `-- +down` section: write `-- +down` (with the downgrade statements, or none) after the upgrade"));
    }
    Ok(Revision {
        id,
        down_revision,
        message,
        created: created.map(|(c, _)| c).filter(|c| !c.is_empty()),
        dialect,
        path: path.to_path_buf(),
        content: content.to_string(),
        up,
        down,
    })
}

fn batch_step(path: &Path, table: String, line: usize, block: Chunk) -> Result<Step> {
    let mut statements = split_statements(&block.text, block.line)
        .map_err(|(line, msg)| fail(path, line, msg))?
        .into_iter();
    let Some(create) = statements.next() else {
        return Err(fail(path, line, format!("the `-- +batch {table}` block is empty: it needs the table's new CREATE TABLE statement")));
    };
    match create_table_name(&create.text) {
        Some((name, _)) if name.eq_ignore_ascii_case(&table) => {}
        Some((name, _)) => {
            return Err(fail(path, create.line, format!("the `-- +batch {table}` block must create {table}, but this CREATE TABLE creates {name}")))
        }
        None => {
            return Err(fail(path, create.line, format!("the `-- +batch {table}` block must start with the new CREATE TABLE {table} statement")))
        }
    }
    let after: Vec<Sql> = statements.collect();
    for sql in &after {
        check_statement(path, sql)?;
    }
    Ok(Step::Batch {
        table,
        line,
        create,
        after,
    })
}

/// Statements a revision may not contain: each revision runs in a transaction the runner owns.
fn check_statement(path: &Path, sql: &Sql) -> Result<()> {
    let first = lex(&sql.text, sql.line)
        .ok()
        .and_then(|t| t.into_iter().find(|t| t.kind == Kind::Word));
    if let Some(word) = first {
        let word = word.text(&sql.text).to_ascii_uppercase();
        if ["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"].contains(&word.as_str()) {
            return Err(fail(
                path,
                sql.line,
                format!("{word} does not belong in a revision file: each revision already runs in one transaction of its own"),
            ));
        }
    }
    Ok(())
}

/// A table name as written after `-- +batch`: bare, or in double quotes.
fn parse_table_name(text: &str) -> std::result::Result<String, String> {
    let tokens = lex(text, 1).map_err(|(_, m)| m)?;
    match tokens.as_slice() {
        [one] if matches!(one.kind, Kind::Word | Kind::Ident) => Ok(one.value(text)),
        [] => Err("`-- +batch` needs the name of the table it rebuilds: `-- +batch users`".into()),
        _ => Err(format!(
            "`-- +batch {text}`: expected one table name, like `-- +batch users`"
        )),
    }
}

/// The name a `CREATE TABLE` statement creates, and where that name is written in the text.
pub(crate) fn create_table_name(sql: &str) -> Option<(String, std::ops::Range<usize>)> {
    let tokens = lex(sql, 1).ok()?;
    let word = |i: usize, w: &str| {
        tokens
            .get(i)
            .is_some_and(|t| t.kind == Kind::Word && t.text(sql).eq_ignore_ascii_case(w))
    };
    if !word(0, "CREATE") || !word(1, "TABLE") {
        return None;
    }
    let mut i = 2;
    if word(2, "IF") && word(3, "NOT") && word(4, "EXISTS") {
        i = 5;
    }
    let name = tokens
        .get(i)
        .filter(|t| matches!(t.kind, Kind::Word | Kind::Ident))?;
    let mut span = name.start..name.end;
    let mut value = name.value(sql);
    // `main.users`: the name is the part after the dot.
    if tokens
        .get(i + 1)
        .is_some_and(|t| t.kind == Kind::Punct('.'))
    {
        let table = tokens
            .get(i + 2)
            .filter(|t| matches!(t.kind, Kind::Word | Kind::Ident))?;
        span.end = table.end;
        value = table.value(sql);
    }
    Some((value, span))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A keyword, bare name or number.
    Word,
    /// `"name"`, `[name]` or `` `name` ``.
    Ident,
    /// `'text'`.
    Str,
    Punct(char),
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    line: usize,
}

impl Token {
    fn text<'s>(&self, source: &'s str) -> &'s str {
        &source[self.start..self.end]
    }

    /// The name a word or quoted identifier stands for.
    fn value(&self, source: &str) -> String {
        let text = self.text(source);
        match self.kind {
            Kind::Ident => {
                let inner = &text[1..text.len() - 1];
                match text.as_bytes()[0] {
                    b'"' => inner.replace("\"\"", "\""),
                    b'`' => inner.replace("``", "`"),
                    _ => inner.to_string(),
                }
            }
            _ => text.to_string(),
        }
    }
}

/// SQLite's tokens, as far as splitting statements needs: comments are skipped, strings and
/// quoted names kept whole (so a `;` inside them does not end a statement).
fn lex(source: &str, first_line: usize) -> std::result::Result<Vec<Token>, (usize, String)> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut line = first_line;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let start_line = line;
        // Finds the closing `close` byte; a doubled one is an escaped quote.
        let closed = |i: &mut usize, line: &mut usize, close: u8, doubled: bool, what: &str| {
            *i += 1;
            while *i < bytes.len() {
                if bytes[*i] == b'\n' {
                    *line += 1;
                }
                if bytes[*i] == close {
                    if doubled && bytes.get(*i + 1) == Some(&close) {
                        *i += 2;
                        continue;
                    }
                    *i += 1;
                    return Ok(());
                }
                *i += 1;
            }
            Err((
                start_line,
                format!("{what} that starts here is never closed"),
            ))
        };
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            _ if c.is_ascii_whitespace() => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => match source[i + 2..].find("*/") {
                Some(end) => {
                    line += source[i..i + 2 + end].matches('\n').count();
                    i += end + 4;
                }
                None => {
                    return Err((
                        start_line,
                        "a /* comment that starts here is never closed".into(),
                    ))
                }
            },
            b'\'' => {
                closed(&mut i, &mut line, b'\'', true, "a 'string'")?;
                tokens.push(Token {
                    kind: Kind::Str,
                    start,
                    end: i,
                    line: start_line,
                });
            }
            b'"' | b'`' | b'[' => {
                let (close, doubled) = if c == b'[' { (b']', false) } else { (c, true) };
                closed(&mut i, &mut line, close, doubled, "a quoted name")?;
                tokens.push(Token {
                    kind: Kind::Ident,
                    start,
                    end: i,
                    line: start_line,
                });
            }
            _ if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'_'
                        || bytes[i] == b'$'
                        || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                tokens.push(Token {
                    kind: Kind::Word,
                    start,
                    end: i,
                    line: start_line,
                });
            }
            _ => {
                i += 1;
                tokens.push(Token {
                    kind: Kind::Punct(c as char),
                    start,
                    end: i,
                    line: start_line,
                });
            }
        }
    }
    Ok(tokens)
}

/// Splits SQL text into statements at `;`, each with the line it starts on. A `CREATE TRIGGER`
/// body keeps its inner `;` until its `END`.
pub(crate) fn split_statements(
    source: &str,
    first_line: usize,
) -> std::result::Result<Vec<Sql>, (usize, String)> {
    let tokens = lex(source, first_line)?;
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, token) in tokens.iter().enumerate() {
        let Some(first) = start else {
            if token.kind != Kind::Punct(';') {
                start = Some(i);
            }
            continue;
        };
        if token.kind != Kind::Punct(';') {
            continue;
        }
        let words: Vec<String> = tokens[first..i]
            .iter()
            .take(3)
            .filter(|t| t.kind == Kind::Word)
            .map(|t| t.text(source).to_ascii_uppercase())
            .collect();
        let is_trigger =
            words.first().is_some_and(|w| w == "CREATE") && words.iter().any(|w| w == "TRIGGER");
        let after_end = i > first
            && tokens[i - 1].kind == Kind::Word
            && tokens[i - 1].text(source).eq_ignore_ascii_case("END");
        if is_trigger && !after_end {
            continue;
        }
        out.push(Sql {
            text: source[tokens[first].start..token.start]
                .trim_end()
                .to_string(),
            line: tokens[first].line,
        });
        start = None;
    }
    if let Some(first) = start {
        out.push(Sql {
            text: source[tokens[first].start..].trim_end().to_string(),
            line: tokens[first].line,
        });
    }
    Ok(out)
}

/// The text of a new revision file.
pub(crate) struct Draft<'a> {
    pub id: &'a str,
    pub down_revision: Option<&'a str>,
    /// The engine's dialect, for an autogenerated revision.
    pub dialect: Option<&'a str>,
    pub message: &'a str,
    pub created: &'a str,
    /// Comment lines for the header (what autogenerate found).
    pub notes: Vec<String>,
    pub up: String,
    pub down: String,
}

impl Draft<'_> {
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("-- revision: {}\n", self.id));
        out.push_str(&format!(
            "-- down_revision: {}\n",
            self.down_revision.unwrap_or("none")
        ));
        out.push_str(&format!(
            "-- message: {}\n",
            self.message.replace(['\r', '\n'], " ")
        ));
        out.push_str(&format!("-- created: {}\n", self.created));
        if let Some(dialect) = self.dialect {
            out.push_str(&format!("-- dialect: {dialect}\n"));
        }
        out.push_str(
            "--\n\
             -- `-- +up` runs on upgrade, `-- +down` on downgrade; statements end with `;`. Each revision\n\
             -- runs in one transaction with the version update.",
        );
        if self.dialect == Some(Dialect::Postgres.name()) {
            out.push_str(
                " Written for postgresql, whose ALTER TABLE\n\
                 -- changes columns and constraints in place; its SQL may not run on another database.\n",
            );
        } else {
            out.push_str(
                " A `-- +batch TABLE` ... `-- +end` block\n\
                 -- rebuilds TABLE as its CREATE TABLE says, copying the rows of the columns it keeps (SQLite's\n\
                 -- ALTER TABLE cannot change a column or a constraint); the statements after CREATE TABLE run\n\
                 -- once the new table has its name (its indexes).\n",
            );
        }
        if !self.notes.is_empty() {
            out.push_str("--\n");
            for note in &self.notes {
                out.push_str(&format!("-- {note}\n"));
            }
        }
        out.push_str("\n-- +up\n");
        out.push_str(&self.up);
        out.push_str("\n-- +down\n");
        out.push_str(&self.down);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql_of(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Sql(sql) => format!("{}:{}", sql.line, sql.text),
                Step::Batch {
                    table,
                    create,
                    after,
                    ..
                } => {
                    format!("batch {table}: {} + {}", create.text, after.len())
                }
            })
            .collect()
    }

    #[test]
    fn splits_at_semicolons_outside_strings_comments_and_trigger_bodies() {
        let sql = "INSERT INTO t VALUES ('a;b'); -- c;d\n/* e;\n f */ UPDATE \"x;y\" SET a = 1;\n\
                   CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; DELETE FROM t; END;\nSELECT 1";
        let parts = split_statements(sql, 10).unwrap();
        let texts: Vec<_> = parts.iter().map(|s| (s.line, s.text.as_str())).collect();
        assert_eq!(
            texts,
            [
                (10, "INSERT INTO t VALUES ('a;b')"),
                (12, "UPDATE \"x;y\" SET a = 1"),
                (13, "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; DELETE FROM t; END"),
                (14, "SELECT 1"),
            ]
        );
        assert_eq!(
            split_statements("SELECT 'oops;\n\nmore", 5).unwrap_err().0,
            5
        );
    }

    #[test]
    fn create_table_name_finds_quoted_and_qualified_names() {
        assert_eq!(
            create_table_name("CREATE TABLE \"my \"\"t\"\"\" (a)")
                .unwrap()
                .0,
            "my \"t\""
        );
        let sql = "create table if not exists main.users (a)";
        let (name, span) = create_table_name(sql).unwrap();
        assert_eq!((name.as_str(), &sql[span]), ("users", "main.users"));
        assert!(create_table_name("CREATE INDEX i ON t (a)").is_none());
    }

    #[test]
    fn parses_header_sections_and_batches_with_lines() {
        let text = "-- revision: abc123\n-- down_revision: none\n-- message: First\n\n-- +up\nCREATE TABLE a (x);\n\
                    -- +batch a\nCREATE TABLE a (x, y);\nCREATE INDEX i ON a (y);\n-- +end\n-- +down\nDROP TABLE a;\n";
        let rev = parse(Path::new("v/abc.sql"), text).unwrap();
        assert_eq!(
            (rev.id(), rev.down_revision(), rev.message()),
            ("abc123", None, "First")
        );
        assert_eq!(
            sql_of(&rev.up),
            ["6:CREATE TABLE a (x)", "batch a: CREATE TABLE a (x, y) + 1"]
        );
        assert_eq!(sql_of(&rev.down), ["12:DROP TABLE a"]);
    }
}
