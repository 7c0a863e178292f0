import Foundation
import OrderedCollections

/// JSON text in and out, with the exact spelling Python's `json.dumps` uses, because Ansible output
/// and `to_json` are compared byte for byte with ansible-playbook's.
public enum JSON {
    public struct Style: Sendable {
        /// nil: one line with ", " and ": " separators (Python's default).
        public var indent: Int?
        public var sortKeys: Bool
        /// Python's ensure_ascii.
        public var asciiOnly: Bool
        /// Compact separators "," and ":" (used for JSON-lines events).
        public var compact: Bool

        public init(indent: Int? = nil, sortKeys: Bool = false, asciiOnly: Bool = true, compact: Bool = false) {
            self.indent = indent
            self.sortKeys = sortKeys
            self.asciiOnly = asciiOnly
            self.compact = compact
        }

        public static let python = Style()
        public static let pythonPretty = Style(indent: 4, sortKeys: true)
        public static let compact = Style(asciiOnly: false, compact: true)
    }

    public static func encode(_ value: Value, style: Style = .python) -> String {
        var out = ""
        write(value, style: style, depth: 0, into: &out)
        return out
    }

    private static func write(_ value: Value, style: Style, depth: Int, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += formatDouble(d)
        case .string(let s): writeString(s, asciiOnly: style.asciiOnly, into: &out)
        case .list(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += style.indent == nil ? (style.compact ? "," : ", ") : "," }
                newline(style, depth + 1, &out)
                write(item, style: style, depth: depth + 1, into: &out)
            }
            newline(style, depth, &out)
            out += "]"
        case .dict(let dict):
            if dict.isEmpty { out += "{}"; return }
            out += "{"
            let keys = style.sortKeys ? dict.keys.sorted() : Array(dict.keys)
            for (index, key) in keys.enumerated() {
                if index > 0 { out += style.indent == nil ? (style.compact ? "," : ", ") : "," }
                newline(style, depth + 1, &out)
                writeString(key, asciiOnly: style.asciiOnly, into: &out)
                out += style.compact ? ":" : ": "
                write(dict[key]!, style: style, depth: depth + 1, into: &out)
            }
            newline(style, depth, &out)
            out += "}"
        }
    }

    private static func newline(_ style: Style, _ depth: Int, _ out: inout String) {
        guard let indent = style.indent else { return }
        out += "\n" + String(repeating: " ", count: indent * depth)
    }

    /// Python's float repr: shortest round-trip digits, always with a '.' or exponent.
    public static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        if d == d.rounded(), abs(d) < 1e16 {
            return String(format: "%.1f", d)
        }
        var text = "\(d)"
        // Swift prints 1e-05 as "1e-05" like Python; large values as "1e+16" like Python.
        if text.contains("e") && !text.contains("e-") && !text.contains("e+") {
            text = text.replacingOccurrences(of: "e", with: "e+")
        }
        return text
    }

    private static func writeString(_ s: String, asciiOnly: Bool, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || (asciiOnly && scalar.value > 0x7E) {
                    if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        out += String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                    } else {
                        out += String(format: "\\u%04x", scalar.value)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    /// Parses JSON text, keeping object key order.
    public static func decode(_ text: String, location: SourceLocation? = nil) throws -> Value {
        var parser = Parser(scalars: Array(text.unicodeScalars), location: location)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == parser.scalars.count else { throw parser.error("extra data after JSON value") }
        return value
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        let location: SourceLocation?
        var index = 0

        init(scalars: [Unicode.Scalar], location: SourceLocation?) {
            self.scalars = scalars
            self.location = location
        }

        func error(_ message: String) -> PGHAError {
            PGHAError(.syntax, "invalid JSON: \(message) at character \(index)", at: location)
        }

        mutating func skipWhitespace() {
            while index < scalars.count, [" ", "\n", "\r", "\t"].contains(scalars[index]) { index += 1 }
        }

        mutating func parseValue(depth: Int) throws -> Value {
            guard depth < 512 else { throw error("nesting too deep") }
            guard index < scalars.count else { throw error("unexpected end") }
            switch scalars[index] {
            case "{":
                index += 1
                var dict = OrderedDictionary<String, Value>()
                skipWhitespace()
                if index < scalars.count, scalars[index] == "}" { index += 1; return .dict(dict) }
                while true {
                    skipWhitespace()
                    guard index < scalars.count, scalars[index] == "\"" else { throw error("expected a key") }
                    let key = try parseString()
                    skipWhitespace()
                    guard index < scalars.count, scalars[index] == ":" else { throw error("expected ':'") }
                    index += 1
                    skipWhitespace()
                    dict[key] = try parseValue(depth: depth + 1)
                    skipWhitespace()
                    guard index < scalars.count else { throw error("unexpected end") }
                    if scalars[index] == "," { index += 1; continue }
                    if scalars[index] == "}" { index += 1; return .dict(dict) }
                    throw error("expected ',' or '}'")
                }
            case "[":
                index += 1
                var list: [Value] = []
                skipWhitespace()
                if index < scalars.count, scalars[index] == "]" { index += 1; return .list(list) }
                while true {
                    skipWhitespace()
                    list.append(try parseValue(depth: depth + 1))
                    skipWhitespace()
                    guard index < scalars.count else { throw error("unexpected end") }
                    if scalars[index] == "," { index += 1; continue }
                    if scalars[index] == "]" { index += 1; return .list(list) }
                    throw error("expected ',' or ']'")
                }
            case "\"":
                return .string(try parseString())
            case "t": try expectWord("true"); return .bool(true)
            case "f": try expectWord("false"); return .bool(false)
            case "n": try expectWord("null"); return .null
            case "N": try expectWord("NaN"); return .double(.nan)
            case "I": try expectWord("Infinity"); return .double(.infinity)
            default:
                return try parseNumber()
            }
        }

        mutating func expectWord(_ word: String) throws {
            let w = Array(word.unicodeScalars)
            guard index + w.count <= scalars.count, Array(scalars[index..<index + w.count]) == w else {
                throw error("unexpected token")
            }
            index += w.count
        }

        mutating func parseNumber() throws -> Value {
            let start = index
            if index < scalars.count, scalars[index] == "-" { index += 1 }
            if index < scalars.count, scalars[index] == "I" {
                try expectWord("Infinity")
                return .double(-.infinity)
            }
            var isDouble = false
            while index < scalars.count {
                let c = scalars[index]
                if ("0"..."9").contains(c) { index += 1 }
                else if c == "." || c == "e" || c == "E" || c == "+" || (c == "-" && index > start) {
                    isDouble = true; index += 1
                } else { break }
            }
            let text = String(String.UnicodeScalarView(scalars[start..<index]))
            guard !text.isEmpty, text != "-" else { throw error("unexpected character") }
            if !isDouble, let i = Int(text) { return .int(i) }
            guard let d = Double(text) else { throw error("bad number '\(text)'") }
            return .double(d)
        }

        mutating func parseString() throws -> String {
            index += 1
            var result = String.UnicodeScalarView()
            while index < scalars.count {
                let c = scalars[index]
                index += 1
                if c == "\"" { return String(result) }
                if c == "\\" {
                    guard index < scalars.count else { break }
                    let e = scalars[index]
                    index += 1
                    switch e {
                    case "n": result.append("\n")
                    case "t": result.append("\t")
                    case "r": result.append("\r")
                    case "b": result.append("\u{08}")
                    case "f": result.append("\u{0C}")
                    case "/": result.append("/")
                    case "\\": result.append("\\")
                    case "\"": result.append("\"")
                    case "u":
                        var code = try hex4()
                        if (0xD800...0xDBFF).contains(code), index + 1 < scalars.count, scalars[index] == "\\",
                            scalars[index + 1] == "u"
                        {
                            index += 2
                            let low = try hex4()
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        result.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                    default: throw error("bad escape")
                    }
                } else {
                    result.append(c)
                }
            }
            throw error("unterminated string")
        }

        mutating func hex4() throws -> UInt32 {
            guard index + 4 <= scalars.count,
                let v = UInt32(String(String.UnicodeScalarView(scalars[index..<index + 4])), radix: 16)
            else { throw error("bad \\u escape") }
            index += 4
            return v
        }
    }
}
