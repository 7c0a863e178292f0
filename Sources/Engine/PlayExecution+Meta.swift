import PGHACore
import Playbook

extension PlayExecution {
    /// Meta tasks act on the play, not on a host's state, and report as Ansible's linear strategy
    /// does: per-host metas announce themselves once per host, run-once metas once.
    func runMeta(_ task: Task, hosts: [String], scope: Scope) async throws {
        let action = Templating.display(task.args["_raw_params"] ?? .string("noop")).trimmingCharacters(in: .whitespaces)
        // role_complete is Ansible's internal marker, not something a task performs.
        guard MetaAction.actions.contains(action), action != "role_complete" else {
            throw PGHAError(.semantic, "unknown meta action '\(action)'", at: task.location).withSourceLine()
        }
        let evaluated = MetaAction.runOncePerBatch.contains(action) ? Array(hosts.prefix(1)) : hosts
        var selected: [String] = []
        for host in evaluated {
            services.sink.handle(.taskStart(name: task.displayName, location: task.location, isHandler: scope.isHandler, hosts: [host]))
            let stack = variables(for: host, task: task, scope: scope)
            if try services.templating.conditionsHold(task.keywords.when, stack).0 {
                selected.append(host)
            } else if ["end_host", "end_play", "end_batch"].contains(action) {
                let message = action == "end_host"
                    ? "end_host conditional evaluated to false, continuing execution for \(host)" : action
                services.sink.handle(.hostResult(task: task.displayName, HostResult(
                    host: host, action: "meta", status: .skipped,
                    result: ["changed": false, "msg": .string(message), "skipped": true])))
            }
        }
        guard !selected.isEmpty else { return }
        switch action {
        case "flush_handlers":
            // Under the free strategy a host flushes its own handlers only.
            try await flushHandlers(hosts: strategy.hostsMoveTogether ? batch : selected)
        case "end_play":
            for host in batch { state.hosts[host]?.ended = true }
            playEnded = true
        case "end_batch":
            for host in batch { state.hosts[host]?.ended = true }
            batchEnded = true
        case "end_host":
            for host in selected { state.hosts[host]?.ended = true }
        case "clear_host_errors":
            for host in batch where !state.isUnreachable(host) { state.hosts[host]?.failed = false }
        case "clear_facts":
            for host in selected { state.hosts[host]?.facts = [:] }
            assembly.stateChanged()
        case "reset_connection":
            for host in selected { await services.connections.drop(host) }
        default:
            break
        }
    }
}
