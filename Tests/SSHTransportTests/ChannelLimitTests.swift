import Foundation
import PGHACore
import Testing
import Transport

@testable import SSHTransport

/// Servers that allow one or two channels per connection (sshd's MaxSessions; CIS hardening sets a
/// low one). The session keeps a shell, a spare channel and an SFTP channel between requests; it
/// must give idle ones back instead of failing, on the one connection it has.
@Suite(.enabled(if: SSHD.enabled, "sshd fixture unavailable (needs root); CI=true makes this fail instead"))
struct ChannelLimitTests {
    @Test(arguments: ["pghaone", "pghatwo"])
    func everyKindOfRequestWorksWithinTheServersChannelLimit(user: String) async throws {
        let logins = acceptedLogins(user)
        let connection = try SSHD.connection(user: user)
        let directory = "/tmp/pgha-channels-\(user)-\(UUID().uuidString)"
        let data = Array((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        // Twice round: the second time every kind of channel is already held by the session.
        for round in 1...2 {
            let plain = try await connection.run(CommandRequest("mkdir -p \(directory) && echo plain \(round)"))
            #expect(plain.stdoutText == "plain \(round)\n")
            try await connection.put(data, to: "\(directory)/f\(round)", attributes: FileAttributes(mode: 0o600), become: nil)
            let viaSudo = try await connection.run(CommandRequest("id -un; stat -c %s \(directory)/f\(round)", become: Become()))
            #expect(viaSudo.stdoutText == "root\n\(data.count)\n")
            try await connection.put(
                Array("as root\n".utf8), to: "/etc/pgha-channels-\(user)", attributes: FileAttributes(mode: 0o644),
                become: Become())
            #expect(try await connection.get("/etc/pgha-channels-\(user)", become: Become()) == Array("as root\n".utf8))
            #expect(try await connection.get("\(directory)/f\(round)", become: nil) == data)
            let piped = try await connection.run(CommandRequest("cat", stdin: Array("stdin \(round)".utf8)))
            #expect(piped.stdoutText == "stdin \(round)")
            let timed = try await connection.run(CommandRequest("echo timed", timeout: 30))
            #expect(timed.stdoutText == "timed\n")
        }
        _ = try await connection.run(CommandRequest("rm -rf \(directory) /etc/pgha-channels-\(user)", become: Become()))
        await connection.close()
        // All of it over one connection: refusals were answered by closing idle channels, not by reconnecting.
        #expect(acceptedLogins(user) == logins + 1)
    }

    /// sshd's count of accepted logins for `user` so far (its log is LogLevel VERBOSE; its lines end
    /// in CR LF, which Swift takes for one character, so the lines are not split on "\n").
    private func acceptedLogins(_ user: String) -> Int {
        let log = (try? String(contentsOfFile: "\(SSHD.directory)/sshd-\(SSHD.port).log", encoding: .utf8)) ?? ""
        return log.components(separatedBy: "Accepted publickey for \(user) from ").count - 1
    }
}
