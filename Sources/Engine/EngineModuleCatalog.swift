import Modules
import OrderedCollections
import PGHACore
import Playbook

/// The loader's view of what can run: engine actions plus the module library, so unknown modules
/// and bad arguments are reported before any host is touched.
public struct EngineModuleCatalog: ModuleCatalog {
    /// Actions the engine performs itself (they need variables, the play or the inventory).
    public static let engineActions: Set<String> = [
        "debug", "set_fact", "assert", "fail", "meta", "include_tasks", "import_tasks", "include_role", "import_role",
        "include_vars", "add_host", "group_by", "setup", "gather_facts", "pause", "set_stats",
        "validate_argument_spec", "ping", "wait_for_connection", "import_playbook",
    ]

    static let collectionPrefixes = [
        "ansible.builtin.", "ansible.legacy.", "ansible.posix.", "community.general.", "community.postgresql.",
    ]

    public init() {}

    public func canonicalName(for action: String) -> String? {
        var short = action
        for prefix in Self.collectionPrefixes where action.hasPrefix(prefix) {
            short = String(action.dropFirst(prefix.count))
        }
        if Self.engineActions.contains(short) { return short }
        if let module = ModuleRegistry.module(named: action) ?? ModuleRegistry.module(named: short) { return module.name }
        return nil
    }

    public func validateStatically(
        module: String, args: OrderedDictionary<String, Value>, locations: [String: SourceLocation],
        taskLocation: SourceLocation
    ) throws {
        guard let type = ModuleRegistry.module(named: module) else { return }
        _ = try type.arguments.validate(
            args, module: type.name, locations: locations, taskLocation: taskLocation, allowTemplates: true)
    }

    public var knownModuleNames: [String] {
        Array(Self.engineActions) + ModuleRegistry.all.map { $0.name }
    }
}
