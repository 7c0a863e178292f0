import OrderedCollections

/// A variable's value, as YAML, JSON, Jinja2 and module results see it.
///
/// Dictionaries keep insertion order (Python 3.7+ semantics, which Ansible relies on for output).
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    case dict(OrderedDictionary<String, Value>)

    public static let emptyDict: Value = .dict([:])

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var intValue: Int? { if case .int(let i) = self { return i } else { return nil } }
    public var listValue: [Value]? { if case .list(let l) = self { return l } else { return nil } }
    public var dictValue: OrderedDictionary<String, Value>? {
        if case .dict(let d) = self { return d } else { return nil }
    }

    public subscript(key: String) -> Value? {
        if case .dict(let d) = self { return d[key] }
        return nil
    }

    /// Python's truthiness: empty containers, "", 0 and None are false.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let l): return !l.isEmpty
        case .dict(let d): return !d.isEmpty
        }
    }

    /// The name Ansible/Python uses for this value's type (for error messages and `type_debug`).
    public var typeName: String {
        switch self {
        case .null: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .list: return "list"
        case .dict: return "dict"
        }
    }

    /// Recursive merge as Ansible's `combine(recursive=True)`: dicts merge key by key, anything else
    /// is replaced by `other`.
    public func merged(with other: Value, recursive: Bool = true) -> Value {
        guard case .dict(var mine) = self, case .dict(let theirs) = other else { return other }
        for (key, value) in theirs {
            if recursive, let existing = mine[key] {
                mine[key] = existing.merged(with: value, recursive: true)
            } else {
                mine[key] = value
            }
        }
        return .dict(mine)
    }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral,
    ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: Value...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        var d = OrderedDictionary<String, Value>()
        for (k, v) in elements { d[k] = v }
        self = .dict(d)
    }
    public init(nilLiteral: ()) { self = .null }
}
