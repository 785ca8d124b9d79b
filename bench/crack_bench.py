"""How fast is sessionlab's wordlist attack, next to the flask-unsign CLI, in the same run?

Two Flask session cookies, signed by Flask itself: one with the seed's secret (line 21,273
of the public wordlist) and one with a strong secret (so every word is tried). Both tools
use the same public wordlist. flask-unsign is measured as its CLI (wall time, Python start
included, default 8 threads) and in-process (its Cracker class, start-up excluded), so the
ratio is fair either way. Needs the bench extra: pip install -e ".[bench]".

    .venv/bin/python bench/crack_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask

import sessionlab as sl

SEED = "some secret key"


def flask_cookie(secret: str) -> str:
    app = Flask("bench")
    app.secret_key = secret
    return app.session_interface.get_signing_serializer(app).dumps({"name": "alice"})


def ours(cookie: str, repeat: int) -> tuple[float, int, str | None]:
    """Best wall time of ``repeat`` runs (the wordlist is already in memory)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = sl.crack(cookie, progress=False)
        best = min(best, time.perf_counter() - started)
    return best, result.guesses, result.secret


def ours_cold(cookie: str) -> float:
    """The first crack in a process: reading and parsing the wordlist included."""
    # the module, not the function sessionlab exports under the same name
    importlib.import_module("sessionlab.crack")._encoded_default.cache_clear()
    importlib.import_module("sessionlab.wordlist")._words.cache_clear()
    started = time.perf_counter()
    sl.crack(cookie, progress=False)
    return time.perf_counter() - started


def cli(cookie: str, repeat: int) -> tuple[float, int, str | None]:
    """Best wall time of the flask-unsign CLI and the attempts it reports."""
    executable = shutil.which("flask-unsign", path=str(Path(sys.executable).parent))
    best, attempts, found = float("inf"), 0, None
    for _ in range(repeat):
        started = time.perf_counter()
        run = subprocess.run(
            [executable, "--unsign", "--cookie", cookie, "--quiet"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        best = min(best, time.perf_counter() - started)
        found = (run.stdout.strip().strip("'") or None) if run.returncode == 0 else None
        match = re.search(r"after (\d+) attempts", run.stderr + run.stdout)
        attempts = int(match.group(1)) if match else _needed(found)
    return best, attempts, found


def _needed(found: str | None) -> int:
    """--quiet hides the attempt count: credit the words up to the secret, or all of them."""
    words = sl.load_wordlist()
    return words.index(found) + 1 if found in words else len(words)


def in_process(cookie: str, repeat: int) -> tuple[float, int]:
    """flask-unsign's Cracker (8 threads, its default) without the interpreter start-up."""
    import flask_unsign_wordlist
    from flask_unsign.cracker import Cracker
    from flask_unsign.helpers import wordlist

    best, attempts = float("inf"), 0
    for _ in range(repeat):
        cracker = Cracker(value=cookie, quiet=True)
        with wordlist(flask_unsign_wordlist.get("all")) as words:
            started = time.perf_counter()
            cracker.crack(words)
            best = min(best, time.perf_counter() - started)
        attempts = cracker.attempts
    return best, attempts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    repeat = parser.parse_args().repeat
    try:
        import flask_unsign  # noqa: F401
    except ImportError:
        print('flask-unsign is missing: .venv/bin/pip install -e ".[bench]"', file=sys.stderr)
        return 2

    cookies = {
        "seed secret": flask_cookie(SEED),
        "strong secret": flask_cookie(secrets.token_hex(32)),
    }
    print(f"cold start (wordlist read + seed cracked): {ours_cold(cookies['seed secret']):.3f} s")
    print(f"{'cookie':<14} {'tool':<24} {'seconds':>8} {'guesses':>8} {'guesses/s':>11}  found")
    for label, cookie in cookies.items():
        rows = []
        seconds, guesses, found = ours(cookie, repeat)
        rows.append(("sessionlab.crack", seconds, guesses, found))
        seconds, guesses, found = cli(cookie, repeat)
        rows.append(("flask-unsign CLI", seconds, guesses, found))
        seconds, guesses = in_process(cookie, repeat)
        rows.append(("flask-unsign in-process", seconds, guesses, "-"))
        for tool, seconds, guesses, found in rows:
            rate = guesses / seconds
            print(f"{label:<14} {tool:<24} {seconds:>8.3f} {guesses:>8,} {rate:>11,.0f}  {found}")
        ours_rate = rows[0][2] / rows[0][1]
        print(
            f"{label:<14} ratio (ours / CLI): {ours_rate / (rows[1][2] / rows[1][1]):.1f}x, "
            f"(ours / in-process): {ours_rate / (rows[2][2] / rows[2][1]):.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
