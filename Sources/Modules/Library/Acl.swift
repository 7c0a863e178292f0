import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.posix.acl`: POSIX ACL entries on a file or directory with setfacl and getfacl, in one
/// round trip: `setfacl --test` says whether the entry is already there (its lines end in `*,*`),
/// then setfacl changes it unless --check, then getfacl reads the result.
public enum AclModule: Module {
    public static let declaration = ActionDeclaration(
        name: "acl", qualifiedNames: ["ansible.posix.acl"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([
            .init("path", .path, required: true, aliases: ["name"]),
            .init("entry", .string, help: "A whole entry: [d[efault]:]etype:entity[:permissions]."),
            .init("entity", .string, default: ""),
            .init("etype", .choice(["group", "mask", "other", "user"])),
            .init("permissions", .string),
            .init("state", .choice(["absent", "present", "query"]), default: "query"),
            .init("follow", .bool, default: true),
            .init("default", .bool, default: false, help: "The default ACL of a directory."),
            .init("recursive", .bool, default: false, aliases: ["recurse"]),
            .init("recalculate_mask", .choice(["default", "mask", "no_mask"]), default: "default"),
            .init("use_nfsv4_acls", .bool, default: false),
        ]),
        documentation: ActionDocumentation(
            "Set and retrieve file ACL information",
            details: ["NFSv4 ACLs (use_nfsv4_acls) are not supported: the lab's and Debian's file systems use POSIX ACLs."],
            examples: """
                - name: Let the backup user read PostgreSQL's configuration
                  ansible.posix.acl:
                    path: /etc/postgresql/15/main
                    entity: pgbackrest
                    etype: user
                    permissions: rX
                    recursive: true
                    state: present

                - name: The same for files created later
                  ansible.posix.acl:
                    path: /etc/postgresql/15/main
                    entry: default:user:pgbackrest:rX
                    state: present
                """))

    /// `split_entry`: an optional d[efault] prefix, then the type by its first letter.
    static func split(_ entry: String) -> (isDefault: Bool?, etype: String?, entity: String, permissions: String?) {
        var fields = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var isDefault: Bool?
        if entry.lowercased().hasPrefix("d") {
            isDefault = true
            fields.removeFirst()
        }
        if fields.count == 2 { fields.append("") }
        let kind = fields.first?.lowercased() ?? ""
        let etype: String? = kind.hasPrefix("u") ? "user" : kind.hasPrefix("g") ? "group" : kind.hasPrefix("m") ? "mask"
            : kind.hasPrefix("o") ? "other" : nil
        let permissions = fields.count > 2 && !fields[2].isEmpty ? fields[2] : nil
        return (isDefault, etype, fields.count > 1 ? fields[1] : "", permissions)
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let path = try args.requiredString("path")
        let state = try args.requiredString("state")
        var etype = args.string("etype")
        var entity = args.string("entity") ?? ""
        var permissions = args.string("permissions")
        var isDefault = try args.requiredBool("default")
        let recursive = try args.requiredBool("recursive")
        let recalculate = try args.requiredString("recalculate_mask")
        let follow = try args.requiredBool("follow")
        if try args.requiredBool("use_nfsv4_acls") {
            return .failure("use_nfsv4_acls is not supported: Debian file systems use POSIX ACLs (setfacl)")
        }
        if state == "query" {
            if recursive { return .failure("'recursive' MUST NOT be set when 'state=query'.") }
            if recalculate != "default" {
                return .failure("'recalculate_mask' MUST NOT be set to 'mask' or 'no_mask' when 'state=query'.")
            }
        }
        if let entry = args.string("entry"), !entry.isEmpty {
            if etype != nil || !entity.isEmpty || permissions != nil {
                return .failure("'entry' MUST NOT be set when 'entity', 'etype' or 'permissions' are set.")
            }
            let colons = entry.filter { $0 == ":" }.count
            if state == "present" && ![2, 3].contains(colons) {
                return .failure("'entry' MUST have 3 or 4 sections divided by ':' when 'state=present'.")
            }
            if state == "absent" && ![1, 2].contains(colons) {
                return .failure("'entry' MUST have 2 or 3 sections divided by ':' when 'state=absent'.")
            }
            if state == "query" { return .failure("'entry' MUST NOT be set when 'state=query'.") }
            let parts = split(entry)
            if let flag = parts.isDefault { isDefault = flag }
            (etype, entity, permissions) = (parts.etype, parts.entity, parts.permissions)
        } else {
            if state == "absent" && permissions != nil { return .failure("'permissions' MUST NOT be set when 'state=absent'.") }
            if state == "absent" && entity.isEmpty { return .failure("'entity' MUST be set when 'state=absent'.") }
            if state != "query" && etype == nil { return .failure("'etype' MUST be set when 'state=\(state)'.") }
        }

        func command(_ mode: String, _ entry: String = "") -> [String] {
            var words = mode == "get" ? ["getfacl", "--absolute-names", "--omit-header"] : ["setfacl", mode == "set" ? "-m" : "-x", entry]
            if recursive { words.append("--recursive") }
            if recalculate == "mask" && mode != "get" { words.append("--mask") }
            if recalculate == "no_mask" && mode != "get" { words.append("--no-mask") }
            if !follow { words.append("--physical") }
            if isDefault { words.insert("-d", at: 1) }
            words.append(path)
            return words
        }
        var script = "[ -e \(shellQuote(path)) ] || { echo __pgha_missing__; exit 0; }\n"
        var message = "current acl"
        if state != "query" {
            let entry = [etype ?? "", entity] + (state == "present" ? (permissions.map { [$0] } ?? []) : [])
            let text = entry.joined(separator: ":")
            let change = command(state == "present" ? "set" : "rm", text)
            var test = change
            test.insert("--test", at: 1)
            message = "\(text) is \(state)"
            // Lines ending in "*,*" mean the entry is already as asked.
            script += """
                out=$(\(test.map(shellQuote).joined(separator: " "))) || exit $?
                if printf '%s\\n' "$out" | grep -v '^#' | sed 's/[[:space:]]*$//' | grep -q '\\*,\\*$'; then echo unchanged; else echo changed
                """
            if !context.checkMode {
                script += "\n  \(change.map(shellQuote).joined(separator: " "))" + (state == "present" ? " || exit $?" : " || true")
            }
            script += "\nfi\n"
        }
        script += "echo \(HostScript.marker)\n" + command("get").map(shellQuote).joined(separator: " ")
        let result = try await HostScript.run(context, script)
        if result.stdoutText.hasPrefix("__pgha_missing__") { return .failure("Path not found or not accessible.") }
        guard result.succeeded else {
            let error = (result.stderrText + result.stdoutText).trimmingCharacters(in: .whitespacesAndNewlines)
            return .failure(error, values: ["rc": .int(Int(result.exitStatus))])
        }
        let parts = HostScript.split(result.stdoutText, count: 2)
        // Python's splitlines: no empty line after the last newline.
        var listing = parts[1]
        if listing.hasSuffix("\n") { listing.removeLast() }
        var acl = listing.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("#") }.map { $0.trimmingCharacters(in: .whitespaces) }
        if let last = acl.last, last.isEmpty { acl.removeLast() }
        let changed = parts[0].hasPrefix("changed")
        return ModuleResult(changed: changed, msg: message, values: ["acl": .list(acl.map(Value.string))])
    }
}
