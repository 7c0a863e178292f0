import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.posix.sysctl`: a kernel parameter in a sysctl file (normalized to `key=value` lines as
/// sysctl.py's fix_lines does) and, with `sysctl_set`, in the running kernel.
public enum SysctlModule: Module {
    public static let declaration = ActionDeclaration(
        name: "sysctl", qualifiedNames: ["ansible.posix.sysctl"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec([
            .init("name", .string, required: true, aliases: ["key"]),
            .init("value", .string, aliases: ["val"]),
            .init("state", .choice(["present", "absent"]), default: "present"),
            .init("reload", .bool, default: true),
            .init("sysctl_file", .path, default: "/etc/sysctl.conf"),
            .init("ignoreerrors", .bool, default: false),
            .init("sysctl_set", .bool, default: false),
        ]),
        documentation: ActionDocumentation(
            "Manage entries in sysctl.conf",
            examples: """
                - name: Lower swappiness for the database
                  ansible.posix.sysctl:
                    name: vm.swappiness
                    value: "1"
                    sysctl_file: /etc/sysctl.d/90-postgresql.conf
                    sysctl_set: true
                """))

    /// sysctl.py's _parse_value: booleans become 1/0, text is trimmed.
    static func parse(_ value: Value?) -> String? {
        switch value {
        case .bool(let b)?: return b ? "1" : "0"
        case nil, .null?: return nil
        case let v?:
            let s = v.pythonString ?? ""
            switch s.lowercased() {
            case "true", "yes": return "1"
            case "false", "no": return "0"
            default: return s.trimmingCharacters(in: .whitespaces)
            }
        }
    }

    /// Values compare with runs of whitespace collapsed (tabs in ip_local_port_range and the like).
    static func same(_ a: String?, _ b: String?) -> Bool {
        func norm(_ s: String?) -> String? { s?.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        return norm(a) == norm(b)
    }

    /// The /proc/sys file of a plain dotted key, as sysctl maps it (dots to slashes); nil for keys
    /// sysctl itself should interpret (slashes, unusual characters).
    static func procPath(_ name: String) -> String? {
        guard !name.isEmpty, !name.hasPrefix("."), !name.hasSuffix("."), !name.contains(".."),
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") })
        else { return nil }
        return "/proc/sys/" + name.replacingOccurrences(of: ".", with: "/")
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let name = (args.string("name") ?? "").trimmingCharacters(in: .whitespaces)
        let present = args.string("state") != "absent"
        let value = parse(args["value"])
        if present && value == nil { return .failure("value cannot be None") }
        if name.isEmpty { return .failure("name cannot be None") }
        if present && value == "" { return .failure("value cannot be blank") }
        let file = args.string("sysctl_file") ?? "/etc/sysctl.conf"
        let sysctlSet = args.bool("sysctl_set") ?? false
        var procValue: String?
        let loaded: TextFileEdit.Loaded
        if let procPath = procPath(name) {
            // As `sysctl -e -n` reads it: an unknown key is an empty value, an unreadable one none.
            // Lines are joined with spaces, which compare as whitespace. (No shell variables: the
            // kept shell runs one task's probes after another's.)
            let read =
                "if [ ! -e \(procPath) ]; then echo ok; elif [ -r \(procPath) ]; then echo \"ok $(tr '\\n' ' ' < \(procPath))\"; fi"
            loaded = try await TextFileEdit.load(
                file, args: ModuleArguments([:]), context: context, lineExtras: [read])
            let output = loaded.extras[0]
            if output == "ok" || output.hasPrefix("ok ") {
                procValue = String(output.dropFirst(2)).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        } else {
            loaded = try await TextFileEdit.load(
                file, args: ModuleArguments([:]), context: context,
                extras: ["sysctl -e -n \(shellQuote(name)) && echo ok"])
            // The extra prints the value then "ok" when sysctl succeeded.
            let procOutput = loaded.extras[0]
            if procOutput.hasSuffix("ok\n") || procOutput.hasSuffix("ok") {
                var lines = procOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                while lines.last == "" { lines.removeLast() }
                lines.removeLast()
                procValue = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        var fileValues: [String: String] = [:]
        let lines = TextFileEdit.lines(loaded.text ?? "")
        for line in lines {
            let t = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if t.isEmpty || t.hasPrefix("#") || t.hasPrefix(";") || !t.contains("=") { continue }
            let parts = t.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            fileValues[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        // sysctl.py's decision, in its order: the file first, then the running value.
        var changed = false
        var writeFile = false
        var setProc = false
        let reload = args.bool("reload") ?? true
        let fileValue = fileValues[name]
        if fileValue == nil {
            if present { (changed, writeFile) = (true, true) }
        } else if !present && fileValue?.isEmpty == false {
            (changed, writeFile) = (true, true)
        } else if fileValue != value {
            (changed, writeFile) = (true, true)
        } else if reload && (procValue == nil || !same(procValue, value)) {
            changed = true
        }
        if sysctlSet && present {
            if procValue == nil {
                changed = true
            } else if !same(procValue, value) {
                (changed, setProc) = (true, true)
            }
        }
        var newText = loaded.text ?? ""
        if writeFile {
            var checked: Set<String> = []
            var fixed = ""
            for line in lines {
                let t = line.trimmingCharacters(in: .whitespacesAndNewlines)
                if t.isEmpty || t.hasPrefix("#") || t.hasPrefix(";") || !line.contains("=") {
                    fixed += line
                    continue
                }
                let parts = t.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let k = parts[0].trimmingCharacters(in: .whitespaces)
                let v = parts[1].trimmingCharacters(in: .whitespaces)
                guard checked.insert(k).inserted else { continue }
                if k == name {
                    if present { fixed += "\(k)=\(value ?? "")\n" }
                } else {
                    fixed += "\(k)=\(v)\n"
                }
            }
            if !checked.contains(name) && present { fixed += "\(name)=\(value ?? "")\n" }
            newText = fixed
        }
        let diffs =
            context.diffMode && newText != (loaded.text ?? "")
            ? TextFileEdit.contentDiff(before: loaded.text, after: newText, path: file) : []
        if context.checkMode || !changed { return ModuleResult(changed: changed, diffs: diffs) }
        let ignoreErrors = args.bool("ignoreerrors") ?? false
        if setProc {
            let result = try await context.connection.run(
                CommandRequest(
                    "sysctl \(ignoreErrors ? "-e " : "")-w \(shellQuote("\(name)=\(value ?? "")"))",
                    environment: context.environment, become: context.become))
            if !result.succeeded || settingFailed(result.stderrText) {
                // Containers mount /proc/sys read-only, so kernel.* writes fail here with the reason.
                let reason = (result.stdoutText + result.stderrText).trimmingCharacters(in: .whitespacesAndNewlines)
                return .failure("setting \(name) failed: \(reason)", values: ["rc": .int(Int(result.exitStatus))])
            }
        }
        if writeFile {
            let outcome = try await TextFileEdit.apply(
                loaded, newText: newText, args: ModuleArguments([:]), context: context)
            if let failure = outcome.failure { return failure }
        }
        if reload {
            // -e ignores unknown keys; a value the kernel refuses fails the task either way.
            let result = try await context.connection.run(
                CommandRequest(
                    "sysctl \(ignoreErrors ? "-e " : "")-p \(shellQuote(file))",
                    environment: context.environment, become: context.become))
            if !result.succeeded || settingFailed(result.stderrText) {
                return .failure("Failed to reload sysctl: \(result.stdoutText)\(result.stderrText)", values: ["changed": true])
            }
        }
        return ModuleResult(changed: true, diffs: diffs)
    }

    /// sysctl.py's `_stderr_failed`: the errors that fail a task although sysctl may exit 0.
    static func settingFailed(_ stderr: String) -> Bool {
        stderr.split(separator: "\n").contains { line in
            line.hasPrefix("sysctl: setting key \"")
                && (line.hasSuffix("\": Invalid argument") || line.hasSuffix("\": Read-only file system"))
        }
    }
}
