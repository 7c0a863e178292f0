import Foundation
/// Ansible's `split_args`, `parse_kv` and `join_args` (ansible.parsing.splitter), so that
/// `copy: src=a dest="b c"` and `command: chdir=/tmp ls -l` mean exactly what they mean there.
enum KeyValueArgs {
    struct UnbalancedError: Error {}

    /// Options that `command`-like modules accept in their free-form text.
    static let rawModuleOptions: Set<String> = [
        "creates", "removes", "chdir", "executable", "warn", "stdin", "stdin_add_newline", "strip_empty_ends",
    ]

    /// Splits on spaces, keeping quoted strings and Jinja2 blocks whole and newlines in place.
    static func split(_ args: String) throws(UnbalancedError) -> [String] {
        if args.isEmpty { return [] }
        var params: [String] = []
        let items = args.split(separator: "\n", omittingEmptySubsequences: false)
        var quoteChar: Character? = nil
        var insideQuotes = false
        var printDepth = 0
        var blockDepth = 0
        var commentDepth = 0

        for (itemIndex, item) in items.enumerated() {
            let tokens = item.split(separator: " ", omittingEmptySubsequences: false)
            var lineContinuation = false
            for (index, tokenSub) in tokens.enumerated() {
                let token = String(tokenSub)
                if token.isEmpty && index != 0 {
                    // Runs of spaces are kept so quoted text can be rebuilt exactly.
                    if params.isEmpty { params.append("") }
                    params[params.count - 1] += " "
                    continue
                }
                if token == "\\" && !insideQuotes {
                    lineContinuation = true
                    continue
                }
                let wasInsideQuotes = insideQuotes
                quoteChar = quoteState(token, quoteChar)
                insideQuotes = quoteChar != nil
                var appended = false
                let inJinja = printDepth != 0 || blockDepth != 0 || commentDepth != 0
                if insideQuotes && !wasInsideQuotes && !inJinja {
                    params.append(token)
                    appended = true
                } else if inJinja || insideQuotes || wasInsideQuotes {
                    if params.isEmpty { params.append("") }
                    if index == 0 && wasInsideQuotes {
                        params[params.count - 1] += token
                    } else {
                        params[params.count - 1] += (index > 0 ? " " : "") + token
                    }
                    appended = true
                }
                let previousPrint = printDepth
                printDepth = countBlocks(token, printDepth, "{{", "}}")
                if printDepth != previousPrint && !appended {
                    params.append(token)
                    appended = true
                }
                let previousBlock = blockDepth
                blockDepth = countBlocks(token, blockDepth, "{%", "%}")
                if blockDepth != previousBlock && !appended {
                    params.append(token)
                    appended = true
                }
                let previousComment = commentDepth
                commentDepth = countBlocks(token, commentDepth, "{#", "#}")
                if commentDepth != previousComment && !appended {
                    params.append(token)
                    appended = true
                }
                if printDepth == 0 && blockDepth == 0 && commentDepth == 0 && !insideQuotes && !appended
                    && !token.isEmpty
                {
                    params.append(token)
                }
            }
            if items.count > 1 && itemIndex != items.count - 1 && !lineContinuation {
                if params.isEmpty { params.append("") }
                params[params.count - 1] += "\n"
            }
        }
        if printDepth != 0 || blockDepth != 0 || commentDepth != 0 || insideQuotes {
            throw UnbalancedError()
        }
        return params
    }

    private static func quoteState(_ token: String, _ current: Character?) -> Character? {
        var quote = current
        var previous: Character? = nil
        for char in token {
            if (char == "\"" || char == "'") && previous != "\\" {
                if let open = quote {
                    if char == open { quote = nil }
                } else {
                    quote = char
                }
            }
            previous = char
        }
        return quote
    }

    private static func countBlocks(_ token: String, _ depth: Int, _ open: String, _ close: String) -> Int {
        let opens = occurrences(of: open, in: token)
        let closes = occurrences(of: close, in: token)
        guard opens != closes else { return depth }
        return max(0, depth + opens - closes)
    }

    private static func occurrences(of needle: String, in haystack: String) -> Int {
        // Python's str.count: non-overlapping occurrences.
        let h = Array(haystack.utf8), n = Array(needle.utf8)
        guard h.count >= n.count else { return 0 }
        var count = 0
        var i = 0
        while i <= h.count - n.count {
            if h[i] == n[0] && h[i + 1] == n[1] {
                count += 1
                i += n.count
            } else {
                i += 1
            }
        }
        return count
    }

    static func join(_ params: [String]) -> String {
        var result = ""
        for param in params {
            if result.isEmpty || result.hasSuffix("\n") {
                result += param
            } else {
                result += " " + param
            }
        }
        return result
    }

    /// One parsed option: its key, value and where `key=` starts inside the text (for locations).
    struct Option {
        var key: String
        var value: String
        var offset: Int?
    }

    /// `parse_kv`: `k=v` pairs become options, everything else joins into `_raw_params`. With
    /// `checkRaw`, only the command options stay options (`command: echo a=b` keeps `a=b`).
    static func parse(_ args: String, checkRaw: Bool) throws(UnbalancedError) -> [Option] {
        var options: [Option] = []
        var raw: [String] = []
        var searchFrom = args.startIndex
        for original in try split(args) {
            var offset: Int? = nil
            if let range = args.range(of: original, range: searchFrom..<args.endIndex) {
                offset = args.distance(from: args.startIndex, to: range.lowerBound)
                searchFrom = range.upperBound
            }
            let decoded = decodeEscapes(original)
            guard decoded.contains("=") else {
                raw.append(original)
                continue
            }
            let chars = Array(decoded)
            var position: Int? = nil
            var i = 1
            while i < chars.count {
                if chars[i] == "=" && chars[i - 1] != "\\" {
                    position = i
                    break
                }
                i += 1
            }
            guard let pos = position else {
                raw.append(decoded.replacingOccurrences(of: "\\=", with: "="))
                continue
            }
            let key = String(chars[..<pos])
            let value = String(chars[(pos + 1)...])
            if checkRaw && !rawModuleOptions.contains(key) {
                raw.append(original)
            } else {
                let trimmedKey = key.trimmingCharacters(in: .whitespacesAndNewlines)
                options.removeAll { $0.key == trimmedKey }
                options.append(
                    Option(key: trimmedKey, value: unquote(value.trimmingCharacters(in: .whitespacesAndNewlines)), offset: offset))
            }
        }
        if !raw.isEmpty {
            options.append(Option(key: "_raw_params", value: join(raw), offset: nil))
        }
        return options
    }

    static func unquote(_ text: String) -> String {
        let chars = Array(text)
        guard chars.count > 1, chars[0] == chars[chars.count - 1], chars[0] == "\"" || chars[0] == "'",
            chars[chars.count - 2] != "\\"
        else { return text }
        return String(chars[1..<(chars.count - 1)])
    }

    /// Python's `unicode-escape` decoding of the escapes `parse_kv` decodes.
    static func decodeEscapes(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        let chars = Array(text)
        var result = ""
        var i = 0
        func hex(_ start: Int, _ count: Int) -> Character? {
            guard start + count <= chars.count, let code = UInt32(String(chars[start..<(start + count)]), radix: 16),
                let scalar = Unicode.Scalar(code)
            else { return nil }
            return Character(scalar)
        }
        while i < chars.count {
            let c = chars[i]
            guard c == "\\", i + 1 < chars.count else {
                result.append(c)
                i += 1
                continue
            }
            let n = chars[i + 1]
            let simple: [Character: Character] = [
                "\\": "\\", "'": "'", "\"": "\"", "a": "\u{07}", "b": "\u{08}", "f": "\u{0C}", "n": "\n",
                "r": "\r", "t": "\t", "v": "\u{0B}",
            ]
            if let mapped = simple[n] {
                result.append(mapped)
                i += 2
            } else if n == "x", let ch = hex(i + 2, 2) {
                result.append(ch)
                i += 4
            } else if n == "u", let ch = hex(i + 2, 4) {
                result.append(ch)
                i += 6
            } else if n == "U", let ch = hex(i + 2, 8) {
                result.append(ch)
                i += 10
            } else if n.isASCII, let d = n.wholeNumberValue, d < 8 {
                var digits = ""
                var j = i + 1
                while j < chars.count, digits.count < 3, let v = chars[j].wholeNumberValue, v < 8, chars[j].isASCII {
                    digits.append(chars[j])
                    j += 1
                }
                if let code = UInt32(digits, radix: 8), let scalar = Unicode.Scalar(code) {
                    result.append(Character(scalar))
                }
                i = j
            } else {
                result.append(c)
                i += 1
            }
        }
        return result
    }
}
