#!/usr/bin/env bash
# SSH transport figures of pgha-play against the running lab (read-only: every task is `true`).
#   bench/ssh-overhead.sh              (a) per-command overhead, (b) connections per host per run,
#                                      (c) 3 hosts vs 1 host
#   bench/ssh-overhead.sh scale        (d) every inventory host x 20 tasks against the first host alone,
#                                      and the controller's peak memory (boot e.g. 92 hosts first:
#                                      sudo pgha-play lab up --hosts 92; SCALE_HOSTS=40-89 makes the
#                                      inventory of node40..node89 from `lab status`, or INVENTORY=file)
# Env: PGHA_BIN (default .build/release/pgha-play), INVENTORY (default inventory/lab.ini),
#      HOSTS1 (default node1), HOSTS3 (default node1:node2:witness), RUNS (default 3).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${PGHA_BIN:-$root/.build/release/pgha-play}"
inventory="${INVENTORY:-$root/inventory/lab.ini}"
one="${HOSTS1:-node1}"
three="${HOSTS3:-node1:node2:witness}"
runs="${RUNS:-3}"
lab=/var/lib/pgha-play/lab
[ -x "$bin" ] || { echo "build first: swift build -c release (or set PGHA_BIN)" >&2; exit 1; }
work="$(mktemp -d /tmp/pgha-bench-ssh.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# playbook NAME HOSTS TASKS: TASKS x `command: true`, no fact gathering.
playbook() {
  local file="$work/$1.yml"
  { echo "- hosts: $2"; echo "  gather_facts: false"; echo "  tasks:"
    for i in $(seq "$3"); do echo "    - command: 'true'"; done; } > "$file"
  echo "$file"
}

# best-of-RUNS wall time of a run, in milliseconds
wall() {
  local best=""
  for _ in $(seq "$runs"); do
    local start end ms
    start=$(date +%s%N)
    "$bin" -i "$inventory" "$@" > "$work/out.txt" 2>&1 || { cat "$work/out.txt" >&2; exit 1; }
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  echo "$best"
}

address() { awk -v h="$1" '$1 == h { for (i = 2; i <= NF; i++) if ($i ~ /^ansible_host=/) { sub("ansible_host=", "", $i); print $i } }' "$inventory"; }

# sshd's "Accepted publickey for deploy" lines so far (this ssh login adds one itself).
accepted() {
  ssh -i "$lab/id_ed25519" -o UserKnownHostsFile="$lab/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes \
    "deploy@$(address "$1")" "sudo journalctl -u ssh --no-pager -o cat | grep -c 'Accepted publickey for deploy' || true"
}

if [ "${1:-}" = scale ]; then
  # SCALE_HOSTS=FIRST-LAST (lab host numbers, e.g. 40-89) writes the inventory from `lab status`.
  if [ -n "${SCALE_HOSTS:-}" ]; then
    low=${SCALE_HOSTS%-*}; high=${SCALE_HOSTS#*-}
    { echo "[scale]"
      "$bin" lab status | awk -v low="$low" -v high="$high" \
        '$1 ~ /^node[0-9]+$/ { n = substr($1, 5) + 0; if (n >= low && n <= high && $3 == "running") print $1 " ansible_host=" $2 }'
      echo "[all:vars]"; echo "ansible_user=deploy"; echo "ansible_ssh_private_key_file=$lab/id_ed25519"
      echo "ansible_ssh_common_args='-o UserKnownHostsFile=$lab/known_hosts -o StrictHostKeyChecking=yes'"
    } > "$work/scale.ini"
    inventory="$work/scale.ini"
  fi
  hosts=$(awk '/ansible_host=/ { print $1 }' "$inventory" | sort -u | wc -l)
  first=$(awk '/ansible_host=/ { print $1; exit }' "$inventory")
  p1=$(playbook scale-one "$first" 20)
  p=$(playbook scale all 20)
  one=$(wall -f 50 "$p1")
  all=$(wall -f 50 "$p")
  # The controller's peak memory for the whole run (GNU time's maximum resident set size, KiB).
  rss=$(/usr/bin/time -v "$bin" -i "$inventory" -f 50 "$p" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ { print $2 }')
  echo "(d) 20 tasks on 1 host ($first): ${one} ms; on $hosts hosts, -f 50: ${all} ms;" \
    "ratio $(awk -v a="$one" -v b="$all" 'BEGIN { printf "%.2f", b / a }') (target <= 3);" \
    "controller peak RSS $(( rss / 1024 )) MiB (target < 200)"
  exit 0
fi

p1=$(playbook one "$one" 1)
p200=$(playbook two-hundred "$one" 200)
t1=$(wall -f 1 "$p1")
t200=$(wall -f 1 "$p200")
echo "(a) 1 task on $one: ${t1} ms; 200 tasks: ${t200} ms; per-command overhead $(( (t200 - t1) * 1000 / 199 )) us"

p20=$(playbook twenty "$one" 20)
before=$(accepted "$one")
"$bin" -i "$inventory" -f 1 "$p20" > "$work/out.txt" 2>&1 || { cat "$work/out.txt" >&2; exit 1; }
after=$(accepted "$one")
echo "(b) SSH connections to $one for one 20-task run: $(( after - before - 1 )) (target 1)"

p20x1=$(playbook twenty-one "$one" 20)
p20x3=$(playbook twenty-three "$three" 20)
a=$(wall "$p20x1")
b=$(wall "$p20x3")
echo "(c) 20 tasks on $one: ${a} ms; on $three: ${b} ms; ratio $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }') (target <= 1.5)"
# The same without start-up and connection set-up: 20 tasks minus 1 task, per host count.
p1x3=$(playbook one-three "$three" 1)
c=$(wall "$p1x3")
echo "(c') 19 extra tasks on $one: $(( a - t1 )) ms; on $three: $(( b - c )) ms (1 task on $three: ${c} ms);" \
  "ratio $(awk -v x="$(( a - t1 ))" -v y="$(( b - c ))" 'BEGIN { if (x > 0) printf "%.2f", y / x; else print "n/a" }')"
