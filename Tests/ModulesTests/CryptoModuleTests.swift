import ClusterCA
import Foundation
import OrderedCollections
import PGHACore
import Testing
import Transport

@testable import Modules

/// The community.crypto modules on a real host (this machine through LocalConnection): keys made by
/// openssl there, CSRs read back, certificates signed in-process, check mode and diffs. What they
/// produce is judged by openssl; the same flow against ansible-playbook is the 54-crypto-modules
/// playbook differential, and on the lab cluster the tls role.
struct CryptoModuleTests {
    static let nodeCSRArguments: OrderedDictionary<String, Value> = [
        "common_name": "node1", "subject_alt_name": ["DNS:node1", "IP:10.77.0.11"],
        "key_usage": ["digitalSignature"], "key_usage_critical": true, "extended_key_usage": ["serverAuth", "clientAuth"],
    ]

    @Test(arguments: TestTarget.all)
    func aPrivateKeyIsMadeOnTheHostOnceInOneRoundTripAfterwards(_ target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let args: OrderedDictionary<String, Value> = ["path": .string(box.path("n.key")), "type": "ECC", "curve": "secp256r1"]
        let check = try await box.expectCheckModeChangesNothing(OpenSSLPrivateKeyModule.self, args)
        #expect(check.values["type"] == "ECC")
        let (first, _, secondTrips) = try await box.expectIdempotent(OpenSSLPrivateKeyModule.self, args)
        #expect(secondTrips == 1)
        #expect(first.values["curve"] == "secp256r1")
        let header = try await box.sh("stat -c %a \(box.path("n.key")); head -n 1 \(box.path("n.key"))")
        #expect(header == "600\n-----BEGIN EC PRIVATE KEY-----\n")
        // The reported fingerprint is the public key's, as openssl computes it.
        let expected = try await box.sh(
            "openssl pkey -in \(box.path("n.key")) -pubout -outform DER | sha256sum | cut -d' ' -f1")
        let reported = first.values["fingerprint"]?["sha256"]?.stringValue?.replacingOccurrences(of: ":", with: "")
        #expect(reported == expected.trimmingCharacters(in: .whitespacesAndNewlines))
        // The key itself never comes back, not even in a diff.
        box.diffMode = true
        let other = try await box.run(
            OpenSSLPrivateKeyModule.self, ["path": .string(box.path("n.key")), "type": "ECC", "curve": "secp384r1"])
        box.diffMode = false
        #expect(other.result.changed && other.result.values["curve"] == "secp384r1")
        let key = try await box.sh("cat \(box.path("n.key"))")
        let body = key.split(separator: "\n")[1]
        #expect(!"\(other.result.values)\(other.result.diffs)".contains(body))
        let refused = try await box.run(
            OpenSSLPrivateKeyModule.self, ["path": .string(box.path("n.key")), "type": "ECC", "curve": "secp256r1", "regenerate": "fail"])
        #expect(refused.result.failed)
    }

    @Test(arguments: TestTarget.all)
    func aCSRIsKeptWhileItStillAsksForTheSameThing(_ target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        _ = try await box.run(OpenSSLPrivateKeyModule.self, ["path": .string(box.path("n.key")), "type": "ECC", "curve": "secp256r1"])
        var args = Self.nodeCSRArguments
        args["privatekey_path"] = .string(box.path("n.key"))
        let first = try await box.run(OpenSSLCSRPipeModule.self, args)
        #expect(first.result.changed && first.roundTrips == 1)
        let csr = try #require(first.result.values["csr"]?.stringValue)
        #expect(try CertificateRequest(pem: csr).subjectAlternativeNames == ["DNS:node1", "IP:10.77.0.11"])
        args["content"] = .string(csr)
        let again = try await box.run(OpenSSLCSRPipeModule.self, args)
        #expect(!again.result.changed && again.result.values["csr"]?.stringValue == csr)
        args["subject_alt_name"] = ["DNS:node1", "IP:10.77.0.11", "DNS:db.example.com"]
        let moreNames = try await box.run(OpenSSLCSRPipeModule.self, args)
        #expect(moreNames.result.changed)
        let unknownUsage = try await box.run(
            OpenSSLCSRPipeModule.self, ["privatekey_path": .string(box.path("n.key")), "key_usage": ["flyingSaucer"]])
        #expect(unknownUsage.result.failed && unknownUsage.result.msg?.contains("flyingSaucer") == true)
    }

    @Test(arguments: TestTarget.all)
    func aCertificateFileIsSignedKeptAndReplacedWhenTheCAChanges(_ target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let now = Date()
        let (firstCA, firstKey) = try CertificateAuthority.create(commonName: "one", notBefore: now.addingTimeInterval(-60), notAfter: now.addingTimeInterval(86_400))
        let (secondCA, secondKey) = try CertificateAuthority.create(commonName: "two", notBefore: now.addingTimeInterval(-60), notAfter: now.addingTimeInterval(86_400))
        _ = try await box.run(OpenSSLPrivateKeyModule.self, ["path": .string(box.path("n.key")), "type": "ECC", "curve": "secp256r1"])
        var csrArgs = Self.nodeCSRArguments
        csrArgs["privatekey_path"] = .string(box.path("n.key"))
        let csr = try #require(try await box.run(OpenSSLCSRPipeModule.self, csrArgs).result.values["csr"]?.stringValue)
        var args: OrderedDictionary<String, Value> = [
            "path": .string(box.path("n.crt")), "provider": "ownca", "csr_content": .string(csr),
            "ownca_content": .string(firstCA.certificatePEM), "ownca_privatekey_content": .string(firstKey),
            "ownca_not_after": "+10d", "mode": "0644",
        ]
        _ = try await box.expectCheckModeChangesNothing(X509CertificateModule.self, args)
        _ = try await box.expectIdempotent(X509CertificateModule.self, args)
        try await box.sh("printf '%s' \(shellQuote(firstCA.certificatePEM)) > \(box.path("one.crt"))")
        let verified = try await box.sh("openssl verify -CAfile \(box.path("one.crt")) \(box.path("n.crt"))")
        #expect(verified.hasSuffix(": OK\n"))
        let info = try await box.run(
            X509CertificateInfoModule.self, ["path": .string(box.path("n.crt")), "valid_at": ["week": "+7d", "month": "+30d"]])
        #expect(info.result.values["valid_at"] == .dict(["week": true, "month": false]))
        #expect(info.result.values["issuer"] == .dict(["commonName": "one"]))

        args["ownca_content"] = .string(secondCA.certificatePEM)
        args["ownca_privatekey_content"] = .string(secondKey)
        box.diffMode = true
        let resigned = try await box.run(X509CertificateModule.self, args)
        box.diffMode = false
        #expect(resigned.result.changed, "a certificate from another CA is replaced")
        #expect(!"\(resigned.result.values)\(resigned.result.diffs)".contains(secondKey.split(separator: "\n")[1]))
        let issuer = try await box.sh("openssl x509 -in \(box.path("n.crt")) -noout -issuer")
        #expect(issuer == "issuer=CN = two\n")
    }

    @Test func pipeSigningNeedsACSRAndRefusesAWrongCAKey() async throws {
        let box = try await Sandbox(.local)
        defer { Task { await box.cleanup() } }
        let now = Date()
        let (ca, _) = try CertificateAuthority.create(commonName: "one", notBefore: now, notAfter: now.addingTimeInterval(86_400))
        let (_, otherKey) = try CertificateAuthority.create(commonName: "two", notBefore: now, notAfter: now.addingTimeInterval(86_400))
        let noCSR = try await box.run(
            X509CertificatePipeModule.self,
            ["provider": "ownca", "ownca_content": .string(ca.certificatePEM), "ownca_privatekey_content": .string(otherKey)])
        #expect(noCSR.result.failed && noCSR.result.msg?.contains("csr_path or csr_content") == true)
        _ = try await box.run(OpenSSLPrivateKeyModule.self, ["path": .string(box.path("n.key")), "type": "ECC", "curve": "secp256r1"])
        var csrArgs = Self.nodeCSRArguments
        csrArgs["privatekey_path"] = .string(box.path("n.key"))
        let csr = try #require(try await box.run(OpenSSLCSRPipeModule.self, csrArgs).result.values["csr"]?.stringValue)
        let wrongKey = try await box.run(
            X509CertificatePipeModule.self,
            [
                "provider": "ownca", "csr_content": .string(csr), "ownca_content": .string(ca.certificatePEM),
                "ownca_privatekey_content": .string(otherKey),
            ])
        #expect(wrongKey.result.failed && wrongKey.result.msg == "the CA private key does not belong to the CA certificate")
        #expect(!(wrongKey.result.msg ?? "").contains(otherKey.split(separator: "\n")[1]))
        #expect(throws: PGHAError.self) {
            _ = try X509CertificatePipeModule.arguments.validate(
                ["provider": "ownca", "csr_content": "x", "csr_path": "/y"], module: "x509_certificate_pipe", locations: [:],
                taskLocation: SourceLocation(file: "t.yml", line: 1), allowTemplates: false)
        }
    }
}
