//! Database URLs in SQLAlchemy's form.

use crate::error::{Error, Result};
use std::fmt;
use std::path::PathBuf;

/// Where a database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    SqliteMemory,
    SqliteFile(PathBuf),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<DatabaseUrl> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: redact(url),
            reason: reason.to_string(),
        };
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(invalid("expected SCHEME://…"));
        };
        match scheme {
            "sqlite" => {}
            "postgresql" | "postgres" | "postgresql+psycopg2" => {
                return Err(invalid("PostgreSQL is not available in this build of orm"))
            }
            other => return Err(invalid(&format!("unknown database kind {other:?}"))),
        }
        if rest.contains('?') {
            return Err(invalid("query options are not supported for SQLite URLs"));
        }
        let path = match rest.strip_prefix('/') {
            Some(p) => p,
            None if rest.is_empty() => return Ok(DatabaseUrl::SqliteMemory),
            None => return Err(invalid("a SQLite URL has three slashes before a relative path (sqlite:///app.db) and four before an absolute one")),
        };
        match path {
            "" | ":memory:" => Ok(DatabaseUrl::SqliteMemory),
            p => Ok(DatabaseUrl::SqliteFile(PathBuf::from(p))),
        }
    }
}

/// Hides a password in `scheme://user:password@host`.
fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((userinfo, host)) = rest.split_once('@') {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.to_string()
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::SqliteMemory => f.write_str("sqlite:///:memory:"),
            DatabaseUrl::SqliteFile(p) => write!(f, "sqlite:///{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_lesson_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///:memory:").unwrap(),
            DatabaseUrl::SqliteMemory
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://").unwrap(),
            DatabaseUrl::SqliteMemory
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///myapp.db").unwrap(),
            DatabaseUrl::SqliteFile("myapp.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:////tmp/a.db").unwrap(),
            DatabaseUrl::SqliteFile("/tmp/a.db".into())
        );
    }

    #[test]
    fn bad_urls_say_what_is_supported_and_hide_passwords() {
        let err = DatabaseUrl::parse("mysql://root:secret@localhost/db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown database kind \"mysql\""), "{err}");
        assert!(err.contains("sqlite:///:memory:"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        let err = DatabaseUrl::parse("not a url").unwrap_err().to_string();
        assert!(err.contains("SCHEME://"), "{err}");
        let err = DatabaseUrl::parse("sqlite://relative.db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("three slashes"), "{err}");
    }
}
