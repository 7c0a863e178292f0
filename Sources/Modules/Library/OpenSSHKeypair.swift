import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.crypto.openssh_keypair`: an OpenSSH key pair made ON the host by its ssh-keygen, as
/// the collection's `opensshbin` backend does (the same ssh-keygen calls, so the same readings of
/// existing keys). The private key never crosses the connection: only what `ssh-keygen -l` and the
/// public key tell comes back.
public enum OpenSSHKeypairModule: Module {
    public static let declaration = ActionDeclaration(
        name: "openssh_keypair", qualifiedNames: ["community.crypto.openssh_keypair"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec([
            .init("path", .path, required: true),
            .init("state", .choice(["present", "absent"]), default: "present"),
            .init("type", .choice(["rsa", "dsa", "rsa1", "ecdsa", "ed25519"]), default: "rsa"),
            .init("size", .int),
            .init("comment", .string),
            .init("force", .bool, default: false),
            .init(
                "regenerate", .choice(["never", "fail", "partial_idempotence", "full_idempotence", "always"]),
                default: "partial_idempotence"),
            .init("passphrase", .string, secret: true),
            .init("private_key_format", .choice(["auto", "pkcs1", "pkcs8", "ssh"]), default: "auto"),
            .init("backend", .choice(["auto", "cryptography", "opensshbin"]), default: "auto"),
            .init("mode", .mode),
            .init("owner", .string),
            .init("group", .string),
            .init("unsafe_writes", .bool, default: false),
        ]),
        documentation: ActionDocumentation(
            "Generate OpenSSH private and public keys (on the host, with its ssh-keygen)",
            details: [
                "As community.crypto's opensshbin backend: passphrase, private_key_format other than auto and backend cryptography are refused (the private key is never written or read by anything but the host's ssh-keygen).",
                "mode, owner and group apply to both the private key and the .pub file.",
            ],
            examples: """
                - name: A deploy key that never leaves the host
                  community.crypto.openssh_keypair:
                    path: /var/lib/postgresql/.ssh/id_ed25519
                    type: ed25519
                    comment: postgres@node1
                    owner: postgres
                    group: postgres
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        do {
            let request = try Request(args)
            return try await apply(request, context: context)
        } catch let failure as ModuleFailure {
            return failure.result
        }
    }

    // MARK: - The request

    /// What the task asks for, validated as the collection validates it before touching a file.
    struct Request: Equatable {
        var path: String
        var present: Bool
        var type: String
        var size: Int
        var comment: String?
        /// `force: true` is `regenerate: always`.
        var regenerate: String
        var mode: FileMode?
        var owner: String?
        var group: String?

        init(
            path: String, present: Bool = true, type: String = "rsa", size: Int = 4096, comment: String? = nil,
            regenerate: String = "partial_idempotence", mode: FileMode? = nil, owner: String? = nil, group: String? = nil
        ) {
            (self.path, self.present, self.type, self.size, self.comment) = (path, present, type, size, comment)
            (self.regenerate, self.mode, self.owner, self.group) = (regenerate, mode, owner, group)
        }

        init(_ args: ModuleArguments) throws {
            if args.string("passphrase") != nil {
                throw ModuleFailure(
                    message: "passphrase is not supported by this engine: it generates keys with the host's ssh-keygen only (community.crypto's opensshbin backend), which would need the passphrase on its command line")
            }
            if args.string("backend") == "cryptography" {
                throw ModuleFailure(message: "backend cryptography is not supported by this engine: it uses the host's ssh-keygen (backend opensshbin)")
            }
            if let format = args.string("private_key_format"), format != "auto" {
                throw ModuleFailure(message: "'auto' is the only valid option for 'private_key_format' when 'backend' is not 'cryptography'")
            }
            let type = args.string("type") ?? "rsa"
            let size = try Self.size(type: type, requested: args.int("size"))
            self.init(
                path: args.string("path") ?? "", present: args.string("state") != "absent", type: type, size: size,
                comment: args.string("comment"),
                regenerate: args.bool("force") == true ? "always" : args.string("regenerate") ?? "partial_idempotence",
                mode: FileMode(args["mode"]), owner: args.string("owner"), group: args.string("group"))
        }

        /// The collection's `_get_size`: defaults and limits per type (ed25519 ignores what is given).
        static func size(type: String, requested: Int?) throws -> Int {
            switch type {
            case "rsa", "rsa1":
                let size = requested ?? 4096
                if size < 1024 {
                    throw ModuleFailure(
                        message: "For RSA keys, the minimum size is 1024 bits and the default is 4096 bits. Attempting to use bit lengths under 1024 will cause the module to fail.")
                }
                return size
            case "dsa":
                if let requested, requested != 1024 {
                    throw ModuleFailure(message: "DSA keys must be exactly 1024 bits as specified by FIPS 186-2.")
                }
                return 1024
            case "ecdsa":
                let size = requested ?? 256
                if ![256, 384, 521].contains(size) {
                    throw ModuleFailure(
                        message: "For ECDSA keys, size determines the key length by selecting from one of three elliptic curve sizes: 256, 384 or 521 bits. Attempting to use bit lengths other than these three values for ECDSA keys will cause this module to fail.")
                }
                return size
            case "ed25519":
                return 256
            default:
                throw ModuleFailure(message: "\(type) is not a valid value for key type")
            }
        }

        /// The directory the key goes in, as Python's `os.path.dirname(path) or "."`.
        var directory: String {
            guard let slash = path.lastIndex(of: "/") else { return "." }
            let head = String(path[..<slash])
            if head.isEmpty { return "/" }
            return head.allSatisfy { $0 == "/" } ? head : String(head.reversed().drop { $0 == "/" }.reversed())
        }
    }

    // MARK: - What is on the host

    /// `ssh-keygen -l` of the private key: bits, fingerprint and type (lower case, as the collection's `PrivateKey`).
    struct PrivateKeyFacts: Equatable {
        var size: Int
        var type: String
        var fingerprint: String

        /// The collection's `PrivateKey.from_string`; nil where it would raise.
        init?(listing: String) {
            let words = listing.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
            guard words.count >= 2, let size = Int(words[0]), let last = words.last, last.count >= 2 else { return nil }
            (self.size, self.fingerprint) = (size, words[1])
            type = String(last.dropFirst().dropLast()).lowercased()
        }
    }

    /// A public key line: `type data comment`.
    struct PublicKey: Equatable {
        var typeString: String
        var data: String
        var comment: String?

        /// `PublicKey.load` of the .pub file's content: nil when it has fewer than two fields.
        init?(file: String) {
            let trimmed = file.trimmingCharacters(in: CharacterSet(charactersIn: " \n"))
            let parts = trimmed.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2 else { return nil }
            (typeString, data, comment) = (parts[0], parts[1], parts.count > 2 ? parts[2] : "")
        }

        /// `PublicKey.from_string` of `ssh-keygen -y`'s output.
        init?(keygenOutput: String) {
            var text = Substring(keygenOutput)
            while text.first == "\n" { text = text.dropFirst() }
            while text.last == "\n" { text = text.dropLast() }
            let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2 else { return nil }
            (typeString, data, comment) = (parts[0], parts[1], parts.count > 2 ? parts[2] : "")
        }

        /// The collection's equality: a comment counts only when both sides have one.
        func matches(_ other: PublicKey) -> Bool {
            guard typeString == other.typeString, data == other.data else { return false }
            if let comment, let otherComment = other.comment { return comment == otherComment }
            return true
        }

        var line: String { "\(typeString) \(data)" }
    }

    /// Mode, ids and names of a file.
    struct FileFacts: Equatable {
        var mode: UInt32
        var uid: String
        var gid: String
        var user: String
        var group: String

        init?(stat line: String) {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 5, let mode = UInt32(fields[0], radix: 8) else { return nil }
            (self.mode, uid, gid, user, group) = (mode, fields[1], fields[2], fields[3], fields[4])
        }
    }

    /// What the probe found.
    struct Observed: Equatable {
        var directoryMissing = false
        var pathIsDirectory = false
        var keygenMissing = false
        var privateFile: FileFacts?
        var publicFile: FileFacts?
        var privateExists = false
        var publicExists = false
        var privateKey: PrivateKeyFacts?
        /// `ssh-keygen -y` could read the private key without a passphrase.
        var readable = false
        /// The public key `ssh-keygen -y` derives from the private key.
        var derivedPublicKey: PublicKey?
        var publicKey: PublicKey?
        var umask: UInt32 = 0o022

        /// Parses the probe's `key=value` lines (values base64 where they are free text).
        init(probe output: String) {
            var fields: [String: String] = [:]
            for line in output.split(separator: "\n") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            func text(_ key: String) -> String? {
                guard let encoded = fields[key], let bytes = Base64.decode(encoded) else { return nil }
                return String(decoding: bytes, as: UTF8.self)
            }
            directoryMissing = fields["nodir"] != nil
            pathIsDirectory = fields["isdir"] != nil
            keygenMissing = fields["nokeygen"] != nil
            privateFile = fields["privstat"].flatMap(FileFacts.init(stat:))
            publicFile = fields["pubstat"].flatMap(FileFacts.init(stat:))
            privateExists = fields["privexists"] == "1"
            publicExists = fields["pubexists"] == "1"
            if fields["lrc"] == "0", let listing = text("l") { privateKey = PrivateKeyFacts(listing: listing) }
            let derivedStatus = fields["yrc"].flatMap { Int($0) }
            let derivedError = text("ye") ?? ""
            readable = derivedStatus != nil && derivedStatus != 255
                && !["is not a public key file", "incorrect passphrase", "load failed"].contains { derivedError.contains($0) }
            if derivedStatus == 0, let derived = text("y") { derivedPublicKey = PublicKey(keygenOutput: derived) }
            if publicExists, let content = text("pub") { publicKey = PublicKey(file: content) }
            if let mask = fields["umask"].flatMap({ UInt32($0, radix: 8) }) { umask = mask }
        }

        init() {}
    }

    // MARK: - The decision

    /// What to do on the host.
    struct Plan: Equatable {
        var generate = false
        var restorePublicKey = false
        var remove = false
        /// Mode, owner or group of an existing file differ from what the task asks.
        var attributesDiffer = false
        /// The changed status Ansible reports (with or without --check).
        var changed = false
        /// The mode each file ends with, when the task gives one: private, public.
        var privateMode: UInt32?
        var publicMode: UInt32?
    }

    /// The collection's `_execute`, decided from the probe.
    static func decide(_ request: Request, _ observed: Observed, checkMode: Bool) throws -> Plan {
        if observed.directoryMissing {
            throw ModuleFailure(
                message: "The directory \(request.directory) does not exist or the file is not a directory",
                values: ["name": .string(request.directory)])
        }
        if observed.pathIsDirectory {
            throw ModuleFailure(message: "\(request.path) is a directory. Please specify a path to a file.")
        }
        var plan = Plan()
        guard request.present else {
            plan.remove = observed.privateExists || observed.publicExists
            plan.changed = plan.remove
            return plan
        }
        if observed.keygenMissing {
            throw ModuleFailure(message: "Cannot find the OpenSSH binary in the PATH (ssh-keygen: apt install openssh-client)")
        }
        if observed.privateExists && ["never", "fail", "partial_idempotence"].contains(request.regenerate)
            && (observed.privateKey == nil || !observed.readable)
        {
            throw ModuleFailure(
                message: "Unable to read the key. The key is protected with a passphrase or broken. Will not proceed. To force regeneration, call the module with `generate` set to `full_idempotence` or `always`, or with `force=true`.")
        }
        let valid = observed.privateKey.map { $0.size == request.size && $0.type == request.type } ?? false
        if observed.privateKey == nil {
            plan.generate = true
        } else {
            switch request.regenerate {
            case "never":
                break
            case "fail":
                if !valid {
                    throw ModuleFailure(
                        message: "Key has wrong type and/or size. Will not proceed. To force regeneration, call the module with `generate` set to `partial_idempotence`, `full_idempotence` or `always`, or with `force=true`.")
                }
            case "partial_idempotence", "full_idempotence":
                plan.generate = !valid
            default:
                plan.generate = true
            }
        }
        if !plan.generate {
            var wanted = observed.derivedPublicKey
            wanted?.comment = request.comment
            let publicValid = observed.publicKey.flatMap { current in wanted.map { current.matches($0) } } ?? false
            if !publicValid {
                if observed.derivedPublicKey == nil {
                    throw ModuleFailure(message: "The public key is missing or does not match the private key. Unable to regenerate the public key.")
                }
                plan.restorePublicKey = true
            }
        }
        // Both files' attributes: a file that does not exist yet under --check counts as a change.
        let newPublicMode: UInt32 = 0o644 & ~observed.umask
        for (file, isPrivate) in [(observed.privateFile, true), (observed.publicFile, false)] {
            let replaced = isPrivate ? plan.generate : plan.generate || plan.restorePublicKey
            let current = file?.mode ?? (isPrivate ? 0o600 : newPublicMode)
            if let mode = request.mode, mode != .preserve {
                let wanted: UInt32
                do {
                    wanted = try mode.resolve(current: current, isDirectory: false, umask: observed.umask)
                } catch {
                    throw ModuleFailure(message: "mode must be in octal or symbolic form")
                }
                if isPrivate { plan.privateMode = wanted } else { plan.publicMode = wanted }
                if let file, !replaced, file.mode != wanted { plan.attributesDiffer = true }
            }
            guard let file, !replaced else { continue }
            if let owner = request.owner, owner != file.user && owner != file.uid { plan.attributesDiffer = true }
            if let group = request.group, group != file.group && group != file.gid { plan.attributesDiffer = true }
        }
        let missingUnderCheck = checkMode && (!observed.privateExists || !observed.publicExists)
        plan.changed = plan.generate || plan.restorePublicKey || plan.attributesDiffer || missingUnderCheck
        return plan
    }

    // MARK: - The host

    /// One round trip: whether the directory and files exist, their modes, `ssh-keygen -l` and
    /// `-y` of the private key (its public half only), the .pub file and the umask.
    static func probeScript(_ request: Request) -> String {
        """
        p=\(RemoteProbe.tildeQuote(request.path))
        d=\(RemoteProbe.tildeQuote(request.directory))
        if [ ! -d "$d" ]; then echo nodir=1; exit 0; fi
        if [ -d "$p" ]; then echo isdir=1; exit 0; fi
        echo "umask=$(umask)"
        command -v ssh-keygen >/dev/null 2>&1 || echo nokeygen=1
        b64() { base64 -w0; echo; }
        if [ -e "$p" ]; then
          echo privexists=1
          echo "privstat=$(stat -c '%a|%u|%g|%U|%G' -- "$p")"
          if command -v ssh-keygen >/dev/null 2>&1; then
            e=$(mktemp) || exit 90
            printf 'l='; ssh-keygen -l -f "$p" </dev/null 2>/dev/null | b64; echo "lrc=${PIPESTATUS[0]}"
            printf 'y='; ssh-keygen -P '' -y -f "$p" </dev/null 2>"$e" | b64; echo "yrc=${PIPESTATUS[0]}"
            printf 'ye='; b64 <"$e"; rm -f -- "$e"
          fi
        fi
        if [ -e "$p.pub" ]; then
          echo pubexists=1
          echo "pubstat=$(stat -c '%a|%u|%g|%U|%G' -- "$p.pub")"
          printf 'pub='; b64 <"$p.pub"
        fi
        """
    }

    private static func apply(_ request: Request, context: ModuleContext) async throws -> ModuleResult {
        let probe = try await HostScript.run(context, "bash -c \(shellQuote(probeScript(request)))")
        guard probe.succeeded else {
            throw ModuleFailure(message: "reading \(request.path) failed: \(probe.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let before = Observed(probe: probe.stdoutText)
        let plan = try decide(request, before, checkMode: context.checkMode)
        var after = before
        if !context.checkMode && (plan.generate || plan.restorePublicKey || plan.attributesDiffer || plan.remove) {
            let result = try await HostScript.run(context, "bash -c \(shellQuote(changeScript(request, plan)))")
            guard result.succeeded else {
                throw ModuleFailure(
                    message: "writing the key pair \(request.path) failed: \(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            if !plan.remove { after = Observed(probe: result.stdoutText) }
        }
        var diffs: [FileDiff] = []
        if context.diffMode {
            let afterSummary = request.present ? summary(after) : [:]
            // Under --check the collection's before and after are the same key: nothing to show.
            if summary(before) != afterSummary {
                diffs.append(FileModule.stateDiff(before: summary(before), after: afterSummary))
            }
        }
        return ModuleResult(changed: plan.changed, values: values(request, after), diffs: diffs)
    }

    /// The collection's result: the requested size and type, the key's fingerprint and public half.
    static func values(_ request: Request, _ observed: Observed) -> OrderedDictionary<String, Value> {
        [
            "size": .int(request.size), "type": .string(request.type), "filename": .string(request.path),
            "fingerprint": .string(observed.privateKey?.fingerprint ?? ""),
            "public_key": .string(observed.publicKey?.line ?? ""),
            "comment": .string(observed.publicKey?.comment ?? ""),
        ]
    }

    /// The diff's view of a key pair, as the collection's `to_dict`s (never the private key).
    static func summary(_ observed: Observed) -> OrderedDictionary<String, Value> {
        var out: OrderedDictionary<String, Value> = [:]
        if let key = observed.privateKey {
            out["size"] = .int(key.size)
            out["type"] = .string(key.type)
            out["fingerprint"] = .string(key.fingerprint)
            out["format"] = .string("")
        }
        if let publicKey = observed.publicKey {
            out["comment"] = publicKey.comment.map(Value.string) ?? .null
            out["public_key"] = .string(publicKey.data)
        }
        return out
    }

    /// The change, in one round trip; ends by printing the probe's view of the result.
    static func changeScript(_ request: Request, _ plan: Plan) -> String {
        var script = "set -e -o pipefail\np=\(RemoteProbe.tildeQuote(request.path))\nd=\(RemoteProbe.tildeQuote(request.directory))\n"
        if plan.remove {
            return script + "rm -f -- \"$p\" \"$p.pub\"\n"
        }
        // A replaced file keeps the mode and owner of the one it replaces (Ansible's atomic_move).
        let keepAttributes = """
            keep() { if [ -e "$2" ]; then chmod --reference="$2" -- "$1"; chown --reference="$2" -- "$1" 2>/dev/null || true; fi; }

            """
        if plan.generate {
            script += keepAttributes
            script += "k=$(mktemp -d \"$d/.pgha-keygen.XXXXXXXX\")\ntrap 'rm -rf -- \"$k\"' EXIT\n"
            script += "ssh-keygen -q -N '' -b \(request.size) -t \(shellQuote(request.type)) -f \"$k/key\" -C \(shellQuote(request.comment ?? "")) </dev/null >/dev/null\n"
            script += "keep \"$k/key\" \"$p\"\nkeep \"$k/key.pub\" \"$p.pub\"\n"
            script += "mv -f -- \"$k/key\" \"$p\"\nmv -f -- \"$k/key.pub\" \"$p.pub\"\n"
        } else if plan.restorePublicKey {
            script += keepAttributes
            script += "k=$(mktemp \"$d/.pgha-pub.XXXXXXXX\")\ntrap 'rm -f -- \"$k\"' EXIT\n"
            script += "chmod 644 -- \"$k\"\nkeep \"$k\" \"$p.pub\"\n"
            script += "ssh-keygen -P '' -y -f \"$p\" </dev/null | awk '{ print $1 \" \" $2 }' >\"$k\"\n"
            script += "mv -f -- \"$k\" \"$p.pub\"\n"
            if let comment = request.comment, !comment.isEmpty {
                script += "[ -w \"$p\" ] || chmod 600 -- \"$p\"\n"
                script += "ssh-keygen -q -c -C \(shellQuote(comment)) -f \"$p\" </dev/null >/dev/null\n"
            }
        }
        for (file, mode) in [("\"$p\"", plan.privateMode), ("\"$p.pub\"", plan.publicMode)] {
            if let owner = request.owner { script += "chown -- \(shellQuote(owner)) \(file)\n" }
            if let group = request.group { script += "chgrp -- \(shellQuote(group)) \(file)\n" }
            if let mode { script += "chmod \(String(mode, radix: 8)) -- \(file)\n" }
        }
        return script + "set +e\n" + probeScript(request)
    }
}
