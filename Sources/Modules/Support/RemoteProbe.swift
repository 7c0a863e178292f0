import Foundation
import OrderedCollections
import PGHACore
import Transport

/// What one `stat` on the host said about a path.
public struct RemoteStat: Sendable, Equatable {
    public enum FileType: String, Sendable {
        case file, directory, link, fifo, socket, char, block, absent
    }

    public var path: String
    public var type: FileType
    /// Permission bits only (0o7777).
    public var mode: UInt32 = 0
    public var uid: Int = 0
    public var gid: Int = 0
    public var owner: String = ""
    public var group: String = ""
    public var size: Int = 0
    public var atime: Double = 0
    public var mtime: Double = 0
    public var ctime: Double = 0
    public var inode: Int = 0
    public var device: Int = 0
    public var nlink: Int = 0
    public var blocks: Int = 0
    public var blockSize: Int = 0
    /// For links: what the link points at (as written) and the type of its target (absent if dangling).
    public var linkTarget: String?
    public var linkTargetType: FileType?
    /// For links: the fully resolved path (readlink -f).
    public var resolvedPath: String?
    public var checksum: String?
    public var readable = false
    public var writeable = false
    public var executable = false
    public var mimeType: String?
    public var charset: String?
    /// Whether the parent directory exists.
    public var parentExists = true
    /// The file's bytes, when asked for and the checksum differed (for --diff).
    public var content: [UInt8]?
    /// Entries below a directory, when asked for: (mode bits, uid, gid, find's type letter).
    public var tree: [TreeEntry] = []

    public struct TreeEntry: Sendable, Equatable {
        public var mode: UInt32
        public var uid: Int
        public var gid: Int
        public var type: Character
        public var path: String
    }

    public var exists: Bool { type != .absent }

    /// Ansible's state names: file, directory, link, hard (more than one link to a file), absent.
    public var ansibleState: String {
        switch type {
        case .file: return nlink > 1 ? "hard" : "file"
        case .directory: return "directory"
        case .link: return "link"
        case .absent: return "absent"
        default: return "file"
        }
    }
}

/// The identity commands run as on the host, for predicting owners and default modes.
public struct RemoteIdentity: Sendable, Equatable {
    public var uid: Int
    public var gid: Int
    public var user: String
    public var group: String
    public var umask: UInt32
}

/// One command that reads everything a module needs to decide: stats (with checksums and, for
/// --diff, old content), the identity and umask, and user/group ids. Modules call it once before
/// changing anything, so a no-change run costs a single round trip.
struct RemoteProbe {
    struct Target {
        var path: String
        /// When the path is a directory, look at `path/<name>` instead (copy's dest-is-a-directory rule).
        var intoDirectoryAs: String?
        var follow = false
        var checksumAlgorithm: String?
        /// Send the content back when it is a regular file no bigger than this and its checksum
        /// differs from `unlessChecksum`.
        var contentLimit: Int?
        var unlessChecksum: String?
        var access = false
        var mime = false
        /// List every entry below a directory (mode, uid, gid, type) for recursive attribute checks.
        var listTree = false
        /// The content the file should have: a small file is compared with it by the shell itself,
        /// and when they are equal the checksum is reported as `checksum` without running a program.
        var expected: (content: String, checksum: String)?
    }

    /// Files up to this size are read or compared by shell builtins instead of a program: dash
    /// reads a byte per system call, which costs less than starting a program up to about here.
    static let shellReadLimit = 4096

    /// A change made in the same round trip as the probe when the state turns out as the caller
    /// predicted: after the probe has printed everything, `condition` (shell) guards `action`,
    /// which runs in a subshell and reports success on the probe's stderr. The caller decides
    /// again from what the probe printed and relies on `Result.acted` only where its own decision
    /// is that same change; a failed action changes nothing the caller's own path would not redo.
    struct Speculation {
        var condition: String
        var action: String
    }

    var speculation: Speculation?
    var targets: [Target] = []
    var users: [String] = []
    var groups: [String] = []
    /// Extra one-line commands whose output the caller needs (e.g. `date -d ... +%s`).
    var extras: [String] = []

    /// Ansible's C.MAX_FILE_SIZE_FOR_DIFF.
    static let maxDiffSize = 104_448

    /// The spelling of the probe's own process directory in its stat call: its owner is the
    /// identity the script runs as (the effective uid and gid), and no target path looks like it.
    static let identityPath = "/proc/self/./"

    /// The probe costs the host as few programs as possible, as each exec is most of a task's time
    /// on a busy host: one `stat` for every target (and, through /proc/self, the identity), one
    /// checksum or content read where asked for, and shell builtins for the rest (umask, dirname,
    /// tests). Links, access, MIME types and trees cost more, but only where asked for.
    var script: String {
        var lines = [
            // fd 3 keeps stderr for the speculation's report; everything else's is dropped.
            "exec 3>&2 2>/dev/null",
            "printf 'H|'; umask",
            // dirname as POSIX defines it, without running dirname.
            #"dn() { d=$1; case $d in *[!/]*) ;; *) d=/; return;; esac; while [ "${d%/}" != "$d" ]; do d=${d%/}; done; case $d in */*) d=${d%/*};; *) d=.; return;; esac; while [ "${d%/}" != "$d" ]; do d=${d%/}; done; [ -n "$d" ] || d=/; }"#,
            // Without /proc the identity comes from id.
            "[ -d /proc/self/ ] || printf 'I|%s|%s|%s|%s\\n' \"$(id -u)\" \"$(id -g)\" \"$(id -un)\" \"$(id -gn)\"",
        ]
        for (index, extra) in extras.enumerated() {
            lines.append("printf 'E|\(index)|%s\\n' \"$(\(extra))\"")
        }
        for (index, target) in targets.enumerated() {
            lines.append("p=\(Self.tildeQuote(target.path))")
            if let name = target.intoDirectoryAs {
                lines.append("[ -d \"$p\" ] && p=\"${p%/}/\"\(shellQuote(name))")
            }
            if target.follow {
                // Writes through a followed link go to its target, so report the target's path.
                lines.append("[ -L \"$p\" ] && p=$(readlink -f -- \"$p\")")
            }
            lines.append("p\(index)=\"$p\"")
            lines.append("printf '\(index)|P|%s\\n' \"$p\"")
            lines.append("dn \"$p\"; [ -d \"$d\" ] || echo '\(index)|N'")
        }
        // One stat for the targets that follow links and one for those that do not; the first also
        // reports the identity. Lines are "S<follow>|fields|name", matched to targets by name.
        let sizedTargets = Set(targets.indices.filter { targets[$0].expected != nil || targets[$0].contentLimit != nil })
        let format = "%f|%u|%g|%U|%G|%s|%.9X|%.9Y|%.9Z|%i|%d|%h|%b|%B|%n"
        var identityAsked = false
        for follow in [false, true] {
            let group = targets.indices.filter { targets[$0].follow == follow }
            guard !group.isEmpty || (follow && !identityAsked) else { continue }
            lines.append("set --")
            for index in group {
                lines.append("{ [ -e \"$p\(index)\" ] || [ -L \"$p\(index)\" ]; } && set -- \"$@\" \"$p\(index)\"")
            }
            let identity = identityAsked ? "" : " \(Self.identityPath)"
            identityAsked = true
            let stat = "stat \(follow ? "-L " : "")-c 'S\(follow ? 1 : 0)|\(format)' -- \"$@\"\(identity)"
            if group.contains(where: sizedTargets.contains) || !users.isEmpty || !groups.isEmpty {
                // Kept for the shell too, which reads small files' sizes and owners from it.
                lines.append("st\(follow ? 1 : 0)=$(\(stat)); printf '%s\\n' \"$st\(follow ? 1 : 0)\"")
            } else {
                lines.append(stat)
            }
        }
        lines += ownerLookups()
        // The content target goes last: its bytes end the output after a marker line, so they need
        // no escaping. One byte over the limit tells the parser the file is too large.
        let contentTarget = targets.indices.last { targets[$0].contentLimit != nil }
        for index in targets.indices.filter({ $0 != contentTarget }) + (contentTarget.map { [$0] } ?? []) {
            lines += block(for: index, sizes: sizedTargets.contains(index))
        }
        if let speculation {
            lines.append(
                "if \(speculation.condition); then ( \(speculation.action) ) >/dev/null 2>&1 && echo \(Self.actedMarker) >&3; fi")
        }
        lines.append("exit 0")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The user and group names asked for, looked up with getent unless a stat above already
    /// showed a file (or the identity) owned by that name: then its id is in the stat line, and a
    /// lookup (a program, and the slowest part of most file tasks' probes) is not needed.
    private func ownerLookups() -> [String] {
        /// Names of one database; `field` is their column in the stat lines read below, `seen` the
        /// prefix of the shell flags that say a name was found there.
        struct Lookup {
            var names: [String], field: String, seen: String, section: String, database: String
        }
        let lookups = [
            Lookup(names: users, field: "un", seen: "u", section: "U", database: "passwd"),
            Lookup(names: groups, field: "gn", seen: "g", section: "G", database: "group"),
        ].filter { !$0.names.isEmpty }
        guard !lookups.isEmpty else { return [] }
        var lines = ["while IFS='|' read -r t x1 x2 x3 un gn rest; do"]
        for lookup in lookups {
            for (index, name) in lookup.names.enumerated() where name != Self.unknownOwner {
                lines.append("  [ \"$\(lookup.field)\" = \(shellQuote(name)) ] && \(lookup.seen)\(index)=1")
            }
        }
        lines.append("done <<PGHA_STAT\n$st0\n$st1\nPGHA_STAT")
        for lookup in lookups {
            lines.append("set --")
            for (index, name) in lookup.names.enumerated() {
                lines.append("[ -n \"$\(lookup.seen)\(index)\" ] || set -- \"$@\" \(shellQuote(name))")
            }
            lines.append(
                "[ $# = 0 ] || { echo '\(lookup.section){'; getent \(lookup.database) -- \"$@\"; echo '\(lookup.section)}'; }")
        }
        return lines
    }

    /// What stat prints for an id that has no name.
    static let unknownOwner = "UNKNOWN"

    /// The lines that look closer at one target after the stat: link, checksum (or the shell's own
    /// comparison with the expected content), access, MIME type, tree, and the content last.
    private func block(for index: Int, sizes: Bool) -> [String] {
        let target = targets[index]
        let st = "$st\(target.follow ? 1 : 0)"
        let limit = Self.shellReadLimit
        // dash's read drops NUL bytes, which the byte count compared with the size catches.
        let readSmall =
            "f=; l=; while IFS= read -r l; do f=\"$f$l\n\"; done < \"$p\"; f=\"$f$l\"; if [ ${#f} = \"$z\" ]; then r=1; else f=; fi"
        var lines = ["p=\"$p\(index)\"; c=; f=; r=; z="]
        if sizes {
            // This target's size, from the stat output kept in the shell.
            lines.append(
                "while IFS='|' read -r t x1 x2 x3 x4 x5 s rest; do [ \"$t\" = S\(target.follow ? 1 : 0) ] && case \"|$rest\" in *\"|$p\") z=$s;; esac; done <<PGHA_STAT\n\(st)\nPGHA_STAT"
            )
        }
        var present: [String] = []
        if !target.follow {
            present.append(
                "[ -L \"$p\" ] && { printf '\(index)|L|%s\\n' \"$(readlink -- \"$p\")\"; printf '\(index)|F|%s\\n' \"$(readlink -f -- \"$p\")\"; stat -L -c '\(index)|T|%f' -- \"$p\" || echo '\(index)|T|absent'; }"
            )
        }
        if let expected = target.expected, expected.content.utf8.count <= limit {
            present.append(
                "[ \"$z\" = \(expected.content.utf8.count) ] && [ -f \"$p\" ] && [ -r \"$p\" ] && { \(readSmall); } && [ -n \"$r\" ] && [ \"$f\" = \(shellQuote(expected.content)) ] && { c=\(shellQuote(expected.checksum)); printf '\(index)|C|%s\\n' \"$c\"; }"
            )
        } else if target.contentLimit != nil {
            present.append("[ -n \"$z\" ] && [ \"$z\" -le \(limit) ] && [ -f \"$p\" ] && [ -r \"$p\" ] && { \(readSmall); }")
        }
        if let algorithm = target.checksumAlgorithm {
            present.append(
                "[ -z \"$c\" ] && [ -f \"$p\" ] && [ -r \"$p\" ] && { c=$(\(algorithm)sum < \"$p\"); c=${c%% *}; printf '\(index)|C|%s\\n' \"$c\"; }"
            )
        }
        if target.access {
            present.append(
                "a=; [ -r \"$p\" ] && a=${a}r; [ -w \"$p\" ] && a=${a}w; [ -x \"$p\" ] && a=${a}x; printf '\(index)|A|%s\\n' \"$a\""
            )
        }
        if target.mime {
            present.append(
                "command -v file >/dev/null && printf '\(index)|M|%s\\n' \"$(file -b --mime -L -- \"$p\")\"")
        }
        if target.listTree {
            present.append("[ -d \"$p\" ] && find \"$p\" -mindepth 1 -printf '\(index)|R|%m|%U|%G|%y|%p\\n'")
        }
        if !present.isEmpty {
            lines.append("if [ -e \"$p\" ] || [ -L \"$p\" ]; then")
            lines += present.map { "  " + $0 }
            lines.append("fi")
        }
        if let contentLimit = target.contentLimit {
            var condition = "[ -f \"$p\" ] && [ -r \"$p\" ]"
            if let want = target.unlessChecksum, want != "-", target.checksumAlgorithm != nil {
                condition += " && [ \"$c\" != \(shellQuote(want)) ]"
            }
            // What the shell read is sent as it is; a larger file (or one with NUL bytes) by head.
            lines.append(
                "if \(condition); then echo '\(index)|B'; if [ -n \"$r\" ]; then printf '%s' \"$f\"; else head -c \(contentLimit + 1) -- \"$p\"; fi; fi"
            )
        }
        return lines
    }

    /// Quotes a path but lets a leading `~` or `~user` expand on the host, as Ansible expands
    /// remote paths; the probe reports the expanded path, which modules then use.
    static func tildeQuote(_ path: String) -> String {
        guard path.hasPrefix("~") else { return shellQuote(path) }
        let end = path.firstIndex(of: "/") ?? path.endIndex
        let user = path[path.index(after: path.startIndex)..<end]
        guard user.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
            return shellQuote(path)
        }
        let rest = String(path[end...])
        return "~" + user + (rest.isEmpty ? "" : shellQuote(rest))
    }

    struct Result {
        var identity: RemoteIdentity
        var userIDs: [String: Int]
        var groupIDs: [String: Int]
        var stats: [RemoteStat]
        var extras: [String] = []
        /// The speculation's action ran and succeeded.
        var acted = false
    }

    static let actedMarker = "pgha-probe-acted"

    func run(_ context: ModuleContext) async throws -> Result {
        let result = try await context.connection.run(
            CommandRequest(script, environment: context.environment, become: context.become, subshellAllowed: true))
        guard result.succeeded else {
            throw PGHAError(
                .execution, "reading file state failed: \(result.stderrText)", at: context.taskLocation,
                host: context.host)
        }
        var parsed = try parse(result.stdout, context: context)
        parsed.acted = speculation != nil && result.stderrText.contains(Self.actedMarker)
        return parsed
    }

    func parse(_ output: [UInt8], context: ModuleContext) throws -> Result {
        var body = output
        var content: (Int, [UInt8])?
        // The content marker is "<index>|B\n" at the start of a line.
        for (index, target) in targets.enumerated() where target.contentLimit != nil {
            let marker = Array("\(index)|B\n".utf8)
            if let range = findLineStart(marker, in: output) {
                content = (index, Array(output[range.upperBound...]))
                body = Array(output[..<range.lowerBound])
            }
        }
        var identity = RemoteIdentity(uid: -1, gid: -1, user: "", group: "", umask: 0o022)
        var userIDs: [String: Int] = [:]
        var groupIDs: [String: Int] = [:]
        var stats = targets.map { RemoteStat(path: $0.path, type: .absent) }
        var extraOutputs = Array(repeating: "", count: extras.count)
        var statLines: [(follow: Bool, fields: [String], name: String)] = []
        var section: Character?
        for line in String(decoding: body, as: UTF8.self).split(separator: "\n") {
            if line == "U{" || line == "G{" {
                section = line.first
                continue
            }
            if line == "U}" || line == "G}" {
                section = nil
                continue
            }
            if let kind = section {
                // getent's passwd and group lines: name:password:id:...
                let entry = line.split(separator: ":", omittingEmptySubsequences: false)
                if entry.count >= 3, let id = Int(entry[2]) {
                    if kind == "U" { userIDs[String(entry[0])] = id } else { groupIDs[String(entry[0])] = id }
                }
                continue
            }
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            if fields[0] == "H", fields.count >= 2 {
                identity.umask = FileMode.parseOctal(fields[1]) ?? 0o022
                continue
            }
            if (fields[0] == "S0" || fields[0] == "S1"), fields.count >= 16 {
                statLines.append((fields[0] == "S1", Array(fields[1...14]), fields[15...].joined(separator: "|")))
                continue
            }
            if fields[0] == "I", fields.count >= 5 {
                identity.uid = Int(fields[1]) ?? -1
                identity.gid = Int(fields[2]) ?? -1
                identity.user = fields[3]
                identity.group = fields[4]
                continue
            }
            if fields[0] == "E", fields.count >= 3, let i = Int(fields[1]), i < extraOutputs.count {
                extraOutputs[i] = fields[2...].joined(separator: "|")
                continue
            }
            guard fields.count >= 2, let index = Int(fields[0]), index < stats.count else { continue }
            let rest = fields.dropFirst(2).joined(separator: "|")
            switch fields[1] {
            case "P": stats[index].path = rest
            case "N": stats[index].parentExists = false
            case "R" where fields.count >= 7:
                stats[index].tree.append(
                    RemoteStat.TreeEntry(
                        mode: FileMode.parseOctal(fields[2]) ?? 0, uid: Int(fields[3]) ?? -1, gid: Int(fields[4]) ?? -1,
                        type: fields[5].first ?? "f", path: fields[6...].joined(separator: "|")))
            case "L": stats[index].linkTarget = rest
            case "F": stats[index].resolvedPath = rest
            case "T":
                stats[index].linkTargetType = rest == "absent" ? .absent : Self.fileType(UInt32(rest, radix: 16) ?? 0)
            case "C": stats[index].checksum = rest.isEmpty ? nil : rest
            case "A":
                stats[index].readable = rest.contains("r")
                stats[index].writeable = rest.contains("w")
                stats[index].executable = rest.contains("x")
            case "M":
                // "text/plain; charset=us-ascii"
                let parts = rest.components(separatedBy: "; charset=")
                stats[index].mimeType = parts[0]
                if parts.count > 1 { stats[index].charset = parts[1] }
            default: break
            }
        }
        for (follow, fields, name) in statLines {
            if name == Self.identityPath {
                identity.uid = Int(fields[1]) ?? -1
                identity.gid = Int(fields[2]) ?? -1
                identity.user = fields[3]
                identity.group = fields[4]
            }
            for index in stats.indices where targets[index].follow == follow && stats[index].path == name {
                Self.apply(fields, to: &stats[index])
            }
        }
        if let (index, bytes) = content {
            // One byte more than the limit was read: the file is too large to send.
            stats[index].content = bytes.count > (targets[index].contentLimit ?? Int.max) ? nil : bytes
        }
        // Names the script did not look up: a stat line showed them as some file's owner.
        for line in statLines {
            let (uid, gid, user, group) = (line.fields[1], line.fields[2], line.fields[3], line.fields[4])
            if users.contains(user), user != Self.unknownOwner, userIDs[user] == nil { userIDs[user] = Int(uid) }
            if groups.contains(group), group != Self.unknownOwner, groupIDs[group] == nil { groupIDs[group] = Int(gid) }
        }
        return Result(identity: identity, userIDs: userIDs, groupIDs: groupIDs, stats: stats, extras: extraOutputs)
    }

    /// The fields of a stat line (`%f|%u|%g|%U|%G|%s|%X|%Y|%Z|%i|%d|%h|%b|%B`).
    private static func apply(_ fields: [String], to stat: inout RemoteStat) {
        let raw = UInt32(fields[0], radix: 16) ?? 0
        stat.type = fileType(raw)
        stat.mode = raw & 0o7777
        stat.uid = Int(fields[1]) ?? 0
        stat.gid = Int(fields[2]) ?? 0
        stat.owner = fields[3]
        stat.group = fields[4]
        stat.size = Int(fields[5]) ?? 0
        stat.atime = Double(fields[6]) ?? 0
        stat.mtime = Double(fields[7]) ?? 0
        stat.ctime = Double(fields[8]) ?? 0
        stat.inode = Int(fields[9]) ?? 0
        stat.device = Int(fields[10]) ?? 0
        stat.nlink = Int(fields[11]) ?? 0
        stat.blocks = Int(fields[12]) ?? 0
        stat.blockSize = Int(fields[13]) ?? 0
    }

    private func findLineStart(_ marker: [UInt8], in data: [UInt8]) -> Range<Int>? {
        guard data.count >= marker.count else { return nil }
        var i = 0
        while i + marker.count <= data.count {
            if (i == 0 || data[i - 1] == 0x0A) && Array(data[i..<i + marker.count]) == marker {
                return i..<(i + marker.count)
            }
            // Skip to the next line start.
            while i < data.count && data[i] != 0x0A { i += 1 }
            i += 1
        }
        return nil
    }

    static func fileType(_ raw: UInt32) -> RemoteStat.FileType {
        switch raw & 0o170000 {
        case 0o100000: return .file
        case 0o040000: return .directory
        case 0o120000: return .link
        case 0o010000: return .fifo
        case 0o140000: return .socket
        case 0o020000: return .char
        case 0o060000: return .block
        default: return .file
        }
    }
}

/// Shared pieces of the file-writing modules (copy, template, file).
enum FileSupport {
    /// The owner/group/mode a file should end up with, and whether that differs from now.
    struct Attributes {
        var mode: UInt32?
        var owner: String?
        var group: String?
    }

    /// Resolves `mode`/`owner`/`group` arguments against the current state (or the defaults a new
    /// file or directory gets), failing for unknown users and groups as Ansible does.
    static func desired(
        _ args: ModuleArguments, modeKey: String = "mode", current: RemoteStat?, isDirectory: Bool,
        probe: RemoteProbe.Result, preservedMode: UInt32? = nil, context: ModuleContext
    ) throws -> Attributes {
        var result = Attributes()
        if let mode = FileMode(args[modeKey]) {
            let base: UInt32
            if let current, current.exists {
                base = current.mode
            } else {
                base = (isDirectory ? 0o777 : 0o666) & ~probe.identity.umask
            }
            do {
                result.mode = try mode.resolve(
                    current: base, isDirectory: isDirectory, umask: probe.identity.umask, preserved: preservedMode)
            } catch {
                throw PGHAError(
                    .semantic, "mode must be in octal or symbolic form", at: context.taskLocation, host: context.host)
            }
        }
        if let owner = args.string("owner") {
            guard probe.userIDs[owner] != nil || Int(owner) != nil else {
                throw PGHAError(
                    .execution, "chown failed: failed to look up user \(owner)", at: context.taskLocation,
                    host: context.host)
            }
            result.owner = owner
        }
        if let group = args.string("group") {
            guard probe.groupIDs[group] != nil || Int(group) != nil else {
                throw PGHAError(
                    .execution, "chgrp failed: failed to look up group \(group)", at: context.taskLocation,
                    host: context.host)
            }
            result.group = group
        }
        return result
    }

    static func uid(_ name: String, _ probe: RemoteProbe.Result) -> Int { probe.userIDs[name] ?? Int(name) ?? -1 }
    static func gid(_ name: String, _ probe: RemoteProbe.Result) -> Int { probe.groupIDs[name] ?? Int(name) ?? -1 }

    /// Whether applying `wanted` to a file that is `current` changes anything.
    static func differs(_ wanted: Attributes, from current: RemoteStat, probe: RemoteProbe.Result) -> Bool {
        if let mode = wanted.mode, mode != current.mode { return true }
        if let owner = wanted.owner, uid(owner, probe) != current.uid { return true }
        if let group = wanted.group, gid(group, probe) != current.gid { return true }
        return false
    }

    /// Shell commands that set the attributes on `path` (chown first: it clears setuid bits).
    static func commands(
        _ wanted: Attributes, path: String, noDereference: Bool = false, recursive: Bool = false
    )
        -> [String]
    {
        var commands: [String] = []
        let flags = (recursive ? "-R " : "") + (noDereference ? "-h " : "")
        if wanted.owner != nil || wanted.group != nil {
            let spec = (wanted.owner ?? "") + (wanted.group.map { ":" + $0 } ?? "")
            commands.append("chown \(flags)-- \(shellQuote(spec)) \(shellQuote(path))")
        }
        if let mode = wanted.mode, !noDereference {
            commands.append("chmod \(recursive ? "-R " : "")\(String(mode, radix: 8)) -- \(shellQuote(path))")
        }
        return commands
    }

    /// The stat after applying `wanted` (predicted, so no second round trip is needed).
    static func predicted(_ stat: RemoteStat, applying wanted: Attributes, probe: RemoteProbe.Result) -> RemoteStat {
        var s = stat
        if let mode = wanted.mode { s.mode = mode }
        if let owner = wanted.owner {
            s.uid = uid(owner, probe)
            s.owner = owner
        }
        if let group = wanted.group {
            s.gid = gid(group, probe)
            s.group = group
        }
        return s
    }

    /// Result keys Ansible's file-writing modules return for an existing path.
    static func statValues(_ s: RemoteStat, pathKey: String) -> OrderedDictionary<String, Value> {
        [
            pathKey: .string(s.path), "uid": .int(s.uid), "gid": .int(s.gid), "owner": .string(s.owner),
            "group": .string(s.group), "mode": .string(FileMode.format(s.mode)), "state": .string(s.ansibleState),
            "size": .int(s.size),
        ]
    }

    /// Ansible's text check for diffs: no NUL byte and valid UTF-8.
    static func diffText(_ bytes: [UInt8]) -> String? {
        if bytes.contains(0) { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    static func runChecked(_ script: String, context: ModuleContext, what: String) async throws -> CommandResult {
        let result = try await context.connection.run(
            CommandRequest(script, environment: context.environment, become: context.become, subshellAllowed: true))
        guard result.succeeded else {
            throw ModuleFailure(
                message: "\(what): \(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))",
                values: ["rc": .int(Int(result.exitStatus))])
        }
        return result
    }
}

/// A module-level failure that becomes `failed: true` with this message (not a thrown engine error).
struct ModuleFailure: Error {
    var message: String
    var values: OrderedDictionary<String, Value> = [:]

    var result: ModuleResult { .failure(message, values: values) }
}
