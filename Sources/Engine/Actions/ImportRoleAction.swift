import Declarations
import PGHACore

/// `import_role`: expanded in place by the loader, before the play runs.
enum ImportRoleAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "import_role",
        arguments: ArgumentSpec(IncludeRoleAction.roleOptions, freeForm: .text),
        documentation: ActionDocumentation(
            "Import a role into a play",
            details: ["Expanded when the playbook is loaded, like a role in `roles:`."],
            examples: """
                - name: Harden the host
                  ansible.builtin.import_role:
                    name: cis
                """))

    static func run(_ context: ActionContext) throws -> ActionResult {
        try IncludeRoleAction.run(context)
    }
}
