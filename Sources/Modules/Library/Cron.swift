import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.cron`: a job under a `#Ansible: <name>` marker line, in the user's crontab
/// (`crontab -l` / `crontab -`) or in a cron.d file, with cron.py's find/add/update/remove rules.
public enum CronModule: Module {
    public static let declaration = ActionDeclaration(
        name: "cron", qualifiedNames: ["ansible.builtin.cron", "ansible.legacy.cron"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("name", .string),
                .init("user", .string),
                .init("job", .string, aliases: ["value"]),
                .init("cron_file", .path),
                .init("state", .choice(["absent", "present"]), default: "present"),
                .init("backup", .bool, default: false),
                .init("minute", .string, default: "*"),
                .init("hour", .string, default: "*"),
                .init("day", .string, default: "*", aliases: ["dom"]),
                .init("month", .string, default: "*"),
                .init("weekday", .string, default: "*", aliases: ["dow"]),
                .init(
                    "special_time",
                    .choice(["annually", "daily", "hourly", "monthly", "reboot", "weekly", "yearly"])),
                .init("disabled", .bool, default: false),
                .init("env", .bool, default: false),
                .init("insertafter", .string),
                .init("insertbefore", .string),
            ], mutuallyExclusive: [["insertafter", "insertbefore"]]),
        documentation: ActionDocumentation(
            "Manage cron.d and crontab entries",
            examples: """
                - name: Nightly full backup
                  ansible.builtin.cron:
                    name: pgbackrest full backup
                    user: postgres
                    hour: "1"
                    minute: "0"
                    job: pgbackrest --stanza=main backup --type=full
                """))

    static let marker = "#Ansible: "

    static func comment(_ name: String?) -> String { marker + (name ?? "None") }

    /// cron.py's find_job: by marker first, then by the exact job line (adding a marker to it).
    /// Returns the old job line and whether the marker had to be added or renamed.
    static func find(_ lines: inout [String], name: String?, job: String) -> (String, Bool)? {
        var pending: String?
        for line in lines {
            if let c = pending {
                if c == (name ?? "None") { return (line, false) }
                pending = nil
            } else if line.hasPrefix(marker) {
                pending = String(line.dropFirst(marker.count))
            }
        }
        for (i, line) in lines.enumerated() where line == job {
            let previous = i > 0 ? lines[i - 1] : lines[lines.count - 1]
            if !previous.hasPrefix(marker) {
                lines.insert(comment(name), at: i)
                return (line, true)
            } else if name != nil && previous == comment(nil) {
                lines[i - 1] = comment(name)
                return (line, true)
            }
        }
        return nil
    }

    /// cron.py's _update_job: the line after the marker is replaced (nil: marker and job removed).
    static func update(_ lines: [String], name: String?, job: String?) -> [String] {
        var out: [String] = []
        var pending: String?
        for line in lines {
            if let c = pending {
                if let job {
                    out.append(c)
                    out.append(job)
                }
                pending = nil
            } else if line == comment(name) {
                pending = line
            } else {
                out.append(line)
            }
        }
        return out
    }

    static func render(_ lines: [String]) -> String {
        var result = lines.joined(separator: "\n")
        if !result.isEmpty {
            while result.hasSuffix("\n") || result.hasSuffix("\r") { result.removeLast() }
            result += "\n"
        }
        return result
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let env = args.bool("env") == true
        if !env && (args.string("insertafter") != nil || args.string("insertbefore") != nil) {
            return .failure("Insertafter and insertbefore parameters are valid only with env=yes")
        }
        let name = args.string("name")
        let present = args.string("state") != "absent"
        var cronFile = args.string("cron_file")
        if let file = cronFile, !file.hasPrefix("/") { cronFile = "/etc/cron.d/" + file }
        let userArg = args.string("user")
        let job = args.string("job")
        if present && job == nil {
            return .failure("You must specify 'job' to install a new cron job or variable")
        }
        let readCommand: String
        if let cronFile {
            readCommand = "cat -- \(shellQuote(cronFile))"
        } else {
            readCommand = "crontab -l" + (userArg.map { " -u \(shellQuote($0))" } ?? "")
        }
        let loaded = try await TextFileEdit.load(
            cronFile ?? "/nonexistent-pgha-crontab", args: ModuleArguments([:]), context: context,
            extras: cronFile == nil ? [readCommand] : [])
        let existing = cronFile == nil ? loaded.extras[0] : (loaded.text ?? "")
        let user = userArg ?? loaded.probe.identity.user
        var lines: [String] = []
        var nExisting = existing
        var headerCount = 0
        for line in existing.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let isHeader =
                cronFile == nil && headerCount <= 2
                && (line.hasPrefix("# DO NOT EDIT THIS FILE - edit the master and reinstall.")
                    || (line.hasPrefix("# (/tmp/") && line.contains("installed on"))
                    || (line.hasPrefix("# (") && line.contains("version")))
            if isHeader {
                if let range = nExisting.range(of: line + "\n") ?? nExisting.range(of: line) {
                    nExisting.removeSubrange(range)
                }
                headerCount += 1
            } else {
                lines.append(line)
            }
        }
        if lines.last == "" { lines.removeLast() }
        var changed = false
        let values: OrderedDictionary<String, Value>
        var removeFile = false
        if cronFile != nil, !present, name == nil, job == nil {
            // Only cron_file given with state=absent: the whole file goes.
            removeFile = loaded.exists
            changed = removeFile
        } else if env {
            // cron.py: NAME="value" lines without a marker, found by their name; a new one goes first
            // unless insertafter/insertbefore name another variable.
            guard let name, !name.contains(" ") else { return .failure("Invalid name for environment variable") }
            let declaration = "\(name)=\"\(job ?? "")\""
            let isDeclaration = { (line: String) in line.hasPrefix(name + "=") }
            let existingIndex = lines.firstIndex(where: isDeclaration)
            if present {
                if existingIndex == nil {
                    if let other = args.string("insertafter") ?? args.string("insertbefore") {
                        guard let index = lines.firstIndex(where: { $0.hasPrefix(other + "=") }) else {
                            return .failure("Variable named '\(other)' not found.")
                        }
                        lines.insert(declaration, at: args.string("insertafter") != nil ? index + 1 : index)
                    } else {
                        lines.insert(declaration, at: 0)
                    }
                    changed = true
                } else if let existingIndex, lines[existingIndex] != declaration {
                    lines = lines.map { isDeclaration($0) ? declaration : $0 }
                    changed = true
                }
            } else if existingIndex != nil {
                lines.removeAll(where: isDeclaration)
                changed = true
            }
        } else {
            let prefix = (args.bool("disabled") ?? false) ? "#" : ""
            let userPart = cronFile != nil ? " \(user)" : ""
            let command = (job ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\r\n"))
            let jobLine: String
            if let special = args.string("special_time") {
                jobLine = "\(prefix)@\(special)\(userPart) \(command)"
            } else {
                jobLine =
                    "\(prefix)\(args.string("minute") ?? "*") \(args.string("hour") ?? "*") \(args.string("day") ?? "*") \(args.string("month") ?? "*") \(args.string("weekday") ?? "*")\(userPart) \(command)"
            }
            let old = find(&lines, name: name, job: jobLine)
            if present {
                if old == nil {
                    lines.append(comment(name))
                    lines.append(jobLine)
                    changed = true
                }
                if let old, old.0 != jobLine || old.1 {
                    lines = update(lines, name: name, job: jobLine)
                    changed = true
                }
            } else if old != nil {
                lines = update(lines, name: name, job: nil)
                changed = true
            }
        }
        if !changed && !nExisting.isEmpty && !(nExisting.hasSuffix("\n") || nExisting.hasSuffix("\r")) {
            changed = true
        }
        let jobNames = lines.filter { $0.hasPrefix(marker) }.map { String($0.dropFirst(marker.count)) }
        let envNames = lines.compactMap { line -> String? in
            guard let eq = line.firstIndex(of: "="), eq != line.startIndex,
                !line[..<eq].contains(where: { $0 == " " || $0 == "\t" })
            else { return nil }
            return String(line[..<eq])
        }
        values = ["jobs": .list(jobNames.map(Value.string)), "envs": .list(envNames.map(Value.string))]
        let after = removeFile ? "" : render(lines)
        let header = cronFile ?? "crontab"
        var diffs: [FileDiff] = []
        if context.diffMode && changed {
            diffs = [FileDiff(before: nExisting, after: after, beforeHeader: header, afterHeader: header)]
        }
        var result = ModuleResult(changed: changed, values: values, diffs: diffs)
        guard changed && !context.checkMode else { return result }
        if let cronFile {
            if removeFile {
                _ = try await FileSupport.runChecked(
                    "rm -f -- \(shellQuote(cronFile))", context: context, what: "removing \(cronFile) failed")
                return result
            }
            var backupArgs: OrderedDictionary<String, Value> = ["backup": args["backup"] ?? false]
            if !loaded.exists { backupArgs["mode"] = .int(0o644) }
            let outcome = try await TextFileEdit.apply(
                loaded, newText: after, args: ModuleArguments(backupArgs), context: context)
            if let failure = outcome.failure { return failure }
            if let backup = outcome.backupFile { result.values["backup_file"] = .string(backup) }
        } else {
            var script = ""
            if args.bool("backup") == true {
                let backup = "/tmp/crontab\(UUID().uuidString.prefix(8).lowercased())"
                script = "(\(readCommand)) > \(shellQuote(backup)) 2>/dev/null; "
                result.values["backup_file"] = .string(backup)
            }
            script += "crontab" + (userArg.map { " -u \(shellQuote($0))" } ?? "") + " -"
            let run = try await context.connection.run(
                CommandRequest(
                    script, stdin: Array(after.utf8), environment: context.environment, become: context.become))
            if !run.succeeded {
                return .failure(
                    "Unable to install crontab: \(run.stderrText)", values: ["rc": .int(Int(run.exitStatus))])
            }
        }
        return result
    }
}
