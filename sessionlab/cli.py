"""The ``sessionlab`` command: serve the lab's server, or take the tour in a terminal.

sessionlab serve --store sqlite --port 8000    # explore in a browser
sessionlab serve --workers 2 --store redis://127.0.0.1:6379/0 --port 8001   # behind a balancer
sessionlab tour --store memory                 # the tutorial's cycle as a timeline
sessionlab audit http://127.0.0.1:8000         # the session security audit of any app
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

import pandas as pd

import sessionlab as sl
from sessionlab.auditing.cli import add_audit_command
from sessionlab.server.storage import URL_FORMS, store_from_url

STORES = ["cookie", "memory", "sqlite", "redis"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    >>> main(["tour", "--store", "memory", "--user", "doc"])  # doctest: +ELLIPSIS
    Tour of memory sessions: what the client and the server hold after each step
    ...
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (OSError, ValueError, RuntimeError) as error:  # errors the user can fix
        print(f"sessionlab: {error}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sessionlab", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run a session server until Ctrl-C")
    add_server_options(serve)
    serve.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default 127.0.0.1, this machine only; anything "
        "else warns: put the server behind a firewall or a load balancer)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="serve from N worker processes (granian) instead of one thread",
    )
    serve.set_defaults(run=serve_command)

    tour = commands.add_parser("tour", help="run the tutorial's cycle and print the timeline")
    add_server_options(tour)
    tour.add_argument("--user", default="alice", help="the name to log in with")
    tour.set_defaults(run=tour_command)

    add_audit_command(commands)  # sessionlab audit URL: exit status 1 on a failed check
    return parser


def add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        type=store_option,
        default=os.environ.get("SESSIONLAB_STORE", "sqlite"),
        metavar="STORE",
        help=f"where sessions live: {', '.join(STORES)}, or a URL shared by several servers "
        f"({URL_FORMS}); default $SESSIONLAB_STORE, else sqlite. Prefer the variable for "
        "a URL with a password",
    )
    parser.add_argument(
        "--secret",
        default=os.environ.get("SESSIONLAB_SECRET"),
        help="signing secret (default: $SESSIONLAB_SECRET, else a random 256-bit key); "
        "prefer the variable: a secret on the command line is visible to other users in ps",
    )
    parser.add_argument("--name", default="sessionlab", help="the session cookie's name")


def store_option(value: str) -> str:
    """A store name, or a URL (checked when the server opens it)."""
    if value in STORES or "://" in value:
        return value
    raise argparse.ArgumentTypeError(
        f"invalid choice: {value!r} (choose from {', '.join(STORES)}, or a URL: {URL_FORMS})"
    )


def open_store_option(store: str, name: str) -> str | sl.Store:
    """A URL becomes the store it names (under this server's key prefix, as
    ``store="redis"`` uses, so servers with the same ``--name`` share their sessions)."""
    if "://" not in store:
        return store
    return store_from_url(store, instance_path=os.getcwd(), prefix=f"sess:{name}:")


def serve_command(args: argparse.Namespace) -> int:
    store = open_store_option(args.store, args.name)
    try:
        lab = sl.start(
            store=store,
            secret=args.secret,
            name=args.name,
            port=args.port,
            host=args.host,
            workers=args.workers,
        )
    except BaseException:
        if not isinstance(store, str):
            store.close()
        raise
    where = "" if args.workers is None else f", {args.workers} worker processes"
    print(
        f"sessionlab: {store_label(args.store)} sessions at {lab.url}/user/alice{where}  "
        "(Ctrl-C to stop)",
        flush=True,
    )
    if lab.insecure_choices:
        print(f"insecure, for teaching: {', '.join(lab.insecure_choices)}", flush=True)
    if "://" in args.store and args.secret is None:
        print(
            "note: this server made its own random secret; servers that share a store must "
            "share one: set SESSIONLAB_SECRET the same for all",
            file=sys.stderr,
            flush=True,
        )
    try:
        while lab.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        lab.stop()
        if not isinstance(store, str):
            store.close()
    return 0


def store_label(store: str) -> str:
    """What to print for a store: its name, or its URL without a password.

    >>> store_label("redis://:hunter2@db.internal:6379/0")
    'redis://db.internal:6379/0'
    """
    if "@" not in store:
        return store
    scheme, _, rest = store.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


def tour_command(args: argparse.Namespace) -> int:
    store = open_store_option(args.store, args.name)
    with sl.start(store=store, secret=args.secret, name=args.name) as lab:
        client = lab.client()
        client.cycle(args.user)
        print(
            f"Tour of {args.store} sessions: what the client and the server hold after each step"
        )
        with pd.option_context("display.width", 200, "display.max_colwidth", 60):
            print(sl.timeline(client).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
