"""The oracle for PasswordHashTests: glibc's crypt(3) through Python's crypt module, and
ansible-core 2.19's Templar (password_hash hashes through passlib).

Usage: password_hash_oracle.py CASES_JSON
CASES_JSON: {"crypt": [{"password": ..., "setting": ...}], "templates": [{"name": ..., "template": ..., "vars": {...}}]}
Prints {"crypt": [<hash or null>], "templates": {name: {"value": ...} | {"error": "..."}}}.
"""
import json
import sys
import warnings

warnings.simplefilter("ignore")

import crypt  # noqa: E402 - deprecated, still present in Python 3.11

from ansible.parsing.dataloader import DataLoader  # noqa: E402
from ansible.template import Templar, trust_as_template  # noqa: E402

with open(sys.argv[1]) as f:
    cases = json.load(f)
out = {"crypt": [], "templates": {}}
for case in cases["crypt"]:
    result = crypt.crypt(case["password"], case["setting"])
    # libxcrypt answers "*0"/"*1" for settings it refuses.
    out["crypt"].append(None if result is None or result.startswith("*") else result)
for case in cases["templates"]:
    templar = Templar(loader=DataLoader(), variables=case.get("vars") or {})
    try:
        out["templates"][case["name"]] = {"value": str(templar.template(trust_as_template(case["template"])))}
    except Exception as exc:  # noqa: BLE001 - a refusal is a result to compare
        out["templates"][case["name"]] = {"error": str(exc).split("\n")[0]}
print(json.dumps(out))
