import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.unarchive`: unpacks a zip or tar archive (gz, bz2, xz, zstd) from the
/// controller (sent to a temporary file first) or from the host (`remote_src`, a path or a URL) into
/// an existing directory. Whether it is already unpacked is decided as Ansible's handlers decide:
/// GNU tar's `--diff` for tar archives, the zipinfo listing against each file (type, mtime, size,
/// CRC32, mode, owner) for zip archives. As Ansible, tar archives are skipped under --check.
public enum UnarchiveModule: Module {
    public static let declaration = ActionDeclaration(
        name: "unarchive", qualifiedNames: ["ansible.builtin.unarchive", "ansible.legacy.unarchive"],
        supportsCheckMode: true,
        arguments: ArgumentSpec(
            [
                .init("src", .path, required: true),
                .init("dest", .path, required: true),
                .init("remote_src", .bool, default: false),
                .init("creates", .path),
                .init("list_files", .bool, default: false),
                .init("keep_newer", .bool, default: false),
                .init("exclude", .list, default: []),
                .init("include", .list, default: []),
                .init("extra_opts", .list, default: []),
                .init("validate_certs", .bool, default: true),
                .init("io_buffer_size", .int, default: 65536),
                .init("copy", .bool),
                .init("decrypt", .bool, default: true),
                .init("mode", .mode),
                .init("owner", .string),
                .init("group", .string),
            ],
            mutuallyExclusive: [["include", "exclude"], ["copy", "remote_src"]]),
        documentation: ActionDocumentation(
            "Unpacks an archive after (optionally) copying it from the local machine",
            details: [
                "Needs unzip/zipinfo for zip archives and GNU tar for tar archives on the host, as Ansible's "
                    + "module does. A URL src with remote_src is downloaded on the host with curl or wget."
            ],
            examples: """
                - name: A release from the role's files/ directory
                  ansible.builtin.unarchive:
                    src: app-1.2.tar.gz
                    dest: /opt/app
                    owner: app
                    group: app

                - name: An archive already on the host
                  ansible.builtin.unarchive:
                    src: /tmp/exporter.zip
                    dest: /usr/local/bin
                    remote_src: true
                    creates: /usr/local/bin/exporter
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        var source = try args.requiredString("src")
        let dest = try args.requiredString("dest")
        let remoteSource = try args.bool("copy").map { !$0 } ?? args.requiredBool("remote_src")
        if let creates = args.string("creates") {
            let exists = try await HostScript.run(context, "test -e \(shellQuote(creates))")
            if exists.succeeded { return ModuleResult(skipped: true, msg: "skipped, since \(creates) exists") }
        }
        var local: String?
        if !remoteSource {
            if source.contains("://") {
                return .failure("Unsupported option, an URI src (\(source)) is only supported when remote_src is True")
            }
            guard let found = context.resolveLocalPath((source as NSString).expandingTildeInPath, "files") else {
                return .failure("Could not find or access '\(source)' on the Ansible Controller.")
            }
            local = found
        }
        let destStat = try await HostScript.run(context, "test -d \(shellQuote(dest))")
        guard destStat.succeeded else { return .failure("dest '\(dest)' must be an existing dir") }
        var temporary: String?
        if let local {
            let data = try context.readLocalFile(local, args.bool("decrypt") ?? true)
            let made = try await HostScript.run(context, "mktemp -d /tmp/.pgha-unarchive.XXXXXX")
            guard made.succeeded else { return .failure("could not make a temporary directory: \(made.stderrText)") }
            let directory = made.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            temporary = directory
            source = directory + "/source"
            try await context.connection.put(data, to: source, attributes: FileAttributes(mode: 0o600), become: context.become)
        }
        func removeTemporary() async {
            if let temporary { _ = try? await HostScript.run(context, "rm -rf -- \(shellQuote(temporary))") }
        }
        let result: ModuleResult
        do {
            result = try await unpack(source: source, dest: dest, remote: remoteSource, args: args, context: context)
        } catch {
            await removeTemporary()
            throw error
        }
        await removeTemporary()
        return result
    }

    static func unpack(source: String, dest: String, remote: Bool, args: ModuleArguments, context: ModuleContext) async throws
        -> ModuleResult
    {
        let excludes = args.stringItems("exclude") ?? []
        let includes = args.stringItems("include") ?? []
        let options = args.stringItems("extra_opts") ?? []
        let owner = args.string("owner")
        let group = args.string("group")
        let keepNewer = args.bool("keep_newer") == true
        // One script: fetch a URL, pick the handler, and describe the archive and what is on disk.
        let script = """
            src=\(shellQuote(source)); dest=\(shellQuote(dest))
            case "$src" in
              *://*)
                f=$(mktemp /tmp/.pgha-unarchive-url.XXXXXX)
                if command -v curl >/dev/null; then curl -fsSL \(args.bool("validate_certs") == false ? "-k " : "")-o "$f" "$src" || { echo "@fail=Failure downloading $src"; exit 1; }
                elif command -v wget >/dev/null; then wget -q \(args.bool("validate_certs") == false ? "--no-check-certificate " : "")-O "$f" "$src" || { echo "@fail=Failure downloading $src"; exit 1; }
                else echo "@fail=Failure downloading $src: neither curl nor wget is installed"; exit 1; fi
                src="$f" ;;
            esac
            [ -e "$src" ] || { echo "@fail=Source '$src' does not exist"; exit 1; }
            [ -r "$src" ] || { echo "@fail=Source '$src' not readable"; exit 1; }
            [ -s "$src" ] || { echo "@fail=Invalid archive '$src', the file is 0 bytes"; exit 1; }
            echo "@src=$(realpath "$src")"
            echo "@uid=$(id -u)"; echo "@user=$(id -un)"; echo "@group=$(id -gn)"; echo "@umask=$(umask)"
            if command -v unzip >/dev/null && command -v zipinfo >/dev/null && unzip -l "$src" >/dev/null 2>&1; then
              echo "@handler=ZipArchive"
              echo "@@names"; zipinfo -1 "$src" 2>/dev/null
              echo "@@info"; zipinfo -T -s "$src" \(excludes.isEmpty ? "" : "-x " + excludes.map(shellQuote).joined(separator: " ")) \(includes.map(shellQuote).joined(separator: " ")) 2>/dev/null; echo "@rc=$?"
              echo "@@times"
              zipinfo -T -s "$src" 2>/dev/null | awk 'NF >= 8 { print $7 }' | sort -u | while read -r t; do
                d=$(printf '%s' "$t" | sed -E 's/^(....)(..)(..)\\.(..)(..)(..)$/\\1-\\2-\\3 \\4:\\5:\\6/')
                printf '%s %s\n' "$t" "$(date -d "$d" +%s 2>/dev/null)"
              done
              echo "@@crc"; unzip -v "$src" 2>/dev/null
              echo "@@disk"
              zipinfo -1 "$src" 2>/dev/null | while IFS= read -r p; do
                t="$dest/${p%/}"
                if [ -L "$t" ] || [ -e "$t" ]; then
                  s=$(stat -c '%F|%a|%u|%U|%G|%Y|%s' "$t")
                  c=""; [ -f "$t" ] && [ ! -L "$t" ] && c=$(gzip -c < "$t" | tail -c 8 | od -An -tu4 -N4 | tr -d ' ')
                  printf '%s|%s|%s\\n' "$p" "$s" "$c"
                fi
              done
            else
              tar --version 2>/dev/null | head -n 1 | grep -q GNU || { echo "@fail=Failed to find handler for \\"$src\\". Make sure the required command to extract the file is installed."; exit 1; }
              for flag in -z "" -j -J --use-compress-program=zstd; do
                if tar -t $flag -f "$src" >/dev/null 2>&1; then echo "@handler=$flag"; break; fi
              done
            fi
            """
        let probe = try await HostScript.run(context, script)
        var report: [String: String] = [:]
        var sections: [String: [String]] = [:]
        var current: String?
        for line in probe.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("@@") { current = String(line.dropFirst(2)); sections[current!] = []; continue }
            if line.hasPrefix("@"), let eq = line.firstIndex(of: "="), !line.dropFirst().hasPrefix("@") {
                report[String(line[line.index(after: line.startIndex)..<eq])] = String(line[line.index(after: eq)...])
                if line.hasPrefix("@rc=") { current = nil }
                continue
            }
            if let current { sections[current, default: []].append(line) }
        }
        if let message = report["fail"] { return .failure(message) }
        guard probe.succeeded, let handler = report["handler"] else {
            return .failure("Failed to find handler for \"\(source)\". Make sure the required command to extract the file is installed.")
        }
        let realSource = report["src"] ?? source
        var values: OrderedDictionary<String, Value> = [:]
        let tarFlags: [String: (String, String)] = [
            "-z": ("TgzArchive", "-z"), "": ("TarArchive", ""), "-j": ("TarBzipArchive", "-j"), "-J": ("TarXzArchive", "-J"),
            "--use-compress-program=zstd": ("TarZstdArchive", "--use-compress-program=zstd"),
        ]
        if handler == "ZipArchive" {
            values["handler"] = "ZipArchive"
        } else {
            guard let (name, _) = tarFlags[handler] else { return .failure("Failed to find handler for \"\(source)\".") }
            values["handler"] = .string(name)
            if context.checkMode {
                return ModuleResult(skipped: true, msg: "remote module (unarchive) does not support check mode when using gtar")
            }
        }
        values["dest"] = .string(dest)
        values["src"] = .string(realSource)

        var files: [String]
        var unarchived: Bool
        var extract: [String]
        if handler == "ZipArchive" {
            files = (sections["names"] ?? []).filter { !$0.isEmpty }.filter { name in
                includes.isEmpty ? !excludes.contains { fnmatch($0, name, 0) == 0 } : includes.contains { fnmatch($0, name, 0) == 0 }
            }
            unarchived = report["rc"] == "0"
                && zipUnarchived(
                    info: sections["info"] ?? [], times: zipTimes(sections["times"] ?? []), crcs: zipCRCs(sections["crc"] ?? []),
                    disk: sections["disk"] ?? [],
                    report: report, excludes: excludes, owner: owner, group: group, mode: args["mode"], keepNewer: keepNewer)
            extract = ["unzip", "-o"] + options + [realSource] + (excludes.isEmpty ? [] : ["-x"] + excludes) + includes + ["-d", dest]
        } else {
            let flag = tarFlags[handler]?.1 ?? ""
            var common = ["-C", dest] + (flag.isEmpty ? [] : [flag])
            if !options.isEmpty { common += ["--show-transformed-names"] + options }
            if let owner { common.append("--owner=" + shellQuote(owner)) }
            if let group { common.append("--group=" + shellQuote(group)) }
            if keepNewer { common.append("--keep-newer-files") }
            common += excludes.map { "--exclude=" + ($0.hasSuffix("/") ? String($0.dropLast()) : $0) }
            let listing = try await HostScript.run(
                context,
                (["tar", "--list", "-C", dest] + (flag.isEmpty ? [] : [flag]) + (options.isEmpty ? [] : ["--show-transformed-names"] + options)
                    + excludes.map { "--exclude=" + $0 } + ["-f", realSource] + includes).map(shellQuote).joined(separator: " ")
                    + " && echo \(HostScript.marker) && cd \(shellQuote(dest)) && "
                    + (["tar", "--diff"] + common + ["-f", realSource] + includes).map(shellQuote).joined(separator: " ") + " 2>&1; true",
                environment: [("LANG", "C.UTF-8"), ("LC_ALL", "C.UTF-8"), ("LC_MESSAGES", "C.UTF-8"), ("LANGUAGE", "C.UTF-8")])
            let parts = HostScript.split(listing.stdoutText, count: 2)
            files = parts[0].split(separator: "\n").map(String.init).filter { !$0.isEmpty }
            guard !files.isEmpty else {
                return .failure("Failed to find handler for \"\(realSource)\". Empty archive files are not supported.")
            }
            unarchived = tarUnarchived(parts[1], isRoot: report["uid"] == "0", owner: owner, group: group, modeGiven: args["mode"] != nil)
            extract = ["tar", "--extract"] + common + ["-f", realSource] + includes
        }
        var changed = false
        if context.checkMode {
            changed = !unarchived
        } else if !unarchived {
            let result = try await HostScript.run(
                context, "cd \(shellQuote(dest)) && " + extract.map(shellQuote).joined(separator: " "),
                environment: [("LANG", "C.UTF-8"), ("LC_ALL", "C.UTF-8"), ("LC_MESSAGES", "C.UTF-8"), ("LANGUAGE", "C.UTF-8")])
            values["extract_results"] = [
                "cmd": .list(extract.map(Value.string)), "rc": .int(Int(result.exitStatus)), "out": .string(result.stdoutText),
                "err": .string(result.stderrText),
            ]
            guard result.succeeded else { return .failure("failed to unpack \(realSource) to \(dest)", values: values) }
            changed = true
        }
        if !context.checkMode && (owner != nil || group != nil || args["mode"] != nil) {
            // set_fs_attributes_if_different on every member and each top folder.
            var paths = files
            for file in files where file.contains("/") {
                let top = String(file.split(separator: "/")[0])
                if !paths.contains(top) { paths.append(top) }
            }
            changed = try await applyAttributes(paths, dest: dest, args: args, context: context) || changed
        }
        if args.bool("list_files") == true { values["files"] = .list(files.map(Value.string)) }
        return ModuleResult(changed: changed, values: values)
    }

    /// TgzArchive.is_unarchived: `tar --diff` lines that matter (ownership only as root and when not
    /// set by the task, mode only when not set).
    static func tarUnarchived(_ output: String, isRoot: Bool, owner: String?, group: String?, modeGiven: Bool) -> Bool {
        for line in output.split(separator: "\n") {
            if line.hasSuffix(": : Warning: Cannot stat: No such file or directory") { continue }
            if isRoot && owner == nil && line.hasSuffix(": Uid differs") { return false }
            if isRoot && group == nil && line.hasSuffix(": Gid differs") { return false }
            if !modeGiven && line.hasSuffix(": Mode differs") { return false }
            if line.hasSuffix(": Mod time differs") || line.hasSuffix(": Warning: Cannot stat: No such file or directory")
                || line.contains(": Invalid owner") || line.contains(": Invalid group") || line.hasSuffix(": Symlink differs")
            {
                return false
            }
        }
        return true
    }

    /// ZipArchive.is_unarchived: each listed member against the file on disk.
    static func zipUnarchived(
        info: [String], times: [String: Double], crcs: [String: UInt32], disk: [String], report: [String: String], excludes: [String], owner: String?,
        group: String?, mode: Value?, keepNewer: Bool
    ) -> Bool {
        var onDisk: [String: [String]] = [:]
        for line in disk {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            // The path may itself contain '|': the last eight fields are the stat and the CRC.
            guard fields.count >= 9 else { continue }
            onDisk[fields.dropLast(8).joined(separator: "|")] = Array(fields.suffix(8))
        }
        let umask = Int(report["umask"] ?? "", radix: 8) ?? 0o022
        let isRoot = report["uid"] == "0"
        for line in info {
            let pieces = line.split(separator: " ", maxSplits: 7, omittingEmptySubsequences: true).map(String.init)
            guard pieces.count == 8, [7, 8, 10].contains(pieces[0].count), pieces[6].count == 15,
                let kind = pieces[0].first, "dl-?".contains(kind),
                Set(pieces[0].dropFirst()).isSubset(of: Set("rwxstah-")), let size = Int(pieces[3])
            else { continue }
            var permissions = String(pieces[0].dropFirst())
            let path = pieces[7]
            if excludes.contains(path) { continue }
            let type: Character = path.hasSuffix("/") ? "d" : kind == "l" ? "L" : "f"
            var fileUmask = 0
            if permissions.count == 6 {
                permissions = path.hasSuffix("/") || permissions == "rwx---" ? "rwxrwxrwx" : "rw-rw-rw-"
                fileUmask = umask
            } else if permissions.count == 7 {
                permissions = permissions == "rwxa---" ? "rwxrwxrwx" : "rw-rw-rw-"
                fileUmask = umask
            }
            guard let stat = onDisk[path] else { return false }
            // %F|%a|%u|%U|%G|%Y|%s|crc
            let fileType = stat[0]
            if type == "d" && fileType != "directory" { return false }
            if type == "f" && !fileType.hasPrefix("regular") { return false }
            if type == "L" && fileType != "symbolic link" { return false }
            if fileType.hasPrefix("regular") {
                let archived = times[pieces[6]] ?? 315_532_800
                let modified = Double(stat[5]) ?? -1
                if keepNewer {
                    if archived > modified { return false }
                } else if archived != modified {
                    return false
                }
                if size != Int(stat[6]) { return false }
                if let crc = UInt32(stat[7]), let archived = crcs[path], crc != archived { return false }
            }
            if type != "L" {
                let wanted: Int
                if case .absolute(let explicit)? = FileMode(mode) {
                    wanted = Int(explicit)
                } else if mode != nil {
                    wanted = Int(stat[1], radix: 8) ?? 0
                } else {
                    wanted = permissionBits(permissions) & ~(kind == "?" ? 0 : fileUmask)
                }
                if wanted != Int(stat[1], radix: 8) { return false }
            }
            if isRoot {
                if stat[3] != (owner ?? report["user"] ?? "root") && stat[2] != owner { return false }
                if stat[4] != (group ?? report["group"] ?? "root") { return false }
            }
        }
        return true
    }

    /// zipinfo -T gives the members' times as `YYYYMMDD.HHMMSS` in no zone; the module reads them as
    /// the host's local time (time.mktime), so the probe has the host convert them.
    static func zipTimes(_ lines: [String]) -> [String: Double] {
        var times: [String: Double] = [:]
        for line in lines {
            let words = line.split(separator: " ")
            if words.count == 2, let epoch = Double(words[1]) { times[String(words[0])] = epoch }
        }
        return times
    }

    /// Each member's CRC-32 from `unzip -v` (its listing between the header and the totals).
    static func zipCRCs(_ lines: [String]) -> [String: UInt32] {
        var crcs: [String: UInt32] = [:]
        for line in lines.dropFirst(3).dropLast(2) {
            let fields = line.split(separator: " ", maxSplits: 7, omittingEmptySubsequences: true)
            if fields.count == 8, let crc = UInt32(fields[6], radix: 16) { crcs[String(fields[7])] = crc }
        }
        return crcs
    }

    static func permissionBits(_ text: String) -> Int {
        var mode = 0
        for (index, character) in text.reversed().enumerated() where "rwxst".contains(character) { mode += 1 << index }
        return mode
    }

    /// chown/chmod on the members and top folders, reporting whether anything changed.
    static func applyAttributes(_ paths: [String], dest: String, args: ModuleArguments, context: ModuleContext) async throws -> Bool {
        var commands: [String] = []
        let list = paths.map { shellQuote((dest as NSString).appendingPathComponent($0)) }.joined(separator: " ")
        if let owner = args.string("owner") { commands.append("chown -h \(shellQuote(owner)) -- \(list)") }
        if let group = args.string("group") { commands.append("chgrp -h \(shellQuote(group)) -- \(list)") }
        if let mode = args["mode"] {
            var text = mode.pythonString ?? ""
            if case .absolute(let bits)? = FileMode(mode) { text = String(bits, radix: 8) }
            // chmod follows links; the links themselves keep their mode, as os.lchmod cannot change it.
            commands.append("for p in \(list); do [ -L \"$p\" ] || chmod \(shellQuote(text)) -- \"$p\"; done")
        }
        let snapshot = "stat -c '%n %a %U %G' -- \(list) 2>/dev/null"
        let result = try await HostScript.run(
            context, "\(snapshot); echo \(HostScript.marker); \(commands.joined(separator: " && ")) && \(snapshot)")
        let parts = HostScript.split(result.stdoutText, count: 2)
        return parts[0] != parts[1]
    }
}
