#!/usr/bin/env bash
# Creates (once) the virtualenv holding the oracles the differential tests compare against:
# ansible-core (ansible-playbook, Templar) from PyPI, and the `ansible` package for the collections the
# module differential needs (ansible.posix, community.general, community.postgresql). Prints the
# venv's python path.
# Never a runtime dependency of pgha-play. Safe to call from several test suites at once.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PGHA_ORACLE_VENV:-${ORACLE_VENV:-$root/.venv-oracle}}"
python="${PYTHON:-python3}"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv" >&2
fi
if ! "$venv/bin/python" -c 'import ansible, sys; v = tuple(int(x) for x in ansible.__version__.split(".")[:2]); sys.exit(0 if v == (2, 19) else 1)' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'ansible-core>=2.19,<2.20' >&2
fi
# The `ansible` 12.x release is the one built on ansible-core 2.19; it ships the collections.
if ! "$venv/bin/python" -c 'import ansible_collections.ansible.posix, ansible_collections.community.general, ansible_collections.community.postgresql' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'ansible-core>=2.19,<2.20' 'ansible>=12,<13' >&2
fi
echo "$venv/bin/python"
