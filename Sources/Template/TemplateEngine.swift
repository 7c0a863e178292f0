import Foundation
import OrderedCollections
import PGHACore

/// Where templates read variables from. Values are raw: strings in them may themselves be templates,
/// which the engine renders lazily when they are used (Ansible semantics).
public protocol TemplateVariables: Sendable {
    /// The raw value of `name`, or nil when it is undefined.
    func lookup(_ name: String) -> Value?
    /// Every defined name, each once (the `varnames` lookup searches them).
    func variableNames() -> [String]
}

extension TemplateVariables {
    /// No names to list by default.
    public func variableNames() -> [String] { [] }
}

/// Variables held in a dictionary (tests, ad-hoc rendering, `vars:` blocks).
public struct DictionaryVariables: TemplateVariables {
    /// The variables, by name.
    public var values: OrderedDictionary<String, Value>
    /// Variables from a dictionary.
    public init(_ values: OrderedDictionary<String, Value> = [:]) { self.values = values }
    /// Variables from a `.dict` value (anything else gives no variables).
    public init(dict value: Value) { self.values = value.dictValue ?? [:] }
    /// The raw value of `name`.
    public func lookup(_ name: String) -> Value? { values[name] }
    /// The names, in order.
    public func variableNames() -> [String] { Array(values.keys) }
}

/// Layers variables: the first layer that defines a name wins (e.g. loop vars over task vars).
public struct LayeredVariables: TemplateVariables {
    /// Highest precedence first.
    public var layers: [any TemplateVariables]
    /// Layers `layers`, highest precedence first.
    public init(_ layers: [any TemplateVariables]) { self.layers = layers }
    /// The value from the first layer defining `name`.
    public func lookup(_ name: String) -> Value? {
        for layer in layers { if let v = layer.lookup(name) { return v } }
        return nil
    }
    /// Every layer's names, lowest precedence first, each once.
    public func variableNames() -> [String] {
        var seen = Set<String>()
        return layers.reversed().flatMap { $0.variableNames() }.filter { seen.insert($0).inserted }
    }
}

/// Compiled form of one template source, shared between renders and threads.
final class CompiledTemplate: Sendable {
    let nodes: [Node]
    /// Set when the whole template is one `{{ expr }}`: rendering yields the native value.
    let singleExpression: Expr?

    init(nodes: [Node]) {
        self.nodes = nodes
        if nodes.count == 1, case .output(let e, _) = nodes[0] { singleExpression = e } else { singleExpression = nil }
    }
}

/// Parse-once cache keyed by source text; templates repeat heavily across hosts and loop items.
final class TemplateCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: CompiledTemplate] = [:]
    private let limit = 20_000

    func get(_ key: String) -> CompiledTemplate? {
        lock.lock()
        defer { lock.unlock() }
        return entries[key]
    }

    func put(_ key: String, _ value: CompiledTemplate) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
        entries[key] = value
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.count
    }
}

/// Jinja2 as ansible-core 2.19 uses it: native types for single-expression templates, lazy templated
/// variables, Ansible's filters and tests.
public struct TemplateEngine: Sendable {
    /// Provides `lookup()`/`query()` plugins.
    public var lookups: any TemplateLookups
    /// Jinja2's trim_blocks (Ansible enables it for both templated strings and the template module).
    public var trimBlocks: Bool
    /// When set, a string a filter derives from a known secret (`b64encode`, `hash`, a slice...)
    /// is registered here too, so the transformed secret is masked as well.
    public var derivedSecrets: Redactor?
    private let cache: TemplateCache
    private let conditionCache: TemplateCache

    /// An engine with its own compiled-template cache; share one engine across a run to reuse it.
    public init(lookups: any TemplateLookups = DefaultLookups(), trimBlocks: Bool = true) {
        self.lookups = lookups
        self.trimBlocks = trimBlocks
        self.cache = TemplateCache()
        self.conditionCache = TemplateCache()
    }

    /// Number of distinct compiled templates held (for diagnostics and tests).
    public var cachedTemplateCount: Int { cache.count }

    /// True when `text` contains Jinja2 markup and so needs rendering.
    public static func isTemplate(_ text: String) -> Bool {
        var previousBrace = false
        for b in text.utf8 {
            if previousBrace, b == UInt8(ascii: "{") || b == UInt8(ascii: "%") || b == UInt8(ascii: "#") { return true }
            previousBrace = b == UInt8(ascii: "{")
        }
        return false
    }

    static func containsTemplate(_ value: Value) -> Bool {
        switch value {
        case .string(let s): return isTemplate(s)
        case .list(let l): return l.contains(where: containsTemplate)
        case .dict(let d): return d.contains { isTemplate($0.key) || containsTemplate($0.value) }
        default: return false
        }
    }

    /// Strips collection prefixes so `ansible.builtin.combine` finds `combine`.
    public static func shortName(_ name: String) -> String {
        guard let dot = name.utf8.lastIndex(of: UInt8(ascii: ".")) else { return name }
        return String(name[name.utf8.index(after: dot)...])
    }

    struct Overrides {
        var trimBlocks: Bool?
        var lstripBlocks: Bool?
        var keepTrailingNewline: Bool?
    }

    /// Ansible's `#jinja2: trim_blocks: False, lstrip_blocks: True` first line, which changes the Jinja
    /// environment for this template only and is removed from the text.
    static func extractOverrides(_ text: String) throws -> (String, Overrides) {
        let marker = "#jinja2:"
        guard text.hasPrefix(marker) else { return (text, Overrides()) }
        guard let eol = text.firstIndex(of: "\n") else {
            throw TemplateSyntaxError(message: "Missing newline after '#jinja2:' override.", line: 1)
        }
        var overrides = Overrides()
        for pair in text[text.index(text.startIndex, offsetBy: marker.count)..<eol].split(separator: ",", omittingEmptySubsequences: false) {
            let parts = pair.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else {
                throw TemplateSyntaxError(message: "Missing key-value separator `:` in '#jinja2:' override pair '\(pair)'.", line: 1)
            }
            let key = trimmed(parts[0])
            let raw = trimmed(parts[1])
            guard raw == "True" || raw == "False" else {
                throw TemplateSyntaxError(message: "'#jinja2:' override '\(key)' must be True or False, got '\(raw)'.", line: 1)
            }
            let value = raw == "True"
            switch key {
            case "trim_blocks": overrides.trimBlocks = value
            case "lstrip_blocks": overrides.lstripBlocks = value
            case "keep_trailing_newline": overrides.keepTrailingNewline = value
            default:
                throw TemplateSyntaxError(message: "Unsupported '#jinja2:' override key '\(key)'.", line: 1)
            }
        }
        return (String(text[text.index(after: eol)...]), overrides)
    }

    /// Ansible's preserve_trailing_newlines: a string result ends with at least as many newlines as the
    /// template text did (Jinja itself drops one and trim_blocks may eat more).
    static func restoreTrailingNewlines(of template: String, in result: String) -> String {
        func count(_ s: String) -> Int {
            var n = 0
            for b in s.utf8.reversed() {
                guard b == 10 else { break }
                n += 1
            }
            return n
        }
        let wanted = count(template)
        guard wanted > 0 else { return result }
        let have = count(result)
        return have >= wanted ? result : result + String(repeating: "\n", count: wanted - have)
    }

    /// A native result keeps its type; only a string gets the template's trailing newlines back
    /// (`"{{ lines | join('\n') }}\n"` ends in a newline, `"{{ 5 }}\n"` is still 5).
    static func restoringTrailingNewlines(of template: String, in result: Value) -> Value {
        guard case .string(let s) = result else { return result }
        return .string(restoreTrailingNewlines(of: template, in: s))
    }

    /// Whitespace trim without Foundation (this runs for every `when:`).
    static func trimmed(_ text: Substring) -> Substring {
        var s = text
        while let f = s.utf8.first, Lexer.isSpace(f) { s = s.dropFirst() }
        while let l = s.utf8.last, Lexer.isSpace(l) { s = s.dropLast() }
        return s
    }

    // MARK: - Public rendering API

    /// Renders `text`. Text without template markup is returned unchanged; a template that is exactly one
    /// `{{ expression }}` yields the expression's native value; anything else yields a string.
    public func render(_ text: String, variables: any TemplateVariables, location: SourceLocation) throws -> Value {
        try render(text, variables: variables, state: ResolutionState(), location: location)
    }

    /// Renders `text` (a string from YAML) to a string.
    public func renderString(_ text: String, variables: any TemplateVariables, location: SourceLocation) throws -> String {
        try renderText(text, variables: variables, location: location, escapeBackslashes: true)
    }

    /// Renders a template file (the `template` module, `lookup('template')`): the text did not pass through
    /// YAML, so backslash escapes in string literals (`'\n'`) are interpreted as Jinja does.
    ///
    /// As ansible-core 2.19 renders it, a file whose only output is one expression yields that
    /// expression's value: a dictionary or a number is written as Python prints it, without the
    /// file's final newline (only a string gets it back); a file with no output at all is empty.
    public func renderFile(_ text: String, variables: any TemplateVariables, location: SourceLocation) throws -> String {
        try renderText(text, variables: variables, location: location, escapeBackslashes: false, native: true)
    }

    private func renderText(
        _ text: String, variables: any TemplateVariables, location: SourceLocation, escapeBackslashes: Bool,
        native: Bool = false
    ) throws -> String {
        guard TemplateEngine.isTemplate(text) else { return text }
        let compiled = try compile(text, location: location, escapeBackslashes: escapeBackslashes)
        let renderer = Renderer(engine: self, variables: variables, state: ResolutionState(), location: location)
        do {
            var out = ""
            try renderer.render(compiled.nodes, into: &out)
            if native, renderer.chunkCount == 0 { return "" }
            if native, renderer.chunkCount == 1, let only = renderer.firstChunk {
                let value = try renderer.value(only, line: 1)
                if case .string = value {} else { return Py.str(value) }
            }
            return TemplateEngine.restoreTrailingNewlines(of: text, in: out)
        } catch {
            throw mapError(error, text: text, location: location)
        }
    }

    /// Evaluates a bare expression (a `when:` or `failed_when:` condition) and returns its truth.
    public func evaluateCondition(_ expression: String, variables: any TemplateVariables, location: SourceLocation) throws -> Bool {
        var trimmed = TemplateEngine.trimmed(Substring(expression))
        if trimmed.isEmpty { return true }
        // A condition that is all template (`when: "{{ x }}"`) is rendered first; text it renders to
        // is the expression (`'false'` is false, `'yes'` an undefined name), any other value the
        // result, as ansible-core 2.19 has it.
        let delimiters = ["{{", "{%", "{#"]
        if delimiters.contains(where: { trimmed.hasPrefix($0) }), ["}}", "%}", "#}"].contains(where: { trimmed.hasSuffix($0) }) {
            let rendered = try render(String(trimmed), variables: variables, location: location)
            switch rendered {
            case .string(let text) where !TemplateEngine.trimmed(Substring(text)).isEmpty:
                trimmed = TemplateEngine.trimmed(Substring(text))
            case .bool(let result):
                return result
            case .string, .null:
                throw PGHAError(.template, "Empty conditional expressions are not allowed", at: location)
            default:
                throw Self.brokenConditional(rendered, String(trimmed), at: location)
            }
        }
        // Ansible evaluates conditionals without escape_backslashes, as when they were `{% if %}` blocks.
        let value = try evaluateExpression(
            String(trimmed), variables: variables, location: location, escapeBackslashes: false)
        // ansible-core 2.19 refuses conditionals whose result is not a boolean (a string, a list, a
        // number): `when: my_list` or a variable holding 'false' is almost always a bug that older
        // versions silently took as truthiness.
        guard case .bool(let result) = value else { throw Self.brokenConditional(value, String(trimmed), at: location) }
        return result
    }

    private static func brokenConditional(_ value: Value, _ trimmed: String, at location: SourceLocation) -> PGHAError {
        PGHAError(
            .template,
            "Conditional result (\(value.isTruthy ? "True" : "False")) was derived from value of type '\(value.typeName)'; conditionals must have a boolean result",
            at: location, hint: "compare explicitly, e.g. `\(trimmed) | length > 0`, `\(trimmed) is defined` or `\(trimmed) | bool`")
    }

    /// Evaluates a `when:`-style value as YAML gives it: a bool is itself, a string is an expression, a list
    /// is the conjunction of its items (Ansible's list form of `when`), null is true.
    public func evaluateCondition(_ condition: Value, variables: any TemplateVariables, location: SourceLocation) throws -> Bool {
        switch condition {
        case .null: return true
        case .bool(let b): return b
        case .string(let s): return try evaluateCondition(s, variables: variables, location: location)
        case .list(let items):
            for item in items where !(try evaluateCondition(item, variables: variables, location: location)) {
                return false
            }
            return true
        default:
            return condition.isTruthy
        }
    }

    /// Evaluates a bare Jinja2 expression (no braces) to its native value.
    public func evaluateExpression(_ expression: String, variables: any TemplateVariables, location: SourceLocation) throws -> Value {
        try evaluateExpression(expression, variables: variables, location: location, escapeBackslashes: true)
    }

    func evaluateExpression(
        _ expression: String, variables: any TemplateVariables, location: SourceLocation, escapeBackslashes: Bool
    ) throws -> Value {
        var expr = expression
        if TemplateEngine.isTemplate(expr) {
            // Deprecated in Ansible but still common: `when: "{{ flag }}"`.
            let rendered = try render(expr, variables: variables, location: location)
            guard case .string(let s) = rendered else { return rendered }
            expr = s
        }
        let key = escapeBackslashes ? expr : "\u{0}" + expr
        let compiled: CompiledTemplate
        if let c = conditionCache.get(key) {
            compiled = c
        } else {
            compiled = try compile(
                "{{ " + expr + " }}", location: location, useCache: false, escapeBackslashes: escapeBackslashes)
            conditionCache.put(key, compiled)
        }
        guard let e = compiled.singleExpression else {
            throw PGHAError(.syntax, "template syntax error: expected a single expression in '\(expression)'", at: location)
        }
        let renderer = Renderer(engine: self, variables: variables, state: ResolutionState(), location: location)
        do {
            return try renderer.value(try renderer.eval(e), line: 1)
        } catch {
            throw mapError(error, text: expression, location: location)
        }
    }

    /// Renders every string in `value`, recursing into lists and dictionaries (keys included).
    public func renderValue(_ value: Value, variables: any TemplateVariables, location: SourceLocation) throws -> Value {
        try renderValueInternal(value, variables: variables, state: ResolutionState(), location: location)
    }

    // MARK: - Syntax only

    /// Parses `text` as it would be rendered, without rendering it, and throws the located
    /// `.syntax` error a render would throw. Text without markup passes; unknown filters and tests
    /// pass too (the render reports those), so content that never runs is not refused for them.
    ///
    /// - Parameter isFile: a template file (backslash escapes as Jinja reads them) rather than a
    ///   string from YAML.
    public func checkSyntax(template text: String, at location: SourceLocation, isFile: Bool = false) throws {
        guard TemplateEngine.isTemplate(text) else { return }
        _ = try parse(text, location: location, escapeBackslashes: !isFile, resolvesNames: false)
    }

    /// Parses a bare expression (`when:`, `changed_when:`, `failed_when:`, `until:`, `that:`) as
    /// `evaluateCondition` would, without evaluating it.
    public func checkSyntax(expression text: String, at location: SourceLocation) throws {
        let trimmed = String(TemplateEngine.trimmed(Substring(text)))
        if trimmed.isEmpty { return }
        if TemplateEngine.isTemplate(trimmed) {
            // Rendered first, as `when: "{{ flag }}"` is; what it renders to is only known per host.
            return try checkSyntax(template: trimmed, at: location)
        }
        let compiled: CompiledTemplate
        do {
            compiled = try parse("{{ " + trimmed + " }}", location: location, escapeBackslashes: false, resolvesNames: false)
        } catch var error as PGHAError {
            error.hint = "in expression: \(trimmed)"
            throw error
        }
        guard compiled.singleExpression != nil else {
            throw PGHAError(
                .syntax, "template syntax error: expected a single expression", at: location,
                hint: "in expression: \(trimmed)")
        }
    }

    // MARK: - Internals

    func renderValueInternal(_ value: Value, variables: any TemplateVariables, state: ResolutionState, location: SourceLocation) throws -> Value {
        switch value {
        case .string(let s):
            return try render(s, variables: variables, state: state, location: location)
        case .list(let l):
            guard l.contains(where: TemplateEngine.containsTemplate) else { return value }
            return .list(try l.map { try renderValueInternal($0, variables: variables, state: state, location: location) })
        case .dict(let d):
            guard TemplateEngine.containsTemplate(value) else { return value }
            var out = OrderedDictionary<String, Value>()
            for (k, v) in d {
                let key = TemplateEngine.isTemplate(k)
                    ? Py.str(try render(k, variables: variables, state: state, location: location)) : k
                out[key] = try renderValueInternal(v, variables: variables, state: state, location: location)
            }
            return .dict(out)
        default:
            return value
        }
    }

    func render(_ text: String, variables: any TemplateVariables, state: ResolutionState, location: SourceLocation) throws -> Value {
        guard TemplateEngine.isTemplate(text) else { return .string(text) }
        let compiled = try compile(text, location: location)
        let renderer = Renderer(engine: self, variables: variables, state: state, location: location)
        do {
            if let e = compiled.singleExpression {
                let rv = try renderer.eval(e)
                if case .undefined(let u) = rv, u.silent {
                    throw TemplateRuntimeError.template("Type 'Undefined' is unsupported for variable storage.", line: 1)
                }
                if case .undefined(let u) = rv {
                    throw TemplateRuntimeError(kind: .undefined, message: u.message, line: 1)
                }
                return TemplateEngine.restoringTrailingNewlines(of: text, in: try renderer.value(rv, line: 1))
            }
            var out = ""
            try renderer.render(compiled.nodes, into: &out)
            // Nothing at all was output (`{% if false %}x{% endif %}`): 2.19 gives None, not ''.
            if renderer.chunkCount == 0 { return .null }
            // Only one expression produced output: Ansible returns its native value.
            if let first = renderer.firstChunk, renderer.chunkCount == 1 {
                if case .undefined(let u) = first, u.silent {
                    throw TemplateRuntimeError.template("Type 'Undefined' is unsupported for variable storage.", line: 1)
                }
                return TemplateEngine.restoringTrailingNewlines(of: text, in: try renderer.value(first, line: 1))
            }
            return .string(TemplateEngine.restoreTrailingNewlines(of: text, in: out))
        } catch let error as PGHAError {
            throw error
        } catch {
            throw mapError(error, text: text, location: location)
        }
    }

    func compile(
        _ text: String, location: SourceLocation, useCache: Bool = true, escapeBackslashes: Bool = true
    ) throws -> CompiledTemplate {
        // trim_blocks is fixed per engine; only the escaping mode varies between calls.
        let key = escapeBackslashes ? text : "\u{0}" + text
        if useCache, let c = cache.get(key) { return c }
        let compiled = try parse(text, location: location, escapeBackslashes: escapeBackslashes, resolvesNames: true)
        if useCache { cache.put(key, compiled) }
        return compiled
    }

    /// Lexes and parses `text` (with its `#jinja2:` overrides); errors are located `PGHAError`s.
    private func parse(
        _ text: String, location: SourceLocation, escapeBackslashes: Bool, resolvesNames: Bool
    ) throws -> CompiledTemplate {
        do {
            let (body, overrides) = try TemplateEngine.extractOverrides(text)
            var lexer = Lexer(
                body, trimBlocks: overrides.trimBlocks ?? trimBlocks, lstripBlocks: overrides.lstripBlocks ?? false,
                keepTrailingNewline: overrides.keepTrailingNewline ?? false, escapeBackslashes: escapeBackslashes)
            var parser = Parser(tokens: try lexer.tokenize())
            parser.resolvesNames = resolvesNames
            return CompiledTemplate(nodes: try parser.parseTemplate())
        } catch {
            throw mapError(error, text: text, location: location)
        }
    }

    private func location(_ base: SourceLocation, line: Int) -> SourceLocation {
        guard line > 0 else { return base }
        if base.line > 0 { return base.offset(lines: line - 1, column: line == 1 ? base.column : 0) }
        return SourceLocation(file: base.file, line: line, column: 0)
    }

    func mapError(_ error: any Error, text: String, location base: SourceLocation) -> PGHAError {
        let snippet = text.count > 200 ? String(text.prefix(200)) + "..." : text
        switch error {
        case let e as PGHAError:
            return e
        case let e as TemplateSyntaxError:
            return PGHAError(
                .syntax, "template syntax error: \(e.message)", at: location(base, line: e.line),
                hint: "in template: \(snippet)")
        case let e as TemplateRuntimeError:
            switch e.kind {
            case .undefined:
                return PGHAError(
                    .undefinedVariable, e.message, at: location(base, line: e.line),
                    hint: "in template: \(snippet)")
            case .recursion, .template:
                return PGHAError(
                    .template, "template error: \(e.message)", at: location(base, line: e.line),
                    hint: "in template: \(snippet)")
            }
        default:
            return PGHAError(.template, "template error: \(error)", at: base)
        }
    }

    // MARK: - Globals

    func global(_ name: String) -> RV? { Globals.table[name] }
}

extension Value {
    /// Python's `str()` of the value, as Jinja writes it into text (`['a', 1]`, `True`, `None`, `1.0`).
    public var pythonString: String { Py.str(self) }

    /// Python's `repr()` of the value (strings quoted).
    public var pythonRepr: String { Py.repr(self) }
}
