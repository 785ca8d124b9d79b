"""``sessionlab audit URL``: the audit's table in a terminal.

Exit status 1 on a failed check; 2 when nothing could be tested (login unreachable, a
certificate not trusted), so a CI job cannot mistake "nothing checked" for "all good".

sessionlab audit http://127.0.0.1:8000                       # an app with the seed's routes
sessionlab audit https://127.0.0.1:8443 --routes hardened --ca ca.pem
sessionlab audit URL --login "POST /login user={user}" --login-form /login \\
    --logout "POST /logout" --logout-form /user --idle 2 --absolute 5
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from .finding import COULD_NOT_TEST, FAIL, PASS
from .report import audit, failed
from .target import Route, Routes

BRIEF_COLUMNS = ["check", "ASVS 4.0.3", "ASVS 5.0.0", "verdict", "observed", "evidence"]


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
    parser.add_argument("--cookie", help="the session cookie's name (default: the one login sets)")
    parser.add_argument("--csrf-field", default="csrf_token", help="the token's form field")
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
    parser.add_argument("--wide", action="store_true", help="every column, requirement too")
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


def route(spec: str | None, default: Route, token_from: str | None) -> Route:
    """A route from "METHOD PATH [FIELD=VALUE ...]".

    >>> route("POST /login user={user}", Route(), "/login")
    Route(method='POST', path='/login', form={'user': '{user}'}, token_from='/login')
    """
    if spec is None:
        return Route(default.method, default.path, default.form, token_from or default.token_from)
    method, path, *fields = spec.split() + [""] * (2 - len(spec.split()))
    if not path.startswith("/") or not all("=" in field for field in fields):
        raise ValueError(f"route {spec!r}: expected 'METHOD /path [field=value ...]'")
    form = dict(field.split("=", 1) for field in fields)
    return Route(method.upper(), path, form, token_from)


def routes_from(args: argparse.Namespace) -> Routes:
    base = Routes.named(args.routes)
    return Routes(
        login=route(args.login, base.login, args.login_form),
        view=route(args.view, base.view, None),
        logout=route(args.logout, base.logout, args.logout_form),
        cookie=args.cookie,
        csrf_field=args.csrf_field,
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
    shown = report if args.wide else report[BRIEF_COLUMNS]
    with pd.option_context("display.width", 250, "display.max_colwidth", 90):
        print(shown.to_string(index=False))
    untested = nothing_tested(report)
    if untested:
        print(f"sessionlab audit: nothing could be tested: {untested}", file=sys.stderr)
        return 2
    failures = failed(report)
    counts = report["verdict"].value_counts()
    summary = ", ".join(f"{count} {verdict}" for verdict, count in counts.items())
    print(f"\n{args.url}: {summary} ({seconds:.1f} s)")
    if failures:
        print("failed: " + ", ".join(failures))
    return 1 if failures else 0
