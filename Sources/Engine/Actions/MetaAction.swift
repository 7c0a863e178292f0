import Declarations
import PGHACore

/// `meta`: acts on the play rather than on a host (flush handlers, end the play or a host, ...);
/// the play executor performs it (`PlayExecution.runMeta`).
enum MetaAction: EngineAction {
    /// Every meta action Ansible knows.
    static let actions = [
        "noop", "flush_handlers", "refresh_inventory", "clear_facts", "clear_host_errors", "end_play", "end_host",
        "end_batch", "end_role", "reset_connection", "role_complete",
    ]
    /// Those that are evaluated once for the batch, not per host.
    static let runOncePerBatch: Set<String> = ["end_play", "end_batch", "clear_host_errors", "refresh_inventory"]

    static let declaration = ActionDeclaration.engineAction(
        "meta",
        arguments: ArgumentSpec(
            [.init("_raw_params", .choice(actions), required: true, help: "The meta action, as free-form text.")],
            freeForm: .text),
        documentation: ActionDocumentation(
            "Execute Ansible 'actions'",
            details: [
                "end_role, refresh_inventory and noop do nothing; role_complete is accepted by the loader and fails "
                    + "when it runs."
            ],
            examples: """
                - name: Restart what was notified before going on
                  ansible.builtin.meta: flush_handlers

                - name: Nothing more for hosts that are not in the cluster
                  ansible.builtin.meta: end_host
                  when: inventory_hostname not in groups['postgres']
                """))

    static func run(_ context: ActionContext) throws -> ActionResult {
        // The play executor intercepts meta tasks before they reach a host.
        throw PGHAError(.semantic, "meta actions are performed by the play, not on a host", at: context.task.location)
    }
}
