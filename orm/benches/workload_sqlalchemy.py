"""The standard workload (DESIGN.md) through SQLAlchemy 2.x on in-memory SQLite, as orm/benches/workload.rs
runs it through `orm` and rusqlite: same schema, same data, same steps. Prints JSON.

    python workload_sqlalchemy.py [--n N] [--runs R] [--only load|empty] [--url URL]

--url runs it on another database (a PostgreSQL URL: postgresql+psycopg://…), emptied first.

Without --only: every step, R times, the median per step in seconds, and the process's peak RSS.
With --only load / empty: the memory check of "load all" (fill with SQL alone, then hold every
user, or run the same query keeping one row), as the Rust binary does.
"""
import argparse
import json
import os
import resource
import statistics
import time

import sqlalchemy
from sqlalchemy import ForeignKey, String, create_engine, event, func, literal_column, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, joinedload, mapped_column, relationship, selectinload

STEPS = ["insert users", "insert posts", "load all", "filtered queries", "get by key", "lazy N+1",
         "eager joined", "eager select-in", "update", "aggregates", "delete"]
FIRST = 1000
QUERIES = 1000
AGGREGATES = 100


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String, index=True)
    email: Mapped[str | None] = mapped_column(String, unique=True)
    age: Mapped[int | None] = mapped_column(index=True)
    posts: Mapped[list["Post"]] = relationship(cascade="all, delete-orphan")


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)


# The data, the same values as the Rust binary.
def user_name(i): return f"user{i:05d}"
def user_email(i): return f"user{i}@example.com"
def user_age(i): return 18 + (i * 7) % 63
def post_title(j): return f"post {j}"
def post_user(j, n): return j % n + 1
def filter_age(q): return 18 + (q * 13) % 63
def get_key(k, n): return k * 7919 % n + 1


URL = "sqlite://"


def new_engine():
    engine = create_engine(URL)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _foreign_keys(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA foreign_keys = ON")

    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    return engine


def run(n):
    engine = new_engine()
    timings = {}
    check = 0

    def step(name):
        def wrap(fn):
            start = time.perf_counter()
            fn()
            timings[name] = time.perf_counter() - start
        return wrap

    @step("insert users")
    def _():
        with Session(engine) as s:
            for i in range(n):
                s.add(User(name=user_name(i), email=user_email(i), age=user_age(i)))
            s.commit()

    @step("insert posts")
    def _():
        with Session(engine) as s:
            for j in range(5 * n):
                s.add(Post(title=post_title(j), user_id=post_user(j, n)))
            s.commit()

    @step("load all")
    def _():
        nonlocal check
        with Session(engine) as s:
            check += len(s.scalars(select(User)).all())

    @step("filtered queries")
    def _():
        nonlocal check
        with Session(engine) as s:
            for q in range(QUERIES):
                rows = s.scalars(select(User).where(User.age > filter_age(q)).order_by(User.name).limit(10)).all()
                check += len(rows)

    @step("get by key")
    def _():
        nonlocal check
        with Session(engine) as s:
            for k in range(QUERIES):
                check += s.get(User, get_key(k, n)) is not None

    first = select(User).where(User.id <= FIRST).order_by(User.id)

    @step("lazy N+1")
    def _():
        nonlocal check
        with Session(engine) as s:
            for user in s.scalars(first).all():
                check += len(user.posts)

    @step("eager joined")
    def _():
        nonlocal check
        with Session(engine) as s:
            for user in s.scalars(first.options(joinedload(User.posts))).unique().all():
                check += len(user.posts)

    @step("eager select-in")
    def _():
        nonlocal check
        with Session(engine) as s:
            for user in s.scalars(first.options(selectinload(User.posts))).all():
                check += len(user.posts)

    @step("update")
    def _():
        with Session(engine) as s:
            for user in s.scalars(select(User)).all():
                user.age = user.age + 1
            s.commit()

    # PostgreSQL refuses `SELECT age % $1 … GROUP BY age % $2` (two parameters: two expressions
    # to it), so there the 10 is written into the SQL; `orm` groups by position instead.
    ten = literal_column("10") if engine.dialect.name == "postgresql" else 10
    bucket = User.age % ten

    @step("aggregates")
    def _():
        nonlocal check
        with Session(engine) as s:
            for _ in range(AGGREGATES):
                rows = s.execute(select(bucket, func.avg(User.age)).group_by(bucket)).all()
                check += len(rows)

    @step("delete")
    def _():
        with Session(engine) as s:
            for user in s.scalars(first.options(selectinload(User.posts))).all():
                s.delete(user)
            s.commit()

    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(User)) == n - FIRST
    engine.dispose()
    return timings


def fill_sql(n):
    return (f"WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < {n}) "
            "INSERT INTO users (name, email, age) "
            "SELECT printf('user%05d', i), printf('user%d@example.com', i), 18 + (i * 7) % 63 FROM seq")


def vm_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def memory_check(mode, n):
    engine = new_engine()
    with engine.begin() as conn:
        conn.execute(text(fill_sql(n)))
        row_bytes = conn.execute(text(
            "SELECT sum(8 + length(CAST(name AS BLOB)) + coalesce(length(CAST(email AS BLOB)), 0) "
            "+ CASE WHEN age IS NULL THEN 0 ELSE 8 END) FROM users")).scalar()
    before = vm_kib("VmHWM")
    with Session(engine) as s:
        query = select(User) if mode == "load" else select(User).limit(1)
        users = s.scalars(query).all()
        peak = vm_kib("VmHWM")
        rows = len(users)
    return {"mode": mode, "n": n, "rows": rows, "row_bytes": row_bytes, "hwm_before_kib": before, "hwm_kib": peak}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=int(os.environ.get("WORKLOAD_N", 20000)))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("WORKLOAD_RUNS", 3)))
    parser.add_argument("--only", choices=["load", "empty"])
    parser.add_argument("--url", default="sqlite://")
    args = parser.parse_args()
    global URL
    URL = args.url
    if args.only:
        print(json.dumps(memory_check(args.only, args.n)))
        return
    runs = [run(args.n) for _ in range(max(args.runs, 1))]
    medians = {s: statistics.median(r[s] for r in runs) for s in STEPS}
    print(json.dumps({
        "n": args.n, "runs": len(runs), "sqlalchemy": medians,
        "version": sqlalchemy.__version__,
        # ru_maxrss is in KiB on Linux.
        "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    main()
