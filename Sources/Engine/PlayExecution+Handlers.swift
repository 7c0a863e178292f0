import Playbook

/// Handlers: notified by changed tasks, run at the play's flush points.
extension PlayExecution {
    /// Runs notified handlers in definition order; handlers notified by handlers run in the same
    /// flush. A listen topic can wake several handlers, so names are cleared only at the end.
    func flushHandlers(hosts: [String]) async throws {
        var ran: [String: Set<Int>] = [:]
        var passes = 0
        while passes < 100 {
            passes += 1
            var ranAny = false
            for (index, handler) in handlers.enumerated() {
                let names = handlerNames(handler)
                let notifiedHosts = hosts.filter { host in
                    guard let hostState = state.hosts[host], ran[host]?.contains(index) != true else { return false }
                    let eligible = hostState.isActive || (play.forceHandlers && !hostState.unreachable && !hostState.ended)
                    return eligible && !hostState.notified.isDisjoint(with: names)
                }
                guard !notifiedHosts.isEmpty else { continue }
                for host in notifiedHosts { ran[host, default: []].insert(index) }
                var scope = Scope()
                scope.isHandler = true
                scope.includeFailedHosts = play.forceHandlers
                try await runTask(handler, hosts: notifiedHosts, scope: scope)
                ranAny = true
            }
            if !ranAny { break }
        }
        for host in hosts { state.hosts[host]?.notified.removeAll() }
    }

    /// Every name and topic the play's handlers (those known so far) answer to; nil when one is
    /// templated, so what it answers to is unknowable.
    func notifiableNames() -> Set<String>? {
        var names = Set<String>()
        for handler in handlers {
            let own = handlerNames(handler)
            if own.contains(where: { $0.contains("{{") || $0.contains("{%") }) { return nil }
            names.formUnion(own)
        }
        return names
    }

    private func handlerNames(_ handler: Task) -> Set<String> {
        var names = Set(handler.listen)
        if let name = handler.name {
            names.insert(name)
            if let role = handler.role { names.insert("\(role.name) : \(name)") }
        }
        names.insert(handler.actionAsWritten)
        return names
    }
}
