import Foundation
import OrderedCollections
import PGHACore

/// Python's arithmetic and comparison semantics over `Value`.
enum Arithmetic {
    static func binary(_ op: String, _ a: Value, _ b: Value, line: Int) throws -> Value {
        func unsupported() -> TemplateRuntimeError {
            .template("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'", line: line)
        }
        switch op {
        case "+":
            switch (a, b) {
            case (.string(let x), .string(let y)): return .string(x + y)
            case (.list(let x), .list(let y)): return .list(x + y)
            case (.string, _): throw TemplateRuntimeError.template("can only concatenate str (not \"\(b.typeName)\") to str", line: line)
            case (.list, _): throw TemplateRuntimeError.template("can only concatenate list (not \"\(b.typeName)\") to list", line: line)
            default:
                if let x = Py.asInt(a), let y = Py.asInt(b) {
                    let (r, o) = x.addingReportingOverflow(y)
                    return o ? .double(Double(x) + Double(y)) : .int(r)
                }
                if let x = Py.asDouble(a), let y = Py.asDouble(b) { return .double(x + y) }
                throw unsupported()
            }
        case "-":
            if let x = Py.asInt(a), let y = Py.asInt(b) {
                let (r, o) = x.subtractingReportingOverflow(y)
                return o ? .double(Double(x) - Double(y)) : .int(r)
            }
            if let x = Py.asDouble(a), let y = Py.asDouble(b) { return .double(x - y) }
            throw unsupported()
        case "*":
            switch (a, b) {
            case (.string(let s), _) where Py.asInt(b) != nil:
                return .string(String(repeating: s, count: max(0, Py.asInt(b)!)))
            case (_, .string(let s)) where Py.asInt(a) != nil:
                return .string(String(repeating: s, count: max(0, Py.asInt(a)!)))
            case (.list(let l), _) where Py.asInt(b) != nil:
                return .list(Array(repeating: l, count: max(0, Py.asInt(b)!)).flatMap { $0 })
            default:
                if let x = Py.asInt(a), let y = Py.asInt(b) {
                    let (r, o) = x.multipliedReportingOverflow(by: y)
                    return o ? .double(Double(x) * Double(y)) : .int(r)
                }
                if let x = Py.asDouble(a), let y = Py.asDouble(b) { return .double(x * y) }
                throw unsupported()
            }
        case "/":
            guard let x = Py.asDouble(a), let y = Py.asDouble(b) else { throw unsupported() }
            if y == 0 { throw TemplateRuntimeError.template("division by zero", line: line) }
            return .double(x / y)
        case "//":
            if let x = Py.asInt(a), let y = Py.asInt(b) {
                if y == 0 { throw TemplateRuntimeError.template("integer division or modulo by zero", line: line) }
                if y == -1 { return x == .min ? .double(-Double(x)) : .int(-x) }
                return .int(Py.floorDiv(x, y))
            }
            guard let x = Py.asDouble(a), let y = Py.asDouble(b) else { throw unsupported() }
            if y == 0 { throw TemplateRuntimeError.template("float floor division by zero", line: line) }
            return .double((x / y).rounded(.down))
        case "%":
            if case .string(let fmt) = a { return .string(try PyFormat.percent(fmt, b, line: line)) }
            if let x = Py.asInt(a), let y = Py.asInt(b) {
                if y == 0 { throw TemplateRuntimeError.template("integer modulo by zero", line: line) }
                if y == -1 { return .int(0) }
                return .int(Py.mod(x, y))
            }
            guard let x = Py.asDouble(a), let y = Py.asDouble(b) else { throw unsupported() }
            if y == 0 { throw TemplateRuntimeError.template("float modulo", line: line) }
            return .double(Py.fmod(x, y))
        case "**":
            if let x = Py.asInt(a), let y = Py.asInt(b), y >= 0 {
                var result = 1
                for _ in 0..<y {
                    let (r, o) = result.multipliedReportingOverflow(by: x)
                    if o { return .double(pow(Double(x), Double(y))) }
                    result = r
                }
                return .int(result)
            }
            guard let x = Py.asDouble(a), let y = Py.asDouble(b) else { throw unsupported() }
            return .double(pow(x, y))
        default:
            throw TemplateRuntimeError.template("unknown operator \(op)", line: line)
        }
    }

    static func compare(_ op: String, _ a: Value, _ b: Value, line: Int) throws -> Bool {
        switch op {
        case "==": return Py.equals(a, b)
        case "!=": return !Py.equals(a, b)
        case "in", "notin":
            guard let r = Py.contains(b, a) else {
                if case .string = b {
                    throw TemplateRuntimeError.template("'in <string>' requires string as left operand, not \(a.typeName)", line: line)
                }
                throw TemplateRuntimeError.template("argument of type '\(b.typeName)' is not iterable", line: line)
            }
            return op == "in" ? r : !r
        default:
            guard let c = Py.compare(a, b) else {
                throw TemplateRuntimeError.template(
                    "'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'", line: line)
            }
            switch op {
            case "<": return c < 0
            case ">": return c > 0
            case "<=": return c <= 0
            default: return c >= 0
            }
        }
    }
}

/// Python methods callable on values from templates (`s.split(',')`, `d.items()`).
enum Methods {
    static let stringMethods: Set<String> = [
        "split", "rsplit", "strip", "lstrip", "rstrip", "startswith", "endswith", "replace", "lower", "upper",
        "format", "join", "title", "capitalize", "find", "rfind", "index", "count", "splitlines", "isdigit", "isalpha",
        "isalnum", "isupper", "islower", "isspace", "zfill", "ljust", "rjust", "center", "swapcase", "partition",
        "rpartition", "removeprefix", "removesuffix", "casefold",
    ]
    static let listMethods: Set<String> = [
        "index", "count", "copy", "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
    ]
    /// Methods that change a list or dictionary in place (Jinja2's sandbox, which Ansible uses,
    /// allows them); the renderer stores the changed value back (`Renderer.callMutatingMethod`).
    static let mutating: Set<String> = [
        "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "popitem", "setdefault",
    ]

    static func has(_ v: Value, _ name: String) -> Bool {
        switch v {
        case .string: return stringMethods.contains(name)
        case .dict:
            // Hot path (every `a.b` on a dict): a switch avoids hashing the name.
            switch name {
            case "items", "keys", "values", "get", "copy", "update", "pop", "popitem", "setdefault", "clear": return true
            default: return false
            }
        case .list: return listMethods.contains(name)
        default: return false
        }
    }

    /// Applies a changing method to `receiver` and returns what Python's method returns.
    static func mutate(
        _ receiver: inout Value, _ name: String, _ args: [Value], _ kwargs: [(String, Value)], line: Int
    ) throws -> Value {
        func fail(_ message: String) -> TemplateRuntimeError { .template(message, line: line) }
        func argument(_ index: Int, _ keyword: String? = nil) -> Value? {
            if index < args.count { return args[index] }
            return keyword.flatMap { key in kwargs.first(where: { $0.0 == key })?.1 }
        }
        switch receiver {
        case .list(var list):
            defer { receiver = .list(list) }
            switch name {
            case "append":
                guard args.count == 1 else { throw fail("list.append() takes exactly one argument (\(args.count) given)") }
                list.append(args[0])
            case "extend":
                guard let items = argument(0).flatMap(Py.iterate) else { throw fail("list.extend() needs an iterable") }
                list.append(contentsOf: items)
            case "insert":
                guard args.count == 2, let index = Py.asInt(args[0]) else { throw fail("insert expected 2 arguments") }
                let position = index < 0 ? max(0, index + list.count) : min(index, list.count)
                list.insert(args[1], at: position)
            case "pop":
                guard !list.isEmpty else { throw fail("pop from empty list") }
                let index = argument(0).flatMap(Py.asInt) ?? -1
                let position = index < 0 ? index + list.count : index
                guard list.indices.contains(position) else { throw fail("pop index out of range") }
                return list.remove(at: position)
            case "remove":
                let x = argument(0) ?? .null
                guard let index = list.firstIndex(where: { Py.equals($0, x) }) else { throw fail("list.remove(x): x not in list") }
                list.remove(at: index)
            case "clear":
                list.removeAll()
            case "reverse":
                list.reverse()
            case "sort":
                var failure: TemplateRuntimeError?
                list.sort { a, b in
                    guard let order = Py.compare(a, b) else {
                        failure = fail("'<' not supported between instances of '\(b.typeName)' and '\(a.typeName)'")
                        return false
                    }
                    return order < 0
                }
                if let failure { throw failure }
                if argument(1, "reverse")?.isTruthy == true { list.reverse() }
            default:
                throw fail("'list' object has no attribute '\(name)'")
            }
            return .null
        case .dict(var dict):
            defer { receiver = .dict(dict) }
            func key(_ value: Value) -> String { value.stringValue ?? Py.str(value) }
            switch name {
            case "update":
                if let other = args.first {
                    switch other {
                    case .dict(let pairs): for (k, v) in pairs { dict[k] = v }
                    case .list(let pairs):
                        for pair in pairs {
                            guard let parts = Py.iterate(pair), parts.count == 2 else {
                                throw fail("dictionary update sequence element has the wrong length; 2 is required")
                            }
                            dict[key(parts[0])] = parts[1]
                        }
                    case .null: break
                    default: throw fail("'\(other.typeName)' object is not iterable")
                    }
                }
                for (k, v) in kwargs { dict[k] = v }
            case "pop":
                guard let k = argument(0) else { throw fail("pop expected at least 1 argument, got 0") }
                if let removed = dict.removeValue(forKey: key(k)) { return removed }
                guard let fallback = argument(1) else { throw fail(Py.repr(k)) }
                return fallback
            case "popitem":
                guard let last = dict.keys.last, let removed = dict.removeValue(forKey: last) else {
                    throw fail("'popitem(): dictionary is empty'")
                }
                return .list([.string(last), removed])
            case "setdefault":
                guard let k = argument(0) else { throw fail("setdefault expected at least 1 argument, got 0") }
                if let existing = dict[key(k)] { return existing }
                let fallback = argument(1) ?? .null
                dict[key(k)] = fallback
                return fallback
            case "clear":
                dict.removeAll()
            default:
                throw fail("'dict' object has no attribute '\(name)'")
            }
            return .null
        default:
            throw fail("'\(receiver.typeName)' object has no attribute '\(name)'")
        }
    }

    static func call(_ r: Renderer, _ receiver: Value, _ name: String, _ args: [RV], _ kwargs: [(String, RV)], line: Int) throws -> RV {
        let c = Call(renderer: r, args: args, kwargs: kwargs, line: line, name: name)
        switch receiver {
        case .dict(let d):
            switch name {
            case "items": return .v(.list(d.map { .list([.string($0.key), $0.value]) }))
            case "keys": return .v(.list(d.keys.map { .string($0) }))
            case "values": return .v(.list(Array(d.values)))
            case "copy": return .v(receiver)
            case "get":
                let key = try c.value(0) ?? .null
                let k: String = key.stringValue ?? Py.str(key)
                if let v = d[k] { return .v(v) }
                return .v(try c.value(1) ?? .null)
            default: break
            }
        case .list(let l):
            switch name {
            case "copy": return .v(receiver)
            case "count":
                let x = try c.value(0) ?? .null
                return .v(.int(l.filter { Py.equals($0, x) }.count))
            case "index":
                let x = try c.value(0) ?? .null
                guard let i = l.firstIndex(where: { Py.equals($0, x) }) else {
                    throw c.error("\(Py.repr(x)) is not in list")
                }
                return .v(.int(i))
            default: break
            }
        case .string(let s):
            return .v(try stringMethod(c, s, name))
        default: break
        }
        throw c.error("'\(receiver.typeName)' object has no attribute '\(name)'")
    }

    static func pyStrip(_ s: String, chars: String?, left: Bool, right: Bool) -> String {
        let set: Set<Unicode.Scalar> = chars.map { Set($0.unicodeScalars) } ?? []
        func strip(_ u: Unicode.Scalar) -> Bool {
            chars == nil ? u.properties.isWhitespace : set.contains(u)
        }
        var sc = Py.scalars(s)[...]
        if left { while let f = sc.first, strip(f) { sc = sc.dropFirst() } }
        if right { while let l = sc.last, strip(l) { sc = sc.dropLast() } }
        return Py.string(sc)
    }

    static func pySplit(_ s: String, sep: String?, maxsplit: Int) -> [String] {
        if let sep {
            var parts: [String] = []
            var rest = Substring(s)
            while maxsplit < 0 || parts.count < maxsplit, let r = rest.range(of: sep) {
                parts.append(String(rest[..<r.lowerBound]))
                rest = rest[r.upperBound...]
            }
            parts.append(String(rest))
            return parts
        }
        var parts: [String] = []
        var sc = Py.scalars(s)[...]
        while true {
            while let f = sc.first, f.properties.isWhitespace { sc = sc.dropFirst() }
            if sc.isEmpty { break }
            if maxsplit >= 0, parts.count >= maxsplit {
                var tail = sc
                while let l = tail.last, l.properties.isWhitespace { tail = tail.dropLast() }
                parts.append(Py.string(tail))
                break
            }
            var end = sc.startIndex
            while end < sc.endIndex, !sc[end].properties.isWhitespace { end += 1 }
            parts.append(Py.string(sc[sc.startIndex..<end]))
            sc = sc[end...]
        }
        return parts
    }

    static func titleCase(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var prevCased = false
        for u in s.unicodeScalars {
            let isLetter = u.properties.isAlphabetic
            if isLetter {
                out.append(contentsOf: (prevCased ? String(u).lowercased() : String(u).uppercased()).unicodeScalars)
            } else {
                out.append(u)
            }
            prevCased = isLetter
        }
        return String(out)
    }

    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return String(first).uppercased() + Py.string(Py.scalars(s)[1...]).lowercased()
    }

    static func stringMethod(_ c: Call, _ s: String, _ name: String) throws -> Value {
        switch name {
        case "split", "rsplit":
            let sep = try c.value(0, "sep")
            let maxsplit = try c.int(1, "maxsplit") ?? -1
            let sepString: String? = (sep == nil || sep == .null) ? nil : Py.str(sep!)
            if sepString == "" { throw c.error("empty separator") }
            if name == "rsplit", maxsplit >= 0 {
                // rsplit only differs when limited: split the reversed string.
                let rev = String(s.reversed())
                let parts = pySplit(rev, sep: sepString.map { String($0.reversed()) }, maxsplit: maxsplit)
                return .list(parts.reversed().map { .string(String($0.reversed())) })
            }
            return .list(pySplit(s, sep: sepString, maxsplit: maxsplit).map { .string($0) })
        case "strip", "lstrip", "rstrip":
            let chars = try c.value(0)
            let cs: String? = (chars == nil || chars == .null) ? nil : Py.str(chars!)
            return .string(pyStrip(s, chars: cs, left: name != "rstrip", right: name != "lstrip"))
        case "startswith", "endswith":
            let arg = try c.value(0) ?? .string("")
            let candidates: [String] = arg.listValue?.map { Py.str($0) } ?? [Py.str(arg)]
            return .bool(candidates.contains { name == "startswith" ? s.hasPrefix($0) : s.hasSuffix($0) })
        case "replace":
            let old = try c.string(0) ?? ""
            let new = try c.string(1) ?? ""
            let count = try c.int(2) ?? -1
            if count < 0 { return .string(old.isEmpty ? s : s.replacingOccurrences(of: old, with: new)) }
            var out = ""
            var rest = Substring(s)
            var n = 0
            while n < count, let r = rest.range(of: old) {
                out += rest[..<r.lowerBound] + new
                rest = rest[r.upperBound...]
                n += 1
            }
            return .string(out + rest)
        case "lower", "casefold": return .string(s.lowercased())
        case "upper": return .string(s.uppercased())
        case "title": return .string(titleCase(s))
        case "capitalize": return .string(capitalize(s))
        case "swapcase":
            return .string(String(s.map { $0.isUppercase ? Character($0.lowercased()) : Character($0.uppercased()) }))
        case "format":
            var positional: [Value] = []
            for a in c.args { positional.append(try c.input(a)) }
            var named: [String: Value] = [:]
            for (k, v) in c.kwargs { named[k] = try c.input(v) }
            return .string(try PyFormat.format(s, positional, named, line: c.line))
        case "join":
            let items = try c.value(0) ?? .list([])
            guard let list = Py.iterate(items) else { throw c.error("can only join an iterable") }
            var parts: [String] = []
            for item in list {
                guard case .string(let str) = item else {
                    throw c.error("sequence item \(parts.count): expected str instance, \(item.typeName) found")
                }
                parts.append(str)
            }
            return .string(parts.joined(separator: s))
        case "find", "rfind", "index":
            let sub = try c.string(0) ?? ""
            let sc = Py.scalars(s), subc = Py.scalars(sub)
            var found = -1
            if subc.count <= sc.count {
                let range = Array(0...(sc.count - subc.count))
                for i in (name == "rfind" ? range.reversed() : range) where Array(sc[i..<i + subc.count]) == subc {
                    found = i
                    break
                }
            }
            if name == "index", found < 0 { throw c.error("substring not found") }
            return .int(found)
        case "count":
            let sub = try c.string(0) ?? ""
            if sub.isEmpty { return .int(s.unicodeScalars.count + 1) }
            return .int(s.components(separatedBy: sub).count - 1)
        case "splitlines":
            var lines = s.components(separatedBy: "\n")
            if lines.last == "" { lines.removeLast() }
            return .list(lines.map { .string($0.hasSuffix("\r") ? String($0.dropLast()) : $0) })
        case "isdigit": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { ("0"..."9").contains($0) })
        case "isalpha": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
        case "isalnum":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
        case "isspace": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isWhitespace })
        case "isupper": return .bool(s.contains { $0.isLetter } && s == s.uppercased())
        case "islower": return .bool(s.contains { $0.isLetter } && s == s.lowercased())
        case "zfill":
            let width = try c.int(0) ?? 0
            let n = s.unicodeScalars.count
            guard n < width else { return .string(s) }
            let pad = String(repeating: "0", count: width - n)
            if s.hasPrefix("-") || s.hasPrefix("+") { return .string(String(s.first!) + pad + s.dropFirst()) }
            return .string(pad + s)
        case "ljust", "rjust", "center":
            let width = try c.int(0) ?? 0
            let fill = try c.string(1) ?? " "
            let n = s.unicodeScalars.count
            guard n < width else { return .string(s) }
            let total = width - n
            switch name {
            case "ljust": return .string(s + String(repeating: fill, count: total))
            case "rjust": return .string(String(repeating: fill, count: total) + s)
            default:
                // Python's str.center puts the extra space on the right only when the width is odd... as CPython.
                let left = total / 2 + (total & width & 1)
                return .string(String(repeating: fill, count: left) + s + String(repeating: fill, count: total - left))
            }
        case "partition", "rpartition":
            let sep = try c.string(0) ?? ""
            let r = name == "partition" ? s.range(of: sep) : s.range(of: sep, options: .backwards)
            guard let r else {
                return name == "partition" ? .list([.string(s), "", ""]) : .list(["", "", .string(s)])
            }
            return .list([.string(String(s[..<r.lowerBound])), .string(sep), .string(String(s[r.upperBound...]))])
        case "removeprefix":
            let p = try c.string(0) ?? ""
            return .string(s.hasPrefix(p) ? String(s.dropFirst(p.count)) : s)
        case "removesuffix":
            let p = try c.string(0) ?? ""
            return .string(s.hasSuffix(p) ? String(s.dropLast(p.count)) : s)
        default:
            throw c.error("'str' object has no attribute '\(name)'")
        }
    }
}
