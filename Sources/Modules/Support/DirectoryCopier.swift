import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `copy` with a local directory as `src`: `src: dir` lands in `dest/dir`, `src: dir/` copies the
/// directory's contents into `dest`, as Ansible does.
///
/// Round trips: one probe for the whole tree (every directory and file, with checksums); one
/// command creating missing directories and fixing attributes; one `put` per file whose content
/// differs (plus one `get` per such file under --diff, for the old text).
enum DirectoryCopier {
    struct LocalTree {
        var directories: [String] = []
        var files: [(relative: String, data: [UInt8], localPath: String)] = []
    }

    /// The tree under `root`; `read` gives a file's bytes, nil when it cannot be read.
    static func readLocal(_ root: String, reading read: (String) throws -> [UInt8]?) throws -> LocalTree {
        var tree = LocalTree()
        guard let entries = ContentSource.descendants(of: root) else {
            throw ModuleFailure(message: "Could not read directory '\(root)' on the controller")
        }
        for (relative, isDirectory) in entries {
            let full = root + "/" + relative
            if isDirectory {
                tree.directories.append(relative)
            } else if let data = try read(full) {
                tree.files.append((relative, data, full))
            } else {
                throw ModuleFailure(message: "Could not read '\(full)' on the controller")
            }
        }
        return tree
    }

    static func copy(
        localRoot: String, srcArgument: String, dest: String, args: ModuleArguments, context: ModuleContext,
        decrypt: Bool = true
    )
        async throws -> ModuleResult
    {
        let tree = try readLocal(localRoot) { path in
            do {
                return try context.readLocalFile(path, decrypt)
            } catch let error as PGHAError where error.kind == .io {
                return nil
            }
        }
        var trimmedDest = dest
        while trimmedDest.count > 1 && trimmedDest.hasSuffix("/") { trimmedDest.removeLast() }
        let base =
            srcArgument.hasSuffix("/")
            ? trimmedDest : trimmedDest + "/" + (localRoot as NSString).lastPathComponent
        var probe = RemoteProbe()
        probe.targets.append(RemoteProbe.Target(path: base))
        for directory in tree.directories { probe.targets.append(RemoteProbe.Target(path: base + "/" + directory)) }
        for file in tree.files {
            probe.targets.append(RemoteProbe.Target(path: base + "/" + file.relative, checksumAlgorithm: "sha1"))
        }
        if let owner = args.string("owner") { probe.users = [owner] }
        if let group = args.string("group") { probe.groups = [group] }
        let state = try await probe.run(context)
        let resolvedBase = state.stats[0].path

        var commands: [String] = []
        let directoryMode = FileMode(args["directory_mode"])
        let directoryTargets = [""] + tree.directories
        for (offset, relative) in directoryTargets.enumerated() {
            let current = state.stats[offset]
            let path = relative.isEmpty ? resolvedBase : resolvedBase + "/" + relative
            if !current.exists {
                var create = "mkdir -p -- \(shellQuote(path))"
                if let mode = try? directoryMode?.resolve(
                    current: 0o777 & ~state.identity.umask, isDirectory: true, umask: state.identity.umask)
                {
                    create += " && chmod \(String(mode, radix: 8)) -- \(shellQuote(path))"
                }
                let ownership = FileSupport.commands(
                    FileSupport.Attributes(owner: args.string("owner"), group: args.string("group")), path: path)
                commands.append(([create] + ownership).joined(separator: " && "))
            } else if current.type != .directory {
                return .failure("Cannot copy a directory over \(path): it exists as a \(current.ansibleState)")
            }
        }

        var toPut: [(path: String, data: [UInt8], attributes: FileAttributes)] = []
        var diffs: [FileDiff] = []
        let force = args.bool("force") ?? true
        for (index, file) in tree.files.enumerated() {
            let current = state.stats[directoryTargets.count + index]
            let path = resolvedBase + "/" + file.relative
            if current.type == .directory {
                return .failure("Cannot copy \(file.localPath) over the directory \(path)")
            }
            if current.exists && !force { continue }
            let wanted: FileSupport.Attributes
            do {
                wanted = try FileSupport.desired(
                    args, current: current, isDirectory: false, probe: state, context: context)
            } catch let error as PGHAError where error.kind == .execution {
                return .failure(error.message, values: ["dest": .string(path)])
            }
            let checksum = Digest.sha1(file.data)
            if current.checksum != checksum || current.type != .file {
                let newMode = 0o666 & ~state.identity.umask
                toPut.append(
                    (
                        path, file.data,
                        FileAttributes(
                            mode: wanted.mode ?? (current.exists ? current.mode : newMode),
                            owner: wanted.owner ?? (current.exists ? String(current.uid) : nil),
                            group: wanted.group ?? (current.exists ? String(current.gid) : nil))
                    ))
                if context.diffMode, let after = FileSupport.diffText(file.data) {
                    var before: String? = ""
                    if current.exists {
                        before =
                            current.size <= RemoteProbe.maxDiffSize
                            ? FileSupport.diffText(try await context.connection.get(path, become: context.become)) : nil
                    }
                    if let before {
                        diffs.append(
                            FileDiff(
                                before: before, after: after, beforeHeader: current.exists ? path : "",
                                afterHeader: file.localPath))
                    }
                }
            } else if FileSupport.differs(wanted, from: current, probe: state) {
                commands += FileSupport.commands(wanted, path: path)
            }
        }

        let changed = !commands.isEmpty || !toPut.isEmpty
        if changed && !context.checkMode {
            if !commands.isEmpty {
                _ = try await FileSupport.runChecked(
                    "set -e\n" + commands.joined(separator: "\n"), context: context,
                    what: "copying into \(resolvedBase) failed")
            }
            for item in toPut {
                do {
                    try await context.connection.put(
                        item.data, to: item.path, attributes: item.attributes, become: context.become)
                } catch let error as PGHAError where error.kind == .io {
                    return .failure(error.message, values: ["dest": .string(item.path)])
                }
            }
        }
        return ModuleResult(
            changed: changed, values: ["dest": .string(resolvedBase + "/"), "src": .string(localRoot)], diffs: diffs)
    }
}
