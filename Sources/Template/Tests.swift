import Foundation
import OrderedCollections
import PGHACore

typealias TestFunction = (Call, RV) throws -> Bool

/// Jinja2 tests (`x is defined`) plus Ansible's.
enum Tests {
    nonisolated(unsafe) static let table: [String: TestFunction] = {
        var t: [String: TestFunction] = [:]
        t["defined"] = { _, input in !input.isUndefined }
        t["undefined"] = { _, input in input.isUndefined }
        func valueTest(_ f: @escaping (Value) -> Bool) -> TestFunction {
            { c, input in
                if case .obj(let o) = input {
                    // Type tests on a lazily templated container need not render it.
                    if let lazy = o as? LazyContainer { return f(lazy.raw) }
                    return false
                }
                return f(try c.input(input))
            }
        }
        t["none"] = valueTest { $0.isNull }
        t["boolean"] = valueTest { if case .bool = $0 { return true } else { return false } }
        t["true"] = valueTest { $0 == .bool(true) }
        t["false"] = valueTest { $0 == .bool(false) }
        t["integer"] = valueTest { if case .int = $0 { return true } else { return false } }
        t["float"] = valueTest { if case .double = $0 { return true } else { return false } }
        t["number"] = valueTest(Py.isNumber)
        t["string"] = valueTest { $0.stringValue != nil }
        t["mapping"] = valueTest { $0.dictValue != nil }
        t["iterable"] = valueTest { Py.iterate($0) != nil }
        t["sequence"] = valueTest { Py.length($0) != nil }
        t["lower"] = valueTest { v in v.stringValue.map { $0 == $0.lowercased() } ?? false }
        t["upper"] = valueTest { v in v.stringValue.map { $0 == $0.uppercased() } ?? false }
        t["callable"] = { _, input in
            if case .obj(let o) = input { return !(o is LazyContainer) } else { return false }
        }
        t["even"] = { c, input in
            guard let i = Py.asInt(try c.input(input)) else { throw c.error("even test needs an integer") }
            return i % 2 == 0
        }
        t["odd"] = { c, input in
            guard let i = Py.asInt(try c.input(input)) else { throw c.error("odd test needs an integer") }
            return i % 2 != 0
        }
        t["divisibleby"] = { c, input in
            guard let i = Py.asInt(try c.input(input)), let n = try c.int(0, "num"), n != 0 else {
                throw c.error("divisibleby needs integers")
            }
            return i % n == 0
        }
        func compareTest(_ op: String) -> TestFunction {
            { c, input in try Arithmetic.compare(op, try c.input(input), try c.value(0) ?? .null, line: c.line) }
        }
        for (names, op) in [
            (["eq", "equalto", "=="], "=="), (["ne", "!="], "!="), (["lt", "lessthan", "<"], "<"),
            (["gt", "greaterthan", ">"], ">"), (["le", "<="], "<="), (["ge", ">="], ">="),
        ] {
            for n in names { t[n] = compareTest(op) }
        }
        t["in"] = { c, input in try Arithmetic.compare("in", try c.input(input), try c.value(0) ?? .list([]), line: c.line) }
        t["contains"] = { c, input in
            try Arithmetic.compare("in", try c.value(0) ?? .null, try c.input(input), line: c.line)
        }
        t["sameas"] = { c, input in
            let a = try c.input(input), b = try c.value(0) ?? .null
            switch (a, b) {
            case (.null, .null): return true
            case (.bool(let x), .bool(let y)): return x == y
            default: return false
            }
        }
        t["truthy"] = { c, input in
            let v = try c.input(input)
            return (try c.bool(0, "convert_bool") ?? false) ? Py.ansibleBool(v) : v.isTruthy
        }
        t["falsy"] = { c, input in
            let v = try c.input(input)
            return !((try c.bool(0, "convert_bool") ?? false) ? Py.ansibleBool(v) : v.isTruthy)
        }
        t["subset"] = { c, input in
            let a = Py.iterate(try c.input(input)) ?? [], b = Py.iterate(try c.value(0) ?? .list([])) ?? []
            return a.allSatisfy { x in b.contains { Py.equals($0, x) } }
        }
        t["superset"] = { c, input in
            let a = Py.iterate(try c.input(input)) ?? [], b = Py.iterate(try c.value(0) ?? .list([])) ?? []
            return b.allSatisfy { x in a.contains { Py.equals($0, x) } }
        }
        func regexTest(_ mode: String) -> TestFunction {
            { c, input in
                let s = Py.str(try c.input(input))
                let pattern = try c.string(0, "pattern") ?? ""
                let re = try PyRegex.compile(
                    pattern, ignoreCase: try c.bool(1, "ignorecase") ?? false, multiline: try c.bool(2, "multiline") ?? false,
                    line: c.line)
                let effectiveMode = mode == "regex" ? (try c.string(3, "match_type") ?? "search") : mode
                let range = NSRange(s.startIndex..., in: s)
                switch effectiveMode {
                case "match": return re.firstMatch(in: s, options: .anchored, range: range) != nil
                case "fullmatch":
                    guard let m = re.firstMatch(in: s, options: .anchored, range: range) else { return false }
                    return m.range.length == range.length
                default: return re.firstMatch(in: s, range: range) != nil
                }
            }
        }
        t["match"] = regexTest("match")
        t["search"] = regexTest("search")
        t["regex"] = regexTest("regex")
        func resultTest(_ f: @escaping (OrderedDictionary<String, Value>) -> Bool) -> TestFunction {
            { c, input in
                let v = try c.input(input)
                guard case .dict(let d) = v else {
                    throw c.error("The '\(c.name)' test expects a dictionary")
                }
                return f(d)
            }
        }
        let failed: (OrderedDictionary<String, Value>) -> Bool = { d in d["failed"].map(Py.ansibleBool) ?? false }
        t["failed"] = resultTest(failed)
        t["failure"] = t["failed"]
        t["success"] = resultTest { !failed($0) }
        t["succeeded"] = t["success"]
        t["successful"] = t["success"]
        t["changed"] = resultTest { $0["changed"].map(Py.ansibleBool) ?? false }
        t["change"] = t["changed"]
        t["skipped"] = resultTest { $0["skipped"].map(Py.ansibleBool) ?? false }
        t["skip"] = t["skipped"]
        t["unreachable"] = resultTest { $0["unreachable"].map(Py.ansibleBool) ?? false }
        t["reachable"] = resultTest { !($0["unreachable"].map(Py.ansibleBool) ?? false) }
        t["finished"] = resultTest { $0["finished"].map(Py.ansibleBool) ?? true }
        t["version"] = { c, input in
            let a = Py.str(try c.input(input))
            guard let b = try c.string(0, "version") else { throw c.error("version test needs a version to compare to") }
            let op = try c.string(1, "operator") ?? "eq"
            let strict = try c.bool(2, "strict") ?? false
            let r = try VersionCompare.compare(a, b, strict: strict, c)
            switch op {
            case "lt", "<": return r < 0
            case "le", "<=": return r <= 0
            case "gt", ">": return r > 0
            case "ge", ">=": return r >= 0
            case "eq", "==", "=": return r == 0
            case "ne", "!=", "<>": return r != 0
            default: throw c.error("Invalid operator type (\(op))")
            }
        }
        t["version_compare"] = t["version"]
        t["exists"] = { c, input in FileManager.default.fileExists(atPath: Py.str(try c.input(input))) }
        t["file"] = { c, input in
            var dir: ObjCBool = false
            return FileManager.default.fileExists(atPath: Py.str(try c.input(input)), isDirectory: &dir) && !dir.boolValue
        }
        t["directory"] = { c, input in
            var dir: ObjCBool = false
            return FileManager.default.fileExists(atPath: Py.str(try c.input(input)), isDirectory: &dir) && dir.boolValue
        }
        t["abs"] = { c, input in Py.str(try c.input(input)).hasPrefix("/") }
        t["link"] = { c, input in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: Py.str(try c.input(input)))) != nil
        }
        t["any"] = { c, input in (Py.iterate(try c.input(input)) ?? []).contains { $0.isTruthy } }
        t["all"] = { c, input in (Py.iterate(try c.input(input)) ?? []).allSatisfy { $0.isTruthy } }
        t["nan"] = { c, input in
            if case .double(let d) = try c.input(input) { return d.isNaN }
            return false
        }
        return t
    }()
}

/// Python's LooseVersion ordering (Ansible's default for the `version` test).
enum VersionCompare {
    enum Part { case number(Int), text(String) }

    static func parts(_ v: String) -> [Part] {
        var out: [Part] = []
        var current = ""
        var isDigit = false
        func flush() {
            guard !current.isEmpty else { return }
            out.append(isDigit ? .number(Int(current) ?? 0) : .text(current))
            current = ""
        }
        for ch in v {
            if ch == "." { flush(); continue }
            let digit = ch.isASCII && ch.isNumber
            if !current.isEmpty, digit != isDigit { flush() }
            isDigit = digit
            current.append(ch)
        }
        flush()
        return out
    }

    static func compare(_ a: String, _ b: String, strict: Bool, _ c: Call) throws -> Int {
        let x = parts(a), y = parts(b)
        for i in 0..<min(x.count, y.count) {
            switch (x[i], y[i]) {
            case (.number(let m), .number(let n)): if m != n { return m < n ? -1 : 1 }
            case (.text(let m), .text(let n)): if m != n { return m < n ? -1 : 1 }
            case (.number, .text), (.text, .number):
                throw c.error("Version comparison failed: '<' not supported between instances of 'int' and 'str'")
            }
        }
        return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
    }
}
