import Foundation
import PGHACore
import Testing
import Transport

@testable import SSHTransport

@Suite(.enabled(if: SSHD.enabled, "sshd fixture unavailable (needs root); CI=true makes this fail instead"))
struct HostKeyTests {
    private func connect(knownHosts: String, policy: SSHOptions.HostKeyPolicy = .strict) async throws {
        try SSHD.requireServer()
        let connection = SSHConnection(
            hostName: "hostkey-test", options: SSHD.options(knownHosts: knownHosts, policy: policy))
        try await connection.connect()
        await connection.close()
    }

    /// The fingerprint as `ssh-keygen -l` prints it for the server's ed25519 key.
    private func expectedFingerprint() -> String {
        let (_, output) = SSHD.shell("ssh-keygen -lf \(SSHD.directory)/ssh_host_ed25519_key.pub")
        return output.split(separator: " ").dropFirst().first.map(String.init) ?? "?"
    }

    @Test func knownKeyIsAccepted() async throws {
        try await connect(knownHosts: SSHD.trustedKnownHosts)
    }

    @Test func unknownKeyIsRefusedWithItsFingerprint() async throws {
        let file = SSHD.knownHosts(["# nothing here yet", "otherhost \(SSHD.hostPublicKey())"])
        let error = await expectPGHAError { try await connect(knownHosts: file) }
        #expect(error?.kind == .unreachable)
        #expect(error?.message.contains("is not known") == true)
        #expect(error?.message.contains(expectedFingerprint()) == true)
        #expect(error?.hint?.contains("ssh-keyscan") == true)
        #expect(error?.hint?.contains("accept-new") == true)
        // Strict never writes.
        #expect(try String(contentsOfFile: file, encoding: .utf8).contains("127.0.0.1") == false)
    }

    @Test func acceptNewRecordsTheKey() async throws {
        let file = SSHD.knownHosts(["otherhost \(SSHD.hostPublicKey())"])
        try await connect(knownHosts: file, policy: .acceptNew)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("[127.0.0.1]:\(SSHD.port) \(SSHD.hostPublicKey())\n"))
        // What was recorded is what a strict check then trusts, and what OpenSSH reads.
        try await connect(knownHosts: file)
        let (status, output) = SSHD.shell("ssh-keygen -F '[127.0.0.1]:\(SSHD.port)' -f \(file)")
        #expect(status == 0, "ssh-keygen -F did not find it: \(output)")
    }

    @Test func changedKeyIsRefusedEvenWithAcceptNew() async throws {
        let otherKey = (try? String(contentsOfFile: "\(SSHD.directory)/other_host_key.pub", encoding: .utf8)) ?? ""
        let forged = otherKey.split(separator: " ").prefix(2).joined(separator: " ")
        let file = SSHD.knownHosts(["[127.0.0.1]:\(SSHD.port) \(forged)"])
        for policy in [SSHOptions.HostKeyPolicy.strict, .acceptNew] {
            let error = await expectPGHAError { try await connect(knownHosts: file, policy: policy) }
            #expect(error?.kind == .unreachable)
            #expect(error?.message.contains("HAS CHANGED") == true)
            #expect(error?.message.contains(expectedFingerprint()) == true)
            #expect(error?.hint?.contains("ssh-keygen -R") == true)
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "[127.0.0.1]:\(SSHD.port) \(forged)\n")
    }

    @Test func hashedEntryMatches() async throws {
        let file = SSHD.knownHosts(["[127.0.0.1]:\(SSHD.port) \(SSHD.hostPublicKey())"])
        let (status, output) = SSHD.shell("ssh-keygen -H -f \(file) && rm -f \(file).old")
        try #require(status == 0, "ssh-keygen -H failed: \(output)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try #require(text.hasPrefix("|1|") && !text.contains("127.0.0.1"))
        try await connect(knownHosts: file)
    }

    @Test func hostKeyAliasIsLookedUp() async throws {
        try SSHD.requireServer()
        var options = SSHD.options(knownHosts: SSHD.knownHosts(["[db-primary]:\(SSHD.port) \(SSHD.hostPublicKey())"]))
        options.hostKeyAlias = "db-primary"
        let connection = SSHConnection(hostName: "alias", options: options)
        try await connection.connect()
        await connection.close()
    }

    @Test func unparseableLinesDoNotHideLaterEntries() async throws {
        let file = SSHD.knownHosts([
            "@cert-authority *.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGarbage",
            "broken line without key",
            "[127.0.0.1]:\(SSHD.port) \(SSHD.hostPublicKey())",
        ])
        try await connect(knownHosts: file)
    }
}

extension HostKeyTests {
    /// known_hosts has only the server's ECDSA key: the client must ask for ECDSA, not fail on Ed25519.
    @Test func onlyAnotherKeyTypeIsKnown() async throws {
        try await connect(knownHosts: SSHD.knownHosts(["[127.0.0.1]:\(SSHD.port) \(SSHD.hostPublicKey("ecdsa"))"]))
        // ... but a wrong key of the other type is still a changed key.
        let otherKey = (try? String(contentsOfFile: "\(SSHD.directory)/id_ecdsa.pub", encoding: .utf8)) ?? ""
        let forged = otherKey.split(separator: " ").prefix(2).joined(separator: " ")
        let error = await expectPGHAError {
            try await connect(knownHosts: SSHD.knownHosts(["[127.0.0.1]:\(SSHD.port) \(forged)"]))
        }
        #expect(error?.message.contains("HAS CHANGED") == true)
    }
}
