import Foundation
import OrderedCollections
import PGHACore

extension Inventory {
    /// `add_host`: creates the host if needed (directly under `all`, as ansible-core does, so it comes
    /// first in `groups['all']`), merges `vars` into its host variables, and adds it to `groups`
    /// (created on demand).
    ///
    /// - Returns: whether anything changed (the task's `changed`).
    @discardableResult
    public mutating func addHost(
        _ name: String, groups newGroups: [String] = [], vars: OrderedDictionary<String, Value> = [:],
        origin: Origin? = nil
    ) throws -> Bool {
        var changed = false
        if hosts[name] == nil {
            let saved = currentSource
            currentSource = nil
            defer { currentSource = saved }
            try addHostEntry(name, group: "all", port: nil, origin: origin)
            changed = true
        }
        for (key, value) in vars where hosts[name]!.vars[key] != value {
            hosts[name]!.vars[key] = value
            hosts[name]!.varOrigins[key] = Origin(
                location: origin?.location, isSecret: (origin?.isSecret ?? false) || Self.isSecretName(key))
            changed = true
        }
        for group in newGroups {
            if groups[group] == nil {
                try ensureGroup(group)
                changed = true
            }
            if !groups[group]!.hosts.contains(name) {
                addHostToGroup(name, group)
                changed = true
            }
        }
        if changed { reconcile() }
        return changed
    }

    /// `group_by`: creates `name` (and `parents`, made its parents) if needed and puts `host` in it.
    ///
    /// - Returns: whether anything changed.
    @discardableResult
    public mutating func addGroup(_ name: String, parents: [String] = [], host: String? = nil) throws -> Bool {
        var changed = false
        if groups[name] == nil {
            try ensureGroup(name)
            changed = true
        }
        for parent in parents {
            if groups[parent] == nil {
                try ensureGroup(parent)
                changed = true
            }
            if !groups[parent]!.children.contains(name) {
                try linkChild(name, to: parent)
                changed = true
            }
        }
        if let host {
            guard let resolved = resolvedHost(host) else {
                throw PGHAError(.inventory, "\(host) cannot be matched in inventory")
            }
            if hosts[resolved.name] == nil {
                // The implicit localhost becomes a real host once it joins a group.
                var made = resolved
                made.directGroups = []
                hosts[resolved.name] = made
                if localhostName == nil { localhostName = resolved.name }
            }
            if !groups[name]!.hosts.contains(resolved.name) {
                addHostToGroup(resolved.name, name)
                changed = true
            }
        }
        if changed { reconcile() }
        return changed
    }
}
