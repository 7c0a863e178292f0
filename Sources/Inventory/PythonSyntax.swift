import Foundation
import OrderedCollections
import PGHACore

/// The two bits of Python that Ansible's INI inventory plugin leans on: `shlex.split(line, comments=True)`
/// for host lines, and `ast.literal_eval` for every `key=value` value.
enum PythonSyntax {
    struct ShlexError: Error, CustomStringConvertible {
        var description: String
    }

    /// `shlex.split(text, comments=True, posix=True)`: quotes removed, `\` escapes outside single quotes,
    /// `#` starts a comment anywhere outside quotes.
    static func shlexSplit(_ text: String) throws -> [String] {
        enum State: Equatable { case whitespace, word, quote(Character), escape }
        var tokens: [String] = []
        var token = ""
        var quoted = false
        var state = State.whitespace
        var escapedState = State.word
        let whitespace: Set<Character> = [" ", "\t", "\r", "\n"]
        var chars = Array(text)[...]
        func flush() {
            if !token.isEmpty || quoted { tokens.append(token) }
            token = ""
            quoted = false
        }
        while true {
            guard let c = chars.popFirst() else {
                switch state {
                case .quote: throw ShlexError(description: "No closing quotation")
                case .escape: throw ShlexError(description: "No escaped character")
                default: flush(); return tokens
                }
            }
            switch state {
            case .whitespace, .word:
                if whitespace.contains(c) {
                    if state == .word { flush() }
                    state = .whitespace
                } else if c == "#" {
                    // A comment runs to the end of the line; the token before it (if any) is complete.
                    while let next = chars.first, next != "\n" { chars.removeFirst() }
                    if state == .word { flush() }
                    state = .whitespace
                } else if c == "'" || c == "\"" {
                    state = .quote(c)
                    quoted = true
                } else if c == "\\" {
                    escapedState = .word
                    state = .escape
                } else {
                    token.append(c)
                    state = .word
                }
            case .quote(let q):
                if c == q {
                    state = .word
                } else if c == "\\" && q == "\"" {
                    escapedState = state
                    state = .escape
                } else {
                    token.append(c)
                }
            case .escape:
                // Inside double quotes a backslash only escapes `"` and `\`; elsewhere it is kept.
                if case .quote(let q) = escapedState, c != "\\", c != q { token.append("\\") }
                token.append(c)
                state = escapedState
            }
        }
    }

    /// Ansible's `InventoryModule._parse_value`: `ast.literal_eval`, falling back to the text itself.
    static func inventoryValue(_ text: String) -> Value {
        var parser = LiteralParser(Array(text.unicodeScalars))
        if let value = try? parser.parseTop() { return value }
        return .string(text)
    }
}

/// A parser for the subset of Python expressions that `ast.literal_eval` accepts.
///
/// Anything else (names, calls, operators, f-strings, syntax errors) fails, and the caller keeps the
/// raw text, exactly as Ansible does when `literal_eval` raises `ValueError` or `SyntaxError`.
private struct LiteralParser {
    struct Failure: Error {}

    enum Token: Equatable {
        case number(Value)
        case imaginary
        case string(String, bytes: Bool)
        case name(String)
        case punct(Character)
        case ellipsis
        case end
    }

    let s: [Unicode.Scalar]
    var i = 0
    var depth = 0
    var tokens: [Token] = []
    var t = 0

    init(_ scalars: [Unicode.Scalar]) { s = scalars }

    mutating func parseTop() throws -> Value {
        // literal_eval strips leading spaces and tabs before compiling.
        while i < s.count, s[i] == " " || s[i] == "\t" { i += 1 }
        try tokenize()
        let value = try parseExpression(allowBareTuple: true)
        guard tokens[t] == .end else { throw Failure() }
        return value
    }

    // MARK: Tokens

    mutating func tokenize() throws {
        while true {
            skipBlank()
            guard i < s.count else { tokens.append(.end); return }
            let c = s[i]
            if c == "\\", i + 1 < s.count, s[i + 1] == "\n" { i += 2; continue }
            if "([{".unicodeScalars.contains(c) { depth += 1; tokens.append(.punct(Character(c))); i += 1; continue }
            if ")]}".unicodeScalars.contains(c) {
                depth -= 1
                guard depth >= 0 else { throw Failure() }
                tokens.append(.punct(Character(c))); i += 1; continue
            }
            if c == ".", i + 2 < s.count, s[i + 1] == ".", s[i + 2] == "." { tokens.append(.ellipsis); i += 3; continue }
            if isDigit(c) || (c == "." && i + 1 < s.count && isDigit(s[i + 1])) { tokens.append(try number()); continue }
            if ",:+-".unicodeScalars.contains(c) { tokens.append(.punct(Character(c))); i += 1; continue }
            if c == "'" || c == "\"" { tokens.append(try string(prefix: "")); continue }
            if isIdentifierStart(c) {
                let start = i
                while i < s.count, isIdentifierPart(s[i]) { i += 1 }
                let word = String(String.UnicodeScalarView(s[start..<i]))
                if i < s.count, s[i] == "'" || s[i] == "\"", ["r", "u", "b", "br", "rb", "f", "fr", "rf"].contains(word.lowercased()) {
                    tokens.append(try string(prefix: word.lowercased()))
                } else {
                    tokens.append(.name(word))
                }
                continue
            }
            throw Failure()
        }
    }

    /// Spaces, comments, and (inside brackets) newlines.
    mutating func skipBlank() {
        while i < s.count {
            let c = s[i]
            if c == " " || c == "\t" || c == "\u{0C}" { i += 1 }
            else if c == "#" { while i < s.count, s[i] != "\n" { i += 1 } }
            else if (c == "\n" || c == "\r") && depth > 0 { i += 1 }
            else if c == "\n" || c == "\r" {
                // A trailing newline ends the expression; anything after it is a syntax error.
                var j = i
                while j < s.count, [" ", "\t", "\n", "\r"].contains(s[j]) { j += 1 }
                if j == s.count { i = j }
                return
            } else { return }
        }
    }

    func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 48 && c.value <= 57 }
    func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c.properties.isAlphabetic
    }
    func isIdentifierPart(_ c: Unicode.Scalar) -> Bool {
        isIdentifierStart(c) || c.properties.numericType != nil
    }

    mutating func number() throws -> Token {
        let start = i
        func digits(_ allowed: (Unicode.Scalar) -> Bool) throws -> String {
            var out = ""
            var lastUnderscore = true
            while i < s.count, allowed(s[i]) || s[i] == "_" {
                if s[i] == "_" {
                    if lastUnderscore { throw Failure() }
                    lastUnderscore = true
                } else {
                    out.unicodeScalars.append(s[i])
                    lastUnderscore = false
                }
                i += 1
            }
            if lastUnderscore && !out.isEmpty { throw Failure() }
            return out
        }
        if s[i] == "0", i + 1 < s.count, "xXoObB".unicodeScalars.contains(s[i + 1]) {
            let kind = Character(s[i + 1]).lowercased()
            i += 2
            if i < s.count, s[i] == "_" { i += 1 }
            let radix = kind == "x" ? 16 : kind == "o" ? 8 : 2
            let text = try digits { c in Int(String(c), radix: radix) != nil || (radix == 16 && c.properties.isASCIIHexDigit) }
            guard !text.isEmpty else { throw Failure() }
            if i < s.count, isIdentifierPart(s[i]) { throw Failure() }
            guard let v = Int(text, radix: radix) else { return .number(.string(String(String.UnicodeScalarView(s[start..<i])))) }
            return .number(.int(v))
        }
        var intPart = ""
        if s[i] != "." { intPart = try digits(isDigit) }
        var isFloat = false
        var fraction = ""
        if i < s.count, s[i] == "." {
            isFloat = true
            i += 1
            if i < s.count, isDigit(s[i]) { fraction = try digits(isDigit) }
        }
        var exponent = ""
        if i < s.count, s[i] == "e" || s[i] == "E" {
            var j = i + 1
            var sign = ""
            if j < s.count, s[j] == "+" || s[j] == "-" { sign = String(Character(s[j])); j += 1 }
            if j < s.count, isDigit(s[j]) {
                i = j
                exponent = "e" + sign + (try digits(isDigit))
                isFloat = true
            } else {
                throw Failure()
            }
        }
        if i < s.count, s[i] == "j" || s[i] == "J" {
            i += 1
            return .imaginary
        }
        if i < s.count, isIdentifierPart(s[i]) { throw Failure() }
        if isFloat {
            guard let d = Double((intPart.isEmpty ? "0" : intPart) + "." + (fraction.isEmpty ? "0" : fraction) + exponent) else {
                throw Failure()
            }
            return .number(.double(d))
        }
        // Python 3 rejects decimal literals with leading zeros ("0777"), except for zero itself.
        if intPart.count > 1, intPart.hasPrefix("0"), intPart.contains(where: { $0 != "0" }) { throw Failure() }
        guard let v = Int(intPart) else { return .number(.string(intPart)) }
        return .number(.int(v))
    }

    mutating func string(prefix: String) throws -> Token {
        let raw = prefix.contains("r")
        let bytes = prefix.contains("b")
        if prefix.contains("f") { throw Failure() }
        let quote = s[i]
        var triple = false
        if i + 2 < s.count, s[i + 1] == quote, s[i + 2] == quote { triple = true; i += 3 } else { i += 1 }
        var out = String.UnicodeScalarView()
        while true {
            guard i < s.count else { throw Failure() }
            let c = s[i]
            if c == quote {
                if !triple { i += 1; break }
                if i + 2 < s.count, s[i + 1] == quote, s[i + 2] == quote { i += 3; break }
                out.append(c); i += 1; continue
            }
            if (c == "\n" || c == "\r") && !triple { throw Failure() }
            if bytes && c.value > 127 { throw Failure() }
            if c == "\\" {
                guard i + 1 < s.count else { throw Failure() }
                let e = s[i + 1]
                if raw {
                    out.append(c); out.append(e); i += 2; continue
                }
                i += 2
                switch e {
                case "\n": break
                case "\\": out.append("\\")
                case "'": out.append("'")
                case "\"": out.append("\"")
                case "a": out.append("\u{07}")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "t": out.append("\t")
                case "v": out.append("\u{0B}")
                case "0"..."7":
                    var code = e.value - 48
                    var n = 1
                    while n < 3, i < s.count, s[i].value >= 48, s[i].value <= 55 { code = code * 8 + s[i].value - 48; i += 1; n += 1 }
                    guard let scalar = Unicode.Scalar(code) else { throw Failure() }
                    out.append(scalar)
                case "x", "u", "U":
                    if (e == "u" || e == "U") && bytes { out.append("\\"); out.append(e); continue }
                    let count = e == "x" ? 2 : e == "u" ? 4 : 8
                    guard i + count <= s.count, let code = UInt32(String(String.UnicodeScalarView(s[i..<i + count])), radix: 16),
                        let scalar = Unicode.Scalar(code)
                    else { throw Failure() }
                    i += count
                    out.append(scalar)
                case "N":
                    // Named escapes need Unicode's name table; too rare in inventories to be worth it.
                    throw Failure()
                default:
                    out.append("\\"); out.append(e)
                }
                continue
            }
            out.append(c)
            i += 1
        }
        return .string(String(out), bytes: bytes)
    }

    // MARK: Grammar

    mutating func next() -> Token { let tok = tokens[t]; if tok != .end { t += 1 }; return tok }
    var peek: Token { tokens[t] }

    mutating func parseExpression(allowBareTuple: Bool) throws -> Value {
        let first = try parseAtom()
        guard allowBareTuple, peek == .punct(",") else { return first }
        var items = [first]
        while peek == .punct(",") {
            _ = next()
            if peek == .end { break }
            items.append(try parseAtom())
        }
        return .list(items)
    }

    mutating func parseAtom() throws -> Value {
        switch next() {
        case .number(let v):
            if peek == .punct("+") || peek == .punct("-") { throw Failure() }
            return v
        case .imaginary:
            // complex numbers are converted back to text by Ansible; keep it simple and fail over to text.
            throw Failure()
        case .string(let first, let bytes):
            var text = first
            while case .string(let more, let moreBytes) = peek {
                guard moreBytes == bytes else { throw Failure() }
                text += more
                _ = next()
            }
            return .string(text)
        case .ellipsis:
            return .string("...")
        case .name(let n):
            switch n {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .null
            case "set":
                // literal_eval accepts `set()` for the empty set, which Ansible turns into a list.
                guard next() == .punct("("), next() == .punct(")") else { throw Failure() }
                return .list([])
            default: throw Failure()
            }
        case .punct("+"), .punct("-"):
            let negative = tokens[t - 1] == .punct("-")
            // Parentheses are transparent to Python's AST, so `-(1)` is still a signed number.
            var parens = 0
            while peek == .punct("(") { _ = next(); parens += 1 }
            guard case .number(let v) = next() else { throw Failure() }
            for _ in 0..<parens { guard next() == .punct(")") else { throw Failure() } }
            if peek == .punct("+") || peek == .punct("-") { throw Failure() }
            switch v {
            case .int(let n): return .int(negative ? -n : n)
            case .double(let d): return .double(negative ? -d : d)
            default: throw Failure()
            }
        case .punct("["):
            return .list(try parseItems(close: "]"))
        case .punct("("):
            if peek == .punct(")") { _ = next(); return .list([]) }
            let first = try parseAtom()
            if peek == .punct(")") { _ = next(); return first }
            guard next() == .punct(",") else { throw Failure() }
            var items = [first]
            while peek != .punct(")") {
                items.append(try parseAtom())
                if peek == .punct(",") { _ = next() } else if peek != .punct(")") { throw Failure() }
            }
            _ = next()
            return .list(items)
        case .punct("{"):
            if peek == .punct("}") { _ = next(); return .dict([:]) }
            let firstKey = try parseAtom()
            if peek == .punct(":") {
                var dict = OrderedDictionary<String, Value>()
                var key = firstKey
                while true {
                    guard next() == .punct(":") else { throw Failure() }
                    dict[try Self.keyText(key)] = try parseAtom()
                    if peek == .punct(",") { _ = next() }
                    else if peek != .punct("}") { throw Failure() }
                    if peek == .punct("}") { _ = next(); return .dict(dict) }
                    key = try parseAtom()
                }
            }
            // A set literal: Ansible turns sets into lists.
            var items = [firstKey]
            while peek == .punct(",") {
                _ = next()
                if peek == .punct("}") { break }
                let item = try parseAtom()
                if !items.contains(item) { items.append(item) }
            }
            guard next() == .punct("}") else { throw Failure() }
            return .list(items)
        default:
            throw Failure()
        }
    }

    mutating func parseItems(close: Character) throws -> [Value] {
        var items: [Value] = []
        while peek != .punct(close) {
            items.append(try parseAtom())
            if peek == .punct(",") { _ = next() } else if peek != .punct(close) { throw Failure() }
        }
        _ = next()
        return items
    }

    static func keyText(_ key: Value) throws -> String {
        switch key {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return JSON.formatDouble(d)
        case .bool(let b): return b ? "True" : "False"
        case .null: return "None"
        default: throw Failure()  // unhashable
        }
    }
}
