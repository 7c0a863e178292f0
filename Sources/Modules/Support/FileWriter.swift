import Foundation
import OrderedCollections
import PGHACore
import Transport

/// Puts bytes at a destination the way Ansible's copy module does; `copy` and `template` share it.
///
/// Round trips: one probe (stat, checksum, identity, old content for --diff), which also writes
/// content up to 32 KiB that differs when nothing else needs deciding first (`speculativeWrite`);
/// then nothing when the file is already right or was written, one command when only
/// owner/group/mode differ, one `put` when larger content differs (plus one command for backup=
/// or a missing dest directory, and one for validate=).
enum FileWriter {
    struct Request {
        var data: [UInt8]
        var dest: String
        /// The source's file name: a directory `dest` receives `dest/<name>`; nil for `content:`.
        var sourceName: String?
        /// Header for the "after" side of the diff.
        var afterHeader: String
        var preservedMode: UInt32?
        /// `remote_src: true`: copy this file on the host itself; `data` is unused.
        var remoteSource: String? = nil
    }

    static func write(_ request: Request, args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        do {
            return try await writeUnchecked(request, args: args, context: context)
        } catch let error as PGHAError where error.kind == .io {
            // A refused write (permissions, full disk) is the task's failure, not the engine's.
            return .failure(error.message, values: ["dest": .string(request.dest)])
        }
    }

    private static func writeUnchecked(
        _ request: Request, args: ModuleArguments, context: ModuleContext
    )
        async throws -> ModuleResult
    {
        var checksum = request.remoteSource == nil ? Digest.sha1(request.data) : ""
        let force = args.bool("force") ?? true
        let follow = args.bool("follow") ?? false
        var probe = RemoteProbe()
        probe.targets = [
            RemoteProbe.Target(
                path: request.dest, intoDirectoryAs: request.sourceName, follow: follow, checksumAlgorithm: "sha1",
                contentLimit: context.diffMode && request.remoteSource == nil ? RemoteProbe.maxDiffSize : nil,
                unlessChecksum: checksum)
        ]
        if request.remoteSource == nil, !request.data.contains(0),
            let text = String(validating: request.data, as: UTF8.self)
        {
            // A small file with the same bytes is recognised by the shell, without a checksum program.
            probe.targets[0].expected = (text, checksum)
        }
        if let remote = request.remoteSource {
            probe.targets.append(RemoteProbe.Target(path: remote, follow: true, checksumAlgorithm: "sha1"))
        }
        if let owner = args.string("owner") { probe.users = [owner] }
        if let group = args.string("group") { probe.groups = [group] }
        probe.speculation = speculativeWrite(request, checksum: checksum, args: args, context: context)
        let state = try await probe.run(context)
        var current = state.stats[0]
        let dest = current.path
        var size = request.data.count
        var preservedMode = request.preservedMode
        if let remote = request.remoteSource {
            let source = state.stats[1]
            guard source.exists else { return .failure("Source \(remote) not found") }
            if source.type == .directory {
                return .failure("copying a directory with remote_src is not supported: \(remote)")
            }
            guard let sum = source.checksum else { return .failure("Source \(remote) not readable") }
            checksum = sum
            size = source.size
            preservedMode = source.mode
        }
        let endsWithSlash = request.dest.hasSuffix("/")

        if current.type == .directory {
            return .failure(
                request.sourceName == nil
                    ? "can not use content with a dir as dest" : "dest \(dest) is a directory and cannot be replaced",
                values: ["dest": .string(dest)])
        }
        if !current.exists && !current.parentExists && !endsWithSlash {
            // Under --check the directory may be one an earlier task would have created: Ansible's
            // action compares with the missing file and predicts a change without asking the host.
            if context.checkMode { return ModuleResult(changed: true, values: ["dest": .string(dest)]) }
            return .failure(
                "Destination directory \((dest as NSString).deletingLastPathComponent) does not exist",
                values: ["dest": .string(dest)])
        }
        if current.exists && !force {
            var values = FileSupport.statValues(current, pathKey: "dest")
            values["checksum"] = current.checksum.map(Value.string) ?? .null
            return ModuleResult(changed: false, values: values)
        }

        let wanted: FileSupport.Attributes
        do {
            wanted = try FileSupport.desired(
                args, current: current, isDirectory: false, probe: state, preservedMode: preservedMode,
                context: context)
        } catch let error as PGHAError where error.kind == .execution {
            return .failure(error.message, values: ["dest": .string(dest)])
        }
        // A link to a file with the right content is left alone, as Ansible compares through links.
        let isFileOrLinkToFile = current.type == .file || (current.type == .link && current.linkTargetType == .file)
        let contentChanged = current.checksum != checksum || !isFileOrLinkToFile
        let attributesChanged = current.exists && FileSupport.differs(wanted, from: current, probe: state)
        var values: OrderedDictionary<String, Value> = ["dest": .string(dest)]
        var diffs: [FileDiff] = []

        if contentChanged && context.diffMode && request.remoteSource == nil {
            let before: String? = current.exists ? current.content.flatMap(FileSupport.diffText) : ""
            if let before, let after = FileSupport.diffText(request.data) {
                // Ansible names the old side only when there was a file to read.
                diffs.append(
                    FileDiff(
                        before: before, after: after, beforeHeader: current.exists ? dest : "",
                        afterHeader: request.afterHeader))
            }
        }

        if state.acted && !(contentChanged && (current.type == .file || !current.exists)) {
            // The probe's write and this decision disagree: a defect, reported rather than hidden.
            return .failure("internal error: the probe wrote \(dest) although the content was up to date")
        }

        // What the file will look like afterwards, predicted from the probe.
        var final = current
        if !current.exists {
            final = RemoteStat(path: dest, type: .file)
            final.mode = 0o666 & ~state.identity.umask
            final.uid = state.identity.uid
            final.gid = state.identity.gid
            final.owner = state.identity.user
            final.group = state.identity.group
            final.nlink = 1
        }
        final.type = .file
        final.size = size
        final = FileSupport.predicted(final, applying: wanted, probe: state)

        if !context.checkMode {
            if contentChanged, let remote = request.remoteSource {
                let attributes = FileAttributes(
                    mode: wanted.mode ?? (current.exists ? current.mode : final.mode),
                    owner: wanted.owner ?? (current.exists ? String(current.uid) : nil),
                    group: wanted.group ?? (current.exists ? String(current.gid) : nil))
                let backup = (args.bool("backup") ?? false) && current.exists ? backupName(dest) : nil
                if let backup { values["backup_file"] = .string(backup) }
                let script = remoteCopyScript(
                    from: remote, to: dest, attributes: attributes,
                    createParent: endsWithSlash && !current.parentExists,
                    backup: backup, validate: args.string("validate"))
                let result = try await context.connection.run(
                    CommandRequest(script, environment: context.environment, become: context.become))
                if result.exitStatus == 97 {
                    return .failure(
                        "failed to validate",
                        values: ["stdout": .string(result.stdoutText), "stderr": .string(result.stderrText)])
                }
                if !result.succeeded {
                    return .failure(
                        "copying \(remote) to \(dest) failed: "
                            + result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
                }
            } else if contentChanged {
                var prepare: [String] = []
                if endsWithSlash && !current.parentExists {
                    let dirname = (dest as NSString).deletingLastPathComponent
                    prepare.append("mkdir -p -- \(shellQuote(dirname))")
                    if let dirMode = FileMode(args["directory_mode"]),
                        case .absolute(let m) = dirMode
                    {
                        prepare.append("chmod \(String(m, radix: 8)) -- \(shellQuote(dirname))")
                    }
                }
                if args.bool("backup") ?? false, current.exists {
                    let backup = backupName(dest)
                    prepare.append("cp -p -- \(shellQuote(dest)) \(shellQuote(backup))")
                    values["backup_file"] = .string(backup)
                }
                if !prepare.isEmpty {
                    do {
                        _ = try await FileSupport.runChecked(
                            prepare.joined(separator: " && "), context: context, what: "preparing \(dest) failed")
                    } catch let failure as ModuleFailure {
                        return failure.result
                    }
                }
                // Keep the existing owner/group/mode unless the task says otherwise, as atomic_move does.
                let attributes = FileAttributes(
                    mode: wanted.mode ?? (current.exists ? current.mode : final.mode),
                    owner: wanted.owner ?? (current.exists ? String(current.uid) : nil),
                    group: wanted.group ?? (current.exists ? String(current.gid) : nil))
                if let validate = args.string("validate") {
                    guard validate.contains("%s") else {
                        return .failure("validate must contain %s: \(validate)")
                    }
                    let temp =
                        (dest as NSString).deletingLastPathComponent
                        + "/.\((dest as NSString).lastPathComponent).pgha-validate-\(UUID().uuidString.prefix(8))"
                    try await context.connection.put(
                        request.data, to: temp, attributes: attributes, become: context.become)
                    let check = validate.replacingOccurrences(of: "%s", with: shellQuote(temp))
                    let script =
                        "\(check)\nrc=$?\nif [ $rc -ne 0 ]; then rm -f -- \(shellQuote(temp)); exit $rc; fi\nmv -f -- \(shellQuote(temp)) \(shellQuote(dest))\n"
                    let result = try await context.connection.run(
                        CommandRequest(script, environment: context.environment, become: context.become))
                    if !result.succeeded {
                        return .failure(
                            "failed to validate",
                            values: [
                                "exit_status": .int(Int(result.exitStatus)), "stdout": .string(result.stdoutText),
                                "stderr": .string(result.stderrText),
                            ])
                    }
                } else if !state.acted {
                    try await context.connection.put(
                        request.data, to: dest, attributes: attributes, become: context.become)
                }
            } else if attributesChanged {
                let commands = FileSupport.commands(wanted, path: dest)
                do {
                    _ = try await FileSupport.runChecked(
                        commands.joined(separator: " && "), context: context, what: "setting attributes failed")
                } catch let failure as ModuleFailure {
                    return failure.result
                }
            }
        }
        current = final
        values.merge(FileSupport.statValues(final, pathKey: "dest"), uniquingKeysWith: { _, new in new })
        values["checksum"] = .string(checksum)
        if contentChanged && request.remoteSource == nil {
            values["md5sum"] = .string(Digest.md5(request.data))
        }
        if !contentChanged && !attributesChanged {
            // Ansible answers an unchanged copy with the file module's result, which says `path`.
            values["path"] = .string(dest)
        }
        return ModuleResult(changed: contentChanged || attributesChanged, values: values, diffs: diffs)
    }

    /// Contents up to this size travel inside the probe's script, so a file that differs is written
    /// in the same round trip as the probe (the script passes through `/bin/sh -c`'s argument, at
    /// most 128 KiB, when no kept shell runs it).
    static let inlineWriteLimit = 32 << 10

    /// The write the probe makes itself when the file turns out to differ: for a plain write (no
    /// check mode, validate, backup, remote source or directory creation) of text content, to a
    /// regular file or a new one in an existing directory, with an absolute mode or none. It does
    /// what `put` would: a temporary file beside the destination, the mode (the old file's when
    /// none is asked for), the old owner and group, then the asked ones, then a rename.
    static func speculativeWrite(
        _ request: Request, checksum: String, args: ModuleArguments, context: ModuleContext
    ) -> RemoteProbe.Speculation? {
        guard !context.checkMode, request.remoteSource == nil, !request.dest.hasSuffix("/"),
            args.bool("force") ?? true, args.string("validate") == nil, !(args.bool("backup") ?? false),
            request.data.count <= inlineWriteLimit, !request.data.contains(0),
            let text = String(validating: request.data, as: UTF8.self)
        else { return nil }
        var mode: String?
        if let requested = FileMode(args["mode"]) {
            guard case .absolute(let bits) = requested else { return nil }
            mode = String(bits, radix: 8)
        }
        var condition = [
            "[ \"$c\" != \(shellQuote(checksum)) ]", "dn \"$p0\"", "[ -d \"$d\" ]",
            "{ { [ -f \"$p0\" ] && [ ! -L \"$p0\" ]; } || { [ ! -e \"$p0\" ] && [ ! -L \"$p0\" ]; }; }",
        ]
        let owner = args.string("owner")
        let group = args.string("group")
        if let owner, Int(owner) == nil { condition.append("getent passwd -- \(shellQuote(owner)) >/dev/null") }
        if let group, Int(group) == nil { condition.append("getent group -- \(shellQuote(group)) >/dev/null") }
        var steps = [
            "t=\"$d/.${p0##*/}.pgha-\(randomSuffix())\"",
            "printf '%s' \(shellQuote(text)) > \"$t\"",
            mode.map { "chmod \($0) \"$t\"" } ?? "{ [ ! -e \"$p0\" ] || chmod --reference=\"$p0\" \"$t\"; }",
            "{ [ ! -e \"$p0\" ] || chown --reference=\"$p0\" \"$t\"; }",
        ]
        if owner != nil || group != nil {
            steps.append("chown \(shellQuote((owner ?? "") + (group.map { ":" + $0 } ?? ""))) \"$t\"")
        }
        steps.append("mv -f \"$t\" \"$p0\"")
        return RemoteProbe.Speculation(
            condition: condition.joined(separator: " && "),
            action: "\(steps.joined(separator: " && ")) || { rm -f \"$t\"; exit 1; }")
    }

    private static func randomSuffix() -> String {
        String((0..<6).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }

    /// One command for `remote_src`: copy to a temporary file beside `dest`, set its attributes,
    /// validate, back up the old file, then rename over it.
    static func remoteCopyScript(
        from source: String, to dest: String, attributes: FileAttributes, createParent: Bool, backup: String?,
        validate: String?
    ) -> String {
        let q = shellQuote(dest)
        let dir = shellQuote((dest as NSString).deletingLastPathComponent)
        var lines = ["set -e"]
        if createParent { lines.append("mkdir -p -- \(dir)") }
        lines.append("tmp=$(mktemp \(dir)/.pgha-tmp.XXXXXXXX)")
        lines.append("trap 'rm -f -- \"$tmp\"' EXIT")
        lines.append("cp -- \(shellQuote(source)) \"$tmp\"")
        if attributes.owner != nil || attributes.group != nil {
            let spec = (attributes.owner ?? "") + (attributes.group.map { ":" + $0 } ?? "")
            lines.append("chown -- \(shellQuote(spec)) \"$tmp\"")
        }
        if let mode = attributes.mode { lines.append("chmod \(String(mode, radix: 8)) -- \"$tmp\"") }
        if let validate {
            // 97 marks a validation failure apart from other errors.
            let check = validate.replacingOccurrences(of: "%s", with: "\"$tmp\"")
            lines.append("if ! ( \(check) ); then exit 97; fi")
        }
        if let backup { lines.append("cp -p -- \(q) \(shellQuote(backup))") }
        lines.append("sync -- \"$tmp\" 2>/dev/null || true")
        lines.append("mv -f -- \"$tmp\" \(q)")
        lines.append("trap - EXIT")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Ansible's backup name: `<path>.<pid>.<YYYY-MM-DD@HH:MM:SS>~`.
    static func backupName(_ path: String) -> String {
        var now = time_t(Date().timeIntervalSince1970)
        var parts = tm()
        localtime_r(&now, &parts)
        let stamp = String(
            format: "%04d-%02d-%02d@%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return "\(path).\(getpid()).\(stamp)~"
    }
}
