import Declarations
import PGHACore

/// `gather_facts`: what a play's fact gathering runs; the same as `setup`.
enum GatherFactsAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "gather_facts",
        arguments: ArgumentSpec(
            SetupAction.declaration.arguments.arguments + [
                .init("parallel", .bool, help: "Accepted; hosts are always gathered in parallel.")
            ]),
        documentation: ActionDocumentation(
            "Gathers facts about remote hosts",
            examples: """
                - name: Gather facts in a play that turned gathering off
                  ansible.builtin.gather_facts:
                """))

    static func run(_ context: ActionContext) async throws -> ActionResult {
        try await SetupAction.run(context)
    }
}
