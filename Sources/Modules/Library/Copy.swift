import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.copy`: puts a local file or inline `content:` on the host.
public enum CopyModule: Module {
    public static let declaration = ActionDeclaration(
        name: "copy", qualifiedNames: ["ansible.builtin.copy", "ansible.legacy.copy"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("src", .path),
                .init("content", .raw),
                .init("dest", .path, required: true),
                .init("force", .bool, default: true, aliases: ["thirsty"]),
                .init("backup", .bool, default: false),
                .init("follow", .bool, default: false),
                .init("mode", .mode),
                .init("owner", .string),
                .init("group", .string),
                .init("directory_mode", .mode),
                .init("validate", .string),
                .init("checksum", .string),
                .init("remote_src", .bool, default: false),
                .init("local_follow", .bool, default: true),
                .init("decrypt", .bool, default: true),
                .init("unsafe_writes", .bool, default: false),
            ], mutuallyExclusive: [["src", "content"]], requiredOneOf: [["src", "content"]]),
        documentation: ActionDocumentation(
            "Copy files to remote locations",
            examples: """
                - name: Install a configuration file
                  ansible.builtin.copy:
                    src: haproxy.cfg
                    dest: /etc/haproxy/haproxy.cfg
                    owner: root
                    group: root
                    mode: "0644"
                    backup: true

                - name: Write a file from text
                  ansible.builtin.copy:
                    content: "listen_addresses = '*'\\n"
                    dest: /etc/postgresql/15/main/conf.d/listen.conf
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        guard let dest = args.string("dest"), !dest.isEmpty else { return .failure("dest is required") }
        if args.bool("remote_src") == true {
            guard let src = args.string("src") else { return .failure("src is required with remote_src") }
            return try await FileWriter.write(
                FileWriter.Request(
                    data: [], dest: dest, sourceName: (src as NSString).lastPathComponent, afterHeader: src,
                    preservedMode: nil, remoteSource: src),
                args: args, context: context)
        }
        let data: [UInt8]
        var sourceName: String? = nil
        var afterHeader = dest
        var preserved: UInt32? = nil
        var values: OrderedDictionary<String, Value> = [:]
        if let content = args["content"] {
            // Lists and dicts are written as JSON, as the copy action plugin does.
            switch content {
            case .list, .dict: data = Array(JSON.encode(content).utf8)
            default: data = Array((content.pythonString ?? "").utf8)
            }
            if dest.hasSuffix("/") { return .failure("can not use content with a dir as dest") }
        } else {
            let src = args.string("src") ?? ""
            guard let local = context.resolveLocalPath(src, "files") else {
                return .failure("Could not find or access '\(src)' on the Ansible Controller.")
            }
            guard ContentSource.exists(local) else {
                return .failure("Could not find or access '\(src)' on the Ansible Controller.")
            }
            if ContentSource.isDirectory(local) {
                do {
                    return try await DirectoryCopier.copy(
                        localRoot: local, srcArgument: src, dest: dest, args: args, context: context,
                        decrypt: args.bool("decrypt") ?? true)
                } catch let failure as ModuleFailure {
                    return failure.result
                }
            }
            do {
                data = try context.readLocalFile(local, args.bool("decrypt") ?? true)
            } catch let error as PGHAError where error.kind == .io {
                return .failure("Could not read '\(local)' on the controller")
            }
            sourceName = (local as NSString).lastPathComponent
            afterHeader = local
            preserved = ContentSource.permissions(local)
            values["src"] = .string(local)
        }
        if let expected = args.string("checksum"), expected != Digest.sha1(data) {
            return .failure("Copied file does not match the expected checksum. Transfer failed.")
        }
        var result = try await FileWriter.write(
            FileWriter.Request(
                data: data, dest: dest, sourceName: sourceName,
                afterHeader: afterHeader, preservedMode: preserved),
            args: args, context: context)
        for (key, value) in values where result.values[key] == nil { result.values[key] = value }
        return result
    }
}
