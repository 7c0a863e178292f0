import OrderedCollections
import PGHACore

/// A role's `meta/argument_specs.yml` entry point (or any `validate_argument_spec` spec) checked as
/// ansible-core's ArgumentSpecValidator checks role arguments: types converted the way module
/// arguments are (`'5'` is an int, `'a,b'` a list), `required`, `choices`, `elements` and nested
/// `options`, aliases and the dependency rules (`mutually_exclusive`, `required_together`,
/// `required_one_of`, `required_if`, `required_by`). Names the spec does not declare are allowed,
/// as for roles. The result is the list of problems, in Ansible's words.
struct RoleArgumentSpec {
    let options: OrderedDictionary<String, Value>

    init(_ options: OrderedDictionary<String, Value>) {
        self.options = options
    }

    func errors(for values: OrderedDictionary<String, Value>) -> [String] {
        var errors: [String] = []
        check(values, spec: options, rules: [:], context: "", errors: &errors)
        return errors
    }

    /// `rules`: the attributes of the option whose sub-options these are (its
    /// `mutually_exclusive`, `required_if`, ...); an entry point's own rules are not passed to
    /// the validator by Ansible, only its `options`.
    private func check(
        _ given: OrderedDictionary<String, Value>, spec: OrderedDictionary<String, Value>,
        rules: OrderedDictionary<String, Value>, context: String, errors: inout [String]
    ) {
        let suffix = context.isEmpty ? "" : " found in \(context)"
        var values = given
        // Aliases name the same option.
        for (name, attributes) in spec {
            for alias in attributes["aliases"]?.listValue?.compactMap(\.stringValue) ?? [] where values[name] == nil {
                if let value = values[alias] { values[name] = value }
            }
        }
        let present = { (name: String) -> Bool in values[name].map { !$0.isNull } ?? false }
        func groups(_ key: String) -> [[Value]] { rules[key]?.listValue?.compactMap(\.listValue) ?? [] }
        func names(_ key: String) -> [[String]] { groups(key).map { $0.compactMap(\.stringValue) } }

        for group in names("mutually_exclusive") where group.filter(present).count > 1 {
            errors.append("parameters are mutually exclusive: \(group.joined(separator: "|"))\(suffix)")
        }
        let missing = spec.compactMap { name, attributes -> String? in
            attributes["required"].map(Self.truthy) == true && !present(name) ? name : nil
        }
        if !missing.isEmpty { errors.append("missing required arguments: \(missing.joined(separator: ", "))\(suffix)") }
        for group in names("required_together") {
            let set = group.filter(present)
            if !set.isEmpty && set.count < group.count {
                errors.append("parameters are required together: \(group.joined(separator: ", "))\(suffix)")
            }
        }
        for group in names("required_one_of") where !group.contains(where: present) {
            errors.append("one of the following is required: \(group.joined(separator: ", "))\(suffix)")
        }
        for rule in groups("required_if") {
            guard rule.count >= 3, let key = rule[0].stringValue, let needed = rule[2].listValue?.compactMap(\.stringValue),
                let value = values[key], value == rule[1]
            else { continue }
            let anyOf = rule.count > 3 && Self.truthy(rule[3])
            let lacking = needed.filter { !present($0) }
            if anyOf ? lacking.count == needed.count : !lacking.isEmpty {
                errors.append(
                    "\(key) is \(Templating.display(rule[1])) but \(anyOf ? "any" : "all") of the following are missing: "
                        + lacking.joined(separator: ", ") + suffix)
            }
        }
        for (key, needed) in rules["required_by"]?.dictValue ?? [:] where present(key) {
            let lacking = (needed.listValue?.compactMap(\.stringValue) ?? needed.stringValue.map { [$0] } ?? []).filter { !present($0) }
            if !lacking.isEmpty {
                errors.append("missing parameter(s) required by '\(key)': \(lacking.joined(separator: ", "))\(suffix)")
            }
        }

        for (name, attributes) in spec {
            guard var value = values[name], !value.isNull else { continue }
            let type = attributes["type"]?.stringValue ?? "str"
            do {
                value = try Self.convert(value, to: type)
            } catch {
                errors.append(
                    "argument '\(name)' is of type \(value.typeName)\(suffix) and we were unable to convert to \(type): \(error.message)")
                continue
            }
            if let choices = attributes["choices"]?.listValue {
                let chosen = value.listValue ?? [value]
                if type == "list" {
                    let invalid = chosen.filter { !choices.contains($0) }
                    if !invalid.isEmpty {
                        errors.append(
                            "value of \(name) must be one or more of: \(Self.joined(choices)). Got no match for: \(Self.joined(invalid))\(suffix)")
                    }
                } else if !choices.contains(value) {
                    errors.append("value of \(name) must be one of: \(Self.joined(choices)), got: \(Templating.display(value))\(suffix)")
                }
            }
            if type == "list", let elementType = attributes["elements"]?.stringValue, case .list(let items) = value {
                var converted: [Value] = []
                for item in items {
                    do {
                        converted.append(try Self.convert(item, to: elementType))
                    } catch {
                        errors.append(
                            "Elements value for option '\(name)'\(suffix) is of type \(item.typeName) and we were unable to convert to \(elementType): \(error.message)")
                    }
                }
                value = .list(converted)
            }
            // Nested options: a dictionary, or each dictionary of a list.
            if let nested = attributes["options"]?.dictValue {
                let where_ = context.isEmpty ? name : "\(context).\(name)"
                switch value {
                case .dict(let dict): check(dict, spec: nested, rules: attributes.dictValue ?? [:], context: where_, errors: &errors)
                case .list(let items):
                    for case .dict(let dict) in items {
                        check(dict, spec: nested, rules: attributes.dictValue ?? [:], context: where_, errors: &errors)
                    }
                default: break
                }
            }
        }
    }

    struct ConversionError: Error {
        var message: String
    }

    /// Ansible's `check_type_*` for the role spec types.
    static func convert(_ value: Value, to type: String) throws(ConversionError) -> Value {
        switch type {
        case "str", "path", "raw", "jsonarg", "json":
            if type == "raw" { return value }
            if case .string = value { return value }
            return .string(Templating.display(value))
        case "int":
            switch value {
            case .int: return value
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d) where d == d.rounded(): return .int(Int(d))
            case .string(let s): if let i = Int(s.trimmingCharacters(in: .whitespaces)) { return .int(i) }
            default: break
            }
            throw ConversionError(message: "\"\(value.pythonRepr)\" cannot be converted to an int")
        case "float":
            switch value {
            case .double: return value
            case .int(let i): return .double(Double(i))
            case .string(let s): if let d = Double(s.trimmingCharacters(in: .whitespaces)) { return .double(d) }
            default: break
            }
            throw ConversionError(message: "\(value.typeName) cannot be converted to a float")
        case "bool":
            switch value {
            case .bool: return value
            case .int, .double, .string:
                let text = Templating.display(value).lowercased()
                if ["1", "1.0", "on", "y", "yes", "true", "t"].contains(text) { return .bool(true) }
                if ["0", "0.0", "off", "n", "no", "false", "f", ""].contains(text) { return .bool(false) }
                throw ConversionError(message: "The value '\(Templating.display(value))' is not a valid boolean.")
            default:
                throw ConversionError(message: "\(value.typeName) cannot be converted to a bool")
            }
        case "list":
            switch value {
            case .list: return value
            case .string(let s): return .list(s.split(separator: ",", omittingEmptySubsequences: false).map { .string(String($0)) })
            case .int, .double: return .list([.string(Templating.display(value))])
            default: throw ConversionError(message: "\(value.typeName) cannot be converted to a list")
            }
        case "dict":
            switch value {
            case .dict: return value
            case .string(let s) where s.hasPrefix("{"):
                if let parsed = try? JSON.decode(s), case .dict = parsed { return parsed }
                throw ConversionError(message: "unable to evaluate string as dictionary")
            case .string(let s) where s.contains("="):
                var dict = OrderedDictionary<String, Value>()
                for field in s.split(whereSeparator: { $0 == "," || $0 == " " }) {
                    let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else {
                        throw ConversionError(message: "unable to evaluate string in the \"key=value\" format as dictionary")
                    }
                    dict[parts[0]] = .string(parts[1])
                }
                return .dict(dict)
            case .string: throw ConversionError(message: "dictionary requested, could not parse JSON or key=value")
            default: throw ConversionError(message: "\(value.typeName) cannot be converted to a dict")
            }
        default:
            return value
        }
    }

    static func truthy(_ value: Value) -> Bool {
        switch value {
        case .bool(let b): return b
        case .string(let s): return ["yes", "true", "on", "1", "y", "t"].contains(s.lowercased())
        case .int(let i): return i != 0
        default: return false
        }
    }

    private static func joined(_ values: [Value]) -> String {
        values.map(Templating.display).joined(separator: ", ")
    }
}

