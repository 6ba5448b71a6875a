"""Threads with a session each, through SQLAlchemy 2.x: the steps of orm/benches/threads.rs.

    python threads_sqlalchemy.py [--threads T] [--n N] [--runs R] [--url URL]

T threads insert N users each through their own Session, committing every 1,000, into one
database (a SQLite file in a temporary folder by default). Prints JSON like the Rust binary.
"""
import argparse
import json
import os
import tempfile
import threading
import time

from sqlalchemy import Column, Integer, String, create_engine, func, select
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()
BATCH = 1000


class ThreadUser(Base):
    __tablename__ = "thread_users"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    age = Column(Integer)


def run(url, threads, n):
    engine = create_engine(url, pool_size=threads)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    errors = []

    def work(t):
        try:
            with Session(engine) as session:
                for i in range(n):
                    session.add(ThreadUser(name=f"t{t}-{i}", age=i % 80))
                    if (i + 1) % BATCH == 0:
                        session.commit()
                session.commit()
        except Exception as e:  # reported after the run
            errors.append(e)

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    ms = (time.perf_counter() - started) * 1000
    if errors:
        raise errors[0]
    with Session(engine) as session:
        rows = session.scalar(select(func.count()).select_from(ThreadUser))
    engine.dispose()
    return ms, rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--url")
    a = p.parse_args()
    folder = tempfile.mkdtemp(prefix="orm-threads-")
    url = a.url or f"sqlite:///{os.path.join(folder, 'threads.db')}"
    results = [run(url, a.threads, a.n) for _ in range(max(1, a.runs))]
    times = sorted(ms for ms, _ in results)
    print(json.dumps({"threads": a.threads, "n": a.n, "runs": len(results),
                      "ms": round(times[len(times) // 2], 1), "rows": results[-1][1]}))


if __name__ == "__main__":
    main()
