import Declarations
import OrderedCollections
import PGHACore

/// `debug`: prints a message or a variable.
enum DebugAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "debug",
        arguments: ArgumentSpec(
            [
                .init("msg", .raw, default: "Hello world!", help: "The message to print."),
                .init("var", .string, help: "A variable name (or expression) to print, unrendered as written."),
                .init("verbosity", .int, default: 0, help: "Print only when run with at least this many -v."),
            ], mutuallyExclusive: [["msg", "var"]]),
        documentation: ActionDocumentation(
            "Print statements during execution",
            examples: """
                - name: Show a computed value
                  ansible.builtin.debug:
                    msg: "the leader is {{ leader }}"

                - name: Show a registered result at -v
                  ansible.builtin.debug:
                    var: members.stdout_lines
                    verbosity: 1
                """))

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
