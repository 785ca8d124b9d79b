"""``sessionlab audit URL``: the audit in a terminal, or as JSON, JUnit or SARIF for CI.

Exit status 0 when no check fails, 1 on a failed check (advice never fails), 2 when nothing
could be tested (login unreachable, a certificate not trusted), so a CI job cannot mistake
"nothing checked" for "all good".

sessionlab audit http://127.0.0.1:8000                       # an app with the seed's routes
sessionlab audit https://127.0.0.1:8443 --routes hardened --ca ca.pem
sessionlab audit URL --login "POST /login user={user}" --login-form /login \\
    --logout "POST /logout" --logout-form /user --idle 2 --absolute 5
sessionlab audit URL --login "POST /accounts/login/ username={user} password={password}" \\
    --login-form /accounts/login/ --csrf-field csrfmiddlewaretoken \\
    --password-env alice=ALICE_PW --password-env mallory=MALLORY_PW --format sarif

Quote a field's value to give it spaces ("password='correct horse'"); a password read from
an environment variable (--password-env USER=VARIABLE) stays out of the process list.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import time

import pandas as pd

from .finding import COULD_NOT_TEST, FAIL, PASS
from .output import to_json, to_junit, to_sarif, to_table, use_colour
from .report import audit, failed
from .target import Route, Routes

FORMATS = ("table", "json", "junit", "sarif")


def add_audit_command(commands: argparse._SubParsersAction) -> None:
    """Add ``audit`` to the ``sessionlab`` command's subcommands."""
    parser = commands.add_parser(
        "audit",
        help="audit the session handling of the app at URL",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("url", metavar="URL", help="the app's base URL")
    parser.add_argument("--routes", choices=["seed", "hardened"], default="seed")
    for move in ("login", "view", "logout"):
        parser.add_argument(
            f"--{move}", metavar="'METHOD PATH [FIELD=VALUE...]'", help=f"the {move} request"
        )
    parser.add_argument("--login-form", metavar="PATH", help="page whose form has the token")
    parser.add_argument("--logout-form", metavar="PATH", help="page whose form has the token")
    parser.add_argument("--cookie", help="the session cookie's name (default: found at login)")
    parser.add_argument("--csrf-field", default="csrf_token", help="the token's form field")
    parser.add_argument(
        "--csrf-from",
        default="input",
        help="where the token is read: input, cookie:NAME, header:NAME",
    )
    parser.add_argument("--csrf-header", help="also send the token in this request header")
    parser.add_argument(
        "--header", action="append", default=[], metavar="NAME:VALUE", help="sent with every route"
    )
    parser.add_argument(
        "--password", action="append", default=[], metavar="USER=PASSWORD", help="for {password}"
    )
    parser.add_argument(
        "--password-env",
        action="append",
        default=[],
        metavar="USER=VARIABLE",
        help="read USER's password from an environment variable (safer than argv)",
    )
    parser.add_argument("--users", nargs=2, metavar=("VICTIM", "ATTACKER"), help="two accounts")
    parser.add_argument("--format", choices=FORMATS, default="table", help="how to print it")
    parser.add_argument("--evidence", action="store_true", help="the table shows evidence too")
    parser.add_argument("--ca", default=None, help="CA bundle that signed the app's certificate")
    parser.add_argument("--idle", type=float, help="seconds to wait for the idle timeout")
    parser.add_argument("--absolute", type=float, help="seconds to wait for the absolute one")
    parser.add_argument("--lifetime", type=float, help="longest acceptable cookie lifetime (s)")
    parser.add_argument(
        "--samples", type=at_least_two, default=20, help="logins to sample ids from (>= 2)"
    )
    parser.add_argument(
        "--deadline", type=float, default=None, help="seconds the whole audit may take"
    )
    parser.add_argument("--no-wordlist", action="store_true", help="skip the wordlist check")
    parser.set_defaults(run=audit_command)


def at_least_two(text: str) -> int:
    """An argparse type: an integer of 2 or more.

    >>> at_least_two("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: 0 is not an integer of 2 or more
    """
    if not text.isdigit() or int(text) < 2:
        raise argparse.ArgumentTypeError(f"{text} is not an integer of 2 or more")
    return int(text)


def route(
    spec: str | None, default: Route, token_from: str | None, headers: dict[str, str] | None = None
) -> Route:
    """A route from "METHOD PATH [FIELD=VALUE ...]", split as a shell would (quotes keep
    spaces).

    >>> route("POST /login user={user} 'password=a b'", Route(), "/login").form
    {'user': '{user}', 'password': 'a b'}
    """
    headers = headers or {}
    if spec is None:
        return Route(
            default.method,
            default.path,
            default.form,
            token_from or default.token_from,
            {**default.headers, **headers},
        )
    words = shlex.split(spec)
    method, path, *fields = words + [""] * (2 - len(words))
    if not path.startswith("/") or not all("=" in field for field in fields):
        raise ValueError(f"route {spec!r}: expected 'METHOD /path [field=value ...]'")
    form = dict(field.split("=", 1) for field in fields)
    return Route(method.upper(), path, form, token_from, headers)


def pairs(items: list[str], separator: str, what: str) -> dict[str, str]:
    """ "A=B" arguments as a dict, each refused with its expected shape when malformed.

    >>> pairs(["alice=a b"], "=", "USER=PASSWORD")
    {'alice': 'a b'}
    """
    out = {}
    for item in items:
        key, found, value = item.partition(separator)
        if not found or not key.strip():
            raise ValueError(f"{item!r}: expected {what}")
        out[key.strip()] = value.strip() if separator == ":" else value
    return out


def routes_from(args: argparse.Namespace) -> Routes:
    base = Routes.named(args.routes)
    headers = pairs(args.header, ":", "NAME:VALUE")
    passwords = pairs(args.password, "=", "USER=PASSWORD")
    for user, variable in pairs(args.password_env, "=", "USER=VARIABLE").items():
        if variable not in os.environ:
            raise ValueError(f"--password-env {user}={variable}: {variable} is not set")
        passwords[user] = os.environ[variable]
    return Routes(
        login=route(args.login, base.login, args.login_form, headers),
        view=route(args.view, base.view, None, headers),
        logout=route(args.logout, base.logout, args.logout_form, headers),
        cookie=args.cookie,
        csrf_field=args.csrf_field,
        csrf_from=args.csrf_from,
        csrf_header=args.csrf_header,
        passwords=passwords,
        users=tuple(args.users) if args.users else base.users,
    )


def nothing_tested(report: pd.DataFrame) -> str | None:
    """Why no check reached a verdict (the most common reason), or None if any did.

    >>> nothing_tested(pd.DataFrame({"verdict": ["could not test"], "observed": ["no login"]}))
    'no login'
    """
    if report["verdict"].isin([PASS, FAIL]).any():
        return None
    untested = report.loc[report["verdict"] == COULD_NOT_TEST, "observed"]
    return untested.mode().iloc[0] if len(untested) else "every check was not applicable"


def audit_command(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    report = audit(
        args.url,
        routes_from(args),
        verify=args.ca or True,
        samples=args.samples,
        idle=args.idle,
        absolute=args.absolute,
        lifetime=args.lifetime,
        wordlist=not args.no_wordlist,
        progress=sys.stderr.isatty(),
        deadline=args.deadline,
    )
    seconds = time.perf_counter() - started
    if args.format == "json":
        print(to_json(report, args.url))
    elif args.format == "junit":
        print(to_junit(report, args.url))
    elif args.format == "sarif":
        print(json.dumps(to_sarif(report, args.url), indent=2))
    else:
        width = min(shutil_width(), 100)
        print(to_table(report, width=width, evidence=args.evidence, colour=use_colour(sys.stdout)))
    untested = nothing_tested(report)
    if untested:
        print(f"sessionlab audit: nothing could be tested: {untested}", file=sys.stderr)
        return 2
    failures = failed(report)
    counts = report["verdict"].value_counts()
    summary = ", ".join(f"{count} {verdict}" for verdict, count in counts.items())
    out = sys.stdout if args.format == "table" else sys.stderr
    print(f"\n{args.url}: {summary} ({seconds:.1f} s)", file=out)
    if failures:
        print("failed: " + ", ".join(failures), file=out)
    return 1 if failures else 0


def shutil_width() -> int:
    """The terminal's width (100 when it cannot be told, as in CI logs)."""
    return shutil.get_terminal_size((100, 24)).columns
