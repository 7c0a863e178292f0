#!/usr/bin/env bash
# Oversized and hostile input against the built CLI (issue 17): how long pgha-play takes to refuse
# it and how much memory it peaks at. Each case is one whole process (start-up included), on the
# local connection; nothing may run, so every case must exit 4 with the refusal on stderr (one still
# running after 120 s is killed: exit 124).
#
# usage: bench/bounded-input.sh            (PGHA_BIN, default .build/debug/pgha-play; WORK, default a
#                                           temporary directory, needs ~1.6 GB free)
set -eu  # no pipefail: `yes | head` ends with yes killed by SIGPIPE
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${PGHA_BIN:-$root/.build/debug/pgha-play}"
work="${WORK:-$(mktemp -d /var/tmp/pgha-bounded-XXXXXX)}"
cleanup() { [ -n "${writer:-}" ] && kill "$writer" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
printf 'localhost ansible_connection=local\n' >inventory.ini

play() { # $1: a header line for the play, $2: a task
  printf -- '- hosts: localhost\n  gather_facts: false\n%s  tasks:\n    - file: {path: %s/touched, state: touch}\n%s' \
    "$1" "$work" "$2" >site.yml
}

# Real bytes, not a sparse file: the refusal must not depend on how the file was made.
yes 'key_with_a_value: "some text to make the line longer than a few bytes"' | head -c 500000000 >vars500m.yml
yes 'line {{ item }} of a very large template, with some text around it' | head -c $((1 << 30)) >big1g.j2
{ printf 'x: '; head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'; echo; } >deep.yml
{
  printf 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
  for level in 1 2 3 4 5 6 7 8 9; do
    previous="*a$((level - 1))"
    printf 'a%d: &a%d [%s, %s, %s, %s, %s, %s, %s, %s, %s]\n' "$level" "$level" \
      "$previous" "$previous" "$previous" "$previous" "$previous" "$previous" "$previous" "$previous" "$previous"
  done
} >laughs.yml
mkfifo endless.yml

measure() { # $1: label; the rest: pgha-play's arguments before the playbook
  local label="$1"
  shift
  local status=0
  /usr/bin/time -f '%e %M' -o time.txt timeout 120 "$bin" -i inventory.ini "$@" site.yml >out.txt 2>err.txt || status=$?
  read -r seconds kilobytes < <(tail -1 time.txt)
  local message
  message="$(grep -m1 'ERROR!' err.txt | sed "s|$work/||" | cut -c1-110)"
  local touched=no
  [ -e touched ] && touched=YES
  printf '%-34s exit %s  %6s s  %6d MB peak  host touched: %s\n    %s\n' \
    "$label" "$status" "$seconds" $((kilobytes / 1024)) "$touched" "$message"
  rm -f touched
}

# The cost of starting pgha-play and loading a small play, for comparison: a valid play listed.
printf 'a: 1\n' >small.yml
play '  vars_files: [small.yml]
' ''
measure 'baseline: a small play, --list-tasks' --list-tasks
play '  vars_files: [vars500m.yml]
' ''
measure '500 MB vars file (vars_files)'
play '' ''
measure '500 MB vars file (-e @file)' -e @vars500m.yml
play '  vars_files: [deep.yml]
' ''
measure '100,000-level nested list'
play '' '    - template: {src: big1g.j2, dest: /tmp/pgha-bounded-never.conf}
'
measure '1 GB template'
play '  vars_files: [laughs.yml]
' ''
measure 'billion laughs (9 levels of 9)'
# As -e @file, which is read once (a vars_files entry is read by the preflight and again when the
# play starts: a FIFO whose writer has gone by then is waited for).
play '' ''
yes 'k: v' >endless.yml 2>/dev/null &
writer=$!
measure 'endless FIFO (-e @fifo)' -e @endless.yml
kill "$writer" 2>/dev/null || true
writer=
