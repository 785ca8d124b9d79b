"""Baselines for bench/throughput.py, served by granian or gunicorn like sessionlab's workers.

    granian --interface wsgi --factory flask_session_app:flask_session  # BENCH_BACKEND=...
    gunicorn 'flask_session_app:bare()'   # a Flask route and no session: the ceiling

Flask-Session is configured as its documentation shows, with its defaults (permanent
sessions, so every request rewrites the record).
"""

from __future__ import annotations

import os

from flask import Flask, session
from markupsafe import escape


def seed_routes(app: Flask) -> Flask:
    @app.get("/user/<user>")
    def set_user(user: str) -> str:
        session["name"] = user
        return '<p>Session Set: <a href="/user">View Here</a></p>'

    @app.get("/user")
    def show_user() -> str:
        if "name" in session:
            return f'{escape(session["name"])}<br /><a href="/logout">Logout</a>'
        return "user logged out!"

    @app.get("/logout")
    def logout() -> str:
        session.clear()
        return '<br />logged out!<br /><a href="/user">Check Session</a>'

    return app


def flask_session() -> Flask:
    from flask_session import Session

    app = Flask("flask-session-bench")
    app.secret_key = os.environ["BENCH_SECRET"]
    app.config["SESSION_COOKIE_NAME"] = "bench"
    if os.environ["BENCH_BACKEND"] == "redis":
        import redis

        app.config.update(
            SESSION_TYPE="redis", SESSION_REDIS=redis.Redis.from_url(os.environ["BENCH_REDIS"])
        )
    else:
        from flask_sqlalchemy import SQLAlchemy

        app.config.update(
            SESSION_TYPE="sqlalchemy",
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{os.environ['BENCH_SQLITE']}",
        )
        app.config["SESSION_SQLALCHEMY"] = SQLAlchemy(app)
    Session(app)
    return seed_routes(app)


def bare() -> Flask:
    app = Flask("bare-bench")

    @app.get("/user")
    def show_user() -> str:
        return "user logged out!"

    return app
