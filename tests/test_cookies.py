"""Cookie anatomy agrees byte for byte with the libraries that make the cookies:
Flask's own session interface, express-session running in Node, and our own server."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from urllib.parse import quote

import pytest
import requests
from flask import Flask, session
from test_zoo import need_runtime

import sessionlab as sl
from sessionlab.cookies import sign_sessionlab
from sessionlab.crack import tamper
from sessionlab.server.frameworks.express import node_modules

SEED = "some secret key"
STRONG = "8c1f0b7e4a9d2c6e1f3a5b7c9d0e2f4a6b8c0d1e3f5a7b9c0d2e4f6a8b0c1d3e"


# -- Flask: cookies from Flask's own SecureCookieSessionInterface -------------------------


def flask_cookie(secret: str, data: dict) -> str:
    """The session cookie Flask itself sends after a request that stores ``data``."""
    app = Flask("parity")
    app.secret_key = secret

    @app.get("/set")
    def set_session() -> str:
        session.update(data)
        return "ok"

    @app.get("/show")
    def show_session() -> str:
        return json.dumps(sorted(session.keys()))

    client = app.test_client()
    client.get("/set")
    return client.get_cookie("session").value


PAYLOADS = {
    "plain": {"name": "alice"},
    "tagged": {
        "cart": (1, 2, 3),
        "raw": b"\x00\xff",
        "when": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    },
    "compressed": {"items": ["the same words again"] * 40},
    "unicode": {"name": "Zoë ☕"},
}


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_flask_cookie_decodes_without_the_key_and_resigns_byte_for_byte(payload):
    cookie = flask_cookie(SEED, payload)

    anatomy = sl.decode_cookie(cookie)

    assert anatomy.kind == "flask"
    assert anatomy.payload == payload
    assert sl.verify(cookie, SEED)
    assert not sl.verify(cookie, STRONG)
    assert sl.sign_flask(payload, SEED, timestamp=anatomy.timestamp) == cookie


def test_large_flask_payload_is_compressed_and_marked_with_a_dot():
    cookie = flask_cookie(SEED, PAYLOADS["compressed"])

    assert cookie.startswith(".")
    assert sl.decode_cookie(cookie).compressed
    assert "zlib-compressed" in sl.anatomy_frame(cookie).loc[0, "meaning"]


def test_flask_accepts_a_cookie_we_sign():
    app = Flask("parity")
    app.secret_key = SEED
    app.get("/show")(lambda: dict(session))
    client = app.test_client()
    client.set_cookie("session", sl.sign_flask({"name": "mallory", "admin": True}, SEED))

    assert client.get("/show").get_json() == {"name": "mallory", "admin": True}


def test_flask_timestamp_is_when_it_was_signed():
    stamp = 1_764_183_680
    anatomy = sl.decode_cookie(sl.sign_flask({"n": 1}, SEED, timestamp=stamp))

    assert anatomy.signed_at == dt.datetime.fromtimestamp(stamp, dt.UTC)
    assert sl.anatomy_frame(anatomy).loc[1, "decoded"] == "2025-11-26 19:01:20 UTC"


def test_anatomy_frame_lays_the_flask_parts_side_by_side():
    cookie = sl.sign_flask({"name": "alice"}, SEED, timestamp=1_764_183_680)

    frame = sl.anatomy_frame(cookie)

    assert frame.columns.tolist() == ["part", "raw", "decoded", "meaning"]
    assert frame["part"].tolist() == ["payload", "timestamp", "signature"]
    assert "".join(frame["raw"]) == cookie
    assert frame.loc[0, "decoded"] == {"name": "alice"}


# -- our own server: signed session ids ---------------------------------------------------


def test_sessionlab_cookie_matches_the_server_signer():
    with sl.start(store="memory", secret=STRONG, name="t-cookies-own") as lab:
        client = sl.Client(lab.url)
        client.get("/user/alice")
        cookie = client.cookies["t-cookies-own"]
        (record,) = lab.store.all()

    anatomy = sl.decode_cookie(cookie)
    assert (anatomy.kind, anatomy.payload) == ("sessionlab", record.sid)
    assert sl.verify(cookie, STRONG) and not sl.verify(cookie, SEED)
    assert sign_sessionlab(record.sid, STRONG) == cookie
    frame = sl.anatomy_frame(cookie)
    assert frame["part"].tolist() == ["session id", "signature"]
    assert "".join(frame["raw"]) == cookie


# -- express-session, in Node --------------------------------------------------------------


@pytest.fixture(scope="module")
def express():
    """The seed's Express app, unchanged (its secret is the tutorial's SEED)."""
    need_runtime("express")
    with sl.start(server="express", name="t-cookies-express") as lab:
        yield lab.url


def express_login(url: str, user: str = "alice") -> tuple[requests.Session, str]:
    """Log in on the Express app; return the session and the raw Set-Cookie value."""
    http = requests.Session()
    response = http.get(f"{url}/user/{user}", timeout=5)
    wire_value = response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    return http, wire_value


def sign_in_node(value: str, secret: str) -> str:
    """express-session's own signer (cookie-signature, a dependency of express-session)."""
    script = "console.log(require('cookie-signature').sign(process.argv[1], process.argv[2]))"
    done = subprocess.run(
        [shutil.which("node") or "node", "-e", script, value, secret],
        env={**os.environ, "NODE_PATH": str(node_modules())},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.strip()


def test_reference_worked_example_matches_express_session_signer(express):
    expected = "s:abc.4n49lb1e6wSwqj3z/eJ/L/KrMgdgrdZXCS1ZU/V87VY"
    assert "s:" + sign_in_node("abc", SEED) == expected == sl.sign_express("abc", SEED)
    assert sl.sign_express("abc", SEED, encoded=True) == (
        "s%3Aabc.4n49lb1e6wSwqj3z%2FeJ%2FL%2FKrMgdgrdZXCS1ZU%2FV87VY"
    )


def test_express_session_cookie_decodes_verifies_and_resigns(express):
    _, wire_value = express_login(express)

    anatomy = sl.decode_cookie(wire_value)

    assert anatomy.kind == "express" and len(anatomy.payload) == 32
    assert sl.verify(wire_value, SEED) and not sl.verify(wire_value, STRONG)
    assert sl.sign_express(anatomy.payload, SEED, encoded=True) == wire_value
    frame = sl.anatomy_frame(wire_value)
    assert frame["part"].tolist() == ["prefix", "session id", "signature"]
    assert "".join(frame["raw"]) == sl.decode_cookie(wire_value).value


def test_express_cookie_with_the_seed_secret_is_cracked(express):
    _, wire_value = express_login(express)

    result = sl.crack(wire_value, progress=False)

    assert (result.secret, result.kind) == (SEED, "express")


def test_express_accepts_our_signature_and_refuses_a_tampered_one(express):
    _, wire_value = express_login(express)
    sid = sl.decode_cookie(wire_value).payload

    resigned = requests.get(
        f"{express}/user",
        cookies={"connect.sid": sl.sign_express(sid, SEED, encoded=True)},
        timeout=5,
    )
    tampered = requests.get(
        f"{express}/user", cookies={"connect.sid": tamper(wire_value, "signature")}, timeout=5
    )

    assert resigned.text.startswith("alice<br />")
    assert tampered.text == "user logged out!"


def test_express_with_a_secret_list_signs_with_the_first_and_accepts_the_old():
    need_runtime("express")
    new, old = "new " + STRONG, STRONG
    with sl.start(
        server="express", mode="recommended", secret=[new, old], name="t-cookies-rotation"
    ) as lab:
        client = lab.client()
        form = client.get("/login").text
        token = re.search(r'name="_csrf" value="([^"]+)"', form).group(1)
        client.post("/login", data={"user": "alice", "_csrf": token})
        wire_value = client.cookies["sid"]
        sid = sl.decode_cookie(wire_value).payload
        with_old_key = requests.get(
            f"{lab.url}/user", cookies={"sid": sl.sign_express(sid, old, encoded=True)}, timeout=5
        )

    assert sl.signed_with(wire_value, [new, old]) == 0
    assert with_old_key.text.startswith("alice<br />")


# -- auto-detection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["", "hello", "a.b", "s:abc", "s:abc.notbase64!", "x.y.z", "eyJ.aSdOgA.tooshort", "a.b.c.d"],
)
def test_anything_else_is_unknown_and_never_verifies(value):
    assert sl.decode_cookie(value).kind == "unknown"
    assert not sl.verify(value, SEED)
    assert sl.anatomy_frame(value)["part"].tolist() == ["value"]


def test_values_are_read_as_a_browser_holds_them():
    cookie = sl.sign_express("abc", SEED)

    for held in (cookie, quote(cookie, safe=""), f'"{cookie}"'):
        assert sl.decode_cookie(held).kind == "express"
        assert sl.verify(held, SEED)


def test_tampered_flask_payload_is_still_a_flask_cookie_that_fails_to_verify():
    cookie = tamper(sl.sign_flask({"name": "alice"}, SEED))

    anatomy = sl.decode_cookie(cookie)

    assert anatomy.kind == "flask" and anatomy.payload is None
    assert "not Flask's tagged JSON" in anatomy.problem
    assert not sl.verify(cookie, SEED)
