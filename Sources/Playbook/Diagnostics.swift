import PGHACore

/// Error construction and "did you mean" suggestions shared by the loader.
enum Diagnostics {
    static func error(
        _ message: String, at location: SourceLocation, hint: String? = nil, kind: PGHAError.Kind = .semantic
    ) -> PGHAError {
        PGHAError(kind, message, at: location, hint: hint).withSourceLine()
    }

    /// The candidate closest to `word`, if it is close enough to be a plausible typo.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let lowered = word.lowercased()
        var best: (String, Int)? = nil
        for candidate in candidates {
            let distance = editDistance(lowered, candidate.lowercased())
            if best == nil || distance < best!.1 { best = (candidate, distance) }
        }
        guard let (candidate, distance) = best else { return nil }
        let limit = word.count < 5 ? 1 : max(2, min(word.count, candidate.count) / 3)
        if distance <= limit { return candidate }
        // A keyword with a typo-free prefix/suffix ("become_usr" vs "become_user") is caught above;
        // also accept one containing the other ("hanlders" fails, "handler" -> "handlers" passes).
        if candidate.lowercased().contains(lowered) || lowered.contains(candidate.lowercased()), word.count >= 4 {
            return candidate
        }
        return nil
    }

    static func suggestion(for word: String, in candidates: [String]) -> String {
        guard let match = closest(to: word, in: candidates) else { return "" }
        return " (did you mean '\(match)'?)"
    }

    /// Damerau-Levenshtein (optimal string alignment) distance.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        if abs(x.count - y.count) > 10 || x.count > 200 || y.count > 200 { return max(x.count, y.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[x.count][y.count]
    }

    static func describe(_ node: YAMLNode) -> String {
        switch node.content {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar:
            switch node.scalarValue {
            case .null: return "null"
            case .bool: return "a boolean"
            case .int: return "an integer"
            case .double: return "a number"
            default: return "a string"
            }
        }
    }

    static func isTemplated(_ text: String) -> Bool {
        text.containsTemplateMarkup
    }

    static let pythonKeywords: Set<String> = [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def",
        "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
        "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
    ]

    /// Ansible's rule for variable names (`register:`, `vars:` keys, `loop_var`).
    static func isValidVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !pythonKeywords.contains(name) else { return false }
        func isLetter(_ s: Unicode.Scalar) -> Bool { (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || s == "_" }
        guard isLetter(first) else { return false }
        return name.unicodeScalars.allSatisfy { isLetter($0) || ($0 >= "0" && $0 <= "9") }
    }
}
