import Declarations
import OrderedCollections
import PGHACore
import Playbook

/// `assert`: every condition in `that` must hold.
enum AssertAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "assert",
        arguments: ArgumentSpec([
            .init("that", .list, required: true, help: "Conditions (as in `when`) that must all hold."),
            .init(
                "fail_msg", .raw, default: "Assertion failed", aliases: ["msg"], help: "The message when one does not."),
            .init("success_msg", .raw, default: "All assertions passed", help: "The message when all hold."),
            .init("quiet", .bool, default: false, help: "Accepted; the result is printed at -v as always."),
        ]),
        documentation: ActionDocumentation(
            "Asserts given expressions are true",
            examples: """
                - name: The cluster has an odd number of etcd members
                  ansible.builtin.assert:
                    that:
                      - groups['etcd'] | length is odd
                    fail_msg: "etcd needs an odd number of members, got {{ groups['etcd'] | length }}"
                """))

    static func run(_ context: ActionContext) throws -> ActionResult {
        let args = context.task.args
        let allowed: Set<String> = ["that", "msg", "fail_msg", "success_msg", "quiet"]
        if let unknown = args.keys.first(where: { !allowed.contains($0) }) {
            throw PGHAError(.semantic, "assert: unsupported parameter '\(unknown)'", at: context.task.location)
        }
        guard let that = args["that"] else {
            throw PGHAError(.semantic, "assert: missing required argument 'that'", at: context.task.location)
        }
        let conditions: [Value] = that.listValue ?? [that]
        for condition in conditions {
            let expression: Bool
            switch condition {
            case .bool(let b): expression = b
            default:
                expression = try context.templating.evaluate(
                    Expression(Templating.display(condition), at: context.task.location), context.variables)
            }
            if !expression {
                let messageValue = args["fail_msg"] ?? args["msg"] ?? "Assertion failed"
                let message = try context.templating.render(messageValue, context.variables, at: context.task.location)
                return .failed(
                    Templating.display(message),
                    ["assertion": condition, "evaluated_to": false])
            }
        }
        let success = try context.templating.render(
            args["success_msg"] ?? "All assertions passed", context.variables, at: context.task.location)
        return .ok(["msg": success])
    }
}
