import OrderedCollections
import PGHACore
import Playbook
import Transport

extension PlaybookLoader: DynamicLoader {}

/// Loads task files and roles while the play runs (`include_tasks`, `include_role`).
public protocol DynamicLoader: Sendable {
    func loadTasks(file: String, role: RoleInstance?, inheriting keywords: Keywords, location: SourceLocation) throws -> [TaskNode]
    /// `validateArguments`: the role's argument spec is checked first (include_role's rolespec_validate).
    func loadRole(
        name: String, tasksFrom: String?, parameters: OrderedDictionary<String, Value>, inheriting keywords: Keywords,
        location: SourceLocation, validateArguments: Bool
    ) throws -> (tasks: [TaskNode], handlers: [Task], role: RoleInstance)
}

/// Opens connections to hosts; one connection per host is reused for the whole run.
public protocol Connector: Sendable {
    func connect(host: String, variables: VariableStack) async throws -> any Connection
}
