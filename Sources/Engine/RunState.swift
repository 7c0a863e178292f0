import Inventory
import OrderedCollections
import PGHACore
import Playbook

/// Everything a run changes as it goes: each host's status, stats, registered variables, facts and
/// notified handlers, and the inventory (`add_host`, `group_by`).
///
/// It is a value with one owner at a time: the `PlayExecution` actor of the play that runs, which
/// the runner hands it to and takes it back from. Host invocations only read a copy of what they
/// need and return a `TaskOutcome`; the owner applies it here.
struct RunState: Sendable {
    var hosts: [String: HostState] = [:]
    var inventory: Inventory

    init(inventory: Inventory) {
        self.inventory = inventory
    }

    /// Makes sure `host` has a state (hosts appear as plays select them).
    mutating func register(_ host: String) {
        if hosts[host] == nil { hosts[host] = HostState(name: host) }
    }

    /// Not failed, unreachable or ended: receives the next task.
    func isActive(_ host: String) -> Bool { hosts[host]?.isActive == true }
    func hasFailed(_ host: String) -> Bool { hosts[host]?.failed == true }
    func isUnreachable(_ host: String) -> Bool { hosts[host]?.unreachable == true }

    /// What applying an outcome changed beyond the host's own state.
    struct Applied {
        /// Hosts `add_host` added (or changed): their inventory variables must be read again.
        var addedHosts: [String] = []
        var warnings: [String] = []
    }

    /// Records what one task did on one host: facts and registered values, stats, the failure
    /// state, notified handlers and added hosts. `rescuable`: the task is inside a block with a
    /// rescue section, so a failure counts as rescued and leaves `ansible_failed_task`/`_result`.
    mutating func apply(_ outcome: TaskOutcome, of task: Task, rescuable: Bool) -> Applied {
        var applied = Applied()
        if let delegate = outcome.factsDelegatedTo, delegate != outcome.host {
            var target = hosts[delegate] ?? HostState(name: delegate)
            for (k, v) in outcome.setFacts { target.hostFacts[k] = v }
            for (k, v) in outcome.facts { target.facts[k] = v }
            hosts[delegate] = target
        }
        guard var state = hosts[outcome.host] else { return applied }
        if let registered = outcome.registered { state.hostFacts[registered.name] = registered.value }
        if outcome.factsDelegatedTo == nil || outcome.factsDelegatedTo == outcome.host {
            for (k, v) in outcome.setFacts { state.hostFacts[k] = v }
        }
        for (k, v) in outcome.includedVars { state.includedVars[k] = v }
        if outcome.factsDelegatedTo == nil || outcome.factsDelegatedTo == outcome.host {
            for (k, v) in outcome.facts { state.facts[k] = v }
            for (k, v) in outcome.moduleFacts {
                state.facts[k] = v
                state.unprefixedFacts.insert(k)
            }
        }
        switch outcome.status {
        case .ok, .changed:
            state.stats.ok += 1
            // Ansible counts a looped include once per item.
            if task.loop != nil && (task.action == "include_tasks" || task.action == "include_role") {
                state.stats.ok += max(0, outcome.includes.count - 1)
            }
            if outcome.status == .changed {
                state.stats.changed += 1
                for name in outcome.notify { state.notified.append(name) }
            }
        case .skipped:
            state.stats.skipped += 1
        case .unreachable:
            state.stats.unreachable += 1
            state.unreachable = true
        case .failed:
            if outcome.ignored {
                state.stats.ok += 1
                state.stats.ignored += 1
                if outcome.result["changed"]?.boolValue == true { state.stats.changed += 1 }
            } else {
                state.failed = true
                if rescuable {
                    state.stats.rescued += 1
                    // What a rescue section sees of the failure, as Ansible's non-persistent facts.
                    state.hostFacts["ansible_failed_task"] = [
                        "name": .string(task.name ?? ""), "action": .string(task.action),
                    ]
                    state.hostFacts["ansible_failed_result"] = outcome.result
                } else {
                    state.stats.failed += 1
                }
            }
        }
        hosts[outcome.host] = state
        for added in outcome.addHosts {
            do {
                try inventory.addHost(added.host, groups: added.groups, vars: added.vars)
            } catch {
                applied.warnings.append("add_host \(added.host): \(error)")
            }
            applied.addedHosts.append(added.host)
        }
        return applied
    }

    /// run_once: the one host's registered result (and set_fact values, unless delegated) reach
    /// every other host of the task.
    mutating func share(_ outcome: TaskOutcome, with others: [String]) {
        let factsStay = outcome.factsDelegatedTo != nil
        for other in others where other != outcome.host {
            if let registered = outcome.registered { hosts[other]?.hostFacts[registered.name] = registered.value }
            if !factsStay {
                for (k, v) in outcome.setFacts { hosts[other]?.hostFacts[k] = v }
            }
        }
    }

    /// The recap: every host that took part, sorted by name.
    func recap(of order: [String]) -> OrderedDictionary<String, HostStats> {
        var recap = OrderedDictionary<String, HostStats>()
        for host in order.sorted() { recap[host] = hosts[host]?.stats ?? HostStats() }
        return recap
    }
}
