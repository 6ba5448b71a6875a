"""The lesson's queries through SQLAlchemy 2.x, printed as JSON: the reference the Rust ORM must match.

Run by orm/tests/sqlalchemy_parity.rs with the project's virtual environment.
"""
import json

from sqlalchemy import Column, ForeignKey, Integer, String, and_, create_engine, func, or_
from sqlalchemy.orm import Session, declarative_base, relationship

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    email = Column(String, unique=True)
    age = Column(Integer)
    posts = relationship("Post", back_populates="author")


class Post(Base):
    __tablename__ = "posts"
    id = Column(Integer, primary_key=True)
    title = Column(String)
    user_id = Column(Integer, ForeignKey("users.id"))
    author = relationship("User", back_populates="posts")


USERS = [("Alice", "alice@example.com", 30), ("Bob", "bob@example.com", 17),
         ("Carol", "carol@example.com", 42), ("Dave", None, 25), ("Eve", "eve@example.com", None)]
POSTS = [("Learning Python", 1), ("Python tips", 1), ("Rust ownership", 3), ("SQL basics", 2)]


def row(u):
    return [u.id, u.name, u.email, u.age]


engine = create_engine("sqlite:///:memory:")
Base.metadata.create_all(engine)
with Session(engine) as session:
    session.add_all([User(name=n, email=e, age=a) for n, e, a in USERS])
    session.commit()
    session.add_all([Post(title=t, user_id=u) for t, u in POSTS])
    session.commit()

    q = session.query
    out = {
        "all": [row(u) for u in q(User).order_by(User.id).all()],
        "first_alice": row(q(User).filter(User.name == "Alice").first()),
        "adults": [row(u) for u in q(User).filter(User.age >= 18).order_by(User.id).all()],
        "by_name": [u.name for u in q(User).order_by(User.name).all()],
        "by_age_desc": [u.name for u in q(User).filter(User.age.isnot(None)).order_by(User.age.desc()).all()],
        "limit_2": [u.name for u in q(User).order_by(User.id).limit(2).all()],
        "count": q(User).count(),
        "avg_age": q(func.avg(User.age)).scalar(),
        "max_age": q(func.max(User.age)).scalar(),
        "join": [[u.name, p.title] for u, p in q(User, Post).join(Post).order_by(Post.id).all()],
        "python_authors": [u.name for u in q(User).join(Post).filter(Post.title.contains("Python")).all()],
        "and": [u.name for u in q(User).filter(and_(User.name == "Alice", User.age >= 18)).all()],
        "or": [u.name for u in q(User).filter(or_(User.name == "Alice", User.name == "Bob")).order_by(User.id).all()],
        "posts_per_user": [[n, c] for n, c in q(User.name, func.count(Post.id)).outerjoin(Post)
                           .group_by(User.name).order_by(User.name).all()],
        "null_email": [u.name for u in q(User).filter(User.email == None).all()],  # noqa: E711
        "in": [u.name for u in q(User).filter(User.name.in_(["Bob", "Eve"])).order_by(User.id).all()],
        "like": [u.name for u in q(User).filter(User.email.like("%@example.com")).order_by(User.id).all()],
    }
print(json.dumps(out, sort_keys=True))
