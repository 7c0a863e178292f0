import Foundation
import OrderedCollections
import PGHACore

/// State shared by a render and the nested renders of lazily templated variables: resolved-variable cache
/// and the recursion guard.
final class ResolutionState {
    var resolved: [String: RV] = [:]
    var inProgress: [String] = []
    /// Macro calls, includes, recursive loops and variables resolving through other variables
    /// under way: each is a nested render on the stack, so their depth is bounded.
    var nesting = 0
    static let maxNesting = 100

    /// Runs `body` one nesting level deeper, refusing to go past `maxNesting`.
    func nested<T>(_ what: @autoclosure () -> String, line: Int, _ body: () throws -> T) throws -> T {
        guard nesting < Self.maxNesting else {
            throw TemplateRuntimeError(
                kind: .recursion,
                message: "maximum recursion depth exceeded: more than \(Self.maxNesting) nested \(what())",
                line: line)
        }
        nesting += 1
        defer { nesting -= 1 }
        return try body()
    }
}

/// Walks a compiled template. One instance per render; not shared between threads.
final class Renderer {
    let engine: TemplateEngine
    let variables: any TemplateVariables
    let state: ResolutionState
    let location: SourceLocation
    /// Innermost scope last.
    var scopes: [[String: RV]] = [[:]]
    /// Output pieces written at top level (not captured by set/filter blocks or macros), so a template whose
    /// only output is one expression can yield that expression's native value (Jinja's native_concat).
    var chunkCount = 0
    var firstChunk: RV?
    var captureDepth = 0

    init(engine: TemplateEngine, variables: any TemplateVariables, state: ResolutionState, location: SourceLocation) {
        self.engine = engine
        self.variables = variables
        self.state = state
        self.location = location
    }

    // MARK: - Statements

    func render(_ nodes: [Node], into out: inout String) throws {
        for node in nodes { try render(node, into: &out) }
    }

    func render(_ node: Node, into out: inout String) throws {
        switch node {
        case .text(let s):
            if captureDepth == 0 && !s.isEmpty { chunkCount += 1 }
            out += s
        case .output(let e, let line):
            let rv = try eval(e)
            // None is no output at all (Ansible's concat drops it): `{{ l.append(1) }}{{ l }}` is a list.
            if case .v(.null) = rv { return }
            if captureDepth == 0 {
                chunkCount += 1
                if chunkCount == 1 { firstChunk = rv }
            }
            try appendOutput(rv, line: line, into: &out)
        case .ifNode(let branches, let elseBody):
            for (cond, body) in branches where try truthy(try eval(cond), line: 0) {
                try render(body, into: &out)
                return
            }
            try render(elseBody, into: &out)
        case .forNode(let target, let iterExpr, let filter, let body, let elseBody, let recursive, let line):
            try renderFor(target, iterExpr, filter, body, elseBody, recursive: recursive, line: line, into: &out)
        case .set(let target, let e, let line):
            try assign(target, try eval(e), line: line)
        case .setBlock(let target, let body, let filters, let line):
            var captured = ""
            captureDepth += 1
            defer { captureDepth -= 1 }
            try render(body, into: &captured)
            var rv = RV.v(.string(captured))
            for (name, args, kwargs, fline) in filters {
                rv = try applyFilter(name, rv, args, kwargs, line: fline)
            }
            try assign(target, rv, line: line)
        case .macro(let def):
            scopes[scopes.count - 1][def.name] = .obj(MacroObject(def, closure: flattenedScopes()))
        case .callBlock(let callExpr, let params, let body, let line):
            let caller = MacroObject(MacroDef(name: "caller", params: params, body: body), closure: flattenedScopes())
            guard case .call(let fnExpr, let argExprs, let kwargExprs, _) = callExpr else {
                throw TemplateRuntimeError.template("expected call", line: line)
            }
            let fn = try eval(fnExpr)
            guard case .obj(let macro as MacroObject) = fn else {
                throw TemplateRuntimeError.template("call block needs a macro", line: line)
            }
            let args = try argExprs.map { try eval($0) }
            let kwargs = try kwargExprs.map { ($0.0, try eval($0.1)) }
            macro.caller = .obj(caller)
            defer { macro.caller = nil }
            let result = try macro.call(self, args, kwargs, line: line)
            if captureDepth == 0 { chunkCount += 1 }
            try appendOutput(result, line: line, into: &out)
        case .filterBlock(let filters, let body, let line):
            var captured = ""
            captureDepth += 1
            defer { captureDepth -= 1 }
            try render(body, into: &captured)
            var rv = RV.v(.string(captured))
            for (name, args, kwargs, fline) in filters {
                rv = try applyFilter(name, rv, args, kwargs, line: fline)
            }
            if captureDepth == 1 {
                chunkCount += 1
                if chunkCount == 1 { firstChunk = rv }
            }
            try appendOutput(rv, line: line, into: &out)
        case .include(let nameExpr, let ignoreMissing, let line):
            try renderInclude(nameExpr, ignoreMissing: ignoreMissing, line: line, into: &out)
        case .with(let assignments, let body):
            var scope: [String: RV] = [:]
            for (target, e) in assignments {
                if case .name(let n) = target { scope[n] = try eval(e) }
            }
            scopes.append(scope)
            defer { scopes.removeLast() }
            try render(body, into: &out)
        }
    }

    /// Variables of the enclosing non-top-level scopes (loop variables, `with` names) a macro defined here
    /// keeps; top-level names are looked up when the macro runs, so later `set`s are visible, as in Jinja.
    private func flattenedScopes() -> [String: RV] {
        if scopes.count == 1 { return [:] }
        var merged: [String: RV] = [:]
        for scope in scopes.dropFirst() { merged.merge(scope) { _, new in new } }
        return merged
    }

    /// `{% include %}`: the file comes from the lookups' `file` plugin and renders with the current
    /// variables (loop variables included), as a template file (no backslash pre-escaping).
    private func renderInclude(_ nameExpr: Expr, ignoreMissing: Bool, line: Int, into out: inout String) throws {
        let nameValue = try value(try eval(nameExpr), line: line)
        let candidates = nameValue.listValue?.map { Py.str($0) } ?? [Py.str(nameValue)]
        let context = LookupContext(engine: engine, variables: variables, location: location)
        for name in candidates {
            guard
                let text = try? engine.lookups.run("file", terms: [.string(name)], options: ["rstrip": false], context: context)
                    .first?.stringValue
            else { continue }
            let includedLocation = SourceLocation(file: name)
            let compiled = try engine.compile(text, location: includedLocation, escapeBackslashes: false)
            scopes.append([:])
            defer { scopes.removeLast() }
            do {
                try state.nested("includes", line: line) { try render(compiled.nodes, into: &out) }
            } catch let e as TemplateRuntimeError {
                throw engine.mapError(e, text: text, location: includedLocation)
            }
            return
        }
        if ignoreMissing { return }
        throw TemplateRuntimeError.template("template not found: \(candidates.joined(separator: ", "))", line: line)
    }

    func appendOutput(_ rv: RV, line: Int, into out: inout String) throws {
        switch rv {
        case .v(let v):
            // Ansible's finalize renders None as an empty string inside larger templates.
            if case .null = v { return }
            out += Py.str(v)
        case .undefined(let u):
            if u.silent { return }
            throw TemplateRuntimeError(kind: .undefined, message: u.message, line: u.line > 0 ? u.line : line)
        case .obj(let o as LazyContainer):
            out += Py.str(try o.resolve(line: line))
        case .obj(let o):
            if let v = o.asValue { out += Py.str(v) } else { out += "<\(o.typeName) object>" }
        }
    }

    struct ForLoop {
        var target: Target
        var filter: Expr?
        var body: [Node]
        var elseBody: [Node]
        var recursive: Bool
        var line: Int
    }

    private func renderFor(
        _ target: Target, _ iterExpr: Expr, _ filter: Expr?, _ body: [Node], _ elseBody: [Node], recursive: Bool,
        line: Int, into out: inout String
    ) throws {
        let spec = ForLoop(target: target, filter: filter, body: body, elseBody: elseBody, recursive: recursive, line: line)
        try renderLoop(spec, try eval(iterExpr), depth: 0, into: &out)
    }

    /// One level of a `for` loop; `loop(children)` in a recursive loop re-enters here one level deeper.
    func renderLoop(_ spec: ForLoop, _ iterable: RV, depth: Int, into out: inout String) throws {
        let (target, filter, body, elseBody, line) = (spec.target, spec.filter, spec.body, spec.elseBody, spec.line)
        let value = try self.value(iterable, line: line)
        guard var items = Py.iterate(value) else {
            throw TemplateRuntimeError.template("'\(value.typeName)' object is not iterable", line: line)
        }
        scopes.append([:])
        defer { scopes.removeLast() }
        if let filter {
            items = try items.filter { item in
                try bindTarget(target, item, line: line)
                return try truthy(try eval(filter), line: line)
            }
        }
        if items.isEmpty {
            scopes.removeLast()
            scopes.append([:])
            try render(elseBody, into: &out)
            return
        }
        let loop = LoopObject()
        loop.length = items.count
        loop.items = items
        loop.depth0 = depth
        if spec.recursive { loop.recurse = (self, spec) }
        for (i, item) in items.enumerated() {
            loop.index0 = i
            scopes[scopes.count - 1] = ["loop": .obj(loop)]
            try bindTarget(target, item, line: line)
            try render(body, into: &out)
        }
    }

    private func bindTarget(_ target: Target, _ item: Value, line: Int) throws {
        switch target {
        case .name(let n):
            scopes[scopes.count - 1][n] = .v(item)
        case .tuple(let names):
            guard let parts = Py.iterate(item), parts.count == names.count else {
                let count = Py.iterate(item)?.count ?? 0
                throw TemplateRuntimeError.template(
                    count > names.count
                        ? "too many values to unpack (expected \(names.count))"
                        : "not enough values to unpack (expected \(names.count), got \(count))", line: line)
            }
            for (n, p) in zip(names, parts) { scopes[scopes.count - 1][n] = .v(p) }
        case .attribute:
            throw TemplateRuntimeError.template("cannot assign to an attribute here", line: line)
        }
    }

    private func assign(_ target: Target, _ rv: RV, line: Int) throws {
        switch target {
        case .name(let n):
            scopes[scopes.count - 1][n] = rv
        case .tuple(let names):
            let v = try value(rv, line: line)
            guard let parts = Py.iterate(v), parts.count == names.count else {
                throw TemplateRuntimeError.template("cannot unpack \(v.typeName) into \(names.count) names", line: line)
            }
            for (n, p) in zip(names, parts) { scopes[scopes.count - 1][n] = .v(p) }
        case .attribute(let obj, let attr):
            guard case .obj(let o)? = lookupScoped(obj), o.setAttribute(attr, rv) else {
                throw TemplateRuntimeError.template("cannot assign attribute on non-namespace object", line: line)
            }
        }
    }

    // MARK: - Macros

    func callMacro(_ macro: MacroObject, _ args: [RV], _ kwargs: [(String, RV)], line: Int) throws -> RV {
        let def = macro.def
        if args.count > def.params.count {
            throw TemplateRuntimeError.template("macro '\(def.name)' takes not more than \(def.params.count) argument(s)", line: line)
        }
        for (key, _) in kwargs where !def.params.contains(where: { $0.0 == key }) {
            throw TemplateRuntimeError.template("macro '\(def.name)' takes no keyword argument '\(key)'", line: line)
        }
        let savedScopes = scopes
        let top = scopes[0]
        defer { scopes = savedScopes }
        var scope: [String: RV] = [:]
        for (i, (name, defaultExpr)) in def.params.enumerated() {
            if i < args.count {
                scope[name] = args[i]
            } else if let kw = kwargs.first(where: { $0.0 == name }) {
                scope[name] = kw.1
            } else if let defaultExpr {
                // Defaults may refer to earlier parameters.
                scopes = [top, macro.closure, scope]
                scope[name] = try eval(defaultExpr)
            } else {
                scope[name] = .undefined(Undefined(message: "'\(name)' is undefined"))
            }
        }
        if let caller = macro.caller { scope["caller"] = caller }
        if top[def.name] == nil, macro.closure[def.name] == nil { scope[def.name] = .obj(macro) }
        scopes = [top, macro.closure, scope]
        captureDepth += 1
        defer { captureDepth -= 1 }
        var out = ""
        try state.nested("macro calls", line: line) { try render(def.body, into: &out) }
        return .v(.string(out))
    }

    // MARK: - Values

    func value(_ rv: RV, line: Int) throws -> Value {
        switch rv {
        case .v(let v): return v
        case .undefined(let u): throw TemplateRuntimeError(kind: .undefined, message: u.message, line: u.line > 0 ? u.line : line)
        case .obj(let o):
            if let lazy = o as? LazyContainer { return try lazy.resolve(line: line) }
            if let partial = o as? PartialList { return .list(try partial.items.map { try value($0, line: line) }) }
            if let v = o.asValue { return v }
            throw TemplateRuntimeError.template("Type '\(o.typeName)' is unsupported here", line: line)
        }
    }

    func truthy(_ rv: RV, line: Int) throws -> Bool {
        switch rv {
        case .v(let v): return v.isTruthy
        case .undefined(let u): throw TemplateRuntimeError(kind: .undefined, message: u.message, line: u.line > 0 ? u.line : line)
        case .obj(let o as LazyContainer): return o.raw.isTruthy
        case .obj: return true
        }
    }

    func lookupScoped(_ name: String) -> RV? {
        var i = scopes.count - 1
        while i >= 0 {
            if let v = scopes[i][name] { return v }
            i -= 1
        }
        return nil
    }

    func lookup(_ name: String, line: Int) throws -> RV {
        if let v = lookupScoped(name) { return v }
        if let v = state.resolved[name] { return v }
        if let raw = variables.lookup(name) {
            switch raw {
            case .string(let s):
                if !TemplateEngine.isTemplate(s) { return .v(raw) }
            case .list, .dict:
                // Containers are cached even when plain, so large ones (facts) are scanned once per render.
                if !TemplateEngine.containsTemplate(raw) {
                    state.resolved[name] = .v(raw)
                    return .v(raw)
                }
            default:
                return .v(raw)
            }
            let resolved = try Renderer.undefinedOnFailure { try resolveVariable(name, raw, line: line) }
            state.resolved[name] = resolved
            return resolved
        }
        if let g = engine.global(name) { return g }
        return .undefined(Undefined(message: "'\(name)' is undefined", line: line))
    }

    /// A variable whose template uses something undefined is itself undefined (so `default` and
    /// `is defined` see through it), as in Ansible; other failures propagate.
    static func undefinedOnFailure(_ body: () throws -> RV) throws -> RV {
        do {
            return try body()
        } catch let e as PGHAError where e.kind == .undefinedVariable {
            return .undefined(Undefined(message: e.message))
        } catch let e as TemplateRuntimeError where e.kind == .undefined {
            return .undefined(Undefined(message: e.message))
        }
    }

    /// Renders templates inside a variable's value on first access (Ansible's lazy templating).
    private func resolveVariable(_ name: String, _ raw: Value, line: Int) throws -> RV {
        switch raw {
        case .list, .dict:
            // Containers render element by element on access, so one broken entry (or an expensive one)
            // only matters when it is used, as in Ansible.
            return .obj(LazyContainer(raw, path: name, engine: engine, variables: variables, state: state, location: location))
        default:
            break
        }
        if state.inProgress.contains(name) {
            throw TemplateRuntimeError(
                kind: .recursion,
                message: "recursive loop detected in template: variable '\(name)' refers to itself (via \(state.inProgress.joined(separator: " -> ")) -> \(name))",
                line: line)
        }
        state.inProgress.append(name)
        defer { state.inProgress.removeLast() }
        return try state.nested("variables referring to variables", line: line) {
            .v(try engine.renderValueInternal(raw, variables: variables, state: state, location: location))
        }
    }

    // MARK: - Expressions

    func eval(_ e: Expr) throws -> RV {
        switch e {
        case .literal(let v): return .v(v)
        case .name(let n, let line): return try lookup(n, line: line)
        case .list(let items), .tuple(let items):
            var out: [Value] = []
            out.reserveCapacity(items.count)
            var evaluated: [RV]?
            for item in items {
                let rv = try eval(item)
                if evaluated == nil, case .undefined = rv { evaluated = out.map { .v($0) } }
                if evaluated != nil {
                    evaluated!.append(rv)
                } else {
                    out.append(try value(rv, line: 0))
                }
            }
            if let evaluated { return .obj(PartialList(evaluated)) }
            return .v(.list(out))
        case .dict(let pairs):
            var d = OrderedDictionary<String, Value>()
            for (k, v) in pairs {
                let key = try value(try eval(k), line: 0)
                d[dictKey(key)] = try value(try eval(v), line: 0)
            }
            return .v(.dict(d))
        case .getattr(let base, let name, let line):
            return try getattr(try eval(base), name, line: line)
        case .getitem(let base, let keyExpr, let line):
            let b = try eval(base)
            let key = try value(try eval(keyExpr), line: line)
            return try getitem(b, key, line: line)
        case .slice(let base, let s, let st, let step, let line):
            let b = try value(try eval(base), line: line)
            func idx(_ x: Expr?) throws -> Int? {
                guard let x else { return nil }
                let v = try value(try eval(x), line: line)
                if case .null = v { return nil }
                guard let i = Py.asInt(v) else {
                    throw TemplateRuntimeError.template("slice indices must be integers or None", line: line)
                }
                return i
            }
            let stepValue = try idx(step) ?? 1
            guard stepValue != 0 else { throw TemplateRuntimeError.template("slice step cannot be zero", line: line) }
            return .v(try slice(b, try idx(s), try idx(st), stepValue, line: line))
        case .call(let fnExpr, let argExprs, let kwargExprs, let line):
            if case .getattr(let receiverExpr, let name, _) = fnExpr, Methods.mutating.contains(name),
                let result = try callMutatingMethod(receiverExpr, name, argExprs, kwargExprs, line: line)
            {
                return result
            }
            let fn = try eval(fnExpr)
            let args = try argExprs.map { try eval($0) }
            let kwargs = try kwargExprs.map { ($0.0, try eval($0.1)) }
            switch fn {
            case .obj(let o): return try o.call(self, args, kwargs, line: line)
            case .undefined(let u): throw TemplateRuntimeError(kind: .undefined, message: u.message, line: u.line > 0 ? u.line : line)
            case .v(let v): throw TemplateRuntimeError.template("'\(v.typeName)' object is not callable", line: line)
            }
        case .filter(let base, let name, let argExprs, let kwargExprs, let line):
            return try applyFilter(name, try eval(base), argExprs, kwargExprs, line: line)
        case .test(let base, let name, let argExprs, let kwargExprs, let negated, let line):
            let input = try eval(base)
            let args = try argExprs.map { try eval($0) }
            let kwargs = try kwargExprs.map { ($0.0, try eval($0.1)) }
            let result = try applyTest(name, input, args, kwargs, line: line)
            return .v(.bool(negated ? !result : result))
        case .unary(let op, let operand, let line):
            let v = try value(try eval(operand), line: line)
            switch (op, v) {
            case ("-", .int(let i)): return .v(i == .min ? .double(-Double(i)) : .int(-i))
            case ("-", .double(let d)): return .v(.double(-d))
            case ("-", .bool(let b)): return .v(.int(b ? -1 : 0))
            case ("+", .int), ("+", .double): return .v(v)
            case ("+", .bool(let b)): return .v(.int(b ? 1 : 0))
            default: throw TemplateRuntimeError.template("bad operand type for unary \(op): '\(v.typeName)'", line: line)
            }
        case .binary(let op, let l, let r, let line):
            let lv = try eval(l)
            let rv = try eval(r)
            if op == "~" {
                return .v(.string(try Py.str(value(lv, line: line)) + Py.str(value(rv, line: line))))
            }
            if op == "%", case .v(.string(let fmt)) = lv {
                // Only a tuple literal spreads into the format's arguments; a list is one argument.
                let right = try value(rv, line: line)
                let args: [Value]
                if case .tuple = r, case .list(let items) = right { args = items } else { args = [right] }
                return .v(.string(try PyFormat.percent(fmt, args: args, line: line)))
            }
            if op == "-", let difference = DateTimeObject.subtract(lv, rv) { return difference }
            return .v(try Arithmetic.binary(op, try value(lv, line: line), try value(rv, line: line), line: line))
        case .compare(let first, let ops, let line):
            var left = try value(try eval(first), line: line)
            for (op, rightExpr) in ops {
                let right = try value(try eval(rightExpr), line: line)
                if !(try Arithmetic.compare(op, left, right, line: line)) { return .v(.bool(false)) }
                left = right
            }
            return .v(.bool(true))
        case .and(let l, let r):
            let lv = try eval(l)
            return try truthy(lv, line: 0) ? try eval(r) : lv
        case .or(let l, let r):
            let lv = try eval(l)
            return try truthy(lv, line: 0) ? lv : try eval(r)
        case .not(let x):
            return .v(.bool(!(try truthy(try eval(x), line: 0))))
        case .conditional(let cond, let then, let otherwise):
            if try truthy(try eval(cond), line: 0) { return try eval(then) }
            if let otherwise { return try eval(otherwise) }
            return .undefined(Undefined(message: "the inline if-expression evaluated to false and no else section was defined.", silent: true))
        }
    }

    // MARK: - Methods that change their receiver

    /// `l.append(x)`, `d.update(...)`, ...: the receiver is changed where it lives (a variable of
    /// this template, an element of one), so the rest of the template sees the change, as with
    /// Python's shared objects; a variable of the play is shadowed for this render only, as
    /// Ansible's lazy containers are. Nil when the receiver is not a list or dictionary.
    private func callMutatingMethod(
        _ receiverExpr: Expr, _ name: String, _ argExprs: [Expr], _ kwargExprs: [(String, Expr)], line: Int
    ) throws -> RV? {
        let receiver = try eval(receiverExpr)
        if case .undefined = receiver { return nil }
        var container = try value(receiver, line: line)
        switch container {
        case .list, .dict: break
        default: return nil
        }
        let args = try argExprs.map { try value(try eval($0), line: line) }
        let kwargs = try kwargExprs.map { ($0.0, try value(try eval($0.1), line: line)) }
        let returned = try Methods.mutate(&container, name, args, kwargs, line: line)
        try store(container, into: receiverExpr, line: line)
        return .v(returned)
    }

    /// Writes `value` back to the place `target` reads from; a temporary (`[].append(1)`) has none.
    private func store(_ value: Value, into target: Expr, line: Int) throws {
        switch target {
        case .name(let name, _):
            if let index = scopes.lastIndex(where: { $0[name] != nil }) {
                scopes[index][name] = .v(value)
            } else {
                scopes[0][name] = .v(value)
            }
        case .getattr(let base, let attribute, _):
            guard case .dict(var dict) = try self.value(try eval(base), line: line) else { return }
            dict[attribute] = value
            try store(.dict(dict), into: base, line: line)
        case .getitem(let base, let keyExpr, _):
            let key = try self.value(try eval(keyExpr), line: line)
            switch try self.value(try eval(base), line: line) {
            case .dict(var dict):
                dict[dictKey(key)] = value
                try store(.dict(dict), into: base, line: line)
            case .list(var list):
                guard let index = Py.asInt(key) else { return }
                let position = index < 0 ? index + list.count : index
                guard list.indices.contains(position) else { return }
                list[position] = value
                try store(.list(list), into: base, line: line)
            default:
                return
            }
        default:
            return
        }
    }

    func dictKey(_ v: Value) -> String {
        switch v {
        case .string(let s): return s
        default: return Py.str(v)
        }
    }

    func getattr(_ base: RV, _ name: String, line: Int) throws -> RV {
        switch base {
        case .undefined: return base
        case .obj(let lazy as LazyContainer):
            if name == "keys", case .dict(let d) = lazy.raw, !d.keys.contains(where: TemplateEngine.isTemplate) {
                return .obj(BoundMethod(.dict(d), name))
            }
            if Methods.has(lazy.raw, name) { return .obj(BoundMethod(try lazy.resolve(line: line), name)) }
            if case .dict = lazy.raw, let element = try lazy.element(.string(name), line: line) { return element }
            return .undefined(Undefined(message: "object of type '\(lazy.raw.typeName)' has no attribute '\(name)'", line: line))
        case .obj(let o):
            if let a = o.attribute(name) { return a }
            return .undefined(Undefined(message: "object of type '\(o.typeName)' has no attribute '\(name)'", line: line))
        case .v(let v):
            if Methods.has(v, name) { return .obj(BoundMethod(v, name)) }
            if case .dict(let d) = v, let x = d[name] { return .v(x) }
            return .undefined(Undefined(message: "object of type '\(v.typeName)' has no attribute '\(name)'", line: line))
        }
    }

    func getitem(_ base: RV, _ key: Value, line: Int) throws -> RV {
        switch base {
        case .undefined: return base
        case .obj(let lazy as LazyContainer):
            if let element = try lazy.element(key, line: line) { return element }
            return try getitem(.v(try lazy.resolve(line: line)), key, line: line)
        case .obj(let o):
            if case .string(let s) = key, let a = o.attribute(s) { return a }
            return .undefined(Undefined(message: "object of type '\(o.typeName)' has no attribute \(Py.repr(key))"))
        case .v(let v):
            switch (v, key) {
            case (.dict(let d), .string(let k)):
                if let x = d[k] { return .v(x) }
            case (.dict(let d), _):
                if let x = d[Py.str(key)] { return .v(x) }
            case (.list(let l), _):
                if let i = Py.asInt(key) {
                    let idx = i < 0 ? i + l.count : i
                    if idx >= 0 && idx < l.count { return .v(l[idx]) }
                }
            case (.string(let s), _):
                if let i = Py.asInt(key) {
                    let sc = Py.scalars(s)
                    let idx = i < 0 ? i + sc.count : i
                    if idx >= 0 && idx < sc.count { return .v(.string(String(sc[idx]))) }
                }
            default: break
            }
            if case .string(let name) = key, Methods.has(v, name) { return .obj(BoundMethod(v, name)) }
            let keyText: String
            if case .string(let s) = key { keyText = "'\(s)'" } else { keyText = Py.repr(key) }
            return .undefined(Undefined(message: "object of type '\(v.typeName)' has no attribute \(keyText)", line: line))
        }
    }

    func slice(_ v: Value, _ start: Int?, _ stop: Int?, _ step: Int, line: Int) throws -> Value {
        switch v {
        case .list(let l):
            return .list(Py.sliceIndices(count: l.count, start: start, stop: stop, step: step).map { l[$0] })
        case .string(let s):
            let sc = Py.scalars(s)
            var view = String.UnicodeScalarView()
            for i in Py.sliceIndices(count: sc.count, start: start, stop: stop, step: step) { view.append(sc[i]) }
            let result = Value.string(String(view))
            registerDerivedSecret(.v(result), from: [.v(v)])
            return result
        default:
            throw TemplateRuntimeError.template("'\(v.typeName)' object is not subscriptable", line: line)
        }
    }

    // MARK: - Filters and tests

    func applyFilter(_ rawName: String, _ input: RV, _ argExprs: [Expr], _ kwargExprs: [(String, Expr)], line: Int) throws -> RV {
        let args = try argExprs.map { try eval($0) }
        let kwargs = try kwargExprs.map { ($0.0, try eval($0.1)) }
        return try applyFilter(rawName, input, args, kwargs, line: line)
    }

    func applyFilter(_ rawName: String, _ input: RV, _ args: [RV], _ kwargs: [(String, RV)], line: Int) throws -> RV {
        let name = TemplateEngine.shortName(rawName)
        guard let f = Filters.table[name] else {
            throw TemplateRuntimeError.template("No filter named '\(rawName)'.", line: line)
        }
        let call = Call(renderer: self, args: args, kwargs: kwargs, line: line, name: name)
        let output = try f(call, input)
        registerDerivedSecret(output, from: [input] + args + kwargs.map(\.1))
        return output
    }

    /// A string computed from a string holding a secret (by a filter, a slice, a string method)
    /// is a secret too: `b64encode` of "user:" + password shares no text with the password, and a
    /// slice of it is a partial leak.
    func registerDerivedSecret(_ output: RV, from inputs: [RV]) {
        guard let secrets = engine.derivedSecrets, !secrets.isEmpty else { return }
        guard case .v(.string(let derived)) = output, derived.count >= 4 else { return }
        let fromSecret = inputs.contains { input in
            if case .v(.string(let text)) = input { return secrets.containsSecret(text) }
            return false
        }
        if fromSecret { secrets.register(derived) }
    }

    func applyTest(_ rawName: String, _ input: RV, _ args: [RV], _ kwargs: [(String, RV)], line: Int) throws -> Bool {
        let name = TemplateEngine.shortName(rawName)
        guard let t = Tests.table[name] else {
            throw TemplateRuntimeError.template("No test named '\(rawName)'.", line: line)
        }
        let call = Call(renderer: self, args: args, kwargs: kwargs, line: line, name: name)
        return try t(call, input)
    }
}

/// Arguments of a filter, test or function call, with Python-style positional/keyword access.
struct Call {
    let renderer: Renderer
    let args: [RV]
    let kwargs: [(String, RV)]
    let line: Int
    let name: String

    func error(_ message: String) -> TemplateRuntimeError { .template(message, line: line) }

    /// The argument at `position` or named `keyword`, or nil when absent.
    func arg(_ position: Int, _ keyword: String? = nil) -> RV? {
        if position >= 0, position < args.count { return args[position] }
        if let keyword, let kw = kwargs.first(where: { $0.0 == keyword }) { return kw.1 }
        return nil
    }

    func value(_ position: Int, _ keyword: String? = nil) throws -> Value? {
        guard let rv = arg(position, keyword) else { return nil }
        return try renderer.value(rv, line: line)
    }

    func string(_ position: Int, _ keyword: String? = nil) throws -> String? {
        guard let v = try value(position, keyword) else { return nil }
        if case .string(let s) = v { return s }
        return Py.str(v)
    }

    func int(_ position: Int, _ keyword: String? = nil) throws -> Int? {
        guard let v = try value(position, keyword) else { return nil }
        if let i = Py.asInt(v) { return i }
        if case .double(let d) = v, let i = Py.truncate(d) { return i }
        if case .string(let s) = v, let i = Int(s) { return i }
        throw error("\(name): expected an integer, got \(v.typeName)")
    }

    func bool(_ position: Int, _ keyword: String? = nil) throws -> Bool? {
        guard let v = try value(position, keyword) else { return nil }
        return v.isTruthy
    }

    func input(_ rv: RV) throws -> Value { try renderer.value(rv, line: line) }
}
