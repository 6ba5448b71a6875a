"""The Core constructs beyond the lesson through SQLAlchemy 2.x on SQLite, printed as JSON: the rows
orm/tests/core_parity.rs must get from the same statements on SQLite and on PostgreSQL.

Data: users Alice 30, Bob 17, Carol 42, Dave (no age); posts of Alice ("Rust", "SQL") and Carol
("Rust again"); a category tree all > (books, music > jazz). Floats are rounded to 9 places.
"""
import json

from sqlalchemy import (Column, Float, ForeignKey, Integer, MetaData, String, Table, Text, case,
                        cast, create_engine, exists, func, insert, literal, select, text, union,
                        union_all)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

metadata = MetaData()
users = Table("users", metadata, Column("id", Integer, primary_key=True),
              Column("name", String, nullable=False), Column("age", Integer))
posts = Table("posts", metadata, Column("id", Integer, primary_key=True),
              Column("user_id", Integer, ForeignKey("users.id")), Column("title", Text))
categories = Table("categories", metadata, Column("id", Integer, primary_key=True),
                   Column("parent_id", Integer), Column("name", Text))


def plain(rows):
    return [[round(v, 9) if isinstance(v, float) else v for v in row] for row in rows]


engine = create_engine("sqlite:///:memory:")
metadata.create_all(engine)
with engine.begin() as conn:
    conn.execute(insert(users), [{"name": n, "age": a} for n, a in
                                 [("Alice", 30), ("Bob", 17), ("Carol", 42), ("Dave", None)]])
    conn.execute(insert(posts), [{"user_id": u, "title": t} for u, t in
                                 [(1, "Rust"), (1, "SQL"), (3, "Rust again")]])
    conn.execute(insert(categories), [{"id": i, "parent_id": p, "name": n} for i, p, n in
                                      [(1, None, "all"), (2, 1, "books"), (3, 1, "music"), (4, 3, "jazz")]])

out = {}
with engine.connect() as conn:
    run = lambda stmt: plain(conn.execute(stmt).all())  # noqa: E731
    u, p, c = users.c, posts.c, categories.c

    out["empty_in"] = run(select(u.name).where(u.age.in_([])).order_by(u.id))
    out["empty_not_in"] = run(select(u.name).where(u.age.not_in([])).order_by(u.id))
    out["text_bind"] = run(text("SELECT name, age FROM users WHERE age > :min AND name != :skip ORDER BY age")
                           .bindparams(min=18, skip="Bob"))

    post_count = select(func.count()).select_from(posts).where(p.user_id == u.id).scalar_subquery()
    out["scalar_subquery"] = run(select(u.name, post_count.label("posts")).order_by(u.id))
    oldest = select(func.max(u.age)).scalar_subquery()
    out["scalar_subquery_filter"] = run(select(u.name).where(u.age == oldest))

    rust_authors = select(p.user_id).where(p.title.like("Rust%"))
    out["in_subquery"] = run(select(u.name).where(u.id.in_(rust_authors)).order_by(u.id))
    out["not_exists"] = run(select(u.name).where(~exists(select(p.id).where(p.user_id == u.id)))
                            .order_by(u.id))

    older = users.alias("older")
    out["self_join"] = run(select(u.name, func.count(older.c.id))
                           .select_from(users.outerjoin(older, older.c.age > u.age))
                           .group_by(u.name).order_by(u.name))

    adults = select(u.name, u.age).where(u.age >= 18).cte("adults")
    out["cte"] = run(select(adults.c.name).order_by(adults.c.name))
    tree = select(c.id, c.name, literal(0).label("depth")).where(c.id == 1).cte("tree", recursive=True)
    tree = tree.union_all(select(c.id, c.name, tree.c.depth + 1).join(tree, c.parent_id == tree.c.id))
    out["recursive_cte"] = run(select(tree.c.name, tree.c.depth).order_by(tree.c.depth, tree.c.name))

    out["window"] = run(select(p.title, func.row_number().over(order_by=p.id),
                               func.rank().over(partition_by=p.user_id, order_by=p.title.desc()),
                               func.sum(p.id).over(partition_by=p.user_id)).order_by(p.id))
    out["window_avg"] = run(select(func.avg(p.user_id).over()).limit(1))

    out["case_cast_coalesce"] = run(select(
        u.name, case((u.age < 18, "minor"), (u.age >= 18, "adult"), else_="unknown"),
        cast(u.age, Float), func.coalesce(u.age, 0), func.upper(func.lower(u.name)),
        func.length(u.name)).order_by(u.id))
    out["count_distinct"] = run(select(func.count(func.length(u.name).distinct()),
                                       func.count(func.length(u.name))))

    young = lambda: select(u.name).where(u.age < 31)  # noqa: E731
    out["union_all"] = run(union_all(young(), young()).order_by("name").limit(3))
    out["union"] = run(union(young(), young()).order_by("name"))

with engine.begin() as conn:
    def upsert(id_, name, age):
        return sqlite_insert(users).values(id=id_, name=name, age=age)
    s = upsert(1, "Alicia", 31)
    conn.execute(s.on_conflict_do_update(index_elements=["id"], set_={"name": s.excluded.name, "age": s.excluded.age}))
    conn.execute(upsert(2, "Robert", 99).on_conflict_do_nothing(index_elements=["id"]))
    s = upsert(5, "Eve", 22)
    conn.execute(s.on_conflict_do_update(index_elements=["id"], set_={"name": s.excluded.name}))
    s = upsert(3, "Caroline", 40)
    conn.execute(s.on_conflict_do_update(index_elements=["id"], set_={"name": s.excluded.name},
                                         where=users.c.age < s.excluded.age))
    out["upsert"] = plain(conn.execute(select(users.c.id, users.c.name, users.c.age).order_by(users.c.id)).all())

print(json.dumps(out, sort_keys=True))
