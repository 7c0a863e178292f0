import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.file`: files, directories, links and their owner/group/mode.
///
/// Round trips: one probe (which also lists the tree for `recurse`); nothing more when the path is
/// already right, or when the probe itself created the missing directory or removed the path
/// (`speculation`); otherwise one command that changes it.
public enum FileModule: Module {
    public static let declaration = ActionDeclaration(
        name: "file", qualifiedNames: ["ansible.builtin.file", "ansible.legacy.file"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("path", .path, required: true, aliases: ["dest", "name"]),
                .init("state", .choice(["absent", "directory", "file", "hard", "link", "touch"])),
                .init("src", .path),
                .init("recurse", .bool, default: false),
                .init("force", .bool, default: false),
                .init("follow", .bool, default: true),
                .init("mode", .mode),
                .init("owner", .string),
                .init("group", .string),
                .init("unsafe_writes", .bool, default: false),
                .init("modification_time", .string),
                .init("modification_time_format", .string, default: "%Y%m%d%H%M.%S"),
                .init("access_time", .string),
                .init("access_time_format", .string, default: "%Y%m%d%H%M.%S"),
            ]),
        documentation: ActionDocumentation(
            "Manage files and file properties",
            examples: """
                - name: A directory for the backups
                  ansible.builtin.file:
                    path: /var/lib/pgbackrest
                    state: directory
                    owner: postgres
                    group: postgres
                    mode: "0750"

                - name: A symbolic link
                  ansible.builtin.file:
                    src: /etc/haproxy/haproxy.cfg
                    dest: /etc/haproxy.cfg
                    state: link
                """))

    /// `modification_time` / `access_time`: "now", "preserve", or a time in the given format.
    enum TimeSpec: Equatable {
        case now, preserve
        /// Local time on the host, as "YYYY-MM-DD HH:MM:SS" for `date -d`.
        case at(String)
    }

    static func timeSpec(_ args: ModuleArguments, _ key: String, state: String) throws -> TimeSpec {
        // Ansible's keep_backward_compatibility_on_timestamps: touch means now, the rest preserve.
        guard let text = args.string(key) else { return state == "touch" ? .now : .preserve }
        if text == "now" { return .now }
        if text == "preserve" { return .preserve }
        let format = args.string(key + "_format") ?? "%Y%m%d%H%M.%S"
        guard let fields = parseTime(text, format: format) else {
            throw ModuleFailure(message: "Error while obtaining timestamp for time \(text) using format \(format)")
        }
        return .at(
            String(
                format: "%04d-%02d-%02d %02d:%02d:%02d", fields["Y"] ?? 1900, fields["m"] ?? 1, fields["d"] ?? 1,
                fields["H"] ?? 0, fields["M"] ?? 0, fields["S"] ?? 0))
    }

    /// The strptime subset timestamps use: %Y %y %m %d %H %M %S %% and literal characters.
    static func parseTime(_ text: String, format: String) -> [Character: Int]? {
        var fields: [Character: Int] = [:]
        var input = Substring(text)
        var pattern = Substring(format)
        while let ch = pattern.first {
            pattern = pattern.dropFirst()
            guard ch == "%" else {
                guard input.first == ch else { return nil }
                input = input.dropFirst()
                continue
            }
            guard let directive = pattern.first else { return nil }
            pattern = pattern.dropFirst()
            if directive == "%" {
                guard input.first == "%" else { return nil }
                input = input.dropFirst()
                continue
            }
            let width: Int
            switch directive {
            case "Y": width = 4
            case "y", "m", "d", "H", "M", "S": width = 2
            default: return nil
            }
            let digits = input.prefix(width).prefix(while: \.isNumber)
            guard !digits.isEmpty, let value = Int(digits) else { return nil }
            input = input.dropFirst(digits.count)
            if directive == "y" {
                fields["Y"] = value < 69 ? 2000 + value : 1900 + value
            } else {
                fields[directive] = value
            }
        }
        return input.isEmpty ? fields : nil
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        do {
            return try await apply(args, context: context)
        } catch let failure as ModuleFailure {
            return failure.result
        }
    }

    private static func apply(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        var path = args.string("path") ?? ""
        // Ansible strips a trailing slash except for "/".
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        let src = args.string("src")
        let force = args.bool("force") ?? false
        var probe = RemoteProbe()
        let listTree = (args.bool("recurse") ?? false) || args.string("state") == "absent"
        probe.targets = [RemoteProbe.Target(path: path, listTree: listTree)]
        if let src, args.string("state") == "link" || args.string("state") == "hard" {
            // A relative link source is relative to the link's directory.
            let resolved = src.hasPrefix("/") ? src : ((path as NSString).deletingLastPathComponent + "/" + src)
            probe.targets.append(RemoteProbe.Target(path: resolved, follow: true))
        }
        if let owner = args.string("owner") { probe.users = [owner] }
        if let group = args.string("group") { probe.groups = [group] }
        let requestedState = args.string("state") ?? "file"
        let mtimeSpec = try timeSpec(args, "modification_time", state: requestedState)
        let atimeSpec = try timeSpec(args, "access_time", state: requestedState)
        // Explicit times are the host's local time: the host turns them into epoch seconds.
        for spec in [mtimeSpec, atimeSpec] {
            if case .at(let text) = spec { probe.extras.append("date -d \(shellQuote(text)) +%s") }
        }
        let speculated = speculation(args, path: path, state: requestedState, times: [mtimeSpec, atimeSpec], context: context)
        probe.speculation = speculated?.speculation
        let state = try await probe.run(context)
        let done = state.acted ? speculated?.commands : nil
        var epochs = state.extras.makeIterator()
        func epoch(_ spec: TimeSpec) throws -> Double? {
            guard case .at(let text) = spec else { return nil }
            guard let value = epochs.next().flatMap(Double.init) else {
                throw ModuleFailure(message: "Error while obtaining timestamp for time \(text)")
            }
            return value
        }
        let mtimeEpoch = try epoch(mtimeSpec)
        let atimeEpoch = try epoch(atimeSpec)
        let current = state.stats[0]
        // The probe expanded a leading ~ on the host.
        path = current.path
        let previous = current.ansibleState
        // No state given: keep what is there ("file" when nothing is).
        let wantedState = args.string("state") ?? (current.exists ? (previous == "hard" ? "file" : previous) : "file")
        if (wantedState == "link" || wantedState == "hard") && src == nil {
            throw ModuleFailure(message: "src is required for state '\(wantedState)'", values: ["path": .string(path)])
        }
        if src != nil && !["link", "hard"].contains(wantedState) {
            throw ModuleFailure(
                message: "src option requires state to be 'link' or 'hard'", values: ["path": .string(path)])
        }

        // Ansible's initial_diff: the state appears only when it changes.
        var beforeDiff: OrderedDictionary<String, Value> = ["path": .string(path)]
        var afterDiff: OrderedDictionary<String, Value> = ["path": .string(path)]
        if previous != wantedState {
            beforeDiff["state"] = .string(previous)
            afterDiff["state"] = .string(wantedState)
        }
        var commands: [String] = []
        var changed = false

        func wanted(isDirectory: Bool) throws -> FileSupport.Attributes {
            do {
                return try FileSupport.desired(
                    args, current: current, isDirectory: isDirectory, probe: state, context: context)
            } catch let error as PGHAError where error.kind == .execution {
                throw ModuleFailure(message: error.message, values: ["path": .string(path)])
            }
        }
        // What set_fs_attributes_if_different adds: mode as '0%03o', owner and group as ids.
        func noteAttributes(_ w: FileSupport.Attributes, on s: RemoteStat) {
            if let mode = w.mode, mode != s.mode {
                beforeDiff["mode"] = .string(diffMode(s.mode))
                afterDiff["mode"] = .string(diffMode(mode))
            }
            if let owner = w.owner, FileSupport.uid(owner, state) != s.uid {
                beforeDiff["owner"] = .int(s.uid)
                afterDiff["owner"] = .int(FileSupport.uid(owner, state))
            }
            if let group = w.group, FileSupport.gid(group, state) != s.gid {
                beforeDiff["group"] = .int(s.gid)
                afterDiff["group"] = .int(FileSupport.gid(group, state))
            }
        }
        // A path this run creates, as it looks right after creation (before attributes are set).
        func fresh(_ type: RemoteStat.FileType) -> RemoteStat {
            var f = RemoteStat(path: path, type: type)
            f.mode = (type == .directory ? 0o777 : 0o666) & ~state.identity.umask
            f.uid = state.identity.uid
            f.gid = state.identity.gid
            f.owner = state.identity.user
            f.group = state.identity.group
            f.nlink = 1
            f.size = type == .directory ? 4096 : 0
            return f
        }

        var final = current
        var resultPathKey = "path"
        switch wantedState {
        case "absent":
            if current.exists {
                changed = true
                commands.append("rm -rf -- \(shellQuote(path))")
                if current.type == .directory {
                    let directories = current.tree.filter { $0.type == "d" }.map { Value.string($0.path) }
                    let files = current.tree.filter { $0.type != "d" }.map { Value.string($0.path) }
                    beforeDiff["path_content"] = ["directories": .list(directories), "files": .list(files)]
                }
            }
            let values: OrderedDictionary<String, Value> = ["path": .string(path), "state": "absent"]
            return try await finish(
                changed: changed, commands: commands, values: values, before: beforeDiff, after: afterDiff,
                context: context, done: done)

        case "file":
            guard current.exists else {
                throw ModuleFailure(
                    message: "file (\(path)) is absent, cannot continue",
                    values: ["path": .string(path), "state": "absent"])
            }
            var target = current
            if current.type == .link, args.bool("follow") ?? true {
                guard current.linkTargetType == .file else {
                    throw ModuleFailure(
                        message: "file (\(path)) is link, cannot continue",
                        values: ["path": .string(path), "state": "link"])
                }
                target = try await followedStat(path, context: context)
            } else if current.type != .file {
                throw ModuleFailure(
                    message: "file (\(path)) is \(previous), cannot continue",
                    values: ["path": .string(path), "state": .string(previous)])
            }
            let w = try wanted(isDirectory: false)
            if FileSupport.differs(w, from: target, probe: state) {
                changed = true
                noteAttributes(w, on: target)
                commands += FileSupport.commands(w, path: path)
            }
            final = FileSupport.predicted(target, applying: w, probe: state)
            final.path = path

        case "directory":
            let w = try wanted(isDirectory: true)
            if !current.exists {
                changed = true
                // Each directory created gets the mode and owner, as Ansible's file module does.
                commands.append(mkdirScript(path, attributes: w))
                final = fresh(.directory)
                noteAttributes(w, on: final)
            } else if current.type == .directory || (current.type == .link && current.linkTargetType == .directory) {
                let target = current.type == .link ? try await followedStat(path, context: context) : current
                if FileSupport.differs(w, from: target, probe: state) {
                    changed = true
                    noteAttributes(w, on: target)
                    commands += FileSupport.commands(w, path: path)
                }
                final = target
                final.path = path
            } else {
                throw ModuleFailure(message: "\(path) already exists as a \(previous)", values: ["path": .string(path)])
            }
            final = FileSupport.predicted(final, applying: w, probe: state)
            if args.bool("recurse") ?? false {
                let (recursiveChange, recursiveCommands) = recurse(
                    current.tree, path: path, wanted: w, args: args, state: state)
                if recursiveChange {
                    changed = true
                    commands += recursiveCommands
                }
            }

        case "touch":
            let w = try wanted(isDirectory: current.type == .directory)
            if !current.exists {
                changed = true
                commands.append(": >> \(shellQuote(path))")
                final = fresh(.file)
            }
            if FileSupport.differs(w, from: final, probe: state) {
                changed = true
                noteAttributes(w, on: final)
                commands += FileSupport.commands(w, path: path)
            }
            final = FileSupport.predicted(final, applying: w, probe: state)

        case "link", "hard":
            let source = src!
            let sourceStat = state.stats[1]
            if !sourceStat.exists && !(wantedState == "link" && force) {
                throw ModuleFailure(
                    message: wantedState == "hard"
                        ? "src does not exist"
                        : "src file does not exist, use \"force=yes\" if you really want to create the link: \(sourceStat.path)",
                    values: ["path": .string(path), "src": .string(source)])
            }
            resultPathKey = "dest"
            let upToDate: Bool
            if wantedState == "link" {
                upToDate = current.type == .link && current.linkTarget == source
            } else {
                upToDate =
                    current.exists && current.type != .link && current.inode == sourceStat.inode
                    && current.device == sourceStat.device
            }
            if !upToDate {
                if current.exists && current.type != .link && wantedState == "link" && !force {
                    if current.type == .directory {
                        throw ModuleFailure(
                            message: "the directory \(path) is not empty, refusing to convert it",
                            values: ["path": .string(path)])
                    }
                    throw ModuleFailure(
                        message: "refusing to convert from \(previous) to symlink for \(path)",
                        values: ["path": .string(path)])
                }
                if current.exists && wantedState == "hard" && current.type != .file && current.type != .link && !force {
                    throw ModuleFailure(
                        message: "refusing to convert from \(previous) to hard link for \(path)",
                        values: ["path": .string(path)])
                }
                changed = true
                let flag = wantedState == "link" ? "-sfn" : "-fn"
                let removeDir = current.type == .directory ? "rmdir -- \(shellQuote(path)) && " : ""
                commands.append("\(removeDir)ln \(flag) -- \(shellQuote(source)) \(shellQuote(path))")
            }
            let w = try wanted(isDirectory: false)
            let linkState = RemoteStat(
                path: path, type: .link, mode: 0o777, uid: current.exists ? current.uid : state.identity.uid,
                gid: current.exists ? current.gid : state.identity.gid,
                owner: current.exists ? current.owner : state.identity.user,
                group: current.exists ? current.group : state.identity.group)
            let attributeTarget = wantedState == "link" ? linkState : (current.exists ? current : sourceStat)
            let ownershipOnly = FileSupport.Attributes(
                mode: wantedState == "link" ? nil : w.mode, owner: w.owner, group: w.group)
            if FileSupport.differs(ownershipOnly, from: attributeTarget, probe: state)
                || (changed && (w.owner != nil || w.group != nil))
            {
                if !changed { noteAttributes(ownershipOnly, on: attributeTarget) }
                changed = true
                commands += FileSupport.commands(ownershipOnly, path: path, noDereference: wantedState == "link")
            }
            final = FileSupport.predicted(
                wantedState == "link" ? linkState : (current.exists && upToDate ? current : sourceStat),
                applying: ownershipOnly, probe: state)
            final.path = path
            final.type = wantedState == "link" ? .link : .file
            final.size = wantedState == "link" ? source.utf8.count : final.size
            if wantedState == "hard" { final.nlink = max(2, final.nlink) }

        default:
            throw ModuleFailure(message: "unknown state \(wantedState)")
        }

        // Timestamps (links excluded: their own times are not what Ansible sets).
        if wantedState != "link" {
            let times = timeCommands(
                path: path, current: current.exists ? current : nil, mtime: (mtimeSpec, mtimeEpoch),
                atime: (atimeSpec, atimeEpoch))
            if !times.commands.isEmpty {
                changed = true
                commands += times.commands
                for (key, value) in times.before { beforeDiff[key] = value }
                for (key, value) in times.after { afterDiff[key] = value }
            }
        }

        var values = FileSupport.statValues(final, pathKey: resultPathKey)
        values["state"] = .string(wantedState == "touch" ? "file" : wantedState)
        if wantedState == "link" || wantedState == "hard" {
            values["src"] = .string(src ?? "")
        }
        return try await finish(
            changed: changed, commands: commands, values: values, before: beforeDiff, after: afterDiff, context: context,
            done: done)
    }

    /// Runs the commands (unless the probe already ran exactly these: `done`) and reports.
    private static func finish(
        changed: Bool, commands: [String], values: OrderedDictionary<String, Value>,
        before: OrderedDictionary<String, Value>, after: OrderedDictionary<String, Value>, context: ModuleContext,
        done: [String]? = nil
    ) async throws -> ModuleResult {
        if let done, done != commands || !changed {
            // The probe's change and this decision disagree: a defect, reported rather than hidden.
            throw ModuleFailure(message: "internal error: the probe changed \(values["path"]?.stringValue ?? "") differently")
        }
        if changed && !context.checkMode && !commands.isEmpty && done == nil {
            _ = try await FileSupport.runChecked(
                "set -e\n" + commands.joined(separator: "\n"), context: context,
                what: "changing \(values["path"]?.stringValue ?? values["dest"]?.stringValue ?? "") failed")
        }
        var diffs: [FileDiff] = []
        if changed && context.diffMode {
            diffs.append(stateDiff(before: before, after: after))
        }
        return ModuleResult(changed: changed, values: values, diffs: diffs)
    }

    /// The change the probe makes itself when the path turns out as expected: a missing directory
    /// created (state=directory, no recurse or times, an absolute mode or none) or an existing path
    /// removed (state=absent), with exactly the commands this module would run next.
    static func speculation(
        _ args: ModuleArguments, path: String, state: String, times: [TimeSpec], context: ModuleContext
    ) -> (speculation: RemoteProbe.Speculation, commands: [String])? {
        guard !context.checkMode, !path.hasPrefix("~"), args.string("src") == nil, args.string("state") == state,
            times.allSatisfy({ $0 == .preserve })
        else { return nil }
        let quoted = "\"$p0\""
        switch state {
        case "absent":
            let commands = ["rm -rf -- \(shellQuote(path))"]
            return (
                RemoteProbe.Speculation(
                    condition: "{ [ -e \(quoted) ] || [ -L \(quoted) ]; }",
                    action: "set -e\n" + commands.joined(separator: "\n")),
                commands
            )
        case "directory":
            guard !(args.bool("recurse") ?? false) else { return nil }
            var attributes = FileSupport.Attributes(owner: args.string("owner"), group: args.string("group"))
            if let mode = FileMode(args["mode"]) {
                guard case .absolute(let bits) = mode else { return nil }
                attributes.mode = bits
            }
            var condition = ["[ ! -e \(quoted) ]", "[ ! -L \(quoted) ]"]
            if let owner = attributes.owner, Int(owner) == nil {
                condition.append("getent passwd -- \(shellQuote(owner)) >/dev/null")
            }
            if let group = attributes.group, Int(group) == nil {
                condition.append("getent group -- \(shellQuote(group)) >/dev/null")
            }
            let commands = [mkdirScript(path, attributes: attributes)]
            return (
                RemoteProbe.Speculation(
                    condition: condition.joined(separator: " && "), action: "set -e\n" + commands.joined(separator: "\n")),
                commands
            )
        default:
            return nil
        }
    }

    /// Ansible's file diff: two small dicts, shown as sorted, indented JSON without headers.
    static func stateDiff(before: OrderedDictionary<String, Value>, after: OrderedDictionary<String, Value>) -> FileDiff
    {
        FileDiff(
            before: JSON.encode(.dict(before), style: .pythonPretty) + "\n",
            after: JSON.encode(.dict(after), style: .pythonPretty) + "\n", beforeHeader: "", afterHeader: "")
    }

    /// Commands that set the times, and the diff entries for them. A time given as "now" always
    /// changes; an explicit one only when it differs (as Ansible's update_timestamp_for_file).
    static func timeCommands(
        path: String, current: RemoteStat?, mtime: (TimeSpec, Double?), atime: (TimeSpec, Double?)
    ) -> (commands: [String], before: [(String, Value)], after: [(String, Value)]) {
        var commands: [String] = []
        var before: [(String, Value)] = []
        var after: [(String, Value)] = []
        let now = Date().timeIntervalSince1970
        for (flag, key, spec, epoch, previous) in [
            ("-m", "mtime", mtime.0, mtime.1, current?.mtime), ("-a", "atime", atime.0, atime.1, current?.atime),
        ] {
            switch spec {
            case .preserve: continue
            case .now:
                commands.append("touch \(flag) -- \(shellQuote(path))")
                if let previous { before.append((key, .double(previous))) }
                after.append((key, .double(now)))
            case .at:
                guard let epoch, previous != epoch else { continue }
                commands.append("touch \(flag) -d @\(Int(epoch)) -- \(shellQuote(path))")
                if let previous { before.append((key, .double(previous))) }
                after.append((key, .double(epoch)))
            }
        }
        return (commands, before, after)
    }

    /// Python's '0%03o', which the file module's diff uses ("0644", "04755").
    static func diffMode(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return "0" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }

    /// Creates each missing directory of `path` and gives each new one the wanted attributes.
    static func mkdirScript(_ path: String, attributes: FileSupport.Attributes) -> String {
        var prefix = path.hasPrefix("/") ? "" : "."
        var lines: [String] = []
        for component in path.split(separator: "/") {
            prefix += "/" + component
            let q = shellQuote(prefix)
            var create = "mkdir -- \(q)"
            let attrs = FileSupport.commands(attributes, path: prefix)
            if !attrs.isEmpty { create += " && " + attrs.joined(separator: " && ") }
            lines.append("[ -d \(q) ] || { \(create); }")
        }
        return lines.joined(separator: "\n")
    }

    private static func followedStat(_ path: String, context: ModuleContext) async throws -> RemoteStat {
        var probe = RemoteProbe()
        probe.targets = [RemoteProbe.Target(path: path, follow: true)]
        return try await probe.run(context).stats[0]
    }

    /// Checks every entry below a directory (listed by the probe), and returns the recursive chown/chmod.
    private static func recurse(
        _ tree: [RemoteStat.TreeEntry], path: String, wanted: FileSupport.Attributes, args: ModuleArguments,
        state: RemoteProbe.Result
    ) -> (Bool, [String]) {
        let mode = FileMode(args["mode"])
        var needsMode = false
        var needsOwnership = false
        for entry in tree {
            if let owner = wanted.owner, entry.uid != FileSupport.uid(owner, state) { needsOwnership = true }
            if let group = wanted.group, entry.gid != FileSupport.gid(group, state) { needsOwnership = true }
            if entry.type != "l", let mode,
                let target = try? mode.resolve(
                    current: entry.mode, isDirectory: entry.type == "d", umask: state.identity.umask),
                target != entry.mode
            {
                needsMode = true
            }
        }
        var commands: [String] = []
        if needsOwnership {
            commands += FileSupport.commands(
                FileSupport.Attributes(owner: wanted.owner, group: wanted.group), path: path, noDereference: true,
                recursive: true)
        }
        if needsMode, let raw = args.string("mode") {
            // Symbolic modes go to chmod as written: chmod applies them per file, including X.
            let spec = FileMode.parseOctal(raw).map { String($0, radix: 8) } ?? raw
            let modeArg = args.int("mode").map { String($0, radix: 8) } ?? spec
            commands.append("find \(shellQuote(path)) -mindepth 1 ! -type l -exec chmod \(shellQuote(modeArg)) -- {} +")
        }
        return (needsOwnership || needsMode, commands)
    }
}
