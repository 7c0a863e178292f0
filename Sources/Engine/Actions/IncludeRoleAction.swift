import Declarations
import OrderedCollections
import PGHACore
import Playbook

/// `include_role`: loads a role for this host at run time.
enum IncludeRoleAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "include_role",
        arguments: ArgumentSpec(
            roleOptions + [.init("apply", .dict, help: "Keywords (tags, become, ...) applied to the role's tasks.")],
            freeForm: .text),
        documentation: ActionDocumentation(
            "Load and execute a role",
            details: ["Loaded when it runs, for each host (and loop item)."],
            examples: """
                - name: The backup role's restore steps
                  ansible.builtin.include_role:
                    name: backup
                    tasks_from: restore
                """))

    /// What include_role and import_role both accept.
    static let roleOptions: [ArgumentSpec.Argument] = [
        .init("name", .string, required: true, help: "The role."),
        .init("tasks_from", .string, default: "main", help: "The file in the role's tasks/ to run."),
        .init("vars_from", .string, default: "main", help: "The file in the role's vars/ to load."),
        .init("defaults_from", .string, default: "main", help: "The file in the role's defaults/ to load."),
        .init("handlers_from", .string, default: "main", help: "The file in the role's handlers/ to load."),
        .init("allow_duplicates", .bool, default: true, help: "Accepted."),
        .init("public", .bool, default: false, help: "Keep the role's defaults and vars visible after it."),
        .init("rolespec_validate", .bool, default: true, help: "Check the role's meta/argument_specs.yml first."),
    ]

    static func run(_ context: ActionContext) throws -> ActionResult {
        let args = try context.renderedArguments()
        guard let name = args["name"].map(Templating.display) else {
            throw PGHAError(.semantic, "include_role needs 'name'", at: context.task.location)
        }
        let tasksFrom = args["tasks_from"].map(Templating.display)
        // Included tasks inherit what the include inherited (become, environment, the tags of its
        // play, role and blocks), but not the include's own conditions, tags or vars: those belong
        // to the include task alone.
        var inherited = context.task.keywords
        inherited.when = []
        inherited.tags = context.task.inheritedTags
        inherited.vars = [:]
        if case .dict(let apply) = args["apply"] ?? .null {
            if let tags = apply["tags"] {
                let applied = tags.listValue?.map(Templating.display) ?? [Templating.display(tags)]
                inherited.tags += applied.filter { !inherited.tags.contains($0) }
            }
            if let become = apply["become"] { inherited.become = become }
        }
        var parameters = context.task.keywords.vars
        if let loopVar = context.task.loop?.loopVar, let item = context.variables.lookup(loopVar) {
            parameters[loopVar] = item
        }
        let loaded = try context.invocation.loader.loadRole(
            name: name, tasksFrom: tasksFrom, parameters: parameters, inheriting: inherited,
            location: context.task.location, validateArguments: args["rolespec_validate"].map(Templating.truthy) ?? true)
        var result = ActionResult.ok(["include_role": .string(name)])
        result.includes = [
            IncludeRequest(
                key: name + "\u{0}" + (tasksFrom ?? "main") + "\u{0}" + JSON.encode(.dict(parameters), style: .compact),
                nodes: loaded.tasks, handlers: loaded.handlers, vars: parameters, role: loaded.role,
                isPublic: args["public"].map(Templating.truthy) ?? false, includesRole: true, shownName: name,
                itemLabel: try IncludeTasksAction.itemLabel(context))
        ]
        return result
    }
}
