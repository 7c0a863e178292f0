import OrderedCollections
import PGHACore

/// `debug`: prints a message or a variable.
enum DebugAction {
    static func run(_ context: ActionContext) throws -> ActionResult {
        let args = context.task.args
        if let unknown = args.keys.first(where: { !["msg", "var", "verbosity"].contains($0) }) {
            throw PGHAError(.semantic, "debug: unsupported parameter '\(unknown)'", at: context.task.location)
        }
        if args["msg"] != nil && args["var"] != nil {
            throw PGHAError(.semantic, "debug: 'msg' and 'var' are mutually exclusive", at: context.task.location)
        }
        if let verbosity = args["verbosity"]?.intValue, verbosity > context.options.verbosity {
            return ActionResult([
                "changed": false, "skipped_reason": "Verbosity threshold not met.", "skipped": true,
            ])
        }
        var result = ActionResult.ok()
        result.verboseAlways = true
        if let variable = args["var"] {
            let name = Templating.display(variable)
            let value: Value
            do {
                value = try context.templating.render(.string("{{ \(name) }}"), context.variables, at: context.task.location)
            } catch let error as PGHAError where error.kind == .undefinedVariable {
                result.values[name] = "VARIABLE IS NOT DEFINED!"
                return result
            }
            result.values[name] = value
        } else {
            let rendered = try context.renderedArguments()
            result.values["msg"] = rendered["msg"] ?? "Hello world!"
        }
        return result
    }
}
