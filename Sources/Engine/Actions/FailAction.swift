import Declarations
import PGHACore

/// `fail`: stops the host with a message.
enum FailAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "fail",
        arguments: ArgumentSpec([
            .init("msg", .raw, default: "Failed as requested from task", help: "The failure's message.")
        ]),
        documentation: ActionDocumentation(
            "Fail with custom message",
            examples: """
                - name: Refuse to run on an unsupported release
                  ansible.builtin.fail:
                    msg: "Debian 12 only, this is {{ ansible_distribution_release }}"
                  when: ansible_distribution_release != 'bookworm'
                """))

    static func run(_ context: ActionContext) throws -> ActionResult {
        let args = try context.renderedArguments()
        if let unknown = args.keys.first(where: { $0 != "msg" }) {
            throw PGHAError(.semantic, "fail: unsupported parameter '\(unknown)'", at: context.task.location)
        }
        let message = args["msg"] ?? "Failed as requested from task"
        var result = ActionResult.failed(Templating.display(message))
        result.values["msg"] = message
        return result
    }
}
