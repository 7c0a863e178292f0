#!/usr/bin/env bash
# Side by side, in one run: pgha-play, ansible-playbook, ansible-playbook + Mitogen and pyinfra on the
# same two lab hosts and the same workload (/work/shared/bench: 60 idempotent tasks, facts gathered,
# as root). Each tool converges the hosts once, then its idempotent reruns are timed (whole
# processes, start-up included), round-robin so every tool sees the same load; the best of RUNS
# counts. Prints each time and the ratios, and writes the table into bench/README.md (between the
# compare markers) with the date and the machine.
#
#   scripts/build-release && bench/compare.sh
#
# Env: PGHA_BIN (default .build-release/release/pgha-play, made by scripts/build-release),
#      BENCH_HOSTS (default node24=10.77.0.35,node25=10.77.0.36), BENCH_WORKLOAD (default /work/shared/bench),
#      RUNS (default 3), RESET (default 1: `pgha-play lab reset` the hosts first, so they start
#      fresh), PGHA_ORACLE_VENV (ansible-core 2.19, made by scripts/oracle-venv.sh),
#      PGHA_BENCH_VENV (default .venv-bench: Mitogen and pyinfra from PyPI, made here; never a
#      runtime dependency), WRITE_README (default 1).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${PGHA_BIN:-$root/.build-release/release/pgha-play}"
hosts="${BENCH_HOSTS:-node24=10.77.0.35,node25=10.77.0.36}"
workload="${BENCH_WORKLOAD:-/work/shared/bench}"
runs="${RUNS:-3}"
lab=/var/lib/pgha-play/lab
[ -x "$bin" ] || { echo "build first: scripts/build-release (or set PGHA_BIN)" >&2; exit 1; }
[ -f "$workload/bench.yml" ] && [ -f "$workload/deploy.py" ] || { echo "no workload in $workload" >&2; exit 1; }

oracle_python="$(PGHA_ORACLE_VENV="${PGHA_ORACLE_VENV:-$root/.venv-oracle}" "$root/scripts/oracle-venv.sh")"
oracle="$(dirname "$oracle_python")"
# The bench venv uses the oracle's interpreter, so ansible-playbook can import Mitogen from it.
venv="${PGHA_BENCH_VENV:-$root/.venv-bench}"
(
  exec 9>"$venv.lock"
  flock 9
  [ -x "$venv/bin/python" ] || "$(readlink -f "$oracle_python")" -m venv "$venv" >&2
  "$venv/bin/python" -c 'import ansible_mitogen, pyinfra' 2>/dev/null \
    || "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'mitogen>=0.3,<0.4' 'pyinfra>=3,<4' >&2
)
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
mitogen_version="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mitogen"))')"
pyinfra_version="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("pyinfra"))')"
ansible_version="$("$oracle_python" -c 'import ansible; print(ansible.__version__)')"

work="$(mktemp -d /tmp/pgha-compare.XXXXXX)"
trap 'rm -rf "$work"' EXIT
names=()
{
  echo "[db]"
  IFS=, read -ra pairs <<< "$hosts"
  for pair in "${pairs[@]}"; do
    names+=("${pair%%=*}")
    echo "${pair%%=*} ansible_host=${pair#*=}"
  done
  echo "[all:vars]"
  echo "ansible_user=root"
  echo "ansible_ssh_private_key_file=$lab/id_ed25519"
  echo "ansible_ssh_common_args='-o UserKnownHostsFile=$lab/known_hosts -o StrictHostKeyChecking=yes'"
  echo "ansible_python_interpreter=/usr/bin/python3"
} > "$work/inventory.ini"
{
  echo "data = {'ssh_user': 'root', 'ssh_key': '$lab/id_ed25519', 'ssh_known_hosts_file': '$lab/known_hosts'}"
  echo "db = ["
  for pair in "${pairs[@]}"; do echo "    ('${pair#*=}', data),"; done
  echo "]"
} > "$work/inventory.py"
cp "$workload/bench.yml" "$workload/deploy.py" "$work/"

if [ "${RESET:-1}" = 1 ]; then "$bin" lab reset "${names[@]}" >&2; fi

# Every tool's command line, by name; their output goes to $work/<tool>.out. Ansible's connection
# timeout is raised from 10 s to 60 s: on a loaded machine Mitogen's first connection took longer.
tools=(pgha-play pyinfra mitogen ansible)
run_tool() {
  local tool=$1
  case $tool in
    pgha-play) "$bin" -i "$work/inventory.ini" "$work/bench.yml" ;;
    ansible)
      env ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_PIPELINING=1 ANSIBLE_TIMEOUT=60 \
        ANSIBLE_LOCAL_TEMP="$work/ansible-tmp" "$oracle/ansible-playbook" -i "$work/inventory.ini" "$work/bench.yml" ;;
    mitogen)
      env PYTHONPATH="$site" ANSIBLE_STRATEGY_PLUGINS="$site/ansible_mitogen/plugins/strategy" \
        ANSIBLE_STRATEGY=mitogen_linear ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_RETRY_FILES_ENABLED=false \
        ANSIBLE_PIPELINING=1 ANSIBLE_TIMEOUT=60 ANSIBLE_LOCAL_TEMP="$work/ansible-tmp" \
        "$oracle/ansible-playbook" -i "$work/inventory.ini" "$work/bench.yml" ;;
    pyinfra) (cd "$work" && "$venv/bin/pyinfra" -y inventory.py deploy.py) ;;
  esac
}

# What each tool says about changes on a rerun (nothing must change but pyinfra's shell commands,
# which it always runs).
changes() {
  case $1 in
    pgha-play | ansible | mitogen) grep -Eo 'changed=[0-9]+' "$work/$1.out" | sort -u | tr '\n' ' ' ;;
    pyinfra) grep -Ei 'changed|no changes' "$work/$1.out" | tail -3 | tr -s ' \n' ' ' ;;
  esac
}

echo "converging ${names[*]} once with each tool ..." >&2
for tool in "${tools[@]}"; do
  run_tool "$tool" > "$work/$tool.out" 2>&1 || { cat "$work/$tool.out" >&2; echo "$tool failed" >&2; exit 1; }
done
declare -A best
for round in $(seq "$runs"); do
  for tool in "${tools[@]}"; do
    start=$(date +%s%N)
    if ! run_tool "$tool" > "$work/$tool.out" 2>&1; then
      # A loaded machine can time a connection out (Mitogen's, seen at load 30): say so, retry once.
      grep -Ei 'unreachable|timed out|error' "$work/$tool.out" | head -3 >&2
      echo "round $round: $tool failed; retrying once" >&2
      start=$(date +%s%N)
      run_tool "$tool" > "$work/$tool.out" 2>&1 || { cat "$work/$tool.out" >&2; echo "$tool failed" >&2; exit 1; }
    fi
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "round $round: $tool ${ms} ms" >&2
    if [ -z "${best[$tool]:-}" ] || [ "$ms" -lt "${best[$tool]}" ]; then best[$tool]=$ms; fi
  done
done
for tool in "${tools[@]}"; do echo "$tool rerun: $(changes "$tool")" >&2; done

seconds() { awk -v ms="$1" 'BEGIN { printf "%.2f s", ms / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
fastest_peer=$(( best[pyinfra] < best[mitogen] ? best[pyinfra] : best[mitogen] ))
machine="$(uname -srm), $(nproc) vCPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
table="$work/table.md"
{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(hostname) ($machine): ${names[*]}, best of $runs"
  echo "idempotent reruns after one converging run per tool (\`bench/compare.sh\`)."
  echo
  echo "| tool | rerun (best of $runs) | pgha-play is faster by |"
  echo "| --- | --- | --- |"
  echo "| pgha-play (release) | **$(seconds "${best[pgha-play]}")** | |"
  echo "| pyinfra $pyinfra_version | $(seconds "${best[pyinfra]}") | $(ratio "${best[pyinfra]}" "${best[pgha-play]}") |"
  echo "| ansible-core $ansible_version + Mitogen $mitogen_version | $(seconds "${best[mitogen]}") | $(ratio "${best[mitogen]}" "${best[pgha-play]}") |"
  echo "| ansible-core $ansible_version | $(seconds "${best[ansible]}") | $(ratio "${best[ansible]}" "${best[pgha-play]}") |"
  echo
  echo "Against the fastest peer: **$(ratio "$fastest_peer" "${best[pgha-play]}")** (target: at least 10x)."
} > "$table"
cat "$table"

if [ "${WRITE_README:-1}" = 1 ]; then
  readme="$root/bench/README.md"
  python3 - "$readme" "$table" <<'PY'
import sys
readme, table = sys.argv[1], open(sys.argv[2]).read()
text = open(readme).read()
start, end = "<!-- compare.sh:start -->", "<!-- compare.sh:end -->"
if start in text and end in text:
    head, rest = text.split(start, 1)
    text = head + start + "\n" + table + end + rest.split(end, 1)[1]
else:
    text += "\n" + start + "\n" + table + end + "\n"
open(readme, "w").write(text)
PY
  echo "written into $readme" >&2
fi
