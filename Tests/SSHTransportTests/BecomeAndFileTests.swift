import Foundation
import PGHACore
import Testing
import Transport

@testable import SSHTransport

@Suite(.enabled(if: SSHD.enabled, "sshd fixture unavailable (needs root); CI=true makes this fail instead"))
struct BecomeAndFileTests {
    /// Every byte value, 5 MB of them, in an order that catches shifted or translated bytes.
    static let binary: [UInt8] = (0..<(5 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 8)) }

    private func remote(_ path: String) -> String { "/tmp/pgha-ssh-test-\(UUID().uuidString)-\(path)" }

    @Test func passwordlessSudo() async throws {
        let connection = try SSHD.connection()
        let result = try await connection.run(CommandRequest("id -un; echo \"$HOME\"", become: Become()))
        #expect(result.stdoutText == "root\n/root\n")
        let asOther = try await connection.run(CommandRequest("id -un", become: Become(user: "pghapw")))
        #expect(asOther.stdoutText == "pghapw\n")
        // The command's own exit status and stdin come through sudo unchanged.
        let piped = try await connection.run(CommandRequest("cat; exit 4", stdin: Array("abc".utf8), become: Become()))
        #expect(piped.stdoutText == "abc")
        #expect(piped.exitStatus == 4)
        await connection.close()
    }

    @Test func sudoWithPassword() async throws {
        let connection = try SSHD.connection(user: "pghapw")
        let become = Become(password: SSHD.password)
        let result = try await connection.run(CommandRequest("id -un; echo to-stderr >&2", become: become))
        #expect(result.stdoutText == "root\n")
        #expect(result.stderrText == "to-stderr\n")
        // The payload reaches the command, not sudo's password prompt.
        let payload = Array("line one\nline two\n".utf8)
        let piped = try await connection.run(CommandRequest("cat", stdin: payload, become: become))
        #expect(piped.stdout == payload)
        await connection.close()
    }

    @Test func sudoWrongPasswordIsAClearError() async throws {
        let connection = try SSHD.connection(user: "pghapw")
        let secret = "Wr0ng-Secret-\(Int.random(in: 1000...9999))"
        let start = Date()
        let error = await expectPGHAError {
            _ = try await connection.run(CommandRequest("id", become: Become(password: secret), timeout: 30))
        }
        #expect(error?.message.contains("incorrect password") == true)
        #expect(error?.description.contains(secret) == false)
        #expect(Date().timeIntervalSince(start) < 60)  // sudo would otherwise wait forever
        await connection.close()
    }

    @Test func sudoNeedingAPasswordWithoutOneIsAClearError() async throws {
        let connection = try SSHD.connection(user: "pghapw")
        let error = await expectPGHAError { _ = try await connection.run(CommandRequest("id", become: Become())) }
        #expect(error?.message.contains("sudo to root failed") == true)
        #expect(error?.hint?.contains("become password") == true)
        await connection.close()
    }

    @Test func sudoRequiringATerminalRetriesWithAPty() async throws {
        let connection = try SSHD.connection(user: "pghatty")
        let result = try await connection.run(CommandRequest("id -un", become: Become()))
        #expect(result.stdoutText == "root\n")
        #expect(result.exitStatus == 0)
        await connection.close()
    }

    @Test func binaryPutGetRoundTrip() async throws {
        let connection = try SSHD.connection()
        let path = remote("blob")
        try await connection.put(Self.binary, to: path, attributes: FileAttributes(mode: 0o600), become: nil)
        let back = try await connection.get(path, become: nil)
        #expect(back == Self.binary)
        let stat = try await connection.run(CommandRequest("stat -c '%a %U %s' \(path); ls -a /tmp | grep -c pgha- || true"))
        #expect(stat.stdoutText.hasPrefix("600 pghatest \(Self.binary.count)\n"))
        // Through sudo cat as well: stdout must stay byte-exact.
        let viaSudo = try await connection.get(path, become: Become())
        #expect(viaSudo == Self.binary)
        _ = try await connection.run(CommandRequest("rm -f \(path)"))
        await connection.close()
    }

    @Test func putReplacesAtomicallyAndKeepsNoTempFiles() async throws {
        let connection = try SSHD.connection()
        let directory = "/tmp/pgha-ssh-dir-\(UUID().uuidString)"
        _ = try await connection.run(CommandRequest("mkdir \(directory) && echo old > \(directory)/f && chmod 640 \(directory)/f"))
        let before = try await connection.run(CommandRequest("stat -c %i \(directory)/f")).stdoutText
        try await connection.put(Array("new\n".utf8), to: "\(directory)/f", attributes: FileAttributes(), become: nil)
        let after = try await connection.run(CommandRequest("stat -c '%i %a' \(directory)/f; cat \(directory)/f; ls -A \(directory)"))
        let lines = after.stdoutText.split(separator: "\n").map(String.init)
        // A new inode means rename, not rewrite in place; the old mode is kept when none is given.
        #expect(lines.first?.split(separator: " ").first.map(String.init) != before.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(lines.first?.hasSuffix(" 640") == true)
        #expect(Array(lines.dropFirst()) == ["new", "f"])
        _ = try await connection.run(CommandRequest("rm -rf \(directory)"))
        await connection.close()
    }

    @Test func putWithOwnerAndModeThroughSudo() async throws {
        let connection = try SSHD.connection()
        let path = "/etc/pgha-ssh-test-\(UUID().uuidString).conf"
        let data = Array("secret = 1\n".utf8) + Self.binary.prefix(100_000)
        try await connection.put(
            data, to: path, attributes: FileAttributes(mode: 0o640, owner: "root", group: "pghapw"), become: Become())
        let stat = try await connection.run(CommandRequest("stat -c '%a %U %G' \(path); ls -A /etc | grep -c '\\.pgha-' || true"))
        #expect(stat.stdoutText == "640 root pghapw\n0\n")
        #expect(try await connection.get(path, become: Become()) == data)
        // Replacing it keeps owner and mode when none are given.
        try await connection.put(Array("v2\n".utf8), to: path, attributes: FileAttributes(), become: Become())
        let again = try await connection.run(CommandRequest("stat -c '%a %U %G' \(path); cat \(path)", become: Become()))
        #expect(again.stdoutText == "640 root pghapw\nv2\n")
        // The login user cannot write there without become.
        let error = await expectPGHAError {
            try await connection.put(Array("x".utf8), to: path, attributes: FileAttributes(), become: nil)
        }
        #expect(error?.message.contains("permission denied") == true)
        _ = try await connection.run(CommandRequest("rm -f \(path)", become: Become()))
        await connection.close()
    }

    @Test func putAsAnotherUserAndWithSudoPassword() async throws {
        let connection = try SSHD.connection(user: "pghapw")
        let become = Become(user: "pghatest", password: SSHD.password)
        let path = "/home/pghatest/pgha-ssh-test-\(UUID().uuidString)"
        let data = Array(Self.binary.prefix(300_000))
        try await connection.put(data, to: path, attributes: FileAttributes(mode: 0o600), become: become)
        #expect(try await connection.get(path, become: become) == data)
        let owner = try await connection.run(CommandRequest("stat -c '%a %U' \(path); rm -f \(path)", become: become))
        #expect(owner.stdoutText == "600 pghatest\n")
        await connection.close()
    }

    @Test func getMissingFileIsAnError() async throws {
        let connection = try SSHD.connection()
        let error = await expectPGHAError { _ = try await connection.get("/nonexistent/file", become: nil) }
        #expect(error?.message.contains("no such file") == true)
        let viaSudo = await expectPGHAError { _ = try await connection.get("/nonexistent/file", become: Become()) }
        #expect(viaSudo?.message.contains("No such file") == true)
        await connection.close()
    }
}
