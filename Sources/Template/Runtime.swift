import Foundation
import OrderedCollections
import PGHACore

/// A failure while evaluating, with the line inside the template; the engine maps it to a PGHAError.
struct TemplateRuntimeError: Error {
    enum Kind { case undefined, template, recursion }
    var kind: Kind
    var message: String
    var line: Int

    static func template(_ message: String, line: Int = 0) -> TemplateRuntimeError {
        TemplateRuntimeError(kind: .template, message: message, line: line)
    }
}

/// Jinja2's Undefined: carries the message to raise when something actually uses it.
struct Undefined {
    var message: String
    /// Jinja's plain Undefined (an if-expression without else): renders as nothing inside text.
    var silent = false
    /// Template line of the expression that produced it, for the error raised when it is used.
    var line = 0
}

/// A run-time value: plain data, an undefined marker, or a callable/stateful object.
enum RV {
    case v(Value)
    case undefined(Undefined)
    case obj(RObject)

    static var none: RV { .v(.null) }

    var isUndefined: Bool { if case .undefined = self { return true } else { return false } }
}

/// Objects that exist only while rendering: macros, namespaces, the loop variable, bound methods.
class RObject {
    var typeName: String { "object" }
    func attribute(_ name: String) -> RV? { nil }
    func call(_ r: Renderer, _ args: [RV], _ kwargs: [(String, RV)], line: Int) throws -> RV {
        throw TemplateRuntimeError.template("'\(typeName)' object is not callable", line: line)
    }
    func setAttribute(_ name: String, _ value: RV) -> Bool { false }
    var asValue: Value? { nil }
}

final class NamespaceObject: RObject {
    var attrs: OrderedDictionary<String, RV> = [:]
    override var typeName: String { "Namespace" }
    override func attribute(_ name: String) -> RV? { attrs[name] }
    override func setAttribute(_ name: String, _ value: RV) -> Bool {
        attrs[name] = value
        return true
    }
}

final class BuiltinFunction: RObject {
    let name: String
    let body: (Renderer, [RV], [(String, RV)], Int) throws -> RV
    init(_ name: String, _ body: @escaping (Renderer, [RV], [(String, RV)], Int) throws -> RV) {
        self.name = name
        self.body = body
    }
    override var typeName: String { "builtin_function_or_method" }
    override func call(_ r: Renderer, _ args: [RV], _ kwargs: [(String, RV)], line: Int) throws -> RV {
        try body(r, args, kwargs, line)
    }
}

/// `obj.method` before it is called, e.g. `d.items()`, `s.split(',')`.
final class BoundMethod: RObject {
    let receiver: Value
    let name: String
    init(_ receiver: Value, _ name: String) {
        self.receiver = receiver
        self.name = name
    }
    override var typeName: String { "builtin_function_or_method" }
    override func call(_ r: Renderer, _ args: [RV], _ kwargs: [(String, RV)], line: Int) throws -> RV {
        let result = try Methods.call(r, receiver, name, args, kwargs, line: line)
        r.registerDerivedSecret(result, from: [.v(receiver)] + args + kwargs.map(\.1))
        return result
    }
}

final class LoopObject: RObject {
    var index0 = 0
    var length = 0
    var items: [Value] = []
    var depth0 = 0
    /// Set for `recursive` loops: calling `loop(children)` renders the body for the children.
    var recurse: (Renderer, Renderer.ForLoop)?
    override var typeName: String { "LoopContext" }
    override func call(_ r: Renderer, _ args: [RV], _ kwargs: [(String, RV)], line: Int) throws -> RV {
        guard let (renderer, spec) = recurse, let children = args.first else {
            throw TemplateRuntimeError.template("Tried to call non recursive loop.  Maybe you forgot the 'recursive' modifier.", line: line)
        }
        var out = ""
        renderer.captureDepth += 1
        defer { renderer.captureDepth -= 1 }
        try renderer.state.nested("recursive loop levels", line: line) {
            try renderer.renderLoop(spec, children, depth: depth0 + 1, into: &out)
        }
        return .v(.string(out))
    }
    override func attribute(_ name: String) -> RV? {
        switch name {
        case "index": return .v(.int(index0 + 1))
        case "index0": return .v(.int(index0))
        case "revindex": return .v(.int(length - index0))
        case "revindex0": return .v(.int(length - index0 - 1))
        case "first": return .v(.bool(index0 == 0))
        case "last": return .v(.bool(index0 == length - 1))
        case "length": return .v(.int(length))
        case "depth": return .v(.int(depth0 + 1))
        case "depth0": return .v(.int(depth0))
        case "previtem":
            return index0 > 0 ? .v(items[index0 - 1]) : .undefined(Undefined(message: "there is no previous item"))
        case "nextitem":
            return index0 + 1 < length ? .v(items[index0 + 1]) : .undefined(Undefined(message: "there is no next item"))
        case "cycle":
            let i = index0
            return .obj(BuiltinFunction("cycle") { _, args, _, line in
                guard !args.isEmpty else { throw TemplateRuntimeError.template("no items for cycling given", line: line) }
                return args[i % args.count]
            })
        case "changed":
            return nil
        default: return nil
        }
    }
}

/// A variable's list or dict that still contains templates: elements render on first access, the whole
/// value when something needs all of it (output, filters, iteration).
final class LazyContainer: RObject {
    let raw: Value
    let path: String
    let engine: TemplateEngine
    let variables: any TemplateVariables
    let state: ResolutionState
    let location: SourceLocation
    private var full: Value?
    private var elements: [String: RV] = [:]
    private var inProgress: Set<String> = []

    init(_ raw: Value, path: String, engine: TemplateEngine, variables: any TemplateVariables, state: ResolutionState, location: SourceLocation) {
        self.raw = raw
        self.path = path
        self.engine = engine
        self.variables = variables
        self.state = state
        self.location = location
    }

    override var typeName: String { raw.typeName }

    private func guarded<T>(_ key: String, line: Int, _ body: () throws -> T) throws -> T {
        guard !inProgress.contains(key) else {
            throw TemplateRuntimeError(
                kind: .recursion, message: "recursive loop detected in template: '\(path)\(key)' refers to itself", line: line)
        }
        inProgress.insert(key)
        defer { inProgress.remove(key) }
        return try body()
    }

    func resolve(line: Int) throws -> Value {
        if let full { return full }
        let value = try guarded("", line: line) {
            try engine.renderValueInternal(raw, variables: variables, state: state, location: location)
        }
        full = value
        return value
    }

    /// The element at `key` (string for dicts, integer for lists), or nil when there is none.
    func element(_ key: Value, line: Int) throws -> RV? {
        let element: Value
        let cacheKey: String
        switch (raw, key) {
        case (.dict(let d), .string(let k)):
            guard let e = d[k] else { return nil }
            element = e
            cacheKey = "." + k
        case (.list(let l), _):
            guard let i = Py.asInt(key) else { return nil }
            let index = i < 0 ? i + l.count : i
            guard index >= 0, index < l.count else { return nil }
            element = l[index]
            cacheKey = "[\(index)]"
        default:
            return nil
        }
        if let cached = elements[cacheKey] { return cached }
        let result: RV
        switch element {
        case .string(let s) where TemplateEngine.isTemplate(s):
            result = try Renderer.undefinedOnFailure {
                .v(try guarded(cacheKey, line: line) {
                    try engine.render(s, variables: variables, state: state, location: location)
                })
            }
        case .list, .dict:
            result = TemplateEngine.containsTemplate(element)
                ? .obj(LazyContainer(element, path: path + cacheKey, engine: engine, variables: variables, state: state, location: location))
                : .v(element)
        default:
            result = .v(element)
        }
        elements[cacheKey] = result
        return result
    }
}

/// A list literal with undefined items (`[a, b] | select('defined')`): usable by `length`, `select`
/// and `reject`; anything else that needs its items fails on the first undefined one, as in Ansible.
final class PartialList: RObject {
    let items: [RV]
    init(_ items: [RV]) { self.items = items }
    override var typeName: String { "list" }
}

final class MacroObject: RObject {
    let def: MacroDef
    /// Variables visible where the macro was defined (top-level template scope).
    let closure: [String: RV]
    var caller: RV?
    init(_ def: MacroDef, closure: [String: RV]) {
        self.def = def
        self.closure = closure
    }
    override var typeName: String { "Macro" }
    override func attribute(_ name: String) -> RV? {
        name == "name" ? .v(.string(def.name)) : nil
    }
    override func call(_ r: Renderer, _ args: [RV], _ kwargs: [(String, RV)], line: Int) throws -> RV {
        try r.callMacro(self, args, kwargs, line: line)
    }
}

// MARK: - Python value helpers

enum Py {
    /// Python's `str()` of a value.
    static func str(_ v: Value) -> String {
        switch v {
        case .string(let s): return s
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return floatRepr(d)
        case .list, .dict: return repr(v)
        }
    }

    static func floatRepr(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        return JSON.formatDouble(d)
    }

    /// Python's `repr()`.
    static func repr(_ v: Value) -> String {
        var out = ""
        writeRepr(v, into: &out)
        return out
    }

    static func writeRepr(_ v: Value, into out: inout String) {
        switch v {
        case .string(let s): out += reprString(s)
        case .list(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                writeRepr(item, into: &out)
            }
            out += "]"
        case .dict(let d):
            out += "{"
            var first = true
            for (k, value) in d {
                if !first { out += ", " }
                first = false
                out += reprString(k)
                out += ": "
                writeRepr(value, into: &out)
            }
            out += "}"
        default: out += str(v)
        }
    }

    static func reprString(_ s: String) -> String {
        let quote: Character = (s.contains("'") && !s.contains("\"")) ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(scalar) == quote {
                    out += "\\" + String(quote)
                } else if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\x%02x", scalar.value)
                } else if scalar.value >= 0x80 && scalar.value < 0xA0 {
                    out += String(format: "\\x%02x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append(quote)
        return out
    }

    static func isNumber(_ v: Value) -> Bool {
        switch v {
        case .int, .double, .bool: return true
        default: return false
        }
    }

    static func asDouble(_ v: Value) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Truncates like Python's int(); nil when the result does not fit in 64 bits (Python would use a bigint).
    static func truncate(_ d: Double) -> Int? {
        guard d.isFinite else { return nil }
        return Int(exactly: d.rounded(.towardZero))
    }

    static func asInt(_ v: Value) -> Int? {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Python `==`: numbers compare across int/float/bool, containers compare deeply.
    static func equals(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.null, .null): return true
        case (.list(let x), .list(let y)):
            guard x.count == y.count else { return false }
            for i in 0..<x.count where !equals(x[i], y[i]) { return false }
            return true
        case (.dict(let x), .dict(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x {
                guard let w = y[k], equals(v, w) else { return false }
            }
            return true
        default:
            if let x = asInt(a), let y = asInt(b) { return x == y }
            if let x = asDouble(a), let y = asDouble(b) { return x == y }
            return false
        }
    }

    /// Python ordering; nil when the types cannot be ordered.
    static func compare(_ a: Value, _ b: Value) -> Int? {
        switch (a, b) {
        case (.string(let x), .string(let y)):
            // Python compares code points, not Unicode collation.
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars, by: { $0.value < $1.value })
                ? -1 : (x == y ? 0 : 1)
        case (.list(let x), .list(let y)):
            for i in 0..<min(x.count, y.count) {
                guard let c = compare(x[i], y[i]) else { return nil }
                if c != 0 { return c }
            }
            return x.count < y.count ? -1 : (x.count == y.count ? 0 : 1)
        default:
            if let x = asInt(a), let y = asInt(b) { return x < y ? -1 : (x == y ? 0 : 1) }
            if let x = asDouble(a), let y = asDouble(b) { return x < y ? -1 : (x == y ? 0 : 1) }
            return nil
        }
    }

    static func typeName(_ v: Value) -> String { v.typeName }

    static func length(_ v: Value) -> Int? {
        switch v {
        case .string(let s): return s.unicodeScalars.count
        case .list(let l): return l.count
        case .dict(let d): return d.count
        default: return nil
        }
    }

    /// Iterating a value as Python does (dicts yield keys, strings yield characters).
    static func iterate(_ v: Value) -> [Value]? {
        switch v {
        case .list(let l): return l
        case .dict(let d): return d.keys.map { .string($0) }
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        default: return nil
        }
    }

    static func contains(_ container: Value, _ item: Value) -> Bool? {
        switch container {
        case .string(let s):
            guard case .string(let sub) = item else { return nil }
            return sub.isEmpty || s.contains(sub)
        case .list(let l): return l.contains { equals($0, item) }
        case .dict(let d):
            guard case .string(let k) = item else { return false }
            return d[k] != nil
        default: return nil
        }
    }

    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
    }

    static func mod(_ a: Int, _ b: Int) -> Int {
        let r = a % b
        return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r
    }

    static func fmod(_ a: Double, _ b: Double) -> Double {
        let r = a.truncatingRemainder(dividingBy: b)
        return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r
    }

    static func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }

    static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: scalars)
        return String(v)
    }

    /// Python's slice index normalisation for `seq[start:stop:step]`.
    static func sliceIndices(count: Int, start: Int?, stop: Int?, step: Int) -> [Int] {
        var result: [Int] = []
        if step > 0 {
            var s = start ?? 0
            var e = stop ?? count
            if s < 0 { s = max(0, s + count) }
            if e < 0 { e = max(0, e + count) }
            s = min(s, count)
            e = min(e, count)
            var i = s
            while i < e { result.append(i); i += step }
        } else {
            var s = start ?? count - 1
            var e = stop ?? -count - 1
            if s < 0 { s += count }
            if e < 0 { e += count }
            s = min(s, count - 1)
            var i = s
            while i > e && i >= 0 { result.append(i); i += step }
        }
        return result
    }

    /// Ansible's `bool` filter / boolean() conversion.
    static func ansibleBool(_ v: Value) -> Bool {
        switch v {
        case .bool(let b): return b
        case .null: return false
        case .int(let i): return i == 1
        case .double(let d): return d == 1.0
        case .string(let s):
            return ["yes", "on", "1", "true"].contains(s.lowercased().trimmingCharacters(in: .whitespaces))
        default: return false
        }
    }
}
