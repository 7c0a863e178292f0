#!/usr/bin/env bash
# Creates (if missing) the reference-Ansible virtualenv that differential tests compare against,
# and prints its python path. Idempotent: safe to run from several test suites and CI.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ORACLE_VENV:-$root/.venv-oracle}"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv" >&2
fi
if ! "$venv/bin/python" -c 'import ansible, sys; v = tuple(int(x) for x in ansible.__version__.split(".")[:2]); sys.exit(0 if v == (2, 19) else 1)' 2>/dev/null; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'ansible-core>=2.19,<2.20' >&2
fi
echo "$venv/bin/python"
