import OrderedCollections
import PGHACore
import Playbook

/// What an action produced, before the engine applies changed_when/failed_when and registers it.
struct ActionResult: Sendable {
    /// The result keys (changed, failed, msg, rc, ...), as `register` stores them.
    var values: OrderedDictionary<String, Value>
    var diffs: [DiffText] = []
    var setFacts: OrderedDictionary<String, Value> = [:]
    var includedVars: OrderedDictionary<String, Value> = [:]
    /// Facts from `setup`: top-level variables get the `ansible_` prefix.
    var facts: OrderedDictionary<String, Value> = [:]
    /// Facts other modules return (getent, package_facts): top-level under their own names.
    var moduleFacts: OrderedDictionary<String, Value> = [:]
    var includes: [IncludeRequest] = []
    var addHosts: [(host: String, groups: [String], vars: OrderedDictionary<String, Value>)] = []
    /// debug shows its result without -v.
    var verboseAlways = false

    init(_ values: OrderedDictionary<String, Value>) {
        self.values = values
    }

    static func ok(_ values: OrderedDictionary<String, Value> = [:]) -> ActionResult {
        var all: OrderedDictionary<String, Value> = ["changed": false]
        for (k, v) in values { all[k] = v }
        return ActionResult(all)
    }

    static func failed(_ message: String, _ extra: OrderedDictionary<String, Value> = [:]) -> ActionResult {
        var all: OrderedDictionary<String, Value> = ["changed": false, "failed": true, "msg": .string(message)]
        for (k, v) in extra { all[k] = v }
        return ActionResult(all)
    }
}

/// What an action may use: the task, the host's variables, and the invocation's services.
struct ActionContext: Sendable {
    let invocation: HostInvocation
    let variables: VariableStack

    var task: Task { invocation.task }
    var host: String { invocation.host }
    var templating: Templating { invocation.templating }
    var options: RunOptions { invocation.options }

    /// The task's arguments with templates rendered and `omit` dropped.
    func renderedArguments() throws -> OrderedDictionary<String, Value> {
        try templating.renderArguments(task.args, variables, at: task.location)
    }

    var checkMode: Bool {
        get throws {
            try templating.bool(task.keywords.checkMode, variables, at: task.location) ?? options.check
        }
    }

    var diffMode: Bool {
        get throws {
            try templating.bool(task.keywords.diff, variables, at: task.location) ?? options.diff
        }
    }
}

/// Engine-level actions (they need variables or the play, not just a host) and the bridge to
/// modules for everything else.
enum Actions {
    static func perform(_ action: String, context: ActionContext) async throws -> ActionResult {
        switch action {
        case "debug": return try DebugAction.run(context)
        case "set_fact": return try SetFactAction.run(context)
        case "assert": return try AssertAction.run(context)
        case "fail": return try FailAction.run(context)
        case "include_tasks", "import_tasks": return try IncludeTasksAction.run(context)
        case "include_role", "import_role": return try IncludeRoleAction.run(context)
        case "include_vars": return try IncludeVarsAction.run(context)
        case "add_host": return try AddHostAction.run(context)
        case "group_by": return try GroupByAction.run(context)
        case "gather_facts", "setup": return try await FactsAction.run(context)
        case "pause": return try await PauseAction.run(context)
        case "set_stats", "validate_argument_spec": return .ok()
        default: return try await ModuleAction.run(action, context)
        }
    }
}
