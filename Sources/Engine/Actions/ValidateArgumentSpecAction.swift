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
            details: ["Its own arguments are checked; the role's arguments are not validated against the spec."],
            examples: """
                - name: Check the role's arguments
                  ansible.builtin.validate_argument_spec:
                    argument_spec:
                      cluster_name:
                        type: str
                        required: true
                """))

    static func run(_ context: ActionContext) throws -> ActionResult {
        _ = try context.checkedArguments(declaration)
        return .ok()
    }
}
