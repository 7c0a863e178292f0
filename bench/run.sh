#!/usr/bin/env bash
# Benchmarks of pgha-play, run by hand (never in the unit tests): prints figures for the issues.
#   bench/run.sh            parse-and-plan of a 500-task playbook (--list-tasks does load + plan)
# Needs a release build: swift build -c release
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${PGHA_BIN:-$root/.build/release/pgha-play}"
[ -x "$bin" ] || { echo "build first: swift build -c release" >&2; exit 1; }
dir="$(python3 "$root/bench/generate-playbook.py" /tmp/pgha-bench 500)"
runs=20
"$bin" -i localhost, --list-tasks "$dir/site.yml" > /tmp/pgha-bench/list.txt
tasks=$(grep -c '^      ' /tmp/pgha-bench/list.txt || true)
start=$(date +%s%N)
for _ in $(seq $runs); do "$bin" -i localhost, --list-tasks "$dir/site.yml" >/dev/null; done
end=$(date +%s%N)
echo "parse-and-plan, $tasks tasks listed: $(( (end - start) / runs / 1000000 )) ms per run (mean of $runs, whole process)"
start=$(date +%s%N)
for _ in $(seq $runs); do "$bin" --version >/dev/null 2>&1 || true; done
end=$(date +%s%N)
echo "process start-up alone: $(( (end - start) / runs / 1000000 )) ms per run"
