#!/usr/bin/env bash
# site.yml on three lab hosts (two database nodes, a witness): one deploy (timed, with the share of it
# spent in package installs and service starts from --profile), then RUNS idempotent reruns, each
# timed as a whole process with --profile; prints every rerun's time and changed count, the best,
# and the best rerun's profile (slowest tasks, time per role, round trips).
#
#   sudo pgha-play lab up --hosts 13            # node10..node12 exist
#   scripts/build-release && bench/site-rerun.sh
#
# Env: PGHA_BIN (default .build-release/release/pgha-play), SITE_HOSTS (default
#      node10=10.77.0.21,node11=10.77.0.22,node12=10.77.0.23: the last is the witness),
#      RUNS (default 3), RESET (default 1: `lab reset` the hosts and deploy first; 0 reruns on the
#      cluster already there, whose inventory is kept in $WORK), WORK (default /tmp/pgha-site-rerun).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${PGHA_BIN:-$root/.build-release/release/pgha-play}"
hosts="${SITE_HOSTS:-node10=10.77.0.21,node11=10.77.0.22,node12=10.77.0.23}"
runs="${RUNS:-3}"
work="${WORK:-/tmp/pgha-site-rerun}"
lab=/var/lib/pgha-play/lab
[ -x "$bin" ] || { echo "build first: scripts/build-release (or set PGHA_BIN)" >&2; exit 1; }
IFS=, read -ra pairs <<< "$hosts"
[ ${#pairs[@]} = 3 ] || { echo "SITE_HOSTS names three hosts: two database nodes, then the witness" >&2; exit 1; }
names=("${pairs[@]%%=*}")

if [ "${RESET:-1}" = 1 ]; then
  rm -rf "$work"
  mkdir -p "$work"
  # The committed inventory's variables (lab CA, lab-only secrets), the hosts replaced.
  cp -r "$root/inventory/group_vars" "$work/group_vars"
  {
    echo "[postgres]"
    echo "${pairs[0]%%=*} ansible_host=${pairs[0]#*=}"
    echo "${pairs[1]%%=*} ansible_host=${pairs[1]#*=}"
    echo "[witness]"
    echo "${pairs[2]%%=*} ansible_host=${pairs[2]#*=}"
    echo "[etcd:children]"
    echo "postgres"
    echo "witness"
    sed -n '/^\[all:vars\]/,$p' "$root/inventory/lab.ini"
  } > "$work/hosts.ini"
  "$bin" lab reset "${names[@]}" >/dev/null
  start=$(date +%s.%N)
  "$bin" -i "$work/hosts.ini" "$root/playbooks/site.yml" --profile > "$work/deploy.log" 2>&1 \
    || { tail -n 40 "$work/deploy.log" >&2; echo "the deploy failed" >&2; exit 1; }
  end=$(date +%s.%N)
  printf 'deploy: %.1f s\n' "$(echo "$end - $start" | bc)"
  sed -n '/^PROFILE:/,$p' "$work/deploy.log" | head -n 40
fi
[ -f "$work/hosts.ini" ] || { echo "no deployed cluster in $work (run with RESET=1)" >&2; exit 1; }

best=""
for i in $(seq "$runs"); do
  start=$(date +%s.%N)
  "$bin" -i "$work/hosts.ini" "$root/playbooks/site.yml" --profile > "$work/rerun-$i.log" 2>&1 \
    || { tail -n 40 "$work/rerun-$i.log" >&2; echo "rerun $i failed" >&2; exit 1; }
  end=$(date +%s.%N)
  seconds=$(echo "$end - $start" | bc)
  changed=$(grep -E '^[a-z0-9]+ +: ok=' "$work/rerun-$i.log" | sed -E 's/.*changed=([0-9]+).*/\1/' | paste -sd+ | bc)
  printf 'rerun %d: %.2f s, changed=%s (load %s)\n' "$i" "$seconds" "$changed" "$(cut -d' ' -f1-3 /proc/loadavg)"
  if [ -z "$best" ] || [ "$(echo "$seconds < $best" | bc)" = 1 ]; then best=$seconds; best_run=$i; fi
done
printf 'best rerun: %.2f s (of %d)\n' "$best" "$runs"
sed -n '/PLAY RECAP/,$p' "$work/rerun-$best_run.log"
