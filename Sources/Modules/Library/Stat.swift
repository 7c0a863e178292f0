import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.stat`: facts about one path, in one round trip.
public enum StatModule: Module {
    public static let declaration = ActionDeclaration(
        name: "stat", qualifiedNames: ["ansible.builtin.stat", "ansible.legacy.stat"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([
            .init("path", .path, required: true, aliases: ["dest", "name"]),
            .init("follow", .bool, default: false),
            .init("get_checksum", .bool, default: true),
            .init(
                "checksum_algorithm", .choice(["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]), default: "sha1",
                aliases: ["checksum", "checksum_algo"]),
            .init("get_mime", .bool, default: true, aliases: ["mime", "mime_type", "mime-type"]),
            .init("get_attributes", .bool, default: true, aliases: ["attr", "attributes"]),
            .init("get_md5", .bool, default: false),
        ]),
        documentation: ActionDocumentation(
            "Retrieve file or file system status",
            examples: """
                - name: Is the cluster initialised?
                  ansible.builtin.stat:
                    path: /var/lib/postgresql/15/main/PG_VERSION
                  register: pg_version

                - name: Say so
                  ansible.builtin.debug:
                    msg: "initialised: {{ pg_version.stat.exists }}"
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let path = args.string("path") ?? ""
        var target = RemoteProbe.Target(path: path, follow: args.bool("follow") ?? false)
        if args.bool("get_checksum") ?? true { target.checksumAlgorithm = args.string("checksum_algorithm") ?? "sha1" }
        target.access = true
        target.mime = args.bool("get_mime") ?? true
        var probe = RemoteProbe()
        probe.targets = [target]
        let s = try await probe.run(context).stats[0]
        guard s.exists else {
            return ModuleResult(changed: false, values: ["stat": ["exists": false]])
        }
        let m = s.mode
        var stat: OrderedDictionary<String, Value> = [
            "exists": true, "path": .string(path), "mode": .string(FileMode.format(m)),
            "isdir": .bool(s.type == .directory), "ischr": .bool(s.type == .char), "isblk": .bool(s.type == .block),
            "isreg": .bool(s.type == .file), "isfifo": .bool(s.type == .fifo), "islnk": .bool(s.type == .link),
            "issock": .bool(s.type == .socket), "uid": .int(s.uid), "gid": .int(s.gid), "size": .int(s.size),
            "inode": .int(s.inode), "dev": .int(s.device), "nlink": .int(s.nlink), "atime": .double(s.atime),
            "mtime": .double(s.mtime), "ctime": .double(s.ctime), "wusr": .bool(m & 0o200 != 0),
            "rusr": .bool(m & 0o400 != 0), "xusr": .bool(m & 0o100 != 0), "wgrp": .bool(m & 0o020 != 0),
            "rgrp": .bool(m & 0o040 != 0), "xgrp": .bool(m & 0o010 != 0), "woth": .bool(m & 0o002 != 0),
            "roth": .bool(m & 0o004 != 0), "xoth": .bool(m & 0o001 != 0), "isuid": .bool(m & 0o4000 != 0),
            "isgid": .bool(m & 0o2000 != 0), "blocks": .int(s.blocks), "block_size": .int(s.blockSize),
            "readable": .bool(s.readable), "writeable": .bool(s.writeable), "executable": .bool(s.executable),
            "pw_name": .string(s.owner), "gr_name": .string(s.group),
        ]
        if s.type == .link, let target = s.linkTarget {
            stat["lnk_target"] = .string(target)
            // Ansible's os.path.realpath: every link on the way resolved.
            if let resolved = s.resolvedPath, !resolved.isEmpty { stat["lnk_source"] = .string(resolved) }
        }
        // As Ansible: only regular files (after lstat, unless follow) get a checksum.
        if let checksum = s.checksum, s.type == .file { stat["checksum"] = .string(checksum) }
        if let mime = s.mimeType {
            stat["mimetype"] = .string(mime)
            stat["charset"] = .string(s.charset ?? "unknown")
        }
        return ModuleResult(changed: false, values: ["stat": .dict(stat)])
    }
}
