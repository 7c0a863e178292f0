import Foundation
import OrderedCollections
import Yams

/// A YAML node that remembers where it was written, so every later error can point at it.
public struct YAMLNode: Sendable {
    public indirect enum Content: Sendable {
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        case mapping([(key: YAMLNode, value: YAMLNode)])
    }

    public var content: Content
    public var location: SourceLocation
    /// An explicit tag such as `!vault` or `!unsafe`; nil for the core schema's implicit tags.
    public var customTag: String?
    /// The scalar resolved as Ansible's YAML loader does (YAML 1.1: yes/no/on/off, 0644 = 420).
    public var scalarValue: Value

    public init(content: Content, location: SourceLocation, customTag: String? = nil, scalarValue: Value = .null) {
        self.content = content
        self.location = location
        self.customTag = customTag
        self.scalarValue = scalarValue
    }

    public var isMapping: Bool { if case .mapping = content { return true } else { return false } }
    public var isSequence: Bool { if case .sequence = content { return true } else { return false } }
    public var isScalar: Bool { if case .scalar = content { return true } else { return false } }

    /// The scalar's text as written (nil for collections).
    public var scalarText: String? { if case .scalar(let s, _) = content { return s } else { return nil } }

    /// Mapping entries with `<<` merge keys expanded (explicit keys win over merged ones).
    public var mappingEntries: [(key: String, keyNode: YAMLNode, value: YAMLNode)]? {
        guard case .mapping(let pairs) = content else { return nil }
        var explicit: [(String, YAMLNode, YAMLNode)] = []
        var merged: [(String, YAMLNode, YAMLNode)] = []
        for (keyNode, valueNode) in pairs {
            let key = keyNode.keyString
            if key == "<<" && keyNode.customTag == nil && keyNode.isPlainScalar {
                let sources: [YAMLNode] = valueNode.isSequence ? (valueNode.sequenceItems ?? []) : [valueNode]
                for source in sources {
                    for entry in source.mappingEntries ?? [] where !merged.contains(where: { $0.0 == entry.key }) {
                        merged.append((entry.key, entry.keyNode, entry.value))
                    }
                }
            } else {
                explicit.append((key, keyNode, valueNode))
            }
        }
        var result = explicit
        for entry in merged where !explicit.contains(where: { $0.0 == entry.0 }) { result.append(entry) }
        return result.map { (key: $0.0, keyNode: $0.1, value: $0.2) }
    }

    public var sequenceItems: [YAMLNode]? { if case .sequence(let items) = content { return items } else { return nil } }

    /// Looks up a mapping key (after merge-key expansion).
    public subscript(key: String) -> YAMLNode? {
        mappingEntries?.first(where: { $0.key == key })?.value
    }

    var isPlainScalar: Bool { if case .scalar(_, let plain) = content { return plain } else { return false } }

    /// A mapping key as Python would stringify it (`1` -> "1", `true` -> "True", null -> "None").
    public var keyString: String {
        switch scalarValue {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        case .double(let d): return JSON.formatDouble(d)
        case .null: return isScalar ? "None" : (scalarText ?? "")
        default: return scalarText ?? ""
        }
    }

    /// The node as a plain value (merge keys expanded). Secrets keep their text: callers that care
    /// consult `secretPaths` or `customTag`.
    public var value: Value {
        switch content {
        case .scalar:
            // `!unsafe` text is never templated: keep it literal through every later rendering.
            if customTag == "!unsafe", case .string(let text) = scalarValue,
                text.contains("{{") || text.contains("{%") || text.contains("{#")
            {
                return .string("{% raw %}" + text + "{% endraw %}")
            }
            return scalarValue
        case .sequence(let items): return .list(items.map(\.value))
        case .mapping:
            var dict = OrderedDictionary<String, Value>()
            for entry in mappingEntries ?? [] { dict[entry.key] = entry.value.value }
            return .dict(dict)
        }
    }

    /// True when this node or any node below it carries a `!vault` tag.
    public var containsSecret: Bool {
        if customTag == "!vault" { return true }
        switch content {
        case .scalar: return false
        case .sequence(let items): return items.contains(where: \.containsSecret)
        case .mapping(let pairs): return pairs.contains(where: { $0.value.containsSecret })
        }
    }
}

/// Reads YAML files with Ansible's scalar semantics and keeps line/column marks.
public enum YAMLLoader {
    /// All documents of a YAML text; an empty text gives no documents.
    public static func loadAll(_ text: String, file: String) throws -> [YAMLNode] {
        let byteCount = text.utf8.count
        if byteCount > InputLimits.maxYAMLBytes {
            throw InputFile.tooLarge(file, size: byteCount, limit: InputLimits.maxYAMLBytes, what: "YAML document")
        }
        do {
            // The default resolver runs several regular expressions per scalar only to pick an implicit
            // tag; `resolve` decides the type itself, so the regex-free resolver is enough.
            let parser = try Parser(yaml: text, resolver: .basic, constructor: .default, encoding: .utf8)
            var documents: [YAMLNode] = []
            var budget = NodeBudget(remaining: InputLimits.maxYAMLNodes(forBytes: byteCount))
            while let node = try parser.nextRoot() {
                documents.append(try convert(node, file: file, budget: &budget))
            }
            return documents
        } catch let error as YamlError {
            throw translate(error, file: file, text: text)
        }
    }

    /// The single document of a YAML text (nil when the text is empty or only comments).
    public static func load(_ text: String, file: String) throws -> YAMLNode? {
        let documents = try loadAll(text, file: file)
        if documents.count > 1 {
            throw PGHAError(
                .syntax, "expected a single YAML document but found \(documents.count)",
                at: documents[1].location)
        }
        return documents.first
    }

    public static func load(contentsOf path: String) throws -> YAMLNode? {
        try load(InputFile.readText(path, limit: InputLimits.maxYAMLBytes, what: "YAML file"), file: path)
    }

    /// Nodes left to build: libyaml hands back an alias as the anchored node itself, so a few
    /// hundred bytes of nested aliases ("billion laughs") would otherwise expand to billions.
    struct NodeBudget {
        var remaining: Int
        let total: Int

        init(remaining: Int) {
            self.remaining = remaining
            self.total = remaining
        }

        mutating func spend(at location: SourceLocation) throws {
            remaining -= 1
            guard remaining < 0 else { return }
            throw PGHAError(
                .syntax,
                "YAML: the document expands to more than \(total) nodes through its aliases (*name); refused",
                at: location,
                hint: "an anchor referenced inside other anchors multiplies at each level (a 'billion laughs' document)"
            ).withSourceLine()
        }
    }

    private static func convert(_ node: Node, file: String, budget: inout NodeBudget, isKey: Bool = false) throws -> YAMLNode {
        let location = SourceLocation(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
        try budget.spend(at: location)
        switch node {
        case .scalar(let scalar):
            let written = scalar.tag.description
            let custom = written.hasPrefix("tag:yaml.org,2002:") || written == "!" || written.isEmpty ? nil : written
            let plain = scalar.style == .plain || scalar.style == .any
            // Yams resolves the tag of a mapping key in place when it hashes the key (its `Tag` is a
            // class), which leaves plain keys marked `str`: they are resolved as written instead.
            let tag = isKey && plain && written == "tag:yaml.org,2002:str" ? "" : written
            let value: Value
            if custom != nil || tag == "!" {
                value = .string(scalar.string)
            } else {
                do {
                    value = try YAMLScalarResolver.value(of: scalar.string, tag: tag, isKey: isKey)
                } catch {
                    throw PGHAError(.syntax, "YAML: \(error.message)", at: location).withSourceLine()
                }
            }
            return YAMLNode(
                content: .scalar(scalar.string, plain: plain), location: location, customTag: custom, scalarValue: value)
        case .sequence(let sequence):
            return YAMLNode(
                content: .sequence(try sequence.map { try convert($0, file: file, budget: &budget) }), location: location,
                customTag: customTag(sequence.tag))
        case .mapping(let mapping):
            return YAMLNode(
                content: .mapping(
                    try mapping.map {
                        (key: try convert($0.key, file: file, budget: &budget, isKey: true), value: try convert($0.value, file: file, budget: &budget))
                    }),
                location: location, customTag: customTag(mapping.tag))
        case .alias:
            return YAMLNode(content: .scalar("", plain: true), location: location, scalarValue: .null)
        }
    }

    private static func customTag(_ tag: Tag) -> String? {
        let text = tag.description
        return text.hasPrefix("tag:yaml.org,2002:") || text == "!" || text.isEmpty ? nil : text
    }

    private static func translate(_ error: YamlError, file: String, text: String) -> PGHAError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            if problem.contains("Maximum nesting level") {
                return PGHAError(
                    .syntax, "YAML: nested more than \(InputLimits.maxYAMLDepth) levels deep; refused",
                    at: SourceLocation(file: file, line: mark.line, column: mark.column)
                ).withSourceLine()
            }
            var message = problem
            if let context { message = "\(context.text) \(problem)".trimmingCharacters(in: .whitespaces) }
            return PGHAError(.syntax, "YAML: \(message)", at: SourceLocation(file: file, line: mark.line, column: mark.column))
                .withSourceLine()
        case .composer(let context, let problem, let mark, _):
            var message = problem
            if let context { message = "\(context.text) \(problem)" }
            return PGHAError(.syntax, "YAML: \(message)", at: SourceLocation(file: file, line: mark.line, column: mark.column))
                .withSourceLine()
        default:
            return PGHAError(.syntax, "YAML: \(error)", at: SourceLocation(file: file))
        }
    }
}
