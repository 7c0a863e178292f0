import Foundation
import PGHACore

/// ufw's state read from its own files, as ufw itself reads them, without starting ufw (a Python
/// program that costs a busy host a large part of a second per call): /etc/ufw/ufw.conf and
/// /etc/default/ufw for the settings, /etc/ufw/user.rules and user6.rules for the rules, the
/// forwarding sysctls for the routed policy, and whether the ufw-user-input chain is loaded for
/// "active" (ufw's own test).
struct UfwState: Equatable {
    /// Lower-cased keys and values of ufw.conf and /etc/default/ufw, quotes stripped (ufw's `defaults`).
    var defaults: [String: String] = [:]
    var ipv4Forwarding = false
    var ipv6Forwarding = false
    var ipv6Present = false
    /// Whether the firewall's chains are loaded; nil when not read (the rules alone were asked for).
    var loaded: Bool?
    /// The user rules files' contents (IPv4, then IPv6), as `cat` shows them.
    var rules4 = ""
    var rules6 = ""

    static let files = [
        "/etc/ufw/ufw.conf", "/etc/default/ufw", "/proc/sys/net/ipv4/ip_forward",
        "/proc/sys/net/ipv6/conf/default/forwarding", "/proc/sys/net/ipv6/conf/all/forwarding",
        "/etc/ufw/user.rules", "/etc/ufw/user6.rules",
    ]

    /// One grep reads every file (each line prefixed with its file's name); `withStatus` adds ufw's
    /// own test for an active firewall, an iptables listing of its input chain.
    static func script(withStatus: Bool) -> String {
        var script = "grep -sH '' \(files.joined(separator: " ")); [ -d /proc/sys/net/ipv6 ] && echo '@ipv6'"
        if withStatus {
            script += "; if iptables -n -L ufw-user-input >/dev/null 2>&1; then echo '@loaded'; else echo '@unloaded'; fi"
        }
        return script
    }

    init() {}

    init(parsing output: String) {
        var rules4: [Substring] = []
        var rules6: [Substring] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            switch line {
            case "@ipv6": ipv6Present = true
            case "@loaded": loaded = true
            case "@unloaded": loaded = false
            default:
                guard let file = Self.files.first(where: { line.hasPrefix($0 + ":") }) else { continue }
                let value = line.dropFirst(file.count + 1)
                switch file {
                case "/etc/ufw/user.rules": rules4.append(value)
                case "/etc/ufw/user6.rules": rules6.append(value)
                case "/proc/sys/net/ipv4/ip_forward": ipv4Forwarding = ipv4Forwarding || value.contains("1")
                case "/etc/ufw/ufw.conf", "/etc/default/ufw":
                    // ufw's _read_defaults: KEY=value lines, quotes stripped, both sides lower-cased.
                    let trimmed = value.trimmingCharacters(in: .whitespaces)
                    guard !trimmed.hasPrefix("#"), let eq = trimmed.firstIndex(of: "=") else { continue }
                    let key = trimmed[..<eq].lowercased()
                    let raw = trimmed[trimmed.index(after: eq)...].lowercased()
                    defaults[key] = raw.trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                default: ipv6Forwarding = ipv6Forwarding || value.contains("1")
                }
            }
        }
        self.rules4 = rules4.map { $0 + "\n" }.joined()
        self.rules6 = rules6.map { $0 + "\n" }.joined()
    }

    /// ufw's use_ipv6: IPV6=yes and the kernel has IPv6.
    var usesIPv6: Bool { defaults["ipv6"] == "yes" && ipv6Present }

    /// The lines `ufw status verbose` starts with (its rules table comes from the rules files, which
    /// are compared on their own).
    var status: String {
        guard loaded == true else { return "Status: inactive\n" }
        let levels = ["off": 0, "low": 100, "medium": 200, "high": 300, "full": 400]
        var logging = "Logging: "
        if let level = defaults["loglevel"], let value = levels[level] {
            logging += value == 0 ? "off" : "on (\(level))"
        } else {
            logging += "unknown"
        }
        func policy(_ chain: String) -> String {
            switch defaults["default_\(chain)_policy"] {
            case "accept": return "allow"
            case "reject": return "reject"
            default: return "deny"
            }
        }
        let forwarding = ipv4Forwarding || (usesIPv6 && ipv6Forwarding)
        let routed = forwarding ? policy("forward") : "disabled"
        let application: String
        switch defaults["default_application_policy"] {
        case "accept": application = "allow"
        case "drop": application = "deny"
        case "reject": application = "reject"
        default: application = "skip"
        }
        return "Status: active\n\(logging)\n"
            + "Default: \(policy("input")) (incoming), \(policy("output")) (outgoing), \(routed) (routed)\n"
            + "New profiles: \(application)\n"
    }

    var rules: String { rules4 + rules6 }

    /// "### tuple ###" lines of each rules file.
    var tuples: (v4: Set<String>, v6: Set<String>) {
        func tuples(_ text: String) -> Set<String> {
            Set(text.split(separator: "\n").filter { $0.hasPrefix("### tuple ###") }.map(String.init))
        }
        return (tuples(rules4), tuples(rules6))
    }
}

/// The "### tuple ###" lines ufw writes for a rule (backend_iptables.py `_write_rules`), for the
/// forms it can be predicted for: allow/deny/limit/reject, in or out, tcp/udp/any, numeric ports and
/// ranges, IPv4 addresses and networks or any, an interface, log, comment. Anything else (apps,
/// service names, IPv6 addresses, routed rules, insert_relative_to) returns nil and ufw decides.
enum UfwRuleTuple {
    struct Prediction {
        /// The tuple for user.rules, and for user6.rules when the rule also applies to IPv6.
        var v4: String?
        var v6: String?
        /// The same without the comment, for deletes (ufw deletes a rule whatever its comment).
        var v4Bare: String?
        var v6Bare: String?
    }

    static func predict(_ args: ModuleArguments, usesIPv6: Bool) -> Prediction? {
        guard let rule = args.string("rule"), ["allow", "deny", "limit", "reject"].contains(rule),
            args.bool("route") != true, args.string("name") == nil, args["interface_in"] == nil,
            args["interface_out"] == nil, args.string("insert_relative_to") ?? "zero" == "zero"
        else { return nil }
        var action = rule
        if args.bool("log") == true { action += "_log" }
        let direction: String
        switch args.string("direction") {
        case nil, "in", "incoming": direction = "in"
        case "out", "outgoing": direction = "out"
        default: return nil
        }
        let proto = args.string("proto") ?? "any"
        guard ["any", "tcp", "udp"].contains(proto) else { return nil }
        guard let dport = port(args.string("to_port")), let sport = port(args.string("from_port")) else { return nil }
        // ufw wants a protocol with ports given as ranges or lists.
        if proto == "any" && (dport.contains(":") || sport.contains(":")) { return nil }
        guard let dst = address(args.string("to_ip") ?? "any"), let src = address(args.string("from_ip") ?? "any")
        else { return nil }
        var interfaces = direction
        if let interface = args.string("interface") {
            // ufw wants a direction with an interface.
            guard args.string("direction") != nil, !interface.isEmpty,
                interface.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) })
            else { return nil }
            interfaces += "_" + interface
        }
        var comment = ""
        if let text = args.string("comment"), !text.isEmpty {
            comment = " comment=" + text.utf8.map { String(format: "%02x", $0) }.joined()
        }
        func tuple(_ dst: String, _ src: String) -> String {
            "### tuple ### \(action) \(proto) \(dport) \(dst) \(sport) \(src) \(interfaces)"
        }
        // An address of one family keeps the rule to that family's file; any and any is both.
        var prediction = Prediction()
        switch (dst?.v6, src?.v6) {
        case (.some(true), .some(false)), (.some(false), .some(true)):
            return nil
        case (.some(true), _), (_, .some(true)):
            guard usesIPv6 else { return nil }
            prediction.v6Bare = tuple(dst?.text ?? "::/0", src?.text ?? "::/0")
            prediction.v6 = prediction.v6Bare! + comment
        case (.some(false), _), (_, .some(false)):
            prediction.v4Bare = tuple(dst?.text ?? "0.0.0.0/0", src?.text ?? "0.0.0.0/0")
            prediction.v4 = prediction.v4Bare! + comment
        default:
            prediction.v4Bare = tuple("0.0.0.0/0", "0.0.0.0/0")
            prediction.v4 = prediction.v4Bare! + comment
            if usesIPv6 {
                prediction.v6Bare = tuple("::/0", "::/0")
                prediction.v6 = prediction.v6Bare! + comment
            }
        }
        return prediction
    }

    /// "any", a port, or a range as ufw writes them; nil when ufw would have to interpret it.
    private static func port(_ value: String?) -> String? {
        guard let value, value != "any" else { return "any" }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 5 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber)
                && (1...65535).contains(Int($0) ?? 0) && $0.first != "0" })
        else { return nil }
        if parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), low >= high { return nil }
        return value
    }

    /// .some(nil) for "any"; an address or network in ufw's normal form (an IPv4 network without
    /// host bits, no /32 or /128 host mask, IPv6 as inet_ntop writes it); nil for anything ufw
    /// would rewrite.
    private static func address(_ value: String) -> (text: String, v6: Bool)?? {
        if value == "any" { return .some(nil) }
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return nil }
        if parts[0].contains(":") {
            guard parts.count == 1 || parts[1] == "128", canonicalIPv6(String(parts[0])) else { return nil }
            return .some((String(parts[0]), true))
        }
        guard let ip = ipv4(parts[0]) else { return nil }
        guard parts.count == 2 else { return .some((value, false)) }
        guard let prefix = Int(parts[1]), parts[1].allSatisfy(\.isNumber), (0...32).contains(prefix),
            parts[1].first != "0" || parts[1] == "0"
        else { return nil }
        if prefix == 32 { return .some((String(parts[0]), false)) }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
        guard ip & ~mask == 0 else { return nil }
        return .some((value, false))
    }

    /// Whether `text` is an IPv6 address exactly as inet_ntop writes it (ufw stores that form).
    private static func canonicalIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return false }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return false }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) == text
    }

    private static func ipv4(_ text: Substring) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy({ $0.isASCII && $0.isNumber }),
                octet.first != "0" || octet == "0", let number = UInt32(octet), number <= 255
            else { return nil }
            value = value << 8 | number
        }
        return value
    }
}
