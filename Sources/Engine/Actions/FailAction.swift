import PGHACore

/// `fail`: stops the host with a message.
enum FailAction {
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
