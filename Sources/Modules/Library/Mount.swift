import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.posix.mount`: an fstab entry (lines written `src name fstype opts dump passno` with
/// spaces, `\040`-style escapes, as mount.py's set_mount) and the mount itself.
public enum MountModule: Module {
    public static let declaration = ActionDeclaration(
        name: "mount", qualifiedNames: ["ansible.posix.mount"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec([
            .init("path", .path, required: true, aliases: ["name"]),
            .init("src", .path),
            .init("fstype", .string),
            .init("opts", .string),
            .init("dump", .string, default: "0"),
            .init("passno", .string, default: "0"),
            .init("fstab", .string),
            .init(
                "state",
                .choice(["absent", "absent_from_fstab", "mounted", "present", "unmounted", "remounted", "ephemeral"]),
                required: true),
            .init("boot", .bool, default: true),
            .init("backup", .bool, default: false),
            .init("opts_no_log", .bool, default: false),
        ]),
        documentation: ActionDocumentation(
            "Control active and configured mount points",
            examples: """
                - name: Mount /tmp with noexec
                  ansible.posix.mount:
                    path: /tmp
                    src: tmpfs
                    fstype: tmpfs
                    opts: defaults,nodev,nosuid,noexec
                    state: mounted
                """))

    static func escape(_ v: String) -> String {
        v.replacingOccurrences(of: "\\", with: "\\134").replacingOccurrences(of: " ", with: "\\040")
            .replacingOccurrences(of: "&", with: "\\046")
    }

    /// One fstab line's six fields, or nil for comments, blanks and malformed lines.
    static func fields(_ line: String) -> [String]? {
        let t = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.isEmpty || t.hasPrefix("#") { return nil }
        var f = line.split(whereSeparator: \.isWhitespace).map(String.init)
        guard [4, 5, 6].contains(f.count) else { return nil }
        while f.count < 6 { f.append("0") }
        return f
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let path = args.string("path") ?? ""
        let state = args.string("state") ?? "present"
        let fstab = args.string("fstab") ?? "/etc/fstab"
        if ["mounted", "present"].contains(state) {
            let missing = ["src", "fstype"].filter { args.string($0) == nil }
            if !missing.isEmpty {
                return .failure(
                    "state is \(state) but all of the following are missing: \(missing.joined(separator: ", "))")
            }
        }
        var opts = (args.string("opts") ?? "defaults").split(separator: ",").map(String.init)
        if !(args.bool("boot") ?? true) {
            opts.removeAll { $0 == "defaults" }
            if !opts.contains("noauto") { opts.append("noauto") }
        }
        let wanted: [String: String] = [
            "src": escape(args.string("src") ?? ""), "name": escape(path),
            "fstype": escape(args.string("fstype") ?? ""),
            "opts": escape(opts.joined(separator: ",")), "dump": args.string("dump") ?? "0",
            "passno": args.string("passno") ?? "0",
        ]
        let loaded = try await TextFileEdit.load(
            fstab, args: ModuleArguments([:]), context: context,
            extras: ["findmnt -n -o TARGET --mountpoint \(shellQuote(path)) >/dev/null && echo mounted"])
        let mounted = loaded.extras[0].contains("mounted")
        var out = ""
        var changed = false
        var exists = false
        let usesFstab = !["ephemeral", "unmounted", "remounted"].contains(state)
        for line in TextFileEdit.lines(loaded.text ?? "") {
            guard let f = fields(line) else {
                out += line
                continue
            }
            let isOther =
                f[1] != wanted["name"]
                || (args.string("src") != nil && f[1] == "none" && f[2] == "swap" && f[0] != args.string("src"))
            if isOther {
                out += line
                continue
            }
            if state == "absent" || state == "absent_from_fstab" {
                changed = true
                continue
            }
            guard state == "present" || state == "mounted" else {
                out += line
                continue
            }
            exists = true
            var fieldsNow = f
            for (i, key) in ["src", "name", "fstype", "opts", "dump", "passno"].enumerated() where i != 1 {
                if fieldsNow[i] != wanted[key] {
                    fieldsNow[i] = wanted[key]!
                    changed = true
                }
            }
            out += changed ? fieldsNow.joined(separator: " ") + "\n" : line
        }
        if (state == "present" || state == "mounted") && !exists {
            out +=
                ["src", "name", "fstype", "opts", "dump", "passno"].map { wanted[$0]! }.joined(separator: " ") + "\n"
            changed = true
        }
        var values: OrderedDictionary<String, Value> = [
            "name": .string(path), "opts": .string(opts.joined(separator: ",")), "dump": .string(wanted["dump"]!),
            "passno": .string(wanted["passno"]!), "fstab": .string(fstab),
        ]
        if let src = args.string("src") { values["src"] = .string(src) }
        if let fstype = args.string("fstype") { values["fstype"] = .string(fstype) }
        if !(args.bool("boot") ?? true) { values["boot"] = "no" }
        var diffs: [FileDiff] = []
        if usesFstab && changed {
            if context.diffMode { diffs = TextFileEdit.contentDiff(before: loaded.text, after: out, path: fstab) }
            if !context.checkMode {
                if !loaded.exists {
                    return .failure("fstab \(fstab) does not exist", values: values)
                }
                let outcome = try await TextFileEdit.apply(
                    loaded, newText: out, args: ModuleArguments(["backup": args["backup"] ?? false]), context: context)
                if let failure = outcome.failure { return failure }
                if let backup = outcome.backupFile { values["backup_file"] = .string(backup) }
            }
        }
        var commands: [String] = []
        let q = shellQuote(path)
        switch state {
        case "absent":
            if changed {
                if mounted { commands.append("umount \(q)") }
                commands.append("if [ -e \(q) ]; then rmdir -- \(q); fi")
            }
        case "unmounted":
            if mounted {
                commands.append("umount \(q)")
                changed = true
            }
        case "mounted", "ephemeral":
            commands.append("mkdir -p -- \(q)")
            let mountCommand =
                "mount -t \(shellQuote(args.string("fstype") ?? "auto")) -o \(shellQuote(opts.joined(separator: ","))) -- \(shellQuote(args.string("src") ?? "")) \(q)"
            if !mounted {
                commands.append(mountCommand)
                changed = true
            } else if changed {
                commands.append("mount -o remount -- \(q)")
            }
        case "remounted":
            if mounted {
                commands.append("mount -o remount -- \(q)")
                changed = true
            }
        default: break
        }
        if !context.checkMode && (changed || state == "mounted") && !commands.isEmpty
            && !(state == "mounted" && !changed)
        {
            let result = try await context.connection.run(
                CommandRequest(
                    commands.joined(separator: " && "), environment: context.environment, become: context.become))
            if !result.succeeded {
                return .failure(
                    "Error \(state == "absent" || state == "unmounted" ? "unmounting" : "mounting") \(path): "
                        + result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines), values: values)
            }
        }
        return ModuleResult(changed: changed, values: values, diffs: diffs)
    }
}
