import Foundation
import Inventory
import OrderedCollections
import PGHACore
import Playbook
import Vault

/// What every play of a run uses and none changes: the options, the loader for run-time
/// includes, connections, the event sink, templating and the redactor.
struct RunServices: Sendable {
    let options: RunOptions
    let playbookDirectory: String
    let loader: any DynamicLoader
    let connector: any Connector
    let connections: ConnectionPool
    let sink: any EventSink
    let templating: Templating
    let redactor: Redactor
    /// Decrypts vaulted vars files, `include_vars` files and `copy`/`template` sources at run time.
    let vault: VaultContext
}

/// Runs one play: host selection, serial batches, vars_files and fact gathering, then the task
/// tree (`PlayExecution+Tasks`), handlers (`+Handlers`) and meta tasks (`+Meta`), with the hosts
/// moving through it as the play's strategy says.
///
/// The actor owns the run's state while its play runs (`RunState`, handed in by the runner and
/// taken back with `finish`) and the play's own (batch, handlers, variable assembly). Host
/// invocations run outside it, in parallel, on copies of what they need; their outcomes are
/// applied here one at a time. Under the free strategies the host walks interleave on the actor.
actor PlayExecution {
    let play: Play
    let services: RunServices
    let strategy: any Strategy.Type
    /// The run's state: changed only here while the play runs.
    var state: RunState
    var assembly: VariableAssembly
    private(set) var allHosts: [String] = []
    var batch: [String] = []
    var handlers: [Task]
    var playRoles: [RoleInstance] = []
    /// The hosts each role (`RoleInstance.identity`) has run on in this play.
    var completedRoles: [String: Set<String>] = [:]
    let tagFilter: TagFilter
    var playEnded = false
    /// any_errors_fatal or max_fail_percentage tripped: no later play runs.
    var abortPlaybook = false
    var batchEnded = false
    /// A host walk failed with an engine error; the others stop at their next task.
    var walkFailed = false
    /// Free strategy: runs the walks' tasks, `--forks` at a time across them.
    var forkPool: ForkPool?
    /// Ansible shows each distinct warning once.
    private var warningsShown: Set<String> = []

    /// `--forks`: how many hosts (or, under the free strategy, tasks) run at once.
    nonisolated var forks: Int { max(1, services.options.forks) }

    init(play: Play, state: RunState, services: RunServices) {
        self.play = play
        self.state = state
        self.services = services
        self.strategy = Strategies.named(play.strategy)
        self.handlers = play.handlers
        self.tagFilter = TagFilter(only: services.options.tags, skip: services.options.skipTags)
        self.assembly = VariableAssembly(
            play: play, options: services.options, playbookDirectory: services.playbookDirectory,
            templating: services.templating)
        var roles: [RoleInstance] = []
        Self.collectRoles(play.roles + play.preTasks + play.tasks + play.postTasks, into: &roles)
        for role in roles { assembly.addRole(role, keepingEarlierDefaults: false) }
        self.playRoles = roles
        self.assembly.noteRoleNames(roles)
    }

    static func roles(in nodes: [TaskNode]) -> [RoleInstance] {
        var roles: [RoleInstance] = []
        collectRoles(nodes, into: &roles)
        return roles
    }

    private static func collectRoles(_ nodes: [TaskNode], into roles: inout [RoleInstance]) {
        for node in nodes {
            switch node {
            case .task(let task):
                if let role = task.role, !roles.contains(where: { $0 === role }) { roles.append(role) }
            case .block(let block):
                if let role = block.role, !roles.contains(where: { $0 === role }) { roles.append(role) }
                collectRoles(block.block + block.rescue + block.always, into: &roles)
            }
        }
    }

    /// The run's state after the play, with the hosts the play selected, for the runner to take back.
    func finish() -> (state: RunState, hosts: [String]) { (state, allHosts) }

    // MARK: - The play

    /// Returns false when no host is left and later plays must not run.
    func run() async throws -> Bool {
        let pattern = try renderPlayHosts()
        try Inventory.validatePattern(pattern, at: play.location)
        let title = playTitle(pattern: pattern)
        assembly.playName = title
        let selection = try state.inventory.select(pattern, limit: services.options.limit)
        for warning in selection.warnings { services.sink.handle(.warning(warning)) }
        let matched = selection.hosts
        allHosts = matched
        if matched.isEmpty {
            services.sink.handle(.playStart(name: title, hosts: matched, location: play.location))
            services.sink.handle(.noHostsMatched(pattern: pattern))
            return true
        }
        for host in matched { state.register(host) }
        // Hosts that failed or became unreachable in an earlier play are left out, as in Ansible.
        let eligible = matched.filter { !state.hasFailed($0) && !state.isUnreachable($0) }
        if eligible.isEmpty {
            services.sink.handle(.playStart(name: title, hosts: matched, location: play.location))
        }
        for batchHosts in try batches(of: eligible) {
            batch = batchHosts
            // Ansible announces the play once per serial batch.
            services.sink.handle(.playStart(name: title, hosts: batch, location: play.location))
            batchEnded = false
            for host in batch { state.hosts[host]?.ended = false }
            try loadVarsFiles()
            let gather = try shouldGatherFacts()
            if !strategy.hostsMoveTogether && play.maxFailPercentage != nil {
                warnOnce(
                    "Using max_fail_percentage with the free strategy is not supported, as tasks are executed "
                        + "independently on each host")
            }
            try await strategy.run(batch, gatherFacts: gather, in: self)
            if abortPlaybook { return false }
            if playEnded { break }
            if !batch.contains(where: { !state.hasFailed($0) && !state.isUnreachable($0) }) {
                services.sink.handle(.noHostsRemaining)
                return false
            }
        }
        return true
    }

    /// Gathers facts (when asked) and runs the play's sections for `hosts`, which move together.
    /// An engine error ends the other walks at their next task.
    func walk(_ hosts: [String], gatherFacts gather: Bool) async throws {
        do {
            if gather { try await gatherFacts(hosts: hosts) }
            try await runSections(hosts: hosts)
        } catch {
            walkFailed = true
            throw error
        }
    }

    /// Each host of `hosts` walks the play on its own, at most `forks` at once; with a `pool`,
    /// their tasks run through it.
    func walkEachHost(_ hosts: [String], gatherFacts gather: Bool, forks: Int, pool: ForkPool?) async throws {
        forkPool = pool
        defer { forkPool = nil }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < min(max(1, forks), hosts.count) {
                let host = hosts[next]
                group.addTask { try await self.walk([host], gatherFacts: gather) }
                next += 1
            }
            while try await group.next() != nil {
                if next < hosts.count {
                    let host = hosts[next]
                    group.addTask { try await self.walk([host], gatherFacts: gather) }
                    next += 1
                }
            }
        }
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

    func warnOnce(_ message: String) {
        if warningsShown.insert(message).inserted { services.sink.handle(.warning(message)) }
    }

    /// The play's name rendered with its vars (as Ansible shows it), or its host pattern.
    private func playTitle(pattern: String) -> String {
        guard let name = play.name else { return pattern }
        var stack = VariableStack()
        stack.push(play.vars)
        stack.push(services.options.extraVars)
        return services.templating.renderName(name, stack, at: play.location).name
    }

    private func renderPlayHosts() throws -> String {
        var stack = VariableStack()
        stack.push(play.vars)
        stack.push(services.options.extraVars)
        let rendered = try services.templating.render(play.hosts, stack, at: play.location)
        switch rendered {
        case .list(let items): return items.map(Templating.display).joined(separator: ",")
        default: return Templating.display(rendered)
        }
    }

    private func batches(of hosts: [String]) throws -> [[String]] {
        guard !play.serial.isEmpty, !hosts.isEmpty else { return [hosts] }
        var sizes: [Int] = []
        for value in play.serial {
            let rendered = try services.templating.render(value, VariableStack(), at: play.location)
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
        stack.push(services.options.extraVars)
        for entry in play.varsFiles {
            let candidates: [Value]
            if case .list(let list) = entry { candidates = list } else { candidates = [entry] }
            var loaded = false
            for candidate in candidates {
                let name = Templating.display(try services.templating.render(candidate, stack, at: play.location))
                let path = name.hasPrefix("/") || ContentSource.isBuiltin(name) ? name : services.playbookDirectory + "/" + name
                guard ContentSource.exists(path) else { continue }
                if let node = try services.vault.loadYAML(contentsOf: path) {
                    guard case .dict(let dict) = node.value else {
                        throw PGHAError(.semantic, "vars file must hold a mapping", at: node.location)
                    }
                    for (k, v) in dict {
                        assembly.varsFiles[k] = v
                        if node.containsSecret {
                            services.redactor.register(value: v)
                        } else {
                            SecretNames.register(name: k, value: v, with: services.redactor)
                        }
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
        return try services.templating.bool(value, VariableStack(), at: play.location) ?? true
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
}
