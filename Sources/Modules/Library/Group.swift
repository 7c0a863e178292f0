import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.group`: creates, changes (gid) or removes a group with groupadd/groupmod/groupdel.
public enum GroupModule: Module {
    public static let declaration = ActionDeclaration(
        name: "group", qualifiedNames: ["ansible.builtin.group", "ansible.legacy.group"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec([
            .init("name", .string, required: true),
            .init("gid", .int),
            .init("state", .choice(["absent", "present"]), default: "present"),
            .init("system", .bool, default: false),
            .init("local", .bool, default: false),
            .init("non_unique", .bool, default: false),
            .init("force", .bool, default: false),
        ]),
        documentation: ActionDocumentation(
            "Add or remove groups",
            examples: """
                - name: A group for the backup operators
                  ansible.builtin.group:
                    name: backup-operators
                    gid: 2001
                    state: present
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let name = try args.requiredString("name")
        let state = try args.requiredString("state")
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

