"""Cracking a weak secret from one captured cookie, and what a forged cookie buys."""

from __future__ import annotations

import pytest

import sessionlab as sl
from sessionlab.cookies import sign_sessionlab

SEED = "some secret key"
STRONG = "8c1f0b7e4a9d2c6e1f3a5b7c9d0e2f4a6b8c0d1e3f5a7b9c0d2e4f6a8b0c1d3e"
SEED_LINE = 21_273  # REFERENCE §5: the seed's secret is line 21,273 of the public list


def captured_cookie(store: str, secret: str, name: str) -> str:
    """Log alice in on a real server and return her cookie, as an eavesdropper would."""
    with sl.start(store=store, secret=secret, name=name) as lab:
        client = sl.Client(lab.url)
        client.get("/user/alice")
        return client.cookies[name]


def test_wordlist_is_the_public_flask_unsign_list():
    words = sl.load_wordlist()

    assert len(words) == 55_982
    assert words.index(SEED) + 1 == SEED_LINE
    assert all(isinstance(word, str) for word in words)


@pytest.mark.filterwarnings("ignore::sessionlab.WeakSecretWarning")
@pytest.mark.parametrize("store", ["cookie", "memory"])
def test_seed_secret_is_cracked_from_one_cookie(store):
    cookie = captured_cookie(store, SEED, f"t-crack-{store}")

    result = sl.crack(cookie, progress=False)

    assert result.secret == SEED
    assert result.guesses == SEED_LINE
    assert result.rate > 0
    assert str(result) == "found 'some secret key' after 21,273 of 55,982 guesses"


def test_strong_secret_survives_the_whole_wordlist():
    cookie = captured_cookie("cookie", STRONG, "t-crack-strong")

    result = sl.crack(cookie, progress=False)

    assert result.secret is None
    assert result.guesses == result.wordlist_size == 55_982
    assert str(result).startswith("not found: 55,982 of 55,982 guesses")


# Keys longer than a hash block (64 bytes) are hashed first: the inlined HMAC must agree.
@pytest.mark.parametrize("secret", ["k", "x" * 64, "y" * 65, "ключ ☕" * 20])
@pytest.mark.parametrize(
    "sign",
    [
        lambda secret: sl.sign_flask({"name": "alice"}, secret),
        lambda secret: sl.sign_express("abc", secret),
        lambda secret: sign_sessionlab("abc", secret),
    ],
    ids=["flask", "express", "sessionlab"],
)
def test_crack_agrees_with_verify_for_any_key_length(sign, secret):
    cookie = sign(secret)

    result = sl.crack(cookie, ["wrong", secret + "!", secret, "later"], progress=False)

    assert (result.secret, result.guesses) == (secret, 3)
    assert sl.verify(cookie, result.secret)


def test_unknown_cookie_cannot_be_cracked():
    with pytest.raises(ValueError, match="not a signed cookie of a known format"):
        sl.crack("not-a-signed-cookie", progress=False)


def test_progress_bar_shows_the_rate_on_stderr(capsys):
    sl.crack(sl.sign_express("abc", SEED), progress=True)

    bar = capsys.readouterr().err
    assert "cracking the express cookie" in bar
    assert "guesses/s" in bar


@pytest.mark.filterwarnings("ignore::sessionlab.WeakSecretWarning")
def test_forged_flask_cookie_logs_in_as_anyone_on_the_cookie_store():
    with sl.start(store="cookie", secret=SEED, name="t-forge-cookie") as lab:
        victim = sl.Client(lab.url)
        victim.get("/user/alice")
        secret = sl.crack(victim.cookies["t-forge-cookie"], progress=False)

        attacker = sl.Client(lab.url)
        attacker.cookies.set("t-forge-cookie", sl.forge_flask({"name": "mallory"}, secret))

        assert attacker.get("/user").text == 'mallory<br /><a href="/logout">Logout</a>'


@pytest.mark.filterwarnings("ignore::sessionlab.WeakSecretWarning")
def test_forging_gains_nothing_against_server_side_sessions():
    name = "t-forge-server"
    with sl.start(store="memory", secret=SEED, name=name) as lab:
        victim = sl.Client(lab.url)
        victim.get("/user/alice")
        forged_payload = sl.forge_flask({"name": "mallory"}, SEED)
        forged_id = sign_sessionlab("an-id-the-server-never-issued", SEED)

        answers = []
        for forged in (forged_payload, forged_id):
            attacker = sl.Client(lab.url)
            attacker.cookies.set(name, forged)
            answers.append(attacker.get("/user").text)

        assert answers == ["user logged out!", "user logged out!"]
        assert [event.split(" (")[0] for event in lab.events] == [
            "rejected session cookie: bad-signature",
            "rejected session cookie: unknown-id",
        ]
        assert victim.get("/user").text.startswith("alice<br />")


def test_forging_needs_a_secret():
    with pytest.raises(ValueError, match="found no secret"):
        sl.forge_flask({"name": "mallory"}, sl.CrackResult(None, 10, 0.1))


# -- tamper --------------------------------------------------------------------------------


def changed_positions(before: str, after: str) -> list[int]:
    return [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]


@pytest.mark.parametrize(
    "cookie",
    [
        sl.sign_flask({"name": "alice"}, "k"),
        sl.sign_express("abc", "k", encoded=True),
        sign_sessionlab("x" * 43, "k"),
        "flask-session-bare-random-id-0123456789abc",  # unsigned: no format we know
    ],
    ids=["flask", "express on the wire", "sessionlab", "bare id"],
)
def test_tamper_changes_exactly_one_character_and_the_decoded_bytes(cookie):
    tampered = sl.tamper(cookie)

    assert len(changed_positions(cookie, tampered)) == 1
    anatomy, original = sl.decode_cookie(tampered), sl.decode_cookie(cookie)
    assert anatomy.kind == original.kind
    if original.kind != "unknown":
        assert anatomy.signed != original.signed and not sl.verify(tampered, "k")


def test_tampered_signature_decodes_to_other_bytes():
    cookie = sign_sessionlab("x" * 43, "k")

    tampered = sl.tamper(cookie, "signature")

    assert len(changed_positions(cookie, tampered)) == 1
    assert sl.decode_cookie(tampered).digest != sl.decode_cookie(cookie).digest


def test_an_unsigned_cookie_has_no_signature_to_tamper_with():
    with pytest.raises(ValueError, match="no signature"):
        sl.tamper("bare-id", "signature")
