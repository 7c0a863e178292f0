#!/usr/bin/env python3
"""Runs fixture cases with ansible-playbook the way PlaybookDifferentialTests.swift does and prints
the normalized event stream (a port of EventNormalizer), to write and check the expected behaviour.

usage: oracle.py [--raw] [--strict] [--twice] CASE...   (CASE is a directory name here; default: all)

Without --strict, results carrying "invocation" (those of real modules: file, copy, stat...) and
fact gathering results are shown by status only, as the fixtures intend; --strict is the exact port of the Swift normalizer.
"""
import json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.dirname(HERE)
ROOT = os.path.abspath(os.path.join(FIXTURES, "../../.."))
HIDDEN = ["changed", "failed", "item", "ansible_loop_var", "skip_reason", "false_condition", "exception",
          "_ansible_no_log", "skipped", "include_args", "include", "ansible_index_var"]


STRICT = "--strict" in sys.argv


def python():
    return subprocess.run(["bash", os.path.join(ROOT, "scripts/oracle-venv.sh")], check=True,
                          capture_output=True, text=True).stdout.strip()


def shown(result, task):
    if not isinstance(result, dict) or task.startswith("ERR"):
        return ""
    s = {k: v for k, v in result.items() if k not in HIDDEN}
    if "rc" in result or "cmd" in result or not s:
        return ""
    facts = result.get("ansible_facts")
    if not STRICT and ("invocation" in result or (isinstance(facts, dict) and "module_setup" in facts)):
        return ""
    return " => " + json.dumps(s, sort_keys=True)


def normalize(text):
    lines = []
    for line in text.split("\n"):
        if not line.startswith("{"):
            continue
        try:
            e = json.loads(line)
        except ValueError:
            continue
        ev = e.get("event")
        if ev == "play_start":
            lines.append("PLAY " + e.get("name", ""))
        elif ev in ("task_start", "handler_start"):
            lines.append(("HANDLER " if ev == "handler_start" else "TASK ") + e.get("name", ""))
        elif ev == "host_result":
            s = "  %s: [%s]" % (e.get("status", "?"), e.get("host", ""))
            if isinstance(e.get("item"), str):
                s += " (item=%s)" % e["item"]
            if e.get("ignored") is True:
                s += " ...ignoring"
            s += shown(e.get("result"), e.get("task", ""))
            lines.append(s)
        elif ev == "recap":
            for h, st in e.get("hosts", {}).items():
                lines.append("RECAP %s %s" % (h, json.dumps(st, sort_keys=True)))
    return lines


def result_entry(e):
    s = "%s: [%s]" % (e.get("status", "?"), e.get("host", ""))
    if isinstance(e.get("item"), str):
        s += " (item=%s)" % e["item"]
    if e.get("ignored") is True:
        s += " ...ignoring"
    return s + shown(e.get("result"), e.get("task", ""))


def normalize_per_host(text):
    """Cases with a `per-host` file (strategy: free): per play, sorted task starts, then each host's results."""
    lines, starts, hosts = [], [], {}

    def close():
        lines.extend(sorted(starts))
        for h in sorted(hosts):
            lines.extend(hosts[h])
        starts.clear()
        hosts.clear()
    for line in text.split("\n"):
        if not line.startswith("{"):
            continue
        try:
            e = json.loads(line)
        except ValueError:
            continue
        ev = e.get("event")
        if ev == "play_start":
            close()
            lines.append("PLAY " + e.get("name", ""))
        elif ev in ("task_start", "handler_start"):
            starts.append(("HANDLER " if ev == "handler_start" else "TASK ") + e.get("name", ""))
        elif ev == "host_result":
            hosts.setdefault(e.get("host", ""), []).append("  %s: %s" % (e.get("task", ""), result_entry(e)))
        elif ev == "recap":
            close()
            for h, st in e.get("hosts", {}).items():
                lines.append("RECAP %s %s" % (h, json.dumps(st, sort_keys=True)))
    return lines


def run(case, py, raw):
    d = os.path.join(HERE, case)
    extra = []
    if os.path.exists(os.path.join(d, "args")):
        extra = [l for l in open(os.path.join(d, "args")).read().split("\n") if l]
    inv = "inventory.ini" if os.path.exists(os.path.join(d, "inventory.ini")) else "localhost,"
    env = dict(os.environ, ANSIBLE_CALLBACK_PLUGINS=os.path.join(FIXTURES, "callback_plugins"),
               ANSIBLE_STDOUT_CALLBACK="pgha_events", ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=py,
               ANSIBLE_RETRY_FILES_ENABLED="false")
    if os.path.exists(os.path.join(d, "env")):
        for line in open(os.path.join(d, "env")).read().split("\n"):
            if "=" in line:
                name, value = line.split("=", 1)
                env[name] = value
    connection = [] if os.path.exists(os.path.join(d, "play-connection")) else ["-c", "local"]
    p = subprocess.run([os.path.join(os.path.dirname(py), "ansible-playbook"), "-i", inv] + connection +
                       ["playbook.yml"] + extra, cwd=d, env=env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    per_host = os.path.exists(os.path.join(d, "per-host"))
    out = p.stdout if raw else "\n".join((normalize_per_host if per_host else normalize)(p.stdout))
    return p.returncode, out, p.stderr


def main():
    args = sys.argv[1:]
    raw = "--raw" in args
    twice = "--twice" in args
    cases = [a.rstrip("/") for a in args if not a.startswith("--")] or sorted(
        c for c in os.listdir(HERE) if os.path.exists(os.path.join(HERE, c, "playbook.yml")))
    py = python()
    bad = 0
    for case in cases:
        rc, out, err = run(case, py, raw)
        if twice:
            rc2, out2, _ = run(case, py, raw)
            same = rc == rc2 and out == out2
            bad += not same
            print("%-40s rc=%d %s" % (case, rc, "deterministic" if same else "DIFFERS"))
            if not same:
                import difflib
                print("\n".join(difflib.unified_diff(out.split("\n"), out2.split("\n"), lineterm="")))
            continue
        print("=== %s (rc=%d)" % (case, rc))
        print(out)
        if err.strip():
            print("--- stderr:\n" + err.rstrip())
    sys.exit(1 if bad else 0)


main()
