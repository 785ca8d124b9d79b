"""sl.start(server=...): the real implementations behind the lab's one handle, their records
beside their cookies, their cookie formats against the frameworks' own code, and the login
diagnosis a wrong route map gets."""

from __future__ import annotations

import json
import shutil
from unittest import mock

import pytest
import requests
from test_zoo import need_runtime

import sessionlab as sl
from sessionlab.auditing.target import Target
from sessionlab.cookies import DJANGO, STARLETTE

XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def express():
    need_runtime("express")
    with sl.start(server="express", name="t-fw-express") as lab:
        yield lab


@pytest.fixture(scope="module")
def django():
    need_runtime("django")
    with sl.start(server="django", name="t-fw-django") as lab:
        yield lab


@pytest.fixture(scope="module")
def django_https():
    need_runtime("django")
    with sl.start(server="django", mode="hardened", name="t-fw-django-https") as lab:
        yield lab


def test_the_seeds_express_app_keeps_the_seeds_faults(express):
    client = express.client()
    assert [r.text for r in client.cycle("alice")][1] == 'alice<br /><a href="/logout">Logout</a>'
    logout = client.exchanges[2]
    assert logout.set_cookies == ()  # destroy() sends no Set-Cookie: the cookie stays
    before = len(express.store.all())
    requests.get(f"{express.url}/user", timeout=5)  # a cookieless visit...
    assert len(express.store.all()) == before + 1  # ...stores a session (saveUninitialized)
    client.get("/user/" + requests.utils.quote(XSS, safe=""))
    assert client.get("/user").text.startswith(XSS)  # echoed unescaped
    assert "the name echoed unescaped (XSS)" in repr(express)


def test_express_records_show_in_the_timeline(express):
    client = express.client()
    client.cycle("alice")
    timeline = sl.timeline(client)
    assert timeline["changed"].tolist()[0].startswith("cookie set; record created")
    assert '{"name":"alice"}' in timeline["server holds"].iloc[1]


def test_every_server_has_the_one_handle(express, django):
    for lab in (express, django):
        assert lab.url.startswith("http://127.0.0.1:") and lab.running
        assert lab.health()["store"] == "reachable"
        assert lab.pids and lab.routes.cookie == lab.cookie_name
        assert sl.running()[lab.name] is lab
        # these apps have no page at "/": the description links their view route instead
        assert lab.home == lab.url + lab.routes.view.path and f"at {lab.home}" in repr(lab)
        assert requests.get(lab.home, timeout=5).status_code == 200


def test_django_records_are_its_session_table(django):
    client = sl.Client(django.url)
    Target(django.url, django.routes).login(client)
    frame = sl.store_frame(django.store)
    assert frame["data"].map(lambda data: data.get("_auth_user_id")).notna().any()


def test_php_and_starlette_records():
    need_runtime("php")
    with sl.start(server="php", name="t-fw-php") as lab:
        lab.client().get("/user/alice")
        assert {"name": "alice"} in sl.store_frame(lab.store)["data"].tolist()
    need_runtime("starlette")
    with sl.start(server="starlette", name="t-fw-starlette") as lab:
        lab.client().get("/user/alice")
        assert sl.store_frame(lab.store).empty  # the session is in the cookie


@pytest.mark.parametrize(
    ("server", "missing", "command"),
    [
        ("express", "which", "apt-get install nodejs npm"),
        ("php", "which", "apt-get install php-cli"),
        ("django", "find_spec", "pip install 'sessionlab[frameworks]'"),
        ("starlette", "find_spec", "pip install 'sessionlab[frameworks]'"),
    ],
)
def test_a_missing_runtime_is_one_error_with_the_install_command(server, missing, command):
    runtime = "sessionlab.server.frameworks.runtime"
    target = (
        f"{runtime}.shutil.which" if missing == "which" else f"{runtime}.importlib.util.find_spec"
    )
    with (
        mock.patch(target, return_value=None),
        mock.patch("sessionlab.server.frameworks.express.node_modules", return_value="/x"),
        pytest.raises(sl.ServiceMissingError, match=command.replace("[", r"\[")),
    ):
        sl.start(server=server, name=f"t-missing-{server}")


def test_express_takes_a_list_of_secrets_and_no_other_framework_does():
    from sessionlab.server.frameworks.express import express_secret

    assert json.loads(express_secret(["new" * 11, "old" * 11])) == ["new" * 11, "old" * 11]
    with pytest.raises(sl.ConfigError, match="non-empty list of strings"):
        express_secret([])
    with pytest.raises(sl.ConfigError, match="takes one secret string"):
        sl.start(server="php", secret=["a", "b"])


def test_an_unknown_server_or_a_flask_option_is_refused():
    with pytest.raises(sl.ConfigError, match="server must be one of"):
        sl.start(server="rails")
    with pytest.raises(sl.ConfigError, match="keeps its own defaults"):
        sl.start(server="php", store="memory")


# -- cookie formats, against the frameworks' own code ---------------------------------------


def test_django_cookies_are_django_signing_byte_for_byte():
    need_runtime("django")
    from django.conf import settings
    from django.core import signing

    if not settings.configured:
        settings.configure(SECRET_KEY="changeme")
    salt = "django.contrib.sessions.backends.signed_cookies"
    for payload in ({"name": "alice"}, {"_auth_user_id": "1", "_auth_user_hash": "0" * 64}):
        with mock.patch("time.time", return_value=1_764_183_680):
            theirs = signing.dumps(payload, key="changeme", compress=True, salt=salt)
        assert sl.sign_django(payload, "changeme", timestamp=1_764_183_680) == theirs
        assert sl.decode_cookie(theirs).payload == payload
        assert sl.verify(theirs, "changeme")


def test_starlette_cookies_are_itsdangerous_byte_for_byte():
    from itsdangerous import TimestampSigner

    payload = {"name": "alice"}
    with mock.patch("time.time", return_value=1_764_183_680):
        theirs = TimestampSigner("your-secret-key").sign(
            __import__("base64").b64encode(json.dumps(payload).encode())
        )
    assert sl.sign_starlette(payload, "your-secret-key", timestamp=1_764_183_680) == (
        theirs.decode()
    )


def test_live_cookies_are_read_and_cracked_with_their_own_key():
    need_runtime("django")
    with sl.start(
        server="django", backend="signed_cookies", secret="changeme", name="t-fw-signed"
    ) as lab:
        target = Target(lab.url, lab.routes)
        value = target.issued()[1]["value"]
    anatomy = sl.decode_cookie(value)
    assert anatomy.kind == "django" and anatomy.payload["_auth_user_id"]
    result = sl.crack(value, progress=False)
    assert (result.secret, result.kind) == ("changeme", "django")
    need_runtime("starlette")
    with sl.start(server="starlette", secret="your-secret-key", name="t-fw-weak") as lab:
        client = lab.client()
        client.get("/user/alice")
        value = next(c.value for c in client.cookies if c.name == "session")
    assert (sl.decode_cookie(value).kind, sl.decode_cookie(value).payload) == (
        "starlette",
        {"name": "alice"},
    )
    result = sl.crack(value, progress=False)
    assert (result.secret, result.kind) == ("your-secret-key", "starlette")
    assert STARLETTE.parse(sl.decode_cookie(value).value) is not None
    assert DJANGO.parse(value) is None


# -- the login, verified, with one message per mistake --------------------------------------


def cannot(lab, **changes) -> str:
    routes = lab.routes
    fields = {**routes.__dict__, **changes}
    report = sl.audit(lab.url, sl.Routes(**fields), verify=lab.ca_path or True, wordlist=False)
    assert set(report["verdict"]) == {"could not test"}
    return report["observed"].iloc[0]


def test_the_session_cookie_is_found_by_what_login_changed(django):
    # Django sets csrftoken before and after sessionid; the session cookie is the one the
    # view cannot do without.
    target = Target(django.url, sl.Routes(**{**django.routes.__dict__, "cookie": None}))
    assert target.issued()[0] == "sessionid"


def test_each_login_mistake_has_its_own_message(django, django_https):
    wrong_password = cannot(django, passwords={"alice": "nope", "mallory": "nope"})
    assert "wrong credentials? the login page came back" in wrong_password
    wrong_field = cannot(django, csrf_field="csrf_token")
    assert "answered 403" in wrong_field and "no CSRF token found as input csrf_token" in (
        wrong_field
    )
    assert "inputs on the page: csrfmiddlewaretoken" in wrong_field
    missing = sl.Route("POST", "/accounts/signin/", django.routes.login.form)
    assert "answered 404" in cannot(django, login=missing) and "check the route's path" in (
        cannot(django, login=missing)
    )
    wrong_cookie = cannot(django, cookie="session")
    assert "the login set cookies csrftoken, sessionid but not 'session'" in wrong_cookie
    no_headers = cannot(django_https, browser_headers=False)
    assert "answered 403" in no_headers and "Origin/Referer" in no_headers


def test_django_over_https_is_audited_with_browser_headers(django_https):
    report = sl.audit(django_https, wordlist=False, samples=5).set_index("check")
    decided = report.drop(["idle timeout", "absolute timeout"])["verdict"]
    assert "could not test" not in decided.tolist()
    assert report.loc["__Host- prefix", "verdict"] == "pass"


def test_a_typo_in_the_view_stops_the_audit_instead_of_flipping_verdicts():
    need_runtime("express")
    with sl.start(server="express", name="t-fw-typo") as lab:
        message = cannot(lab, view=sl.Route("GET", "/users"))
    assert "the view (GET /users) answered 404" in message


def test_the_express_cache_is_outside_the_package():
    from sessionlab.server.frameworks.express import APP, node_modules

    need_runtime("express")
    assert not (APP / "node_modules").exists()
    assert shutil.os.path.commonpath([node_modules(), APP]) != str(APP)


def test_a_token_read_from_a_cookie_and_sent_in_a_header(django):
    # Django also takes the csrftoken cookie's value in an X-CSRFToken header.
    fields = {**django.routes.__dict__, "csrf_from": "cookie:csrftoken", "csrf_field": ""}
    target = Target(django.url, sl.Routes(**{**fields, "csrf_header": "X-CSRFToken"}))
    assert target.issued()[0] == "sessionid"
    login = next(e for c in target.clients for e in c.exchanges if e.method == "POST")
    assert login.status == 302  # the token went in the header only: csrf_field=""


def test_json_bodies_and_request_headers_are_sent_as_described():
    from flask import Flask, request, session

    from sessionlab.server.serve import serve_app
    from sessionlab.server.storage import UnlistedStore

    app = Flask("json-login")
    app.secret_key = "k" * 64

    @app.post("/api/login")
    def api_login():
        if request.headers.get("X-Requested-With") != "sessionlab" or not request.is_json:
            return "no", 400
        session["name"] = request.json["user"]
        return {"ok": True}

    @app.get("/user")
    def show():
        return session.get("name", "user logged out!")

    lab = serve_app(app, name="t-json", store=UnlistedStore(), cookie_name="session", kind="t")
    with lab:
        login = sl.Route(
            "POST",
            "/api/login",
            {"user": "{user}"},
            headers={"X-Requested-With": "sessionlab"},
            json=True,
        )
        target = Target(lab.url, sl.Routes(login=login))
        assert target.issued()[0] == "session"
        sent = next(e for c in target.clients for e in c.exchanges if e.method == "POST")
        assert (sent.path, sent.status, sent.body) == ("/api/login", 200, '{"ok":true}\n')
