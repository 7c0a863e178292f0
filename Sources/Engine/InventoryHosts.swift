import Foundation
import Inventory
import OrderedCollections
import PGHACore
import Template
import Transport

/// The inventory's hosts with their variables and connections, for commands that read hosts
/// without running a playbook (`pgha-play status`): the same inventory loading, variable
/// precedence (role defaults below the inventory, extra vars above), templating and SSH transport
/// as a playbook run.
public struct InventoryHosts: Sendable {
    public let inventory: Inventory
    let options: RunOptions
    let roleDefaults: OrderedDictionary<String, Value>
    let templating: Templating

    /// Loads the inventory named in `options`; `roleDefaults` is the lowest layer (see
    /// `loadRoleDefaults`), as a role's defaults are under a play.
    public init(options: RunOptions, roleDefaults: OrderedDictionary<String, Value> = [:]) throws {
        self.options = options
        self.roleDefaults = roleDefaults
        self.inventory = try Inventory.load(sources: options.inventorySources)
        var engine = TemplateEngine()
        engine.lookups = InventoryLookups(inventory: inventory, base: engine.lookups)
        self.templating = Templating(engine: engine)
    }

    /// The hosts of a group in inventory order (empty when the group does not exist).
    public func hosts(inGroup group: String) -> [String] {
        inventory.groups[group] == nil ? [] : inventory.hosts(inGroup: group)
    }

    /// The variables a task on `host` would see before facts and play variables.
    public func variables(for host: String) throws -> VariableStack {
        var stack = VariableStack()
        stack.push(roleDefaults)
        for layer in try inventory.variables(for: host, playbookDirectory: nil) { stack.push(layer.values) }
        stack.push(options.extraVars)
        stack.push(inventory.magicVariables(for: host))
        return stack
    }

    /// A variable of `host`, rendered; nil when it is not defined.
    public func value(_ name: String, for host: String) throws -> Value? {
        let stack = try variables(for: host)
        guard let raw = stack.lookup(name) else { return nil }
        return try templating.render(raw, stack, at: SourceLocation(file: "<inventory: \(host)>"))
    }

    /// A variable of `host` rendered as text (numbers and booleans as Ansible prints them).
    public func string(_ name: String, for host: String) throws -> String? {
        try value(name, for: host).map(Templating.display)
    }

    /// Opens a connection to `host` as a playbook run would (ansible_connection, ansible_host,
    /// user, key, known_hosts); `connectTimeout` replaces ansible_timeout when given.
    public func connect(_ host: String, connectTimeout: Double? = nil) async throws -> any Connection {
        var stack = try variables(for: host)
        if let connectTimeout { stack.set("ansible_timeout", .int(Int(connectTimeout.rounded(.up)))) }
        return try await HostConnector(options: options).connect(host: host, variables: stack)
    }

    /// `defaults/main.yml` of each named role found in `searchPaths`, merged in order (later roles
    /// win), for commands that need the values the roles would use.
    public static func loadRoleDefaults(roles: [String], searchPaths: [String]) throws -> OrderedDictionary<String, Value> {
        var merged = OrderedDictionary<String, Value>()
        for role in roles {
            for directory in searchPaths {
                let path = "\(directory)/\(role)/defaults/main.yml"
                guard FileManager.default.fileExists(atPath: path) else { continue }
                let text = try String(contentsOfFile: path, encoding: .utf8)
                if let node = try YAMLLoader.load(text, file: path) {
                    guard case .dict(let values) = node.value else {
                        throw PGHAError(.semantic, "role defaults must be a mapping", at: node.location)
                    }
                    for (key, value) in values { merged[key] = value }
                }
                break
            }
        }
        return merged
    }
}
