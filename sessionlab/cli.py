"""The ``sessionlab`` command: serve the lab's server, or take the tour in a terminal.

sessionlab serve --store sqlite --port 8000    # explore in a browser
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
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    serve.set_defaults(run=serve_command)

    tour = commands.add_parser("tour", help="run the tutorial's cycle and print the timeline")
    add_server_options(tour)
    tour.add_argument("--user", default="alice", help="the name to log in with")
    tour.set_defaults(run=tour_command)

    add_audit_command(commands)  # sessionlab audit URL: exit status 1 on a failed check
    return parser


def add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", choices=STORES, default="sqlite", help="where sessions live")
    parser.add_argument(
        "--secret",
        default=os.environ.get("SESSIONLAB_SECRET"),
        help="signing secret (default: $SESSIONLAB_SECRET, else a random 256-bit key); "
        "prefer the variable: a secret on the command line is visible to other users in ps",
    )
    parser.add_argument("--name", default="sessionlab", help="the session cookie's name")


def serve_command(args: argparse.Namespace) -> int:
    lab = sl.start(store=args.store, secret=args.secret, name=args.name, port=args.port)
    print(f"sessionlab: {args.store} sessions at {lab.url}/user/alice  (Ctrl-C to stop)")
    if lab.insecure_choices:
        print(f"insecure, for teaching: {', '.join(lab.insecure_choices)}", flush=True)
    try:
        while lab.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        lab.stop()
    return 0


def tour_command(args: argparse.Namespace) -> int:
    with sl.start(store=args.store, secret=args.secret, name=args.name) as lab:
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
