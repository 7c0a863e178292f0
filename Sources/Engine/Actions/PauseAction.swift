import Declarations
import Foundation
import PGHACore

/// `pause`: waits seconds/minutes (prompting is not supported: runs are unattended).
enum PauseAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "pause",
        arguments: ArgumentSpec(
            [
                .init("seconds", .raw, help: "How long to wait, in seconds."),
                .init("minutes", .raw, help: "How long to wait, in minutes."),
                .init("prompt", .string, help: "Not supported without seconds or minutes: runs are unattended."),
                .init("echo", .bool, default: true, help: "Accepted; nothing is read from the terminal."),
            ], mutuallyExclusive: [["minutes", "seconds"]]),
        documentation: ActionDocumentation(
            "Pause playbook execution",
            examples: """
                - name: Give the replicas time to catch up
                  ansible.builtin.pause:
                    seconds: 10
                """))

    static func run(_ context: ActionContext) async throws -> ActionResult {
        let args = try context.renderedArguments()
        var seconds = 0.0
        if let value = args["seconds"] { seconds += Double(Templating.display(value)) ?? 0 }
        if let value = args["minutes"] { seconds += (Double(Templating.display(value)) ?? 0) * 60 }
        if args["prompt"] != nil && seconds == 0 {
            throw PGHAError(.semantic, "pause: prompts are not supported; give seconds or minutes", at: context.task.location)
        }
        let start = Date()
        if seconds > 0 { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }
        return .ok([
            "delta": .int(Int(Date().timeIntervalSince(start))), "echo": true, "rc": 0, "stderr": "", "stdout": .string(
                "Paused for \(seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)) seconds"),
            "user_input": "",
        ])
    }
}
