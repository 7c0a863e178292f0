import Foundation
import PGHACore

/// Ansible's `parse_address` and `expand_hostname_range`: host names, IPv4/IPv6 addresses, `:port`
/// suffixes and `[a:b(:step)]` ranges, with the same regular expressions so odd names behave alike.
enum HostAddress {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private static let numericRange = #"\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]"#
    private static let alphanumericRange = #"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]"#
    private static let ipv6Component = "(?:[0-9a-f]{1,4}|\(numericRange))"
    private static let ipv4Component = "(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|\(numericRange))"
    private static let label = "(?:[\\w]|\(alphanumericRange))(?:[\\w_-]|\(alphanumericRange))*(?<![_-])"

    private static func regex(_ pattern: String, caseInsensitive: Bool = false) -> NSRegularExpression {
        // The patterns are constants; a failure here is a programming error caught by the tests.
        try! NSRegularExpression(pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : [])
    }

    private static let bracketedHostPort = regex(#"^\[(.+)\]:([0-9]+)$"#)
    private static let hostPort = regex(#"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$"#)
    static let ipv4 = regex("^(?:\(ipv4Component)\\.){3}\(ipv4Component)$", caseInsensitive: true)
    static let ipv6: NSRegularExpression = {
        let c = ipv6Component
        let alternatives = [
            "(?:\(c):){7}\(c)",
            "(?:\(c):){1,6}:",
            "(?:\(c):)(?::\(c)){1,6}",
            "(?:\(c):){2}(?::\(c)){1,5}",
            "(?:\(c):){3}(?::\(c)){1,4}",
            "(?:\(c):){4}(?::\(c)){1,3}",
            "(?:\(c):){5}(?::\(c)){1,2}",
            "(?:\(c):){6}(?::\(c))",
            ":(?::\(c)){1,6}",
            "\(c)?::",
            "(?:0:){6}(?:\(c)\\.){3}\(c)",
            "::(?:ffff:)?(?:\(c)\\.){3}\(c)",
            "(?:0:){5}ffff:(?:\(c)\\.){3}\(c)",
        ]
        // Python's `^a|b|c$` anchors only the first alternative at the start and the last at the end.
        var joined = alternatives.joined(separator: "|")
        joined = "^" + joined + "$"
        return regex(joined, caseInsensitive: true)
    }()
    private static let hostname = regex("^\(label)(?:\\.\(label))*$", caseInsensitive: true)

    static func matches(_ regex: NSRegularExpression, _ text: String) -> [String]? {
        let range = NSRange(text.startIndex..., in: text)
        guard let m = regex.firstMatch(in: text, range: range) else { return nil }
        return (0..<m.numberOfRanges).map { index in
            let r = m.range(at: index)
            guard r.location != NSNotFound, let swiftRange = Range(r, in: text) else { return "" }
            return String(text[swiftRange])
        }
    }

    /// Python's `re.match`: anchored at the start only (the patterns carry their own `$`).
    private static func pyMatch(_ regex: NSRegularExpression, _ text: String) -> Bool {
        let range = NSRange(text.startIndex..., in: text)
        guard let m = regex.firstMatch(in: text, options: [.anchored], range: range) else { return false }
        _ = m
        return true
    }

    /// `parse_address(address, allow_ranges)`: the host part and the port, or a failure.
    static func parse(_ address: String, allowRanges: Bool) throws -> (host: String, port: Int?) {
        var address = address
        var port: Int?
        for pattern in [bracketedHostPort, hostPort] {
            if let groups = matches(pattern, address) {
                address = groups[1]
                port = Int(groups[2])
            }
        }
        var host: String?
        for pattern in [ipv4, ipv6, hostname] where pyMatch(pattern, address) {
            host = address
        }
        guard let host else { throw Failure(description: "Not a valid network hostname: \(address)") }
        if !allowRanges && host.contains("[") {
            throw Failure(description: "Detected range in host but was asked to ignore ranges")
        }
        return (host, port)
    }

    /// True when `name` is written as an IP address (for `inventory_hostname_short`).
    static func isIPAddress(_ name: String) -> Bool {
        pyMatch(ipv4, name) || pyMatch(ipv6, name)
    }

    private static let asciiLetters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    /// `expand_hostname_range`: `db[01:03]-[a:b]` becomes db01-a, db01-b, db02-a, ...
    static func expandRange(_ line: String) throws -> [String] {
        guard let open = line.firstIndex(of: "[") else { return [line] }
        let afterOpen = line[line.index(after: open)...]
        guard let close = afterOpen.firstIndex(of: "]") else {
            throw Failure(description: "host range '\(line)' has no closing ']'")
        }
        let head = String(line[..<open])
        let nrange = String(line[line.index(after: open)..<close])
        let tail = String(line[line.index(after: close)...])
        // Python splits on '|' after swapping the first brackets; a literal '|' breaks that unpacking.
        if head.contains("|") || nrange.contains("|") || tail.contains("|") {
            throw Failure(description: "host range '\(line)' contains '|'")
        }
        let bounds = nrange.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard bounds.count == 2 || bounds.count == 3 else {
            throw Failure(description: "host range must be begin:end or begin:end:step")
        }
        var begin = bounds[0]
        let end = bounds[1]
        let stepText = bounds.count == 3 ? bounds[2] : "1"
        if begin.isEmpty { begin = "0" }
        guard !end.isEmpty else { throw Failure(description: "host range must specify end value") }
        var width = 0
        if begin.first == "0" && begin.count > 1 {
            width = begin.count
            guard width == end.count else {
                throw Failure(description: "host range must specify equal-length begin and end formats")
            }
        }
        guard let step = Int(stepText.trimmingCharacters(in: .whitespaces)), step != 0 else {
            throw Failure(description: "invalid step '\(stepText)' in host range '\(line)'")
        }
        var sequence: [String] = []
        if begin.count == 1, end.count == 1, let b = asciiLetters.firstIndex(of: Character(begin)),
            let e = asciiLetters.firstIndex(of: Character(end))
        {
            guard b <= e else { throw Failure(description: "host range must have begin <= end") }
            // A negative step slices backwards from b to e + 1, which is empty since b <= e.
            if step > 0 { sequence = stride(from: b, through: e, by: step).map { String(asciiLetters[$0]) } }
        } else {
            guard let b = Int(begin.trimmingCharacters(in: .whitespaces)), let e = Int(end.trimmingCharacters(in: .whitespaces)) else {
                throw Failure(description: "invalid host range '[\(nrange)]': bounds must be numbers or single letters")
            }
            // Counted before anything is made: `web[1:99999999]` is a typo, not a hundred million hosts.
            let span = (Double(e) - Double(b)) / Double(step)
            if span + 1 > Double(maxRangeHosts) {
                throw Failure(description: "host range '[\(nrange)]' expands to more than \(maxRangeHosts) hosts")
            }
            if step > 0 {
                if b <= e { sequence = stride(from: b, through: e, by: step).map { String($0) } }
            } else {
                // Python's range(b, e + 1, step) with a negative step counts down, stopping before e + 1.
                if e < Int.max, b > e + 1 { sequence = stride(from: b, to: e + 1, by: step).map { String($0) } }
            }
            if width > 0 {
                sequence = sequence.map { value in
                    let negative = value.hasPrefix("-")
                    let digits = negative ? String(value.dropFirst()) : value
                    let padded = String(repeating: "0", count: max(0, width - value.count)) + digits
                    return negative ? "-" + padded : padded
                }
            }
        }
        var hosts: [String] = []
        for item in sequence {
            let name = head + item + tail
            if name.contains("[") {
                hosts.append(contentsOf: try expandRange(name))
            } else {
                hosts.append(name)
            }
            if hosts.count > maxRangeHosts {
                throw Failure(description: "host range '\(line)' expands to more than \(maxRangeHosts) hosts")
            }
        }
        return hosts
    }

    /// The most hosts one range line may name (Ansible has no limit; a typo would hang the run).
    static let maxRangeHosts = 100_000

    /// `BaseInventoryPlugin._expand_hostpattern`: a host (or range of hosts) and an optional port.
    static func expandHostPattern(_ pattern: String) throws -> (hosts: [String], port: Int?) {
        var host = pattern
        var port: Int?
        if let parsed = try? parse(pattern, allowRanges: true) {
            host = parsed.host
            port = parsed.port
        }
        let hosts = host.contains("[") ? try expandRange(host) : [host]
        return (hosts, port)
    }
}
