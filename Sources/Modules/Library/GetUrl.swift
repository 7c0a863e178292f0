import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.get_url`: downloads (http://, https://, file://) on the host with curl into a
/// temporary file beside `dest`, checks the checksum, and moves it into place only when the
/// content differs. An existing `dest` without `force` (and with a matching or no checksum) is
/// left alone without downloading, as get_url.py does.
public enum GetUrlModule: Module {
    public static let declaration = ActionDeclaration(
        name: "get_url", qualifiedNames: ["ansible.builtin.get_url", "ansible.legacy.get_url"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([
            .init("url", .string, required: true),
            .init("dest", .path, required: true),
            .init("checksum", .string, default: ""),
            .init("force", .bool, default: false),
            .init("backup", .bool, default: false),
            .init("timeout", .int, default: 10),
            .init("headers", .dict),
            .init("validate_certs", .bool, default: true),
            .init("url_username", .string, aliases: ["username"]),
            .init("url_password", .string, aliases: ["password"], secret: true),
            .init("force_basic_auth", .bool, default: false),
            .init("use_proxy", .bool, default: true),
            .init("client_cert", .path),
            .init("client_key", .path),
            .init("http_agent", .string, default: "ansible-httpget"),
            .init("tmp_dest", .path),
            .init("owner", .string),
            .init("group", .string),
            .init("mode", .mode),
            .init("decompress", .bool, default: true),
            .init("unredirected_headers", .list, default: []),
            .init("use_gssapi", .bool, default: false),
            .init("use_netrc", .bool, default: true),
            .init("ciphers", .list),
            .init("seuser", .string), .init("serole", .string), .init("setype", .string), .init("selevel", .string),
            .init("attributes", .string, aliases: ["attr"]),
            .init("unsafe_writes", .bool, default: false),
        ]),
        documentation: ActionDocumentation(
            "Downloads files from HTTP, HTTPS, or FTP to node",
            examples: """
                - name: Download a release, checked against its checksum
                  ansible.builtin.get_url:
                    url: https://example.org/releases/tool-1.2.tar.gz
                    dest: /opt/tool-1.2.tar.gz
                    checksum: sha256:0f343b0931126a20f133d67c2b018a3b5e5a5b6c4a1d1bd5d0b4e0d9d2b1c5a1
                    mode: "0644"
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let url = args.string("url") ?? ""
        var dest = args.string("dest") ?? ""
        let force = args.bool("force") ?? false
        var algorithm: String?
        var expected: String?
        if let checksum = args.string("checksum"), !checksum.isEmpty {
            let parts = checksum.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2,
                ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"].contains(parts[0].lowercased())
            else {
                return .failure("The checksum parameter has to be in format <algorithm>:<checksum>")
            }
            if parts[1].hasPrefix("http://") || parts[1].hasPrefix("https://") || parts[1].hasPrefix("file://") {
                return .failure("checksum files given by URL are not supported by this engine")
            }
            algorithm = parts[0].lowercased()
            expected = parts[1].lowercased()
        }
        // A directory dest receives the URL's last path component.
        var probe = RemoteProbe()
        probe.targets = [RemoteProbe.Target(path: dest, follow: true, checksumAlgorithm: algorithm ?? "sha1")]
        if let owner = args.string("owner") { probe.users = [owner] }
        if let group = args.string("group") { probe.groups = [group] }
        var state = try await probe.run(context)
        if state.stats[0].type == .directory {
            let name = URL(string: url)?.lastPathComponent ?? "index.html"
            dest = (dest.hasSuffix("/") ? dest : dest + "/") + (name.isEmpty || name == "/" ? "index.html" : name)
            probe.targets = [RemoteProbe.Target(path: dest, follow: true, checksumAlgorithm: algorithm ?? "sha1")]
            state = try await probe.run(context)
        }
        let current = state.stats[0]
        var values: OrderedDictionary<String, Value> = ["url": .string(url), "dest": .string(dest)]
        let wanted: FileSupport.Attributes
        do {
            wanted = try FileSupport.desired(args, current: current, isDirectory: false, probe: state, context: context)
        } catch let error as PGHAError {
            return .failure(error.message, values: values)
        }
        if current.exists && !force && (expected == nil || current.checksum == expected) {
            // Already there: only attributes may change.
            let attributesChanged = FileSupport.differs(wanted, from: current, probe: state)
            if attributesChanged && !context.checkMode {
                do {
                    _ = try await FileSupport.runChecked(
                        FileSupport.commands(wanted, path: dest).joined(separator: " && "), context: context,
                        what: "setting attributes failed")
                } catch let failure as ModuleFailure {
                    return failure.result
                }
            }
            values.merge(
                FileSupport.statValues(FileSupport.predicted(current, applying: wanted, probe: state), pathKey: "dest"),
                uniquingKeysWith: { $1 })
            values["checksum_dest"] = current.checksum.map(Value.string) ?? .null
            return ModuleResult(changed: attributesChanged, msg: "file already exists", values: values)
        }
        if !current.parentExists {
            return .failure(
                "Destination \((dest as NSString).deletingLastPathComponent) does not exist", values: values)
        }
        let timeout = args.int("timeout") ?? 10
        var options: [(String, String?)] = [
            ("url", url), ("max-time", String(timeout)), ("location", nil), ("fail", nil),
            ("user-agent", args.string("http_agent") ?? "ansible-httpget"),
        ]
        for (k, v) in args["headers"]?.dictValue ?? [:] { options.append(("header", "\(k): \(v.pythonString ?? "")")) }
        if !(args.bool("validate_certs") ?? true) { options.append(("insecure", nil)) }
        if let cert = args.string("client_cert") { options.append(("cert", cert)) }
        if let key = args.string("client_key") { options.append(("key", key)) }
        if !(args.bool("use_proxy") ?? true) { options.append(("noproxy", "*")) }
        if let user = args.string("url_username") {
            options.append(("user", "\(user):\(args.string("url_password") ?? "")"))
        }
        // Under --check the download goes to the temporary directory so dest's directory stays untouched.
        let tempDir =
            args.string("tmp_dest").map(shellQuote)
            ?? (context.checkMode ? "\"${TMPDIR:-/tmp}\"" : shellQuote((dest as NSString).deletingLastPathComponent))
        let sumCommand = "\(algorithm ?? "sha1")sum"
        let q = shellQuote(dest)
        // One command: download, checksum, compare, and (unless --check) move into place.
        var lines = [
            "command -v curl >/dev/null || { echo 'curl is not installed on the host' >&2; exit 91; }",
            "t=$(mktemp \(tempDir)/.pgha-get_url.XXXXXXXX) || exit 92",
            "trap 'rm -f -- \"$t\"' EXIT",
            "code=$(curl -K - -s -S -o \"$t\" -w '%{http_code}') || exit $?",
            "src=$(\(sumCommand) < \"$t\" | cut -d' ' -f1); size=$(stat -c %s \"$t\")",
            "old=; [ -f \(q) ] && old=$(\(sumCommand) < \(q) | cut -d' ' -f1)",
            "printf '%s|%s|%s|%s\\n' \"$code\" \"$src\" \"$old\" \"$size\"",
        ]
        if let expected {
            lines.append("[ \"$src\" = \(shellQuote(expected)) ] || exit 93")
        }
        if !context.checkMode {
            var install: [String] = []
            if args.bool("backup") == true && current.exists {
                let backup = FileWriter.backupName(dest)
                values["backup_file"] = .string(backup)
                install.append("cp -p -- \(q) \(shellQuote(backup))")
            }
            let mode = wanted.mode ?? (current.exists ? current.mode : 0o666 & ~state.identity.umask)
            install.append("chmod \(String(mode, radix: 8)) -- \"$t\"")
            if wanted.owner != nil || wanted.group != nil || current.exists {
                let owner = wanted.owner ?? (current.exists ? String(current.uid) : "")
                let group = wanted.group ?? (current.exists ? String(current.gid) : "")
                install.append("chown -- \(shellQuote(owner + (group.isEmpty ? "" : ":" + group))) \"$t\"")
            }
            install.append("mv -f -- \"$t\" \(q)")
            lines.append("if [ \"$src\" != \"$old\" ]; then \(install.joined(separator: " && ")) || exit 94; fi")
            if current.exists, FileSupport.differs(wanted, from: current, probe: state) {
                lines.append(FileSupport.commands(wanted, path: dest).joined(separator: " && "))
            }
        }
        let result = try await context.connection.run(
            CommandRequest(
                lines.joined(separator: "\n") + "\n", stdin: Curl.config(options), environment: context.environment,
                become: context.become))
        let out = result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        let fields = out.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let stderr = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        switch result.exitStatus {
        case 0: break
        case 93:
            return .failure(
                "The checksum for \(dest) did not match \(expected ?? ""); it was \(fields.count > 1 ? fields[1] : "").",
                values: values)
        case 91, 92, 94: return .failure(stderr.isEmpty ? "could not write \(dest)" : stderr, values: values)
        default:
            values["status_code"] = .int(Int(stderr.suffix(3)) ?? -1)
            return .failure("Request failed: \(stderr)", values: values)
        }
        guard fields.count == 4 else { return .failure("unexpected download output: \(out)", values: values) }
        let contentChanged = fields[1] != fields[2]
        let attributesChanged = current.exists && FileSupport.differs(wanted, from: current, probe: state)
        var final = current
        if !current.exists {
            final = RemoteStat(path: dest, type: .file)
            final.mode = 0o666 & ~state.identity.umask
            final.uid = state.identity.uid
            final.gid = state.identity.gid
            final.owner = state.identity.user
            final.group = state.identity.group
        }
        final.size = Int(fields[3]) ?? 0
        final = FileSupport.predicted(final, applying: wanted, probe: state)
        values.merge(FileSupport.statValues(final, pathKey: "dest"), uniquingKeysWith: { $1 })
        values["status_code"] = .int(Int(fields[0]) ?? 0)
        values["checksum_src"] = .string(fields[1])
        values["checksum_dest"] = fields[2].isEmpty ? .null : .string(fields[2])
        return ModuleResult(
            changed: contentChanged || attributesChanged, msg: "OK (\(fields[3]) bytes)", values: values)
    }
}
