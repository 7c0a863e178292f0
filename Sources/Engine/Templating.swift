import OrderedCollections
import PGHACore
import Playbook
import Template

/// The engine's single door to the Jinja2 engine: every rendering of task arguments, conditions
/// and keywords goes through here, so the rules (omit, native types, error locations) live in one place.
struct Templating: Sendable {
    let engine: TemplateEngine
    /// The placeholder `omit` renders to; arguments equal to it are dropped.
    static let omitToken = "__omit_place_holder__8f1c2d6a5b"

    init(engine: TemplateEngine = TemplateEngine()) {
        self.engine = engine
    }

    func render(_ value: Value, _ variables: VariableStack, at location: SourceLocation) throws -> Value {
        try engine.renderValue(value, variables: variables, location: location)
    }

    func renderString(_ text: String, _ variables: VariableStack, at location: SourceLocation) throws -> String {
        let rendered = try engine.render(text, variables: variables, location: location)
        return Self.display(rendered)
    }

    /// Renders task arguments and drops those set to `omit`.
    func renderArguments(
        _ args: OrderedDictionary<String, Value>, _ variables: VariableStack, at location: SourceLocation
    ) throws -> OrderedDictionary<String, Value> {
        var result = OrderedDictionary<String, Value>()
        for (key, value) in args {
            let rendered = try engine.renderValue(value, variables: variables, location: location)
            if case .string(let s) = rendered, s == Self.omitToken { continue }
            let renderedKey = key.containsBytes("{{") ? try renderString(key, variables, at: location) : key
            result[renderedKey] = Self.dropOmitted(rendered)
        }
        return result
    }

    private static func dropOmitted(_ value: Value) -> Value {
        switch value {
        case .dict(let dict):
            var out = OrderedDictionary<String, Value>()
            for (k, v) in dict {
                if case .string(let s) = v, s == omitToken { continue }
                out[k] = dropOmitted(v)
            }
            return .dict(out)
        case .list(let items):
            return .list(items.filter { $0 != .string(omitToken) }.map(dropOmitted))
        default:
            return value
        }
    }

    /// All conditions must hold (`when:` lists). A bare boolean is taken as is.
    func conditionsHold(_ conditions: [Expression], _ variables: VariableStack) throws -> (Bool, String?) {
        for condition in conditions {
            if try !evaluate(condition, variables) { return (false, condition.text) }
        }
        return (true, nil)
    }

    func evaluate(_ condition: Expression, _ variables: VariableStack) throws -> Bool {
        try engine.evaluateCondition(condition.text, variables: variables, location: condition.location)
    }

    /// Renders a keyword that should be a boolean (`become: "{{ x }}"`, `ignore_errors: yes`).
    func bool(_ value: Value?, _ variables: VariableStack, at location: SourceLocation) throws -> Bool? {
        guard let value else { return nil }
        let rendered = try render(value, variables, at: location)
        return Self.truthy(rendered)
    }

    /// Ansible's boolean conversion for keywords: yes/on/true/1 and their opposites.
    static func truthy(_ value: Value) -> Bool {
        switch value {
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s):
            return ["yes", "on", "true", "1", "y", "t"].contains(s.lowercased())
        case .null: return false
        case .list(let l): return !l.isEmpty
        case .dict(let d): return !d.isEmpty
        }
    }

    /// How a value prints inside text: Python's str(), as the template engine writes it.
    static func display(_ value: Value) -> String { value.pythonString }
}

extension Templating {
    /// A task's name as ansible-core 2.19 shows it: rendered with what the first host knows before
    /// the task runs, each `{{ }}` that cannot be rendered yet (a loop variable, say) replaced by
    /// `<< error N - MESSAGE >>`, and the messages for a warning.
    func renderName(_ name: String, _ variables: VariableStack, at location: SourceLocation) -> (name: String, errors: [String]) {
        guard TemplateEngine.isTemplate(name) else { return (name, []) }
        if let rendered = try? render(.string(name), variables, at: location) { return (Self.display(rendered), []) }
        var out = ""
        var errors: [String] = []
        var rest = Substring(name)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            out += rest[..<open.lowerBound]
            let expression = String(rest[open.lowerBound..<close.upperBound])
            do {
                out += Self.display(try render(.string(expression), variables, at: location))
            } catch {
                errors.append((error as? PGHAError)?.message ?? "\(error)")
                out += "<< error \(errors.count) - \(errors[errors.count - 1]) >>"
            }
            rest = rest[close.upperBound...]
        }
        return (out + rest, errors)
    }

    /// A template file as the `template` module renders it (trim_blocks on, trailing newline kept).
    func renderTemplateFile(_ text: String, _ variables: VariableStack, at location: SourceLocation) throws -> String {
        try engine.renderFile(text, variables: variables, location: location)
    }
}
