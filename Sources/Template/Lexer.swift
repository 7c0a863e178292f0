import PGHACore

/// One lexical unit of a template: literal text, tag delimiters, or an expression token.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        case data
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name, string, integer, float
        case op
        case eof
    }
    var kind: Kind
    var text: String
    /// 1-based line inside the template.
    var line: Int
    var intValue: Int = 0
    var doubleValue: Double = 0

    func describe() -> String {
        switch kind {
        case .eof: return "end of template"
        case .variableEnd: return "end of print statement"
        case .blockEnd: return "end of statement block"
        case .data: return "template data"
        default: return text
        }
    }
}

/// Splits template text into tokens the way Jinja2's lexer does, including whitespace control
/// (`{%-`, `-%}`, `+%}`), trim_blocks and `{% raw %}`.
struct Lexer {
    let bytes: [UInt8]
    let trimBlocks: Bool
    /// Ansible's escape_backslashes: string literals inside `{{ }}` keep their backslashes (the text came
    /// from YAML, which already processed escapes). Elsewhere Jinja's Python-style unescaping applies.
    let escapeBackslashes: Bool
    let lstripBlocks: Bool
    var pos = 0
    var line = 1
    var tokens: [Token] = []

    init(_ text: String, trimBlocks: Bool, lstripBlocks: Bool = false, keepTrailingNewline: Bool = false, escapeBackslashes: Bool) {
        // Jinja normalises \r\n and \r to \n everywhere.
        var b = Array(text.utf8)
        if b.contains(13) {
            var normalised = [UInt8]()
            normalised.reserveCapacity(b.count)
            var i = 0
            while i < b.count {
                if b[i] == 13 {
                    normalised.append(10)
                    if i + 1 < b.count, b[i + 1] == 10 { i += 1 }
                } else {
                    normalised.append(b[i])
                }
                i += 1
            }
            b = normalised
        }
        // keep_trailing_newline=False drops one final newline; Ansible restores the source's trailing newlines
        // on string results afterwards (TemplateEngine.restoreTrailingNewlines).
        if !keepTrailingNewline, b.last == 10 { b.removeLast() }
        bytes = b
        self.trimBlocks = trimBlocks
        self.lstripBlocks = lstripBlocks
        self.escapeBackslashes = escapeBackslashes
    }

    func syntaxError(_ message: String, line: Int) -> TemplateSyntaxError {
        TemplateSyntaxError(message: message, line: line)
    }

    static func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 || c == 11 || c == 12 }

    mutating func tokenize() throws -> [Token] {
        var stripNextLeading = false
        var trimNextNewline = false
        let n = bytes.count
        while pos < n {
            // Find the next tag start.
            var i = pos
            var tagStart = -1
            while i + 1 < n {
                if bytes[i] == UInt8(ascii: "{") {
                    let c = bytes[i + 1]
                    if c == UInt8(ascii: "{") || c == UInt8(ascii: "%") || c == UInt8(ascii: "#") {
                        tagStart = i
                        break
                    }
                }
                i += 1
            }
            let dataEnd = tagStart < 0 ? n : tagStart
            var dStart = pos
            var dEnd = dataEnd
            if stripNextLeading {
                while dStart < dEnd, Lexer.isSpace(bytes[dStart]) { dStart += 1 }
            } else if trimNextNewline, dStart < dEnd {
                if bytes[dStart] == 10 { dStart += 1 }
                else if bytes[dStart] == 13 { dStart += 1; if dStart < dEnd, bytes[dStart] == 10 { dStart += 1 } }
            }
            stripNextLeading = false
            trimNextNewline = false
            if tagStart >= 0, tagStart + 2 < n, bytes[tagStart + 2] == UInt8(ascii: "-") {
                while dEnd > dStart, Lexer.isSpace(bytes[dEnd - 1]) { dEnd -= 1 }
            } else if tagStart >= 0, lstripBlocks, bytes[tagStart + 1] != UInt8(ascii: "{"),
                !(tagStart + 2 < n && bytes[tagStart + 2] == UInt8(ascii: "+"))
            {
                // lstrip_blocks: spaces and tabs between a line start and a block or comment tag go.
                var k = dEnd
                while k > dStart, bytes[k - 1] == 32 || bytes[k - 1] == 9 { k -= 1 }
                if k == 0 || bytes[k - 1] == 10 { dEnd = k }
            }
            if dEnd > dStart {
                tokens.append(Token(kind: .data, text: String(decoding: bytes[dStart..<dEnd], as: UTF8.self), line: line))
            }
            countLines(pos, dataEnd)
            if tagStart < 0 { pos = n; break }
            pos = tagStart + 2
            let kindByte = bytes[tagStart + 1]
            if pos < n, bytes[pos] == UInt8(ascii: "-") || bytes[pos] == UInt8(ascii: "+") { pos += 1 }
            let startLine = line
            if kindByte == UInt8(ascii: "#") {
                // Comment: up to the first "#}".
                var j = pos
                var found = -1
                while j + 1 < n {
                    if bytes[j] == UInt8(ascii: "#"), bytes[j + 1] == UInt8(ascii: "}") { found = j; break }
                    j += 1
                }
                guard found >= 0 else { throw syntaxError("Missing end of comment tag", line: startLine) }
                if found > pos, bytes[found - 1] == UInt8(ascii: "-") { stripNextLeading = true }
                else if trimBlocks, !(found > pos && bytes[found - 1] == UInt8(ascii: "+")) { trimNextNewline = true }
                countLines(pos, found + 2)
                pos = found + 2
                continue
            }
            if kindByte == UInt8(ascii: "%"), let stripAfterRaw = try lexRawIfPresent(startLine: startLine) {
                stripNextLeading = stripAfterRaw
                trimNextNewline = !stripAfterRaw && trimBlocks
                continue
            }
            let isBlock = kindByte == UInt8(ascii: "%")
            tokens.append(Token(kind: isBlock ? .blockBegin : .variableBegin, text: isBlock ? "{%" : "{{", line: line))
            let closer = isBlock ? UInt8(ascii: "%") : UInt8(ascii: "}")
            var depth = 0
            while true {
                skipSpaces()
                guard pos < n else {
                    throw syntaxError(
                        isBlock ? "Unexpected end of template. Jinja was looking for a matching '%}'."
                            : "unexpected end of template, expected 'end of print statement'.", line: startLine)
                }
                // Tag end (only at bracket depth 0 so `{{ {'a': {'b': 1}} }}` lexes correctly).
                if depth == 0 {
                    var k = pos
                    var strip = false
                    var plus = false
                    if bytes[k] == UInt8(ascii: "-") || bytes[k] == UInt8(ascii: "+") {
                        if k + 2 < n, bytes[k + 1] == closer, bytes[k + 2] == UInt8(ascii: "}") {
                            strip = bytes[k] == UInt8(ascii: "-")
                            plus = !strip
                            k += 1
                        }
                    }
                    if k + 1 < n, bytes[k] == closer, bytes[k + 1] == UInt8(ascii: "}") {
                        tokens.append(Token(kind: isBlock ? .blockEnd : .variableEnd, text: "", line: line))
                        pos = k + 2
                        if strip { stripNextLeading = true }
                        else if isBlock, trimBlocks, !plus { trimNextNewline = true }
                        break
                    }
                }
                let tok = try lexExpressionToken(rawStrings: !isBlock && escapeBackslashes)
                if tok.kind == .op {
                    if tok.text == "(" || tok.text == "[" || tok.text == "{" { depth += 1 }
                    if tok.text == ")" || tok.text == "]" || tok.text == "}" { depth = max(0, depth - 1) }
                }
                tokens.append(tok)
            }
        }
        tokens.append(Token(kind: .eof, text: "", line: line))
        return tokens
    }

    private mutating func countLines(_ from: Int, _ to: Int) {
        var k = from
        while k < to { if bytes[k] == 10 { line += 1 }; k += 1 }
    }

    private mutating func skipSpaces() {
        while pos < bytes.count, Lexer.isSpace(bytes[pos]) {
            if bytes[pos] == 10 { line += 1 }
            pos += 1
        }
    }

    /// If the block tag starting at `pos` is `raw`, consumes through `endraw` and emits the body as data.
    /// Returns whether the `endraw` tag strips the whitespace after it, or nil when the tag is not `raw`.
    private mutating func lexRawIfPresent(startLine: Int) throws -> Bool? {
        var k = pos
        while k < bytes.count, Lexer.isSpace(bytes[k]) { k += 1 }
        guard matches("raw", at: k) else { return nil }
        k += 3
        while k < bytes.count, Lexer.isSpace(bytes[k]) { k += 1 }
        var stripBody = false
        if k < bytes.count, bytes[k] == UInt8(ascii: "-") { stripBody = true; k += 1 }
        guard matches("%}", at: k) else { return nil }
        k += 2
        var bodyStart = k
        if stripBody { while bodyStart < bytes.count, Lexer.isSpace(bytes[bodyStart]) { bodyStart += 1 } }
        else if trimBlocks, bodyStart < bytes.count, bytes[bodyStart] == 10 { bodyStart += 1 }
        // Find {%-? endraw -?%}
        var j = bodyStart
        while j + 1 < bytes.count {
            if bytes[j] == UInt8(ascii: "{"), bytes[j + 1] == UInt8(ascii: "%") {
                var m = j + 2
                var stripBefore = false
                if m < bytes.count, bytes[m] == UInt8(ascii: "-") { stripBefore = true; m += 1 }
                while m < bytes.count, Lexer.isSpace(bytes[m]) { m += 1 }
                if matches("endraw", at: m) {
                    m += 6
                    while m < bytes.count, Lexer.isSpace(bytes[m]) { m += 1 }
                    var stripAfter = false
                    if m < bytes.count, bytes[m] == UInt8(ascii: "-") { stripAfter = true; m += 1 }
                    if matches("%}", at: m) {
                        var bodyEnd = j
                        if stripBefore { while bodyEnd > bodyStart, Lexer.isSpace(bytes[bodyEnd - 1]) { bodyEnd -= 1 } }
                        if bodyEnd > bodyStart {
                            tokens.append(Token(kind: .data, text: String(decoding: bytes[bodyStart..<bodyEnd], as: UTF8.self), line: line))
                        }
                        countLines(pos, m + 2)
                        pos = m + 2
                        return stripAfter
                    }
                }
            }
            j += 1
        }
        throw syntaxError("Missing end of raw directive", line: startLine)
    }

    private func matches(_ word: String, at k: Int) -> Bool {
        var i = k
        for c in word.utf8 {
            guard i < bytes.count, bytes[i] == c else { return false }
            i += 1
        }
        return true
    }

    private static let oneCharOps: Set<UInt8> = Set("+-*/%~()[]{}.,:|=<>;!".utf8)

    private mutating func lexExpressionToken(rawStrings: Bool) throws -> Token {
        let c = bytes[pos]
        let startLine = line
        if isNameStart(c) {
            let start = pos
            while pos < bytes.count, isNameChar(bytes[pos]) { pos += 1 }
            return Token(kind: .name, text: String(decoding: bytes[start..<pos], as: UTF8.self), line: startLine)
        }
        if c >= 48 && c <= 57 { return try lexNumber() }
        if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") { return try lexString(quote: c, raw: rawStrings) }
        if pos + 1 < bytes.count {
            let next = bytes[pos + 1]
            let two: String?
            switch (c, next) {
            case (UInt8(ascii: "/"), UInt8(ascii: "/")): two = "//"
            case (UInt8(ascii: "*"), UInt8(ascii: "*")): two = "**"
            case (UInt8(ascii: "="), UInt8(ascii: "=")): two = "=="
            case (UInt8(ascii: "!"), UInt8(ascii: "=")): two = "!="
            case (UInt8(ascii: "<"), UInt8(ascii: "=")): two = "<="
            case (UInt8(ascii: ">"), UInt8(ascii: "=")): two = ">="
            default: two = nil
            }
            if let two {
                pos += 2
                return Token(kind: .op, text: two, line: startLine)
            }
        }
        if Lexer.oneCharOps.contains(c) {
            pos += 1
            return Token(kind: .op, text: String(UnicodeScalar(c)), line: startLine)
        }
        throw syntaxError("unexpected char '\(String(UnicodeScalar(c)))' at \(pos)", line: startLine)
    }

    private func isNameStart(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c >= 0x80
    }
    private func isNameChar(_ c: UInt8) -> Bool { isNameStart(c) || (c >= 48 && c <= 57) }

    private mutating func lexNumber() throws -> Token {
        let start = pos
        var isFloat = false
        func digits() { while pos < bytes.count, (bytes[pos] >= 48 && bytes[pos] <= 57) || bytes[pos] == 95 { pos += 1 } }
        digits()
        if pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "."), bytes[pos + 1] >= 48, bytes[pos + 1] <= 57 {
            isFloat = true
            pos += 1
            digits()
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            var k = pos + 1
            if k < bytes.count, bytes[k] == UInt8(ascii: "+") || bytes[k] == UInt8(ascii: "-") { k += 1 }
            if k < bytes.count, bytes[k] >= 48, bytes[k] <= 57 {
                isFloat = true
                pos = k
                digits()
            }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self).replacingOccurrences(of: "_", with: "")
        if isFloat {
            return Token(kind: .float, text: text, line: line, doubleValue: Double(text) ?? 0)
        }
        guard let v = Int(text) else { throw syntaxError("integer literal too large: \(text)", line: line) }
        return Token(kind: .integer, text: text, line: line, intValue: v)
    }

    private mutating func lexString(quote: UInt8, raw: Bool) throws -> Token {
        let startLine = line
        pos += 1
        var out = [UInt8]()
        while pos < bytes.count {
            let c = bytes[pos]
            if c == quote {
                pos += 1
                let text = raw ? String(decoding: out, as: UTF8.self) : Lexer.pythonUnescape(out)
                return Token(kind: .string, text: text, line: startLine)
            }
            if c == 10 { line += 1 }
            if c == UInt8(ascii: "\\"), pos + 1 < bytes.count {
                // The backslash stops the next character from ending the string; escapes are interpreted
                // afterwards (or kept verbatim, see escapeBackslashes).
                out.append(c)
                out.append(bytes[pos + 1])
                if bytes[pos + 1] == 10 { line += 1 }
                pos += 2
                continue
            }
            out.append(c)
            pos += 1
        }
        throw syntaxError("unexpected end of string", line: startLine)
    }
}

extension Lexer {
    /// Python's "unicode-escape" decoding, which Jinja applies to string literals.
    static func pythonUnescape(_ bytes: [UInt8]) -> String {
        guard bytes.contains(UInt8(ascii: "\\")) else { return String(decoding: bytes, as: UTF8.self) }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        func appendScalar(_ code: UInt32) {
            if let scalar = Unicode.Scalar(code) { out += Array(String(Character(scalar)).utf8) }
        }
        func hexValue(_ from: Int, _ count: Int) -> UInt32? {
            guard from + count <= bytes.count else { return nil }
            return UInt32(String(decoding: bytes[from..<from + count], as: UTF8.self), radix: 16)
        }
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            guard c == UInt8(ascii: "\\"), i + 1 < bytes.count else {
                out.append(c)
                i += 1
                continue
            }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\n"): continue
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(e)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "a"): out.append(7)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "v"): out.append(11)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var code = UInt32(e - UInt8(ascii: "0"))
                var digits = 1
                while digits < 3, i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(bytes[i]) {
                    code = code * 8 + UInt32(bytes[i] - UInt8(ascii: "0"))
                    i += 1
                    digits += 1
                }
                appendScalar(code)
            case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
                let count = e == UInt8(ascii: "x") ? 2 : (e == UInt8(ascii: "u") ? 4 : 8)
                if let code = hexValue(i, count) {
                    appendScalar(code)
                    i += count
                } else {
                    out += [UInt8(ascii: "\\"), e]
                }
            default:
                // Python keeps unknown escapes such as '\d' as written.
                out += [UInt8(ascii: "\\"), e]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A syntax problem with its line inside the template; the engine maps it to a PGHAError.
struct TemplateSyntaxError: Error {
    var message: String
    var line: Int
}
