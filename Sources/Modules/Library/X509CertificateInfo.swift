import ClusterCA
import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.crypto.x509_certificate_info`: what a certificate says (validity, names, usages,
/// fingerprints), from a file on the host or from `content`. `valid_at` answers "is it still
/// valid then?" for renewal decisions, e.g. `valid_at: {renew: "+30d"}`.
public enum X509CertificateInfoModule: Module {
    public static let declaration = ActionDeclaration(
        name: "x509_certificate_info", qualifiedNames: ["community.crypto.x509_certificate_info"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("path", .path),
                .init("content", .string),
                .init("valid_at", .dict),
                .init("name_encoding", .choice(["ignore", "idna", "unicode"]), default: "ignore"),
                .init("select_crypto_backend", .choice(["auto", "cryptography"]), default: "auto"),
            ], mutuallyExclusive: [["path", "content"]], requiredOneOf: [["path", "content"]]),
        documentation: ActionDocumentation(
            "Retrieve information on X.509 certificates",
            examples: """
                - name: Will the node certificate still be valid in 30 days?
                  community.crypto.x509_certificate_info:
                    path: /etc/pgha/tls/node.crt
                    valid_at:
                      renewal: "+30d"
                  register: info
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let text: String
        if let content = args.string("content") {
            text = content
        } else {
            let path = args.string("path") ?? ""
            do {
                text = String(decoding: try await context.connection.get(path, become: context.become), as: UTF8.self)
            } catch let error as PGHAError where error.kind != .unreachable {
                return .failure("Error while reading certificate file from disk: \(path): \(error.message)")
            }
        }
        let info: CertificateInfo
        do {
            info = try CertificateInfo(pem: text)
        } catch let error as CertificateError {
            return .failure("Error while decoding certificate: \(error.message)")
        }
        do {
            return ModuleResult(changed: false, values: try values(info, validAt: args["valid_at"]?.dictValue ?? [:]))
        } catch let failure as ModuleFailure {
            return failure.result
        }
    }

    static func values(_ info: CertificateInfo, validAt: OrderedDictionary<String, Value>, now: Date = Date()) throws
        -> OrderedDictionary<String, Value>
    {
        func pairs(_ list: [(String, String)]) -> Value {
            var dict: OrderedDictionary<String, Value> = [:]
            for (key, value) in list { dict[key] = .string(value) }
            return .dict(dict)
        }
        func ordered(_ list: [(String, String)]) -> Value { .list(list.map { .list([.string($0.0), .string($0.1)]) }) }
        var valid: OrderedDictionary<String, Value> = [:]
        for (name, spec) in validAt {
            guard let moment = CertificateTime.date(spec.pythonString ?? "", now: now) else {
                throw ModuleFailure(message: "valid_at.\(name) must be an ASN.1 time or a relative time such as +30d")
            }
            valid[name] = .bool(info.notBefore <= moment && moment <= info.notAfter)
        }
        let extensions = info.extensionSummary
        var fingerprints: OrderedDictionary<String, Value> = [:]
        for (name, value) in info.fingerprints { fingerprints[name] = .string(value) }
        return [
            "expired": .bool(now > info.notAfter),
            "not_before": .string(CertificateInfo.asn1Time(info.notBefore)),
            "not_after": .string(CertificateInfo.asn1Time(info.notAfter)),
            "subject": pairs(info.subject), "subject_ordered": ordered(info.subject),
            "issuer": pairs(info.issuer), "issuer_ordered": ordered(info.issuer),
            "serial_number": Int(info.serialNumber).map(Value.int) ?? .string(info.serialNumber),
            "subject_alt_name": extensions.subjectAltNames.isEmpty ? .null : .list(extensions.subjectAltNames.map(Value.string)),
            "subject_alt_name_critical": .bool(extensions.subjectAltNamesCritical),
            // Sorted by name, as community.crypto reports usages.
            "key_usage": info.keyUsage.isEmpty ? .null : .list(info.keyUsage.sorted().map(Value.string)),
            "key_usage_critical": .bool(extensions.keyUsageCritical),
            "extended_key_usage": info.extendedKeyUsage.isEmpty ? .null : .list(info.extendedKeyUsage.sorted().map(Value.string)),
            "extended_key_usage_critical": .bool(extensions.extendedKeyUsageCritical),
            "basic_constraints": extensions.basicConstraints.isEmpty ? .null : .list(extensions.basicConstraints.map(Value.string)),
            "basic_constraints_critical": .bool(extensions.basicConstraintsCritical),
            "public_key": .string(info.publicKeyPEM),
            "public_key_type": .string(info.publicKeyType),
            "signature_algorithm": .string(info.signatureAlgorithm),
            "fingerprints": .dict(fingerprints),
            "version": .int(3),
            "valid_at": .dict(valid),
        ]
    }
}
