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
                let notifiedHosts = hosts.filter { host in
                    guard let hostState = state.hosts[host], ran[host]?.contains(index) != true else { return false }
                    let eligible = hostState.isActive || (play.forceHandlers && !hostState.unreachable && !hostState.ended)
                    return eligible && !hostState.notified.isDisjoint(with: handlerNames(handler, host: host) ?? [])
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

    /// Every name and topic the play's handlers (those known so far) answer to on `host`; nil
    /// when a templated one cannot be rendered there, so what it answers to is unknowable.
    func notifiableNames(host: String) -> Set<String>? {
        var names = Set<String>()
        for handler in handlers {
            guard let own = handlerNames(handler, host: host) else { return nil }
            names.formUnion(own)
        }
        return names
    }

    /// What `handler` answers to: its name (rendered with the host's variables, as Ansible renders
    /// handler names when it looks them up), `role : name`, its listen topics and its action.
    private func handlerNames(_ handler: Task, host: String) -> Set<String>? {
        var names = Set(handler.listen)
        if var name = handler.name {
            if name.containsTemplateMarkup {
                let (rendered, errors) = services.templating.renderName(
                    name, variables(for: host, task: handler, scope: Scope()), at: handler.location)
                guard errors.isEmpty else { return nil }
                name = rendered
            }
            names.insert(name)
            if let role = handler.role {
                names.insert("\(role.name) : \(name)")
                names.insert("\(role.qualifiedName) : \(name)")
            }
        }
        names.insert(handler.actionAsWritten)
        return names
    }
}
