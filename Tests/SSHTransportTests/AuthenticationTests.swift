import Foundation
import PGHACore
import Testing
import Transport

@testable import SSHTransport

@Suite(.enabled(if: SSHD.enabled, "sshd fixture unavailable (needs root); CI=true makes this fail instead"))
struct AuthenticationTests {
    private func whoami(_ options: SSHOptions) async throws -> String {
        try SSHD.requireServer()
        let connection = SSHConnection(hostName: "auth-test", options: options)
        defer { Task { await connection.close() } }
        let result = try await connection.run(CommandRequest("id -un"))
        return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func ed25519Key() async throws {
        #expect(try await whoami(SSHD.options(auth: [.privateKey(path: "\(SSHD.directory)/id_ed25519")])) == "pghatest")
    }

    @Test func ecdsaKey() async throws {
        #expect(try await whoami(SSHD.options(auth: [.privateKey(path: "\(SSHD.directory)/id_ecdsa")])) == "pghatest")
    }

    @Test func encryptedKeyWithPassphrase() async throws {
        let path = "\(SSHD.directory)/id_ed25519_pass"
        #expect(try await whoami(SSHD.options(auth: [.privateKey(path: path, passphrase: "pgha-passphrase")])) == "pghatest")
        let error = await expectPGHAError {
            _ = try await whoami(SSHD.options(auth: [.privateKey(path: path, passphrase: "wrong-phrase")]))
        }
        #expect(error?.kind == .unreachable)
        #expect(error?.message.contains("wrong passphrase") == true)
        #expect(error?.description.contains("wrong-phrase") == false)
    }

    @Test func password() async throws {
        #expect(try await whoami(SSHD.options(user: "pghapw", auth: [.password(SSHD.password)])) == "pghapw")
        let error = await expectPGHAError {
            _ = try await whoami(SSHD.options(user: "pghapw", auth: [.password("not-the-password")]))
        }
        #expect(error?.kind == .unreachable)
        #expect(error?.message.contains("password: refused") == true)
        #expect(error?.description.contains("not-the-password") == false)
    }

    @Test func keyboardInteractive() async throws {
        #expect(try await whoami(SSHD.options(user: "pghapw", auth: [.keyboardInteractive(SSHD.password)])) == "pghapw")
    }

    @Test func fallsThroughToTheNextMethod() async throws {
        let auth: [SSHOptions.Authentication] = [
            .privateKey(path: "\(SSHD.directory)/other_host_key"), .password(SSHD.password),
        ]
        #expect(try await whoami(SSHD.options(user: "pghapw", auth: auth)) == "pghapw")
    }

    @Test func agent() async throws {
        try SSHD.requireServer()
        let socket = NSTemporaryDirectory() + "pgha-agent-\(UUID().uuidString).sock"
        let (status, output) = SSHD.shell("ssh-agent -a \(socket) -s 2>/dev/null")
        try #require(status == 0, "ssh-agent failed: \(output)")
        let pid = output.split(whereSeparator: { $0 == ";" || $0 == "\n" })
            .first { $0.hasPrefix("SSH_AGENT_PID=") }.map { String($0.dropFirst("SSH_AGENT_PID=".count)) }
        defer {
            if let pid { SSHD.shell("kill \(pid)") }
        }
        let (addStatus, addOutput) = SSHD.shell(
            "ssh-add \(SSHD.directory)/id_ed25519", environment: ["SSH_AUTH_SOCK": socket])
        try #require(addStatus == 0, "ssh-add failed: \(addOutput)")
        #expect(try await whoami(SSHD.options(auth: [.agent(socketPath: socket)])) == "pghatest")
    }

    @Test func rsaKeyIsRefusedWithTheReason() async throws {
        let error = await expectPGHAError {
            _ = try await whoami(SSHD.options(auth: [.privateKey(path: "\(SSHD.directory)/id_rsa")]))
        }
        #expect(error?.kind == .unreachable)
        #expect(error?.message.contains("RSA keys cannot work here") == true)
        #expect(error?.message.contains("ssh-rsa (SHA-1)") == true)
        #expect(error?.hint?.contains("ed25519") == true)
    }

    @Test func rsaOnlyHostKeyIsExplained() async throws {
        let error = await expectPGHAError {
            _ = try await whoami(SSHD.options(port: SSHD.rsaPort, policy: .off))
        }
        #expect(error?.kind == .unreachable)
        #expect(error?.message.contains("only an RSA host key") == true)
        #expect(error?.hint?.contains("ed25519") == true)
    }

    @Test func unreachablePortFailsFast() async throws {
        try SSHD.requireServer()
        let start = Date()
        let error = await expectPGHAError {
            _ = try await whoami(SSHD.options(port: 1))
        }
        #expect(error?.kind == .unreachable)
        #expect(error?.message.contains("cannot connect") == true)
        #expect(Date().timeIntervalSince(start) < 60)
    }

    /// A TCP peer that accepts and then says nothing: the handshake must give up after the connect timeout.
    @Test func silentServerTimesOut() async throws {
        try SSHD.requireServer()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        listen(fd, 4)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        var options = SSHD.options(port: Int(UInt16(bigEndian: address.sin_port)))
        options.connectTimeout = 1.5
        let start = Date()
        let error = await expectPGHAError {
            _ = try await SSHConnection(hostName: "silent", options: options).connect()
        }
        #expect(error?.kind == .unreachable)
        #expect(error?.message.contains("handshake timed out") == true)
        #expect(Date().timeIntervalSince(start) < 60)
    }
}
