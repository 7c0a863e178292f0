import ClusterCA
import Foundation
import OrderedCollections
import PGHACore
import Transport

/// What x509_certificate and x509_certificate_pipe share: the provider arguments and the decision
/// to keep or (re)issue a certificate, signed in this process with swift-certificates. Keys given
/// by path are read through the connection: delegate the task to localhost to keep a CA key on the
/// controller.
enum CertificateSigning {
    static let arguments: [ArgumentSpec.Argument] = [
        .init("provider", .choice(["entrust", "ownca", "selfsigned"])),
        .init("force", .bool, default: false),
        .init("ignore_timestamps", .bool, default: true),
        .init("csr_path", .path),
        .init("csr_content", .string),
        .init("privatekey_path", .path),
        .init("privatekey_content", .string, secret: true),
        .init("privatekey_passphrase", .string, secret: true),
        .init("ownca_path", .path),
        .init("ownca_content", .string),
        .init("ownca_privatekey_path", .path),
        .init("ownca_privatekey_content", .string, secret: true),
        .init("ownca_privatekey_passphrase", .string, secret: true),
        .init("ownca_digest", .string, default: "sha256"),
        .init("ownca_version", .int, default: 3),
        .init("ownca_not_before", .string, default: "+0s"),
        .init("ownca_not_after", .string, default: "+3650d"),
        .init(
            "ownca_create_subject_key_identifier",
            .choice(["create_if_not_provided", "always_create", "never_create"]), default: "create_if_not_provided"),
        .init("ownca_create_authority_key_identifier", .bool, default: true),
        .init("selfsigned_version", .int, default: 3),
        .init("selfsigned_digest", .string, default: "sha256"),
        .init("selfsigned_not_before", .string, default: "+0s", aliases: ["selfsigned_notBefore"]),
        .init("selfsigned_not_after", .string, default: "+3650d", aliases: ["selfsigned_notAfter"]),
        .init(
            "selfsigned_create_subject_key_identifier",
            .choice(["create_if_not_provided", "always_create", "never_create"]), default: "create_if_not_provided"),
        .init("select_crypto_backend", .choice(["auto", "cryptography"]), default: "auto"),
    ]

    static let exclusive: [[String]] = [
        ["csr_path", "csr_content"], ["privatekey_path", "privatekey_content"], ["ownca_path", "ownca_content"],
        ["ownca_privatekey_path", "ownca_privatekey_content"],
    ]

    struct Outcome {
        var certificate: String
        var changed: Bool
    }

    /// Keeps `existing` when it still fits the CSR, key and CA (community.crypto's checks), issues a
    /// new certificate otherwise.
    static func decide(existing: String?, args: ModuleArguments, context: ModuleContext, now: Date = Date())
        async throws -> Outcome
    {
        let provider = args.string("provider") ?? ""
        guard provider == "ownca" || provider == "selfsigned" else {
            throw ModuleFailure(message: "provider \(provider) is not supported by this engine (ownca, selfsigned)")
        }
        for passphrase in ["privatekey_passphrase", "ownca_privatekey_passphrase"] where args.string(passphrase) != nil {
            throw ModuleFailure(message: "passphrase-protected private keys are not supported by this engine")
        }
        guard
            let csrText = try await CryptoSupport.input(args, content: "csr_content", path: "csr_path", context: context)
        else {
            throw ModuleFailure(message: "csr_path or csr_content is required for provider \(provider)")
        }
        let request = try CertificateRequest(pem: csrText)
        let privateKey = try await CryptoSupport.input(
            args, content: "privatekey_content", path: "privatekey_path", context: context)
        let prefix = provider == "ownca" ? "ownca" : "selfsigned"
        guard let notBefore = CertificateTime.date(args.string("\(prefix)_not_before") ?? "+0s", now: now),
            let notAfter = CertificateTime.date(args.string("\(prefix)_not_after") ?? "+3650d", now: now)
        else {
            throw ModuleFailure(
                message: "\(prefix)_not_before/\(prefix)_not_after must be ASN.1 times (20301231235959Z) or relative (+3650d)")
        }
        var authority: CertificateAuthority? = nil
        if provider == "ownca" {
            guard
                let caText = try await CryptoSupport.input(
                    args, content: "ownca_content", path: "ownca_path", context: context),
                let caKey = try await CryptoSupport.input(
                    args, content: "ownca_privatekey_content", path: "ownca_privatekey_path", context: context)
            else {
                throw ModuleFailure(message: "provider ownca needs ownca_path/ownca_content and ownca_privatekey_path/ownca_privatekey_content")
            }
            authority = try CertificateAuthority(certificatePEM: caText, privateKeyPEM: caKey)
        } else {
            guard privateKey != nil else {
                throw ModuleFailure(message: "provider selfsigned needs privatekey_path or privatekey_content")
            }
        }

        if !(args.bool("force") ?? false), let existing, let current = try? CertificateInfo(pem: existing) {
            var keep = current.matches(request)
            if keep, let privateKey { keep = current.belongs(toPrivateKeyPEM: privateKey) }
            if keep, let authority { keep = authority.issued(current) }
            if keep, !(args.bool("ignore_timestamps") ?? true) {
                keep = abs(current.notBefore.timeIntervalSince(notBefore)) < 1
                    && abs(current.notAfter.timeIntervalSince(notAfter)) < 1
            }
            if keep { return Outcome(certificate: existing, changed: false) }
        }
        let issued: String
        if let authority {
            issued = try authority.sign(request, notBefore: notBefore, notAfter: notAfter)
        } else {
            issued = try SelfSigned.sign(request, privateKeyPEM: privateKey ?? "", notBefore: notBefore, notAfter: notAfter)
        }
        return Outcome(certificate: issued, changed: true)
    }
}
