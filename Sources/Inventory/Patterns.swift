import Foundation
import PGHACore

/// The hosts a pattern selected, and the patterns that matched nothing (Ansible warns
/// "Could not match supplied host pattern, ignoring: X" for each).
public struct HostSelection: Sendable, Equatable {
    public var hosts: [String]
    public var warnings: [String]
}

extension Inventory {
    private static let subscriptPattern = try! NSRegularExpression(
        pattern: #"^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$"#, options: [.dotMatchesLineSeparators])
    private static let colonSplitPattern = try! NSRegularExpression(pattern: #"(?:[^\s:\[\]]|\[[^\]]*\])+"#)

    /// `split_host_pattern`: `a,b` and (when the whole is not one address or range) `a:b:&c:!d`.
    public static func splitPattern(_ pattern: String) -> [String] {
        var parts: [String]
        if pattern.contains(",") {
            parts = pattern.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        } else if (try? HostAddress.parse(pattern, allowRanges: true)) != nil {
            parts = [pattern]
        } else {
            let range = NSRange(pattern.startIndex..., in: pattern)
            parts = colonSplitPattern.matches(in: pattern, range: range).compactMap { m in
                Range(m.range, in: pattern).map { String(pattern[$0]) }
            }
        }
        return parts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Hosts matching a pattern as `hosts:` or `ansible PATTERN` would select them, in Ansible's order.
    /// Unknown names select nothing (see `select(_:limit:)` for the warnings).
    public func hosts(matching pattern: String) throws -> [String] {
        try select(pattern).hosts
    }

    /// Hosts matching a list of patterns (a play's `hosts:` written as a YAML list), in Ansible's order.
    public func hosts(matching patterns: [String], limit: String? = nil) throws -> [String] {
        try select(patterns.flatMap(Self.splitPattern).joined(separator: ","), limit: limit).hosts
    }

    /// Hosts matching a pattern, restricted by `--limit` (itself a pattern, or `@file` of host names).
    public func hosts(matching pattern: String, limit: String?) throws -> [String] {
        try select(pattern, limit: limit).hosts
    }

    /// Evaluates a host pattern (and optional `--limit`), keeping the no-match warnings.
    public func select(_ pattern: String, limit: String? = nil, currentDirectory: String? = nil) throws -> HostSelection {
        var warnings: [String] = []
        var result = try evaluate(Self.splitPattern(pattern), warnings: &warnings)
        if let limit {
            var subset: [String] = []
            for part in Self.splitPattern(limit) {
                if part.hasPrefix("@") {
                    let path = Self.absolutePath(String(part.dropFirst()), currentDirectory: currentDirectory)
                    var isDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                        throw PGHAError(.usage, "Unable to find limit file \(path)")
                    }
                    guard !isDirectory.boolValue else {
                        throw PGHAError(.usage, "Limit starting with \"@\" must be a file, not a directory: \(path)")
                    }
                    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                    subset += text.split(separator: "\n", omittingEmptySubsequences: false).map {
                        $0.trimmingCharacters(in: .whitespaces)
                    }
                } else {
                    subset.append(part)
                }
            }
            let allowed = Set(try evaluate(subset.filter { !$0.isEmpty }, warnings: &warnings))
            result = result.filter { allowed.contains($0) }
        }
        return HostSelection(hosts: result, warnings: warnings)
    }

    /// `InventoryManager._evaluate_patterns`: unions in order, then `&` intersections, then `!` exclusions.
    private func evaluate(_ patterns: [String], warnings: inout [String]) throws -> [String] {
        var regular: [String] = []
        var intersections: [String] = []
        var exclusions: [String] = []
        for p in patterns where !p.isEmpty {
            if p.hasPrefix("!") { exclusions.append(p) } else if p.hasPrefix("&") { intersections.append(p) } else { regular.append(p) }
        }
        if regular.isEmpty { regular = ["all"] }
        var result: [String] = []
        var present = Set<String>()
        for p in regular + intersections + exclusions {
            if hosts[p] != nil {
                if present.insert(p).inserted { result.append(p) }
                continue
            }
            let matched = try matchOne(p, warnings: &warnings)
            if p.hasPrefix("!") {
                let excluded = Set(matched)
                result.removeAll { excluded.contains($0) }
                present.subtract(excluded)
            } else if p.hasPrefix("&") {
                let kept = Set(matched)
                result.removeAll { !kept.contains($0) }
                present = Set(result)
            } else {
                for host in matched where present.insert(host).inserted { result.append(host) }
            }
        }
        return result
    }

    private func matchOne(_ rawPattern: String, warnings: inout [String]) throws -> [String] {
        var pattern = rawPattern
        if pattern.hasPrefix("&") || pattern.hasPrefix("!") { pattern.removeFirst() }
        guard !pattern.isEmpty else { return [] }
        var expression = pattern
        var subscriptStart: Int?
        var subscriptEnd: Int?
        if !pattern.hasPrefix("~"), let m = HostAddress.matches(Self.subscriptPattern, pattern) {
            expression = m[1]
            if !m[2].isEmpty {
                subscriptStart = Int(m[2])
            } else {
                subscriptStart = Int(m[3])
                subscriptEnd = m[5].isEmpty ? -1 : Int(m[5])
                if m[4] == "-" {
                    warnings.append("Use [x:y] inclusive subscripts instead of [x-y] which has been removed")
                }
            }
        }
        let matched = try enumerateMatches(expression, warnings: &warnings)
        guard let start = subscriptStart, !matched.isEmpty else { return matched }
        // Python's `if end:` treats an end of 0 as "no end", so `g[0:0]` means `g[0]`.
        if let end = subscriptEnd, end != 0 {
            let last = end == -1 ? matched.count - 1 : end
            let lower = min(start, matched.count)
            let upper = min(last + 1, matched.count)
            return lower < upper ? Array(matched[lower..<upper]) : []
        }
        let index = start < 0 ? matched.count + start : start
        guard index >= 0, index < matched.count else {
            throw PGHAError(.inventory, "No hosts matched the subscripted pattern '\(pattern)'")
        }
        return [matched[index]]
    }

    /// `InventoryManager._enumerate_matches`: matching groups' hosts, then (for globs, regexes, or when no
    /// group matched) matching hosts, then the implicit localhost.
    private func enumerateMatches(_ pattern: String, warnings: inout [String]) throws -> [String] {
        let matcher = try Self.matcher(for: pattern)
        var results: [String] = []
        let matchingGroups = groups.keys.filter(matcher)
        for group in matchingGroups { results += hosts(inGroup: group) }
        let special = pattern.hasPrefix("~") || pattern.contains(where: { ".?*[".contains($0) })
        if matchingGroups.isEmpty || special {
            results += hosts.keys.filter(matcher)
        }
        if results.isEmpty, Self.localhostNames.contains(pattern), let implicit = resolvedHost(pattern) {
            results.append(implicit.name)
        }
        if results.isEmpty && matchingGroups.isEmpty && pattern != "all" {
            warnings.append("Could not match supplied host pattern, ignoring: \(pattern)")
        }
        return results
    }

    /// A name test for one pattern: `~regex` (Python `re.match`, anchored at the start) or an fnmatch glob.
    static func matcher(for pattern: String) throws -> (String) -> Bool {
        let regexText = pattern.hasPrefix("~") ? String(pattern.dropFirst()) : "(?s:" + fnmatchTranslate(pattern) + ")\\z"
        let regex: NSRegularExpression
        do { regex = try NSRegularExpression(pattern: regexText) } catch {
            throw PGHAError(.inventory, "Invalid host list pattern: \(pattern)")
        }
        return { name in
            regex.firstMatch(in: name, options: [.anchored], range: NSRange(name.startIndex..., in: name)) != nil
        }
    }

    /// Python's `fnmatch.translate` body: `*`, `?`, `[seq]`, `[!seq]`; everything else literal.
    static func fnmatchTranslate(_ pattern: String) -> String {
        let chars = Array(pattern)
        var out = ""
        var i = 0
        func escape(_ text: String) -> String { NSRegularExpression.escapedPattern(for: text) }
        while i < chars.count {
            let c = chars[i]
            i += 1
            switch c {
            case "*":
                if !out.hasSuffix(".*") { out += ".*" }
            case "?":
                out += "."
            case "[":
                var j = i
                if j < chars.count, chars[j] == "!" { j += 1 }
                if j < chars.count, chars[j] == "]" { j += 1 }
                while j < chars.count, chars[j] != "]" { j += 1 }
                if j >= chars.count {
                    out += "\\["
                } else {
                    var stuff = String(chars[i..<j])
                    i = j + 1
                    stuff = stuff.replacingOccurrences(of: "\\", with: "\\\\")
                    if stuff.isEmpty {
                        out += "(?!)"
                    } else if stuff == "!" {
                        out += "."
                    } else {
                        let negate = stuff.hasPrefix("!")
                        if negate { stuff.removeFirst() }
                        // ICU gives `[` and `&&` meaning inside classes; Python does not.
                        stuff = stuff.replacingOccurrences(of: "[", with: "\\[").replacingOccurrences(of: "&&", with: "&\\&")
                        if negate { stuff = "^" + stuff } else if stuff.hasPrefix("^") { stuff = "\\" + stuff }
                        out += "[" + stuff + "]"
                    }
                }
            default:
                out += escape(String(c))
            }
        }
        return out
    }
}

extension Inventory {
    /// Refuses a host pattern that cannot mean what was written: an unclosed or stray bracket, an
    /// empty subscript or range (`web[]`, `web[5:2]`), an invalid `~regex`. Ansible takes these as
    /// names that match nothing, so a typo silently runs the play on no host.
    public static func validatePattern(_ pattern: String, at location: SourceLocation? = nil) throws {
        func fail(_ message: String) -> PGHAError {
            PGHAError(
                .inventory, "malformed host pattern '\(pattern)': \(message)", at: location,
                hint: "patterns are names, groups, globs (web*), subscripts (web[0], web[1:3]), ~regex, joined by : , & !")
        }
        let parts = pattern.contains(",")
            ? pattern.split(separator: ",", omittingEmptySubsequences: false).map(String.init) : [pattern]
        for rawPart in parts {
            var part = rawPart.trimmingCharacters(in: .whitespaces)
            if part.hasPrefix("&") || part.hasPrefix("!") { part.removeFirst() }
            if part.hasPrefix("~") {
                do { _ = try NSRegularExpression(pattern: String(part.dropFirst())) } catch {
                    throw fail("'\(part)' is not a valid regular expression")
                }
                continue
            }
            var open: String.Index?
            for index in part.indices {
                switch part[index] {
                case "[":
                    if open != nil { throw fail("'[' inside '[...]'") }
                    open = index
                case "]":
                    guard let start = open else { throw fail("']' without a matching '['") }
                    let inside = part[part.index(after: start)..<index]
                    if inside.isEmpty { throw fail("empty range '[]'") }
                    if let range = Self.rangeBounds(inside), let end = range.end, end != 0, end < range.start {
                        throw fail("empty range '[\(inside)]' (\(end) is before \(range.start))")
                    }
                    open = nil
                default:
                    continue
                }
            }
            if open != nil { throw fail("unclosed '['") }
        }
    }

    /// `x:y` or `x-y` of a subscript, with numbers on both sides (nil for a glob class such as `[ab]`).
    private static func rangeBounds(_ inside: Substring) -> (start: Int, end: Int?)? {
        guard let separator = inside.firstIndex(where: { $0 == ":" || $0 == "-" }) else { return nil }
        guard let start = Int(inside[..<separator]) else { return nil }
        let endText = inside[inside.index(after: separator)...]
        if endText.isEmpty { return (start, nil) }
        guard let end = Int(endText) else { return nil }
        return (start, end)
    }
}
