import Declarations

/// An action the engine performs itself: it needs the task's variables, the play or the inventory,
/// not just a connection to the host (debug, set_fact, include_tasks, add_host, ...).
///
/// Like a module, an engine action is one file holding its declaration and `run`, listed once in
/// `ActionRegistry.engineActions`.
protocol EngineAction: Sendable {
    static var declaration: ActionDeclaration { get }

    /// Runs on one host (or, for the inventory actions, for it), with the task's variables.
    static func run(_ context: ActionContext) async throws -> ActionResult
}

extension ActionDeclaration {
    /// An engine action's declaration: known as `ansible.builtin.NAME` and `ansible.legacy.NAME` too.
    ///
    /// Engine actions read their own arguments while they run (debug's `var` is not rendered,
    /// assert's `that` is evaluated), as Ansible's action plugins do; their argument spec is what
    /// `pgha-play doc` shows and the loader does not check it.
    static func engineAction(
        _ name: String, supportsCheckMode: Bool = true, arguments: ArgumentSpec, documentation: ActionDocumentation
    ) -> ActionDeclaration {
        ActionDeclaration(
            name: name, qualifiedNames: ["ansible.builtin." + name, "ansible.legacy." + name],
            supportsCheckMode: supportsCheckMode, argumentsCheckedWhenLoaded: false, arguments: arguments,
            documentation: documentation)
    }
}
