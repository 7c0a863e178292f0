import Foundation
import OrderedCollections
import PGHACore

typealias FilterFunction = (Call, RV) throws -> RV

/// Jinja2's built-in filters plus the Ansible filters playbooks commonly use.
enum Filters {
    nonisolated(unsafe) static let table: [String: FilterFunction] = {
        var t: [String: FilterFunction] = [:]

        registerUndefinedFilters(&t)
        registerStringFilters(&t)
        TextFilters.register(&t)
        registerEncodingFilters(&t)
        registerPasswordHashFilter(&t)
        registerPathFilters(&t)
        registerRegexFilters(&t)
        registerConversionFilters(&t)
        registerSerialisationFilters(&t)
        registerSequenceFilters(&t)
        registerSelectionFilters(&t)
        registerSetFilters(&t)
        registerDictionaryFilters(&t)
        registerMathFilters(&t)
        return t
    }()

    // MARK: - helpers

    /// A filter that takes its input as text (Python's str()) and returns text.
    static func stringFilter(_ f: @escaping (String) -> String) -> FilterFunction {
        { c, input in .v(.string(f(Py.str(try c.input(input))))) }
    }

    static func dirname(_ s: String) -> String {
        guard let i = s.lastIndex(of: "/") else { return "" }
        var head = String(s[...i])
        if !head.allSatisfy({ $0 == "/" }) { while head.hasSuffix("/") { head.removeLast() } }
        return head
    }

    static func iterable(_ c: Call, _ input: RV) throws -> [Value] {
        let v = try c.input(input)
        guard let items = Py.iterate(v) else { throw c.error("'\(v.typeName)' object is not iterable") }
        return items
    }

    /// Jinja's attribute getter: dotted path, integer parts index lists.
    static func lookupAttribute(_ item: Value, _ path: String) -> Value? {
        var current = item
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            switch current {
            case .dict(let d):
                guard let next = d[String(part)] else { return nil }
                current = next
            case .list(let l):
                guard let i = Int(part), i >= 0, i < l.count else { return nil }
                current = l[i]
            default:
                return nil
            }
        }
        return current
    }

    static func missingAttributeMessage(_ item: Value, _ path: String) -> String {
        var current = item
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = lookupAttribute(current, String(part)) else {
                return "object of type '\(current.typeName)' has no attribute '\(part)'"
            }
            current = next
        }
        return "object has no attribute '\(path)'"
    }

    static func attribute(_ item: Value, _ path: String, _ c: Call) throws -> Value {
        guard let v = lookupAttribute(item, path) else {
            throw TemplateRuntimeError(kind: .undefined, message: missingAttributeMessage(item, path), line: c.line)
        }
        return v
    }

    static func uniqueExact(_ items: [Value]) -> [Value] {
        var out: [Value] = []
        for x in items where !out.contains(where: { Py.equals($0, x) }) { out.append(x) }
        return out
    }

    static func compareForSort(_ a: Value, _ b: Value, caseSensitive: Bool, _ c: Call) throws -> Int {
        var x = a, y = b
        if !caseSensitive {
            if case .string(let s) = x { x = .string(s.lowercased()) }
            if case .string(let s) = y { y = .string(s.lowercased()) }
        }
        guard let r = Py.compare(x, y) else {
            throw c.error("'<' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
        return r
    }

    static func stableSort(_ items: [Value], _ cmp: (Value, Value) throws -> Int) throws -> [Value] {
        var indexed = Array(items.enumerated())
        var failure: (any Error)?
        indexed.sort { l, r in
            if failure != nil { return false }
            do {
                let c = try cmp(l.element, r.element)
                return c != 0 ? c < 0 : l.offset < r.offset
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
        return indexed.map(\.element)
    }

    static func sortValues(_ items: [Value], reverse: Bool, caseSensitive: Bool, attributes: [String]?, _ c: Call) throws -> [Value] {
        let sorted = try stableSort(items) { a, b in
            if let attributes {
                for attr in attributes {
                    let r = try compareForSort(try attribute(a, attr, c), try attribute(b, attr, c), caseSensitive: caseSensitive, c)
                    if r != 0 { return r }
                }
                return 0
            }
            return try compareForSort(a, b, caseSensitive: caseSensitive, c)
        }
        if reverse {
            // Python's sort(reverse=True) keeps equal elements in original order.
            return try stableSort(items) { a, b in
                if let attributes {
                    for attr in attributes {
                        let r = try compareForSort(try attribute(b, attr, c), try attribute(a, attr, c), caseSensitive: caseSensitive, c)
                        if r != 0 { return r }
                    }
                    return 0
                }
                return try compareForSort(b, a, caseSensitive: caseSensitive, c)
            }
        }
        return sorted
    }

    /// Python's max() returns the first maximal element.
    static func maxStable(_ items: [Value], _ sorted: [Value], _ caseSensitive: Bool, _ attrs: [String]?, _ c: Call) throws -> Value? {
        guard var best = items.first else { return nil }
        for item in items.dropFirst() {
            let a = try attrs.map { try attribute(item, $0[0], c) } ?? item
            let b = try attrs.map { try attribute(best, $0[0], c) } ?? best
            if try compareForSort(a, b, caseSensitive: caseSensitive, c) > 0 { best = item }
        }
        return best
    }

    static func combine(_ a: Value, _ b: Value, recursive: Bool, listMerge: String) -> Value {
        guard case .dict(var x) = a, case .dict(let y) = b else { return b }
        for (k, v) in y {
            guard let existing = x[k] else { x[k] = v; continue }
            if recursive, case .dict = existing, case .dict = v {
                x[k] = combine(existing, v, recursive: true, listMerge: listMerge)
            } else if case .list(let l1) = existing, case .list(let l2) = v {
                switch listMerge {
                case "keep": x[k] = existing
                case "append": x[k] = .list(l1 + l2)
                case "prepend": x[k] = .list(l2 + l1)
                case "append_rp": x[k] = .list(l1.filter { e in !l2.contains { Py.equals($0, e) } } + l2)
                case "prepend_rp": x[k] = .list(l2 + l1.filter { e in !l2.contains { Py.equals($0, e) } })
                default: x[k] = v
                }
            } else {
                x[k] = v
            }
        }
        return .dict(x)
    }
}

extension Call {
    func kwBool(_ name: String) throws -> Bool {
        guard let kw = kwargs.first(where: { $0.0 == name }) else { return false }
        return try renderer.value(kw.1, line: line).isTruthy
    }
}
