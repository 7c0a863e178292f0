import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.posix.authorized_key`: SSH public keys in a user's authorized_keys, parsed and
/// re-serialized as authorized_key.py does (keys identified by their base64 blob, original order
/// kept, new keys appended, comment and invalid lines left alone).
public enum AuthorizedKeyModule: Module {
    public static let declaration = ActionDeclaration(
        name: "authorized_key", qualifiedNames: ["ansible.posix.authorized_key"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec([
            .init("user", .string, required: true),
            .init("key", .string, required: true),
            .init("path", .path),
            .init("manage_dir", .bool, default: true),
            .init("state", .choice(["absent", "present"]), default: "present"),
            .init("key_options", .string),
            .init("unique", .bool, default: false),
            .init("exclusive", .bool, default: false),
            .init("comment", .string),
            .init("validate_certs", .bool, default: true),
            .init("follow", .bool, default: false),
        ]),
        documentation: ActionDocumentation(
            "Adds or removes an SSH authorized key",
            examples: """
                - name: Let the deploy user in with its key
                  ansible.posix.authorized_key:
                    user: deploy
                    key: "{{ deploy_public_key }}"
                    state: present
                """))

    static let keyTypes = [
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-dss", "ssh-rsa",
        "sk-ecdsa-sha2-nistp256@openssh.com", "sk-ssh-ed25519@openssh.com",
    ]

    struct Key: Equatable {
        var blob: String
        var type: String
        var options: [(String, String?)]
        var comment: String?
        var rank: Int
        /// The verbatim line for comments and lines that are not keys.
        var skippedLine: String?

        static func == (a: Key, b: Key) -> Bool {
            a.blob == b.blob && a.type == b.type && a.comment == b.comment && a.skippedLine == b.skippedLine
                && a.options.map(\.0) == b.options.map(\.0) && a.options.map(\.1) == b.options.map(\.1)
        }

        var serialized: String {
            if let skippedLine { return skippedLine }
            var optionText = ""
            if !options.isEmpty {
                optionText =
                    options.map { option in option.1.map { "\(option.0)=\($0)" } ?? option.0 }.joined(separator: ",")
                    + " "
            }
            return "\(optionText)\(type) \(blob) \(comment ?? "None")\n"
        }
    }

    /// parseoptions: split on commas outside quotes.
    static func parseOptions(_ text: String?) -> [(String, String?)] {
        guard let text, !text.isEmpty else { return [] }
        var parts: [String] = []
        var current = ""
        var quote: Character?
        for ch in text {
            if let q = quote {
                current.append(ch)
                if ch == q { quote = nil }
            } else if ch == "\"" || ch == "'" {
                quote = ch
                current.append(ch)
            } else if ch == "," {
                parts.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        parts.append(current)
        return parts.filter { !$0.isEmpty }.map { part in
            if let eq = part.firstIndex(of: "=") {
                return (String(part[..<eq]), String(part[part.index(after: eq)...]))
            }
            return (part, nil)
        }
    }

    static func parseKey(_ raw: String, rank: Int) -> Key? {
        let line = raw.replacingOccurrences(of: "\\#", with: "#")
        let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).map(String.init)
        if parts.first == "#" {
            return Key(blob: raw, type: "skipped", options: [], comment: nil, rank: rank, skippedLine: raw)
        }
        guard let typeIndex = parts.firstIndex(where: keyTypes.contains), typeIndex + 1 < parts.count else {
            return nil
        }
        let options = typeIndex > 0 ? parts[..<typeIndex].joined(separator: " ") : nil
        return Key(
            blob: parts[typeIndex + 1], type: parts[typeIndex], options: parseOptions(options),
            comment: parts[(typeIndex + 2)...].joined(separator: " "), rank: rank, skippedLine: nil)
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let user = args.string("user") ?? ""
        let keyText = args.string("key") ?? ""
        let present = args.string("state") != "absent"
        let exclusive = args.bool("exclusive") ?? false
        if keyText.hasPrefix("http") {
            return .failure("Error getting key from: \(keyText) (fetching keys from URLs is not supported)")
        }
        let path = args.string("path") ?? "~\(user)/.ssh/authorized_keys"
        let fileArgs = ModuleArguments(["owner": .string(user), "mode": .int(0o600)])
        let loaded = try await TextFileEdit.load(
            path, args: fileArgs, context: context, extras: ["getent passwd \(shellQuote(user)) | cut -d: -f4"],
            follow: args.bool("follow") ?? false)
        let gid = loaded.extras[0].trimmingCharacters(in: .whitespacesAndNewlines)
        guard loaded.probe.userIDs[user] != nil, !gid.isEmpty else {
            return .failure("Failed to lookup user \(user): getpwnam(): name not found: '\(user)'")
        }
        let keyfile = loaded.path
        let existingContent = loaded.text ?? ""
        // parsekeys: a dict keyed by blob (or by the whole line for lines that are not keys).
        var order: [String] = []
        var existing: [String: Key] = [:]
        for (rank, line) in TextFileEdit.lines(existingContent).enumerated() {
            let parsed =
                parseKey(line, rank: rank)
                ?? Key(blob: line, type: "skipped", options: [], comment: nil, rank: rank, skippedLine: line)
            if existing[parsed.blob] == nil { order.append(parsed.blob) }
            existing[parsed.blob] = parsed
        }
        let maxRank = existing.count
        var keysToExist: [String] = []
        var doWrite = false
        let newKeys = keyText.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map(String.init).filter { !$0.hasPrefix("#") }
        for (rank, newKey) in newKeys.enumerated() {
            guard var parsed = parseKey(newKey, rank: rank), parsed.skippedLine == nil else {
                return .failure("invalid key specified: \(newKey)")
            }
            if let options = args.string("key_options") { parsed.options = parseOptions(options) }
            if let comment = args.string("comment") { parsed.comment = comment }
            var matched = false
            var nonMatching = false
            if var old = existing[parsed.blob] {
                old.rank = parsed.rank
                if old != parsed && present { nonMatching = true } else { matched = true }
            }
            if present {
                keysToExist.append(parsed.blob)
                if nonMatching {
                    existing[parsed.blob] = nil
                    doWrite = true
                }
                if !matched {
                    parsed.rank = maxRank + parsed.rank
                    if !order.contains(parsed.blob) { order.append(parsed.blob) }
                    existing[parsed.blob] = parsed
                    doWrite = true
                }
            } else if matched {
                existing[parsed.blob] = nil
                doWrite = true
            }
        }
        if present && exclusive {
            for blob in existing.keys where !keysToExist.contains(blob) {
                existing[blob] = nil
                doWrite = true
            }
        }
        var values: OrderedDictionary<String, Value> = [:]
        for argument in arguments.arguments { values[argument.name] = args[argument.name] ?? .null }
        values["keyfile"] = .string(keyfile)
        guard doWrite else { return ModuleResult(changed: false, values: values) }
        // Python's sorted() is stable: equal ranks keep the dict's insertion order.
        let newContent = order.compactMap { existing[$0] }.enumerated()
            .sorted { ($0.element.rank, $0.offset) < ($1.element.rank, $1.offset) }
            .map(\.element.serialized).joined()
        let diffs =
            context.diffMode
            ? [FileDiff(before: existingContent, after: newContent, beforeHeader: keyfile, afterHeader: keyfile)] : []
        if context.checkMode { return ModuleResult(changed: true, values: values, diffs: diffs) }
        if args.bool("manage_dir") ?? true {
            let sshdir = (keyfile as NSString).deletingLastPathComponent
            let q = shellQuote(sshdir)
            let script =
                "[ -d \(q) ] || mkdir -m 700 -- \(q) && { chown \(shellQuote("\(user):\(gid)")) \(q); chmod 700 \(q); } 2>/dev/null; [ -d \(q) ]"
            do {
                _ = try await FileSupport.runChecked(script, context: context, what: "creating \(sshdir) failed")
            } catch let failure as ModuleFailure {
                return failure.result
            }
        }
        var stat = loaded.stat
        stat.parentExists = true
        let outcome = try await TextFileEdit.apply(
            TextFileEdit.Loaded(stat: stat, text: loaded.text, probe: loaded.probe, extras: []),
            newText: newContent,
            args: ModuleArguments(["owner": .string(user), "group": .string(gid), "mode": .int(0o600)]),
            context: context)
        if let failure = outcome.failure { return failure }
        return ModuleResult(changed: true, values: values, diffs: diffs)
    }
}
