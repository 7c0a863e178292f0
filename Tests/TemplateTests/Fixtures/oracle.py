"""Renders every case of cases.yml with ansible-core's Templar and prints the results as JSON.

Usage: oracle.py CASES_YML [OUTPUT_JSON]

Each result is {"value": <native result>} or {"error": "<category>", "message": "..."} where category is
undefined, syntax or template. Strings in variables are trusted as templates, as they would be when loaded
from a playbook or inventory, so lazily templated variables behave as in a play.
"""
import hashlib
import json
import sys
import warnings

import yaml
from ansible.errors import AnsibleTemplateSyntaxError, AnsibleUndefinedVariable
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

warnings.simplefilter("ignore")


def trust(value):
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [trust(v) for v in value]
    if isinstance(value, dict):
        return {k: trust(v) for k, v in value.items()}
    return value


def plain(value):
    """Strips Ansible's tagged subclasses so json.dumps sees plain types."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return {"__unsupported__": type(value).__name__}


def category(exc):
    if isinstance(exc, AnsibleUndefinedVariable):
        return "undefined"
    if isinstance(exc, AnsibleTemplateSyntaxError):
        return "syntax"
    return "template"


def main():
    path = sys.argv[1]
    with open(path, "rb") as f:
        raw = f.read()
    doc = yaml.safe_load(raw)
    shared = doc.get("vars") or {}
    results = {}
    for case in doc["cases"]:
        variables = dict(shared)
        variables.update(case.get("vars") or {})
        templar = Templar(loader=DataLoader(), variables=trust(variables))
        try:
            if "when" in case:
                value = templar.evaluate_conditional(trust_as_template(case["when"]))
            elif case.get("file"):
                # The template action's call: the text comes from a file, not YAML.
                value = templar.template(trust_as_template(case["template"]), escape_backslashes=False)
            else:
                value = templar.template(trust_as_template(case["template"]))
            results[case["name"]] = {"value": plain(value)}
        except Exception as exc:  # noqa: BLE001 - every failure is a result to compare
            results[case["name"]] = {"error": category(exc), "message": str(exc).split("\n")[0]}
    out = {"cases_sha1": hashlib.sha1(raw).hexdigest(), "results": results}
    text = json.dumps(out, indent=1)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
