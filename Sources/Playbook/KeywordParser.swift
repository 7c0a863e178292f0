import Foundation
import OrderedCollections
import PGHACore

/// Keyword values shared by plays, blocks, tasks and role entries: booleans, integers, tag and
/// condition lists, vars mappings, the inheritable keywords.
struct KeywordParser {
    let session: LoadSession

    /// Keywords every level (play, role entry, block, task) passes down, stored in `Keywords`.
    static let inheritableKeywords: Set<String> = [
        "tags", "become", "become_user", "become_method", "become_flags", "become_exe", "ignore_errors",
        "ignore_unreachable", "check_mode", "diff", "no_log", "environment", "run_once", "any_errors_fatal",
        "remote_user", "connection", "port", "throttle", "timeout", "module_defaults", "debugger", "collections",
    ]

    /// Parses one inheritable keyword (plus `when`, `vars`, `delegate_to` where the caller allows
    /// them) into `keywords`; false when `key` is none of them.
    func commonKeyword(_ key: String, _ node: YAMLNode, into keywords: inout Keywords) throws -> Bool {
        switch key {
        case "when": keywords.when += try conditions(node, keyword: key)
        case "tags":
            var seen = Set(keywords.tags)
            keywords.tags += try tags(node).filter { seen.insert($0).inserted }
        case "become": keywords.become = try boolish(node, keyword: key)
        case "become_user": keywords.becomeUser = try scalarValue(node, keyword: key)
        case "become_method": keywords.becomeMethod = try scalarValue(node, keyword: key)
        case "ignore_errors": keywords.ignoreErrors = try boolish(node, keyword: key)
        case "ignore_unreachable": keywords.ignoreUnreachable = try boolish(node, keyword: key)
        case "check_mode": keywords.checkMode = try boolish(node, keyword: key)
        case "diff": keywords.diff = try boolish(node, keyword: key)
        case "no_log": keywords.noLog = try boolish(node, keyword: key)
        case "run_once": keywords.runOnce = try boolish(node, keyword: key)
        case "any_errors_fatal": keywords.anyErrorsFatal = try boolish(node, keyword: key)
        case "delegate_to": keywords.delegateTo = try scalarValue(node, keyword: key)
        case "environment":
            switch node.content {
            case .scalar where node.scalarValue.isNull: break
            case .mapping: keywords.environment.append(node.value)
            case .sequence(let items):
                for item in items where !item.scalarValue.isNull || !item.isScalar {
                    guard item.isMapping || (item.scalarValue.stringValue.map(Diagnostics.isTemplated) ?? false) else {
                        throw Diagnostics.error(
                            "'environment' entries must be mappings, got \(Diagnostics.describe(item))", at: item.location)
                    }
                    keywords.environment.append(item.value)
                }
            case .scalar:
                guard let text = node.scalarValue.stringValue, Diagnostics.isTemplated(text) else {
                    throw Diagnostics.error(
                        "'environment' must be a mapping of variable names to values, got \(Diagnostics.describe(node))",
                        at: node.location)
                }
                keywords.environment.append(.string(text))
            }
        case "vars":
            for (name, value) in try varsMapping(node, keyword: key) { keywords.vars[name] = value }
        case "become_flags", "become_exe", "remote_user", "connection", "debugger":
            if let value = try scalarValue(node, keyword: key) { keywords.extra[key] = value }
        case "port", "throttle", "timeout":
            if let value = try intish(node, keyword: key) { keywords.extra[key] = value }
        case "module_defaults":
            guard node.isMapping || node.isSequence || node.scalarValue.isNull else {
                throw Diagnostics.error("'module_defaults' must be a mapping, got \(Diagnostics.describe(node))", at: node.location)
            }
            if !node.scalarValue.isNull || !node.isScalar { keywords.extra[key] = node.value }
        case "collections":
            // Where short role names are looked for first; tasks and run-time includes inherit it.
            let names = try stringList(node, keyword: key, splitCommas: false)
            if !names.isEmpty { keywords.extra[key] = .list(names.map(Value.string)) }
        default:
            return false
        }
        return true
    }

    /// `when:`-style conditions: a string, a boolean, or a list of those.
    func conditions(_ node: YAMLNode, keyword: String) throws -> [Expression] {
        func one(_ item: YAMLNode) throws -> Expression? {
            guard item.isScalar else {
                throw Diagnostics.error(
                    "'\(keyword)' conditions must be expressions, got \(Diagnostics.describe(item))", at: item.location,
                    hint: item.isMapping ? "quote a condition containing ': ' so YAML does not read it as a mapping" : nil)
            }
            switch item.scalarValue {
            case .null: return nil
            case .bool(let b): return Expression(b ? "True" : "False", at: item.location)
            case .string(let s):
                if s.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
                if s.contains("{{") && s.contains("}}") {
                    session.warn("conditionals should not contain '{{ }}' delimiters: '\(s)'", at: item.location)
                }
                return Expression(s, at: item.location)
            default: return Expression(item.scalarText ?? "", at: item.location)
            }
        }
        if let items = node.sequenceItems { return try items.compactMap(one) }
        return try one(node).map { [$0] } ?? []
    }

    /// `tags:` as a string (commas split), a number, or a list.
    func tags(_ node: YAMLNode) throws -> [String] {
        try stringList(node, keyword: "tags", splitCommas: true)
    }

    func stringList(_ node: YAMLNode, keyword: String, splitCommas: Bool) throws -> [String] {
        func one(_ item: YAMLNode) throws -> [String] {
            guard item.isScalar else {
                throw Diagnostics.error(
                    "'\(keyword)' entries must be strings, got \(Diagnostics.describe(item))", at: item.location)
            }
            if item.scalarValue.isNull { return [] }
            let text = item.scalarValue.stringValue ?? item.keyString
            guard splitCommas else { return [text] }
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let items = node.sequenceItems { return try items.flatMap(one) }
        if node.isMapping {
            throw Diagnostics.error("'\(keyword)' must be a string or a list, got a mapping", at: node.location)
        }
        return try one(node)
    }

    /// A variables mapping (or, with `allowList`, a list of mappings as plays accept).
    func varsMapping(_ node: YAMLNode, keyword: String, allowList: Bool = false) throws -> OrderedDictionary<String, Value> {
        var result = OrderedDictionary<String, Value>()
        func add(_ mapping: YAMLNode) throws {
            for entry in session.entries(of: mapping) {
                guard Diagnostics.isValidVariableName(entry.key) else {
                    throw Diagnostics.error(
                        "'\(entry.key)' is not a valid variable name", at: entry.keyNode.location,
                        hint: "variable names are letters, digits and underscores, not starting with a digit")
                }
                result[entry.key] = entry.value.value
            }
        }
        switch node.content {
        case .mapping: try add(node)
        case .scalar where node.scalarValue.isNull: break
        case .sequence(let items) where allowList:
            for item in items {
                guard item.isMapping else {
                    throw Diagnostics.error(
                        "'\(keyword)' list entries must be mappings, got \(Diagnostics.describe(item))", at: item.location)
                }
                try add(item)
            }
        default:
            throw Diagnostics.error(
                "'\(keyword)' must be a mapping\(allowList ? " or a list of mappings" : ""), got \(Diagnostics.describe(node))",
                at: node.location)
        }
        return result
    }

    /// A boolean keyword: a boolean, a string Ansible's boolean conversion accepts, or a template.
    func boolish(_ node: YAMLNode, keyword: String) throws -> Value? {
        let accepted: Set<String> = ["yes", "no", "true", "false", "on", "off", "y", "n", "t", "f", "1", "0"]
        if node.isScalar {
            switch node.scalarValue {
            case .null: return nil
            case .bool(let b): return .bool(b)
            case .int(let i) where i == 0 || i == 1: return .bool(i == 1)
            case .string(let s) where Diagnostics.isTemplated(s): return .string(s)
            case .string(let s) where accepted.contains(s.lowercased()):
                return .bool(["yes", "true", "on", "y", "t", "1"].contains(s.lowercased()))
            default: break
            }
        }
        throw Diagnostics.error(
            "'\(keyword)' must be a boolean, got " + (node.scalarText.map { "'\($0)'" } ?? Diagnostics.describe(node)),
            at: node.location)
    }

    func intish(_ node: YAMLNode, keyword: String) throws -> Value? {
        if node.isScalar {
            switch node.scalarValue {
            case .null: return nil
            case .int(let i): return .int(i)
            case .string(let s) where Diagnostics.isTemplated(s): return .string(s)
            case .string(let s) where Int(s.trimmingCharacters(in: .whitespaces)) != nil:
                return .int(Int(s.trimmingCharacters(in: .whitespaces))!)
            default: break
            }
        }
        throw Diagnostics.error(
            "'\(keyword)' must be an integer, got " + (node.scalarText.map { "'\($0)'" } ?? Diagnostics.describe(node)),
            at: node.location)
    }

    /// A scalar keyword value (string, number, or null).
    func scalarValue(_ node: YAMLNode, keyword: String) throws -> Value? {
        guard node.isScalar else {
            throw Diagnostics.error("'\(keyword)' must be a string, got \(Diagnostics.describe(node))", at: node.location)
        }
        if node.scalarValue.isNull { return nil }
        if case .bool = node.scalarValue { return .string(node.scalarText ?? "") }
        return node.scalarValue.stringValue.map(Value.string) ?? .string(node.keyString)
    }

    func nameText(_ node: YAMLNode) throws -> String? {
        guard node.isScalar else {
            throw Diagnostics.error("'name' must be a string, got \(Diagnostics.describe(node))", at: node.location)
        }
        if node.scalarValue.isNull { return nil }
        return node.scalarValue.stringValue ?? node.scalarText
    }

    func numberish(_ node: YAMLNode, keyword: String) throws -> Value? {
        if case .double(let d) = node.scalarValue, node.isScalar { return .double(d) }
        return try intish(node, keyword: keyword)
    }

    func handlerNames(_ node: YAMLNode, keyword: String) throws -> [(String, SourceLocation)] {
        let items: [YAMLNode]
        switch node.content {
        case .scalar where node.scalarValue.isNull: return []
        case .scalar: items = [node]
        case .sequence(let list): items = list
        case .mapping:
            throw Diagnostics.error("'\(keyword)' must be a handler name or a list of them, got a mapping", at: node.location)
        }
        return try items.map { item in
            guard item.isScalar, !item.scalarValue.isNull else {
                throw Diagnostics.error(
                    "'\(keyword)' entries must be handler names, got \(Diagnostics.describe(item))", at: item.location)
            }
            return (item.scalarValue.stringValue ?? item.keyString, item.location)
        }
    }
}
