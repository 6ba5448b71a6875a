//! The N+1 note: a cell that ran many SELECTs of one shape (the same SQL, only the bound
//! parameters differing) is loading a relationship lazily, one statement per parent row.
//!
//! Engines append each statement's SQL to the file named by `ORM_STATEMENT_LOG` (set by the
//! kernel before the evaluator starts, so every engine in the evaluation process inherits it);
//! the kernel empties it before a cell and reads it after. Every value is a bound parameter, so
//! statements of one shape have the same text.

use std::collections::HashMap;

/// How many SELECTs of one shape make a note.
pub const THRESHOLD: usize = 20;

/// The note for a cell whose statements (one per line) are `log`, if any shape ran at least
/// [`THRESHOLD`] times.
pub fn note(log: &str) -> Option<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for line in log.lines().map(str::trim) {
        if !line
            .get(..6)
            .is_some_and(|w| w.eq_ignore_ascii_case("select"))
        {
            continue;
        }
        let count = counts.entry(line).or_insert(0);
        if *count == 0 {
            order.push(line);
        }
        *count += 1;
    }
    let (shape, count) = order
        .into_iter()
        .map(|shape| (shape, counts[shape]))
        .filter(|(_, count)| *count >= THRESHOLD)
        .max_by_key(|(_, count)| *count)?;
    let suggestion = match relationship(shape) {
        Some((parent, children)) => format!(
            "load the relationship eagerly in the query that found the {parent} rows, e.g. \
             `.options(selectinload({parent}::{children}))` (or `joinedload`)"
        ),
        None => "load the relationship eagerly in the query that found the parent rows, with \
                 `.options(selectinload(Parent::relationship))` (or `joinedload`)"
            .to_owned(),
    };
    Some(format!(
        "note: this cell ran {count} SELECT statements of the same shape (the N+1 pattern: one \
         query per parent row):\n    {}\n  To load them in one or two statements, {suggestion}.\n  \
         (ORM_KERNEL_NPLUS1=0 in the kernelspec's env turns this note off.)\n",
        shorten(shape, 160)
    ))
}

/// The parent model and the relationship a lazy load's SQL reads: in
/// `SELECT … FROM "posts" WHERE "posts"."user_id" = ?` the children are `posts` and the parent
/// `User` (from the foreign key `user_id`, as the ORM names it).
fn relationship(sql: &str) -> Option<(String, String)> {
    let lower = sql.to_ascii_lowercase();
    let from = lower.find(" from ")? + 6;
    let table = identifier(&sql[from..])?;
    let filter = &sql[lower.find(" where ")? + 7..];
    let mut column = identifier(filter)?;
    let rest = filter.trim_start().trim_start_matches(['"', '`']);
    if let Some(after) = rest.strip_prefix(&*column) {
        let after = after.trim_start_matches(['"', '`']);
        if let Some(qualified) = after.strip_prefix('.') {
            column = identifier(qualified)?;
        }
    }
    let parent = column.strip_suffix("_id")?;
    Some((camel_case(parent), table))
}

/// The identifier at the start of `text` (quoted or bare).
fn identifier(text: &str) -> Option<String> {
    let text = text.trim_start();
    let name: String = match text.strip_prefix(['"', '`']) {
        Some(quoted) => quoted
            .chars()
            .take_while(|&c| c != '"' && c != '`')
            .collect(),
        None => text
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect(),
    };
    (!name.is_empty()).then_some(name)
}

fn camel_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAZY: &str = r#"SELECT "posts"."id", "posts"."title", "posts"."user_id" FROM "posts" WHERE "posts"."user_id" = ?"#;

    #[test]
    fn many_selects_of_one_shape_get_a_note_naming_the_relationship() {
        let mut log = String::from("SELECT \"users\".\"id\" FROM \"users\"\n");
        for _ in 0..25 {
            log.push_str(LAZY);
            log.push('\n');
        }
        let note = note(&log).expect("a note");
        assert!(note.contains("ran 25 SELECT statements"), "{note}");
        assert!(note.contains("selectinload(User::posts)"), "{note}");
        assert!(note.contains(LAZY), "{note}");
    }

    #[test]
    fn few_or_varied_statements_get_no_note() {
        let few = format!("{LAZY}\n").repeat(THRESHOLD - 1);
        assert_eq!(note(&few), None);
        let inserts = "INSERT INTO \"posts\" (\"title\") VALUES (?)\n".repeat(100);
        assert_eq!(note(&inserts), None);
    }

    #[test]
    fn parents_with_compound_names_are_camel_cased() {
        let sql = r#"SELECT "lines"."id" FROM "lines" WHERE "lines"."order_item_id" = ?"#;
        assert_eq!(
            relationship(sql),
            Some(("OrderItem".to_owned(), "lines".to_owned()))
        );
    }
}
