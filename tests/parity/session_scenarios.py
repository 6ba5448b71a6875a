"""The session scenarios of issue 17 through SQLAlchemy 2.x, printed as JSON: the values the Rust
ORM must give for the same steps (orm/tests/session_parity.rs compares them one by one).

Each scenario runs on a SQLite file of its own in a temporary folder (two sessions, two
connections, as in orm), and returns the values a learner would look at.
"""
import json
import os
import tempfile

from sqlalchemy import Column, ForeignKey, Integer, String, Table, create_engine, func, select
from sqlalchemy import inspect
from sqlalchemy.orm import Session, declarative_base, relationship
from sqlalchemy.orm.exc import StaleDataError

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    age = Column(Integer)


student_courses = Table(
    "student_courses", Base.metadata,
    Column("student_id", Integer, ForeignKey("students.id"), nullable=False),
    Column("course_id", Integer, ForeignKey("courses.id"), nullable=False),
)


class Student(Base):
    __tablename__ = "students"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    courses = relationship("Course", secondary=student_courses, back_populates="students")


class Course(Base):
    __tablename__ = "courses"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    students = relationship("Student", secondary=student_courses, back_populates="courses")


class Author(Base):
    __tablename__ = "authors"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    articles = relationship("Article", cascade="all, delete-orphan")


class Article(Base):
    __tablename__ = "articles"
    id = Column(Integer, primary_key=True)
    title = Column(String, nullable=False)
    author_id = Column(Integer, ForeignKey("authors.id"))


FOLDER = tempfile.mkdtemp(prefix="orm-session-parity-")


def fresh(name, ages=()):
    engine = create_engine(f"sqlite:///{os.path.join(FOLDER, name + '.db')}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([User(name=f"user{i + 1}", age=age) for i, age in enumerate(ages)])
        s.commit()
    return engine


def count(engine, table):
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar()


def stale_after_commit():
    engine = fresh("stale", [30])
    a = Session(engine)
    alice = a.get(User, 1)
    a.commit()
    b = Session(engine)
    b.get(User, 1).age = 31
    b.commit()
    got = a.get(User, 1).age
    b.get(User, 1).age = 32
    b.commit()
    a.commit()
    queried = a.query(User).filter(User.id == 1).one().age
    return [got, queried, alice.age]


def no_expire_on_commit():
    engine = fresh("noexpire", [30])
    a = Session(engine, expire_on_commit=False)
    alice = a.get(User, 1)
    a.commit()
    b = Session(engine)
    b.get(User, 1).age = 31
    b.commit()
    kept = a.get(User, 1).age
    a.refresh(alice)
    return [kept, alice.age]


def rollback_after_autoflush():
    engine = fresh("rollback", [30, 40])
    s = Session(engine)
    alice = s.get(User, 1)
    bob = s.get(User, 2)
    alice.age = 31
    flushed = s.query(User).filter(User.age == 31).count()
    s.delete(bob)
    s.flush()
    carol = User(name="carol", age=20)
    s.add(carol)
    s.flush()
    dave = User(name="dave")
    s.add(dave)
    s.rollback()
    return {
        "flushed": flushed,
        "alice_age": alice.age,
        "bob_persistent": inspect(bob).persistent,
        "carol_transient": inspect(carol).transient,
        "dave_transient": inspect(dave).transient,
        "count": s.query(User).count(),
    }


def offset_without_limit():
    engine = fresh("offset", [1, 2, 3, 4, 5])
    with Session(engine) as s:
        return [u.name for u in s.query(User).order_by(User.id).offset(2).all()]


def stale_update():
    engine = fresh("staleupdate", [30])
    # Without expire_on_commit: an expired object would be reloaded at the flush and raise
    # ObjectDeletedError first (orm reports StaleData in both cases).
    a = Session(engine, expire_on_commit=False)
    alice = a.get(User, 1)
    a.commit()
    b = Session(engine)
    b.delete(b.get(User, 1))
    b.commit()
    alice.age = 31
    try:
        a.commit()
        return "no error"
    except StaleDataError as e:
        return ["StaleDataError", str(e)]


def enrolled(name):
    engine = fresh(name)
    s = Session(engine)
    ann = Student(name="Ann")
    math = Course(name="Math")
    art = Course(name="Art")
    ann.courses.append(math)
    ann.courses.append(art)
    s.add(ann)
    s.commit()
    return engine, s, ann, math


def remove_then_append():
    engine, s, ann, math = enrolled("relink")
    ann.courses.remove(math)
    ann.courses.append(math)
    s.commit()
    return count(engine, student_courses)


def delete_student_with_courses():
    engine, s, ann, math = enrolled("deletestudent")
    s.delete(ann)
    s.commit()
    return [count(engine, student_courses), count(engine, Course.__table__),
            count(engine, Student.__table__)]


def pending_orphan():
    engine = fresh("orphan")
    s = Session(engine)
    author = Author(name="Ann")
    s.add(author)
    s.commit()
    kept = Article(title="kept")
    draft = Article(title="draft")
    author.articles.append(kept)
    author.articles.append(draft)
    author.articles.remove(draft)
    s.commit()
    return [count(engine, Article.__table__), inspect(draft).transient]


print(json.dumps({
    "stale_after_commit": stale_after_commit(),
    "no_expire_on_commit": no_expire_on_commit(),
    "rollback_after_autoflush": rollback_after_autoflush(),
    "offset_without_limit": offset_without_limit(),
    "stale_update": stale_update(),
    "remove_then_append": remove_then_append(),
    "delete_student_with_courses": delete_student_with_courses(),
    "pending_orphan": pending_orphan(),
}, sort_keys=True))
