import Foundation
import PGHACore

/// Python `re` on top of NSRegularExpression: pattern dialect translation, `re.sub` replacement
/// templates (`\1`, `\g<1>`, `\g<name>`), and a compile cache.
enum PyRegex {
    private final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var entries: [String: NSRegularExpression] = [:]
    }
    private static let cache = Cache()

    static func translate(_ pattern: String) -> String {
        var p = pattern.replacingOccurrences(of: "(?P<", with: "(?<")
        // (?P=name) backreference.
        while let r = p.range(of: "(?P=") {
            guard let close = p[r.upperBound...].firstIndex(of: ")") else { break }
            let name = p[r.upperBound..<close]
            p.replaceSubrange(r.lowerBound...close, with: "\\k<\(name)>")
        }
        return p.replacingOccurrences(of: "\\Z", with: "\\z")
    }

    static func compile(_ pattern: String, ignoreCase: Bool, multiline: Bool, line: Int) throws -> NSRegularExpression {
        let key = "\(ignoreCase ? 1 : 0)\(multiline ? 1 : 0)" + pattern
        cache.lock.lock()
        if let re = cache.entries[key] {
            cache.lock.unlock()
            return re
        }
        cache.lock.unlock()
        var options: NSRegularExpression.Options = []
        if ignoreCase { options.insert(.caseInsensitive) }
        if multiline { options.insert(.anchorsMatchLines) }
        do {
            let re = try NSRegularExpression(pattern: translate(pattern), options: options)
            cache.lock.lock()
            if cache.entries.count > 2000 { cache.entries.removeAll() }
            cache.entries[key] = re
            cache.lock.unlock()
            return re
        } catch {
            throw TemplateRuntimeError.template("invalid regular expression '\(pattern)'", line: line)
        }
    }

    static func group(_ m: NSTextCheckingResult, _ n: Int, in s: String, empty: Bool = false) -> Value {
        guard n < m.numberOfRanges else { return empty ? .string("") : .null }
        let r = m.range(at: n)
        if r.location == NSNotFound { return empty ? .string("") : .null }
        return .string((s as NSString).substring(with: r))
    }

    /// `re.sub(pattern, replacement, s, count)`.
    static func sub(_ re: NSRegularExpression, _ replacement: String, _ s: String, count: Int) -> String {
        let ns = s as NSString
        let matches = re.matches(in: s, range: NSRange(location: 0, length: ns.length))
        var out = ""
        var last = 0
        var done = 0
        for m in matches {
            if count > 0, done >= count { break }
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            out += expand(replacement, m, ns, re)
            last = m.range.location + m.range.length
            done += 1
        }
        out += ns.substring(from: last)
        return out
    }

    private static func expand(_ template: String, _ m: NSTextCheckingResult, _ s: NSString, _ re: NSRegularExpression) -> String {
        var out = ""
        let chars = Array(template)
        var i = 0
        func groupText(_ n: Int) -> String {
            guard n < m.numberOfRanges else { return "" }
            let r = m.range(at: n)
            return r.location == NSNotFound ? "" : s.substring(with: r)
        }
        while i < chars.count {
            let ch = chars[i]
            guard ch == "\\", i + 1 < chars.count else { out.append(ch); i += 1; continue }
            let next = chars[i + 1]
            if next.isASCII, next.isNumber {
                var digits = String(next)
                i += 2
                if i < chars.count, chars[i].isASCII, chars[i].isNumber, Int(digits + String(chars[i]))! < m.numberOfRanges {
                    digits.append(chars[i])
                    i += 1
                }
                out += groupText(Int(digits)!)
                continue
            }
            if next == "g", i + 2 < chars.count, chars[i + 2] == "<", let close = chars[(i + 3)...].firstIndex(of: ">") {
                let name = String(chars[(i + 3)..<close])
                if let n = Int(name) {
                    out += groupText(n)
                } else {
                    let r = m.range(withName: name)
                    if r.location != NSNotFound { out += s.substring(with: r) }
                }
                i = close + 1
                continue
            }
            switch next {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\": out.append("\\")
            default: out.append("\\"); out.append(next)
            }
            i += 2
        }
        return out
    }
}
