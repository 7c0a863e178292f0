import Foundation
import OrderedCollections
import PGHACore

extension ArgumentSpec {
    /// Checks a task's arguments and converts them as Ansible's argument spec does.
    ///
    /// - Parameters:
    ///   - args: the arguments as written (aliases allowed).
    ///   - module: the module's name as the task wrote it (for messages).
    ///   - locations: where each argument was written, keyed by the name as written.
    ///   - taskLocation: used for problems that belong to no single argument (missing, required-one-of).
    ///   - allowTemplates: the static pass before templating: values still containing `{{`/`{%` are
    ///     accepted as they are (their type is checked again after rendering).
    /// - Returns: canonical names, defaults applied, values converted (`"yes"` to true, `"42"` to 42,
    ///   `"a,b"` to a list, `"0644"` to 420).
    public func validate(
        _ args: OrderedDictionary<String, Value>, module: String, locations: [String: SourceLocation],
        taskLocation: SourceLocation, allowTemplates: Bool
    ) throws -> ModuleArguments {
        var canonicalOf: [String: String] = [:]
        for argument in arguments {
            canonicalOf[argument.name] = argument.name
            for alias in argument.aliases { canonicalOf[alias] = argument.name }
        }
        if freeForm != .none { canonicalOf["_raw_params"] = canonicalOf["_raw_params"] ?? "_raw_params" }

        func location(_ written: String) -> SourceLocation { locations[written] ?? taskLocation }
        func fail(_ message: String, _ written: String?, hint: String? = nil) -> PGHAError {
            PGHAError(
                .semantic, "module '\(module)': \(message)", at: written.map(location) ?? taskLocation, hint: hint)
        }

        var values = OrderedDictionary<String, Value>()
        var writtenAs: [String: String] = [:]
        for (written, value) in args {
            // Ansible passes its own bookkeeping keys to every module.
            if written.hasPrefix("_ansible_") { continue }
            guard let canonical = canonicalOf[written] else {
                if acceptsOtherArguments {
                    values[written] = value
                    writtenAs[written] = written
                    continue
                }
                let known = canonicalOf.keys.filter { !$0.hasPrefix("_") }.sorted()
                var hint = "supported arguments: " + known.joined(separator: ", ")
                if let guess = closestName(to: written, among: known) { hint = "did you mean '\(guess)'? " + hint }
                throw fail("unsupported argument '\(written)'", written, hint: hint)
            }
            if let earlier = writtenAs[canonical] {
                throw fail("argument '\(written)' and '\(earlier)' are the same option; give only one", written)
            }
            writtenAs[canonical] = written
            values[canonical] = value
        }

        func given(_ name: String) -> Bool { values[name].map { !$0.isNull } ?? false }

        for group in mutuallyExclusive {
            let present = group.filter(given)
            if present.count > 1 {
                // Point at whichever of them was written last: that is where the conflict appears.
                let name =
                    args.keys.last(where: { canonicalOf[$0].map(present.contains) ?? false })
                    .flatMap { canonicalOf[$0] } ?? present[1]
                throw fail(
                    "arguments are mutually exclusive: \(group.joined(separator: "|")) ('\(present.joined(separator: "' and '"))' given)",
                    writtenAs[name])
            }
        }
        let missing = arguments.filter { $0.required && !given($0.name) }.map(\.name)
        if !missing.isEmpty {
            throw fail("missing required arguments: \(missing.joined(separator: ", "))", nil)
        }
        for group in requiredOneOf where !group.contains(where: given) {
            throw fail("one of the following is required: \(group.joined(separator: ", "))", nil)
        }

        var result = OrderedDictionary<String, Value>()
        for argument in arguments {
            guard let value = values[argument.name], !value.isNull else {
                if let defaultValue = argument.defaultValue { result[argument.name] = defaultValue }
                continue
            }
            let written = writtenAs[argument.name] ?? argument.name
            if allowTemplates && value.containsTemplate {
                result[argument.name] = value
                continue
            }
            do {
                result[argument.name] = try convert(value, to: argument.kind)
            } catch let problem as ConversionProblem {
                throw fail("argument '\(written)': \(problem.message)", written)
            }
        }
        if freeForm != .none, argument(named: "_raw_params") == nil, let raw = values["_raw_params"] {
            result["_raw_params"] = raw
        }
        if acceptsOtherArguments {
            for (name, value) in values where argument(named: name) == nil && name != "_raw_params" { result[name] = value }
        }
        return ModuleArguments(result, spec: self, module: module)
    }
}

package struct ConversionProblem: Error {
    package var message: String

    package init(message: String) {
        self.message = message
    }
}

extension Value {
    /// Python's str() of a scalar, as Ansible's str conversion produces it.
    package var pythonString: String? {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return JSON.formatDouble(d)
        case .bool(let b): return b ? "True" : "False"
        case .null: return "None"
        default: return nil
        }
    }
}

/// Ansible's BOOLEANS_TRUE / BOOLEANS_FALSE.
package func ansibleBool(_ value: Value) -> Bool? {
    switch value {
    case .bool(let b): return b
    case .int(let i): return i == 1 ? true : i == 0 ? false : nil
    case .double(let d): return d == 1 ? true : d == 0 ? false : nil
    case .string(let s):
        switch s.lowercased() {
        case "y", "yes", "on", "1", "true", "t": return true
        case "n", "no", "off", "0", "false", "f": return false
        default: return nil
        }
    default: return nil
    }
}

package func convert(_ value: Value, to kind: ArgumentSpec.Kind) throws -> Value {
    switch kind {
    case .raw:
        return value
    case .string, .path:
        guard let s = value.pythonString else {
            throw ConversionProblem(message: "expected a string, got \(value.typeName)")
        }
        return .string(s)
    case .bool:
        guard let b = ansibleBool(value) else {
            throw ConversionProblem(
                message: "the value \(JSON.encode(value)) is not a valid boolean; use true/false (or yes/no)")
        }
        return .bool(b)
    case .int:
        switch value {
        case .int: return value
        case .double(let d) where d == d.rounded() && abs(d) < 9e18: return .int(Int(d))
        case .string(let s):
            if let i = Int(s.trimmingCharacters(in: .whitespaces)) { return .int(i) }
        default: break
        }
        throw ConversionProblem(message: "\(JSON.encode(value)) (\(value.typeName)) cannot be converted to an int")
    case .float:
        switch value {
        case .double: return value
        case .int(let i): return .double(Double(i))
        case .string(let s):
            if let d = Double(s.trimmingCharacters(in: .whitespaces)) { return .double(d) }
        default: break
        }
        throw ConversionProblem(message: "\(JSON.encode(value)) (\(value.typeName)) cannot be converted to a float")
    case .list:
        switch value {
        case .list: return value
        case .string(let s):
            return .list(s.split(separator: ",", omittingEmptySubsequences: false).map { .string(String($0)) })
        case .int, .double: return .list([.string(value.pythonString!)])
        default: throw ConversionProblem(message: "\(value.typeName) cannot be converted to a list")
        }
    case .dict:
        switch value {
        case .dict: return value
        case .string(let s):
            let trimmed = s.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("{"), let parsed = try? JSON.decode(trimmed), case .dict = parsed { return parsed }
            // Ansible also accepts "k1=v1, k2=v2".
            var dict = OrderedDictionary<String, Value>()
            for pair in trimmed.split(whereSeparator: { $0 == "," || $0 == " " }) where !pair.isEmpty {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else {
                    throw ConversionProblem(message: "'\(s)' cannot be converted to a dict")
                }
                dict[String(parts[0])] = .string(String(parts[1]))
            }
            return .dict(dict)
        default: throw ConversionProblem(message: "\(value.typeName) cannot be converted to a dict")
        }
    case .mode:
        return try FileMode.normalize(value)
    case .choice(let choices):
        guard let s = value.pythonString, value.listValue == nil else {
            throw ConversionProblem(message: "expected one of: \(choices.joined(separator: ", "))")
        }
        if choices.contains(s) { return .string(s) }
        // YAML 1.1 turns `state: yes` into a bool; Ansible matches it against yes/no style choices.
        if case .bool(let b) = value {
            for candidate in b ? ["yes", "true", "on"] : ["no", "false", "off"] where choices.contains(candidate) {
                return .string(candidate)
            }
        }
        throw ConversionProblem(
            message: "value must be one of: \(choices.joined(separator: ", ")), got: \(s)")
    }
}

/// The nearest known name within two edits (or sharing a prefix), for "did you mean".
package func closestName(to name: String, among candidates: [String]) -> String? {
    var best: (String, Int)?
    for candidate in candidates {
        let distance = editDistance(name.lowercased(), candidate.lowercased())
        if distance <= max(2, candidate.count / 4), best == nil || distance < best!.1 { best = (candidate, distance) }
    }
    return best?.0
}

package func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        previous = current
    }
    return previous[b.count]
}
