import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.slurp`: a remote file's bytes, base64-encoded, in one round trip.
public enum SlurpModule: Module {
    public static let name = "slurp"
    public static let qualifiedNames = ["ansible.builtin.slurp", "ansible.legacy.slurp"]
    public static let supportsCheckMode = true
    public static let arguments = ArgumentSpec([.init("src", .path, required: true, aliases: ["path"])])

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let src = args.string("src") ?? ""
        let q = RemoteProbe.tildeQuote(src)
        // Exit codes tell the failures apart without a second round trip.
        let script =
            "p=\(q); [ -e \"$p\" ] || exit 72; [ -d \"$p\" ] && exit 73; [ -r \"$p\" ] || exit 74; exec cat -- \"$p\""
        let result = try await context.connection.run(
            CommandRequest(script, environment: context.environment, become: context.become))
        switch result.exitStatus {
        case 0:
            return ModuleResult(
                changed: false,
                values: [
                    "content": .string(Base64.encode(result.stdout)), "source": .string(src),
                    "encoding": "base64",
                ])
        case 72: return .failure("file not found: \(src)")
        case 73: return .failure("source is a directory and must be a file: \(src)")
        case 74: return .failure("file is not readable: \(src)")
        default:
            return .failure(
                "unable to slurp file: \(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}

/// `ansible.builtin.fetch`: copies a host's file to the controller, into `dest/<host>/<src>` or,
/// with `flat`, to `dest` itself. Compares checksums first so an unchanged file is not sent.
public enum FetchModule: Module {
    public static let name = "fetch"
    public static let qualifiedNames = ["ansible.builtin.fetch", "ansible.legacy.fetch"]
    public static let supportsCheckMode = true
    public static let arguments = ArgumentSpec([
        .init("src", .string, required: true),
        .init("dest", .string, required: true),
        .init("flat", .bool, default: false),
        .init("fail_on_missing", .bool, default: true),
        .init("validate_checksum", .bool, default: true),
    ])

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let source = args.string("src") ?? ""
        let destArg = args.string("dest") ?? ""
        var probe = RemoteProbe()
        probe.targets = [RemoteProbe.Target(path: source, follow: true, checksumAlgorithm: "sha1", access: true)]
        let remote = try await probe.run(context).stats[0]
        let src = remote.path
        var dest: String
        if args.bool("flat") ?? false {
            dest = destArg.hasSuffix("/") ? destArg + (src as NSString).lastPathComponent : destArg
        } else {
            // Ansible keeps the source's full path below dest/<host>.
            let normalized = src.hasPrefix("/") ? String(src.dropFirst()) : src
            dest = (destArg.hasSuffix("/") ? destArg : destArg + "/") + context.host + "/" + normalized
        }
        dest = (dest as NSString).expandingTildeInPath
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
                try Data(data).write(to: URL(fileURLWithPath: dest), options: .atomic)
            } catch {
                return .failure("Failed to write \(dest): \(error.localizedDescription)", values: values)
            }
        }
        values["md5sum"] = .string(Digest.md5(data))
        values["checksum"] = .string(remoteChecksum)
        values["remote_md5sum"] = .null
        values["remote_checksum"] = .string(remoteChecksum)
        return ModuleResult(changed: true, values: values)
    }
}
