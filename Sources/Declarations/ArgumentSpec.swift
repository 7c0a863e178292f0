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
        /// What `pgha-play doc` says about it.
        public var help: String?

        public init(
            _ name: String, _ kind: Kind, required: Bool = false, default defaultValue: Value? = nil,
            aliases: [String] = [], secret: Bool = false, help: String? = nil
        ) {
            self.name = name
            self.kind = kind
            self.required = required
            self.defaultValue = defaultValue
            self.aliases = aliases
            self.secret = secret
            self.help = help
        }
    }

    /// How text written after the action's name is read; it arrives as `_raw_params`.
    public enum FreeForm: Sendable, Equatable {
        /// None: only `key=value` text or a mapping.
        case none
        /// Text such as a file name (`include_tasks: x.yml`, `meta: flush_handlers`).
        case text
        /// A command line (`command: chdir=/tmp ls -l`): Ansible's `parse_kv(check_raw=True)` keeps
        /// anything that is not one of the command options in the text.
        case commandLine
    }

    public var arguments: [Argument]
    public var freeForm: FreeForm
    /// Any other argument name is accepted as it is (set_fact's variables, add_host's host vars).
    public var acceptsOtherArguments: Bool
    public var mutuallyExclusive: [[String]]
    public var requiredOneOf: [[String]]

    public init(
        _ arguments: [Argument], freeForm: FreeForm = .none, acceptsOtherArguments: Bool = false,
        mutuallyExclusive: [[String]] = [], requiredOneOf: [[String]] = []
    ) {
        self.arguments = arguments
        self.freeForm = freeForm
        self.acceptsOtherArguments = acceptsOtherArguments
        self.mutuallyExclusive = mutuallyExclusive
        self.requiredOneOf = requiredOneOf
    }

    /// The argument declared as `name` (its canonical name, not an alias).
    public func argument(named name: String) -> Argument? { arguments.first { $0.name == name } }
}

/// Arguments after validation: canonical names, defaults applied, types converted.
///
/// Reads are typed: `string`, `bool` and `int` for arguments that may be absent; `requiredString`,
/// `requiredBool` and `requiredInt` for those the spec requires or gives a default. A guaranteed
/// read is checked against the spec the arguments were validated with: a name the spec does not
/// declare, or one it does not guarantee, throws a `PGHAError` naming the module and the argument,
/// so a module bug fails its task instead of crashing the run. (`DeclarationTests` checks every
/// read in the module library against its module's spec.)
public struct ModuleArguments: Sendable {
    public var values: OrderedDictionary<String, Value>
    /// The spec these arguments were validated against (nil: built by hand, reads are not checked).
    public let spec: ArgumentSpec?
    /// The module's name, for errors.
    public let module: String

    public init(_ values: OrderedDictionary<String, Value>, spec: ArgumentSpec? = nil, module: String = "") {
        self.values = values
        self.spec = spec
        self.module = module
    }

    public subscript(name: String) -> Value? {
        guard let value = values[name], !value.isNull else { return nil }
        return value
    }

    public func string(_ name: String) -> String? { self[name]?.pythonString }
    public func bool(_ name: String) -> Bool? { self[name]?.boolValue }
    public func int(_ name: String) -> Int? { self[name]?.intValue }

    /// An argument the spec requires or gives a default, so validation guarantees its value.
    public func required(_ name: String) throws -> Value {
        if let spec {
            guard let argument = spec.argument(named: name) else {
                throw misuse("reads '\(name)', which its spec does not declare")
            }
            guard argument.required || argument.defaultValue != nil else {
                throw misuse("reads '\(name)' as always given, but its spec neither requires it nor gives a default")
            }
        }
        guard let value = self[name] else { throw misuse("argument '\(name)' is missing after validation") }
        return value
    }

    public func requiredString(_ name: String) throws -> String {
        guard let text = try required(name).pythonString else { throw misuse("argument '\(name)' is not text") }
        return text
    }

    public func requiredBool(_ name: String) throws -> Bool {
        guard let flag = try required(name).boolValue else { throw misuse("argument '\(name)' is not a boolean") }
        return flag
    }

    public func requiredInt(_ name: String) throws -> Int {
        guard let number = try required(name).intValue else { throw misuse("argument '\(name)' is not an integer") }
        return number
    }

    private func misuse(_ message: String) -> PGHAError {
        PGHAError(
            .execution, "module '\(module)' \(message)", hint: "this is a bug in pgha-play's module, not in the task")
    }
}
