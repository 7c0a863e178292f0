import ClusterCA
import Foundation
import Testing

/// The controller's CA checked against OpenSSL as the oracle: openssl makes keys and CSRs as the
/// nodes do, and `openssl verify` / `openssl x509 -text` judge what ClusterCA signs.
struct ClusterCATests {
    let now = Date()

    @Test func aNewCAIsASelfSignedP256CA() throws {
        let made = try CertificateAuthority.create(
            commonName: "test CA", notBefore: now.addingTimeInterval(-60), notAfter: now.addingTimeInterval(86_400 * 10))
        let dir = try Scratch()
        try dir.write("ca.crt", made.authority.certificatePEM)
        let verify = try OpenSSL.run(["verify", "-CAfile", dir.path("ca.crt"), dir.path("ca.crt")])
        #expect(verify.status == 0, "\(verify.output)")
        let text = try OpenSSL.run(["x509", "-in", dir.path("ca.crt"), "-noout", "-text"]).output
        #expect(text.contains("CA:TRUE, pathlen:0"))
        #expect(text.contains("Certificate Sign, CRL Sign"))
        #expect(text.contains("ecdsa-with-SHA256"))
        #expect(text.contains("NIST CURVE: P-256"))
        #expect(text.contains("Subject: CN = test CA") && text.contains("Issuer: CN = test CA"))
        #expect(made.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        // openssl reads the key and finds it belongs to the certificate.
        try dir.write("ca.key", made.privateKeyPEM)
        let keyPub = try OpenSSL.run(["pkey", "-in", dir.path("ca.key"), "-pubout"]).output
        let certPub = try OpenSSL.run(["x509", "-in", dir.path("ca.crt"), "-noout", "-pubkey"]).output
        #expect(keyPub == certPub)
    }

    @Test func aCSRMadeByOpenSSLIsSignedWithItsNamesAndVerifies() throws {
        let (authority, _) = try CertificateAuthority.create(
            commonName: "cluster CA", notBefore: now.addingTimeInterval(-60), notAfter: now.addingTimeInterval(86_400 * 3650))
        let dir = try Scratch()
        try dir.write("ca.crt", authority.certificatePEM)
        let csr = try OpenSSL.csr(
            in: dir, commonName: "node1",
            sans: "DNS:node1,IP:10.77.0.11,DNS:localhost,IP:127.0.0.1,IP:2001:db8::5",
            extra: "keyUsage = critical,digitalSignature,keyAgreement\nextendedKeyUsage = serverAuth,clientAuth")
        let request = try CertificateRequest(pem: csr)
        #expect(request.subjectAlternativeNames == ["DNS:node1", "IP:10.77.0.11", "DNS:localhost", "IP:127.0.0.1", "IP:2001:db8::5"])
        let notAfter = now.addingTimeInterval(86_400 * 365)
        let pem = try authority.sign(request, notBefore: now.addingTimeInterval(-3600), notAfter: notAfter)
        try dir.write("node.crt", pem)

        let verify = try OpenSSL.run(["verify", "-CAfile", dir.path("ca.crt"), "-purpose", "sslserver", dir.path("node.crt")])
        #expect(verify.status == 0, "\(verify.output)")
        let client = try OpenSSL.run(["verify", "-CAfile", dir.path("ca.crt"), "-purpose", "sslclient", dir.path("node.crt")])
        #expect(client.status == 0, "\(client.output)")
        let hostCheck = try OpenSSL.run(["verify", "-CAfile", dir.path("ca.crt"), "-verify_ip", "10.77.0.11", dir.path("node.crt")])
        #expect(hostCheck.status == 0, "\(hostCheck.output)")
        let wrongHost = try OpenSSL.run(["verify", "-CAfile", dir.path("ca.crt"), "-verify_ip", "10.77.0.12", dir.path("node.crt")])
        #expect(wrongHost.status != 0)

        let text = try OpenSSL.run(["x509", "-in", dir.path("node.crt"), "-noout", "-text"]).output
        #expect(text.contains("DNS:node1, IP Address:10.77.0.11, DNS:localhost, IP Address:127.0.0.1, IP Address:2001:DB8:0:0:0:0:0:5"))
        #expect(text.contains("TLS Web Server Authentication, TLS Web Client Authentication"))
        #expect(text.contains("Digital Signature, Key Agreement"))
        #expect(text.contains("Subject: CN = node1") && text.contains("Issuer: CN = cluster CA"))
        // The authority key identifier names the CA's key.
        let caSKI = try OpenSSL.run(["x509", "-in", dir.path("ca.crt"), "-noout", "-ext", "subjectKeyIdentifier"]).output
            .split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "?"
        #expect(text.contains(caSKI), "AKI should be \(caSKI)")
        // The key in the certificate is the node's: openssl's own key file matches it.
        let keyPub = try OpenSSL.run(["pkey", "-in", dir.path("node.key"), "-pubout"]).output
        let certPub = try OpenSSL.run(["x509", "-in", dir.path("node.crt"), "-noout", "-pubkey"]).output
        #expect(keyPub == certPub)

        let info = try CertificateInfo(pem: pem)
        #expect(abs(info.notAfter.timeIntervalSince(notAfter)) < 1)
        #expect(info.subjectAlternativeNames == request.subjectAlternativeNames)
        #expect(info.matches(request))
        #expect(authority.issued(info))
        #expect(!info.isCertificateAuthority)
    }

    @Test func anotherCAsCertificateIsNotIssuedByThisOne() throws {
        let (first, _) = try CertificateAuthority.create(commonName: "same name", notBefore: now, notAfter: now.addingTimeInterval(86_400))
        let (second, _) = try CertificateAuthority.create(commonName: "same name", notBefore: now, notAfter: now.addingTimeInterval(86_400))
        let dir = try Scratch()
        let request = try CertificateRequest(pem: try OpenSSL.csr(in: dir, commonName: "n", sans: "DNS:n", extra: ""))
        let info = try CertificateInfo(pem: try first.sign(request, notBefore: now, notAfter: now.addingTimeInterval(3600)))
        #expect(first.issued(info))
        #expect(!second.issued(info), "same subject, other key: the signature decides")
    }

    @Test func aCertificateNoLongerMatchesACSRWithOtherNamesOrAnotherKey() throws {
        let (authority, _) = try CertificateAuthority.create(commonName: "ca", notBefore: now, notAfter: now.addingTimeInterval(86_400))
        let dir = try Scratch()
        let original = try CertificateRequest(pem: try OpenSSL.csr(in: dir, commonName: "n", sans: "DNS:n,IP:10.0.0.1", extra: ""))
        let info = try CertificateInfo(pem: try authority.sign(original, notBefore: now, notAfter: now.addingTimeInterval(3600)))
        let moreNames = try CertificateRequest(
            pem: try OpenSSL.csr(in: dir, commonName: "n", sans: "DNS:n,IP:10.0.0.1,IP:10.0.0.2", extra: "", newKey: false))
        #expect(!info.matches(moreNames))
        let sameNames = try CertificateRequest(
            pem: try OpenSSL.csr(in: dir, commonName: "n", sans: "DNS:n,IP:10.0.0.1", extra: "", newKey: false))
        #expect(info.matches(sameNames))
        let otherKey = try CertificateRequest(pem: try OpenSSL.csr(in: dir, commonName: "n", sans: "DNS:n,IP:10.0.0.1", extra: ""))
        #expect(!info.matches(otherKey))
    }

    @Test func aTamperedCSRIsRefused() throws {
        let dir = try Scratch()
        let pem = try OpenSSL.csr(in: dir, commonName: "node1", sans: "DNS:node1", extra: "")
        // Flip one byte inside the base64 body: the DER still parses or not, but must not verify.
        var lines = pem.split(separator: "\n").map(String.init)
        var body = Array(lines[2])
        body[10] = body[10] == "A" ? "B" : "A"
        lines[2] = String(body)
        #expect(throws: CertificateError.self) { try CertificateRequest(pem: lines.joined(separator: "\n")) }
    }

    @Test func aCAKeyThatDoesNotBelongOrANonCAIsRefusedWithoutQuotingTheKey() throws {
        let (one, _) = try CertificateAuthority.create(commonName: "one", notBefore: now, notAfter: now.addingTimeInterval(86_400))
        let (_, otherKey) = try CertificateAuthority.create(commonName: "two", notBefore: now, notAfter: now.addingTimeInterval(86_400))
        #expect(throws: CertificateError.self) {
            try CertificateAuthority(certificatePEM: one.certificatePEM, privateKeyPEM: otherKey)
        }
        let garbage = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n"
        do {
            _ = try CertificateAuthority(certificatePEM: one.certificatePEM, privateKeyPEM: garbage)
            Issue.record("a garbage key was accepted")
        } catch let error as CertificateError {
            #expect(!error.message.contains("c2VjcmV0"), "\(error.message)")
        }
        let dir = try Scratch()
        let leafRequest = try CertificateRequest(pem: try OpenSSL.csr(in: dir, commonName: "leaf", sans: "DNS:leaf", extra: ""))
        let leaf = try one.sign(leafRequest, notBefore: now, notAfter: now.addingTimeInterval(3600))
        let leafKey = try String(contentsOfFile: dir.path("node.key"), encoding: .utf8)
        #expect(throws: CertificateError.self) { try CertificateAuthority(certificatePEM: leaf, privateKeyPEM: leafKey) }
    }

    @Test func selfSignedUsesTheCSRsOwnKey() throws {
        let dir = try Scratch()
        let request = try CertificateRequest(pem: try OpenSSL.csr(in: dir, commonName: "self", sans: "DNS:self", extra: ""))
        let key = try String(contentsOfFile: dir.path("node.key"), encoding: .utf8)
        // Valid from this very moment: openssl (whole seconds) must accept it at once.
        let pem = try SelfSigned.sign(request, privateKeyPEM: key, notBefore: Date(), notAfter: now.addingTimeInterval(3600))
        try dir.write("self.crt", pem)
        let verify = try OpenSSL.run(["verify", "-CAfile", dir.path("self.crt"), "-partial_chain", dir.path("self.crt")])
        #expect(verify.status == 0, "\(verify.output)")
    }

    @Test(arguments: [
        ("+30d", 30 * 86_400.0), ("+1w2d", 9 * 86_400.0), ("-1h", -3_600.0), ("+0s", 0.0), ("+1d12h30m15s", 131_415.0),
    ])
    func relativeTimes(spec: String, seconds: Double) throws {
        let date = try #require(CertificateTime.date(spec, now: now))
        #expect(abs(date.timeIntervalSince(now) - seconds) < 0.001)
    }

    @Test func absoluteAndInvalidTimes() throws {
        let date = try #require(CertificateTime.date("20301231235959Z", now: now))
        #expect(CertificateInfo.asn1Time(date) == "20301231235959Z")
        for bad in ["", "+", "+30", "+30x", "+1d1w", "tomorrow", "2030-12-31"] {
            #expect(CertificateTime.date(bad, now: now) == nil, "\(bad)")
        }
    }
}

/// A private scratch directory.
struct Scratch {
    let root: String
    init() throws {
        root = NSTemporaryDirectory() + "clusterca-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { root + "/" + name }
    func write(_ name: String, _ text: String) throws { try text.write(toFile: path(name), atomically: true, encoding: .utf8) }
}

/// The openssl CLI as the oracle.
enum OpenSSL {
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A P-256 key (node.key, kept unless newKey) and a CSR for it, made as the nodes make them.
    static func csr(in dir: Scratch, commonName: String, sans: String, extra: String, newKey: Bool = true) throws -> String {
        if newKey || !FileManager.default.fileExists(atPath: dir.path("node.key")) {
            let key = try run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", dir.path("node.key")])
            try #require(key.status == 0, "\(key.output)")
        }
        try dir.write(
            "req.cnf",
            "[req]\nprompt = no\ndistinguished_name = dn\nreq_extensions = ext\n[dn]\nCN = \(commonName)\n[ext]\nsubjectAltName = \(sans)\n\(extra)\n")
        let made = try run(["req", "-new", "-key", dir.path("node.key"), "-config", dir.path("req.cnf"), "-out", dir.path("req.csr")])
        try #require(made.status == 0, "\(made.output)")
        return try String(contentsOfFile: dir.path("req.csr"), encoding: .utf8)
    }
}
