"""Reference answers from ansible-core for the inventory differential tests.

Reads a JSON spec on stdin: {"sources": [...], "playbook_dir": str|null, "patterns": [{"pattern": str, "limit": str|null}]}
and prints what ansible-core computes: groups (direct hosts, children, vars), each host's merged
variables and magic variables, and each pattern's hosts and warnings (or error).
"""
import json
import os
import sys

from ansible.utils.display import Display

warnings = []
_original_warning = Display.warning


def _capture(self, msg, *args, **kwargs):
    warnings.append(str(msg))


Display.warning = _capture

from ansible.parsing.dataloader import DataLoader  # noqa: E402
from ansible.inventory.manager import InventoryManager  # noqa: E402
from ansible.vars.manager import VariableManager  # noqa: E402
from ansible import constants as C  # noqa: E402


def plain(value):
    """Tagged 2.19 values -> plain JSON types."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


MAGIC = ("group_names", "groups", "inventory_hostname", "inventory_hostname_short", "inventory_file", "inventory_dir")


def main():
    spec = json.load(sys.stdin)
    out = {}
    loader = DataLoader()
    loader.set_basedir(spec.get("playbook_dir") or "/nonexistent-playbook-dir")
    try:
        inventory = InventoryManager(loader=loader, sources=spec["sources"])
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"error": str(e), "warnings": warnings}))
        return
    vm = VariableManager(loader=loader, inventory=inventory)
    out["groups"] = {
        name: {
            "hosts": [h.name for h in g.hosts],
            "children": [c.name for c in g.child_groups],
            "vars": plain(g.get_vars()),
            "priority": g.priority,
        }
        for name, g in inventory.groups.items()
    }
    hostvars = {}
    magic = {}
    for name in list(inventory.hosts.keys()) + spec.get("extra_hosts", []):
        host = inventory.get_host(name)
        all_vars = vm.get_vars(host=host, include_hostvars=False)
        magic[name] = {k: plain(all_vars.get(k)) for k in MAGIC if k in all_vars}
        hostvars[name] = {k: plain(v) for k, v in all_vars.items() if k not in C.INTERNAL_STATIC_VARS}
    out["hostvars"] = hostvars
    out["magic"] = magic
    results = []
    for p in spec.get("patterns", []):
        del warnings[:]
        inventory.clear_caches()
        inventory.clear_pattern_cache()
        inventory.subset(p.get("limit"))
        try:
            hosts = [h.name for h in inventory.get_hosts(p["pattern"])]
            results.append({"hosts": hosts, "warnings": [w for w in warnings if "Could not match" in w]})
        except Exception as e:  # noqa: BLE001
            results.append({"error": str(e)})
        inventory.subset(None)
    out["patterns"] = results
    print(json.dumps(out))


main()
