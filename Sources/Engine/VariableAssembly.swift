import Foundation
import Inventory
import OrderedCollections
import PGHACore
import Playbook
import Synchronization

/// The variables one task sees on one host, assembled in Ansible's precedence order from the play,
/// its roles, the inventory, the host's state in the run and the command line, with the caches that
/// make that a few array appends per task.
///
/// Owned by the play's executor; `stateChanged` and `inventoryChanged` tell it what to read again.
struct VariableAssembly: Sendable {
    let play: Play
    let options: RunOptions
    let playbookDirectory: String
    let templating: Templating
    /// Defaults and vars of every role the play applied (each task's own role's sit above them).
    private(set) var roleDefaults: OrderedDictionary<String, Value> = [:]
    private(set) var roleVars: OrderedDictionary<String, Value> = [:]
    /// The play's vars_files, read per batch.
    var varsFiles: OrderedDictionary<String, Value> = [:]
    private var inventoryLayers: [String: [OrderedDictionary<String, Value>]] = [:]
    /// The inventory's magic variables per host (groups, group_names, inventory_dir...): they change
    /// only when add_host changes the inventory, and building them costs a file check per host.
    private var inventoryMagic: [String: OrderedDictionary<String, Value>] = [:]
    /// Rebuilt after any result is applied; shared by every host of a task.
    private var hostVarsCache: HostVarsSnapshot?
    /// `ansible_play_name`: the play's name, or its host pattern.
    var playName = ""
    /// The roles the play names (`roles:`, import_role, include_role so far), in order, and those
    /// only pulled in as dependencies: `role_names`, `ansible_play_role_names`,
    /// `ansible_dependent_role_names`, `ansible_role_names`.
    var playRoleNames: [String] = []
    var dependentRoleNames: [String] = []

    /// The play's hosts as its magic variables show them.
    struct PlayHosts {
        /// Every host the play selected (`ansible_play_hosts_all`).
        var all: [String]
        /// The current batch's hosts still active (`ansible_play_hosts`, `ansible_play_batch`).
        var activeBatch: [String]
    }

    init(play: Play, options: RunOptions, playbookDirectory: String, templating: Templating) {
        self.play = play
        self.options = options
        self.playbookDirectory = playbookDirectory
        self.templating = templating
    }

    /// A role the play applies: its defaults and vars join the play-wide layers. A role included
    /// later (`include_role` with `public: true`) does not override defaults already set.
    mutating func addRole(_ role: RoleInstance, keepingEarlierDefaults: Bool) {
        for (k, v) in role.defaults where !keepingEarlierDefaults || roleDefaults[k] == nil { roleDefaults[k] = v }
        for (k, v) in role.vars { roleVars[k] = v }
    }

    /// Roles the play applies (statically, or an include_role now), for the role name variables:
    /// each application of a role is one more entry of `role_names`, as in Ansible.
    mutating func noteRoleNames(_ roles: [RoleInstance]) {
        for role in roles {
            if role.isDependency {
                if !dependentRoleNames.contains(role.qualifiedName) { dependentRoleNames.append(role.qualifiedName) }
            } else {
                playRoleNames.append(role.qualifiedName)
            }
        }
    }

    /// A host's facts or registered values changed: `hostvars` must be built again.
    mutating func stateChanged() { hostVarsCache = nil }

    /// add_host changed the inventory: those hosts' variables and everyone's groups are read again.
    mutating func inventoryChanged(hosts: [String]) {
        for host in hosts { inventoryLayers[host] = nil }
        inventoryMagic = [:]
        hostVarsCache = nil
    }

    /// The variable stack for a task on a host, in Ansible's precedence order.
    mutating func variables(
        for host: String, task: Task, includeVars: OrderedDictionary<String, Value>, state: RunState,
        playHosts: PlayHosts
    ) -> VariableStack {
        let runtime = state.hosts[host] ?? HostState(name: host)
        var stack = VariableStack()
        stack.push(roleDefaults)
        if let role = task.role { stack.push(role.defaults) }
        for layer in inventoryLayers(for: host, in: state.inventory) { stack.push(layer) }
        if !runtime.facts.isEmpty { stack.push(injectedFacts(runtime.facts, unprefixed: runtime.unprefixedFacts)) }
        stack.push(play.vars)
        stack.push(varsFiles)
        stack.push(roleVars)
        if let role = task.role { stack.push(role.vars) }
        stack.push(task.keywords.vars)
        stack.push(runtime.includedVars)
        stack.push(runtime.hostFacts)
        if let role = task.role { stack.push(role.parameters) }
        stack.push(includeVars)
        stack.push(options.extraVars)
        // A variable (inventory, play, task) beats the `connection:` keyword, which beats `-c`.
        let connection = stack.lookup("ansible_connection") ?? task.keywords.extra["connection"]
            ?? .string(options.connection?.rawValue ?? "ssh")
        var magic = magicVariables(for: host, task: task, facts: runtime.facts, inventory: state.inventory, playHosts: playHosts)
        magic["ansible_connection"] = connection
        stack.push(magic)
        let snapshot = hostVarsSnapshot(state)
        stack.setLazy("hostvars") { snapshot.materialize() }
        return stack
    }

    /// What a task delegated to `host` connects with: that host's inventory variables.
    mutating func delegateVariables(for host: String, in inventory: Inventory) -> VariableStack {
        var stack = VariableStack()
        for layer in inventoryLayers(for: host, in: inventory) { stack.push(layer) }
        stack.set("inventory_hostname", .string(host))
        return stack
    }

    private mutating func inventoryLayers(for host: String, in inventory: Inventory) -> [OrderedDictionary<String, Value>] {
        if let cached = inventoryLayers[host] { return cached }
        // Vars files were read and checked when the run started (PlaybookRunner.registerSecrets).
        let layers = ((try? inventory.variables(for: host, playbookDirectory: playbookDirectory)) ?? []).map(\.values)
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

    private mutating func magicVariables(
        for host: String, task: Task, facts: OrderedDictionary<String, Value>, inventory: Inventory, playHosts: PlayHosts
    ) -> OrderedDictionary<String, Value> {
        var magic: OrderedDictionary<String, Value>
        if let cached = inventoryMagic[host] {
            magic = cached
        } else {
            magic = inventory.magicVariables(for: host)
            inventoryMagic[host] = magic
        }
        let playMagic: OrderedDictionary<String, Value> = [
            "ansible_play_hosts_all": .list(playHosts.all.map(Value.string)),
            "ansible_play_hosts": .list(playHosts.activeBatch.map(Value.string)),
            "ansible_play_batch": .list(playHosts.activeBatch.map(Value.string)),
            "play_hosts": .list(playHosts.activeBatch.map(Value.string)),
            "ansible_play_name": .string(playName),
            "role_names": .list(playRoleNames.map(Value.string)),
            "ansible_play_role_names": .list(playRoleNames.map(Value.string)),
            "ansible_dependent_role_names": .list(dependentRoleNames.map(Value.string)),
            "ansible_role_names": .list(Array(Set(playRoleNames + dependentRoleNames)).sorted().map(Value.string)),
            "playbook_dir": .string(playbookDirectory),
            "ansible_check_mode": .bool(options.check),
            "ansible_diff_mode": .bool(options.diff),
            "ansible_facts": .dict(facts),
            "omit": .string(Templating.omitToken),
            "ansible_run_tags": .list((options.tags.isEmpty ? ["all"] : options.tags).map(Value.string)),
            "ansible_skip_tags": .list(options.skipTags.map(Value.string)),
            "ansible_verbosity": .int(options.verbosity),
            "ansible_version": [
                "string": "2.19.0", "full": "2.19.0", "major": 2, "minor": 19, "revision": 0,
            ],
        ]
        for (key, value) in playMagic { magic[key] = value }
        if let role = task.role {
            magic["role_path"] = .string(role.path)
            magic["role_name"] = .string(role.name)
            magic["ansible_role_name"] = .string(role.qualifiedName)
            magic["ansible_collection_name"] = role.collection.map(Value.string) ?? .null
        }
        // Where lookups and first_found look for relative files, as Ansible orders them: the role,
        // the task file's directory, then the playbook's.
        var searchPath = task.role.map { [$0.path] } ?? []
        for directory in [(task.location.file as NSString).deletingLastPathComponent, playbookDirectory]
        where !directory.isEmpty && !searchPath.contains(directory) {
            searchPath.append(directory)
        }
        magic["ansible_search_path"] = .list(searchPath.map(Value.string))
        return magic
    }

    private mutating func hostVarsSnapshot(_ state: RunState) -> HostVarsSnapshot {
        if let hostVarsCache { return hostVarsCache }
        var perHost: [String: [OrderedDictionary<String, Value>]] = [:]
        let everyone = state.inventory.hosts(inGroup: "all")
        for host in everyone {
            let runtime = state.hosts[host]
            var layers = inventoryLayers(for: host, in: state.inventory)
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
        let snapshot = HostVarsSnapshot(order: everyone, layers: perHost, templating: templating)
        hostVarsCache = snapshot
        return snapshot
    }
}

/// All hosts' variables as `hostvars` shows them, built only when a template asks, once per task.
///
/// Each host's templated values are rendered in that host's own context, as Ansible's HostVars
/// does: `hostvars['node2'].address` where `address: "{{ ansible_host }}"` is node2's address,
/// not the asking host's. The hosts of a task render concurrently and share the one result.
final class HostVarsSnapshot: Sendable {
    let order: [String]
    let layers: [String: [OrderedDictionary<String, Value>]]
    let templating: Templating
    private let cached = Mutex<Value?>(nil)

    init(order: [String], layers: [String: [OrderedDictionary<String, Value>]], templating: Templating) {
        self.order = order
        self.layers = layers
        self.templating = templating
    }

    func materialize() -> Value {
        cached.withLock { cached in
            if let cached { return cached }
            var result = OrderedDictionary<String, Value>()
            for host in order {
                var stack = VariableStack()
                for layer in layers[host] ?? [] { stack.push(layer) }
                let location = SourceLocation(file: "<hostvars[\(host)]>")
                var merged = stack.flattened()
                for (key, value) in merged where value.containsTemplate {
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
}
