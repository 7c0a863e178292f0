import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.postgresql.postgresql_pg_hba` (as in the collection's 4.x): adds, replaces or removes
/// one pg_hba.conf rule. A rule with the same type, databases, users and source is replaced, a new
/// one is appended; when anything changed and `sort_rules` is on (the default), the file is sorted as
/// the collection sorts it: full-line comments first in their order, then rules from the most to the
/// least specific source, database and user, includes last, empty lines dropped.
public enum PostgresqlPgHbaModule: Module {
    public static let declaration = ActionDeclaration(
        name: "postgresql_pg_hba", qualifiedNames: ["community.postgresql.postgresql_pg_hba"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec([
            .init("dest", .path, required: true),
            .init("contype", .choice(["local", "host", "hostnossl", "hostssl", "hostgssenc", "hostnogssenc"])),
            .init("databases", .string, default: "all"),
            .init("users", .string, default: "all"),
            .init("address", .string, default: "samehost", aliases: ["source", "src"]),
            .init("netmask", .string),
            .init("method", .choice(methods), default: "md5"),
            .init("options", .string),
            .init("state", .choice(["present", "absent"]), default: "present"),
            .init("create", .bool, default: false),
            .init("backup", .bool, default: false),
            .init("backup_file", .string),
            .init("sort_rules", .bool, default: true),
            .init("owner", .string),
            .init("group", .string),
            .init("mode", .mode),
            .init("comment", .string),
        ]),
        documentation: ActionDocumentation(
            "Add, remove or modify a rule in a pg_hba file",
            examples: """
                - name: Let the replication user in from the cluster's network
                  community.postgresql.postgresql_pg_hba:
                    dest: /etc/postgresql/15/main/pg_hba.conf
                    contype: hostssl
                    databases: replication
                    users: replicator
                    source: 10.0.0.0/24
                    method: scram-sha-256
                """))

    static let methods = [
        "trust", "reject", "md5", "password", "gss", "sspi", "krb5", "ident", "peer", "ldap", "radius", "cert",
        "pam", "scram-sha-256",
    ]
    static let types = ["local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"]

    struct HbaError: Error { var message: String }

    /// One line of the file (or a new rule, which has no line): a rule, or a special line (comment,
    /// empty, include).
    struct Rule {
        var line: String?
        var lineNumber = 0
        var special = false
        var comment: String?
        var type = ""
        var database = ""
        var user = ""
        var address = ""
        var addressType = ""
        var prefix = -1
        var mask: String?
        var method = ""
        var options: [String: String] = [:]

        /// The source as the collection compares it: "" for local, the network for addresses.
        var source: Source {
            if type == "local" { return .none }
            if addressType == "hostname" { return .name(address) }
            return .network(IPNetwork(address, prefix: prefix))
        }

        /// Same type, user, database and source; specials by their comment or text.
        func sameKey(_ other: Rule) -> Bool {
            if special && other.special {
                if let c = comment, let d = other.comment { return c == d }
                return line == other.line
            }
            if special != other.special { return false }
            return type == other.type && user == other.user && database == other.database && source == other.source
        }

        func identical(_ other: Rule) -> Bool {
            sameKey(other) && method == other.method && options == other.options
        }

        var serializedOptions: String { options.keys.sorted().map { "\($0)=\(options[$0]!)" }.joined(separator: " ") }

        func serialize() -> String {
            if let line { return line }
            if special { return comment ?? "" }
            var parts = [type, database, user]
            if type != "local" { parts.append(source.description) }
            parts.append(method)
            if !options.isEmpty { parts.append(serializedOptions) }
            if let comment { parts.append(comment) }
            return parts.joined(separator: "\t")
        }

        var value: Value {
            var d: OrderedDictionary<String, Value> = ["type": .string(type), "db": .string(database), "usr": .string(user)]
            if !address.isEmpty && type != "local" { d["src"] = .string(source.description) }
            d["method"] = .string(method)
            if !options.isEmpty { d["options"] = .string(serializedOptions) }
            return .dict(d)
        }

        // The collection's ordering weights.
        var sourceWeight: Int {
            if type == "local" { return 130 }
            if addressType == "IPv4" { return prefix * 4 }
            if addressType == "IPv6" { return prefix }
            switch address {
            case "all": return 0
            case "samehost": return 129
            case "samenet": return 96
            default: return address.hasPrefix(".") ? 64 : 128
            }
        }

        var sourceTypeWeight: Int {
            if type == "local" { return 3 }
            switch source {
            case .network(let n): return n.isV6 ? 1 : 2
            default: return 0
            }
        }

        var databaseWeight: Int {
            if database.hasPrefix("\"") { return 3 }
            let list = database.split(separator: ",", omittingEmptySubsequences: false)
            if list.contains("all") { return 100_000 }
            if database == "replication" { return 0 }
            if database == "samerole" || database == "samegroup" { return 2 }
            return 3 + list.count
        }

        var userWeight: Int {
            if user.hasPrefix("\"") { return 1 }
            let list = user.split(separator: ",", omittingEmptySubsequences: false)
            return list.contains("all") ? 100_000 : 1 + list.count
        }

        var specialWeight: Int {
            if comment != nil { return 1 }
            return (line ?? "").hasPrefix("include") ? 90 : 99
        }

        var isInclude: Bool { (line ?? "").hasPrefix("include") }

        /// The collection's `PgHbaRule.__lt__`.
        static func < (a: Rule, b: Rule) -> Bool {
            if a.special && b.special {
                if a.specialWeight != b.specialWeight { return a.specialWeight < b.specialWeight }
                if a.lineNumber != 0 && b.lineNumber != 0 { return a.lineNumber < b.lineNumber }
                if a.lineNumber == 0 && b.lineNumber == 0 { return (a.line ?? "") < (b.line ?? "") }
                return a.lineNumber > b.lineNumber
            }
            if a.special { return !a.isInclude && a.comment != nil }
            if b.special { return b.isInclude && b.comment == nil }
            if a.sourceWeight != b.sourceWeight { return a.sourceWeight > b.sourceWeight }
            if a.databaseWeight != b.databaseWeight { return a.databaseWeight < b.databaseWeight }
            if a.userWeight != b.userWeight { return a.userWeight < b.userWeight }
            if a.sourceTypeWeight != b.sourceTypeWeight { return a.sourceTypeWeight > b.sourceTypeWeight }
            if a.source != b.source { return a.source < b.source }
            return a.serialize() < b.serialize()
        }
    }

    enum Source: Equatable, CustomStringConvertible {
        case none
        case name(String)
        case network(IPNetwork)

        var description: String {
            switch self {
            case .none: return ""
            case .name(let n): return n
            case .network(let n): return n.description
            }
        }

        static func < (a: Source, b: Source) -> Bool {
            switch (a, b) {
            case (.network(let x), .network(let y)): return x < y
            default: return a.description < b.description
            }
        }
    }

    /// An IPv4 or IPv6 network, host bits cleared (Python's `ip_network(..., strict=False)`).
    struct IPNetwork: Equatable {
        var bytes: [UInt8]
        var prefix: Int
        var isV6: Bool { bytes.count == 16 }

        init(_ address: String, prefix: Int) {
            var bytes = IPNetwork.parse(address) ?? []
            let bits = bytes.count * 8
            let p = prefix < 0 ? bits : min(prefix, bits)
            for i in 0..<bytes.count {
                let keep = max(0, min(8, p - i * 8))
                bytes[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
            }
            self.bytes = bytes
            self.prefix = p
        }

        static func parse(_ text: String) -> [UInt8]? {
            var v4 = in_addr()
            if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
            var v6 = in6_addr()
            if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
            return nil
        }

        static func format(_ bytes: [UInt8]) -> String {
            var buffer = [CChar](repeating: 0, count: 64)
            var copy = bytes
            let family = bytes.count == 16 ? AF_INET6 : AF_INET
            _ = copy.withUnsafeMutableBytes { inet_ntop(family, $0.baseAddress, &buffer, 64) }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }

        var description: String { "\(IPNetwork.format(bytes))/\(prefix)" }

        /// Python compares networks of one version by address, then netmask.
        static func < (a: IPNetwork, b: IPNetwork) -> Bool {
            if a.bytes.count != b.bytes.count { return a.bytes.count < b.bytes.count }
            if a.bytes != b.bytes { return a.bytes.lexicographicallyPrecedes(b.bytes) }
            return a.prefix < b.prefix
        }
    }

    // MARK: parsing

    /// Splits a line into fields, keeping quoted strings whole; a `#` outside quotes starts the
    /// comment, which is the last token.
    static func tokenize(_ line: String) throws -> [String] {
        var tokens: [String] = []
        var current = ""
        var quoted = false
        var index = line.startIndex
        while index < line.endIndex {
            let c = line[index]
            if quoted {
                current.append(c)
                if c == "\"" { quoted = false }
            } else if c == "\"" {
                current.append(c)
                quoted = true
            } else if c == "#" {
                if !current.isEmpty { tokens.append(current) }
                tokens.append(String(line[index...]))
                return tokens
            } else if c == " " || c == "\t" || c == "\n" || c == "\r" {
                if !current.isEmpty { tokens.append(current) }
                current = ""
            } else {
                current.append(c)
            }
            index = line.index(after: index)
        }
        if quoted { throw HbaError(message: "Unterminated quote") }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    static func stripQuotes(_ s: String) -> String {
        s.hasPrefix("\"") && s.count >= 2 ? String(s.dropFirst().dropLast()) : s
    }

    /// Comma lists sorted, quoted strings and regexes as they are.
    static func sortedList(_ s: String) -> String {
        if s.contains("\"") || s.hasPrefix("/") { return s }
        return s.split(separator: ",", omittingEmptySubsequences: false).map(String.init).sorted().joined(separator: ",")
    }

    /// (address, type, prefix): an IP network (prefix -1 without a suffix) or a host name/keyword.
    static func addressField(_ address: String) throws -> (String, String, Int) {
        let parts = address.split(separator: "/", maxSplits: 1).map(String.init)
        if let bytes = IPNetwork.parse(parts[0]) {
            var prefix = -1
            if parts.count == 2 {
                guard let p = Int(parts[1]), p >= 0, p <= bytes.count * 8 else {
                    throw HbaError(message: "The string '\(address)' is neither a valid IP address, network, hostname or keyword")
                }
                prefix = p
                if IPNetwork(parts[0], prefix: p).bytes != bytes { throw HbaError(message: "\(address) has host bits set") }
            }
            return (IPNetwork.format(bytes), bytes.count == 16 ? "IPv6" : "IPv4", prefix)
        }
        if address.hasPrefix("\"") {
            let inner = try addressField(stripQuotes(address))
            if inner.1 != "hostname" { return inner }
        }
        if address.contains(where: { ":\\/@+ ".contains($0) })
            || address.range(of: #"^"?((\d{1,3}\.){3}\d{1,3})(/(\d{1,2}))?"?$"#, options: .regularExpression) != nil
        {
            throw HbaError(message: "The string '\(address)' is neither a valid IP address, network, hostname or keyword")
        }
        return (address, "hostname", -1)
    }

    /// (mask, type, length) of a netmask, or nil when it is not an address.
    static func netmaskField(_ netmask: String) throws -> (String, String, Int)? {
        let mask = stripQuotes(netmask)
        guard let bytes = IPNetwork.parse(mask) else { return nil }
        let bits = bytes.map { byte -> String in
            let digits = String(byte, radix: 2)
            return String(repeating: "0", count: 8 - digits.count) + digits
        }.joined()
        if bits.contains("01") { throw HbaError(message: "IP mask \(mask) is invalid (binary value has 1 after 0)") }
        return (mask, bytes.count == 16 ? "IPv6" : "IPv4", bits.filter { $0 == "1" }.count)
    }

    static func options(_ tokens: [String]) throws -> [String: String] {
        var out: [String: String] = [:]
        for token in tokens {
            let option = stripQuotes(token)
            guard let eq = option.firstIndex(of: "="), eq != option.startIndex, option.index(after: eq) != option.endIndex else {
                throw HbaError(message: "Found invalid option '\(token)'. Options need to be in the format 'key=value'")
            }
            let key = String(option[..<eq])
            if out[key] != nil { throw HbaError(message: "The rule contains two options with the same key ('\(key)')") }
            out[key] = String(option[option.index(after: eq)...])
        }
        return out
    }

    static func parseFile(_ text: String) throws -> [Rule] {
        var rules: [Rule] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)[...]
        var number = 1
        while var line = lines.popFirst() {
            let first = number
            while line.hasSuffix("\\"), let next = lines.popFirst() {
                line += "\n" + next
                number += 1
            }
            var rule = Rule(line: line, lineNumber: first)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("#") {
                rule.special = true
                rule.comment = trimmed
            } else if trimmed.isEmpty {
                rule.special = true
            } else {
                do {
                    var tokens = try tokenize(line.replacingOccurrences(of: "\\\n", with: ""))
                    if let last = tokens.last, last.hasPrefix("#") {
                        rule.comment = last.trimmingCharacters(in: .whitespaces)
                        tokens.removeLast()
                    }
                    try fill(&rule, tokens: tokens)
                } catch let error as HbaError {
                    throw HbaError(message: "Error in line \(first): \(error.message)")
                }
            }
            rules.append(rule)
            number += 1
        }
        return rules
    }

    static func fill(_ rule: inout Rule, tokens: [String]) throws {
        if tokens.first?.hasPrefix("include") == true {
            rule.special = true
            return
        }
        guard tokens.count >= 4 else { throw HbaError(message: "The rule has too few symbols") }
        rule.type = stripQuotes(tokens[0])
        guard types.contains(rule.type) else { throw HbaError(message: "Found an unknown connection-type \(tokens[0])") }
        rule.database = sortedList(tokens[1])
        rule.user = sortedList(tokens[2])
        var methodToken = 3
        if rule.type != "local" {
            (rule.address, rule.addressType, rule.prefix) = try addressField(tokens[3])
            if rule.addressType.hasPrefix("IP") && rule.prefix == -1 {
                guard tokens.count > 4, let mask = try netmaskField(tokens[4]) else {
                    throw HbaError(message: "The rule either needs a hostname, full CIDR or an IP-address and a netmask")
                }
                guard mask.1 == rule.addressType else { throw HbaError(message: "Can't mix IPv4 and IPv6 netmasks and addresses") }
                (rule.mask, rule.prefix) = (mask.0, mask.2)
                guard tokens.count >= 6 else { throw HbaError(message: "The rule has too few symbols") }
                methodToken = 5
            } else {
                guard tokens.count >= 5 else { throw HbaError(message: "The rule has too few symbols") }
                methodToken = 4
            }
        }
        rule.method = stripQuotes(tokens[methodToken])
        guard methods.contains(rule.method) else { throw HbaError(message: "Found an unknown method: \(tokens[methodToken])") }
        rule.options = try options(Array(tokens.dropFirst(methodToken + 1)))
    }

    /// The rule the arguments describe.
    static func wanted(_ args: ModuleArguments, contype: String, database: String, user: String) throws -> Rule {
        var rule = Rule()
        rule.type = contype
        rule.database = database
        rule.user = user
        if let comment = args.string("comment")?.trimmingCharacters(in: .whitespaces), !comment.isEmpty {
            rule.comment = comment.hasPrefix("#") ? comment : "#" + comment
        }
        if contype != "local" {
            let address = try args.requiredString("address")
            (rule.address, rule.addressType, rule.prefix) = try addressField(address)
            if let netmask = args.string("netmask"), !netmask.isEmpty {
                if (rule.addressType.hasPrefix("IP") && rule.prefix > -1) || rule.addressType == "hostname" {
                    throw HbaError(message: "Rule can't contain a netmask if address is a full CIDR or hostname")
                }
                guard let mask = try netmaskField(netmask) else { throw HbaError(message: "The string '\(netmask)' is not a valid netmask") }
                guard mask.1 == rule.addressType else { throw HbaError(message: "Can't mix IPv4 and IPv6 netmasks and addresses") }
                (rule.mask, rule.prefix) = (mask.0, mask.2)
            } else if rule.addressType.hasPrefix("IP") && rule.prefix == -1 {
                throw HbaError(message: "If the address is a bare ip-address without a CIDR suffix, the rule needs to contain a netmask")
            }
        }
        rule.method = try args.requiredString("method")
        if let options = args.string("options"), !options.isEmpty { rule.options = try Self.options(try tokenize(options)) }
        return rule
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let dest = try args.requiredString("dest")
        let q = shellQuote(dest)
        let probe = try await HostScript.run(
            context, "if [ -f \(q) ]; then stat -c '%a %U %G' \(q) && echo \(HostScript.marker) && cat \(q); else echo __pgha_missing__; fi")
        guard probe.succeeded else { return .failure("cannot read \(dest): \(probe.stderrText)") }
        let missing = probe.stdoutText.hasPrefix("__pgha_missing__")
        let parts = missing ? ["", ""] : HostScript.split(probe.stdoutText, count: 2)
        let original = parts[1]
        var msgs: [String] = []
        var rules: [Rule]
        var changed = false
        var before: [String] = []
        var after: [String] = []
        do {
            rules = missing ? [] : try parseFile(original)
        } catch let error as HbaError {
            return .failure("Error reading file:\n\(error.message)")
        }
        do {
            if let contype = args.string("contype") {
                // One rule per database and user of the comma lists, as the collection expands them.
                let databases = try args.requiredString("databases")
                let users = try args.requiredString("users")
                let dbList = databases.hasPrefix("\"") ? [databases] : databases.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                let userList = users.hasPrefix("\"") ? [users] : users.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                for database in dbList {
                    for user in userList {
                        let rule = try wanted(args, contype: contype, database: sortedList(database), user: sortedList(user))
                        let index = rules.firstIndex { $0.sameKey(rule) }
                        if args.string("state") == "present" {
                            if let index {
                                if !rules[index].identical(rule) {
                                    msgs.append("Updating rule \(rule.serialize())")
                                    before.append(rules[index].serialize())
                                    after.append(rule.serialize())
                                    rules[index] = rule
                                    changed = true
                                }
                            } else {
                                msgs.append("Adding rule \(rule.serialize())")
                                after.append(rule.serialize())
                                rules.append(rule)
                                changed = true
                            }
                        } else if let index {
                            msgs.append("Removing rule \(rule.serialize())")
                            before.append(rules[index].serialize())
                            rules.remove(at: index)
                            changed = true
                        }
                    }
                }
            } else if let comment = args.string("comment") {
                var rule = Rule(special: true)
                let trimmed = comment.trimmingCharacters(in: .whitespaces)
                rule.comment = trimmed.hasPrefix("#") ? trimmed : "#" + trimmed
                let index = rules.firstIndex { $0.sameKey(rule) }
                if args.string("state") == "present", index == nil {
                    msgs.append("Adding rule \(rule.serialize())")
                    after.append(rule.serialize())
                    rules.append(rule)
                    changed = true
                } else if args.string("state") == "absent", let index {
                    msgs.append("Removing rule \(rule.serialize())")
                    before.append(rules[index].serialize())
                    rules.remove(at: index)
                    changed = true
                }
            }
        } catch let error as HbaError {
            return .failure("Error modifying rules:\n\(error.message)")
        }
        if changed && args.bool("sort_rules") != false {
            rules.removeAll { $0.special && ($0.line ?? "").isEmpty && $0.comment == nil }
            rules.sort(by: <)
        }
        // The collection joins the lines without a final newline.
        let text = changed ? rules.map { $0.serialize() }.joined(separator: "\n") : original
        var values: OrderedDictionary<String, Value> = [
            "msgs": .list(msgs.map { .string($0) }), "pg_hba_string": .string(text),
            "pg_hba": .list(rules.filter { !$0.special }.map(\.value)), "dest": .string(dest),
        ]
        guard changed else { return ModuleResult(values: values) }
        values["msgs"] = .list((msgs + ["Changed"]).map { .string($0) })
        let diffs = context.diffMode ? [FileDiff(before: original, after: text, beforeHeader: dest, afterHeader: dest)] : []
        if context.checkMode { return ModuleResult(changed: true, values: values, diffs: diffs) }
        if missing && args.bool("create") != true {
            return .failure("pg_hba file '\(dest)' doesn't exist. Use the create option to autocreate.")
        }
        if args.bool("backup") == true, !missing {
            let backup = args.string("backup_file") ?? dest + "." + String(Int(Date().timeIntervalSince1970)) + "~"
            let copied = try await HostScript.run(context, "cp -- \(q) \(shellQuote(backup))")
            guard copied.succeeded else { return .failure("Failed to create backup:\n\(copied.stderrText)") }
            values["backup_file"] = .string(backup)
        }
        // The collection writes a private temporary file and copies it over the destination with its
        // mode (shutil.copy), so the file ends up 0600 unless `mode` says otherwise; the owner stays.
        let attrs = parts[0].split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        let mode = args["mode"]?.intValue.map { UInt32($0) } ?? 0o600
        let owner = args.string("owner") ?? (attrs.count > 1 ? attrs[1] : nil)
        let group = args.string("group") ?? (attrs.count > 2 ? attrs[2] : nil)
        try await context.connection.put(
            Array(text.utf8), to: dest, attributes: FileAttributes(mode: mode, owner: owner, group: group), become: context.become)
        return ModuleResult(changed: true, values: values, diffs: diffs)
    }
}
