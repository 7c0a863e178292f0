import Foundation
import OrderedCollections
import PGHACore
import Vault

/// Hosts, groups and their inventory variables, built from `-i` sources the way ansible-core 2.19's
/// `InventoryManager` builds them, so `groups`, host order and variable precedence match ansible-playbook.
public struct Inventory: Sendable {
    /// One inventory host.
    public struct Host: Sendable {
        public let name: String
        /// Variables set on the host itself by inventory sources (and `add_host`), in definition order.
        public internal(set) var vars: OrderedDictionary<String, Value> = [:]
        /// Where each of `vars` was defined, and whether it is secret.
        public internal(set) var varOrigins: [String: Origin] = [:]
        /// The source that first defined the host (nil for `add_host` hosts and the implicit localhost).
        public internal(set) var inventoryFile: String?
        /// True only for the implicit localhost, which is in no group, not even `all`.
        public internal(set) var isImplicit = false
        /// Groups that list this host directly, in the order it joined them.
        public internal(set) var directGroups: [String] = []
    }

    /// One inventory group.
    public struct Group: Sendable {
        public let name: String
        public internal(set) var vars: OrderedDictionary<String, Value> = [:]
        public internal(set) var varOrigins: [String: Origin] = [:]
        /// Hosts listed directly in this group (not through children), in the order they joined.
        public internal(set) var hosts: [String] = []
        public internal(set) var children: [String] = []
        public internal(set) var parents: [String] = []
        /// `ansible_group_priority` (1 when unset); breaks ties between groups of the same depth.
        public internal(set) var priority = 1
        /// Where `ansible_group_priority` was set, if it was.
        var priorityOrigin: Origin?
    }

    /// The names Ansible treats as this machine (`C.LOCALHOST`).
    public static let localhostNames: Set<String> = ["localhost", "127.0.0.1", "::1"]

    public internal(set) var groups: OrderedDictionary<String, Group> = [:]
    public internal(set) var hosts: OrderedDictionary<String, Host> = [:]
    /// The sources as given to `load` (paths made absolute), used to find `group_vars/` and `host_vars/`.
    public internal(set) var sources: [String] = []
    /// Non-fatal problems found while loading (the ones ansible prints as `[WARNING]`).
    public internal(set) var warnings: [String] = []
    /// `ansible_python_interpreter` for the implicit localhost (Ansible uses its own `sys.executable`).
    public var implicitLocalhostInterpreter = "/usr/bin/python3"
    /// The first localhost-like host defined in the inventory; patterns naming any localhost alias resolve to it.
    var localhostName: String?
    /// The source whose hosts are being added (sets `inventory_file` for hosts seen first there).
    var currentSource: String?

    let varsCache = VarsFileCache()
    /// Decrypts vaulted `group_vars`/`host_vars` files and inline `!vault` values as they are read.
    public internal(set) var vault = VaultContext.none
    let implicitLocalhost = ImplicitLocalhostName()

    /// An empty inventory: just `all` and `ungrouped`.
    public init() {
        groups["all"] = Group(name: "all")
        groups["ungrouped"] = Group(name: "ungrouped")
        try! linkChild("ungrouped", to: "all")
    }

    // MARK: Building blocks (InventoryData)

    /// Adds a group if it does not exist yet.
    mutating func ensureGroup(_ name: String) throws {
        guard !name.isEmpty else { throw PGHAError(.inventory, "Invalid empty group name") }
        if groups[name] == nil { groups[name] = Group(name: name) }
    }

    /// `InventoryData.add_host`: creates the host on first sight (with `port` as `ansible_port`) and
    /// puts it in `group`.
    mutating func addHostEntry(_ name: String, group: String?, port: Int?, origin: Origin?) throws {
        guard !name.isEmpty else { throw PGHAError(.inventory, "Invalid empty host name provided", at: origin?.location) }
        if let group, groups[group] == nil {
            throw PGHAError(.inventory, "Could not find group \(group) in inventory", at: origin?.location)
        }
        if hosts[name] == nil {
            var host = Host(name: name)
            if let port {
                host.vars["ansible_port"] = .int(port)
                host.varOrigins["ansible_port"] = origin
            }
            host.inventoryFile = currentSource
            hosts[name] = host
            if Self.localhostNames.contains(name) {
                if let existing = localhostName {
                    warnings.append("A duplicate localhost-like entry was found (\(name)). First found localhost was \(existing)")
                } else {
                    localhostName = name
                }
            }
        }
        if let group { addHostToGroup(name, group) }
    }

    mutating func addHostToGroup(_ host: String, _ group: String) {
        guard groups[group] != nil else { return }
        // Membership is asked of the host's own short list of groups, not the group's list, which a
        // range like `web[1:100000]` makes long: searching (and copying) it for every host added was
        // quadratic. The two lists change together here and in removeHostFromGroup.
        if let known = hosts[host] {
            if known.directGroups.contains(group) { return }
        } else if groups[group]!.hosts.contains(host) {
            return
        }
        groups[group]!.hosts.append(host)
        hosts[host]?.directGroups.append(group)
    }

    mutating func removeHostFromGroup(_ host: String, _ group: String) {
        groups[group]?.hosts.removeAll { $0 == host }
        hosts[host]?.directGroups.removeAll { $0 == group }
    }

    /// `InventoryData.set_variable`: a group of that name wins over a host of that name, as in Ansible.
    mutating func setVariable(_ entity: String, _ key: String, _ value: Value, origin: Origin) throws {
        if groups[entity] != nil {
            if key == "ansible_group_priority" {
                guard let priority = Self.pythonInt(value) else {
                    throw PGHAError(
                        .inventory, "ansible_group_priority must be an integer, got \(JSON.encode(value))",
                        at: origin.location)
                }
                groups[entity]!.priority = priority
                groups[entity]!.priorityOrigin = origin
            } else {
                groups[entity]!.vars[key] = value
                groups[entity]!.varOrigins[key] = origin
            }
        } else if hosts[entity] != nil {
            hosts[entity]!.vars[key] = value
            hosts[entity]!.varOrigins[key] = origin
        } else {
            throw PGHAError(.inventory, "Could not identify group or host named \(entity)", at: origin.location)
        }
    }

    /// Python's `int(value)` for the values an inventory can hold.
    static func pythonInt(_ value: Value) -> Int? {
        switch value {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        case .double(let d): return d.isFinite ? Int(d) : nil
        case .string(let s): return Int(s.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    /// `Group.add_child_group`, with its loop checks.
    mutating func linkChild(_ child: String, to parent: String, at location: SourceLocation? = nil) throws {
        guard groups[parent] != nil else { throw PGHAError(.inventory, "\(parent) is not a known group", at: location) }
        guard groups[child] != nil else {
            throw PGHAError(.inventory, "\(child) is not a known host nor group", at: location)
        }
        if child == parent {
            throw PGHAError(.inventory, "can't add group '\(child)' to itself", at: location)
        }
        if groups[parent]!.children.contains(child) { return }
        if ancestors(of: parent).contains(child) {
            throw PGHAError(
                .inventory,
                "Adding group '\(child)' as child to '\(parent)' creates a recursive dependency loop.", at: location)
        }
        groups[parent]!.children.append(child)
        if !groups[child]!.parents.contains(parent) { groups[child]!.parents.append(parent) }
    }

    /// Every group above `group` (not including it).
    func ancestors(of group: String) -> Set<String> {
        var seen = Set<String>()
        var pending = groups[group]?.parents ?? []
        while let next = pending.popLast() {
            if seen.insert(next).inserted { pending.append(contentsOf: groups[next]?.parents ?? []) }
        }
        return seen
    }

    /// The groups a host belongs to directly or through children, including `all`.
    public func groupClosure(of host: String) -> Set<String> {
        var result = Set<String>()
        for group in hosts[host]?.directGroups ?? [] {
            result.insert(group)
            result.formUnion(ancestors(of: group))
        }
        return result
    }

    /// A group's depth: the longest chain of parents above it (`all` is 0, its children 1, ...).
    public func depth(of group: String) -> Int {
        var memo: [String: Int] = [:]
        func walk(_ name: String, _ guardDepth: Int) -> Int {
            if let d = memo[name] { return d }
            guard guardDepth < 10_000, let parents = groups[name]?.parents, !parents.isEmpty else { return 0 }
            let d = parents.map { walk($0, guardDepth + 1) + 1 }.max() ?? 0
            memo[name] = d
            return d
        }
        return walk(group, 0)
    }

    /// `InventoryData.reconcile_inventory`: orphan groups go under `all`, hosts with no other group go to
    /// `ungrouped`, and hosts that found a group leave it.
    mutating func reconcile() {
        for name in groups.keys where name != "all" && groups[name]!.parents.isEmpty {
            try! linkChild(name, to: "all")
        }
        var groupNames = Set(groups.keys)
        groupNames.remove("")
        for name in hosts.keys {
            let host = hosts[name]!
            if host.isImplicit { continue }
            let closure = groupClosure(of: name)
            if host.directGroups.contains("ungrouped") {
                if !closure.subtracting(["all", "ungrouped"]).isEmpty { removeHostFromGroup(name, "ungrouped") }
            } else if closure.isEmpty || closure == ["all"] {
                addHostToGroup(name, "ungrouped")
            }
        }
        for name in hosts.keys where groupNames.contains(name) {
            let warning = "Found both group and host with same name: \(name)"
            if !warnings.contains(warning) { warnings.append(warning) }
        }
    }

    // MARK: Queries

    /// `Group.get_descendants(include_self=True, preserve_ordering=True)`: the group, its children, then
    /// each further level (Ansible walks deeper levels through a set; we keep parents' order there).
    func orderedDescendants(of group: String) -> [String] {
        guard let g = groups[group] else { return [] }
        var ordered = [group] + g.children
        var seen = Set(ordered)
        var level = [group] + g.children
        while !level.isEmpty {
            var next: [String] = []
            for name in level {
                for child in groups[name]?.children ?? [] where !seen.contains(child) {
                    if !next.contains(child) {
                        next.append(child)
                        ordered.append(child)
                    }
                }
            }
            seen.formUnion(next)
            level = next
        }
        return ordered
    }

    /// The hosts of a group and all its descendants, in Ansible's order (`Group.get_hosts`).
    public func hosts(inGroup group: String) -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for name in orderedDescendants(of: group) {
            for host in groups[name]?.hosts ?? [] where seen.insert(host).inserted {
                if group == "all" && (hosts[host]?.isImplicit ?? false) { continue }
                result.append(host)
            }
        }
        return result
    }

    /// The `groups` magic variable: every group (with `all` and `ungrouped`) to its hosts.
    public var groupsMagic: OrderedDictionary<String, Value> {
        var result = OrderedDictionary<String, Value>()
        for name in groups.keys { result[name] = .list(hosts(inGroup: name).map { .string($0) }) }
        return result
    }

    /// The host's groups sorted as Ansible merges their variables: by depth, then priority, then name.
    public func sortedGroups(of host: String) -> [String] {
        groupClosure(of: host).filter { $0 != "all" }.sorted { a, b in
            let (da, db) = (depth(of: a), depth(of: b))
            if da != db { return da < db }
            let (pa, pb) = (groups[a]!.priority, groups[b]!.priority)
            if pa != pb { return pa < pb }
            return a < b
        }
    }

    /// `group_names`: the host's groups, sorted, without `all` (Ansible keeps `ungrouped`).
    public func groupNames(of host: String) -> [String] {
        groupClosure(of: host).filter { $0 != "all" }.sorted()
    }

    /// True when `name` is a real inventory host or resolves to the implicit localhost.
    public func contains(host name: String) -> Bool {
        hosts[name] != nil || Self.localhostNames.contains(name)
    }

    /// The host a name refers to: an inventory host, the inventory's own localhost for a localhost alias,
    /// or (for a localhost alias in an inventory without one) the implicit localhost.
    public func resolvedHost(_ name: String) -> Host? {
        if let host = hosts[name] { return host }
        guard Self.localhostNames.contains(name) else { return nil }
        if let localhostName, let host = hosts[localhostName] { return host }
        // Ansible creates the implicit localhost once, named by the first alias asked for, and every later
        // alias resolves to that same host.
        var host = Host(name: implicitLocalhost.name(for: name))
        host.isImplicit = true
        let origin = Origin(location: SourceLocation(file: "<implicit localhost>"))
        host.vars["ansible_python_interpreter"] = .string(implicitLocalhostInterpreter)
        host.vars["ansible_connection"] = "local"
        host.varOrigins["ansible_python_interpreter"] = origin
        host.varOrigins["ansible_connection"] = origin
        return host
    }

    /// Magic variables Ansible derives from the inventory for a host: `inventory_hostname`,
    /// `inventory_hostname_short`, `group_names`, `groups`, `inventory_file`, `inventory_dir`.
    public func magicVariables(for name: String) -> OrderedDictionary<String, Value> {
        let host = resolvedHost(name)
        let hostName = host?.name ?? name
        var result = OrderedDictionary<String, Value>()
        result["inventory_hostname"] = .string(hostName)
        if HostAddress.isIPAddress(hostName) {
            result["inventory_hostname_short"] = .string(hostName)
        } else {
            result["inventory_hostname_short"] = .string(String(hostName.split(separator: ".", omittingEmptySubsequences: false).first ?? ""))
        }
        result["group_names"] = .list(groupNames(of: hostName).map { .string($0) })
        result["groups"] = .dict(groupsMagic)
        if let host, !host.isImplicit {
            if let file = host.inventoryFile {
                result["inventory_file"] = .string(file)
                // Ansible stores to_text(None) for host-list sources, i.e. the string "None".
                result["inventory_dir"] = .string(Self.inventoryDir(for: file) ?? "None")
            } else {
                result["inventory_file"] = .null
                result["inventory_dir"] = .null
            }
        }
        return result
    }

    /// `ansible.utils.path.basedir` for a source: the directory itself, the file's directory, or nil.
    static func inventoryDir(for source: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return source }
        return (source as NSString).deletingLastPathComponent
    }
}

/// The implicit localhost's name, fixed by the first lookup and shared by copies of the inventory.
final class ImplicitLocalhostName: @unchecked Sendable {
    private let lock = NSLock()
    private var chosen: String?

    func name(for alias: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        if chosen == nil { chosen = alias }
        return chosen!
    }
}
