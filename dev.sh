#!/usr/bin/env bash
# One entry point for working on sessionlab. On a fresh machine it creates .venv and
# installs the project into it first (Python >= 3.11 with venv is all it needs).
#
#   ./dev.sh lab         open JupyterLab on the first walkthrough
#   ./dev.sh test        the whole test suite, notebooks included (strict nbval)
#   ./dev.sh notebooks   re-execute notebooks in place (all, or the ones named) to refresh outputs
#   ./dev.sh bench       the benchmark scripts in bench/
#   ./dev.sh lint        ruff check, ruff format --check and mypy
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY=$VENV/bin/python

# setup EXTRAS: create .venv if needed and install the project with those extras ("lab" for
# the walkthroughs alone, "test" for everything the suite needs), again only when
# pyproject.toml changed since.
setup() {
    local stamp=$VENV/.installed-$1
    if [ ! -x "$PY" ]; then
        # pandas 3, which prints what the notebooks' committed outputs show, needs 3.11.
        python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
            echo "sessionlab needs Python 3.11 or newer; python3 is $(python3 -V 2>&1):" \
                "install a newer one (Debian 12 has 3.11) and put it first on PATH" >&2
            exit 1
        }
        python3 -m venv "$VENV" || {
            echo "could not create a virtual environment: on Debian, apt-get install python3-venv" >&2
            exit 1
        }
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        "$PY" -m pip install --quiet --upgrade pip
        "$PY" -m pip install --quiet -e ".[$1]"
        touch "$stamp"
    fi
}

command=${1:-help}
shift || true
case "$command" in
    lab)
        setup lab  # only what the walkthroughs need, not the test tools
        # Jupyter refuses to run as root unless told; containers often are root.
        [ "$(id -u)" != 0 ] || set -- --allow-root "$@"
        exec "$VENV/bin/jupyter" lab notebooks/01-the-session-cycle.ipynb "$@"
        ;;
    test)
        setup test
        exec "$PY" -m pytest "$@"
        ;;
    notebooks)
        setup test
        [ $# -gt 0 ] || set -- notebooks/*.ipynb
        exec "$VENV/bin/jupyter" nbconvert --to notebook --execute --inplace \
            --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.record_timing=False "$@"
        ;;
    bench)
        setup "test,bench"
        for script in bench/*.py; do "$PY" "$script" "$@"; done
        ;;
    lint)
        setup test
        # One command per line: under set -e a failure inside an && list would not stop us.
        "$VENV/bin/ruff" check --no-cache .
        "$VENV/bin/ruff" format --no-cache --check .
        "$VENV/bin/mypy" --no-incremental
        ;;
    *)
        sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
        [ "$command" = help ] || exit 2
        ;;
esac
