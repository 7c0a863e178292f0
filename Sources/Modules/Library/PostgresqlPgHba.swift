import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.postgresql.postgresql_pg_hba`: adds, replaces or removes one pg_hba.conf rule. Lines
/// keep their order; a rule with the same type, databases, users and source is replaced in place,
/// a new one is appended; comments and other rules are untouched.
public enum PostgresqlPgHbaModule: Module {
    public static let name = "postgresql_pg_hba"
    public static let qualifiedNames = ["community.postgresql.postgresql_pg_hba"]
    public static let supportsCheckMode = true
    public static let arguments = ArgumentSpec([
        .init("dest", .path, required: true),
        .init("contype", .choice(["local", "host", "hostnossl", "hostssl", "hostgssenc", "hostnogssenc"])),
        .init("databases", .string, default: "all"),
        .init("users", .string, default: "all"),
        .init("source", .string, aliases: ["src"]),
        .init("netmask", .string),
        .init("method", .choice([
            "trust", "reject", "md5", "password", "gss", "sspi", "krb5", "ident", "peer", "ldap", "radius", "cert",
            "pam", "scram-sha-256",
        ]), default: "md5"),
        .init("options", .string),
        .init("state", .choice(["present", "absent"]), default: "present"),
        .init("create", .bool, default: false),
        .init("backup", .bool, default: false),
        .init("backup_file", .string),
        .init("owner", .string),
        .init("mode", .mode),
        .init("comment", .string),
    ])

    struct Rule: Equatable {
        var type: String
        var db: String
        var usr: String
        var src: String?
        var mask: String?
        var method: String
        var options: [String]

        var key: [String?] { [type, db, usr, src, mask] }

        init?(_ line: String) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.count >= 4 else { return nil }
            type = words[0]
            db = words[1]
            usr = words[2]
            var rest = Array(words.dropFirst(3))
            if type != "local" {
                guard rest.count >= 2 else { return nil }
                src = rest.removeFirst()
                if let next = rest.first, next.first?.isNumber == true || next.contains(":"), !src!.contains("/") {
                    mask = rest.removeFirst()
                }
            }
            guard !rest.isEmpty else { return nil }
            method = rest.removeFirst()
            options = rest
        }

        init(type: String, db: String, usr: String, src: String?, mask: String?, method: String, options: [String]) {
            (self.type, self.db, self.usr, self.src, self.mask, self.method, self.options) =
                (type, db, usr, src, mask, method, options)
        }

        var line: String {
            ([type, db, usr] + [src, mask].compactMap { $0 } + [method] + options).joined(separator: "\t")
        }

        var value: Value {
            var d: OrderedDictionary<String, Value> = ["db": .string(db), "method": .string(method), "type": .string(type), "usr": .string(usr)]
            if let src { d["src"] = .string(src) }
            if let mask { d["mask"] = .string(mask) }
            if !options.isEmpty { d["options"] = .string(options.joined(separator: " ")) }
            return .dict(d)
        }
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let dest = args.string("dest")!
        let q = shellQuote(dest)
        let probe = try await HostScript.run(
            context, "if [ -e \(q) ]; then stat -c '%a %U %G' \(q) && echo \(HostScript.marker) && cat \(q); else echo __pgha_missing__; fi")
        guard probe.succeeded else { return .failure("cannot read \(dest): \(probe.stderrText)") }
        let missing = probe.stdoutText.hasPrefix("__pgha_missing__")
        if missing && args.bool("create") != true {
            return .failure("The file '\(dest)' doesn't exist, and 'create' is not set")
        }
        let parts = missing ? ["", ""] : HostScript.split(probe.stdoutText, count: 2)
        let attrs = parts[0].split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        let original = parts[1]
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }

        var msgs: [String] = []
        if let contype = args.string("contype") {
            var src = args.string("source")
            var mask = args.string("netmask")
            if contype == "local" {
                src = nil
                mask = nil
            } else if src == nil {
                return .failure("If contype isn't 'local', 'source' must be set")
            }
            if let s = src, s.contains("/") { mask = nil }
            var options = (args.string("options") ?? "").split(separator: " ").map(String.init)
            if let comment = args.string("comment") { options.append("#" + comment) }
            let wanted = Rule(
                type: contype, db: args.string("databases")!, usr: args.string("users")!, src: src, mask: mask,
                method: args.string("method")!, options: options)
            let matching = lines.indices.filter { Rule(lines[$0])?.key == wanted.key }
            if args.string("state") == "absent" {
                for index in matching.reversed() {
                    msgs.append("Removing rule \(lines[index])")
                    lines.remove(at: index)
                }
            } else if let first = matching.first {
                if Rule(lines[first]) != wanted {
                    msgs.append("Changing rule \(lines[first]) to \(wanted.line)")
                    lines[first] = wanted.line
                }
                for index in matching.dropFirst().reversed() { lines.remove(at: index) }
            } else {
                msgs.append("Adding rule \(wanted.line)")
                lines.append(wanted.line)
            }
        }
        let text = lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
        var values: OrderedDictionary<String, Value> = [
            "pg_hba": .list(lines.compactMap { Rule($0)?.value }), "msgs": .list(msgs.map { .string($0) }), "dest": .string(dest),
        ]
        let changed = text != original || missing
        guard changed else { return ModuleResult(values: values) }
        let diffs = context.diffMode ? [FileDiff(before: original, after: text, beforeHeader: dest, afterHeader: dest)] : []
        if context.checkMode { return ModuleResult(changed: true, values: values, diffs: diffs) }
        if args.bool("backup") == true, !missing {
            let backup = args.string("backup_file") ?? dest + "." + String(Int(Date().timeIntervalSince1970)) + "~"
            let copied = try await HostScript.run(context, "cp -p -- \(q) \(shellQuote(backup))")
            guard copied.succeeded else { return .failure("backup failed: \(copied.stderrText)") }
            values["backup_file"] = .string(backup)
        }
        var mode: UInt32 = attrs.first.flatMap { UInt32($0, radix: 8) } ?? 0o640
        if let given = args["mode"]?.intValue { mode = UInt32(given) }
        let owner = args.string("owner") ?? (attrs.count > 1 ? attrs[1] : nil)
        let group = attrs.count > 2 ? attrs[2] : nil
        try await context.connection.put(
            Array(text.utf8), to: dest, attributes: FileAttributes(mode: mode, owner: owner, group: group), become: context.become)
        return ModuleResult(changed: true, values: values, diffs: diffs)
    }
}
