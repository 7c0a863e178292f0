import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.find`: files matching name patterns, type, age, size and content, listed by one
/// `find -printf` on the host and filtered here as find.py filters (fnmatch or `re.match` on the
/// base name). `contains` costs a second round trip to read the candidates.
public enum FindModule: Module {
    public static let declaration = ActionDeclaration(
        name: "find", qualifiedNames: ["ansible.builtin.find", "ansible.legacy.find"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([
            .init("paths", .list, required: true, aliases: ["name", "path"]),
            .init("patterns", .list, default: [], aliases: ["pattern"]),
            .init("excludes", .list, aliases: ["exclude"]),
            .init("contains", .string),
            .init("read_whole_file", .bool, default: false),
            .init("file_type", .choice(["any", "directory", "file", "link"]), default: "file"),
            .init("age", .string),
            .init("age_stamp", .choice(["atime", "ctime", "mtime"]), default: "mtime"),
            .init("size", .string),
            .init("recurse", .bool, default: false),
            .init("hidden", .bool, default: false),
            .init("follow", .bool, default: false),
            .init("get_checksum", .bool, default: false),
            .init(
                "checksum_algorithm", .choice(["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]), default: "sha1",
                aliases: ["checksum", "checksum_algo"]),
            .init("use_regex", .bool, default: false),
            .init("depth", .int),
            .init("mode", .string),
            .init("exact_mode", .bool, default: true),
            .init("encoding", .string),
            .init("limit", .int),
        ]),
        documentation: ActionDocumentation(
            "Return a list of files based on specific criteria",
            examples: """
                - name: Log files older than four weeks
                  ansible.builtin.find:
                    paths: /var/log/postgresql
                    patterns: "*.log"
                    age: 4w
                  register: old_logs
                """))

    /// Python's fnmatch (shell globs), case-sensitive as on POSIX.
    static func fnmatch(_ name: String, _ pattern: String) -> Bool {
        fnmatch_c(pattern, name)
    }

    private static func fnmatch_c(_ pattern: String, _ name: String) -> Bool {
        Glibc.fnmatch(pattern, name, 0) == 0
    }

    static func seconds(_ spec: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
        guard let last = spec.last else { return nil }
        if let unit = units[Character(last.lowercased())] { return Double(spec.dropLast()).map { $0 * unit } }
        return Double(spec)
    }

    static func bytes(_ spec: String) -> Double? {
        let units: [Character: Double] = [
            "b": 1, "k": 1024, "m": 1_048_576, "g": 1_073_741_824, "t": 1_099_511_627_776,
        ]
        guard let last = spec.last else { return nil }
        if let unit = units[Character(last.lowercased())] { return Double(spec.dropLast()).map { $0 * unit } }
        return Double(spec)
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let paths = (args["paths"]?.listValue ?? []).compactMap(\.pythonString)
        let patterns = (args["patterns"]?.listValue ?? []).compactMap(\.pythonString)
        let excludes = (args["excludes"]?.listValue ?? []).compactMap(\.pythonString)
        let useRegex = args.bool("use_regex") ?? false
        let fileType = args.string("file_type") ?? "file"
        let recurse = args.bool("recurse") ?? false
        let hidden = args.bool("hidden") ?? false
        let follow = args.bool("follow") ?? false
        var regexes: [PyRegex] = []
        var excludeRegexes: [PyRegex] = []
        let contains: PyRegex?
        do {
            if useRegex {
                regexes = try patterns.map { try PyRegex($0) }
                excludeRegexes = try excludes.map { try PyRegex($0) }
            }
            contains = try args.string("contains").map {
                try PyRegex($0, multiline: args.bool("read_whole_file") == true)
            }
        } catch {
            return .failure("invalid regular expression: \(error)")
        }
        let age = args.string("age").map { ($0, seconds($0)) }
        if let age, age.1 == nil { return .failure("failed to process age") }
        let size = args.string("size").map { ($0, bytes($0)) }
        if let size, size.1 == nil { return .failure("failed to process size") }
        // find.py walks each path; depth counts from it, 1 without recurse.
        let maxDepth = recurse ? (args.int("depth").map { " -maxdepth \($0)" } ?? "") : " -maxdepth 1"
        var script = ["exec 2>/dev/null"]
        for (index, path) in paths.enumerated() {
            script.append(
                "p=\(RemoteProbe.tildeQuote(path)); if [ -d \"$p\" ]; then find \(follow ? "-L " : "")\"$p\" -mindepth 1\(maxDepth) -printf '\(index)|%y|%m|%s|%U|%G|%u|%g|%T@|%A@|%C@|%i|%n|%D|%p\\0'; else printf 'X|\(index)\\0'; fi"
            )
        }
        script.append("exit 0")
        let listing = try await context.connection.run(
            CommandRequest(script.joined(separator: "\n"), environment: context.environment, become: context.become))
        var skipped: OrderedDictionary<String, Value> = [:]
        var examined = 0
        var matched: [OrderedDictionary<String, Value>] = []
        let now = Date().timeIntervalSince1970
        for record in listing.stdout.split(separator: 0) {
            let fields = String(decoding: record, as: UTF8.self).split(
                separator: "|", maxSplits: 14, omittingEmptySubsequences: false
            ).map(String.init)
            if fields.first == "X", fields.count == 2, let i = Int(fields[1]), i < paths.count {
                skipped[paths[i]] = .string(
                    "\(paths[i]) was skipped as it does not seem to be a valid directory or it cannot be accessed")
                continue
            }
            guard fields.count == 15 else { continue }
            examined += 1
            let path = fields[14]
            let base = (path as NSString).lastPathComponent
            if !hidden && base.hasPrefix(".") { continue }
            let type = fields[1]
            let typeOK: Bool
            switch fileType {
            case "file": typeOK = type == "f"
            case "directory": typeOK = type == "d"
            case "link": typeOK = type == "l"
            default: typeOK = true
            }
            guard typeOK else { continue }
            let nameOK: Bool
            if patterns.isEmpty && excludes.isEmpty {
                nameOK = true
            } else if useRegex {
                let hit = patterns.isEmpty || regexes.contains { $0.firstMatch(base)?.range.location == 0 }
                let excluded = excludeRegexes.contains { $0.firstMatch(base)?.range.location == 0 }
                nameOK = hit && !excluded
            } else {
                let hit = patterns.isEmpty || patterns.contains { fnmatch(base, $0) }
                nameOK = hit && !excludes.contains { fnmatch(base, $0) }
            }
            guard nameOK else { continue }
            let mtime = Double(fields[8]) ?? 0
            let atime = Double(fields[9]) ?? 0
            let ctime = Double(fields[10]) ?? 0
            if let (_, secs) = age, let secs {
                let stamp = ["atime": atime, "ctime": ctime][args.string("age_stamp") ?? "mtime"] ?? mtime
                let elapsed = now - stamp
                if secs >= 0 ? elapsed < secs : elapsed > -secs { continue }
            }
            let bytes = Int(fields[3]) ?? 0
            if let (_, limit) = size, let limit, type == "f" {
                if limit >= 0 ? Double(bytes) < limit : Double(bytes) > -limit { continue }
            }
            let m = FileMode.parseOctal(fields[2]) ?? 0
            if let wanted = args.string("mode"), let want = FileMode.parseOctal(wanted) {
                if (args.bool("exact_mode") ?? true) ? m != want : (m & want) != want { continue }
            }
            let entry: OrderedDictionary<String, Value> = [
                "path": .string(path), "mode": .string(FileMode.format(m)), "isdir": .bool(type == "d"),
                "ischr": .bool(type == "c"), "isblk": .bool(type == "b"), "isreg": .bool(type == "f"),
                "isfifo": .bool(type == "p"), "islnk": .bool(type == "l"), "issock": .bool(type == "s"),
                "uid": .int(Int(fields[4]) ?? 0), "gid": .int(Int(fields[5]) ?? 0), "size": .int(bytes),
                "inode": .int(Int(fields[11]) ?? 0), "dev": .int(Int(fields[13]) ?? 0),
                "nlink": .int(Int(fields[12]) ?? 0), "atime": .double(atime), "mtime": .double(mtime),
                "ctime": .double(ctime), "gr_name": .string(fields[7]), "pw_name": .string(fields[6]),
                "wusr": .bool(m & 0o200 != 0), "rusr": .bool(m & 0o400 != 0), "xusr": .bool(m & 0o100 != 0),
                "wgrp": .bool(m & 0o020 != 0), "rgrp": .bool(m & 0o040 != 0), "xgrp": .bool(m & 0o010 != 0),
                "woth": .bool(m & 0o002 != 0), "roth": .bool(m & 0o004 != 0), "xoth": .bool(m & 0o001 != 0),
                "isuid": .bool(m & 0o4000 != 0), "isgid": .bool(m & 0o2000 != 0),
            ]
            matched.append(entry)
        }
        if let contains {
            // Only regular files can contain text; read the candidates in one command.
            let candidates = matched.filter { $0["isreg"] == true }.compactMap { $0["path"]?.stringValue }
            var keep: Set<String> = []
            if !candidates.isEmpty {
                let read = candidates.map { "cat -- \(shellQuote($0)) | base64 -w0; echo" }.joined(separator: "\n")
                let result = try await context.connection.run(
                    CommandRequest(
                        "exec 2>/dev/null\n" + read + "\nexit 0", environment: context.environment,
                        become: context.become))
                let blobs = result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
                for (i, path) in candidates.enumerated() where i < blobs.count {
                    let text = String(decoding: Base64.decode(String(blobs[i])) ?? [], as: UTF8.self)
                    if args.bool("read_whole_file") == true {
                        if contains.matches(text) { keep.insert(path) }
                    } else if TextFileEdit.lines(text).contains(where: { contains.firstMatch($0)?.range.location == 0 })
                    {
                        keep.insert(path)
                    }
                }
            }
            matched = matched.filter { keep.contains($0["path"]?.stringValue ?? "") }
        }
        if args.bool("get_checksum") == true {
            let files = matched.filter { $0["isreg"] == true }.compactMap { $0["path"]?.stringValue }
            if !files.isEmpty {
                let algorithm = args.string("checksum_algorithm") ?? "sha1"
                let command = files.map { "\(algorithm)sum < \(shellQuote($0)) | cut -d' ' -f1" }.joined(
                    separator: "\n")
                let result = try await context.connection.run(
                    CommandRequest(command, environment: context.environment, become: context.become))
                let sums = result.stdoutText.split(separator: "\n").map(String.init)
                for (i, path) in files.enumerated() where i < sums.count {
                    if let at = matched.firstIndex(where: { $0["path"]?.stringValue == path }) {
                        matched[at]["checksum"] = .string(sums[i])
                    }
                }
            }
        }
        if let limit = args.int("limit"), matched.count > limit { matched = Array(matched.prefix(limit)) }
        return ModuleResult(
            changed: false,
            msg: skipped.isEmpty ? "All paths examined" : "Not all paths examined, check warnings for details",
            values: [
                "files": .list(matched.map(Value.dict)), "matched": .int(matched.count), "examined": .int(examined),
                "skipped_paths": .dict(skipped),
            ])
    }
}
