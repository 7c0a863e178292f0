import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.group`: creates, changes (gid) or removes a group with groupadd/groupmod/groupdel.
public enum GroupModule: Module {
    public static let name = "group"
    public static let qualifiedNames = ["ansible.builtin.group", "ansible.legacy.group"]
    public static let supportsCheckMode = true
    public static let arguments = ArgumentSpec([
        .init("name", .string, required: true),
        .init("gid", .int),
        .init("state", .choice(["absent", "present"]), default: "present"),
        .init("system", .bool, default: false),
        .init("local", .bool, default: false),
        .init("non_unique", .bool, default: false),
        .init("force", .bool, default: false),
    ])

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let name = args.string("name")!
        let state = args.string("state")!
        let system = args.bool("system") ?? false
        let probe = try await HostScript.run(context, "getent group \(shellQuote(name)) || true")
        let fields = probe.stdoutText.trimmingCharacters(in: .newlines).split(separator: ":", omittingEmptySubsequences: false)
        let currentGid = fields.count >= 3 ? Int(fields[2]) : nil
        var values: OrderedDictionary<String, Value> = ["name": .string(name), "state": .string(state)]
        let before: OrderedDictionary<String, Value> = currentGid.map { ["gid": .int($0), "state": "present"] } ?? ["state": "absent"]

        var command: String?
        var after = before
        if state == "absent" {
            if currentGid != nil {
                command = "groupdel \(args.bool("force") == true ? "-f " : "")\(shellQuote(name))"
                after = ["state": "absent"]
            }
        } else if let currentGid {
            values["gid"] = .int(currentGid)
            if let gid = args.int("gid"), gid != currentGid {
                command = "groupmod -g \(gid) \(args.bool("non_unique") == true ? "-o " : "")\(shellQuote(name))"
                values["gid"] = .int(gid)
                after = ["gid": .int(gid), "state": "present"]
            }
        } else {
            var words = [args.bool("local") == true ? "lgroupadd" : "groupadd"]
            if let gid = args.int("gid") {
                words.append("-g \(gid)")
                if args.bool("non_unique") == true { words.append("-o") }
            }
            if system { words.append("-r") }
            words.append(shellQuote(name))
            // The new gid is only known afterwards; print it in the same round trip.
            command = words.joined(separator: " ") + " && getent group \(shellQuote(name)) | cut -d: -f3"
            after = ["gid": args.int("gid").map { .int($0) } ?? "(assigned)", "state": "present"]
        }
        values["system"] = .bool(system)
        guard let command else { return ModuleResult(changed: false, values: values) }
        let diffs = context.diffMode ? [HostScript.diff(before, after)] : []
        if context.checkMode {
            if let gid = args.int("gid"), state == "present" { values["gid"] = .int(gid) }
            return ModuleResult(changed: true, values: values, diffs: diffs)
        }
        let result = try await HostScript.run(context, command)
        guard result.succeeded else {
            var failed = values
            failed["rc"] = .int(Int(result.exitStatus))
            failed["err"] = .string(result.stderrText)
            return .failure(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines), values: failed)
        }
        if let gid = Int(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) { values["gid"] = .int(gid) }
        return ModuleResult(changed: true, values: values, diffs: diffs)
    }
}

/// `ansible.builtin.getent`: reads a name service database into `ansible_facts.getent_<database>`.
public enum GetentModule: Module {
    public static let name = "getent"
    public static let qualifiedNames = ["ansible.builtin.getent", "ansible.legacy.getent"]
    public static let supportsCheckMode = true
    public static let arguments = ArgumentSpec([
        .init("database", .string, required: true),
        .init("key", .string),
        .init("split", .string),
        .init("fail_key", .bool, default: true),
        .init("service", .string),
    ])

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let database = args.string("database")!
        var words = ["getent"]
        if let service = args.string("service") { words.append("-s " + shellQuote(service)) }
        words.append(shellQuote(database))
        let key = args.string("key")
        if let key { words.append(shellQuote(key)) }
        let result = try await HostScript.run(context, words.joined(separator: " "))
        let tree = "getent_" + database
        switch result.exitStatus {
        case 0: break
        case 1: return .failure("Missing arguments, or database unknown.")
        case 2:
            let msg = "One or more supplied key could not be found in the database."
            if args.bool("fail_key") == false, let key {
                return ModuleResult(msg: msg, values: ["ansible_facts": .dict([tree: .dict([key: .null])])])
            }
            return .failure(msg)
        case 3: return .failure("Enumeration not supported on this database.")
        default: return .failure("Unexpected failure!", values: HostScript.stdoutValues(result))
        }
        // Python's str.split(None) for databases without a colon format, as Ansible does.
        let colon = ["passwd", "shadow", "group", "gshadow"]
        let split = args.string("split") ?? (colon.contains(database) ? ":" : nil)
        var entries = OrderedDictionary<String, Value>()
        var seen: [String: Int] = [:]
        for line in result.stdoutText.split(separator: "\n") {
            let record: [String] =
                split.map { line.components(separatedBy: $0) }
                ?? line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = record.first else { continue }
            let rest = Value.list(record.dropFirst().map { .string($0) })
            // Ansible keeps the records of a repeated key as a list of lists.
            seen[first, default: 0] += 1
            if seen[first] == 1 {
                entries[first] = rest
            } else {
                let earlier = seen[first] == 2 ? [entries[first]!] : entries[first]!.listValue ?? []
                entries[first] = .list(earlier + [rest])
            }
        }
        return ModuleResult(values: ["ansible_facts": .dict([tree: .dict(entries)])])
    }
}
