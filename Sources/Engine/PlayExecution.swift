import Foundation
import OrderedCollections
import Inventory
import PGHACore
import Playbook

/// Runs one play: host selection, serial batches, fact gathering, the task sections with their
/// handler flush points, blocks with rescue/always, and dynamic includes.
///
/// With the linear strategy hosts move through the task tree together: a task runs on every active
/// host in parallel, results are applied, then the next task starts. With `strategy: free` each host
/// walks the tree on its own (see `runFree`).
final class PlayExecution {
    let play: Play
    unowned let runner: PlaybookRunner
    private(set) var allHosts: [String] = []
    private var batch: [String] = []
    private var handlers: [Task]
    private var playRoles: [RoleInstance] = []
    private var roleDefaults: OrderedDictionary<String, Value> = [:]
    private var roleVars: OrderedDictionary<String, Value> = [:]
    private var varsFilesVars: OrderedDictionary<String, Value> = [:]
    private var inventoryLayers: [String: [OrderedDictionary<String, Value>]] = [:]
    private let tagFilter: TagFilter
    private var playEnded = false
    /// any_errors_fatal or max_fail_percentage tripped: no later play runs.
    private var abortPlaybook = false
    private var batchEnded = false
    /// free strategy: held by the host walk that touches the play's state; released while a task runs.
    private var stateGate: AsyncSemaphore?
    /// free strategy: --forks bounds the tasks running at once, across all host walks.
    private var forkSlots: AsyncSemaphore?
    /// free strategy: a host walk failed with an engine error; the others stop at their next task.
    private var walkFailed = false
    /// Ansible shows each distinct warning once.
    private var warningsShown: Set<String> = []

    private var isFree: Bool { play.strategy == "free" }

    init(play: Play, runner: PlaybookRunner) {
        self.play = play
        self.runner = runner
        self.handlers = play.handlers
        self.tagFilter = TagFilter(only: runner.options.tags, skip: runner.options.skipTags)
        collectRoles(play.roles + play.preTasks + play.tasks + play.postTasks)
        for role in playRoles {
            for (k, v) in role.defaults { roleDefaults[k] = v }
            for (k, v) in role.vars { roleVars[k] = v }
        }
    }

    private func collectRoles(_ nodes: [TaskNode]) {
        for node in nodes {
            switch node {
            case .task(let task):
                if let role = task.role, !playRoles.contains(where: { $0 === role }) { playRoles.append(role) }
            case .block(let block):
                if let role = block.role, !playRoles.contains(where: { $0 === role }) { playRoles.append(role) }
                collectRoles(block.block + block.rescue + block.always)
            }
        }
    }

    // MARK: - The play

    /// Returns false when no host is left and later plays must not run.
    func run() async throws -> Bool {
        let pattern = try renderPlayHosts()
        let selection = try runner.inventory.select(pattern, limit: runner.options.limit)
        for warning in selection.warnings { runner.sink.handle(.warning(warning)) }
        let matched = selection.hosts
        allHosts = matched
        if matched.isEmpty {
            runner.sink.handle(.playStart(name: play.name ?? pattern, hosts: matched, location: play.location))
            runner.sink.handle(.noHostsMatched(pattern: pattern))
            return true
        }
        for host in matched { _ = runner.runtime(host) }
        // Hosts that failed or became unreachable in an earlier play are left out, as in Ansible.
        let eligible = matched.filter { runner.hosts[$0]?.failed != true && runner.hosts[$0]?.unreachable != true }
        if eligible.isEmpty {
            runner.sink.handle(.playStart(name: play.name ?? pattern, hosts: matched, location: play.location))
        }
        for batchHosts in try batches(of: eligible) {
            batch = batchHosts
            // Ansible announces the play once per serial batch.
            runner.sink.handle(.playStart(name: play.name ?? pattern, hosts: batch, location: play.location))
            batchEnded = false
            for host in batch { runner.hosts[host]?.ended = false }
            try loadVarsFiles()
            let gather = try shouldGatherFacts()
            if isFree {
                try await runFree(gather: gather)
            } else {
                if gather { try await gatherFacts(hosts: batch) }
                try await runSections(hosts: batch)
            }
            if abortPlaybook { return false }
            if playEnded { break }
            if !batch.contains(where: { runner.hosts[$0]?.failed != true && runner.hosts[$0]?.unreachable != true }) {
                runner.sink.handle(.noHostsRemaining)
                return false
            }
        }
        return true
    }

    /// The play's sections with their handler flush points (stops early once the playbook is aborted).
    private func runSections(hosts: [String]) async throws {
        try await runNodes(play.preTasks, hosts: hosts, scope: Scope())
        if abortPlaybook { return }
        try await flushHandlers(hosts: hosts)
        try await runNodes(play.roles, hosts: hosts, scope: Scope())
        try await runNodes(play.tasks, hosts: hosts, scope: Scope())
        if abortPlaybook { return }
        try await flushHandlers(hosts: hosts)
        try await runNodes(play.postTasks, hosts: hosts, scope: Scope())
        try await flushHandlers(hosts: hosts)
    }

    /// The free strategy: every host of the batch walks the play on its own, so a fast host runs
    /// ahead of a slow one; its handlers run at its own flush points. The walks interleave on one
    /// gate (the play's state has one writer at a time) that a walk gives up while its task runs on
    /// the host. As in Ansible, run_once, any_errors_fatal and max_fail_percentage do not apply.
    private func runFree(gather: Bool) async throws {
        if play.maxFailPercentage != nil {
            warnOnce(
                "Using max_fail_percentage with the free strategy is not supported, as tasks are executed "
                    + "independently on each host")
        }
        let gate = AsyncSemaphore(permits: 1)
        stateGate = gate
        forkSlots = AsyncSemaphore(permits: max(1, runner.options.forks))
        defer {
            stateGate = nil
            forkSlots = nil
        }
        let execution = UncheckedExecution(value: self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for host in batch {
                group.addTask {
                    await gate.wait()
                    defer { gate.signal() }
                    try await execution.value.walk(host, gather: gather)
                }
            }
            try await group.waitForAll()
        }
    }

    /// One host's way through the play under the free strategy (called with the gate held).
    private func walk(_ host: String, gather: Bool) async throws {
        do {
            if gather { try await gatherFacts(hosts: [host]) }
            try await runSections(hosts: [host])
        } catch {
            walkFailed = true
            throw error
        }
    }

    private func warnOnce(_ message: String) {
        if warningsShown.insert(message).inserted { runner.sink.handle(.warning(message)) }
    }

    private func renderPlayHosts() throws -> String {
        var stack = VariableStack()
        stack.push(play.vars)
        stack.push(runner.options.extraVars)
        let rendered = try runner.templating.render(play.hosts, stack, at: play.location)
        switch rendered {
        case .list(let items): return items.map(Templating.display).joined(separator: ",")
        default: return Templating.display(rendered)
        }
    }

    private func batches(of hosts: [String]) throws -> [[String]] {
        guard !play.serial.isEmpty, !hosts.isEmpty else { return [hosts] }
        var sizes: [Int] = []
        for value in play.serial {
            let rendered = try runner.templating.render(value, VariableStack(), at: play.location)
            switch rendered {
            case .int(let n): sizes.append(max(1, n))
            case .string(let s) where s.hasSuffix("%"):
                let percent = Double(s.dropLast()) ?? 100
                sizes.append(max(1, Int(Double(hosts.count) * percent / 100)))
            case .string(let s):
                guard let n = Int(s) else {
                    throw PGHAError(.semantic, "serial must be a number or a percentage, got '\(s)'", at: play.location)
                }
                sizes.append(max(1, n))
            default:
                throw PGHAError(.semantic, "serial must be a number or a percentage", at: play.location)
            }
        }
        var result: [[String]] = []
        var index = 0
        var sizeIndex = 0
        while index < hosts.count {
            let size = sizes[min(sizeIndex, sizes.count - 1)]
            result.append(Array(hosts[index..<min(hosts.count, index + size)]))
            index += size
            sizeIndex += 1
        }
        return result
    }

    private func loadVarsFiles() throws {
        guard !play.varsFiles.isEmpty else { return }
        var stack = VariableStack()
        stack.push(play.vars)
        stack.push(runner.options.extraVars)
        for entry in play.varsFiles {
            let candidates: [Value]
            if case .list(let list) = entry { candidates = list } else { candidates = [entry] }
            var loaded = false
            for candidate in candidates {
                let name = Templating.display(try runner.templating.render(candidate, stack, at: play.location))
                let path = name.hasPrefix("/") ? name : runner.playbook.directory + "/" + name
                guard FileManager.default.fileExists(atPath: path) else { continue }
                if let node = try YAMLLoader.load(contentsOf: path) {
                    guard case .dict(let dict) = node.value else {
                        throw PGHAError(.semantic, "vars file must hold a mapping", at: node.location)
                    }
                    for (k, v) in dict {
                        varsFilesVars[k] = v
                        if node.containsSecret || SecretNames.isSecret(k) { runner.redactor.register(value: v) }
                    }
                }
                loaded = true
                break
            }
            if !loaded {
                throw PGHAError(
                    .io, "vars file not found: \(candidates.map(Templating.display).joined(separator: ", "))",
                    at: play.location)
            }
        }
    }

    private func shouldGatherFacts() throws -> Bool {
        guard let value = play.gatherFacts else { return true }
        return try runner.templating.bool(value, VariableStack(), at: play.location) ?? true
    }

    private func gatherFacts(hosts: [String]) async throws {
        var task = Task(
            location: play.location, action: "gather_facts", actionAsWritten: "gather_facts",
            args: play.gatherSubset.isEmpty ? [:] : ["gather_subset": .list(play.gatherSubset.map(Value.string))],
            keywords: play.keywords)
        task.name = "Gathering Facts"
        task.keywords.tags = ["always"]
        task.keywords.when = []
        try await runTask(task, hosts: hosts, scope: Scope())
    }

    // MARK: - Task tree

    /// Include parameters and rescue context passed down the tree.
    struct Scope {
        var includeVars: OrderedDictionary<String, Value> = [:]
        /// Inside a block that has a rescue section: failures count as rescued.
        var rescuable = false
        var isHandler = false
        /// force_handlers: run even on hosts that failed.
        var includeFailedHosts = false
    }

    private func active(_ hosts: [String]) -> [String] {
        hosts.filter { runner.hosts[$0]?.isActive == true }
    }

    private func runNodes(_ nodes: [TaskNode], hosts: [String], scope: Scope) async throws {
        for node in nodes {
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
        let entering = active(hosts)
        guard !entering.isEmpty else { return }
        var inner = scope
        inner.rescuable = !block.rescue.isEmpty || scope.rescuable
        try await runNodes(block.block, hosts: entering, scope: inner)
        let failedInBlock = entering.filter { runner.hosts[$0]?.failed == true }
        if !block.rescue.isEmpty && !failedInBlock.isEmpty {
            for host in failedInBlock { runner.hosts[host]?.failed = false }
            try await runNodes(block.rescue, hosts: failedInBlock, scope: scope)
        }
        if !block.always.isEmpty {
            let stillFailed = entering.filter { runner.hosts[$0]?.failed == true }
            for host in stillFailed { runner.hosts[host]?.failed = false }
            try await runNodes(block.always, hosts: entering.filter { runner.hosts[$0]?.unreachable != true }, scope: scope)
            for host in stillFailed { runner.hosts[host]?.failed = true }
        }
    }

    // MARK: - One task on many hosts

    private func runTask(_ task: Task, hosts: [String], scope: Scope) async throws {
        var targets = scope.includeFailedHosts ? hosts.filter { runner.hosts[$0]?.unreachable != true } : active(hosts)
        guard !targets.isEmpty else { return }
        if !scope.isHandler && !tagFilter.shouldRun(tags: task.keywords.tags) { return }
        if task.action == "meta" {
            try await runMeta(task, hosts: targets, scope: scope)
            return
        }
        runner.sink.handle(
            .taskStart(name: task.displayName, location: task.location, isHandler: scope.isHandler, hosts: targets))
        var runOnce = try runner.templating.bool(task.keywords.runOnce, VariableStack(), at: task.location) ?? false
        if isFree {
            if runOnce {
                warnOnce(
                    "Using run_once with the free strategy is not currently supported. This task will still be "
                        + "executed for every host in the inventory list.")
                runOnce = false
            }
            let taskFatal = try runner.templating.bool(task.keywords.anyErrorsFatal, VariableStack(), at: task.location)
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
        var includes: [(host: String, request: IncludeRequest)] = []
        for outcome in outcomes {
            apply(outcome, task: task, scope: scope)
            includes += outcome.includes.map { (outcome.host, $0) }
            if runOnce {
                let factsStay = outcome.factsDelegatedTo != nil
                for other in active(hosts) where other != outcome.host {
                    if let registered = outcome.registered {
                        runner.hosts[other]?.hostFacts[registered.name] = registered.value
                    }
                    if !factsStay {
                        for (k, v) in outcome.setFacts { runner.hosts[other]?.hostFacts[k] = v }
                    }
                }
            }
        }
        try checkFailureLimits(task: task, outcomes: outcomes)
        try await runIncludes(includes, scope: scope)
    }

    private func checkFailureLimits(task: Task, outcomes: [TaskOutcome]) throws {
        if isFree { return }
        let failedNow = outcomes.contains { $0.status == .failed && !$0.ignored }
        guard failedNow else { return }
        let taskFatal = try runner.templating.bool(task.keywords.anyErrorsFatal, VariableStack(), at: task.location)
        if taskFatal ?? play.anyErrorsFatal {
            // any_errors_fatal: every host of the batch is marked failed (without a failure of its own in
            // the recap), so enclosing rescue/always sections still run; no later play starts.
            for host in batch where runner.hosts[host]?.unreachable != true { runner.hosts[host]?.failed = true }
            abortPlaybook = true
            return
        }
        if let percentage = play.maxFailPercentage {
            let failed = batch.filter { runner.hosts[$0]?.failed == true }.count
            if Double(failed) / Double(batch.count) * 100 > percentage {
                for host in batch where runner.hosts[host]?.unreachable != true { runner.hosts[host]?.failed = true }
                abortPlaybook = true
            }
        }
    }

    private func runIncludes(_ includes: [(host: String, request: IncludeRequest)], scope: Scope) async throws {
        guard !includes.isEmpty else { return }
        // Hosts that included the same file with the same parameters run it together.
        var groups: OrderedDictionary<String, (request: IncludeRequest, hosts: [String])> = [:]
        for (host, request) in includes {
            if groups[request.key] == nil {
                groups[request.key] = (request, [host])
            } else {
                groups[request.key]!.hosts.append(host)
            }
        }
        for (_, group) in groups {
            if group.request.isPublic, let role = group.request.role, !playRoles.contains(where: { $0 === role }) {
                playRoles.append(role)
                for (k, v) in role.defaults where roleDefaults[k] == nil { roleDefaults[k] = v }
                for (k, v) in role.vars { roleVars[k] = v }
            }
            for handler in group.request.handlers where !handlers.contains(where: { $0.location == handler.location }) {
                handlers.append(handler)
            }
            var inner = scope
            inner.includeVars.merge(group.request.vars) { _, new in new }
            try await runNodes(group.request.nodes, hosts: group.hosts, scope: inner)
        }
    }

    /// Meta tasks act on the play, not on a host's state, and report as Ansible's linear strategy
    /// does: per-host metas announce themselves once per host, run-once metas once.
    private func runMeta(_ task: Task, hosts: [String], scope: Scope) async throws {
        let action = Templating.display(task.args["_raw_params"] ?? .string("noop")).trimmingCharacters(in: .whitespaces)
        // role_complete is Ansible's internal marker, not something a task performs.
        guard MetaAction.actions.contains(action), action != "role_complete" else {
            throw PGHAError(.semantic, "unknown meta action '\(action)'", at: task.location).withSourceLine()
        }
        let evaluated = MetaAction.runOncePerBatch.contains(action) ? Array(hosts.prefix(1)) : hosts
        var selected: [String] = []
        for host in evaluated {
            runner.sink.handle(.taskStart(name: task.displayName, location: task.location, isHandler: scope.isHandler, hosts: [host]))
            let stack = variables(for: host, task: task, scope: scope)
            if try runner.templating.conditionsHold(task.keywords.when, stack).0 {
                selected.append(host)
            } else if ["end_host", "end_play", "end_batch"].contains(action) {
                let message = action == "end_host"
                    ? "end_host conditional evaluated to false, continuing execution for \(host)" : action
                runner.sink.handle(.hostResult(task: task.displayName, HostResult(
                    host: host, action: "meta", status: .skipped,
                    result: ["changed": false, "msg": .string(message), "skipped": true])))
            }
        }
        guard !selected.isEmpty else { return }
        switch action {
        case "flush_handlers":
            // Under the free strategy a host flushes its own handlers only.
            try await flushHandlers(hosts: isFree ? selected : batch)
        case "end_play":
            for host in batch { runner.hosts[host]?.ended = true }
            playEnded = true
        case "end_batch":
            for host in batch { runner.hosts[host]?.ended = true }
            batchEnded = true
        case "end_host":
            for host in selected { runner.hosts[host]?.ended = true }
        case "clear_host_errors":
            for host in batch where runner.hosts[host]?.unreachable != true { runner.hosts[host]?.failed = false }
        case "clear_facts":
            for host in selected { runner.hosts[host]?.facts = [:] }
            hostVarsCache = nil
        case "reset_connection":
            for host in selected { await runner.connections.drop(host) }
        default:
            break
        }
    }

    // MARK: - Handlers

    /// Runs notified handlers in definition order; handlers notified by handlers run in the same
    /// flush. A listen topic can wake several handlers, so names are cleared only at the end.
    private func flushHandlers(hosts: [String]) async throws {
        var ran: [String: Set<Int>] = [:]
        var passes = 0
        while passes < 100 {
            passes += 1
            var ranAny = false
            for (index, handler) in handlers.enumerated() {
                let names = handlerNames(handler)
                let notifiedHosts = hosts.filter { host in
                    guard let runtime = runner.hosts[host], ran[host]?.contains(index) != true else { return false }
                    let eligible = runtime.isActive || (play.forceHandlers && !runtime.unreachable && !runtime.ended)
                    return eligible && !runtime.notified.isDisjoint(with: names)
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
        for host in hosts { runner.hosts[host]?.notified.removeAll() }
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

    // MARK: - Variables

    /// The variable stack for a task on a host, in Ansible's precedence order.
    func variables(for host: String, task: Task, scope: Scope) -> VariableStack {
        let runtime = runner.hosts[host] ?? HostRuntime(name: host)
        var stack = VariableStack()
        stack.push(roleDefaults)
        if let role = task.role { stack.push(role.defaults) }
        for layer in inventoryLayers(for: host) { stack.push(layer) }
        if !runtime.facts.isEmpty { stack.push(injectedFacts(runtime.facts, unprefixed: runtime.unprefixedFacts)) }
        stack.push(play.vars)
        stack.push(varsFilesVars)
        stack.push(roleVars)
        if let role = task.role { stack.push(role.vars) }
        stack.push(task.keywords.vars)
        stack.push(runtime.includedVars)
        stack.push(runtime.hostFacts)
        if let role = task.role { stack.push(role.parameters) }
        stack.push(scope.includeVars)
        stack.push(runner.options.extraVars)
        stack.push(magicVariables(for: host, task: task, facts: runtime.facts))
        let snapshot = hostVarsSnapshot()
        stack.setLazy("hostvars") { snapshot.materialize() }
        return stack
    }

    private func inventoryLayers(for host: String) -> [OrderedDictionary<String, Value>] {
        if let cached = inventoryLayers[host] { return cached }
        // Vars files were read and checked when the run started (PlaybookRunner.registerSecrets).
        let layers = ((try? runner.inventory.variables(for: host, playbookDirectory: runner.playbook.directory)) ?? []).map(\.values)
        inventoryLayers[host] = layers
        return layers
    }

    /// Facts as top-level variables (INJECT_FACTS_AS_VARS): setup's with the `ansible_` prefix,
    /// other modules' under their own names.
    private func injectedFacts(_ facts: OrderedDictionary<String, Value>, unprefixed: Set<String>) -> OrderedDictionary<String, Value> {
        var layer = OrderedDictionary<String, Value>(minimumCapacity: facts.count)
        for (key, value) in facts { layer[unprefixed.contains(key) ? key : "ansible_" + key] = value }
        return layer
    }

    /// The inventory's magic variables per host (groups, group_names, inventory_dir...): they change
    /// only when add_host changes the inventory, and building them costs a file check per host.
    private var inventoryMagic: [String: OrderedDictionary<String, Value>] = [:]

    private func magicVariables(for host: String, task: Task, facts: OrderedDictionary<String, Value>) -> OrderedDictionary<String, Value> {
        var magic: OrderedDictionary<String, Value>
        if let cached = inventoryMagic[host] {
            magic = cached
        } else {
            magic = runner.inventory.magicVariables(for: host)
            inventoryMagic[host] = magic
        }
        let playMagic: OrderedDictionary<String, Value> = [
            "ansible_play_hosts_all": .list(allHosts.map(Value.string)),
            "ansible_play_hosts": .list(active(batch).map(Value.string)),
            "ansible_play_batch": .list(active(batch).map(Value.string)),
            "play_hosts": .list(active(batch).map(Value.string)),
            "ansible_play_name": .string(play.name ?? ""),
            "playbook_dir": .string(runner.playbook.directory),
            "ansible_check_mode": .bool(runner.options.check),
            "ansible_diff_mode": .bool(runner.options.diff),
            "ansible_facts": .dict(facts),
            "omit": .string(Templating.omitToken),
            "ansible_run_tags": .list((runner.options.tags.isEmpty ? ["all"] : runner.options.tags).map(Value.string)),
            "ansible_skip_tags": .list(runner.options.skipTags.map(Value.string)),
            "ansible_verbosity": .int(runner.options.verbosity),
            "ansible_version": [
                "string": "2.19.0", "full": "2.19.0", "major": 2, "minor": 19, "revision": 0,
            ],
        ]
        for (key, value) in playMagic { magic[key] = value }
        if let role = task.role {
            magic["role_path"] = .string(role.path)
            magic["role_name"] = .string(role.name)
        }
        return magic
    }

    /// Rebuilt after any result is applied; shared by every host of a task.
    private var hostVarsCache: HostVarsSnapshot?

    private func hostVarsSnapshot() -> HostVarsSnapshot {
        if let hostVarsCache { return hostVarsCache }
        var perHost: [String: [OrderedDictionary<String, Value>]] = [:]
        let everyone = runner.inventory.hosts(inGroup: "all")
        for host in everyone {
            let runtime = runner.hosts[host]
            var layers = inventoryLayers(for: host)
            if let runtime {
                if !runtime.facts.isEmpty {
                    layers.append(injectedFacts(runtime.facts, unprefixed: runtime.unprefixedFacts))
                    layers.append(["ansible_facts": .dict(runtime.facts)])
                }
                layers.append(runtime.hostFacts)
            }
            layers.append(["inventory_hostname": .string(host)])
            perHost[host] = layers
        }
        let snapshot = HostVarsSnapshot(order: everyone, layers: perHost, templating: runner.templating)
        hostVarsCache = snapshot
        return snapshot
    }

    // MARK: - Executing and applying

    private func makeInvocation(_ task: Task, host: String, scope: Scope) throws -> HostInvocation {
        let stack = variables(for: host, task: task, scope: scope)
        var delegate: (name: String, variables: VariableStack)?
        if let delegateValue = task.keywords.delegateTo {
            let name = try runner.templating.renderString(Templating.display(delegateValue), stack, at: task.location)
            var delegateStack = VariableStack()
            for layer in inventoryLayers(for: name) { delegateStack.push(layer) }
            delegateStack.set("inventory_hostname", .string(name))
            delegate = (name, delegateStack)
        }
        return HostInvocation(
            task: task, host: host, variables: stack, delegate: delegate, isHandler: scope.isHandler,
            options: runner.options, templating: runner.templating, connector: runner.connector,
            connections: runner.connections, loader: runner.loader, redactor: runner.redactor, sink: runner.sink)
    }

    private func execute(_ invocations: [HostInvocation], taskName: String) async -> [TaskOutcome] {
        guard let gate = stateGate, let slots = forkSlots else {
            return await executeTogether(invocations, taskName: taskName)
        }
        // free strategy: other hosts' walks go on while this one's task runs on its host.
        gate.signal()
        await slots.wait()
        let outcomes = await executeTogether(invocations, taskName: taskName)
        slots.signal()
        await gate.wait()
        return outcomes
    }

    private func executeTogether(_ invocations: [HostInvocation], taskName: String) async -> [TaskOutcome] {
        let forks = max(1, runner.options.forks)
        var outcomes: [TaskOutcome] = []
        outcomes.reserveCapacity(invocations.count)
        let running = RunningHosts()
        let reporter = ProgressReporter.start(task: taskName, running: running, sink: runner.sink)
        defer { reporter.cancel() }
        await withTaskGroup(of: TaskOutcome.self) { group in
            func launch(_ invocation: HostInvocation) {
                running.insert(invocation.host)
                group.addTask {
                    let outcome = await invocation.run()
                    running.remove(invocation.host)
                    return outcome
                }
            }
            var next = 0
            while next < min(forks, invocations.count) {
                launch(invocations[next])
                next += 1
            }
            while let outcome = await group.next() {
                outcomes.append(outcome)
                if next < invocations.count {
                    launch(invocations[next])
                    next += 1
                }
            }
        }
        let order = Dictionary(uniqueKeysWithValues: invocations.enumerated().map { ($1.host, $0) })
        return outcomes.sorted { (order[$0.host] ?? 0) < (order[$1.host] ?? 0) }
    }

    private func apply(_ outcome: TaskOutcome, task: Task, scope: Scope) {
        hostVarsCache = nil
        if let delegate = outcome.factsDelegatedTo, delegate != outcome.host {
            var target = runner.runtime(delegate)
            for (k, v) in outcome.setFacts { target.hostFacts[k] = v }
            for (k, v) in outcome.facts { target.facts[k] = v }
            runner.hosts[delegate] = target
        }
        guard var runtime = runner.hosts[outcome.host] else { return }
        if let registered = outcome.registered { runtime.hostFacts[registered.name] = registered.value }
        if outcome.factsDelegatedTo == nil || outcome.factsDelegatedTo == outcome.host {
            for (k, v) in outcome.setFacts { runtime.hostFacts[k] = v }
        }
        for (k, v) in outcome.includedVars { runtime.includedVars[k] = v }
        if outcome.factsDelegatedTo == nil || outcome.factsDelegatedTo == outcome.host {
            for (k, v) in outcome.facts { runtime.facts[k] = v }
            for (k, v) in outcome.moduleFacts {
                runtime.facts[k] = v
                runtime.unprefixedFacts.insert(k)
            }
        }
        switch outcome.status {
        case .ok, .changed:
            runtime.stats.ok += 1
            // Ansible counts a looped include once per item.
            if task.loop != nil && (task.action == "include_tasks" || task.action == "include_role") {
                runtime.stats.ok += max(0, outcome.includes.count - 1)
            }
            if outcome.status == .changed {
                runtime.stats.changed += 1
                for name in outcome.notify { runtime.notified.append(name) }
            }
        case .skipped:
            runtime.stats.skipped += 1
        case .unreachable:
            runtime.stats.unreachable += 1
            runtime.unreachable = true
        case .failed:
            if outcome.ignored {
                runtime.stats.ok += 1
                runtime.stats.ignored += 1
                if outcome.result["changed"]?.boolValue == true { runtime.stats.changed += 1 }
            } else {
                runtime.failed = true
                if scope.rescuable {
                    runtime.stats.rescued += 1
                    // What a rescue section sees of the failure, as Ansible's non-persistent facts.
                    runtime.hostFacts["ansible_failed_task"] = [
                        "name": .string(task.name ?? ""), "action": .string(task.action),
                    ]
                    runtime.hostFacts["ansible_failed_result"] = outcome.result
                } else {
                    runtime.stats.failed += 1
                }
            }
        }
        for added in outcome.addHosts {
            do {
                try runner.inventory.addHost(added.host, groups: added.groups, vars: added.vars)
            } catch {
                runner.sink.handle(.warning("add_host \(added.host): \(error)"))
            }
            inventoryLayers[added.host] = nil
            inventoryMagic = [:]
        }
        runner.hosts[outcome.host] = runtime
    }
}

/// Lets the free strategy's host walks share the execution; the gate in `runFree` makes their
/// accesses take turns.
private struct UncheckedExecution: @unchecked Sendable {
    let value: PlayExecution
}

/// All hosts' variables as `hostvars` shows them, built only when a template asks, once per task.
///
/// Each host's templated values are rendered in that host's own context, as Ansible's HostVars
/// does: `hostvars['node2'].address` where `address: "{{ ansible_host }}"` is node2's address,
/// not the asking host's.
final class HostVarsSnapshot: @unchecked Sendable {
    let order: [String]
    let layers: [String: [OrderedDictionary<String, Value>]]
    let templating: Templating
    private let lock = NSLockShim()
    private var cached: Value?

    init(order: [String], layers: [String: [OrderedDictionary<String, Value>]], templating: Templating) {
        self.order = order
        self.layers = layers
        self.templating = templating
    }

    func materialize() -> Value {
        lock.withLock {
            if let cached { return cached }
            var result = OrderedDictionary<String, Value>()
            for host in order {
                var stack = VariableStack()
                for layer in layers[host] ?? [] { stack.push(layer) }
                let location = SourceLocation(file: "<hostvars[\(host)]>")
                var merged = stack.flattened()
                for (key, value) in merged where Self.isTemplated(value) {
                    // A value that cannot be rendered in its own host's context stays as written.
                    if let rendered = try? templating.render(value, stack, at: location) { merged[key] = rendered }
                }
                result[host] = .dict(merged)
            }
            let value = Value.dict(result)
            cached = value
            return value
        }
    }

    private static func isTemplated(_ value: Value) -> Bool {
        switch value {
        case .string(let s): return s.contains("{{") || s.contains("{%")
        case .list(let items): return items.contains(where: isTemplated)
        case .dict(let dict): return dict.values.contains(where: isTemplated)
        default: return false
        }
    }
}
