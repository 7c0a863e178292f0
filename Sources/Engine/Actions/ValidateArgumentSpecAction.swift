import Declarations
import OrderedCollections
import PGHACore

/// `validate_argument_spec`: checks arguments against a spec, as a role's `meta/argument_specs.yml`
/// is checked by the task the loader puts first in the role ("Validating arguments against arg
/// spec 'main'"). The spec's options take their values from the task's variables, then from
/// `provided_arguments` (the role's parameters), which win.
enum ValidateArgumentSpecAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "validate_argument_spec",
        arguments: ArgumentSpec([
            .init("argument_spec", .dict, required: true, help: "The options: names with type, required, choices, elements, options, ..."),
            .init("provided_arguments", .dict, help: "Values to check; variables of the same names are checked otherwise."),
            .init("validate_args_context", .dict, help: "What is validated (set for roles); returned as is."),
        ]),
        documentation: ActionDocumentation(
            "Validate role argument specs",
            details: [
                "Types are converted as module arguments are ('5' is an int); names the spec does not declare are allowed.",
                "Roles with meta/argument_specs.yml get this task first, unless include_role or import_role says rolespec_validate: false.",
            ],
            examples: """
                - name: Check the role's arguments
                  ansible.builtin.validate_argument_spec:
                    argument_spec:
                      cluster_name:
                        type: str
                        required: true
                """))

    static func run(_ context: ActionContext) throws -> ActionResult {
        let raw = context.task.args
        // The spec is data, descriptions included: rendered only when it is one template.
        var specValue = raw["argument_spec"] ?? .null
        if case .string = specValue { specValue = try context.templating.render(specValue, context.variables, at: context.task.location) }
        guard case .dict(let spec) = specValue else {
            throw PGHAError(.semantic, "Incorrect type for argument_spec, expected dict and got \(specValue.typeName)", at: context.task.location)
        }
        let provided = try context.templating.render(raw["provided_arguments"] ?? .dict([:]), context.variables, at: context.task.location)
        guard case .dict(let providedArguments) = provided else {
            throw PGHAError(.semantic, "Incorrect type for provided_arguments, expected dict and got \(provided.typeName)", at: context.task.location)
        }
        var values = OrderedDictionary<String, Value>()
        for name in spec.keys {
            if let value = context.variables.lookup(name) {
                values[name] = try context.templating.render(value, context.variables, at: context.task.location)
            }
        }
        for (name, value) in providedArguments { values[name] = value }
        var result = ActionResult.ok()
        result.values["validate_args_context"] = raw["validate_args_context"] ?? .dict([:])
        let errors = RoleArgumentSpec(spec).errors(for: values)
        guard errors.isEmpty else {
            result.values["failed"] = true
            result.values["msg"] = .string("Validation of arguments failed:\n" + errors.joined(separator: "\n"))
            result.values["argument_spec_data"] = .dict(spec)
            result.values["argument_errors"] = .list(errors.map(Value.string))
            return result
        }
        result.values["msg"] = "The arg spec validation passed"
        return result
    }
}
