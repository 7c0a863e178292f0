import Foundation
import PGHACore

/// PyYAML's `yaml.dump` output (as Ansible's `to_yaml`/`to_nice_yaml` produce it): sorted keys,
/// implicit-type quoting, PyYAML's plain/single/double quoting choice and 80-column folding.
struct YAMLDump {
    let step: Int
    let defaultFlowStyle: Bool?
    let sortKeys: Bool
    let bestWidth = 80
    var out = ""
    var column = 0

    static func dump(_ value: Value, indent: Int, defaultFlowStyle: Bool?, sortKeys: Bool) -> String {
        var d = YAMLDump(step: max(2, min(indent, 9)), defaultFlowStyle: defaultFlowStyle, sortKeys: sortKeys)
        d.emitRoot(value)
        return d.out
    }

    private init(step: Int, defaultFlowStyle: Bool?, sortKeys: Bool) {
        self.step = step
        self.defaultFlowStyle = defaultFlowStyle
        self.sortKeys = sortKeys
    }

    private mutating func write(_ s: String) {
        out += s
        if let nl = s.lastIndex(of: "\n") {
            column = s[s.index(after: nl)...].unicodeScalars.count
        } else {
            column += s.unicodeScalars.count
        }
    }

    private mutating func newline(_ indent: Int) {
        write("\n" + String(repeating: " ", count: indent))
    }

    private func entries(_ v: Value) -> [(String, Value)] {
        guard case .dict(let d) = v else { return [] }
        let pairs = d.map { ($0.key, $0.value) }
        return sortKeys ? pairs.sorted { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) } : pairs
    }

    private func isCollection(_ v: Value) -> Bool {
        switch v {
        case .list, .dict: return true
        default: return false
        }
    }

    private func isFlow(_ v: Value) -> Bool {
        switch v {
        case .list(let l):
            if l.isEmpty { return true }
            if let f = defaultFlowStyle { return f }
            return !l.contains(where: isCollection)
        case .dict(let d):
            if d.isEmpty { return true }
            if let f = defaultFlowStyle { return f }
            return !d.values.contains(where: isCollection)
        default: return false
        }
    }

    private mutating func emitRoot(_ v: Value) {
        if isCollection(v) {
            if isFlow(v) {
                emitFlow(v, indent: step)
            } else {
                emitBlock(v, indent: 0, inline: false)
                if !out.hasSuffix("\n") { write("\n") }
                return
            }
            write("\n")
            return
        }
        // Ansible's dumper omits PyYAML's "..." document end after a plain root scalar.
        _ = emitScalar(v, indent: step, flow: false, simpleKey: false)
        write("\n")
    }

    /// Block collection whose first line starts at the current column (`inline`) or on a fresh line.
    private mutating func emitBlock(_ v: Value, indent: Int, inline: Bool) {
        switch v {
        case .dict:
            var first = true
            for (k, value) in entries(v) {
                if !(first && inline) {
                    if !out.isEmpty { newline(indent) }
                } else if column < indent {
                    write(String(repeating: " ", count: indent - column))
                }
                first = false
                _ = emitScalar(.string(k), indent: indent + step, flow: false, simpleKey: true)
                write(":")
                emitValue(value, parentIndent: indent, inMapping: true)
            }
        case .list(let l):
            var first = true
            for item in l {
                if !(first && inline) {
                    if !out.isEmpty { newline(indent) }
                } else if column < indent {
                    write(String(repeating: " ", count: indent - column))
                }
                first = false
                write("-")
                emitValue(item, parentIndent: indent, inMapping: false)
            }
        default:
            break
        }
    }

    private mutating func emitValue(_ value: Value, parentIndent: Int, inMapping: Bool) {
        if isCollection(value), !isFlow(value) {
            if inMapping {
                if case .list = value {
                    // PyYAML writes sequences inside mappings without extra indentation.
                    newline(parentIndent)
                    emitBlock(value, indent: parentIndent, inline: true)
                } else {
                    newline(parentIndent + step)
                    emitBlock(value, indent: parentIndent + step, inline: true)
                }
            } else {
                emitBlock(value, indent: parentIndent + step, inline: true)
            }
            return
        }
        write(" ")
        if isCollection(value) {
            emitFlow(value, indent: parentIndent + step)
        } else {
            _ = emitScalar(value, indent: parentIndent + step, flow: false, simpleKey: false)
        }
    }

    private mutating func emitFlow(_ v: Value, indent: Int) {
        switch v {
        case .list(let l):
            write("[")
            for (i, item) in l.enumerated() {
                if i > 0 { write(",") }
                if column > bestWidth { newline(indent) } else if i > 0 { write(" ") }
                if isCollection(item) { emitFlow(item, indent: indent + step) } else {
                    _ = emitScalar(item, indent: indent + step, flow: true, simpleKey: false)
                }
            }
            write("]")
        case .dict:
            write("{")
            for (i, (k, value)) in entries(v).enumerated() {
                if i > 0 { write(",") }
                if column > bestWidth { newline(indent) } else if i > 0 { write(" ") }
                _ = emitScalar(.string(k), indent: indent + step, flow: true, simpleKey: true)
                write(": ")
                if isCollection(value) { emitFlow(value, indent: indent + step) } else {
                    _ = emitScalar(value, indent: indent + step, flow: true, simpleKey: false)
                }
            }
            write("}")
        default:
            break
        }
    }

    /// Writes a scalar; returns true when it was written plain.
    private mutating func emitScalar(_ v: Value, indent: Int, flow: Bool, simpleKey: Bool) -> Bool {
        switch v {
        case .null: write("null"); return true
        case .bool(let b): write(b ? "true" : "false"); return true
        case .int(let i): write(String(i)); return true
        case .double(let d):
            var text: String
            if d.isNaN { text = ".nan" } else if d.isInfinite { text = d > 0 ? ".inf" : "-.inf" } else {
                text = Py.floatRepr(d).lowercased()
                if !text.contains("."), text.contains("e") {
                    text = text.replacingOccurrences(of: "e", with: ".0e")
                }
            }
            write(text)
            return true
        case .string(let s):
            let a = YAMLDump.analyze(s)
            let multiline = a.lineBreaks
            if !s.isEmpty, !YAMLDump.resolvesToNonString(s), flow ? a.flowPlain : a.blockPlain,
                !(simpleKey && multiline)
            {
                writePlain(s, indent: indent)
                return true
            }
            if a.singleQuoted, !(simpleKey && multiline) {
                writeSingleQuoted(s, indent: indent)
            } else {
                writeDoubleQuoted(s)
            }
            return false
        default:
            return false
        }
    }

    private mutating func writeIndentForFold(_ indent: Int) {
        write("\n" + String(repeating: " ", count: indent))
    }

    private mutating func writePlain(_ s: String, indent: Int) {
        let chars = Array(s.unicodeScalars)
        var start = 0
        var end = 0
        var spaces = false
        while end <= chars.count {
            let ch: Unicode.Scalar? = end < chars.count ? chars[end] : nil
            if spaces {
                if ch != " " {
                    if start + 1 == end, column > bestWidth {
                        writeIndentForFold(indent)
                    } else {
                        write(Py.string(chars[start..<end]))
                    }
                    start = end
                }
            } else if ch == nil || ch == " " {
                write(Py.string(chars[start..<end]))
                start = end
            }
            if let ch { spaces = ch == " " }
            end += 1
        }
    }

    private mutating func writeSingleQuoted(_ s: String, indent: Int) {
        write("'")
        let chars = Array(s.unicodeScalars)
        var start = 0
        var end = 0
        var spaces = false
        var breaks = false
        while end <= chars.count {
            let ch: Unicode.Scalar? = end < chars.count ? chars[end] : nil
            if spaces {
                if ch != " " {
                    if start + 1 == end, column > bestWidth, start != 0, end != chars.count {
                        writeIndentForFold(indent)
                    } else {
                        write(Py.string(chars[start..<end]))
                    }
                    start = end
                }
            } else if breaks {
                if ch != "\n" {
                    if chars[start] == "\n" { write("\n") }
                    for _ in start..<end { write("\n") }
                    write(String(repeating: " ", count: indent))
                    start = end
                }
            } else if ch == nil || ch == " " || ch == "\n" || ch == "'" {
                if start < end {
                    write(Py.string(chars[start..<end]))
                    start = end
                }
            }
            if ch == "'" {
                write("''")
                start = end + 1
            }
            if let ch {
                spaces = ch == " "
                breaks = ch == "\n"
            }
            end += 1
        }
        write("'")
    }

    private mutating func writeDoubleQuoted(_ s: String) {
        var text = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\0": text += "\\0"
            case "\u{07}": text += "\\a"
            case "\u{08}": text += "\\b"
            case "\t": text += "\\t"
            case "\n": text += "\\n"
            case "\u{0B}": text += "\\v"
            case "\u{0C}": text += "\\f"
            case "\r": text += "\\r"
            case "\u{1B}": text += "\\e"
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\u{85}": text += "\\N"
            case "\u{A0}": text += "\\_"
            case "\u{2028}": text += "\\L"
            case "\u{2029}": text += "\\P"
            default:
                if u.value < 0x20 || u.value == 0x7F || (u.value >= 0x80 && u.value < 0xA0) || u.value == 0xFEFF {
                    text += u.value <= 0xFF ? String(format: "\\x%02X", u.value) : String(format: "\\u%04X", u.value)
                } else {
                    text.unicodeScalars.append(u)
                }
            }
        }
        write(text + "\"")
    }

    struct Analysis {
        var flowPlain = true
        var blockPlain = true
        var singleQuoted = true
        var lineBreaks = false
    }

    static func analyze(_ s: String) -> Analysis {
        var a = Analysis()
        if s.isEmpty {
            a.flowPlain = false
            a.blockPlain = false
            return a
        }
        let chars = Array(s.unicodeScalars)
        var blockIndicators = false, flowIndicators = false
        var leadingSpace = false, leadingBreak = false, trailingSpace = false, trailingBreak = false
        var breakSpace = false, spaceBreak = false, special = false
        if s.hasPrefix("---") || s.hasPrefix("...") { blockIndicators = true; flowIndicators = true }
        func isWS(_ c: Unicode.Scalar) -> Bool { c == "\0" || c == " " || c == "\t" || c == "\r" || c == "\n" || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}" }
        var precededByWS = true
        var followedByWS = chars.count == 1 || isWS(chars[1])
        var previousSpace = false, previousBreak = false
        for (i, ch) in chars.enumerated() {
            if i == 0 {
                if "#,[]{}&*!|>'\"%@`".unicodeScalars.contains(ch) { flowIndicators = true; blockIndicators = true }
                if ch == "?" || ch == ":" {
                    flowIndicators = true
                    if followedByWS { blockIndicators = true }
                }
                if ch == "-", followedByWS { flowIndicators = true; blockIndicators = true }
            } else {
                if ",?[]{}".unicodeScalars.contains(ch) { flowIndicators = true }
                if ch == ":" {
                    flowIndicators = true
                    if followedByWS { blockIndicators = true }
                }
                if ch == "#", precededByWS { flowIndicators = true; blockIndicators = true }
            }
            let isBreak = ch == "\n" || ch == "\u{85}" || ch == "\u{2028}" || ch == "\u{2029}"
            if isBreak { a.lineBreaks = true }
            if !(ch == "\n" || (ch.value >= 0x20 && ch.value <= 0x7E)) {
                let unicodeOK = ch == "\u{85}" || (ch.value >= 0xA0 && ch.value <= 0xD7FF) || (ch.value >= 0xE000 && ch.value <= 0xFFFD)
                    || (ch.value >= 0x10000 && ch.value < 0x10FFFF)
                if !(unicodeOK && ch != "\u{FEFF}") { special = true }
            }
            if ch == " " {
                if i == 0 { leadingSpace = true }
                if i == chars.count - 1 { trailingSpace = true }
                if previousBreak { breakSpace = true }
                previousSpace = true
                previousBreak = false
            } else if isBreak {
                if i == 0 { leadingBreak = true }
                if i == chars.count - 1 { trailingBreak = true }
                if previousSpace { spaceBreak = true }
                previousBreak = true
                previousSpace = false
            } else {
                previousSpace = false
                previousBreak = false
            }
            precededByWS = isWS(ch)
            followedByWS = i + 2 >= chars.count || isWS(chars[i + 2])
        }
        if leadingSpace || leadingBreak || trailingSpace || trailingBreak { a.flowPlain = false; a.blockPlain = false }
        if breakSpace { a.flowPlain = false; a.blockPlain = false; a.singleQuoted = false }
        if spaceBreak || special { a.flowPlain = false; a.blockPlain = false; a.singleQuoted = false }
        if a.lineBreaks { a.flowPlain = false; a.blockPlain = false }
        if flowIndicators { a.flowPlain = false }
        if blockIndicators { a.blockPlain = false }
        return a
    }

    private final class Patterns: @unchecked Sendable {
        let regexes: [NSRegularExpression]
        init() {
            let patterns = [
                "^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
                "^(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$",
                "^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
                "^(?:<<)$",
                "^(?:~|null|Null|NULL)$",
                "^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \\t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\\.[0-9]*)?(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
                "^(?:=)$",
            ]
            regexes = patterns.map { try! NSRegularExpression(pattern: $0) }
        }
    }
    private static let patterns = Patterns()

    static func resolvesToNonString(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, "yYnNtTfFoO0123456789-+.~<=".unicodeScalars.contains(first) else { return false }
        let range = NSRange(location: 0, length: (s as NSString).length)
        return patterns.regexes.contains { $0.firstMatch(in: s, range: range) != nil }
    }
}
