"""What servers do with tampered cookies, rotated secrets and weak secrets, seen from outside."""

from __future__ import annotations

import warnings

import pytest

import sessionlab as sl
from sessionlab.crack import tamper
from sessionlab.server.secret_check import check_secret

OLD = "0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c"
NEW = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a"


# -- tampering -----------------------------------------------------------------------------


def replace_cookie(client: sl.Client, name: str, value: str) -> None:
    """Overwrite the cookie the server set (same host and path), as a user in devtools would."""
    client.cookies.set(name, value, domain="127.0.0.1", path="/")


def test_flask_cookie_session_silently_ignores_a_tampered_cookie():
    name = "t-tamper-flask"
    with sl.start(store="cookie", secret=OLD, name=name) as lab:
        client = sl.Client(lab.url)
        client.get("/user/alice")
        tampered = tamper(client.cookies[name])
        replace_cookie(client, name, tampered)

        response = client.get("/user")

        assert (response.status_code, response.text) == (200, "user logged out!")
        assert client.exchanges[-1].set_cookies == ()  # nothing tells the client
        assert client.cookies[name] == tampered  # the bad cookie stays
        assert lab.events == []  # and nothing is logged


@pytest.mark.parametrize("part", ["payload", "signature"])
def test_server_side_session_logs_a_tampered_cookie_and_clears_it(server_store, part):
    name = f"t-tamper-{server_store}-{part}"
    with sl.start(store=server_store, secret=OLD, name=name) as lab:
        client = sl.Client(lab.url)
        client.get("/user/alice")
        replace_cookie(client, name, tamper(client.cookies[name], part))

        response = client.get("/user")

        assert response.text == "user logged out!"
        assert len(lab.events) == 1
        assert lab.events[0].startswith("rejected session cookie: bad-signature")
        (header,) = client.exchanges[-1].set_cookies
        assert sl.parse_set_cookie(header)["effect"] == "delete"
        assert name not in client.cookies


# -- rotation ------------------------------------------------------------------------------


def rotate(lab: sl.LabServer, store, secret) -> sl.LabServer:
    """Restart the server under new secrets, on the same port and with the same store."""
    return sl.start(store=store, secret=secret, name=lab.name, port=lab.port)


def test_cookie_store_rotation_keeps_old_cookies_and_resigns_them_on_write():
    name = "t-rotate-cookie"
    lab = sl.start(store="cookie", secret=OLD, name=name)
    try:
        writer, reader = sl.Client(lab.url), sl.Client(lab.url)
        writer.get("/user/alice")
        reader.get("/user/carol")

        lab = rotate(lab, "cookie", [NEW, OLD])
        assert writer.get("/user").text.startswith("alice<br />")  # old cookie still works
        assert sl.signed_with(writer.cookies[name], [NEW, OLD]) == 1  # a read does not re-sign
        writer.get("/user/alice")  # a write re-signs with the newest secret
        assert sl.signed_with(writer.cookies[name], [NEW, OLD]) == 0

        lab = rotate(lab, "cookie", [NEW])
        assert writer.get("/user").text.startswith("alice<br />")
        assert reader.get("/user").text == "user logged out!"  # never re-signed: logged out
    finally:
        lab.stop()


def test_server_side_rotation_keeps_sessions_and_resigns_on_write(tmp_path):
    name = "t-rotate-server"
    store = sl.SQLiteStore(tmp_path / "sessions.sqlite3")  # outlives the restarts
    lab = sl.start(store=store, secret=OLD, name=name)
    try:
        writer, reader = sl.Client(lab.url), sl.Client(lab.url)
        writer.get("/user/alice")
        reader.get("/user/carol")

        lab = rotate(lab, store, [NEW, OLD])
        assert writer.get("/user").text.startswith("alice<br />")
        assert sl.signed_with(writer.cookies[name], [NEW, OLD]) == 1
        writer.get("/user/alice")
        assert sl.signed_with(writer.cookies[name], [NEW, OLD]) == 0

        lab = rotate(lab, store, [NEW])
        assert writer.get("/user").text.startswith("alice<br />")
        assert reader.get("/user").text == "user logged out!"
        assert lab.events[-1].startswith("rejected session cookie: bad-signature")
        assert name not in reader.cookies  # and the server told the client to drop it
    finally:
        lab.stop()


# -- secret strength -------------------------------------------------------------------------


def start_and_collect_warnings(secret, name: str) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sl.start(store="memory", secret=secret, name=name).stop()
    return [str(w.message) for w in caught if issubclass(w.category, sl.WeakSecretWarning)]


def test_seed_secret_warns_that_it_is_public_and_names_the_fix():
    (message,) = start_and_collect_warnings("some secret key", "t-secret-seed")

    assert "Express tutorial" in message and "public wordlists" in message
    assert "secrets.token_hex(32)" in message and "environment" in message


def test_a_long_secret_from_the_public_wordlist_warns():
    leaked = next(w for w in sl.load_wordlist() if len(w) >= 40 and w.isalnum())

    (message,) = start_and_collect_warnings(leaked, "t-secret-leaked")

    assert "public Flask-Unsign wordlist" in message
    assert "secrets.token_hex(32)" in message


def test_strong_secrets_start_quietly():
    assert start_and_collect_warnings([NEW, OLD], "t-secret-strong") == []


def test_a_weak_old_secret_in_a_rotation_list_still_warns():
    (message,) = start_and_collect_warnings([NEW, "some secret key"], "t-secret-rotation")

    assert message.startswith("the old secret #2 (still accepted)")


def test_short_and_low_entropy_secrets_warn():
    short = start_and_collect_warnings("Zq8#kL2!", "t-secret-short")
    repetitive = start_and_collect_warnings("ab" * 20, "t-secret-entropy")

    assert short == [short[0]] and "8 characters long, under 32" in short[0]
    assert repetitive == [repetitive[0]] and "bits of entropy, under 128" in repetitive[0]


def test_one_repeated_character_has_zero_bits_not_minus_zero():
    (message,) = check_secret("a" * 64)

    assert "one character repeated: about 0 bits of entropy, under 128" in message
    assert "-0" not in message
