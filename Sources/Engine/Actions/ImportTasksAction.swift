import Declarations
import PGHACore

/// `import_tasks`: expanded in place by the loader, before the play runs.
enum ImportTasksAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "import_tasks",
        arguments: ArgumentSpec(
            [.init("file", .path, help: "The task file (or give it as free-form text); not templated.")],
            freeForm: .text),
        documentation: ActionDocumentation(
            "Import a task list",
            details: ["Expanded when the playbook is loaded; its tasks inherit the import's keywords."],
            examples: """
                - name: The common steps
                  ansible.builtin.import_tasks: common.yml
                """))

    /// Imports are expanded by the loader; one that reaches a host runs as an include.
    static func run(_ context: ActionContext) throws -> ActionResult {
        try IncludeTasksAction.run(context)
    }
}
