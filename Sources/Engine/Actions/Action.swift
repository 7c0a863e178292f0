import Declarations
import Declarations
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

    /// The rendered arguments checked and converted against `declaration`'s spec, as modules' are.
    func checkedArguments(_ declaration: ActionDeclaration) throws -> ModuleArguments {
        try declaration.arguments.validate(
            try renderedArguments(), module: declaration.name, locations: task.argLocations,
            taskLocation: task.location, allowTemplates: false)
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
