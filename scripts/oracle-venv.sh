#!/bin/sh
# Creates (once) the virtualenv holding ansible-core 2.19, the oracle for the template differential test,
# and prints its python path on stdout. Progress goes to stderr so callers can capture the path.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${ORACLE_VENV:-$root/.venv-oracle}"
py="$venv/bin/python"
if [ ! -x "$py" ] || ! "$py" -c 'import ansible.template, sys; from ansible.release import __version__ as v; sys.exit(0 if v.startswith("2.19") else 1)' >/dev/null 2>&1; then
    echo "creating oracle venv in $venv" >&2
    python3 -m venv "$venv" >&2
    "$py" -m pip install --quiet --disable-pip-version-check 'ansible-core>=2.19,<2.20' >&2
fi
echo "$py"
