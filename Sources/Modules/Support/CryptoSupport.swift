import Foundation
import OrderedCollections
import PGHACore
import Transport

/// Shared pieces of the community.crypto modules: the openssl CLI on the host (keys are made and
/// used where they live), reading inputs given as a path or as content, fingerprints.
enum CryptoSupport {
    /// What `openssl pkey` tells about a private key file on the host.
    struct KeyFacts: Equatable {
        /// community.crypto's names: RSA, ECC, Ed25519, Ed448, X25519, X448, DSA.
        var type: String
        /// Bits (RSA, DSA, ECC).
        var size: Int?
        /// The curve's community.crypto name (secp256r1, ...), ECC only.
        var curve: String?
        /// The public key, DER SubjectPublicKeyInfo.
        var publicKeyDER: [UInt8]
        /// The PEM label the file uses (`EC PRIVATE KEY`, `PRIVATE KEY`, ...).
        var pemLabel: String
    }

    /// OpenSSL's short curve names to community.crypto's.
    static let curveNames: [String: String] = [
        "prime256v1": "secp256r1", "secp384r1": "secp384r1", "secp521r1": "secp521r1",
        "secp224r1": "secp224r1", "secp256k1": "secp256k1", "prime192v1": "secp192r1",
        "brainpoolP256r1": "brainpoolP256r1", "brainpoolP384r1": "brainpoolP384r1",
        "brainpoolP512r1": "brainpoolP512r1",
    ]

    /// A shell fragment printing, for the key file in `$p`: its PEM header, openssl's text
    /// summary (first line and curve) and the public key as base64 DER, between markers. Prints
    /// `unreadable-key` when openssl cannot read it. The private key itself is never printed.
    static let keyFactsScript = """
        head -n 1 -- "$p"
        if openssl pkey -in "$p" -passin pass: -noout -text >"$t/text" 2>/dev/null \
           && openssl pkey -in "$p" -passin pass: -pubout -outform DER 2>/dev/null | base64 -w0 >"$t/pub"; then
          sed -n '1p;/ASN1 OID:/p' "$t/text"; echo '--pub'; cat "$t/pub"; echo
        else
          echo unreadable-key
        fi
        """

    /// Parses `keyFactsScript`'s output (the lines after any preamble); nil for an unreadable key.
    static func parseKeyFacts(_ lines: [String]) -> KeyFacts? {
        guard let header = lines.first, !lines.contains("unreadable-key"),
            let pubMarker = lines.firstIndex(of: "--pub"), pubMarker + 1 < lines.count,
            let der = Base64.decode(lines[pubMarker + 1])
        else { return nil }
        let label = header.replacingOccurrences(of: "-----BEGIN ", with: "").replacingOccurrences(of: "-----", with: "")
        let summary = lines.count > 1 ? lines[1] : ""
        var facts = KeyFacts(type: "", size: nil, curve: nil, publicKeyDER: der, pemLabel: label)
        if let oidLine = lines.first(where: { $0.contains("ASN1 OID:") }) {
            let name = oidLine.components(separatedBy: "ASN1 OID:").last?.trimmingCharacters(in: .whitespaces) ?? ""
            facts.type = "ECC"
            facts.curve = curveNames[name] ?? name
        } else if summary.hasPrefix("ED25519") {
            facts.type = "Ed25519"
        } else if summary.hasPrefix("ED448") {
            facts.type = "Ed448"
        } else if summary.hasPrefix("X25519") {
            facts.type = "X25519"
        } else if summary.hasPrefix("X448") {
            facts.type = "X448"
        } else if label.contains("DSA") && !label.contains("EC") {
            facts.type = "DSA"
        } else {
            facts.type = "RSA"
        }
        if let open = summary.firstIndex(of: "("), let bits = Int(summary[summary.index(after: open)...].prefix { $0.isNumber }) {
            facts.size = bits
        }
        return facts
    }

    /// `{sha256: "ab:cd:...", ...}` of the public key, as community.crypto's `fingerprint`.
    static func fingerprints(_ der: [UInt8]) -> Value {
        func colon(_ hex: String) -> String {
            var parts: [String] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                parts.append(String(hex[index..<next]))
                index = next
            }
            return parts.joined(separator: ":")
        }
        return .dict([
            "md5": .string(colon(Digest.md5(der))), "sha1": .string(colon(Digest.sha1(der))),
            "sha256": .string(colon(Digest.sha256(der))), "sha512": .string(colon(Digest.sha512(der))),
        ])
    }

    /// The text of an input given either as `<name>_content` or as `<name>_path` (read through the
    /// connection, which is the controller when the task is delegated to localhost). Nil when neither.
    static func input(
        _ args: ModuleArguments, content contentKey: String, path pathKey: String, context: ModuleContext
    ) async throws -> String? {
        if let content = args.string(contentKey) { return content }
        guard let path = args.string(pathKey) else { return nil }
        do {
            return String(decoding: try await context.connection.get(path, become: context.become), as: UTF8.self)
        } catch let error as PGHAError {
            throw ModuleFailure(message: "cannot read \(pathKey) \(path): \(error.message)")
        }
    }

    /// Runs a script that uses a private temporary directory `$t` (removed afterwards).
    static func run(_ body: String, stdin: [UInt8]? = nil, context: ModuleContext) async throws -> CommandResult {
        let script = """
            command -v openssl >/dev/null 2>&1 || { echo 'openssl is not installed on the host (apt install openssl)' >&2; exit 91; }
            t=$(mktemp -d) || exit 90
            trap 'rm -rf -- "$t"' EXIT
            \(body)
            """
        let result = try await context.connection.run(
            CommandRequest(script, stdin: stdin, environment: context.environment, become: context.become))
        if result.exitStatus == 91 || result.exitStatus == 90 {
            throw ModuleFailure(message: result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return result
    }
}
