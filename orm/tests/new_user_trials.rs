//! The newest features tried as a new user would (issues 17 and 19), on SQLite and PostgreSQL
//! from one body, with the edge cases public bug reports of SQLAlchemy users hit with the same
//! features: a composite foreign key with one part NULL, a child moved between two
//! composite-key parents, a parent deleted without a cascade (and with a foreign key that has
//! an `on_delete` or is NOT NULL), select-in over odd text keys, `joinedload` with `limit`, a
//! composite `foreign_key` in another order than the key's or naming no column, a model with
//! database-computed columns flushed beside plain ones, and an `onupdate` column when nothing
//! changed. Each expected value is what SQLAlchemy 2.1 gives for the same program (run by hand
//! in the test venv when these tests were written; the values are quoted at each test).

#[macro_use]
mod support;

use orm::prelude::*;
use orm::Value;
use support::models::offerings::{metadata, students, Offering, Registration};
use support::{each_engine, rows};

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn offering(term: &str, code: &str) -> Offering {
    Offering {
        term: term.into(),
        code: code.into(),
        title: format!("{term} {code}"),
    }
}

fn student(name: &str) -> Registration {
    Registration {
        student: name.into(),
        ..Default::default()
    }
}

/// Offerings `2024F`/`A` with students `x` and `y`, `2024F`/`B` with none, and the student
/// `half` whose term is `2024F` and whose code is NULL, committed.
fn two_offerings_and_a_half_key(engine: &Engine) {
    metadata().create_all(engine).unwrap();
    let session = Session::new(engine);
    let a = session.add(offering("2024F", "A"));
    session.add(offering("2024F", "B"));
    a.append(Offering::registrations, student("x")).unwrap();
    a.append(Offering::registrations, student("y")).unwrap();
    session.add(Registration {
        term: Some("2024F".into()),
        ..student("half")
    });
    session.commit().unwrap();
}

/// Each registration's student and the code of its offering (`None` when it has none), by
/// student.
fn offering_codes(registrations: &[Obj<Registration>]) -> Vec<(String, Option<String>)> {
    registrations
        .iter()
        .map(|r| {
            let parent = r.related(Registration::offering).unwrap();
            let code = parent.map(|p| p.borrow().code.clone());
            (r.borrow().student.clone(), code)
        })
        .collect()
}

/// SQLAlchemy: a foreign key with a NULL part points at no parent — the lazy load is not even
/// issued (`half.offering` is `None`), and select-in and joined loading give
/// `[('half', None), ('x', 'A'), ('y', 'A')]`. The database takes the row (MATCH SIMPLE).
#[test]
fn a_composite_foreign_key_with_a_null_part_has_no_parent() {
    each_engine(|engine| {
        two_offerings_and_a_half_key(&engine);
        let want = vec![
            ("half".to_string(), None),
            ("x".to_string(), Some("A".to_string())),
            ("y".to_string(), Some("A".to_string())),
        ];
        let session = Session::new(&engine);
        let half = session
            .query::<Registration>()
            .filter(Registration::student.eq("half"))
            .one()
            .unwrap();
        engine.reset_statement_count();
        assert!(half.related(Registration::offering).unwrap().is_none());
        assert_eq!(engine.statement_count(), 0, "no load for a NULL part");
        for (option, statements) in [
            (selectinload(Registration::offering), 2),
            (joinedload(Registration::offering), 1),
        ] {
            let session = Session::new(&engine);
            engine.reset_statement_count();
            let loaded = session
                .query::<Registration>()
                .order_by(Registration::student)
                .options(option.clone())
                .all()
                .unwrap();
            assert_eq!(offering_codes(&loaded), want, "{option:?}");
            assert_eq!(engine.statement_count(), statements, "{option:?}");
        }
        // From the parent's side: `A` holds x and y, `B` nothing (not `half`).
        let session = Session::new(&engine);
        for (code, students) in [("A", vec!["x", "y"]), ("B", vec![])] {
            let parent = session.get::<Offering>(("2024F", code)).unwrap().unwrap();
            let mut held: Vec<String> = parent
                .related(Offering::registrations)
                .unwrap()
                .iter()
                .map(|r| r.borrow().student.clone())
                .collect();
            held.sort();
            assert_eq!(held, students, "{code}");
        }
    });
}

/// SQLAlchemy: `b.registrations.append(x)` where `x` is in `a.registrations` (cascade
/// `all, delete-orphan`) moves it: `a.registrations` is `['y']` at once, and the commit writes
/// `x`'s new pair — `x` is not an orphan, it has a parent. Rows after:
/// `[('half', '2024F', None), ('x', '2024F', 'B'), ('y', '2024F', 'A')]`.
#[test]
fn a_child_moved_between_two_composite_key_parents_is_updated_not_orphaned() {
    each_engine(|engine| {
        two_offerings_and_a_half_key(&engine);
        let session = Session::new(&engine);
        let a = session.get::<Offering>(("2024F", "A")).unwrap().unwrap();
        let b = session.get::<Offering>(("2024F", "B")).unwrap().unwrap();
        let x = a
            .related(Offering::registrations)
            .unwrap()
            .into_iter()
            .find(|r| r.borrow().student == "x")
            .unwrap();
        b.append(Offering::registrations, &x).unwrap();
        let left: Vec<String> = a
            .related(Offering::registrations)
            .unwrap()
            .iter()
            .map(|r| r.borrow().student.clone())
            .collect();
        assert_eq!(left, ["y"]);
        session.commit().unwrap();
        assert_eq!(
            rows(
                &engine,
                "SELECT student, term, code FROM registrations ORDER BY student"
            ),
            [
                vec![text("half"), text("2024F"), Value::Null],
                vec![text("x"), text("2024F"), text("B")],
                vec![text("y"), text("2024F"), text("A")],
            ]
        );
    });
}

/// A composite-key parent whose collection has no cascade (SQLAlchemy's default,
/// `save-update, merge`).
mod plain {
    use orm::prelude::*;

    offering_model!(
        , has_many(registrations: Registration, foreign_key = "term, code", back_populates = "offering")
    );

    registration_model!(
        , belongs_to(offering: Offering, foreign_key = "term, code", back_populates = "registrations"),
        foreign_key_constraint("term", "code", references = "offerings(term, code)")
    );
}

/// SQLAlchemy: deleting a parent whose collection has no `delete` cascade loads the
/// collection and sets both foreign key columns of each child to NULL before the parent's
/// DELETE (the children stay): `[(1, None, None), (2, None, None)]`. Here without the load: one
/// UPDATE of the rows that point at the parent, then the DELETE.
#[test]
fn deleting_a_composite_key_parent_without_a_cascade_sets_both_columns_to_null() {
    each_engine(|engine| {
        MetaData::new()
            .add::<plain::Offering>()
            .add::<plain::Registration>()
            .create_all(&engine)
            .unwrap();
        let session = Session::new(&engine);
        let parent = session.add(plain::Offering {
            term: "T".into(),
            code: "K".into(),
            title: "t".into(),
        });
        for name in ["p", "q"] {
            parent
                .append(
                    plain::Offering::registrations,
                    plain::Registration {
                        student: name.into(),
                        ..Default::default()
                    },
                )
                .unwrap();
        }
        session.commit().unwrap();
        // A new session: the collection is not loaded when the parent is deleted.
        let session = Session::new(&engine);
        let parent = session.get::<plain::Offering>(("T", "K")).unwrap().unwrap();
        session.delete(&parent).unwrap();
        engine.reset_statement_count();
        session.commit().unwrap();
        assert_eq!(engine.statement_count(), 2, "one UPDATE, one DELETE");
        assert_eq!(
            rows(
                &engine,
                "SELECT student, term, code FROM registrations ORDER BY student"
            ),
            [
                [text("p"), Value::Null, Value::Null],
                [text("q"), Value::Null, Value::Null],
            ]
        );
        assert_eq!(
            rows(&engine, "SELECT count(*) FROM offerings"),
            [[Value::Integer(0)]]
        );
    });
}

/// Keys a driver or a hand-written array literal could mangle: quotes, commas, braces and
/// parentheses (PostgreSQL's array and row literal syntax), a backslash, the word NULL, an
/// empty string, spaces and characters outside ASCII. Each at most 10 characters (the
/// offerings' `VARCHAR(10)`).
const ODD: [&str; 12] = [
    "a'b", "x,y", "{z}", "\"q\"", "b\\s", "NULL", "", " sp ", "(1,2)", "é☃", "a\"}{,", "NULL,",
];

/// Labels with a one-column text key, and notes pointing at one: select-in by one column.
mod labels {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "labels", has_many(notes: Note, foreign_key = "label_code"))]
    pub struct Label {
        #[orm(primary_key)]
        pub code: String,
    }

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "notes")]
    pub struct Note {
        #[orm(primary_key)]
        pub id: i64,
        pub body: String,
        #[orm(foreign_key = "labels.code")]
        pub label_code: Option<String>,
    }
}

/// Each parent's key and its children's names, sorted by key, after `load` (a query with a
/// select-in option) in a new session: `statements` statements in all (lazy loads would add
/// more).
fn check_selectin<P: Model, C: Model>(
    engine: &Engine,
    load: impl Fn(&Session) -> Vec<Obj<P>>,
    key: impl Fn(&P) -> String,
    children: impl Fn(&Obj<P>) -> Vec<Obj<C>>,
    name: impl Fn(&C) -> String,
    statements: u64,
) -> Vec<(String, Vec<String>)> {
    let session = Session::new(engine);
    engine.reset_statement_count();
    let parents = load(&session);
    let mut got: Vec<(String, Vec<String>)> = parents
        .iter()
        .map(|p| {
            let mut names: Vec<String> = children(p).iter().map(|c| name(&c.borrow())).collect();
            names.sort();
            (key(&p.borrow()), names)
        })
        .collect();
    got.sort();
    assert_eq!(engine.statement_count(), statements, "no lazy load left");
    got
}

/// SQLAlchemy loads every parent's children by the exact key, whatever its characters, in
/// chunks of 500 keys. 612 parents: the odd keys, each also with a number after it.
#[test]
fn selectin_loads_odd_text_keys_exactly_one_column_and_composite() {
    each_engine(|engine| {
        use labels::{Label, Note};
        MetaData::new()
            .add::<Label>()
            .add::<Note>()
            .create_all(&engine)
            .unwrap();
        metadata().create_all(&engine).unwrap();
        let keys: Vec<String> = ODD
            .iter()
            .map(|k| k.to_string())
            .chain((0..600).map(|i| format!("{}{i}", ODD[i % ODD.len()])))
            .collect();
        let session = Session::new(&engine);
        let mut want = Vec::new();
        for key in &keys {
            let label = session.add(Label { code: key.clone() });
            let names = vec![format!("{key}/1"), format!("{key}/2")];
            for body in &names {
                label
                    .append(
                        Label::notes,
                        Note {
                            body: body.clone(),
                            ..Default::default()
                        },
                    )
                    .unwrap();
            }
            // The composite key: the odd text as the term, and as the code when it fits.
            let code = if key.chars().count() <= 10 {
                key
            } else {
                "long"
            };
            let parent = session.add(offering(key, code));
            parent
                .append(Offering::registrations, student(&format!("{key}/1")))
                .unwrap();
            parent
                .append(Offering::registrations, student(&format!("{key}/2")))
                .unwrap();
            want.push((key.clone(), names));
        }
        session.commit().unwrap();
        want.sort();
        // 612 parents: the query, then 2 chunks (500 and 112 keys).
        let got = check_selectin(
            &engine,
            |s| {
                let query = s.query::<Label>();
                query.options(selectinload(Label::notes)).all().unwrap()
            },
            |l: &Label| l.code.clone(),
            |l| l.related(Label::notes).unwrap(),
            |n: &Note| n.body.clone(),
            3,
        );
        assert_eq!(got, want, "{}", engine.dialect());
        let got = check_selectin(
            &engine,
            |s| {
                let query = s.query::<Offering>();
                query
                    .options(selectinload(Offering::registrations))
                    .all()
                    .unwrap()
            },
            |o: &Offering| o.term.clone(),
            |o| o.related(Offering::registrations).unwrap(),
            |r: &Registration| r.student.clone(),
            3,
        );
        assert_eq!(got, want, "{}", engine.dialect());
    });
}

/// SQLAlchemy applies `LIMIT` to the parents, not to the joined rows: it wraps the parents'
/// query in a subquery (`FROM (SELECT … LIMIT 2) AS anon_1 LEFT OUTER JOIN registrations …`)
/// and gives `[('C0', ['s0-0', 's0-1', 's0-2']), ('C1', ['s1-0', 's1-1', 's1-2'])]`.
#[test]
fn joinedload_with_limit_limits_the_parents_and_loads_whole_collections() {
    each_engine(|engine| {
        metadata().create_all(&engine).unwrap();
        let session = Session::new(&engine);
        for i in 0..4 {
            let parent = session.add(offering("2024F", &format!("C{i}")));
            for k in 0..3 {
                parent
                    .append(Offering::registrations, student(&format!("s{i}-{k}")))
                    .unwrap();
            }
        }
        session.commit().unwrap();
        let session = Session::new(&engine);
        // SQLAlchemy's shape: the limited query as a subquery, here named as its table.
        let limited = session
            .query::<Offering>()
            .options(joinedload(Offering::registrations))
            .order_by(Offering::code)
            .limit(2);
        assert_eq!(
            limited.to_sql(),
            "SELECT \"offerings\".\"term\", \"offerings\".\"code\", \"offerings\".\"title\", \
             \"registrations\".\"id\", \"registrations\".\"student\", \"registrations\".\"term\", \
             \"registrations\".\"code\" FROM (SELECT \"offerings\".\"term\", \"offerings\".\"code\", \
             \"offerings\".\"title\" FROM \"offerings\" ORDER BY \"offerings\".\"code\" ASC LIMIT 2) \
             AS \"offerings\" LEFT OUTER JOIN \"registrations\" ON (\"registrations\".\"term\" = \
             \"offerings\".\"term\") AND (\"registrations\".\"code\" = \"offerings\".\"code\") ORDER BY \
             \"offerings\".\"code\" ASC",
            "{}",
            engine.dialect()
        );
        engine.reset_statement_count();
        let loaded = limited.all().unwrap();
        let got = students(&loaded);
        assert_eq!(
            got,
            [
                ("C0".to_string(), vec!["s0-0", "s0-1", "s0-2"]),
                ("C1".to_string(), vec!["s1-0", "s1-1", "s1-2"]),
            ]
            .map(|(c, s)| (c, s.into_iter().map(String::from).collect::<Vec<_>>()))
        );
        assert_eq!(engine.statement_count(), 1, "one joined statement");
        // With an offset, and with `first` (a limit of 1): still whole collections, one statement.
        engine.reset_statement_count();
        let loaded = session
            .query::<Offering>()
            .options(joinedload(Offering::registrations))
            .order_by(Offering::code.desc())
            .offset(1)
            .limit(2)
            .all()
            .unwrap();
        assert_eq!(engine.statement_count(), 1, "one joined statement");
        let got: Vec<(String, usize)> = loaded
            .iter()
            .map(|o| {
                let held = o.related(Offering::registrations).unwrap().len();
                (o.borrow().code.clone(), held)
            })
            .collect();
        assert_eq!(got, [("C2".to_string(), 3), ("C1".to_string(), 3)]);
        assert_eq!(engine.statement_count(), 1, "no lazy load left");
        let first = session
            .query::<Offering>()
            .options(joinedload(Offering::registrations))
            .order_by(Offering::code)
            .first()
            .unwrap()
            .unwrap();
        assert_eq!(first.borrow().code, "C0");
        assert_eq!(first.related(Offering::registrations).unwrap().len(), 3);
        assert_eq!(engine.statement_count(), 2);
        // A count is of parents, with or without a limit: the joined load is not in it
        // (SQLAlchemy's `Query.count()` turns eager loads off): 4 and 2, not 12 and 6.
        let joined = session
            .query::<Offering>()
            .options(joinedload(Offering::registrations));
        assert_eq!(joined.clone().count().unwrap(), 4);
        assert_eq!(joined.limit(2).count().unwrap(), 2);
    });
}

/// The relationships name the foreign key columns in another order than the key's, `"code,
/// term"`, where the `foreign_key_constraint` pairs `term` with `offerings.term` and `code` with
/// `offerings.code`.
mod swapped {
    use orm::prelude::*;

    offering_model!(
        , has_many(registrations: Registration, foreign_key = "code, term", back_populates = "offering")
    );

    registration_model!(
        , belongs_to(offering: Offering, foreign_key = "code, term", back_populates = "registrations"),
        foreign_key_constraint("term", "code", references = "offerings(term, code)")
    );
}

/// SQLAlchemy pairs the columns through the constraint (`foreign_keys=[Registration.code,
/// Registration.term]` works as well as the key's order): `[('ann', '2024F', 'C1')]`, and both
/// sides load it back.
#[test]
fn foreign_key_columns_in_another_order_are_paired_by_the_constraint() {
    each_engine(|engine| {
        use swapped::{Offering, Registration};
        MetaData::new()
            .add::<Offering>()
            .add::<Registration>()
            .create_all(&engine)
            .unwrap();
        let session = Session::new(&engine);
        let parent = session.add(Offering {
            term: "2024F".into(),
            code: "C1".into(),
            title: "t".into(),
        });
        parent
            .append(
                Offering::registrations,
                Registration {
                    student: "ann".into(),
                    ..Default::default()
                },
            )
            .unwrap();
        session.commit().unwrap();
        assert_eq!(
            rows(&engine, "SELECT student, term, code FROM registrations"),
            [[text("ann"), text("2024F"), text("C1")]]
        );
        let session = Session::new(&engine);
        let child = session.query::<Registration>().one().unwrap();
        let parent = child.related(Registration::offering).unwrap().unwrap();
        assert_eq!(
            (parent.borrow().term.as_str(), parent.borrow().code.as_str()),
            ("2024F", "C1")
        );
        let session = Session::new(&engine);
        let loaded = session
            .query::<Offering>()
            .options(selectinload(Offering::registrations))
            .one()
            .unwrap();
        let held = loaded.related(Offering::registrations).unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].borrow().student, "ann");
    });
}

/// A venue (a plain model) with events whose `status` and `revision` the database computes.
mod venues {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "venues", has_many(events: Event, foreign_key = "venue_id"))]
    pub struct Venue {
        #[orm(primary_key)]
        pub id: i64,
        pub name: String,
    }

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "events")]
    pub struct Event {
        #[orm(primary_key)]
        pub id: i64,
        pub name: String,
        #[orm(foreign_key = "venues.id")]
        pub venue_id: Option<i64>,
        #[orm(length = 20, server_default = "'draft'")]
        pub status: Option<String>,
        #[orm(server_default = "0", onupdate = "revision + 1")]
        pub revision: Option<i64>,
        #[orm(onupdate = "CURRENT_TIMESTAMP")]
        pub updated_at: Option<NaiveDateTime>,
    }
}

/// SQLAlchemy (`eager_defaults`): a venue with two events, an event of no venue and a venue of
/// no event in one flush — the venues first, then the events with their venue's new key, each
/// event's `status` and `revision` from the `RETURNING`: `[(1, 1, 'draft', 0), (2, 1, 'draft',
/// 0)]`. Then setting `name` to the value it has writes no UPDATE (`is_modified` is `False`):
/// `revision` stays 0 and `updated_at` NULL.
#[test]
fn computed_columns_beside_a_plain_model_in_one_flush_and_no_update_for_an_unchanged_value() {
    each_engine(|engine| {
        use venues::{Event, Venue};
        MetaData::new()
            .add::<Venue>()
            .add::<Event>()
            .create_all(&engine)
            .unwrap();
        let session = Session::new(&engine).expire_on_commit(false);
        let hall = session.add(Venue {
            name: "hall".into(),
            ..Default::default()
        });
        let event = |name: &str| Event {
            name: name.into(),
            ..Default::default()
        };
        let held = [
            hall.append(Venue::events, event("a")).unwrap(),
            hall.append(Venue::events, event("b")).unwrap(),
        ];
        let alone = session.add(event("alone"));
        session.add(Venue {
            name: "empty".into(),
            ..Default::default()
        });
        session.commit().unwrap();
        let hall_id = hall.borrow().id;
        for e in &held {
            let e = e.borrow();
            assert_eq!(
                (e.venue_id, e.status.as_deref(), e.revision),
                (Some(hall_id), Some("draft"), Some(0)),
                "{}",
                e.name
            );
        }
        assert_eq!(alone.borrow().venue_id, None);
        assert_eq!(alone.borrow().status.as_deref(), Some("draft"));
        assert_eq!(
            rows(
                &engine,
                "SELECT e.name, v.name, e.status, e.revision FROM events e \
                 LEFT JOIN venues v ON v.id = e.venue_id ORDER BY e.name"
            ),
            [
                [text("a"), text("hall"), text("draft"), Value::Integer(0)],
                [text("alone"), Value::Null, text("draft"), Value::Integer(0)],
                [text("b"), text("hall"), text("draft"), Value::Integer(0)],
            ]
        );

        // The same value again: no UPDATE, so the `onupdate` columns are not recomputed.
        held[0].borrow_mut().name = "a".into();
        engine.reset_statement_count();
        session.commit().unwrap();
        assert_eq!(engine.statement_count(), 0, "{}", engine.dialect());
        assert_eq!(held[0].borrow().revision, Some(0));
        assert_eq!(held[0].borrow().updated_at, None);
        assert_eq!(
            rows(
                &engine,
                "SELECT revision, updated_at FROM events WHERE name = 'a'"
            ),
            [[Value::Integer(0), Value::Null]]
        );
    });
}

/// A relationship whose `foreign_key` names a column the child does not have (`cod`).
mod misspelled {
    use orm::prelude::*;

    offering_model!(, has_many(registrations: Registration, foreign_key = "term, cod"));

    registration_model!(, belongs_to(offering: Offering, foreign_key = "term, cod"));
}

/// SQLAlchemy refuses a `foreign_keys` that names no column of the child when the mappers are
/// configured, naming it. Here: at first use, an `Error::InvalidRequest` naming the
/// relationship, the table, the missing column, the columns there are and how to declare a
/// two-column foreign key; nothing is written.
#[test]
fn a_foreign_key_naming_no_column_is_an_error_naming_table_and_column() {
    each_engine(|engine| {
        use misspelled::{Offering, Registration};
        metadata().create_all(&engine).unwrap();
        let session = Session::new(&engine);
        let parent = session.add(Offering {
            term: "2024F".into(),
            code: "C1".into(),
            title: "t".into(),
        });
        session.commit().unwrap();
        let said = |result: orm::Result<()>| match result {
            Err(Error::InvalidRequest(message)) => message,
            other => panic!("expected InvalidRequest, got {other:?}"),
        };
        let declare = "declare the foreign key with #[orm(foreign_key_constraint(\"…\", \"…\", \
                       references = \"offerings(term, code)\"))] on the model, or fix the \
                       relationship's foreign_key";
        let has_many = format!(
            "relationship offerings.registrations: model of table registrations has no column \
             `cod` (its columns: id, student, term, code); {declare}"
        );
        assert_eq!(
            said(parent.related(Offering::registrations).map(drop)),
            has_many
        );
        let appended = parent.append(
            Offering::registrations,
            Registration {
                student: "Zed".into(),
                ..Default::default()
            },
        );
        assert_eq!(said(appended.map(drop)), has_many);
        session.commit().unwrap();
        assert_eq!(
            rows(&engine, "SELECT count(*) FROM registrations"),
            [[Value::Integer(0)]]
        );
        let child = session.add(Registration {
            student: "Ann".into(),
            ..Default::default()
        });
        assert_eq!(
            said(child.set_related(Registration::offering, Some(&parent))),
            format!(
                "relationship registrations.offering: model of table registrations has no \
                 column `cod` (its columns: id, student, term, code); {declare}"
            )
        );
    });
}

/// An owner with pets whose foreign key is NOT NULL and cars whose foreign key the database
/// cascades (`on_delete = "cascade"`), neither relationship with an ORM cascade.
mod owners {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, Default)]
    #[orm(
        table = "owners",
        has_many(pets: Pet, foreign_key = "owner_id"),
        has_many(cars: Car, foreign_key = "owner_id")
    )]
    pub struct Owner {
        #[orm(primary_key)]
        pub id: i64,
        pub name: String,
    }

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "pets")]
    pub struct Pet {
        #[orm(primary_key)]
        pub id: i64,
        #[orm(foreign_key = "owners.id")]
        pub owner_id: i64,
    }

    #[derive(Model, Debug, Clone, Default)]
    #[orm(table = "cars")]
    pub struct Car {
        #[orm(primary_key)]
        pub id: i64,
        #[orm(foreign_key = "owners.id", on_delete = "cascade")]
        pub owner_id: Option<i64>,
    }
}

/// The database's own rules stay in charge where the schema states them. A foreign key with
/// `ON DELETE CASCADE`: the cars go with their owner, as SQLAlchemy's `passive_deletes=True`
/// leaves them to the database (no load, no UPDATE). A NOT NULL foreign key cannot be cleared:
/// the DELETE is refused by the database, the error naming the table, and nothing is lost.
#[test]
fn a_parent_delete_leaves_on_delete_and_not_null_foreign_keys_to_the_database() {
    each_engine(|engine| {
        use owners::{Car, Owner, Pet};
        MetaData::new()
            .add::<Owner>()
            .add::<Pet>()
            .add::<Car>()
            .create_all(&engine)
            .unwrap();
        let session = Session::new(&engine);
        let ann = session.add(Owner {
            name: "Ann".into(),
            ..Default::default()
        });
        let bob = session.add(Owner {
            name: "Bob".into(),
            ..Default::default()
        });
        session.commit().unwrap();
        let (ann_id, bob_id) = (ann.borrow().id, bob.borrow().id);
        session.add(Pet {
            owner_id: ann_id,
            ..Default::default()
        });
        session.add_all([Some(ann_id), Some(bob_id)].map(|owner_id| Car {
            owner_id,
            ..Default::default()
        }));
        session.commit().unwrap();

        let session = Session::new(&engine);
        let bob = session.get::<Owner>(bob_id).unwrap().unwrap();
        session.delete(&bob).unwrap();
        engine.reset_statement_count();
        session.commit().unwrap();
        assert_eq!(engine.statement_count(), 1, "the owner's DELETE alone");
        assert_eq!(
            rows(&engine, "SELECT owner_id FROM cars"),
            [[Value::Integer(ann_id)]]
        );

        let ann = session.get::<Owner>(ann_id).unwrap().unwrap();
        session.delete(&ann).unwrap();
        match session.commit() {
            Err(Error::ForeignKeyViolation { table, detail, .. }) => {
                assert_eq!(table, "owners");
                // PostgreSQL names the referring table; SQLite's error does not.
                let referring = match engine.dialect() {
                    "postgresql" => "pets",
                    _ => "other tables",
                };
                assert_eq!(
                    detail,
                    format!(
                        "rows in {referring} still refer to the row being deleted (delete them \
                         first, or declare a cascade)"
                    )
                );
            }
            other => panic!(
                "{}: expected a foreign key violation, got {other:?}",
                engine.dialect()
            ),
        }
        assert_eq!(
            rows(&engine, "SELECT count(*) FROM owners"),
            [[Value::Integer(1)]]
        );
        assert_eq!(
            rows(&engine, "SELECT owner_id FROM pets"),
            [[Value::Integer(ann_id)]]
        );
    });
}
