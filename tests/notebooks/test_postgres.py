"""The lesson and the exercises' solution through the rust-orm kernel on a real PostgreSQL server
(issue 17: "the lesson notebook and the exercises run through the kernel on PostgreSQL as they do on
SQLite").

One kernel per notebook, one pass: `ORM_FEATURES=postgres` makes the kernel build `orm` with its
driver, and `DATABASE_URL` names a database of this test's own on the server `tests/postgres.sh`
started (`ORM_TEST_POSTGRES_URL`), so every engine the notebooks make from the environment is on
PostgreSQL. Every cell must run without an error, and each cell's results (tables, values, printed
lines; the SQL a cell shows is left out, as each database has its own) must equal those of the
SQLite run: in order where the notebook defines the order, as the same multiset of lines where it
does not (a query without ORDER BY).

Without a server the test fails, saying how to start one; outside CI it may be skipped on purpose
with ORM_TEST_SKIP_POSTGRES=1, as the Rust tests' PostgreSQL runs (orm/tests/support). Under
CI=true a missing server always fails.
"""
import os
import re
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from conftest import ROOT, execute, text_of

URL_VARIABLE = "ORM_TEST_POSTGRES_URL"
SKIP_VARIABLE = "ORM_TEST_SKIP_POSTGRES"

#: Lesson cells whose output is the database's own by design, by cell id, with the reason.
LESSON_DIALECT_CELLS = {
    "cell-024": "each database's catalog of tables and indexes (sqlite_master, pg_tables)",
    "cell-068": "a new revision's id and creation time (new on every run)",
    "cell-080": "each database's query plan (EXPLAIN QUERY PLAN, EXPLAIN)",
    "cell-084": "the URL of the engine itself",
}
#: Solution cells whose output is new on every run: the id of the revision made by the check of ex9.
SOLUTION_DIALECT_CELLS = {"cell-037": "a new revision's id (new on every run; ex9 is on a SQLite file)"}
#: The tables the lesson makes on the server (and drops in its last cell).
LESSON_TABLES = ["users", "posts", "events", "students", "courses", "student_courses"]
#: Lesson cells whose rows come from a query without ORDER BY: compared as multisets of lines.
LESSON_UNORDERED_CELLS = {"cell-005", "cell-007", "cell-029", "cell-043", "cell-046", "cell-049"}


def postgres_server():
    """The URL of the test server, or a skip/failure saying why there is none."""
    url = os.environ.get(URL_VARIABLE, "").strip()
    if url:
        return url
    how = f'start one with `eval "$(bash tests/postgres.sh start)"` (it exports {URL_VARIABLE})'
    if os.environ.get("CI") == "true":
        pytest.fail(f"{URL_VARIABLE} is not set under CI: the notebooks cannot be run on PostgreSQL; {how}")
    if os.environ.get(SKIP_VARIABLE) == "1":
        pytest.skip(f"{SKIP_VARIABLE}=1: the notebooks are not run on PostgreSQL")
    pytest.fail(f"{URL_VARIABLE} is not set: {how}, or skip on purpose with {SKIP_VARIABLE}=1")


@pytest.fixture(scope="session")
def database_url():
    """A database of this test session's own on the test server (dropped afterwards): its URL."""
    server = postgres_server()
    name = f"orm_notebooks_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_on_postgres(path, database_url, tmp_path):
    """The notebook at `path` run through the kernel with orm's PostgreSQL driver and DATABASE_URL."""
    env = dict(os.environ, ORM_FEATURES="postgres", DATABASE_URL=database_url, TMPDIR=str(tmp_path))
    return execute(path, env)


def without_sql(text):
    """A cell's text without the SQL it shows: echoed statements (`SQL: …` with their parameter and
    continuation lines) and statements printed on lines of their own (`to_sql()`, the N+1 note)."""
    kept, in_echo = [], False
    for line in text.splitlines():
        if line.startswith("SQL: "):
            in_echo = True
            continue
        if in_echo and (line.startswith((" ", "\t")) or line == ")"):
            continue
        in_echo = False
        if re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP) ", line):
            continue
        kept.append(line)
    return kept


def results_by_cell(nb):
    """Code cells' results by cell id: each cell's output lines, SQL left out."""
    return {c.id: without_sql(text_of(c)) for c in nb.cells if c.cell_type == "code"}


def compare_with_sqlite(sqlite_nb, postgres_nb, dialect_cells, unordered_cells):
    """Asserts each code cell's results on PostgreSQL equal SQLite's (cells in `dialect_cells`
    aside; `unordered_cells` as multisets of lines); returns how many cells were compared."""
    sqlite, postgres = results_by_cell(sqlite_nb), results_by_cell(postgres_nb)
    assert sqlite.keys() == postgres.keys()
    compared = 0
    for cell_id, expected in sqlite.items():
        if cell_id in dialect_cells:
            continue
        got = postgres[cell_id]
        if cell_id in unordered_cells:
            expected, got = sorted(expected), sorted(got)
        assert got == expected, f"cell {cell_id}: PostgreSQL's results differ from SQLite's"
        compared += bool(expected)
    return compared


# `database_url` comes first in each test's fixtures: without a server, the test stops before it
# runs the SQLite notebook it would compare with.
def test_lesson_runs_on_postgres_with_sqlites_results(database_url, lesson, tmp_path):
    postgres = run_on_postgres(ROOT / "notebooks" / "lesson.ipynb", database_url, tmp_path)
    # Every engine of the lesson's sections but the SQLite-only ones (files, migrations) is on the server.
    url_cell = next(c for c in postgres.cells if c.id == "cell-084")
    assert text_of(url_cell).startswith('"postgresql://'), text_of(url_cell)
    compared = compare_with_sqlite(lesson, postgres, LESSON_DIALECT_CELLS, LESSON_UNORDERED_CELLS)
    # 33 of the lesson's code cells show results: all but the few listed above were compared.
    assert compared >= 30, f"only {compared} cells with results compared"
    expire = next(c for c in postgres.cells if "check-expire-on-commit" in c.metadata.get("tags", []))
    assert text_of(expire).strip() == "(true, Some(17), Some(18))"
    with psycopg.connect(database_url, autocommit=True) as conn:
        # The rows were written on the server: section 10 alone inserts 1,000 users and 3,000 posts.
        # (A backend reports its counts when it ends; the kernel has just closed its connections.)
        deadline = time.monotonic() + 10
        while (inserted := rows_inserted(conn)) < 4000 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert inserted >= 4000, f"{inserted} rows inserted in the test database"
        # The last cell drops the lesson's tables from the server.
        left = conn.execute("SELECT tablename FROM pg_tables WHERE tablename = ANY(%s)", (LESSON_TABLES,)).fetchall()
    assert left == []
    assert list(tmp_path.iterdir()) == []


def rows_inserted(conn):
    """How many rows have been inserted into the connection's database (PostgreSQL's statistics)."""
    conn.execute("SELECT pg_stat_clear_snapshot()")
    return conn.execute("SELECT tup_inserted FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


def test_exercises_solution_runs_on_postgres_with_sqlites_results(database_url, solution, tmp_path):
    postgres = run_on_postgres(ROOT / "grader" / "assignment" / "solution.ipynb", database_url, tmp_path)
    compared = compare_with_sqlite(solution, postgres, SOLUTION_DIALECT_CELLS, set())
    # The library table and the eight checks with a result.
    assert compared >= 8, f"only {compared} cells with results compared"
    # library() made its tables on the server: the last test of ex8 left its 4 + 50 authors there.
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM authors").fetchone() == (54,)
