import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.crypto.openssl_privatekey`: a private key made ON the host with the openssl CLI and
/// written there (mode 0600 unless told otherwise). The key never crosses the connection: only its
/// type, size, curve and public-key fingerprints come back.
public enum OpenSSLPrivateKeyModule: Module {
    public static let declaration = ActionDeclaration(
        name: "openssl_privatekey", qualifiedNames: ["community.crypto.openssl_privatekey"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec([
            .init("path", .path, required: true),
            .init("state", .choice(["present", "absent"]), default: "present"),
            .init("type", .choice(["DSA", "ECC", "Ed25519", "Ed448", "RSA", "X25519", "X448"]), default: "RSA"),
            .init("size", .int, default: 4096),
            .init(
                "curve",
                .choice([
                    "secp224r1", "secp256k1", "secp256r1", "secp384r1", "secp521r1", "secp192r1", "brainpoolP256r1",
                    "brainpoolP384r1", "brainpoolP512r1",
                ])),
            .init("force", .bool, default: false),
            .init(
                "regenerate",
                .choice(["never", "fail", "partial_idempotence", "full_idempotence", "always"]),
                default: "full_idempotence"),
            .init("format", .choice(["auto", "auto_ignore", "pkcs1", "pkcs8", "raw"]), default: "auto_ignore"),
            .init("format_mismatch", .choice(["regenerate", "convert"]), default: "regenerate"),
            .init("passphrase", .string, secret: true),
            .init("cipher", .string),
            .init("backup", .bool, default: false),
            .init("return_content", .bool, default: false),
            .init("mode", .mode),
            .init("owner", .string),
            .init("group", .string),
            .init("unsafe_writes", .bool, default: false),
            .init("select_crypto_backend", .choice(["auto", "cryptography"]), default: "auto"),
        ]),
        documentation: ActionDocumentation(
            "Generate OpenSSL private keys (on the host, with the openssl CLI)",
            examples: """
                - name: An ECDSA P-256 key that never leaves the host
                  community.crypto.openssl_privatekey:
                    path: /etc/pgha/tls/node.key
                    type: ECC
                    curve: secp256r1
                    mode: "0600"
                """))

    /// community.crypto's curve names to OpenSSL's.
    static let opensslCurves: [String: String] = [
        "secp256r1": "prime256v1", "secp192r1": "prime192v1", "secp224r1": "secp224r1", "secp256k1": "secp256k1",
        "secp384r1": "secp384r1", "secp521r1": "secp521r1", "brainpoolP256r1": "brainpoolP256r1",
        "brainpoolP384r1": "brainpoolP384r1", "brainpoolP512r1": "brainpoolP512r1",
    ]

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        do {
            return try await apply(args, context: context)
        } catch let failure as ModuleFailure {
            return failure.result
        }
    }

    private static func apply(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let path = args.string("path") ?? ""
        let type = args.string("type") ?? "RSA"
        if args.string("passphrase") != nil || args.string("cipher") != nil {
            return .failure("passphrase-protected private keys are not supported by this engine")
        }
        if args.bool("return_content") == true {
            return .failure("return_content is not supported by this engine: the private key never leaves the host")
        }
        if type == "DSA" { return .failure("type DSA is not supported by this engine") }
        if type == "ECC" && args.string("curve") == nil {
            return .failure("Parameter curve must be provided for type ECC")
        }
        let q = RemoteProbe.tildeQuote(path)
        let probe = try await CryptoSupport.run(
            """
            p=\(q)
            if [ ! -e "$p" ]; then echo absent; exit 0; fi
            stat -c '%a|%u|%g|%U|%G' -- "$p"
            \(CryptoSupport.keyFactsScript)
            """, context: context)
        guard probe.succeeded else {
            throw ModuleFailure(message: "reading \(path) failed: \(probe.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let lines = probe.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let exists = lines.first != "absent"
        let statFields = exists ? lines[0].split(separator: "|").map(String.init) : []
        let current = exists ? CryptoSupport.parseKeyFacts(Array(lines.dropFirst())) : nil
        var values: OrderedDictionary<String, Value> = ["filename": .string(path)]

        if args.string("state") == "absent" {
            if exists && !context.checkMode {
                _ = try await FileSupport.runChecked("rm -f -- \(q)", context: context, what: "removing \(path) failed")
            }
            var diffs: [FileDiff] = []
            if context.diffMode && exists {
                diffs.append(FileModule.stateDiff(before: summary(current), after: [:]))
            }
            return ModuleResult(changed: exists, values: values, diffs: diffs)
        }

        let wantedLabel = wantedPEMLabel(type: type, format: args.string("format") ?? "auto_ignore")
        let matches = current.map { matchesRequest($0, args: args) } ?? false
        let regenerate = args.string("regenerate") ?? "full_idempotence"
        var generate = !exists || (args.bool("force") ?? false) || regenerate == "always"
        if exists && !generate && regenerate != "never" && !matches {
            if regenerate == "fail" {
                return .failure(
                    "Key has wrong type and/or size. Will not proceed. To force regeneration, call the module with `regenerate` set to `full_idempotence`, or with `force=true`.",
                    values: values)
            }
            generate = true
        }
        var convert = false
        if !generate, let current, let wantedLabel, current.pemLabel != wantedLabel, regenerate != "never" {
            if args.string("format_mismatch") == "convert" { convert = true } else { generate = true }
        }

        let mode = FileMode(args["mode"]) ?? .absolute(0o600)
        let wantedMode: UInt32
        if case .absolute(let bits) = mode {
            wantedMode = bits
        } else {
            wantedMode = try mode.resolve(current: 0o600, isDirectory: false, umask: 0o077)
        }
        let owner = args.string("owner")
        let group = args.string("group")
        var attributesChanged = false
        if exists && statFields.count == 5 {
            if UInt32(statFields[0], radix: 8) != wantedMode { attributesChanged = true }
            if let owner, owner != statFields[3] && owner != statFields[1] { attributesChanged = true }
            if let group, group != statFields[4] && group != statFields[2] { attributesChanged = true }
        }
        let changed = generate || convert || attributesChanged
        var after = current
        if !context.checkMode && changed {
            var script = "set -e\np=\(q)\n"
            script += "d=$(dirname -- \"$p\")\n"
            script += "[ -d \"$d\" ] || { echo \"The directory $d does not exist or the file is not a directory\" >&2; exit 3; }\n"
            if generate || convert {
                let backup = (args.bool("backup") ?? false) && exists ? FileWriter.backupName(path) : nil
                if let backup { values["backup_file"] = .string(backup) }
                script += "umask 077\ntmp=$(mktemp \"$d/.pgha-key.XXXXXXXX\")\n"
                script += "trap 'rm -f -- \"$tmp\"' EXIT\n"
                // A new key's format: auto_ignore writes what auto would, it only ignores an existing key's.
                let label = wantedLabel ?? wantedPEMLabel(type: type, format: "auto")
                let writer = label == "PRIVATE KEY" ? "openssl pkey" : "openssl pkey -traditional"
                if convert {
                    script += "\(writer) -in \"$p\" -out \"$tmp\"\n"
                } else {
                    script += "\(generateCommand(args)) | \(writer) -out \"$tmp\"\n"
                }
                if let owner { script += "chown -- \(shellQuote(owner)) \"$tmp\"\n" }
                if let group { script += "chgrp -- \(shellQuote(group)) \"$tmp\"\n" }
                script += "chmod \(String(wantedMode, radix: 8)) -- \"$tmp\"\n"
                if let backup { script += "cp -p -- \"$p\" \(shellQuote(backup))\n" }
                script += "mv -f -- \"$tmp\" \"$p\"\ntrap - EXIT\nset +e\n"
                script += CryptoSupport.keyFactsScript + "\n"
            } else {
                if let owner { script += "chown -- \(shellQuote(owner)) \"$p\"\n" }
                if let group { script += "chgrp -- \(shellQuote(group)) \"$p\"\n" }
                script += "chmod \(String(wantedMode, radix: 8)) -- \"$p\"\n"
            }
            let result = try await CryptoSupport.run(script, context: context)
            guard result.succeeded else {
                throw ModuleFailure(
                    message: "writing the private key \(path) failed: \(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            if generate || convert {
                after = CryptoSupport.parseKeyFacts(result.stdoutText.split(separator: "\n").map(String.init))
            }
        } else if context.checkMode && generate {
            after = nil
        }

        values["type"] = .string(after?.type ?? type)
        if let size = after?.size ?? (type == "RSA" ? args.int("size") : nil) { values["size"] = .int(size) }
        if let curve = after?.curve ?? (type == "ECC" ? args.string("curve") : nil) { values["curve"] = .string(curve) }
        if let after { values["fingerprint"] = CryptoSupport.fingerprints(after.publicKeyDER) }
        var diffs: [FileDiff] = []
        if context.diffMode && changed {
            var predicted = summary(after)
            if after == nil { predicted = ["type": .string(type), "generated": .bool(true)] }
            diffs.append(FileModule.stateDiff(before: summary(current), after: predicted))
        }
        return ModuleResult(changed: changed, values: values, diffs: diffs)
    }

    /// What the diff shows of a key: never the key, only what its public half tells.
    static func summary(_ facts: CryptoSupport.KeyFacts?) -> OrderedDictionary<String, Value> {
        guard let facts else { return [:] }
        var out: OrderedDictionary<String, Value> = ["type": .string(facts.type)]
        if let size = facts.size { out["size"] = .int(size) }
        if let curve = facts.curve { out["curve"] = .string(curve) }
        if case .dict(let prints) = CryptoSupport.fingerprints(facts.publicKeyDER), let sha256 = prints["sha256"] {
            out["fingerprint_sha256"] = sha256
        }
        return out
    }

    static func matchesRequest(_ facts: CryptoSupport.KeyFacts, args: ModuleArguments) -> Bool {
        let type = args.string("type") ?? "RSA"
        guard facts.type == type else { return false }
        switch type {
        case "RSA": return facts.size == (args.int("size") ?? 4096)
        case "ECC": return facts.curve == args.string("curve")
        default: return true
        }
    }

    /// The PEM label a new key gets: traditional (PKCS#1/SEC1) for RSA and ECC as
    /// community.crypto writes them with format auto, PKCS#8 otherwise; nil: keep what is there.
    static func wantedPEMLabel(type: String, format: String) -> String? {
        let traditional = type == "RSA" ? "RSA PRIVATE KEY" : type == "ECC" ? "EC PRIVATE KEY" : "PRIVATE KEY"
        switch format {
        case "pkcs1": return traditional
        case "pkcs8", "raw": return "PRIVATE KEY"
        case "auto": return traditional
        default: return nil
        }
    }

    static func generateCommand(_ args: ModuleArguments) -> String {
        switch args.string("type") ?? "RSA" {
        case "ECC":
            let curve = opensslCurves[args.string("curve") ?? ""] ?? "prime256v1"
            return "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:\(curve) -pkeyopt ec_param_enc:named_curve"
        case "RSA":
            return "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:\(args.int("size") ?? 4096)"
        case let other:
            return "openssl genpkey -algorithm \(other.uppercased())"
        }
    }
}
