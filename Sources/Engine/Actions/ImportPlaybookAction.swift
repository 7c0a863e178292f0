import Declarations
import PGHACore

/// `import_playbook`: a playbook-level statement, expanded by the loader; it is not a task.
enum ImportPlaybookAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "import_playbook",
        arguments: ArgumentSpec([], freeForm: .text),
        documentation: ActionDocumentation(
            "Import a playbook",
            details: ["Valid only as an entry of a playbook, beside plays, with name, when, tags and vars."],
            examples: """
                - ansible.builtin.import_playbook: site.yml
                  vars:
                    cluster_name: main
                """))

    static func run(_ context: ActionContext) throws -> ActionResult {
        throw PGHAError(
            .semantic, "import_playbook is only valid at the top level of a playbook, not as a task",
            at: context.task.location)
    }
}
