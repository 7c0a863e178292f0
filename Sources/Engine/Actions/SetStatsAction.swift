import Declarations

/// `set_stats`: accepted and ignored (there is no stats callback to receive the data).
enum SetStatsAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "set_stats",
        arguments: ArgumentSpec([
            .init("data", .dict, required: true, help: "Accepted and not recorded."),
            .init("per_host", .bool, default: false, help: "Accepted."),
            .init("aggregate", .bool, default: true, help: "Accepted."),
        ]),
        documentation: ActionDocumentation(
            "Define and display stats for the current ansible run",
            details: ["Its arguments are checked; the data is not recorded or shown in the recap."],
            examples: """
                - name: Count the deployments
                  ansible.builtin.set_stats:
                    data:
                      deployments: 1
                """))

    static func run(_ context: ActionContext) throws -> ActionResult {
        _ = try context.checkedArguments(declaration)
        return .ok()
    }
}
