#!/usr/bin/env python3
"""Writes a large playbook for the parse-and-plan benchmark: N tasks spread over plays, roles
(with defaults, vars, handlers and meta dependencies), imports, blocks, loops and templated
arguments, so loading exercises every part of the loader."""
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/pgha-bench"
tasks_total = int(sys.argv[2]) if len(sys.argv) > 2 else 500
os.makedirs(out, exist_ok=True)

roles = 5
per_role = tasks_total // 2 // roles
play_tasks = tasks_total - roles * per_role

for r in range(roles):
    base = f"{out}/roles/role{r}"
    for d in ("tasks", "defaults", "vars", "handlers", "meta", "templates"):
        os.makedirs(f"{base}/{d}", exist_ok=True)
    with open(f"{base}/defaults/main.yml", "w") as f:
        f.write("".join(f"role{r}_setting{i}: value{i}\n" for i in range(20)))
    with open(f"{base}/vars/main.yml", "w") as f:
        f.write(f"role{r}_dir: /tmp/pgha-bench/role{r}\n")
    with open(f"{base}/handlers/main.yml", "w") as f:
        f.write(f"- name: restart role{r}\n  debug:\n    msg: restarting role{r}\n")
    with open(f"{base}/meta/main.yml", "w") as f:
        deps = f"  - role: role{r-1}\n" if r > 0 else ""
        f.write("dependencies:\n" + (deps or "  []\n") if deps else "dependencies: []\n")
    with open(f"{base}/tasks/main.yml", "w") as f:
        for i in range(per_role):
            if i % 5 == 0:
                f.write(f"- name: role{r} file {i}\n  file:\n    path: \"{{{{ role{r}_dir }}}}/f{i}\"\n    state: directory\n    mode: '0755'\n  notify: restart role{r}\n  tags: [role{r}, files]\n")
            elif i % 5 == 1:
                f.write(f"- name: role{r} command {i}\n  command: echo {{{{ role{r}_setting{i % 20} }}}}\n  changed_when: false\n  when: ansible_facts is defined\n")
            elif i % 5 == 2:
                f.write(f"- name: role{r} loop {i}\n  debug:\n    msg: \"{{{{ item }}}}\"\n  loop: \"{{{{ range(3) | list }}}}\"\n")
            elif i % 5 == 3:
                f.write(f"- block:\n    - name: role{r} block {i}\n      set_fact:\n        fact{i}: \"{{{{ role{r}_setting1 | upper }}}}\"\n  rescue:\n    - debug: msg=rescued\n")
            else:
                f.write(f"- name: role{r} copy {i}\n  copy:\n    dest: /tmp/pgha-bench/c{i}\n    content: \"{{{{ role{r}_setting2 }}}}\\n\"\n    mode: '0644'\n")

os.makedirs(f"{out}/tasks", exist_ok=True)
with open(f"{out}/tasks/imported.yml", "w") as f:
    for i in range(play_tasks // 2):
        f.write(f"- name: imported {i}\n  shell: test -d /tmp && echo {i}\n  register: r{i}\n  changed_when: r{i}.rc != 0\n")

with open(f"{out}/site.yml", "w") as f:
    f.write("- hosts: all\n  gather_facts: false\n  vars:\n    greeting: hello\n  roles:\n")
    f.write(f"    - role: role{roles-1}\n      tags: [roles]\n")
    f.write("  tasks:\n    - import_tasks: tasks/imported.yml\n")
    for i in range(play_tasks - play_tasks // 2):
        f.write(f"    - name: play task {i}\n      debug:\n        msg: \"{{{{ greeting }}}} {i}\"\n      tags: [t{i % 7}]\n")

print(out)
