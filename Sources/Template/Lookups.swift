import Foundation
import OrderedCollections
import PGHACore

/// What a lookup plugin may use: the engine (to render files), the variables and where the call is.
public struct LookupContext: Sendable {
    /// The engine running the template (for plugins that render files).
    public var engine: TemplateEngine
    /// The variables of the calling template.
    public var variables: any TemplateVariables
    /// Where the calling template is, for error messages.
    public var location: SourceLocation
}

/// `lookup('name', ...)`, `query('name', ...)` and `q(...)`. Return the plugin's list of results;
/// the engine turns it into `lookup`'s comma-joined/single value or `query`'s list.
public protocol TemplateLookups: Sendable {
    /// Runs `plugin` (possibly collection-qualified, e.g. `ansible.builtin.file`) on `terms` with keyword
    /// `options`; throws PGHAError for unknown plugins or failures.
    func run(_ plugin: String, terms: [Value], options: OrderedDictionary<String, Value>, context: LookupContext) throws -> [Value]
}

/// `env`, `file`, `template`, `items`/`list`, resolving relative paths against `searchPaths` in order.
public struct DefaultLookups: TemplateLookups {
    /// Directories searched in order (each also through its `files/` and `templates/` subdirectories).
    public var searchPaths: [String]
    /// Reads a file for `file` and `template`; the engine sets it to decrypt vaulted files, as
    /// Ansible's file lookup does. Nil reads the file as it is.
    public var readFile: (@Sendable (String) throws -> String)?

    /// Lookups resolving relative paths against `searchPaths`, then the current directory.
    public init(searchPaths: [String] = []) { self.searchPaths = searchPaths }

    /// The existing file `path` names, or nil.
    public func resolve(_ path: String) -> String? {
        if path.hasPrefix("/") || ContentSource.isBuiltin(path) { return ContentSource.exists(path) ? path : nil }
        for base in searchPaths {
            for candidate in [base + "/files/" + path, base + "/templates/" + path, base + "/" + path]
            where ContentSource.exists(candidate) {
                return candidate
            }
        }
        let cwd = FileManager.default.currentDirectoryPath + "/" + path
        return FileManager.default.fileExists(atPath: cwd) ? cwd : nil
    }

    /// Supports `env`, `file`, `template`, `items`/`list`/`flattened` and `vars`.
    public func run(_ plugin: String, terms: [Value], options: OrderedDictionary<String, Value>, context: LookupContext) throws -> [Value] {
        switch TemplateEngine.shortName(plugin) {
        case "env":
            let env = ProcessInfo.processInfo.environment
            let fallback = options["default"] ?? .string("")
            return terms.map { env[Py.str($0)].map { .string($0) } ?? fallback }
        case "file", "template":
            var out: [Value] = []
            for term in terms {
                let name = Py.str(term)
                guard let path = resolve(name) else {
                    throw PGHAError(
                        .template, "lookup('\(plugin)'): could not find file '\(name)'", at: context.location,
                        hint: "searched: \(searchPaths.joined(separator: ", "))")
                }
                var text: String
                if let readFile {
                    text = try readFile(path)
                } else if let bytes = ContentSource.contents(path), let plain = String(validating: bytes, as: UTF8.self) {
                    text = plain
                } else {
                    throw PGHAError(.io, "lookup('\(plugin)'): cannot read '\(path)'", at: context.location)
                }
                if plugin.hasSuffix("template") {
                    text = try context.engine.renderFile(
                        text, variables: context.variables, location: SourceLocation(file: path))
                } else if options["rstrip"].map({ Py.ansibleBool($0) }) ?? true {
                    while let last = text.unicodeScalars.last, last.properties.isWhitespace { text.unicodeScalars.removeLast() }
                }
                out.append(.string(text))
            }
            return out
        case "items", "list", "flattened":
            return terms.flatMap { $0.listValue ?? [$0] }
        case "vars":
            return try terms.map { term in
                let name = Py.str(term)
                guard let raw = context.variables.lookup(name) else {
                    if let fallback = options["default"] { return fallback }
                    throw PGHAError(.undefinedVariable, "No variable found with this name: \(name)", at: context.location)
                }
                return try context.engine.renderValue(raw, variables: context.variables, location: context.location)
            }
        default:
            throw PGHAError(.template, "lookup plugin '\(plugin)' not found", at: context.location)
        }
    }
}

/// Jinja2 and Ansible global functions.
enum Globals {
    nonisolated(unsafe) static let table: [String: RV] = {
        var t: [String: RV] = [:]
        t["range"] = .obj(BuiltinFunction("range") { r, args, _, line in
            let c = Call(renderer: r, args: args, kwargs: [], line: line, name: "range")
            var start = 0, stop = 0, step = 1
            switch args.count {
            case 1: stop = try c.int(0) ?? 0
            case 2: start = try c.int(0) ?? 0; stop = try c.int(1) ?? 0
            case 3: start = try c.int(0) ?? 0; stop = try c.int(1) ?? 0; step = try c.int(2) ?? 1
            default: throw c.error("range expected 1 to 3 arguments, got \(args.count)")
            }
            guard step != 0 else { throw c.error("range() arg 3 must not be zero") }
            var out: [Value] = []
            var i = start
            while step > 0 ? i < stop : i > stop {
                out.append(.int(i))
                i += step
                if out.count > 1_000_000 { throw c.error("range too big") }
            }
            return .v(.list(out))
        })
        t["now"] = .obj(BuiltinFunction("now", DateTimeObject.now))
        t["dict"] = .obj(BuiltinFunction("dict") { r, args, kwargs, line in
            var d = OrderedDictionary<String, Value>()
            if let first = args.first {
                let v = try r.value(first, line: line)
                if case .dict(let existing) = v { d = existing }
                else if case .list(let pairs) = v {
                    for p in pairs {
                        guard case .list(let kv) = p, kv.count == 2 else {
                            throw TemplateRuntimeError.template("dictionary update sequence element has wrong length", line: line)
                        }
                        d[kv[0].stringValue ?? Py.str(kv[0])] = kv[1]
                    }
                }
            }
            for (k, v) in kwargs { d[k] = try r.value(v, line: line) }
            return .v(.dict(d))
        })
        t["namespace"] = .obj(BuiltinFunction("namespace") { r, args, kwargs, line in
            let ns = NamespaceObject()
            if let first = args.first, case .dict(let d) = try r.value(first, line: line) {
                for (k, v) in d { ns.attrs[k] = .v(v) }
            }
            for (k, v) in kwargs { ns.attrs[k] = v }
            return .obj(ns)
        })
        let lookup: (Bool) -> RV = { isQuery in
            .obj(BuiltinFunction(isQuery ? "query" : "lookup") { r, args, kwargs, line in
                guard let first = args.first else {
                    throw TemplateRuntimeError.template("lookup requires a plugin name", line: line)
                }
                let plugin = Py.str(try r.value(first, line: line))
                var terms: [Value] = []
                for a in args.dropFirst() { terms.append(try r.value(a, line: line)) }
                var options = OrderedDictionary<String, Value>()
                var wantList = isQuery
                var errors = "strict"
                for (k, v) in kwargs {
                    if k == "wantlist" { wantList = try r.value(v, line: line).isTruthy; continue }
                    if k == "errors" { errors = Py.str(try r.value(v, line: line)); continue }
                    options[k] = try r.value(v, line: line)
                }
                guard ["strict", "warn", "ignore"].contains(errors) else {
                    throw TemplateRuntimeError.template("lookup errors must be strict, warn or ignore, not '\(errors)'", line: line)
                }
                let context = LookupContext(engine: r.engine, variables: r.variables, location: r.location)
                let results: [Value]
                do {
                    results = try r.engine.lookups.run(plugin, terms: terms, options: options, context: context)
                } catch where errors != "strict" {
                    // As Ansible: a failed lookup gives None (lookup) or [] (query) instead of an error.
                    return wantList ? .v(.list([])) : .none
                }
                if wantList { return .v(.list(results)) }
                if results.count == 1 { return .v(results[0]) }
                if results.allSatisfy({ $0.stringValue != nil }) {
                    return .v(.string(results.map { Py.str($0) }.joined(separator: ",")))
                }
                return .v(.list(results))
            })
        }
        t["lookup"] = lookup(false)
        t["query"] = lookup(true)
        t["q"] = lookup(true)
        return t
    }()
}
