import ClusterCA
import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.crypto.openssl_csr_pipe`: a certificate signing request for a private key on the
/// host, made there with `openssl req` (the key is read by openssl on the host, never sent), and
/// returned as `csr`. Given the current CSR as `content`, it is returned unchanged when it already
/// asks for the same subject, extensions and key.
public enum OpenSSLCSRPipeModule: Module {
    public static let declaration = ActionDeclaration(
        name: "openssl_csr_pipe", qualifiedNames: ["community.crypto.openssl_csr_pipe"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("privatekey_path", .path),
                .init("privatekey_content", .string, secret: true),
                .init("privatekey_passphrase", .string, secret: true),
                .init("content", .string),
                .init("digest", .string, default: "sha256"),
                .init("version", .int, default: 1),
                .init("subject", .raw),
                .init("subject_ordering", .choice(["limited_to_subject", "ignore"]), default: "limited_to_subject"),
                .init("country_name", .string, aliases: ["C", "countryName"]),
                .init("state_or_province_name", .string, aliases: ["ST", "stateOrProvinceName"]),
                .init("locality_name", .string, aliases: ["L", "localityName"]),
                .init("organization_name", .string, aliases: ["O", "organizationName"]),
                .init("organizational_unit_name", .string, aliases: ["OU", "organizationalUnitName"]),
                .init("common_name", .string, aliases: ["CN", "commonName"]),
                .init("email_address", .string, aliases: ["E", "emailAddress"]),
                .init("subject_alt_name", .list, aliases: ["subjectAltName"]),
                .init("subject_alt_name_critical", .bool, default: false, aliases: ["subjectAltName_critical"]),
                .init("use_common_name_for_san", .bool, default: true, aliases: ["useCommonNameForSAN"]),
                .init("key_usage", .list, aliases: ["keyUsage"]),
                .init("key_usage_critical", .bool, default: false, aliases: ["keyUsage_critical"]),
                .init("extended_key_usage", .list, aliases: ["extKeyUsage", "extendedKeyUsage"]),
                .init(
                    "extended_key_usage_critical", .bool, default: false,
                    aliases: ["extKeyUsage_critical", "extendedKeyUsage_critical"]),
                .init("basic_constraints", .list, aliases: ["basicConstraints"]),
                .init("basic_constraints_critical", .bool, default: false, aliases: ["basicConstraints_critical"]),
                .init("create_subject_key_identifier", .bool, default: false),
                .init("select_crypto_backend", .choice(["auto", "cryptography"]), default: "auto"),
            ],
            mutuallyExclusive: [["privatekey_path", "privatekey_content"]],
            requiredOneOf: [["privatekey_path", "privatekey_content"]]),
        documentation: ActionDocumentation(
            "Generate an OpenSSL Certificate Signing Request on the host and return it",
            examples: """
                - name: A CSR for the node's key, naming the node and its address
                  community.crypto.openssl_csr_pipe:
                    privatekey_path: /etc/pgha/tls/node.key
                    common_name: node1
                    subject_alt_name:
                      - DNS:node1
                      - IP:10.77.0.11
                  register: csr
                """))

    /// community.crypto's subject keys and their OpenSSL short names.
    static let subjectFields: [(argument: String, long: String, short: String)] = [
        ("country_name", "countryName", "C"), ("state_or_province_name", "stateOrProvinceName", "ST"),
        ("locality_name", "localityName", "L"), ("organization_name", "organizationName", "O"),
        ("organizational_unit_name", "organizationalUnitName", "OU"), ("common_name", "commonName", "CN"),
        ("email_address", "emailAddress", "emailAddress"),
    ]

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        do {
            return try await apply(args, context: context)
        } catch let failure as ModuleFailure {
            return failure.result
        } catch let error as CertificateError {
            return .failure(error.message)
        }
    }

    static func apply(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        if args.string("privatekey_passphrase") != nil {
            return .failure("passphrase-protected private keys are not supported by this engine")
        }
        let wanted = try Wanted(args)
        // One round trip: the key's public half and a fresh CSR; which one is returned is decided here.
        let keySource: String
        var stdin: [UInt8]? = nil
        if let path = args.string("privatekey_path") {
            keySource = RemoteProbe.tildeQuote(path)
        } else {
            keySource = "\"$t/key\""
            stdin = Array((args.string("privatekey_content") ?? "").utf8)
        }
        let script = """
            umask 077
            \(stdin == nil ? "" : "cat > \"$t/key\"")
            k=\(keySource)
            [ -r \(keySource) ] || { echo "The private key \(keySource.replacingOccurrences(of: "\"", with: "")) does not exist or is not readable" >&2; exit 3; }
            cat > "$t/req.cnf" <<'PGHA_CNF'
            \(wanted.opensslConfig)
            PGHA_CNF
            openssl pkey -in "$k" -passin pass: -pubout -outform DER | base64 -w0 || exit 4
            echo
            openssl req -new -key "$k" -passin pass: -config "$t/req.cnf" -\(args.string("digest") ?? "sha256") || exit 5
            """
        let result = try await CryptoSupport.run(script, stdin: stdin, context: context)
        guard result.succeeded else {
            return .failure(
                "creating the CSR failed: \(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let output = result.stdoutText
        guard let newline = output.firstIndex(of: "\n"), let keyDER = Base64.decode(String(output[..<newline]))
        else { return .failure("creating the CSR failed: openssl printed no public key") }
        let fresh = String(output[output.index(after: newline)...])
        var changed = true
        var csr = fresh
        if let existing = args.string("content"), let request = try? CertificateRequest(pem: existing),
            wanted.isSatisfied(by: request, publicKeyDER: keyDER)
        {
            changed = false
            csr = existing
        }
        var values: OrderedDictionary<String, Value> = [
            "csr": .string(csr),
            "privatekey": args.string("privatekey_path").map(Value.string) ?? .null,
            "subject": .list(wanted.subject.map { .list([.string($0.0), .string($0.1)]) }),
            "subjectAltName": .list(wanted.extensions.subjectAltNames.map(Value.string)),
            "keyUsage": .list(wanted.extensions.keyUsage.map(Value.string)),
            "extendedKeyUsage": .list(wanted.extensions.extendedKeyUsage.map(Value.string)),
            "basicConstraints": .list(wanted.extensions.basicConstraints.map(Value.string)),
        ]
        values["ocspMustStaple"] = .bool(false)
        var diffs: [FileDiff] = []
        if context.diffMode && changed {
            diffs.append(
                FileDiff(
                    before: args.string("content") ?? "", after: csr, beforeHeader: "", afterHeader: ""))
        }
        return ModuleResult(changed: changed, values: values, diffs: diffs)
    }

    /// The subject and extensions the task asks for, normalised to OpenSSL's spelling.
    struct Wanted {
        var subject: [(String, String)] = []
        var extensions = ExtensionSummary()

        init(_ args: ModuleArguments) throws {
            if case .dict(let dict)? = args["subject"] {
                for (key, value) in dict { subject.append((Self.longName(key), value.pythonString ?? "")) }
            } else if case .list(let items)? = args["subject"] {
                for item in items {
                    guard case .dict(let dict) = item else { continue }
                    for (key, value) in dict { subject.append((Self.longName(key), value.pythonString ?? "")) }
                }
            }
            for field in OpenSSLCSRPipeModule.subjectFields {
                if let value = args.string(field.argument) { subject.append((field.long, value)) }
            }
            var sans = (args["subject_alt_name"]?.listValue ?? []).compactMap { $0.pythonString }.map(Self.normaliseSAN)
            if sans.isEmpty, args.bool("use_common_name_for_san") ?? true,
                let cn = subject.first(where: { $0.0 == "commonName" })?.1
            {
                sans = ["DNS:" + cn]
            }
            extensions.subjectAltNames = sans
            extensions.subjectAltNamesCritical = args.bool("subject_alt_name_critical") ?? false
            extensions.keyUsage = try (args["key_usage"]?.listValue ?? []).compactMap { $0.pythonString }.map(
                Self.keyUsage)
            extensions.keyUsageCritical = args.bool("key_usage_critical") ?? false
            extensions.extendedKeyUsage = (args["extended_key_usage"]?.listValue ?? []).compactMap { $0.pythonString }
                .map(Self.extendedKeyUsage)
            extensions.extendedKeyUsageCritical = args.bool("extended_key_usage_critical") ?? false
            extensions.basicConstraints = (args["basic_constraints"]?.listValue ?? []).compactMap { $0.pythonString }
                .map { $0.replacingOccurrences(of: " ", with: "") }.map {
                    $0.uppercased().hasPrefix("CA:") ? $0.uppercased() : $0
                }
            extensions.basicConstraintsCritical = args.bool("basic_constraints_critical") ?? false
        }

        /// Same subject, same key, same extensions (SANs and usages as sets, as community.crypto compares).
        func isSatisfied(by request: CertificateRequest, publicKeyDER: [UInt8]) -> Bool {
            guard request.publicKeyDER == publicKeyDER else { return false }
            let have = request.subjectAttributes
            guard have.count == subject.count, zip(have, subject).allSatisfy({ $0.0 == $1.0 && $0.1 == $1.1 })
            else { return false }
            let got = request.extensionSummary
            return Set(got.subjectAltNames) == Set(extensions.subjectAltNames)
                && (got.subjectAltNames.isEmpty || got.subjectAltNamesCritical == extensions.subjectAltNamesCritical)
                && Set(got.keyUsage) == Set(extensions.keyUsage)
                && (got.keyUsage.isEmpty || got.keyUsageCritical == extensions.keyUsageCritical)
                && Set(got.extendedKeyUsage) == Set(extensions.extendedKeyUsage)
                && (got.extendedKeyUsage.isEmpty || got.extendedKeyUsageCritical == extensions.extendedKeyUsageCritical)
                && Set(got.basicConstraints) == Set(extensions.basicConstraints)
                && (got.basicConstraints.isEmpty || got.basicConstraintsCritical == extensions.basicConstraintsCritical)
        }

        /// An `openssl req` configuration with the subject and the requested extensions.
        var opensslConfig: String {
            func line(_ key: String, _ values: [String], critical: Bool) -> String? {
                values.isEmpty ? nil : "\(key) = \(critical ? "critical," : "")\(values.joined(separator: ","))"
            }
            var lines = ["[req]", "prompt = no", "distinguished_name = dn", "req_extensions = ext", "[dn]"]
            for (name, value) in subject {
                let short = OpenSSLCSRPipeModule.subjectFields.first { $0.long == name }?.short ?? name
                lines.append("\(short) = \(Self.configValue(value))")
            }
            lines.append("[ext]")
            lines += [
                line("subjectAltName", extensions.subjectAltNames, critical: extensions.subjectAltNamesCritical),
                line("keyUsage", extensions.keyUsage, critical: extensions.keyUsageCritical),
                line("extendedKeyUsage", extensions.extendedKeyUsage, critical: extensions.extendedKeyUsageCritical),
                line("basicConstraints", extensions.basicConstraints, critical: extensions.basicConstraintsCritical),
            ].compactMap { $0 }
            if extensions.subjectAltNames.isEmpty && extensions.keyUsage.isEmpty
                && extensions.extendedKeyUsage.isEmpty && extensions.basicConstraints.isEmpty
            {
                lines.removeLast()  // no [ext] body: drop the reference too
                lines.removeAll { $0 == "req_extensions = ext" }
            }
            return lines.joined(separator: "\n")
        }

        /// OpenSSL config values: `$` starts a variable, so it is escaped.
        static func configValue(_ text: String) -> String {
            text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "$", with: "\\$")
        }

        static func longName(_ key: String) -> String {
            for field in OpenSSLCSRPipeModule.subjectFields
            where [field.argument, field.long, field.short].contains(key) {
                return field.long
            }
            return key
        }

        /// `IP:` addresses as OpenSSL prints them; `DNS:` and the rest as given.
        static func normaliseSAN(_ text: String) -> String {
            guard let colon = text.firstIndex(of: ":") else { return text }
            let kind = String(text[..<colon])
            let value = String(text[text.index(after: colon)...])
            switch kind.uppercased() {
            case "IP":
                var v4 = in_addr()
                if inet_pton(AF_INET, value, &v4) == 1 { return "IP:" + value }
                var v6 = in6_addr()
                if inet_pton(AF_INET6, value, &v6) == 1 {
                    return "IP:" + SubjectAltName.ipText(withUnsafeBytes(of: &v6) { Array($0) })
                }
                return "IP:" + value
            case "DNS": return "DNS:" + value
            case "EMAIL": return "email:" + value
            case "URI": return "URI:" + value
            default: return text
            }
        }

        static let keyUsageNames: [String: String] = [
            "digitalsignature": "digitalSignature", "nonrepudiation": "nonRepudiation",
            "contentcommitment": "nonRepudiation", "keyencipherment": "keyEncipherment",
            "dataencipherment": "dataEncipherment", "keyagreement": "keyAgreement",
            "keycertsign": "keyCertSign", "certificatesign": "keyCertSign", "crlsign": "cRLSign",
            "encipheronly": "encipherOnly", "decipheronly": "decipherOnly",
        ]

        static func keyUsage(_ text: String) throws -> String {
            let key = text.replacingOccurrences(of: " ", with: "").lowercased()
            guard let name = keyUsageNames[key] else { throw CertificateError("unknown key usage \(text)") }
            return name
        }

        static let extendedKeyUsageNames: [String: String] = [
            "serverauth": "serverAuth", "tlswebserverauthentication": "serverAuth",
            "clientauth": "clientAuth", "tlswebclientauthentication": "clientAuth",
            "codesigning": "codeSigning", "emailprotection": "emailProtection",
            "timestamping": "timeStamping", "ocspsigning": "OCSPSigning",
            "anyextendedkeyusage": "anyExtendedKeyUsage",
        ]

        static func extendedKeyUsage(_ text: String) -> String {
            extendedKeyUsageNames[text.replacingOccurrences(of: " ", with: "").lowercased()] ?? text
        }
    }
}
