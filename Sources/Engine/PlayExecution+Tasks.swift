import Foundation
import OrderedCollections
import PGHACore
import Playbook

/// The task tree: blocks with rescue/always, one task on many hosts, dynamic includes, and how
/// outcomes are applied to the run's state.
extension PlayExecution {
    /// Include parameters and rescue context passed down the tree.
    struct Scope {
        var includeVars: OrderedDictionary<String, Value> = [:]
        /// Inside a block that has a rescue section: failures count as rescued.
        var rescuable = false
        var isHandler = false
        /// force_handlers: run even on hosts that failed.
        var includeFailedHosts = false
        /// The files of the dynamic includes being run, outermost first.
        var includeChain: [String] = []
    }

    /// Run-time includes nested this deep are a cycle without an end (Ansible recurses until
    /// Python's stack gives out).
    static let maxIncludeDepth = 64

    func active(_ hosts: [String]) -> [String] {
        hosts.filter { state.isActive($0) }
    }

    /// The variables `task` sees on `host`.
    func variables(for host: String, task: Task, scope: Scope) -> VariableStack {
        assembly.variables(
            for: host, task: task, includeVars: scope.includeVars, state: state,
            playHosts: .init(all: allHosts, activeBatch: active(batch)))
    }

    func runNodes(_ nodes: [TaskNode], hosts: [String], scope: Scope) async throws {
        for node in nodes {
            // Ctrl-C: no task starts after it (PlaybookRunner prints the recap).
            try _Concurrency.Task.checkCancellation()
            if playEnded || batchEnded || walkFailed || active(hosts).isEmpty { return }
            switch node {
            case .task(let task):
                try await runTask(task, hosts: hosts, scope: scope)
            case .block(let block):
                try await runBlock(block, hosts: hosts, scope: scope)
            }
        }
    }

    private func runBlock(_ block: Block, hosts: [String], scope: Scope) async throws {
        var entering = active(hosts)
        // A role dependency that already ran on a host with the same parameters (pulled in again by
        // an include_role) is skipped there, as Ansible skips a completed role.
        if let role = block.role {
            if role.isDependency && !role.allowDuplicates {
                entering = entering.filter { completedRoles[role.identity]?.contains($0) != true }
            }
            if !block.block.isEmpty { completedRoles[role.identity, default: []].formUnion(entering) }
        }
        guard !entering.isEmpty else { return }
        var inner = scope
        inner.rescuable = !block.rescue.isEmpty || scope.rescuable
        try await runNodes(block.block, hosts: entering, scope: inner)
        let failedInBlock = entering.filter { state.hasFailed($0) }
        if !block.rescue.isEmpty && !failedInBlock.isEmpty {
            for host in failedInBlock { state.hosts[host]?.failed = false }
            try await runNodes(block.rescue, hosts: failedInBlock, scope: scope)
        }
        if !block.always.isEmpty {
            let stillFailed = entering.filter { state.hasFailed($0) }
            for host in stillFailed { state.hosts[host]?.failed = false }
            try await runNodes(block.always, hosts: entering.filter { !state.isUnreachable($0) }, scope: scope)
            for host in stillFailed { state.hosts[host]?.failed = true }
        }
    }

    // MARK: - One task on many hosts

    func runTask(_ written: Task, hosts: [String], scope: Scope) async throws {
        var targets = scope.includeFailedHosts ? hosts.filter { !state.isUnreachable($0) } : active(hosts)
        guard !targets.isEmpty else { return }
        if !scope.isHandler && !tagFilter.shouldRun(tags: written.keywords.tags) { return }
        let task = withRenderedName(written, host: targets[0], scope: scope)
        if task.action == "meta" {
            try await runMeta(task, hosts: targets, scope: scope)
            return
        }
        services.sink.handle(
            .taskStart(name: task.displayName, location: task.location, isHandler: scope.isHandler, hosts: targets))
        var runOnce = try services.templating.bool(task.keywords.runOnce, VariableStack(), at: task.location) ?? false
        if !strategy.hostsMoveTogether {
            if runOnce {
                warnOnce(
                    "Using run_once with the free strategy is not currently supported. This task will still be "
                        + "executed for every host in the inventory list.")
                runOnce = false
            }
            let taskFatal = try services.templating.bool(task.keywords.anyErrorsFatal, VariableStack(), at: task.location)
            if taskFatal ?? play.anyErrorsFatal {
                warnOnce(
                    "Using any_errors_fatal with the free strategy is not supported, as tasks are executed "
                        + "independently on each host")
            }
        }
        if runOnce { targets = [targets[0]] }

        var invocations: [HostInvocation] = []
        for host in targets {
            invocations.append(try makeInvocation(task, host: host, scope: scope))
        }
        let outcomes = await execute(invocations, taskName: task.displayName)
        if let missing = outcomes.lazy.compactMap(\.missingHandler).first {
            throw PGHAError(
                .execution,
                "The requested handler '\(missing)' was not found in either the main handlers list nor in the listening handlers list",
                at: task.location)
        }
        var includes: [(host: String, request: IncludeRequest)] = []
        for outcome in outcomes where !outcome.interrupted {
            apply(outcome, task: task, scope: scope)
            includes += outcome.includes.map { (outcome.host, $0) }
            if runOnce { state.share(outcome, with: active(hosts)) }
        }
        try _Concurrency.Task.checkCancellation()
        try checkFailureLimits(task: task, outcomes: outcomes)
        try await runIncludes(includes, scope: scope)
    }

    /// The task with its name rendered as Ansible shows it, with the first host's variables.
    private func withRenderedName(_ task: Task, host: String, scope: Scope) -> Task {
        guard let name = task.name, name.containsTemplateMarkup else { return task }
        let (rendered, errors) = services.templating.renderName(name, variables(for: host, task: task, scope: scope), at: task.location)
        if !errors.isEmpty {
            let listed = errors.enumerated().map { "error \($0.offset + 1) - \($0.element)" }.joined(separator: "\n")
            services.sink.handle(.warning("Encountered \(errors.count) template error\(errors.count > 1 ? "s" : "").\n\(listed)"))
        }
        var shown = task
        shown.name = rendered
        return shown
    }

    private func checkFailureLimits(task: Task, outcomes: [TaskOutcome]) throws {
        if !strategy.hostsMoveTogether { return }
        let failedNow = outcomes.contains { $0.status == .failed && !$0.ignored }
        guard failedNow else { return }
        let taskFatal = try services.templating.bool(task.keywords.anyErrorsFatal, VariableStack(), at: task.location)
        if taskFatal ?? play.anyErrorsFatal {
            // any_errors_fatal: every host of the batch is marked failed (without a failure of its own in
            // the recap), so enclosing rescue/always sections still run; no later play starts.
            for host in batch where !state.isUnreachable(host) { state.hosts[host]?.failed = true }
            abortPlaybook = true
            return
        }
        if let percentage = play.maxFailPercentage {
            let failed = batch.filter { state.hasFailed($0) }.count
            if Double(failed) / Double(batch.count) * 100 > percentage {
                for host in batch where !state.isUnreachable(host) { state.hosts[host]?.failed = true }
                abortPlaybook = true
            }
        }
    }

    private func runIncludes(_ includes: [(host: String, request: IncludeRequest)], scope: Scope) async throws {
        guard !includes.isEmpty else { return }
        // Hosts that included the same file with the same parameters run it together.
        var groups: OrderedDictionary<String, (request: IncludeRequest, hosts: [String])> = [:]
        for (host, request) in includes {
            groups[request.key, default: (request, [])].hosts.append(host)
        }
        // Every include is loaded and announced (`included: FILE for HOSTS`) before the first runs,
        // as Ansible's strategy does.
        for (_, group) in groups {
            if let error = group.request.loadError { throw error }
            if group.request.includesRole, let role = group.request.role {
                assembly.noteRoleNames(Self.roles(in: group.request.nodes).filter(\.isDependency) + [role])
            }
            services.sink.handle(.included(file: group.request.shownName, hosts: group.hosts, itemLabel: group.request.itemLabel))
            if group.request.isPublic, let role = group.request.role, !playRoles.contains(where: { $0 === role }) {
                playRoles.append(role)
                assembly.addRole(role, keepingEarlierDefaults: true)
            }
            for handler in group.request.handlers where !handlers.contains(where: { $0.location == handler.location }) {
                handlers.append(handler)
            }
        }
        for (_, group) in groups {
            var inner = scope
            inner.includeVars.merge(group.request.vars) { _, new in new }
            if let file = Self.firstFile(of: group.request.nodes) {
                inner.includeChain.append(file)
                if inner.includeChain.count > Self.maxIncludeDepth {
                    let names = inner.includeChain.suffix(6).map { ($0 as NSString).lastPathComponent }
                    throw PGHAError(
                        .semantic,
                        "includes nested more than \(Self.maxIncludeDepth) levels deep: an include cycle (... -> "
                            + names.joined(separator: " -> ") + ")",
                        at: group.request.nodes.first.map(Self.location(of:)),
                        hint: "a file that includes itself, directly or not, needs a condition that ends the recursion")
                }
            }
            try await runNodes(group.request.nodes, hosts: group.hosts, scope: inner)
        }
    }

    private static func firstFile(of nodes: [TaskNode]) -> String? {
        nodes.first.map { location(of: $0).file }
    }

    private static func location(of node: TaskNode) -> SourceLocation {
        switch node {
        case .task(let task): return task.location
        case .block(let block): return block.location
        }
    }

    // MARK: - Executing and applying

    private func makeInvocation(_ task: Task, host: String, scope: Scope) throws -> HostInvocation {
        let stack = variables(for: host, task: task, scope: scope)
        var delegate: (name: String, variables: VariableStack)?
        if let delegateValue = task.keywords.delegateTo {
            let name = try services.templating.renderString(Templating.display(delegateValue), stack, at: task.location)
            delegate = (name, assembly.delegateVariables(for: name, in: state.inventory))
        }
        var invocation = HostInvocation(
            task: task, host: host, variables: stack, delegate: delegate, isHandler: scope.isHandler,
            options: services.options, templating: services.templating, connector: services.connector,
            connections: services.connections, loader: services.loader, redactor: services.redactor,
            vault: services.vault, sink: services.sink)
        if !task.notify.isEmpty { invocation.handlerNames = notifiableNames(host: host) }
        return invocation
    }

    /// Runs the invocations outside the actor (other host walks go on meanwhile) and returns their
    /// outcomes in order.
    private func execute(_ invocations: [HostInvocation], taskName: String) async -> [TaskOutcome] {
        if let forkPool { return await forkPool.run(invocations, taskName: taskName) }
        return await TaskRunner.run(invocations, taskName: taskName, forks: forks)
    }

    private func apply(_ outcome: TaskOutcome, task: Task, scope: Scope) {
        assembly.stateChanged()
        let applied = state.apply(outcome, of: task, rescuable: scope.rescuable)
        for warning in applied.warnings { services.sink.handle(.warning(warning)) }
        if !applied.addedHosts.isEmpty { assembly.inventoryChanged(hosts: applied.addedHosts) }
    }
}
