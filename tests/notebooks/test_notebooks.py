"""The notebooks, run for real through the installed `rust-orm` kernel by nbclient.

Key outputs of the lesson are checked against what SQLAlchemy 2.x gives for the same queries on the
same data, and every notebook is checked as nbformat 4 without machine paths.
"""
import json
import re

import nbformat
import pytest

from conftest import ROOT, execute, text_of

NOTEBOOKS = [ROOT / "notebooks" / "lesson.ipynb", ROOT / "notebooks" / "exercises.ipynb",
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
