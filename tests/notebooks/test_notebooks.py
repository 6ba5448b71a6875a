"""The notebooks, run for real through the installed `rust-orm` kernel by nbclient.

Key outputs of the lesson are checked against what SQLAlchemy 2.x gives for the same queries on the
same data; "beyond the lesson" (`notebooks/beyond.ipynb`) runs every cell and shows the outputs saved
in it; every notebook is checked as nbformat 4 without machine paths.
"""
import json
import re

import nbformat
import pytest

from conftest import ROOT, execute, text_of

BEYOND = ROOT / "notebooks" / "beyond.ipynb"
NOTEBOOKS = [ROOT / "notebooks" / "lesson.ipynb", BEYOND, ROOT / "notebooks" / "exercises.ipynb",
             ROOT / "grader" / "assignment" / "solution.ipynb"]


def tagged(nb, tag):
    cells = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"one cell tagged {tag}"
    return text_of(cells[0])


def test_lesson_leaves_nothing_in_the_temp_folder(lesson):
    # Sections 4 and 9 write a database file and a migrations folder there; the last cells
    # remove them (#21).
    assert "removed the lesson's files: true" in text_of(
        next(c for c in lesson.cells if "remove_dir_all(&files_folder)" in c.source))
    assert lesson.left_in_temp == []


def sqlalchemy_reference():
    """Section 8's data and queries through SQLAlchemy."""
    from sqlalchemy import Column, ForeignKey, Integer, String, create_engine, func
    from sqlalchemy.orm import Session, declarative_base, relationship

    Base = declarative_base()

    class User(Base):
        __tablename__ = "users"
        id = Column(Integer, primary_key=True)
        name = Column(String, nullable=False)
        age = Column(Integer)
        posts = relationship("Post", back_populates="author")

    class Post(Base):
        __tablename__ = "posts"
        id = Column(Integer, primary_key=True)
        title = Column(String)
        user_id = Column(Integer, ForeignKey("users.id"))
        author = relationship("User", back_populates="posts")

    engine = create_engine("sqlite:///:memory:")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        users = {n: User(name=n, age=a) for n, a in
                 [("Alice", 30), ("Bob", 17), ("Carol", 42), ("Dave", 25), ("Eve", 35)]}
        s.add_all(users.values())
        for title, who in [("Learning Python", "Alice"), ("Rust for Python programmers", "Alice"),
                           ("My first SQL query", "Bob"), ("Python and SQL", "Dave")]:
            s.add(Post(title=title, author=users[who]))
        s.commit()
        q = s.query
        return {
            "avg": q(func.avg(User.age)).scalar(),
            "max": q(func.max(User.age)).scalar(),
            "count": q(User).count(),
            "per_user": [(n, c) for n, c in q(User.name, func.count(Post.id)).outerjoin(Post)
                         .group_by(User.name).order_by(User.name).all()],
            "python": [u.name for u in q(User).join(Post).filter(Post.title.contains("Python")).all()],
            "join": [(u.name, p.title) for u, p in q(User, Post).join(Post).order_by(Post.id).all()],
        }


def test_lesson_outputs_match_sqlalchemy(lesson):
    ref = sqlalchemy_reference()
    aggregates = tagged(lesson, "check-aggregates")
    assert f"average age: {ref['avg']:.2f}" in aggregates
    assert f"oldest: {ref['max']}" in aggregates
    assert tagged(lesson, "check-count").strip().endswith(str(ref["count"]))
    per_user = "[" + ", ".join(f'("{n}", {c})' for n, c in ref["per_user"]) + "]"
    assert tagged(lesson, "check-posts-per-user").strip() == per_user
    assert tagged(lesson, "check-join-filter").strip() == json.dumps(ref["python"]).replace(", ", ", ")
    join = tagged(lesson, "check-join")
    for name, title in ref["join"]:
        assert f'{name} wrote "{title}"' in join


def test_lesson_shows_the_sql_and_the_rows(lesson):
    adults = tagged(lesson, "check-adults")
    assert 'WHERE "users"."age" > ?' in adults
    assert re.findall(r"\| (Alice|Carol|Dave) ", adults) and "Bob" not in adults
    core_orm = tagged(lesson, "check-core-orm")
    assert '[("Alice", Some(30)), ("Carol", Some(42)), ("Dave", Some(25))]' in core_orm


def test_lesson_counts_statements_for_n_plus_one(lesson):
    text = tagged(lesson, "check-n-plus-one")
    assert "lazy:         3000 posts, 1001 statements" in text
    assert "joinedload:   3000 posts, 1 statement" in text
    # One statement for the users, then one per 500 of them (SQLAlchemy's chunk size).
    assert "selectinload: 3000 posts, 3 statements" in text


def test_lesson_shows_expire_on_commit(lesson):
    # The same object, its stale value until a query meets its row, then the other session's.
    assert tagged(lesson, "check-expire-on-commit").strip() == "(true, Some(17), Some(18))"


def test_lesson_runs_a_real_migration(lesson):
    text = tagged(lesson, "check-migration")
    assert "applied 1 revision(s): Add email column" in text
    assert "models and database differ: false" in text
    assert "| Alice |" in text


def shown(cell):
    """A code cell's outputs as a reader sees them, in order: each stream's text (consecutive
    pieces of one stream joined, as frontends show them), the `text/plain` and `text/html` of each
    result or display, and each error's name and message."""
    seen = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            if seen and seen[-1][0] == out.name:
                seen[-1] = (out.name, seen[-1][1] + out.text)
            else:
                seen.append((out.name, out.text))
        elif out.output_type == "error":
            seen.append(("error", out.ename, out.evalue))
        else:
            seen.append(("data", {m: out.data[m] for m in ("text/plain", "text/html") if m in out.data}))
    return seen


@pytest.fixture(scope="module")
def beyond():
    """`notebooks/beyond.ipynb` run through the kernel (nbclient fails on the first error)."""
    return execute(BEYOND)


def test_beyond_saved_outputs_are_a_whole_run_without_errors():
    saved = nbformat.read(BEYOND, as_version=4)
    code = [c for c in saved.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert [c.id for c in code if any(o.output_type == "error" for o in c.outputs)] == []
    # Rows show as tables: every result whose text is a table also carries its HTML table.
    for cell in code:
        for kind, *rest in shown(cell):
            if kind == "data" and rest[0].get("text/plain", "").startswith("| "):
                assert rest[0].get("text/html", "").startswith("<table>"), cell.source


def test_beyond_runs_every_cell_with_the_saved_outputs(beyond):
    saved = nbformat.read(BEYOND, as_version=4)
    assert [c.source for c in beyond.cells] == [c.source for c in saved.cells]
    for ran, kept in zip(beyond.cells, saved.cells):
        if kept.cell_type == "code":
            assert shown(ran) == shown(kept), f"cell {kept.id} differs from its saved outputs:\n{kept.source}"


def test_beyond_shows_each_feature_working(beyond):
    upsert = tagged(beyond, "check-upsert")
    assert 'ON CONFLICT ("path") DO UPDATE SET "hits" = "page_views"."hits" + "excluded"."hits"' in upsert
    assert re.findall(r"\| /\s+\| 4 ", upsert) and re.findall(r"\| /about \| 2 ", upsert)
    assert "Eve: Persistent, 1 SELECT\nFrank: Pending" in tagged(beyond, "check-merge")
    cte = tagged(beyond, "check-recursive-cte")
    assert cte.startswith("WITH RECURSIVE") and re.findall(r"music \| 0 .*\n.*jazz  \| 1 .*\n.*bebop \| 2 ", cte)
    assert "ck_tickets_status_enum" in tagged(beyond, "check-enum-refused")
    stale = tagged(beyond, "check-stale-data")
    assert "UPDATE statement on table 'accounts' expected to update 1 row(s); 0 were matched." in stale
    assert "SQL: ROLLBACK" in stale and re.findall(r"\| Ann +\| 70 +\| 2 ", stale)
    # The counts section 14 asks a learner to predict: 1 + 4 users + 3 posts lazily, one per
    # level by select-in, one joined.
    nested = tagged(beyond, "check-nested-loading")
    assert re.findall(r"^lazy +8 statements$", nested, re.M)
    assert re.findall(r"^selectinload\.selectinload +3 statements$", nested, re.M)
    assert re.findall(r"^joinedload\.joinedload +1 statement$", nested, re.M)
    batched = tagged(beyond, "check-batched-writes")
    assert "insert of 2500 users: 3 statements" in batched
    # 3 DELETEs of 1,000 keys, after 6 UPDATEs (500 keys each) clearing the posts' user_id.
    assert "delete of 2503 users: 9 statements" in batched
    empty_in = tagged(beyond, "check-empty-in")
    assert "IN ()" not in empty_in and empty_in.strip().endswith("(0, 4)")


def table_rows(text):
    """The rows of the first table printed in `text` (comfy-table's markdown preset), as strings."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    return [tuple(cell.strip() for cell in line.strip("|").split("|")) for line in lines[1:]]


def beyond_sqlalchemy_reference():
    """Sections 2 to 7 of beyond.ipynb through SQLAlchemy 2.x, on the notebook's data, as the
    notebook prints them (rows of text, NULL for None; lists of names)."""
    from sqlalchemy import (Column, ForeignKey, Integer, String, create_engine, func, literal,
                            select, union, union_all)
    from sqlalchemy.orm import Session, aliased, declarative_base

    Base = declarative_base()

    class User(Base):
        __tablename__ = "users"
        id = Column(Integer, primary_key=True)
        name = Column(String, nullable=False)
        age = Column(Integer)

    class Post(Base):
        __tablename__ = "posts"
        id = Column(Integer, primary_key=True)
        title = Column(String, nullable=False)
        user_id = Column(Integer, ForeignKey("users.id"))

    class Category(Base):
        __tablename__ = "categories"
        id = Column(Integer, primary_key=True)
        name = Column(String, nullable=False)
        parent_id = Column(Integer, ForeignKey("categories.id"))

    engine = create_engine("sqlite:///:memory:")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all(User(name=n, age=a) for n, a in [("Alice", 30), ("Bob", 17), ("Carol", 42), ("Dave", None)])
        s.flush()
        s.add_all(Post(title=t, user_id=u) for u, t in [(1, "Rust"), (1, "SQL"), (3, "Rust again")])
        s.add_all(Category(id=i, name=n, parent_id=p) for i, n, p in
                  [(1, "all", None), (2, "books", 1), (3, "music", 1), (4, "jazz", 3), (5, "bebop", 4),
                   (6, "poetry", 2)])
        s.commit()

        def text_rows(stmt):
            return [tuple("NULL" if v is None else str(v) for v in row) for row in s.execute(stmt)]

        posts = select(func.count(Post.id)).where(Post.user_id == User.id).scalar_subquery()
        older = aliased(User, name="older")
        tree = (select(Category.id, Category.name, literal(0).label("depth"))
                .where(Category.name == "music").cte("tree", recursive=True))
        tree = tree.union_all(select(Category.id, Category.name, tree.c.depth + 1)
                              .join(tree, Category.parent_id == tree.c.id))
        young = select(User.name).where(User.age < 31)
        authors = select(User.name).where(User.id.in_(select(Post.user_id)))
        return {
            "scalar-subquery": text_rows(select(User.name, posts.label("posts")).order_by(User.id)),
            "self-join": text_rows(select(User.name, func.count(older.id))
                                   .outerjoin(older, older.age > User.age)
                                   .group_by(User.name).order_by(User.name)),
            "recursive-cte": text_rows(select(tree.c.name, tree.c.depth).order_by(tree.c.depth)),
            "window": text_rows(select(
                Post.title, func.row_number().over(order_by=Post.id),
                func.rank().over(partition_by=Post.user_id, order_by=Post.title),
                func.count(Post.id).over(partition_by=Post.user_id)).order_by(Post.id)),
            "union_all": list(s.scalars(union_all(young, authors).order_by("name"))),
            "union": list(s.scalars(union(young, authors).order_by("name"))),
        }


def check_beyond_against_sqlalchemy(nb):
    ref = beyond_sqlalchemy_reference()
    for tag in ["scalar-subquery", "self-join", "recursive-cte", "window"]:
        assert table_rows(tagged(nb, f"check-{tag}")) == ref[tag], tag
    union_text = tagged(nb, "check-union")
    assert f"union_all: {json.dumps(ref['union_all'])}" in union_text
    assert f"union:     {json.dumps(ref['union'])}" in union_text


def test_beyond_rows_match_sqlalchemy(beyond):
    check_beyond_against_sqlalchemy(beyond)


def test_solution_notebook_runs_without_errors(solution):
    # `execute` stops at the first error; every code cell ran.
    assert all(c.execution_count for c in solution.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_valid_nbformat_4_for_the_rust_orm_kernel(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.kernelspec.name == "rust-orm"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_hold_no_machine_paths(path):
    text = path.read_text()
    for pattern in [r"/work/", r"/home/\w", r"/root/", r"/tmp/", r"/Users/\w", r"[A-Z]:\\\\"]:
        assert not re.search(pattern, text), f"{path.name} contains a machine path matching {pattern}"
