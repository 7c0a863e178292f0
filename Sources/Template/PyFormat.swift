import Foundation
import PGHACore

/// Python's `%` formatting and `str.format`, for the conversions templates actually use.
enum PyFormat {
    struct Spec {
        var fill: Character = " "
        var align: Character?
        var sign: Character?
        var alternate = false
        var zero = false
        var width = 0
        var grouping: Character?
        var precision: Int?
        var type: Character?
    }

    static func percent(_ fmt: String, _ arg: Value, line: Int) throws -> String {
        if case .list(let l) = arg { return try percent(fmt, args: l, line: line) }
        return try percent(fmt, args: [arg], line: line)
    }

    /// `fmt % args` where `args` are the tuple's items (a single non-tuple operand is a one-item tuple).
    static func percent(_ fmt: String, args: [Value], line: Int) throws -> String {
        var mapping: [String: Value]?
        if args.count == 1, case .dict(let d) = args[0] {
            mapping = Dictionary(uniqueKeysWithValues: d.map { ($0.key, $0.value) })
        }
        var out = ""
        var next = 0
        let chars = Array(fmt)
        var i = 0
        while i < chars.count {
            let ch = chars[i]
            guard ch == "%" else { out.append(ch); i += 1; continue }
            i += 1
            guard i < chars.count else { throw TemplateRuntimeError.template("incomplete format", line: line) }
            if chars[i] == "%" { out.append("%"); i += 1; continue }
            var key: String?
            if chars[i] == "(" {
                var j = i + 1
                while j < chars.count, chars[j] != ")" { j += 1 }
                key = String(chars[(i + 1)..<j])
                i = j + 1
            }
            var spec = Spec()
            while i < chars.count, "-+ #0".contains(chars[i]) {
                switch chars[i] {
                case "-": spec.align = "<"
                case "+": spec.sign = "+"
                case " ": spec.sign = " "
                case "#": spec.alternate = true
                default: spec.zero = true
                }
                i += 1
            }
            var width = ""
            while i < chars.count, chars[i].isNumber { width.append(chars[i]); i += 1 }
            spec.width = Int(width) ?? 0
            if i < chars.count, chars[i] == "." {
                i += 1
                var p = ""
                while i < chars.count, chars[i].isNumber { p.append(chars[i]); i += 1 }
                spec.precision = Int(p) ?? 0
            }
            guard i < chars.count else { throw TemplateRuntimeError.template("incomplete format", line: line) }
            let conv = chars[i]
            i += 1
            let value: Value
            if let key {
                guard let m = mapping, let v = m[key] else { throw TemplateRuntimeError.template("KeyError: '\(key)'", line: line) }
                value = v
            } else {
                guard next < args.count else {
                    throw TemplateRuntimeError.template("not enough arguments for format string", line: line)
                }
                value = args[next]
                next += 1
            }
            if spec.align == nil { spec.align = ">" }
            if spec.zero, spec.align == ">" { spec.fill = "0"; spec.align = "=" }
            switch conv {
            case "s": out += pad(Py.str(value), spec, numeric: false)
            case "r": out += pad(Py.repr(value), spec, numeric: false)
            case "d", "i", "u":
                guard let d = Py.asDouble(value) else {
                    throw TemplateRuntimeError.template("%\(conv) format: a real number is required, not \(value.typeName)", line: line)
                }
                spec.type = "d"
                guard let i = Py.truncate(d) else {
                    throw TemplateRuntimeError.template("cannot convert float \(Py.floatRepr(d)) to integer", line: line)
                }
                out += formatNumber(.int(i), spec)
            case "f", "F", "e", "E", "g", "G", "x", "X", "o":
                spec.type = conv
                if spec.precision == nil, "fFeE".contains(conv) { spec.precision = 6 }
                out += formatNumber(value, spec)
            default:
                throw TemplateRuntimeError.template("unsupported format character '\(conv)'", line: line)
            }
        }
        if mapping == nil, next < args.count {
            throw TemplateRuntimeError.template("not all arguments converted during string formatting", line: line)
        }
        return out
    }

    static func pad(_ s: String, _ spec: Spec, numeric: Bool) -> String {
        let n = s.unicodeScalars.count
        guard spec.width > n else { return s }
        let fill = String(repeating: spec.fill, count: spec.width - n)
        switch spec.align ?? (numeric ? ">" : "<") {
        case "<": return s + fill
        case "^":
            let total = spec.width - n
            let left = total / 2
            return String(repeating: spec.fill, count: left) + s + String(repeating: spec.fill, count: total - left)
        case "=":
            if let f = s.first, f == "-" || f == "+" || f == " " { return String(f) + fill + s.dropFirst() }
            return fill + s
        default: return fill + s
        }
    }

    static func formatNumber(_ v: Value, _ spec: Spec) -> String {
        var body: String
        var negative = false
        var type = spec.type
        if type == nil, Py.asInt(v) != nil { type = "d" }
        switch type {
        case "d", "n":
            let i = Py.asInt(v) ?? Py.truncate(Py.asDouble(v) ?? 0) ?? 0
            negative = i < 0
            body = String(i.magnitude)
            if let g = spec.grouping { body = group(body, g) }
        case "x", "X", "o", "b":
            let i = Py.asInt(v) ?? Py.truncate(Py.asDouble(v) ?? 0) ?? 0
            negative = i < 0
            let radix = spec.type == "o" ? 8 : (spec.type == "b" ? 2 : 16)
            body = String(i.magnitude, radix: radix, uppercase: spec.type == "X")
            if spec.alternate { body = (spec.type == "o" ? "0o" : (spec.type == "b" ? "0b" : (spec.type == "X" ? "0X" : "0x"))) + body }
        case "%":
            let d = (Py.asDouble(v) ?? 0) * 100
            negative = d < 0
            body = String(format: "%.\(spec.precision ?? 6)f", abs(d)) + "%"
        case "e", "E", "g", "G", "f", "F":
            let d = Py.asDouble(v) ?? 0
            negative = d < 0 || (d == 0 && d.sign == .minus)
            let t = spec.type!
            body = String(format: "%.\(spec.precision ?? 6)\(t)", abs(d))
            if let g = spec.grouping, let dot = body.firstIndex(of: ".") {
                body = group(String(body[..<dot]), g) + body[dot...]
            } else if let g = spec.grouping {
                body = group(body, g)
            }
        default:
            // No type: ints as ints, floats by repr (or general format with precision).
            if case .double(let d) = v {
                negative = d < 0
                if let p = spec.precision {
                    body = String(format: "%.\(p)g", abs(d))
                } else {
                    body = Py.floatRepr(abs(d))
                }
            } else {
                let i = Py.asInt(v) ?? 0
                negative = i < 0
                body = String(i.magnitude)
            }
        }
        let sign = negative ? "-" : (spec.sign == "+" ? "+" : (spec.sign == " " ? " " : ""))
        return pad(sign + body, spec, numeric: true)
    }

    private static func group(_ digits: String, _ sep: Character) -> String {
        var out = ""
        for (i, c) in digits.reversed().enumerated() {
            if i > 0, i % 3 == 0 { out.append(sep) }
            out.append(c)
        }
        return String(out.reversed())
    }

    static func parseSpec(_ text: String) -> Spec {
        var spec = Spec()
        var chars = Array(text)[...]
        if chars.count >= 2, "<>=^".contains(chars[chars.startIndex + 1]) {
            spec.fill = chars.first!
            spec.align = chars[chars.startIndex + 1]
            chars = chars.dropFirst(2)
        } else if let f = chars.first, "<>=^".contains(f) {
            spec.align = f
            chars = chars.dropFirst()
        }
        if let f = chars.first, "+- ".contains(f) { spec.sign = f; chars = chars.dropFirst() }
        if chars.first == "#" { spec.alternate = true; chars = chars.dropFirst() }
        if chars.first == "0" {
            spec.zero = true
            chars = chars.dropFirst()
            if spec.align == nil { spec.fill = "0"; spec.align = "=" }
        }
        var w = ""
        while let f = chars.first, f.isNumber { w.append(f); chars = chars.dropFirst() }
        spec.width = Int(w) ?? 0
        if let f = chars.first, f == "," || f == "_" { spec.grouping = f; chars = chars.dropFirst() }
        if chars.first == "." {
            chars = chars.dropFirst()
            var p = ""
            while let f = chars.first, f.isNumber { p.append(f); chars = chars.dropFirst() }
            spec.precision = Int(p) ?? 0
        }
        if let f = chars.first { spec.type = f }
        return spec
    }

    static func applySpec(_ v: Value, _ specText: String, line: Int) throws -> String {
        if specText.isEmpty { return Py.str(v) }
        let spec = parseSpec(specText)
        if case .string(let s) = v {
            var str = s
            if let p = spec.precision { str = String(s.unicodeScalars.prefix(p).map(Character.init)) }
            return pad(str, spec, numeric: false)
        }
        if Py.isNumber(v) {
            // A bool with a format spec formats as the int it is.
            if case .bool(let b) = v { return formatNumber(.int(b ? 1 : 0), spec) }
            return formatNumber(v, spec)
        }
        return pad(Py.str(v), spec, numeric: false)
    }

    static func format(_ fmt: String, _ args: [Value], _ kwargs: [String: Value], line: Int) throws -> String {
        var out = ""
        var auto = 0
        let chars = Array(fmt)
        var i = 0
        while i < chars.count {
            let ch = chars[i]
            if ch == "{" {
                if i + 1 < chars.count, chars[i + 1] == "{" { out.append("{"); i += 2; continue }
                var j = i + 1
                var depth = 1
                while j < chars.count {
                    if chars[j] == "{" { depth += 1 }
                    if chars[j] == "}" { depth -= 1; if depth == 0 { break } }
                    j += 1
                }
                guard j < chars.count else {
                    throw TemplateRuntimeError.template("Single '{' encountered in format string", line: line)
                }
                let field = String(chars[(i + 1)..<j])
                i = j + 1
                var name = field
                var specText = ""
                var conversion: Character?
                if let colon = field.firstIndex(of: ":") {
                    name = String(field[..<colon])
                    specText = String(field[field.index(after: colon)...])
                }
                if let bang = name.firstIndex(of: "!") {
                    conversion = name[name.index(after: bang)...].first
                    name = String(name[..<bang])
                }
                // Field name: index or key, then .attr / [key] chains.
                var head = name
                var rest = ""
                if let cut = name.firstIndex(where: { $0 == "." || $0 == "[" }) {
                    head = String(name[..<cut])
                    rest = String(name[cut...])
                }
                var value: Value
                if head.isEmpty {
                    guard auto < args.count else {
                        throw TemplateRuntimeError.template("Replacement index \(auto) out of range for positional args tuple", line: line)
                    }
                    value = args[auto]
                    auto += 1
                } else if let idx = Int(head) {
                    guard idx < args.count else {
                        throw TemplateRuntimeError.template("Replacement index \(idx) out of range for positional args tuple", line: line)
                    }
                    value = args[idx]
                } else {
                    guard let v = kwargs[head] else { throw TemplateRuntimeError.template("KeyError: '\(head)'", line: line) }
                    value = v
                }
                while !rest.isEmpty {
                    if rest.hasPrefix(".") {
                        rest.removeFirst()
                        let end = rest.firstIndex(where: { $0 == "." || $0 == "[" }) ?? rest.endIndex
                        let key = String(rest[..<end])
                        rest = String(rest[end...])
                        value = value[key] ?? .null
                    } else if rest.hasPrefix("[") {
                        let end = rest.firstIndex(of: "]") ?? rest.endIndex
                        let key = String(rest[rest.index(after: rest.startIndex)..<end])
                        rest = end < rest.endIndex ? String(rest[rest.index(after: end)...]) : ""
                        if let n = Int(key), case .list(let l) = value, n < l.count { value = l[n] } else { value = value[key] ?? .null }
                    } else { break }
                }
                if conversion == "r" { value = .string(Py.repr(value)) }
                if conversion == "s" { value = .string(Py.str(value)) }
                out += try applySpec(value, specText, line: line)
            } else if ch == "}" {
                if i + 1 < chars.count, chars[i + 1] == "}" { out.append("}"); i += 2; continue }
                throw TemplateRuntimeError.template("Single '}' encountered in format string", line: line)
            } else {
                out.append(ch)
                i += 1
            }
        }
        return out
    }
}
