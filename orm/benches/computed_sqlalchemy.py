"""Columns the database computes, through SQLAlchemy 2.x: the steps of orm/benches/computed.rs.

    python computed_sqlalchemy.py [--n N] [--runs R] [--url URL]

N rows of a model whose `created_at` has a server default (CURRENT_TIMESTAMP) and whose
`updated_at` is set by an `onupdate` SQL expression, inserted through a Session in one commit,
then loaded, changed and committed again; `eager_defaults=True`, so the computed values are
fetched at flush as `orm` does. The same steps for the same columns without computed values.
In-memory SQLite by default. Prints JSON like the Rust binary.
"""
import argparse
import json
import time

from sqlalchemy import Column, DateTime, Integer, String, create_engine, func, select
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()


class Stamped(Base):
    __tablename__ = "stamped"
    __mapper_args__ = {"eager_defaults": True}
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    age = Column(Integer)
    created_at = Column(DateTime, server_default=func.current_timestamp())
    updated_at = Column(DateTime, onupdate=func.current_timestamp())


class Plain(Base):
    __tablename__ = "plain"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    age = Column(Integer)
    created_at = Column(DateTime)
    updated_at = Column(DateTime)


def steps(engine, model, n):
    model.__table__.drop(engine, checkfirst=True)
    model.__table__.create(engine)
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        objects = [model(name=f"user {i}", age=i % 80) for i in range(n)]
        session.add_all(objects)
        session.commit()
    insert = (time.perf_counter() - started) * 1000
    if model is Stamped and not all(o.created_at is not None for o in objects):
        raise SystemExit("a row did not get its computed value")
    started = time.perf_counter()
    with Session(engine) as session:
        for o in session.scalars(select(model)).all():
            o.age = o.age + 1
        session.commit()
    update = (time.perf_counter() - started) * 1000
    model.__table__.drop(engine)
    return insert, update


def median(times):
    times = sorted(times)
    return round(times[len(times) // 2], 1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--url", default="sqlite://")
    a = p.parse_args()
    engine = create_engine(a.url)
    computed, plain = [], []
    for _ in range(max(1, a.runs)):
        computed.append(steps(engine, Stamped, a.n))
        plain.append(steps(engine, Plain, a.n))
    print(json.dumps({
        "n": a.n, "runs": max(1, a.runs),
        "insert_ms": median(t[0] for t in computed), "update_ms": median(t[1] for t in computed),
        "plain_insert_ms": median(t[0] for t in plain), "plain_update_ms": median(t[1] for t in plain),
    }))


if __name__ == "__main__":
    main()
