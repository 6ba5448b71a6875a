//! Database URLs in SQLAlchemy's form.

use crate::error::{Error, Result};
use std::fmt;
use std::path::PathBuf;

/// Where a database lives. `Debug` and `Display` never show a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite:///:memory:`: a database in memory, gone with the engine.
    SqliteMemory,
    /// `sqlite:///path`: a SQLite file (relative to the working folder, or absolute with `////`).
    SqliteFile(PathBuf),
    /// `postgresql://…`: a PostgreSQL server and database.
    Postgres(PostgresUrl),
}

/// A PostgreSQL server and database, from `postgresql://USER:PASS@HOST:PORT/DB?OPTIONS` (libpq's
/// form). The password is kept for connecting and shown nowhere.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl {
    /// The user to connect as (libpq's default: the operating system's user).
    pub user: Option<String>,
    /// The password, percent-decoded; never shown.
    pub password: Option<String>,
    /// A host name or address; with `?host=/path` a folder holding the server's Unix socket.
    pub host: String,
    /// The TCP port (PostgreSQL's default: 5432).
    pub port: Option<u16>,
    /// The database name (the server's default: the user's name).
    pub dbname: Option<String>,
    /// `sslmode`: `disable`, `allow` or `prefer` (all connect without TLS here).
    pub sslmode: Option<String>,
    /// `connect_timeout`, in seconds (10 when not given).
    pub connect_timeout: Option<u64>,
    /// `application_name`, as the server's `pg_stat_activity` shows it.
    pub application_name: Option<String>,
}

impl DatabaseUrl {
    /// Reads a database URL (`sqlite:///…`, `postgresql://…`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`] saying what is wrong with it.
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
            // SQLAlchemy's driver suffixes are accepted: the driver here is always `postgres`.
            "postgresql" | "postgres" | "postgresql+psycopg2" | "postgresql+psycopg" => {
                return PostgresUrl::parse(rest)
                    .map(DatabaseUrl::Postgres)
                    .map_err(|reason| invalid(&reason))
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

impl PostgresUrl {
    /// Parses what follows `postgresql://`; the error is a reason, worded for the learner.
    fn parse(rest: &str) -> std::result::Result<PostgresUrl, String> {
        let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, dbname) = location.split_once('/').unwrap_or((location, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((user, pass)) => (Some(decode(user)?), Some(decode(pass)?)),
                None => (Some(decode(u)?), None),
            },
            None => (None, None),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            // `[::1]:5432`: the colon after the bracket is the port's.
            Some((h, p)) if !p.contains(']') => {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| format!("the port {p:?} is not a number from 1 to 65535"))?;
                (h, Some(port))
            }
            _ => (hostport, None),
        };
        let mut url = PostgresUrl {
            user: user.filter(|u| !u.is_empty()),
            password,
            host: decode(host.trim_start_matches('[').trim_end_matches(']'))?,
            port,
            dbname: Some(decode(dbname)?).filter(|d| !d.is_empty()),
            sslmode: None,
            connect_timeout: None,
            application_name: None,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value)?;
            match key {
                "sslmode" => match value.as_str() {
                    "disable" | "allow" | "prefer" => url.sslmode = Some(value),
                    "require" | "verify-ca" | "verify-full" => {
                        return Err(format!(
                            "sslmode={value} needs TLS, which this build of orm does not include \
                             (use sslmode=disable or prefer on a trusted network, or a Unix socket)"
                        ))
                    }
                    other => {
                        return Err(format!(
                            "sslmode={other:?} is not one of disable, allow, prefer, require, \
                             verify-ca, verify-full"
                        ))
                    }
                },
                "host" => url.host = value,
                "port" => {
                    url.port = Some(value.parse().map_err(|_| {
                        format!("the port {value:?} is not a number from 1 to 65535")
                    })?)
                }
                "user" => url.user = Some(value),
                "password" => url.password = Some(value),
                "dbname" => url.dbname = Some(value),
                "connect_timeout" => {
                    url.connect_timeout = Some(value.parse().map_err(|_| {
                        format!("connect_timeout={value:?} is not a number of seconds")
                    })?)
                }
                "application_name" => url.application_name = Some(value),
                other => {
                    return Err(format!(
                        "the option {other:?} is not supported (supported: sslmode, host, port, \
                         user, password, dbname, connect_timeout, application_name)"
                    ))
                }
            }
        }
        if url.host.is_empty() {
            url.host = "localhost".into();
        }
        Ok(url)
    }
}

/// Percent-decoding, as in any URL (`p%40ss` is `p@ss`).
fn decode(part: &str) -> std::result::Result<String, String> {
    percent_encoding::percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| "a part of the URL is not valid percent-encoded UTF-8".into())
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
            DatabaseUrl::Postgres(pg) => pg.fmt(f),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// `postgresql://user:***@host:port/db`: the password never leaves this struct.
impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("postgresql://")?;
        if let Some(user) = &self.user {
            f.write_str(user)?;
            if self.password.is_some() {
                f.write_str(":***")?;
            }
            f.write_str("@")?;
        }
        let socket = self.host.starts_with('/');
        if !socket {
            f.write_str(&self.host)?;
            if let Some(port) = self.port {
                write!(f, ":{port}")?;
            }
        }
        write!(f, "/{}", self.dbname.as_deref().unwrap_or(""))?;
        if socket {
            write!(f, "?host={}", self.host)?;
            if let Some(port) = self.port {
                write!(f, "&port={port}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgresUrl({self})")
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
    fn parses_postgres_urls_and_never_shows_the_password() {
        let url = DatabaseUrl::parse("postgresql://scott:tiger@db.example:6543/shop").unwrap();
        let DatabaseUrl::Postgres(pg) = &url else {
            panic!("{url:?}")
        };
        assert_eq!(pg.user.as_deref(), Some("scott"));
        assert_eq!(pg.password.as_deref(), Some("tiger"));
        assert_eq!((pg.host.as_str(), pg.port), ("db.example", Some(6543)));
        assert_eq!(pg.dbname.as_deref(), Some("shop"));
        assert_eq!(
            url.to_string(),
            "postgresql://scott:***@db.example:6543/shop"
        );
        assert!(!format!("{url:?}").contains("tiger"));
        let socket =
            DatabaseUrl::parse("postgres://me@/lessons?host=/run/postgresql&sslmode=disable")
                .unwrap();
        assert_eq!(
            socket.to_string(),
            "postgresql://me@/lessons?host=/run/postgresql"
        );
        let plain = DatabaseUrl::parse("postgresql://localhost").unwrap();
        assert_eq!(plain.to_string(), "postgresql://localhost/");
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
        let err = DatabaseUrl::parse("postgresql://u:pw@h/db?sslmode=require")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sslmode=require needs TLS"), "{err}");
        assert!(!err.contains("pw@"), "{err}");
        let err = DatabaseUrl::parse("postgresql://u@h:99999/db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("port \"99999\""), "{err}");
        let err = DatabaseUrl::parse("postgresql://u@h/db?colour=blue")
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"colour\" is not supported"), "{err}");
        let err = DatabaseUrl::parse("sqlite://relative.db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("three slashes"), "{err}");
    }
}
