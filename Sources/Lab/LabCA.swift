import ClusterCA
import Foundation

extension HostFiles {
    /// Creates the lab-only cluster CA beside the lab key once (ECDSA P-256, 10 years); later calls
    /// keep it. It protects nothing outside the lab: its key sits in a root-only directory.
    public func ensureLabCA(now: Date = Date()) throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: paths.caCertificate) && manager.fileExists(atPath: paths.caPrivateKey) { return }
        let made = try CertificateAuthority.create(
            commonName: "pgha-play lab CA", notBefore: now.addingTimeInterval(-3600),
            notAfter: now.addingTimeInterval(3650 * 86_400))
        // The key first, private from its creation; the certificate last marks the CA complete.
        guard manager.createFile(
            atPath: paths.caPrivateKey, contents: Data(made.privateKeyPEM.utf8), attributes: [.posixPermissions: 0o600])
        else { throw CertificateError("cannot write \(paths.caPrivateKey)") }
        guard manager.createFile(
            atPath: paths.caCertificate, contents: Data(made.authority.certificatePEM.utf8),
            attributes: [.posixPermissions: 0o644])
        else { throw CertificateError("cannot write \(paths.caCertificate)") }
    }
}
