import OrderedCollections
import PGHACore
import Playbook
import Transport

/// What the engine needs from an inventory. `Inventory.Inventory` conforms; tests may pass their own.
public protocol HostInventory: Sendable {
    /// Hosts matching an Ansible host pattern, in inventory order.
    func hosts(matching pattern: String) throws -> [String]
    /// The host's inventory variables, lowest precedence first, with where each layer came from.
    func variableLayers(for host: String, playbookDirectory: String?) -> [(origin: Origin, vars: OrderedDictionary<String, Value>)]
    /// Group name -> members, including `all` and `ungrouped`.
    var groupMembers: OrderedDictionary<String, [String]> { get }
    /// Groups the host belongs to, sorted, without `all` and `ungrouped`.
    func groupNames(for host: String) -> [String]
    /// `add_host` / `group_by`.
    mutating func addHost(_ host: String, groups: [String], vars: OrderedDictionary<String, Value>)
}

/// Loads task files and roles while the play runs (`include_tasks`, `include_role`).
public protocol DynamicLoader: Sendable {
    func loadTasks(file: String, role: RoleInstance?, inheriting keywords: Keywords, location: SourceLocation) throws -> [TaskNode]
    func loadRole(
        name: String, tasksFrom: String?, parameters: OrderedDictionary<String, Value>, inheriting keywords: Keywords,
        location: SourceLocation
    ) throws -> (tasks: [TaskNode], handlers: [Task], role: RoleInstance)
}

/// Opens connections to hosts; one connection per host is reused for the whole run.
public protocol Connector: Sendable {
    func connect(host: String, variables: VariableStack) async throws -> any Connection
}
