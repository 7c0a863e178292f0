import Foundation
import PGHACore
import Testing

@testable import SSHTransport

/// Host keys recorded by hosts connecting at the same time (accept-new) all land in known_hosts,
/// each on a line of its own, in a file OpenSSH still reads (issue 17).
@Suite(.enabled(if: SSHD.enabled, "sshd fixture unavailable (needs root); CI=true makes this fail instead"))
struct KnownHostsConcurrencyTests {
    @Test func concurrentAdditionsKeepEveryKeyAndTheFileWhole() async throws {
        try SSHD.requireServer()
        let directory = NSTemporaryDirectory() + "pgha-known-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/known_hosts"
        // An existing file without a final newline: the first addition must not glue onto it.
        try "# kept\notherhost \(SSHD.hostPublicKey())".write(toFile: file, atomically: false, encoding: .utf8)
        let aliases = (0..<16).map { "parallel-\($0)" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for alias in aliases {
                group.addTask {
                    var options = SSHD.options(knownHosts: file, policy: .acceptNew)
                    options.hostKeyAlias = alias
                    let connection = SSHConnection(hostName: alias, options: options)
                    try await connection.connect()
                    await connection.close()
                }
            }
            try await group.waitForAll()
        }
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "# kept")
        #expect(lines.last == "", "the file must end with a newline")
        #expect(lines.count == 2 + aliases.count + 1, "\(lines)")
        for alias in aliases {
            let entry = "[\(alias)]:\(SSHD.port) \(SSHD.hostPublicKey())"
            #expect(lines.filter { $0 == entry }.count == 1, "\(alias) recorded \(lines.filter { $0 == entry }.count) times")
            let (status, output) = SSHD.shell("ssh-keygen -F '[\(alias)]:\(SSHD.port)' -f \(file)")
            #expect(status == 0, "OpenSSH does not find \(alias): \(output)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["known_hosts"], "temporary files left")
    }
}
