"""Server-side sessions: ids, rejection of foreign cookies, logout, writes only when modified."""

from __future__ import annotations

import hashlib
import re
import threading
import time

import pytest
import requests

import sessionlab as sl
from sessionlab.cookies import parse_set_cookie
from sessionlab.server.app import create_app, lab_state
from sessionlab.server.id_cookies import id_signer

TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def session_cookie(client: sl.Client, name: str) -> str:
    return client.cookies.get(name)


def test_ids_are_256_bit_url_safe_and_unique(lab):
    ids = set()
    for _ in range(200):
        response = requests.get(f"{lab.url}/user/alice", timeout=5)
        sid, _, signature = response.cookies[lab.name].partition(".")
        assert TOKEN.match(sid) and TOKEN.match(signature)
        ids.add(sid)
    assert len(ids) == 200
    assert {record.sid for record in lab.store.all()} == ids


def test_cookie_carries_the_signed_id_of_the_stored_record(lab, client):
    client.get("/user/alice")
    sid = session_cookie(client, lab.name).split(".")[0]
    assert lab.store.get(sid).data == {"name": "alice"}


def test_a_bad_signature_is_not_adopted_and_the_cookie_is_cleared(lab, client):
    client.get("/user/alice")
    sid = session_cookie(client, lab.name).split(".")[0]
    client.cookies.set(lab.name, f"{sid}.{'A' * 43}", domain="127.0.0.1", path="/")
    response = client.get("/user")
    assert response.text == "user logged out!"
    cleared = parse_set_cookie(client.exchanges[-1].set_cookies[0])
    assert cleared["effect"] == "delete"
    assert lab.name not in client.cookies
    assert any("bad-signature" in event for event in lab.events)
    assert sid not in " ".join(lab.events), "the id must never be logged in clear"


def test_an_unknown_id_is_not_adopted_even_when_a_login_follows(lab, client):
    """Fixation: an id the attacker plants (validly signed, never issued) must not be used."""
    planted = "P" * 43
    signed = id_signer([lab.app.secret_key]).sign(planted).decode()
    client.cookies.set(lab.name, signed, domain="127.0.0.1", path="/")
    client.get("/user/alice")
    issued = session_cookie(client, lab.name).split(".")[0]
    assert issued != planted
    assert lab.store.get(planted) is None
    assert lab.store.get(issued).data == {"name": "alice"}
    assert any("unknown-id" in event for event in lab.events)


def test_logout_destroys_the_record_and_a_replayed_cookie_fails(lab, client):
    client.get("/user/alice")
    stolen = session_cookie(client, lab.name)
    client.get("/logout")
    assert lab.store.length() == 0
    replay = requests.get(f"{lab.url}/user", cookies={lab.name: stolen}, timeout=5)
    assert replay.text == "user logged out!"


def test_logout_clears_the_cookie_with_the_original_attributes(server_store):
    cookie = {"samesite": "Strict", "path": "/", "httponly": True}
    with sl.start(store=server_store, name="attrs", cookie=cookie) as lab:
        client = sl.Client(lab.url)
        client.cycle("alice")
        set_header, cleared_header = (e.set_cookies[0] for e in client.exchanges if e.set_cookies)
        issued, cleared = parse_set_cookie(set_header), parse_set_cookie(cleared_header)
        assert cleared["effect"] == "delete" and issued["effect"] == "set"
        for attribute in ("Path", "HttpOnly", "Secure", "SameSite"):
            assert cleared.get(attribute) == issued.get(attribute), attribute
        assert issued["SameSite"] == "Strict" and "Domain" not in issued


def test_cookie_is_sent_once_not_on_every_request(lab, client):
    client.get("/user/alice")
    client.get("/user")
    client.get("/user")
    assert [bool(e.set_cookies) for e in client.exchanges] == [True, False, False]


def test_a_read_only_request_never_overwrites_a_concurrent_write(server_store):
    """A slow reader that started before a write must not write its stale copy back."""
    with sl.start(store=server_store, name="race") as lab:
        client = sl.Client(lab.url)
        client.get("/user/alice")
        sid = session_cookie(client, lab.name).split(".")[0]
        slow_read, armed = threading.Event(), [True]
        original_get = lab.store.get

        def get_then_wait(requested_sid):
            record = original_get(requested_sid)
            if armed.pop() if armed else False:  # only the reader's request, the first
                slow_read.set()
                time.sleep(0.3)  # the write below lands while this request holds old data
            return record

        lab.store.get = get_then_wait
        cookies = {lab.name: session_cookie(client, lab.name)}
        reader = threading.Thread(
            target=requests.get,
            args=(f"{lab.url}/user",),
            kwargs={"cookies": cookies, "timeout": 5},
        )
        reader.start()
        slow_read.wait(5)
        client.get("/user/bob")
        reader.join()
        assert lab.store.get(sid).data == {"name": "bob"}


def test_seed_secret_is_accepted_with_a_warning():
    with pytest.warns(sl.WeakSecretWarning, match="public wordlists"):
        lab = sl.start(store="memory", secret="some secret key", name="seed-secret")
    with lab:
        assert sl.Client(lab.url).cycle("alice")[1].text.startswith("alice")


def test_default_secret_is_random_and_256_bits():
    with sl.start(store="memory", name="s1") as one, sl.start(store="memory", name="s2") as two:
        assert len(one.app.secret_key) == 64 and one.app.secret_key != two.app.secret_key


def regenerate_then_destroy_app(store):
    """An app whose login regenerates the id and whose logout does both in one request."""
    from flask import session

    app = create_app(store=store, name="regen")

    @app.get("/regenerate-and-destroy")
    def regenerate_and_destroy() -> str:
        session.regenerate()
        session.destroy()
        return "gone"

    return app


def test_regenerate_then_destroy_deletes_the_old_record_too(server_store):
    app = regenerate_then_destroy_app(server_store)
    client = app.test_client()
    client.get("/user/alice")
    assert lab_state(app).store.length() == 1
    client.get("/regenerate-and-destroy")
    assert lab_state(app).store.length() == 0, "the pre-regeneration record must not survive"


def test_a_failing_store_gives_a_plain_500_not_a_second_error(server_store):
    app = regenerate_then_destroy_app(server_store)
    client = app.test_client()
    client.get("/user/alice")

    def broken_get(sid):
        raise OSError("disk gone")

    lab_state(app).store.get = broken_get
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/user").status_code == 500


def test_one_id_signer_shared_by_many_threads_signs_as_itsdangerous():
    """A server's threads share one signer (its keyed HMACs are copied, never changed):
    every signature must stay itsdangerous' own, and a key rotated out must still verify."""
    from concurrent.futures import ThreadPoolExecutor

    from itsdangerous import BadSignature, Signer

    shared = id_signer(["new-" + "k" * 60, "old-" + "k" * 60])
    reference = Signer(
        ["old-" + "k" * 60, "new-" + "k" * 60],
        salt="sessionlab.sid",
        key_derivation="hmac",
        digest_method=hashlib.sha256,
    )
    signed_with_old = Signer(
        "old-" + "k" * 60,
        salt="sessionlab.sid",
        key_derivation="hmac",
        digest_method=hashlib.sha256,
    )

    def round_trip(n: int) -> bool:
        sid = f"{n:043d}"
        ours = shared.sign(sid)
        rotated = signed_with_old.sign(sid)
        return (
            ours == reference.sign(sid)
            and shared.unsign(ours) == sid.encode()
            and shared.unsign(rotated) == sid.encode()
        )

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(round_trip, range(4000)))
    with pytest.raises(BadSignature):
        shared.unsign(f"{0:043d}.AAAA")


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
def test_a_reader_never_changes_what_the_next_reader_gets(kind, request):
    # Stores remember what they decoded (DecodedMemo): each reader must get its own copy,
    # of plain values and of nested ones alike, or one request's edit leaks into the next.
    if kind == "redis":
        store = sl.RedisStore(request.getfixturevalue("private_redis_server").socket_url)
    else:
        store = sl.MemoryStore() if kind == "memory" else sl.SQLiteStore()
    try:
        for data in ({"name": "alice"}, {"cart": ["apple"], "name": "alice"}):
            store.set(sl.Record("sid-copy", dict(data), created=1.0, expires=time.time() + 60))
            for _ in range(3):
                read = store.get("sid-copy")
                assert read is not None and read.data == data
                read.data["name"] = "mallory"
                read.data.setdefault("cart", []).append("stolen")
    finally:
        store.destroy("sid-copy")
        store.close()


def test_a_nested_value_edited_in_place_is_not_kept_unless_marked_modified(server_store):
    app = create_app(store=server_store, secret="k" * 64, name="t-nested")
    from flask import session

    @app.get("/cart-in-place")
    def add_in_place() -> str:
        session.setdefault("cart", [])
        session["cart"].append("apple")  # Flask cannot see this change: no write
        return str(len(session["cart"]))

    client = app.test_client()
    client.get("/user/alice")
    # The first request adds the key (a write); later ones only edit the list they read.
    assert [client.get("/cart-in-place").text for _ in range(3)] == ["1", "2", "2"]
    lab_state(app).store.close()


def test_stray_characters_in_a_cookie_do_not_fill_the_servers_memory():
    # base64 decoding skips characters outside its alphabet, so one valid cookie verifies
    # in endless spellings; only the spelling the server signs is remembered.
    from flask import Flask

    from sessionlab.server.id_cookies import SignedIds

    app = Flask("t-spellings")
    app.secret_key = "k" * 64
    ids = SignedIds()
    cookie = ids.signer(app).sign("sid-1").decode()
    spellings = [cookie + "!" * n for n in range(1, 200)]
    spellings = [spelling for spelling in spellings if ids.signer(app).validate(spelling)]
    assert len(spellings) > 100
    assert {ids.verified(app, spelling) for spelling in [cookie, *spellings]} == {"sid-1"}
    ((_, remembered),) = ids._by_keys.values()  # what this set of keys holds
    assert list(remembered) == [cookie]


def test_decoded_sessions_are_forgotten_past_the_byte_bound():
    from sessionlab.server.stores.base import PLAIN, DecodedMemo

    memo, decoded = DecodedMemo(byte_limit=100), []

    def decode(text):
        decoded.append(text)
        return {"t": text}, None

    texts = [f"{n:030d}" for n in range(5)]  # 30 bytes each: at most three fit
    for text in [*texts, *texts]:
        memo.decode(text, PLAIN, lambda t=text: decode(t), len(text))
    assert decoded == [*texts, *texts]  # each was forgotten before it came back
    memo.decode(texts[4], PLAIN, lambda: decode("again"), 30)
    assert decoded[-1] == texts[4]  # the last one is still remembered
