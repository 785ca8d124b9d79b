"""The tables: their columns and the values a learner reads in them."""

from __future__ import annotations

import time

import pandas as pd

import sessionlab as sl
from sessionlab.tables import COOKIE_COLUMNS, HISTORY_COLUMNS, STORE_COLUMNS, TIMELINE_COLUMNS


def test_cookies_frame_has_devtools_columns_and_values(lab, client):
    client.get("/user/alice")
    frame = sl.cookies_frame(client)
    assert list(frame.columns) == COOKIE_COLUMNS
    row = frame.iloc[0]
    value = client.cookies.get(lab.name)
    assert (row["name"], row["value"], row["domain"], row["path"]) == (
        lab.name,
        value,
        "127.0.0.1",
        "/",
    )
    assert row["expires"] == "Session"
    assert row["size"] == len(lab.name) + len(value)
    assert row["HttpOnly"] and not row["Secure"] and row["SameSite"] == "Lax"


def test_persistent_cookie_shows_time_left():
    with sl.start(store="memory", name="persist", cookie={"max_age": 3600}) as lab:
        client = sl.Client(lab.url)
        client.get("/user/alice")
        expires = sl.cookies_frame(client).loc[0, "expires"]
        assert pd.Timedelta(minutes=59) < expires <= pd.Timedelta(hours=1)


def test_set_cookie_frame_parses_every_header(lab, client):
    client.cycle("alice")
    frame = sl.set_cookie_frame(client)
    assert frame["step"].tolist() == [1, 3]
    assert frame["effect"].tolist() == ["set", "delete"]
    assert frame.loc[1, "Max-Age"] == "0" and frame.loc[1, "value"] == ""


def test_store_frame_decodes_records(lab, client):
    client.get("/user/alice")
    frame = sl.store_frame(lab.store)
    assert list(frame.columns) == STORE_COLUMNS
    assert frame.loc[0, "data"] == {"name": "alice"}
    assert frame.loc[0, "id"] == client.cookies.get(lab.name).split(".")[0]
    assert frame.loc[0, "created_ago"] == pd.Timedelta(0)
    assert frame.loc[0, "expires_in"] == pd.Timedelta(minutes=30)


def test_history_records_sent_cookie_and_set_cookie(lab, client):
    client.cycle("alice")
    history = sl.history_frame(client)
    assert list(history.columns) == HISTORY_COLUMNS
    assert history["path"].tolist() == ["/user/alice", "/user", "/logout", "/user"]
    assert history["label"].tolist() == ["set", "view", "logout", "view again"]
    assert history.loc[0, "sent Cookie"] == ""
    assert history.loc[1, "sent Cookie"].startswith(f"{lab.name}=")
    assert history.loc[3, "sent Cookie"] == "", "the cleared cookie is not sent again"
    assert history.loc[2, "Set-Cookie"].startswith(f"{lab.name}=; Expires=Thu, 01 Jan 1970")


def test_history_records_redirect_hops():
    from flask import Flask, redirect

    app = Flask("redirects")

    @app.get("/old")
    def old():
        response = redirect("/new")
        response.set_cookie("hop", "1")
        return response

    @app.get("/new")
    def new():
        return "arrived"

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = sl.Client(f"http://127.0.0.1:{server.server_port}")
        client.get("/old")
        history = sl.history_frame(client)
        assert history["path"].tolist() == ["/old", "/new"]
        assert history["status"].tolist() == [302, 200]
        assert history.loc[1, "sent Cookie"] == "hop=1"
        assert history.loc[0, "Set-Cookie"].startswith("hop=1;")
    finally:
        server.shutdown()


def test_timeline_marks_what_changed_on_each_side(lab, client):
    client.cycle("alice")
    client.get("/user/bob")
    client.get("/user/carol")
    frame = sl.timeline(client, lab.store)
    assert list(frame.columns) == TIMELINE_COLUMNS
    assert frame["client holds"].tolist() == [
        f"{lab.name}=id1+signature",
        f"{lab.name}=id1+signature",
        "(nothing)",
        "(nothing)",
        f"{lab.name}=id2+signature",
        f"{lab.name}=id2+signature",
    ]
    assert frame["server holds"].tolist()[-1] == 'id2: {"name":"carol"}'
    assert frame["changed"].tolist() == [
        "cookie set; record created",
        "",
        "cookie cleared; record deleted",
        "",
        "cookie set; record created",
        "record updated",
    ]


def test_timeline_without_a_watched_store_says_so(lab):
    client = sl.Client(lab.url)
    client.get("/user/alice")
    assert sl.timeline(client)["server holds"].tolist() == ["(not watched)"]


def test_timeline_on_cookie_sessions_shows_an_empty_server():
    with sl.start(store="cookie", name="client-side") as lab:
        client = sl.Client(lab.url, watch=lab.store)
        client.cycle("alice")
        frame = sl.timeline(client)
        assert frame["server holds"].unique().tolist() == ["(nothing)"]
        assert frame["client holds"].tolist()[:2] == ["client-side=value1"] * 2
        assert frame["changed"].tolist() == ["cookie set", "", "cookie cleared", ""]


def test_timeline_says_when_the_same_id_is_signed_anew():
    store = sl.MemoryStore()  # outlives both servers, like a real store across a restart
    with sl.start(store=store, name="rotate", secret="a" * 8 + "9f3c" * 14) as old_lab:
        client = sl.Client(old_lab.url, watch=store)
        client.get("/user/alice")
        new_secret = "b" * 8 + "7d21" * 14
        old_secret = old_lab.app.secret_key
    with sl.start(store=store, name="rotate", secret=[new_secret, old_secret]) as lab:
        client.base_url = lab.url + "/"
        client.get("/user")  # read only: the old signature still verifies, nothing re-signed
        client.get("/user/alice2")  # a write: re-signed with the new key, same id
        changed = sl.timeline(client)["changed"].tolist()
    assert changed == ["cookie set; record created", "", "cookie re-signed; record updated"]


def test_store_frame_shows_never_for_expiries_pandas_cannot_hold():
    now = time.time()
    store = sl.MemoryStore()
    store.set(sl.Record("far", {"n": 1}, created=now, expires=now + 1e12))
    store.set(sl.Record("never", {"n": 2}, created=now, expires=float("inf")))
    frame = sl.store_frame(store, now=now)
    assert frame["expires_in"].isna().tolist() == [True, True]
    assert frame["created_ago"].tolist() == [pd.Timedelta(0), pd.Timedelta(0)]


def test_timeline_does_not_credit_a_step_with_another_clients_record(lab):
    frank = sl.Client(lab.url, watch=lab.store)
    grace = sl.Client(lab.url, watch=lab.store)
    frank.get("/user/frank")
    grace.get("/user/grace")  # between frank's two steps
    frank.get("/user")

    assert sl.timeline(frank)["changed"].tolist() == ["cookie set; record created", ""]
