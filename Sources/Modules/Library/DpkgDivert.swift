import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.general.dpkg_divert`: a dpkg diversion of a file (so a package's upgrade does not
/// overwrite the local version), added, changed or removed with `dpkg-divert`, with the module's
/// handling of `rename` and `force`.
public enum DpkgDivertModule: Module {
    public static let declaration = ActionDeclaration(
        name: "dpkg_divert", qualifiedNames: ["community.general.dpkg_divert"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec([
            .init("path", .path, required: true, help: "The file to divert."),
            .init("state", .choice(["absent", "present"]), default: "present"),
            .init("holder", .string, help: "The package the diversion belongs to; LOCAL (the default) for a local one."),
            .init("divert", .path, help: "Where the package's file goes instead; default PATH.distrib."),
            .init("rename", .bool, default: false, help: "Move the file too (dpkg-divert --rename)."),
            .init("force", .bool, default: false, help: "With rename, replace a file already at the destination."),
        ]),
        documentation: ActionDocumentation(
            "Override a debian package's version of a file",
            examples: """
                - name: Keep the local sshd_config when openssh-server is upgraded
                  community.general.dpkg_divert:
                    path: /etc/ssh/sshd_config
                    divert: /etc/ssh/sshd_config.dpkg-dist

                - name: Remove that diversion and put the package's file back
                  community.general.dpkg_divert:
                    path: /etc/ssh/sshd_config
                    state: absent
                    rename: true
                    force: true
                """))

    struct Diversion: Equatable {
        var path: String
        var state: String
        var divert: String?
        var holder: String?

        var asValue: Value {
            ["path": .string(path), "state": .string(state), "divert": divert.map(Value.string) ?? .null,
             "holder": holder.map(Value.string) ?? .null]
        }
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let path = try args.requiredString("path")
        let state = try args.requiredString("state")
        let rename = try args.requiredBool("rename")
        let force = try args.requiredBool("force")
        let target = args.string("divert") ?? path + ".distrib"
        let quoted = shellQuote(path)

        let probe = try await HostScript.run(
            context,
            """
            v=$(dpkg-divert --version | head -n 1) || exit 3
            echo "version=$v"
            h=$(dpkg-divert --listpackage \(quoted)) || exit 3
            echo "holder=$h"
            if [ -n "$h" ]; then t=$(dpkg-divert --truename \(quoted)); echo "divert=$t"; [ -e "$t" ] && echo truename_exists; fi
            [ -e \(quoted) ] && echo path_exists
            [ -e \(shellQuote(target)) ] && echo target_exists
            true
            """)
        guard probe.succeeded else { return .failure("dpkg-divert failed: \(probe.stderrText)") }
        var facts: [String: String] = [:]
        for line in probe.stdoutText.split(separator: "\n") {
            if let eq = line.firstIndex(of: "=") {
                facts[String(line[..<eq])] = String(line[line.index(after: eq)...])
            } else {
                facts[String(line)] = ""
            }
        }
        // dpkg 1.19.1 and later leave files alone unless told --rename.
        let version = (facts["version"] ?? "").split(separator: " ").first { $0.first?.isNumber == true } ?? ""
        let noRename = versionAtLeast(String(version), [1, 19, 1])
        let before = diversion(path: path, holder: facts["holder"], divert: facts["divert"])

        var main = ["dpkg-divert"]
        if rename { main.append("--rename") } else if noRename { main.append("--no-rename") }
        var wanted = Diversion(path: path, state: state)
        if state == "present" {
            let holder = args.string("holder").flatMap { $0 == "LOCAL" ? nil : $0 }
            main += holder.map { ["--package", $0] } ?? ["--local"]
            wanted.holder = holder ?? "LOCAL"
            if let divert = args.string("divert") { main += ["--divert", divert] }
            main += ["--add", path]
            wanted.divert = target
        } else {
            main += ["--remove", path]
        }
        func line(_ words: [String]) -> String { words.map { $0.hasPrefix("-") || $0 == "dpkg-divert" ? $0 : shellQuote($0) }.joined(separator: " ") }
        func shown(_ words: [String]) -> String { words.joined(separator: " ") }
        var commands = [shown(main)]
        var messages: [String] = []
        let testing = context.checkMode || wanted == before
        var attempt = main
        if testing { attempt.insert("--test", at: 1) }
        var result = try await HostScript.run(context, line(attempt))
        var values: OrderedDictionary<String, Value> = [:]
        func failure(_ message: String) -> ModuleResult {
            .failure(
                message,
                values: ["cmd": .string(shown(main)), "rc": .int(Int(result.exitStatus)), "stdout": .string(result.stdoutText),
                         "stderr": .string(result.stderrText), "diversion": before.asValue])
        }
        if result.succeeded {
            messages = [trailingTrimmed(result.stdoutText)]
        } else if state != before.state {
            let conflict = rename && facts["path_exists"] != nil
                && ((state == "absent" && facts["truename_exists"] != nil) || (state == "present" && facts["target_exists"] != nil))
            guard conflict else { return failure("Unexpected error while changing state of the diversion.") }
            guard force else { return failure("Set 'force' param to True to force renaming of files.") }
            if !context.checkMode {
                let remove = state == "present" ? target : path
                result = try await HostScript.run(context, "rm -f -- \(shellQuote(remove)) && " + line(main))
                guard result.succeeded else { return failure("Failed to remove \(remove): \(result.stderrText)") }
            }
            messages = [trailingTrimmed(result.stdoutText)]
        } else {
            // A different holder or divert: remove the diversion, then add it again.
            var remove = ["dpkg-divert", "--remove", path]
            if noRename { remove.insert("--no-rename", at: 1) }
            if rename {
                main.removeAll { $0 == "--rename" }
                if noRename { main.insert("--no-rename", at: 1) }
            }
            commands = [shown(remove), shown(main)]
            if context.checkMode {
                remove.insert("--test", at: 1)
                let removed = try await HostScript.run(context, line(remove))
                guard removed.succeeded else { return failure(removed.stderrText) }
                messages = [trailingTrimmed(removed.stdoutText), "Running in check mode"]
            } else {
                var script = line(remove) + " && echo \(HostScript.marker) && " + line(main)
                if let old = before.divert, old != target {
                    // The file moves with its diversion when nothing is at the new place yet.
                    script += " && { if [ -e \(shellQuote(old)) ] && [ ! -e \(shellQuote(target)) ]; then mv -- \(shellQuote(old)) \(shellQuote(target)); fi; true; }"
                }
                result = try await HostScript.run(context, script)
                guard result.succeeded else { return failure("Unexpected error while changing state of the diversion.") }
                messages = HostScript.split(result.stdoutText, count: 2).map(trailingTrimmed)
            }
        }
        var after = wanted
        if !context.checkMode {
            let reread = try await HostScript.run(
                context,
                "h=$(dpkg-divert --listpackage \(quoted)); echo \"$h\"; [ -n \"$h\" ] && dpkg-divert --truename \(quoted); true")
            let lines = reread.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            after = diversion(path: path, holder: lines.first, divert: lines.count > 1 ? lines[1] : nil)
        }
        values["diversion"] = after.asValue
        values["commands"] = .list(commands.map(Value.string))
        values["messages"] = .list(messages.map(Value.string))
        guard after == wanted else { return failure("Unexpected error: see stdout and stderr for details.") }
        let changed = after != before
        let diffs = context.diffMode && changed ? [HostScript.diff(dictionary(before), dictionary(after))] : []
        return ModuleResult(changed: changed, values: values, diffs: diffs)
    }

    static func diversion(path: String, holder: String?, divert: String?) -> Diversion {
        guard let holder, !holder.isEmpty else { return Diversion(path: path, state: "absent") }
        return Diversion(path: path, state: "present", divert: divert, holder: holder)
    }

    static func dictionary(_ diversion: Diversion) -> OrderedDictionary<String, Value> { diversion.asValue.dictValue ?? [:] }

    static func trailingTrimmed(_ text: String) -> String {
        var text = text
        while let last = text.unicodeScalars.last, last.properties.isWhitespace { text.unicodeScalars.removeLast() }
        return text
    }

    /// Whether a dotted version is at least `minimum` (LooseVersion, numeric parts).
    static func versionAtLeast(_ version: String, _ minimum: [Int]) -> Bool {
        let parts = version.split(separator: ".").map { Int($0.prefix { $0.isNumber }) ?? 0 }
        for (index, wanted) in minimum.enumerated() {
            let have = index < parts.count ? parts[index] : 0
            if have != wanted { return have > wanted }
        }
        return true
    }
}
