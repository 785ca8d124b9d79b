"""Baselines for bench/throughput.py, served by granian or gunicorn like sessionlab's workers.

    granian --interface wsgi --factory flask_session_app:flask_session  # BENCH_BACKEND=...
    gunicorn 'flask_session_app:bare()'   # a Flask route and no session: the ceiling

Flask-Session is configured as its documentation shows, with its defaults (permanent
sessions, so every request rewrites the record).
"""

from __future__ import annotations

import os

from flask import Flask

from sessionlab.server.app import register_seed_routes


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
    register_seed_routes(app)  # the lab's own routes: the same work, route for route
    return app


def bare() -> Flask:
    app = Flask("bare-bench")

    @app.get("/user")
    def show_user() -> str:
        return "user logged out!"

    return app
