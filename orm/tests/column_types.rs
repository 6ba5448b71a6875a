//! Every column type of the lesson round-trips (on SQLite and PostgreSQL) with its options in the
//! DDL. PostgreSQL's own DDL and types are checked in `postgres_engine.rs`.

mod support;

use orm::prelude::*;
use serde_json::json;

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "events")]
pub struct Event {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(length = 80)]
    pub title: String,
    #[orm(text)]
    pub body: String,
    pub score: f64,
    pub public: bool,
    pub starts_at: NaiveDateTime,
    pub day: NaiveDate,
    pub time: NaiveTime,
    pub data: serde_json::Value,
    #[orm(default = "draft", index)]
    pub status: Option<String>,
    #[orm(default = 3)]
    pub priority: Option<i64>,
    pub note: Option<String>,
}

fn sample() -> Event {
    Event {
        id: 0,
        title: "Launch".into(),
        body: "A long text ".repeat(100),
        score: 4.25,
        public: true,
        starts_at: NaiveDate::from_ymd_opt(2024, 5, 17)
            .unwrap()
            .and_hms_micro_opt(9, 30, 15, 250)
            .unwrap(),
        day: NaiveDate::from_ymd_opt(2024, 5, 17).unwrap(),
        time: NaiveTime::from_hms_opt(23, 59, 1).unwrap(),
        data: json!({"tags": ["a", "b"], "n": 1, "nested": {"ok": true}}),
        status: None,
        priority: None,
        note: None,
    }
}

#[test]
fn every_type_round_trips_and_defaults_apply() {
    support::each_engine(|engine| {
        MetaData::new().add::<Event>().create_all(&engine).unwrap();
        let session = Session::new(&engine);
        let added = session.add(sample());
        session.commit().unwrap();
        assert_eq!(added.borrow().status.as_deref(), Some("draft"));
        assert_eq!(added.borrow().priority, Some(3));

        let fresh = Session::new(&engine);
        let loaded = fresh.query::<Event>().one().unwrap().get();
        let mut expected = sample();
        expected.id = 1;
        expected.status = Some("draft".into());
        expected.priority = Some(3);
        assert_eq!(loaded, expected);

        let on_day = fresh
            .query::<Event>()
            .filter(Event::day.eq(NaiveDate::from_ymd_opt(2024, 5, 17).unwrap()))
            .count()
            .unwrap();
        assert_eq!(on_day, 1);
        assert_eq!(
            fresh
                .query::<Event>()
                .filter(Event::public.eq(true))
                .count()
                .unwrap(),
            1
        );
    });
}

#[test]
fn ddl_carries_types_lengths_nullability_and_defaults() {
    let engine = create_engine("sqlite:///:memory:").unwrap();
    MetaData::new().add::<Event>().create_all(&engine).unwrap();
    let sql = engine
        .execute(orm::core::text(
            "SELECT sql FROM sqlite_master WHERE name = 'events'",
        ))
        .unwrap();
    let ddl = sql.rows[0][0].to_string();
    for part in [
        "\"id\" INTEGER NOT NULL PRIMARY KEY",
        "\"title\" VARCHAR(80) NOT NULL",
        "\"body\" TEXT NOT NULL",
        "\"score\" FLOAT NOT NULL",
        "\"public\" BOOLEAN NOT NULL",
        "\"starts_at\" TIMESTAMP NOT NULL",
        "\"day\" DATE NOT NULL",
        "\"time\" TIME NOT NULL",
        "\"data\" JSON NOT NULL",
        "\"status\" VARCHAR DEFAULT 'draft'",
        "\"priority\" INTEGER DEFAULT 3",
        "\"note\" VARCHAR",
    ] {
        assert!(ddl.contains(part), "{part} missing from {ddl}");
    }
    let index = engine
        .execute(orm::core::text(
            "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='events'",
        ))
        .unwrap();
    assert_eq!(index.rows[0][0].to_string(), "ix_events_status");
}

#[test]
fn large_integer_keys_are_never_truncated() {
    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "big")]
    pub struct Big {
        #[orm(primary_key)]
        pub id: i64,
        pub n: i64,
    }
    let engine = create_engine("sqlite:///:memory:").unwrap();
    MetaData::new().add::<Big>().create_all(&engine).unwrap();
    let session = Session::new(&engine);
    session.add(Big {
        id: i64::MAX - 1,
        n: i64::MIN,
    });
    let next = session.add(Big { id: 0, n: 1 });
    session.commit().unwrap();
    assert_eq!(next.borrow().id, i64::MAX);
    let fresh = Session::new(&engine);
    let got = fresh.get::<Big>(i64::MAX - 1).unwrap().unwrap();
    assert_eq!(got.borrow().n, i64::MIN);
}
