#!/usr/bin/env bash
# Creates (once) the virtualenv holding the oracles the differential tests compare against:
# ansible-core (ansible-playbook, Templar) from PyPI, and the `ansible` package for the collections the
# module differential and the roles need (ansible.posix, community.general, community.postgresql,
# community.crypto). Prints the
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
# Ansible's password_hash filter hashes only through passlib (ansible-core 2.19 has no crypt fallback).
if ! "$venv/bin/python" -c 'import passlib' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'passlib==1.7.4' >&2
fi
# The collections the module differential needs come from the `ansible` 12.x wheel (the release
# built on ansible-core 2.19): only their directories are unpacked, which is much faster than
# installing all of the package's collections. ansible-core finds them on sys.path.
collections='ansible_collections.ansible.posix, ansible_collections.community.general, ansible_collections.community.postgresql, ansible_collections.community.crypto'
if ! "$venv/bin/python" -c "import $collections" 2>/dev/null; then
  wheels="$(mktemp -d)"
  trap 'rm -rf "$wheels"' EXIT
  "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$wheels" 'ansible>=12,<13' >&2
  "$venv/bin/python" - "$wheels" <<'PY'
import glob, sys, sysconfig, zipfile
wanted = tuple("ansible_collections/%s/" % c for c in ("ansible/posix", "community/general", "community/postgresql", "community/crypto"))
(wheel,) = glob.glob(sys.argv[1] + "/ansible-*.whl")
with zipfile.ZipFile(wheel) as z:
    z.extractall(sysconfig.get_paths()["purelib"], [n for n in z.namelist() if n.startswith(wanted)])
PY
fi
echo "$venv/bin/python"
