import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.fetch`: copies a host's file to the controller, into `dest/<host>/<src>` or,
/// with `flat`, to `dest` itself (into it, under the source's name, when it ends with a slash).
/// A relative `dest` is relative to the playbook's directory. Compares checksums first so an
/// unchanged file is not sent. Skipped under --check, as Ansible's fetch is.
public enum FetchModule: Module {
    public static let declaration = ActionDeclaration(
        name: "fetch", qualifiedNames: ["ansible.builtin.fetch", "ansible.legacy.fetch"],
        supportsCheckMode: false,
        arguments: ArgumentSpec([
            .init("src", .string, required: true),
            .init("dest", .string, required: true),
            .init("flat", .bool, default: false),
            .init("fail_on_missing", .bool, default: true),
            .init("validate_checksum", .bool, default: true),
        ]),
        documentation: ActionDocumentation(
            "Fetch files from remote nodes",
            examples: """
                - name: Bring each host's Patroni configuration back to the controller
                  ansible.builtin.fetch:
                    src: /etc/patroni/patroni.yml
                    dest: fetched/
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let source = args.string("src") ?? ""
        let destArg = args.string("dest") ?? ""
        var probe = RemoteProbe()
        probe.targets = [RemoteProbe.Target(path: source, follow: true, checksumAlgorithm: "sha1", access: true)]
        let remote = try await probe.run(context).stats[0]
        let src = remote.path
        var dest: String
        func local(_ path: String) -> String {
            let expanded = (path as NSString).expandingTildeInPath
            return expanded.hasPrefix("/") ? expanded : context.playbookDirectory + "/" + expanded
        }
        func isDirectory(_ path: String) -> Bool {
            var directory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
        }
        if args.bool("flat") ?? false {
            if !destArg.hasSuffix("/") && isDirectory(local(destArg)) {
                return .failure(
                    "dest is an existing directory, use a trailing slash if you want to fetch src into that directory")
            }
            dest = destArg.hasSuffix("/") ? destArg + (source as NSString).lastPathComponent : destArg
            if destArg.hasSuffix("/") && isDirectory(local(dest)) {
                return .failure(
                    "calculated dest '\(dest)' is an existing directory, use another path that does not point to an existing directory")
            }
            dest = local(dest)
        } else {
            // Ansible keeps the source's full path, as written, below dest/<host>.
            dest = local(destArg) + "/" + context.host + "/" + source
        }
        dest = normalizedPath(dest)
        var values: OrderedDictionary<String, Value> = ["file": .string(source), "dest": .string(dest)]
        func missing(_ msg: String) -> ModuleResult {
            if args.bool("fail_on_missing") ?? true {
                return .failure(msg, values: values)
            }
            return ModuleResult(changed: false, msg: msg + ", not transferring, ignored", values: values)
        }
        guard remote.exists else { return missing("the remote file does not exist") }
        if remote.type == .directory { return missing("remote file is a directory, fetch cannot work on directories") }
        guard remote.readable, let remoteChecksum = remote.checksum else {
            return missing("file is not readable")
        }
        let local = FileManager.default.contents(atPath: dest).map { [UInt8]($0) }
        let localChecksum = local.map(Digest.sha1)
        if localChecksum == remoteChecksum {
            values["md5sum"] = .string(Digest.md5(local ?? []))
            values["checksum"] = .string(remoteChecksum)
            return ModuleResult(changed: false, values: values)
        }
        var data: [UInt8] = []
        if !context.checkMode {
            do {
                data = try await context.connection.get(src, become: context.become)
            } catch let error as PGHAError where error.kind == .io {
                return .failure(error.message, values: values)
            }
            let newChecksum = Digest.sha1(data)
            if (args.bool("validate_checksum") ?? true) && newChecksum != remoteChecksum {
                return .failure(
                    "checksum mismatch",
                    values: values.merging(
                        ["checksum": .string(newChecksum), "remote_checksum": .string(remoteChecksum)],
                        uniquingKeysWith: { $1 }))
            }
            do {
                try FileManager.default.createDirectory(
                    atPath: (dest as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try AtomicFile.write(data, to: dest)
            } catch {
                let reason = (error as? PGHAError)?.message ?? error.localizedDescription
                return .failure("Failed to write \(dest): \(reason)", values: values)
            }
        }
        values["md5sum"] = .string(Digest.md5(data))
        values["checksum"] = .string(remoteChecksum)
        values["remote_md5sum"] = .null
        values["remote_checksum"] = .string(remoteChecksum)
        return ModuleResult(changed: true, values: values)
    }

    /// `os.path.normpath` of an absolute path.
    static func normalizedPath(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { if !parts.isEmpty { parts.removeLast() } } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }
}
