import OrderedCollections
import PGHACore

/// The arguments a module accepts, checked before any host is touched.
public struct ArgumentSpec: Sendable {
    public enum Kind: Sendable, Equatable {
        case string, bool, int, float, path, list, dict, raw
        /// File permissions: octal (0644, "0644") or symbolic ("u=rw,g=r").
        case mode
        /// A string from a fixed set.
        case choice([String])
    }

    public struct Argument: Sendable {
        public var name: String
        public var kind: Kind
        public var required: Bool
        public var defaultValue: Value?
        public var aliases: [String]
        /// Never shown in output (passwords).
        public var secret: Bool

        public init(
            _ name: String, _ kind: Kind, required: Bool = false, default defaultValue: Value? = nil,
            aliases: [String] = [], secret: Bool = false
        ) {
            self.name = name
            self.kind = kind
            self.required = required
            self.defaultValue = defaultValue
            self.aliases = aliases
            self.secret = secret
        }
    }

    public var arguments: [Argument]
    /// Accepts free-form text (`command: ls -l`), delivered as `_raw_params`.
    public var freeForm: Bool
    public var mutuallyExclusive: [[String]]
    public var requiredOneOf: [[String]]

    public init(
        _ arguments: [Argument], freeForm: Bool = false, mutuallyExclusive: [[String]] = [],
        requiredOneOf: [[String]] = []
    ) {
        self.arguments = arguments
        self.freeForm = freeForm
        self.mutuallyExclusive = mutuallyExclusive
        self.requiredOneOf = requiredOneOf
    }
}

/// Arguments after validation: canonical names, defaults applied, types converted.
public struct ModuleArguments: Sendable {
    public var values: OrderedDictionary<String, Value>

    public init(_ values: OrderedDictionary<String, Value>) {
        self.values = values
    }

    public subscript(name: String) -> Value? {
        guard let value = values[name], !value.isNull else { return nil }
        return value
    }

    public func string(_ name: String) -> String? {
        switch self[name] {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return JSON.formatDouble(d)
        case .bool(let b): return b ? "True" : "False"
        default: return nil
        }
    }

    public func bool(_ name: String) -> Bool? { self[name]?.boolValue }
    public func int(_ name: String) -> Int? { self[name]?.intValue }
}
