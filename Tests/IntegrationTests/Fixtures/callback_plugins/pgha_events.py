# A stdout callback for ansible-playbook that prints the same JSON-lines events as
# `pgha-play --output json`, so the differential tests compare two event streams.
import json
import sys

from ansible.plugins.callback import CallbackBase


def _plain(value):
    try:
        return json.loads(json.dumps(value, default=str))
    except Exception:
        return str(value)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "pgha_events"

    def __init__(self):
        super().__init__()
        self._task_name = None

    def _emit(self, obj):
        sys.stdout.write(json.dumps(obj, sort_keys=False) + "\n")
        sys.stdout.flush()

    def v2_playbook_on_play_start(self, play):
        self._emit({"event": "play_start", "name": play.get_name().strip()})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_name = task.get_name().strip()
        self._emit({"event": "task_start", "name": self._task_name})

    def v2_playbook_on_handler_task_start(self, task):
        self._task_name = task.get_name().strip()
        self._emit({"event": "handler_start", "name": self._task_name})

    def _result(self, result, status, item=None, ignored=False):
        body = {k: v for k, v in result._result.items() if not k.startswith("_ansible")}
        event = {
            "event": "host_result",
            "task": result._task.get_name().strip(),
            "host": result._host.get_name(),
            "status": status,
            "action": result._task.action.split(".")[-1],
            "result": _plain(body),
        }
        if item is not None:
            event["item"] = item
        if ignored:
            event["ignored"] = True
        self._emit(event)

    def _item_label(self, result):
        if result._result.get("_ansible_no_log"):
            return "(censored due to no_log)"
        return str(self._get_item_label(result._result))

    def v2_runner_on_ok(self, result):
        if result._task.loop and "results" in result._result:
            return
        self._result(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if result._task.loop and "results" in result._result:
            return
        self._result(result, "failed", ignored=ignore_errors)

    def v2_runner_on_skipped(self, result):
        if result._task.loop and "results" in result._result:
            return
        self._result(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def v2_runner_item_on_ok(self, result):
        self._result(result, "changed" if result._result.get("changed") else "ok", item=self._item_label(result))

    def v2_runner_item_on_failed(self, result):
        self._result(result, "failed", item=self._item_label(result))

    def v2_runner_item_on_skipped(self, result):
        self._result(result, "skipped", item=self._item_label(result))

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for host in sorted(stats.processed.keys()):
            s = stats.summarize(host)
            hosts[host] = {
                "ok": s["ok"], "changed": s["changed"], "unreachable": s["unreachable"],
                "failed": s["failures"], "skipped": s["skipped"], "rescued": s["rescued"],
                "ignored": s["ignored"],
            }
        self._emit({"event": "recap", "hosts": hosts})
