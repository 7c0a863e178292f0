import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.general.pam_limits`: one `<domain> <type> <item> <value>` line in limits.conf,
/// rewritten with tabs as pam_limits.py writes it; every other line is kept byte for byte.
public enum PamLimitsModule: Module {
    public static let declaration = ActionDeclaration(
        name: "pam_limits", qualifiedNames: ["community.general.pam_limits", "community.general.system.pam_limits"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("domain", .string, required: true),
                .init("limit_type", .choice(["hard", "soft", "-"]), required: true),
                .init("limit_item", .choice(items), required: true),
                .init("value", .string, required: true),
                .init("use_max", .bool, default: false),
                .init("use_min", .bool, default: false),
                .init("backup", .bool, default: false),
                .init("dest", .path, default: "/etc/security/limits.conf"),
                .init("comment", .string, default: ""),
            ], mutuallyExclusive: [["use_max", "use_min"]]),
        documentation: ActionDocumentation(
            "Modify Linux PAM limits",
            examples: """
                - name: No core dumps for anyone
                  community.general.pam_limits:
                    domain: "*"
                    limit_type: hard
                    limit_item: core
                    value: "0"
                """))

    static let items = [
        "core", "data", "fsize", "memlock", "nofile", "rss", "stack", "cpu", "nproc", "as", "maxlogins",
        "maxsyslogins", "priority", "locks", "sigpending", "msgqueue", "nice", "rtprio", "chroot",
    ]

    static func isLimit(_ v: String) -> Bool {
        ["unlimited", "infinity", "-1"].contains(v) || (!v.isEmpty && v.allSatisfy({ $0.isASCII && $0.isNumber }))
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let dest = args.string("dest") ?? "/etc/security/limits.conf"
        let domain = args.string("domain") ?? ""
        let type = args.string("limit_type") ?? ""
        let item = args.string("limit_item") ?? ""
        let value = args.string("value") ?? ""
        let useMax = args.bool("use_max") ?? false
        let useMin = args.bool("use_min") ?? false
        if !isLimit(value) && !(["nice", "priority"].contains(item) && Int(value) != nil) {
            return .failure(
                "Argument 'value' can be one of 'unlimited', 'infinity', '-1' or positive number. Refer to manual pages for more details."
            )
        }
        let loaded = try await TextFileEdit.load(dest, args: args, context: context)
        if !loaded.exists && !loaded.stat.parentExists {
            return .failure(
                "directory \((dest as NSString).deletingLastPathComponent) is not writable (check presence)")
        }
        var out = ""
        var found = false
        var message = ""
        var newValue = value
        let comment = args.string("comment") ?? ""
        for line in TextFileEdit.lines(loaded.text ?? "") {
            if line.hasPrefix("#") {
                out += line
                continue
            }
            var collapsed = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
                .joined(separator: " ")
            if collapsed.isEmpty {
                out += line
                continue
            }
            let oldComment = line.split(separator: "#", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
            collapsed = String(collapsed.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0])
            collapsed = String(collapsed.reversed().drop(while: { $0 == " " }).reversed())
            let fields = collapsed.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4 else {
                out += line
                continue
            }
            let actual = fields[3]
            if !isLimit(actual) && !(["nice", "priority"].contains(fields[2]) && Int(actual) != nil) {
                return .failure(
                    "Invalid configuration of '\(dest)'. Current value of \(fields[2]) is unsupported.")
            }
            guard fields[0] == domain && fields[1] == type && fields[2] == item else {
                out += line
                continue
            }
            found = true
            if value == actual {
                message = line
                out += line
                continue
            }
            let actualUnlimited = ["unlimited", "infinity", "-1"].contains(actual)
            let valueUnlimited = ["unlimited", "infinity", "-1"].contains(value)
            if useMax {
                if let a = Int(value), let b = Int(actual) {
                    newValue = String(max(a, b))
                } else {
                    newValue = actualUnlimited ? actual : value
                }
            }
            if useMin {
                if let a = Int(value), let b = Int(actual) {
                    newValue = String(min(a, b))
                } else {
                    newValue = valueUnlimited ? actual : value
                }
            }
            if newValue != actual {
                let c = comment.isEmpty ? TextFileEdit.chomp(oldComment) : comment
                let newLine = "\(domain)\t\(type)\t\(item)\t\(newValue)\(c.isEmpty ? "" : "\t#" + c)\n"
                message = newLine
                out += newLine
            } else {
                message = line
                out += line
            }
        }
        if !found {
            let newLine = "\(domain)\t\(type)\t\(item)\t\(newValue)\(comment.isEmpty ? "" : "\t#" + comment)\n"
            message = newLine
            out += newLine
        }
        let outcome = try await TextFileEdit.apply(
            loaded, newText: out, args: ModuleArguments(["backup": args["backup"] ?? false]), context: context)
        if let failure = outcome.failure { return failure }
        var values: OrderedDictionary<String, Value> = [:]
        if let backup = outcome.backupFile { values["backup_file"] = .string(backup) }
        // pam_limits always returns the before/after text as its diff.
        let diffs =
            context.diffMode && loaded.text != out
            ? [FileDiff(before: loaded.text ?? "", after: out, beforeHeader: "", afterHeader: "")] : []
        return ModuleResult(changed: outcome.changed, msg: message, values: values, diffs: diffs)
    }
}
