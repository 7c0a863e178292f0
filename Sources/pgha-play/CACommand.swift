import ArgumentParser
import ClusterCA
import Foundation

/// `pgha-play ca create DIR`: a new cluster CA on the controller, for the inventory or for
/// playbooks/rotate-ca.yml.
struct CACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Make the cluster's certificate authority (ECDSA P-256, swift-certificates).",
        subcommands: [Create.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new CA to DIR/ca.crt and DIR/ca.key (mode 0600).",
            discussion: """
                Put ca.crt into the inventory as pgha_tls_ca_cert and ca.key as pgha_tls_ca_private_key \
                (ansible-vault encrypted), then delete ca.key; or pass both to playbooks/rotate-ca.yml as \
                pgha_tls_next_ca_cert / pgha_tls_next_ca_private_key.
                """)

        @Argument(help: "Directory to create the files in (made if missing; existing files are never overwritten).")
        var directory: String

        @Option(help: "The CA's common name.")
        var commonName = "pgha-play cluster CA"

        @Option(help: "Validity in days.")
        var days = 3650

        func run() throws {
            let manager = FileManager.default
            let certificatePath = directory + "/ca.crt"
            let keyPath = directory + "/ca.key"
            for path in [certificatePath, keyPath] where manager.fileExists(atPath: path) {
                throw ValidationError("\(path) exists: choose another directory (a CA is never overwritten)")
            }
            guard days > 0 else { throw ValidationError("--days must be positive") }
            try manager.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let now = Date()
            let made = try CertificateAuthority.create(
                commonName: commonName, notBefore: now.addingTimeInterval(-3600),
                notAfter: now.addingTimeInterval(Double(days) * 86_400))
            guard
                manager.createFile(
                    atPath: keyPath, contents: Data(made.privateKeyPEM.utf8), attributes: [.posixPermissions: 0o600]),
                manager.createFile(
                    atPath: certificatePath, contents: Data(made.authority.certificatePEM.utf8),
                    attributes: [.posixPermissions: 0o644])
            else { throw ValidationError("cannot write into \(directory)") }
            print("\(certificatePath)\n\(keyPath) (keep it secret: vault it, then delete this file)")
        }
    }
}
