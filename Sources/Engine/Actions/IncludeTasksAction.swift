import Declarations
import Foundation
import OrderedCollections
import PGHACore
import Playbook

/// `include_tasks`: loads a task file for this host at run time; hosts that include the same file
/// with the same parameters run it together.
enum IncludeTasksAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "include_tasks",
        arguments: ArgumentSpec(
            [
                .init("file", .path, help: "The task file (or give it as free-form text); it may be templated."),
                .init("apply", .dict, help: "Keywords (tags, become, ...) applied to the included tasks."),
            ], freeForm: .text),
        documentation: ActionDocumentation(
            "Dynamically include a task list",
            details: [
                "Loaded when it runs, for each host (and loop item); hosts that include the same file with the "
                    + "same variables run it together."
            ],
            examples: """
                - name: Steps for this host's role
                  ansible.builtin.include_tasks: "{{ member_role }}.yml"

                - name: Each user, with its own variables
                  ansible.builtin.include_tasks:
                    file: user.yml
                  loop: "{{ users }}"
                """))

    static func run(_ context: ActionContext) throws -> ActionResult {
        let args = try context.renderedArguments()
        guard let fileValue = args["file"] ?? args["_raw_params"] else {
            throw PGHAError(.semantic, "include_tasks needs a file name", at: context.task.location)
        }
        let name = Templating.display(fileValue)
        let path = try resolve(name, context: context)
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
            if let becomeUser = apply["become_user"] { inherited.becomeUser = becomeUser }
        }
        var nodes: [TaskNode] = []
        var loadError: PGHAError? = nil
        do {
            nodes = try context.invocation.loader.loadTasks(
                file: path, role: context.task.role, inheriting: inherited, location: context.task.location)
        } catch let error as PGHAError where error.kind == .syntax || error.kind == .semantic {
            loadError = error
        }
        // The include's own `vars:` and parameters reach the included tasks.
        var vars = context.task.keywords.vars
        for (key, value) in args where !["file", "_raw_params", "apply"].contains(key) { vars[key] = value }
        if let loopVar = context.task.loop?.loopVar, let item = context.variables.lookup(loopVar) {
            vars[loopVar] = item
        }
        var result = ActionResult.ok(["include": .string(path), "include_args": .dict(vars)])
        result.includes = [
            IncludeRequest(
                key: path + "\u{0}" + JSON.encode(.dict(vars), style: .compact), nodes: nodes, handlers: [],
                vars: vars, role: context.task.role, shownName: path, itemLabel: try itemLabel(context), loadError: loadError)
        ]
        return result
    }

    /// The loop item as the output labels it (`loop_control.label`, or the item itself).
    static func itemLabel(_ context: ActionContext) throws -> String? {
        guard let loop = context.task.loop, let item = context.variables.lookup(loop.loopVar) else { return nil }
        guard let label = loop.label else { return Templating.display(item) }
        return try context.templating.renderString(Templating.display(label), context.variables, at: loop.location)
    }

    /// Include paths are relative to the including file, then the role's tasks/, then the playbook.
    static func resolve(_ name: String, context: ActionContext) throws -> String {
        if name.hasPrefix("/") || ContentSource.isBuiltin(name) { return name }
        var candidates: [String] = []
        let taskFile = context.task.location.file
        if let slash = taskFile.lastIndex(of: "/") { candidates.append(String(taskFile[..<slash]) + "/" + name) }
        if let role = context.task.role { candidates.append(role.path + "/tasks/" + name) }
        if let dir = context.variables.lookup("playbook_dir")?.stringValue { candidates.append(dir + "/" + name) }
        for candidate in candidates where ContentSource.isFile(candidate) {
            return ContentSource.standardize(candidate)
        }
        throw PGHAError(
            .io, "could not find included file '\(name)' (looked in: \(candidates.joined(separator: ", ")))",
            at: context.task.location)
    }
}
