"""The model features of issue 19 through SQLAlchemy 2.x, printed as JSON: the values the Rust
ORM must give for the same steps (orm/tests/model_parity.rs compares them one by one, on SQLite
and on PostgreSQL).

The scenarios: an enum column's CHECK refusing a value no member has, `session.get` with a
composite key, `version_id_col` catching a row changed behind the session's back, server
defaults read back after a flush, a self-referential tree navigated both ways,
`session.merge` as an upsert of objects, and relationships to a parent with a composite key
over a two-column `ForeignKeyConstraint` (offerings keyed by term and code, registrations).
"""
import enum
import json
import os
import tempfile

from sqlalchemy import (Column, Enum, ForeignKey, ForeignKeyConstraint, Integer, String,
                        create_engine, select, text)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, declarative_base, relationship, selectinload
from sqlalchemy.orm.exc import StaleDataError

Base = declarative_base()


class Status(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class Ticket(Base):
    __tablename__ = "tickets"
    id = Column(Integer, primary_key=True)
    title = Column(String, nullable=False)
    # Stored as the members' strings, with a CHECK (as orm's DbEnum).
    status = Column(Enum(Status, native_enum=False, create_constraint=True, length=20,
                         values_callable=lambda e: [m.value for m in e]), nullable=False)


class Enrollment(Base):
    __tablename__ = "enrollments"
    student_id = Column(Integer, primary_key=True)
    course_code = Column(String(20), primary_key=True)
    grade = Column(String)


class Account(Base):
    __tablename__ = "accounts"
    id = Column(Integer, primary_key=True)
    owner = Column(String, nullable=False)
    balance = Column(Integer, nullable=False)
    version = Column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class Draft(Base):
    __tablename__ = "drafts"
    id = Column(Integer, primary_key=True)
    title = Column(String, nullable=False)
    status = Column(String(20), server_default=text("'draft'"))
    words = Column(Integer, server_default=text("0"))


class Category(Base):
    __tablename__ = "categories"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    parent_id = Column(Integer, ForeignKey("categories.id"))
    parent = relationship("Category", remote_side=[id], back_populates="children")
    children = relationship("Category", back_populates="parent", order_by=id,
                            cascade="all, delete-orphan")


class Person(Base):
    __tablename__ = "people"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    age = Column(Integer)


class Offering(Base):
    __tablename__ = "offerings"
    term = Column(String(10), primary_key=True)
    code = Column(String(10), primary_key=True)
    title = Column(String, nullable=False)
    registrations = relationship("Registration", back_populates="offering",
                                 cascade="all, delete-orphan")


class Registration(Base):
    __tablename__ = "registrations"
    id = Column(Integer, primary_key=True)
    student = Column(String, nullable=False)
    term = Column(String(10))
    code = Column(String(10))
    offering = relationship("Offering", back_populates="registrations")
    __table_args__ = (ForeignKeyConstraint(["term", "code"], ["offerings.term", "offerings.code"]),)


engine = create_engine(f"sqlite:///{os.path.join(tempfile.mkdtemp(), 'models.db')}")
Base.metadata.create_all(engine)


def names(rows):
    return [r.name for r in rows]


def enum_refused():
    with Session(engine) as s:
        s.add(Ticket(title="a", status=Status.CLOSED))
        s.commit()
    try:
        with engine.begin() as c:
            c.execute(text("INSERT INTO tickets (title, status) VALUES ('b', 'lost')"))
        refused = "no error"
    except IntegrityError:
        refused = "IntegrityError"
    with engine.connect() as c:
        stored = c.execute(text("SELECT title, status FROM tickets ORDER BY id")).all()
    with Session(engine) as s:
        read = s.scalars(select(Ticket)).one().status.value
    return [refused, [list(r) for r in stored], read]


def composite_get():
    with Session(engine) as s:
        s.add_all([Enrollment(student_id=1, course_code="math", grade="A"),
                   Enrollment(student_id=1, course_code="art", grade="B"),
                   Enrollment(student_id=2, course_code="math", grade="C")])
        s.commit()
    with Session(engine) as s:
        math = s.get(Enrollment, (1, "math"))
        same = s.get(Enrollment, (1, "math")) is math
        missing = s.get(Enrollment, (2, "art"))
        s.delete(s.get(Enrollment, (1, "art")))
        s.commit()
        left = s.execute(select(Enrollment.student_id, Enrollment.course_code)
                         .order_by(Enrollment.student_id, Enrollment.course_code)).all()
        return [math.grade, same, missing, [list(r) for r in left]]


def version_conflict():
    s = Session(engine, expire_on_commit=False)
    acct = Account(owner="Ann", balance=100)
    s.add(acct)
    s.commit()
    first = acct.version
    acct.balance = 110
    s.commit()
    second = acct.version
    with engine.begin() as c:
        c.execute(text("UPDATE accounts SET balance = 0, version = version + 1 WHERE id = 1"))
    acct.balance = 130
    try:
        s.commit()
        outcome = "no error"
    except StaleDataError as e:
        outcome = ["StaleDataError", str(e)]
        s.rollback()
    with engine.connect() as c:
        row = c.execute(text("SELECT balance, version FROM accounts")).one()
    return [first, second, outcome, list(row)]


def server_defaults():
    with Session(engine) as s:
        d = Draft(title="x")
        given = Draft(title="y", status="final", words=12)
        s.add_all([d, given])
        s.flush()
        out = [[d.status, d.words], [given.status, given.words]]
        s.commit()
        return out


def tree():
    with Session(engine) as s:
        food = Category(name="food")
        fruit = Category(name="fruit")
        food.children.append(fruit)
        fruit.children.extend([Category(name="apple"), Category(name="pear")])
        food.children.append(Category(name="bread"))
        s.add_all([food, Category(name="tools")])
        s.commit()
    with Session(engine) as s:
        food = s.scalars(select(Category).where(Category.name == "food")).one()
        fruit = food.children[0]
        apple = fruit.children[0]
        roots = s.scalars(select(Category).where(Category.parent_id.is_(None))
                          .order_by(Category.id)).all()
        out = [sorted(names(food.children)), sorted(names(fruit.children)), apple.parent.parent.name,
               names(roots)]
        s.delete(fruit)
        s.commit()
        # By name: the order of the keys the flush gives a tree's rows is the unit of work's own.
        left = s.scalars(select(Category.name).order_by(Category.name)).all()
        return out + [list(left)]


def merge_upsert():
    with Session(engine) as s:
        s.add_all([Person(id=1, name="Alice", age=30), Person(id=2, name="Bob", age=40)])
        s.commit()
    with Session(engine) as s:
        alicia = s.merge(Person(id=1, name="Alicia", age=31))
        eve = s.merge(Person(id=5, name="Eve", age=22))
        s.commit()
        rows = s.execute(select(Person.id, Person.name, Person.age).order_by(Person.id)).all()
        return [alicia.name, eve.id, [list(r) for r in rows]]


def composite_relationships():
    with Session(engine) as s:
        course = Offering(term="2024F", code="CS101", title="SQL")
        course.registrations.extend([Registration(student="Ann"), Registration(student="Bob")])
        s.add_all([course, Offering(term="2024F", code="ART1", title="Drawing")])
        s.commit()
    with Session(engine) as s:
        ann = s.scalars(select(Registration).where(Registration.student == "Ann")).one()
        first = ann.offering.title
        art = s.get(Offering, ("2024F", "ART1"))
        ann.offering = art
        art.registrations.append(Registration(student="Cara"))
        s.commit()
        loaded = s.scalars(select(Offering).options(selectinload(Offering.registrations))
                           .order_by(Offering.code)).all()
        by_offering = [[o.code, sorted(r.student for r in o.registrations)] for o in loaded]
        s.delete(s.get(Offering, ("2024F", "CS101")))
        s.commit()
    with engine.connect() as c:
        rows = c.execute(text("SELECT student, term, code FROM registrations ORDER BY student"))
        left = [list(r) for r in rows]
    return [first, by_offering, left]


print(json.dumps({
    "enum_refused": enum_refused(),
    "composite_get": composite_get(),
    "version_conflict": version_conflict(),
    "server_defaults": server_defaults(),
    "tree": tree(),
    "merge_upsert": merge_upsert(),
    "composite_relationships": composite_relationships(),
}, sort_keys=True))
