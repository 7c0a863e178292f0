# Loads each scalar of a JSON list (argv[1]) as the value of `v:` and as a mapping key with
# ansible-core's YAML loader and prints, as a JSON list of [value, key] pairs, what it became: "null", "bool:True", "int:630", "float:<repr>",
# "str:<text>" (dates and times as their isoformat(), which is how pgha-play keeps them) or "error".
import datetime
import json
import sys

import yaml
from ansible.parsing.yaml.loader import AnsibleLoader


def describe(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool:%s" % value
    if isinstance(value, int):
        return "int:%d" % value
    if isinstance(value, float):
        return "float:%r" % value
    if isinstance(value, (datetime.date, datetime.datetime)):
        return "str:" + value.isoformat()
    return "str:" + str(value)


with open(sys.argv[1]) as f:
    scalars = json.load(f)


def load(text, pick):
    try:
        return describe(pick(yaml.load(text, Loader=AnsibleLoader)))
    except Exception:
        return "error"


out = []
for scalar in scalars:
    out.append([load("v: %s\n" % scalar, lambda doc: doc["v"]),
                load("%s: v\n" % scalar, lambda doc: next(iter(doc)) if len(doc) == 1 else None)])
print(json.dumps(out))
