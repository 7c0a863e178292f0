import Declarations

/// `validate_argument_spec`: accepted and not checked (roles' argument specs are documentation here).
enum ValidateArgumentSpecAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "validate_argument_spec",
        arguments: ArgumentSpec([
            .init("argument_spec", .dict, required: true, help: "Accepted and not checked."),
            .init("provided_arguments", .dict, help: "Accepted."),
        ]),
        documentation: ActionDocumentation(
            "Validate role argument specs",
            details: ["Accepted so that roles using it run; the arguments are not validated."],
            examples: """
                - name: Check the role's arguments
                  ansible.builtin.validate_argument_spec:
                    argument_spec:
                      cluster_name:
                        type: str
                        required: true
                """))

    static func run(_ context: ActionContext) throws -> ActionResult { .ok() }
}
