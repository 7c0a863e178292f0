import Declarations
import OrderedCollections
import PGHACore

/// Runs a task whose module pgha-play knows by name but does not implement (`UnsupportedActions`):
/// it fails with the task, where it was written and the nearest alternative. Tasks guarded by a
/// false `when:` never get here, so roles written for several kinds of hosts load and run.
enum UnsupportedAction: EngineAction {
    /// The first entry's declaration; `declarations` has one per entry.
    static var declaration: ActionDeclaration { declarations[0] }

    /// One declaration per unsupported module: its names, any arguments, and what to use instead.
    static let declarations: [ActionDeclaration] = UnsupportedActions.entries.map { entry in
        ActionDeclaration(
            name: entry.names[0], qualifiedNames: Array(entry.names.dropFirst()), supportsCheckMode: true,
            argumentsCheckedWhenLoaded: false, arguments: ArgumentSpec([], acceptsOtherArguments: true),
            documentation: ActionDocumentation(
                "Not supported by pgha-play: \(entry.summary.lowercased())",
                details: [
                    "A task that runs this module fails, naming the task and where it is written. Instead use "
                        + entry.alternative + "."
                ],
                examples: """
                    - name: Guarded by the host's kind, so it is skipped on Debian hosts
                      \(entry.names.last ?? entry.names[0]): {}
                      when: ansible_facts.os_family == 'NotDebian'
                    """))
    }

    static func run(_ context: ActionContext) async throws -> ActionResult {
        let task = context.task
        let name = task.actionAsWritten
        let message = UnsupportedActions.message(for: name) ?? UnsupportedActions.message(for: task.action)
            ?? "\(name) is not supported by pgha-play"
        return .failed("\(message) (task '\(task.name ?? name)' at \(task.location))")
    }
}
