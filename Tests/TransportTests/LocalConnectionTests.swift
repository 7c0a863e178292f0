import Foundation
import PGHACore
import Testing

@testable import Transport

private func tempDir() throws -> String {
    let path = NSTemporaryDirectory() + "pgha-local-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private var isRoot: Bool { geteuid() == 0 }
private var inCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

@Suite struct LocalConnectionTests {
    let connection = LocalConnection()

    @Test func runsShellWithStatusAndStreams() async throws {
        let result = try await connection.run(CommandRequest("echo out; echo err >&2; exit 3"))
        #expect(result.stdoutText == "out\n")
        #expect(result.stderrText == "err\n")
        #expect(result.exitStatus == 3)
        #expect(result.signal == nil)
        #expect(!result.succeeded)
    }

    @Test func feedsStdinAndPassesEnvironmentAndCwd() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try await connection.run(
            CommandRequest(
                "cat; printf '%s|' \"$FOO\"; pwd", stdin: Array("payload\n".utf8), environment: [("FOO", "b a r")],
                workingDirectory: dir))
        let resolved = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
        #expect(result.stdoutText == "payload\nb a r|\(resolved)\n" || result.stdoutText == "payload\nb a r|\(dir)\n")
        let bad = try await connection.run(CommandRequest("echo ran", workingDirectory: dir + "/missing"))
        #expect(bad.exitStatus != 0)
        #expect(bad.stdoutText == "")
    }

    @Test func largeOutputOnBothStreamsDoesNotDeadlock() async throws {
        // 3 MB on each stream at once plus 3 MB of stdin: any sequential pipe handling would block.
        let stdin = [UInt8](repeating: 0x61, count: 3_000_000)
        let result = try await connection.run(
            CommandRequest(
                "head -c 3000000 /dev/zero | tr '\\0' x >&2 & head -c 3000000 /dev/zero | tr '\\0' y; wait; wc -c >&2",
                stdin: stdin, timeout: 60))
        #expect(result.stdout.count == 3_000_000)
        #expect(result.stderr.count == 3_000_000 + "3000000\n".count)
        #expect(result.succeeded)
    }

    @Test func outputIsCappedAtTenMegabytes() async throws {
        let result = try await connection.run(CommandRequest("head -c 12000000 /dev/zero", timeout: 60))
        #expect(result.stdout.count == LocalConnection.outputLimit)
        #expect(result.exitStatus == 0)
    }

    @Test func reportsSignals() async throws {
        let result = try await connection.run(CommandRequest("kill -TERM $$"))
        #expect(result.exitStatus == -1)
        #expect(result.signal == "TERM")
        #expect(signalNumber("TERM") == SIGTERM)
    }

    @Test func timeoutKillsTheWholeProcessGroup() async throws {
        let start = Date()
        await #expect(throws: PGHAError.self) {
            try await connection.run(CommandRequest("sleep 300 | cat", timeout: 0.5))
        }
        #expect(Date().timeIntervalSince(start) < 60)
    }

    @Test func stdinIgnoredByChildDoesNotHang() async throws {
        let result = try await connection.run(
            CommandRequest("exit 0", stdin: [UInt8](repeating: 1, count: 5_000_000), timeout: 30))
        #expect(result.exitStatus == 0)
    }

    @Test func concurrentCommandsDoNotStarveEachOther() async throws {
        // More blocked commands than cores: they must wait on their own threads, not the pool.
        // Each command reports when it ran; if waits blocked the cooperative pool, at most as many
        // commands as cores could ever overlap. Overlap, not wall time, so load cannot fake it.
        var intervals: [(Int, Int)] = []
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for _ in 0..<12 {
                group.addTask {
                    let result = try await connection.run(CommandRequest("s=$(date +%s%N); sleep 3; e=$(date +%s%N); echo $s $e"))
                    let parts = result.stdoutText.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                    return (parts.first ?? 0, parts.last ?? 0)
                }
            }
            for try await interval in group { intervals.append(interval) }
        }
        var events: [(time: Int, delta: Int)] = []
        for (start, end) in intervals {
            events.append((start, 1))
            events.append((end, -1))
        }
        events.sort { lhs, rhs in lhs.time != rhs.time ? lhs.time < rhs.time : lhs.delta < rhs.delta }
        var current = 0
        var most = 0
        for event in events {
            current += event.delta
            most = max(most, current)
        }
        #expect(most >= 6, "at most \(most) of 12 commands ran at the same time")
    }

    @Test func putIsAtomicAndAppliesAttributes() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/f.txt"
        try await connection.put(Array("one\n".utf8), to: path, attributes: FileAttributes(mode: 0o640), become: nil)
        #expect(try await connection.get(path, become: nil) == Array("one\n".utf8))
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o640)
        // A second put without a mode keeps the existing one, as Ansible's atomic_move does.
        try await connection.put(Array("two\n".utf8), to: path, attributes: FileAttributes(), become: nil)
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o640)
        #expect(try await connection.get(path, become: nil) == Array("two\n".utf8))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(leftovers == ["f.txt"])
    }

    @Test func putIntoMissingDirectoryFails() async throws {
        await #expect(throws: PGHAError.self) {
            try await connection.put([1], to: "/nonexistent-dir-pgha/x", attributes: FileAttributes(), become: nil)
        }
        await #expect(throws: PGHAError.self) {
            try await connection.get("/nonexistent-dir-pgha/x", become: nil)
        }
    }

    @Test func ownershipAndBecomeAsRoot() async throws {
        guard isRoot else {
            if inCI { Issue.record("this test needs root under CI") }
            return
        }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o777)
        let path = dir + "/owned"
        try await connection.put(
            Array("x".utf8), to: path, attributes: FileAttributes(mode: 0o600, owner: "nobody", group: "nogroup"),
            become: nil)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_uid == 65534 && info.st_gid == 65534)
        #expect(info.st_mode & 0o7777 == 0o600)

        // Becoming root while root runs no sudo; becoming nobody does.
        #expect(!LocalConnection.needsSudo(Become(user: "root")))
        #expect(LocalConnection.needsSudo(Become(user: "nobody")))
        let who = try await connection.run(
            CommandRequest(
                "id -un; echo \"$V\"; cat", stdin: Array("in".utf8), environment: [("V", "v1")],
                become: Become(user: "nobody")))
        #expect(who.stdoutText == "nobody\nv1\nin", "\(who.stderrText)")

        // put/get as another user go through sudo and respect that user's permissions.
        let asNobody = dir + "/by-nobody"
        try await connection.put(
            Array("hello".utf8), to: asNobody, attributes: FileAttributes(mode: 0o644), become: Become(user: "nobody"))
        #expect(stat(asNobody, &info) == 0)
        #expect(info.st_uid == 65534)
        #expect(info.st_mode & 0o7777 == 0o644)
        #expect(try await connection.get(asNobody, become: Become(user: "nobody")) == Array("hello".utf8))
        // get is not subject to the output cap.
        let big = dir + "/big"
        _ = try await connection.run(CommandRequest("head -c 11000000 /dev/zero > \(big); chmod 644 \(big)"))
        #expect(try await connection.get(big, become: Become(user: "nobody")).count == 11_000_000)
        // Re-stating ids nobody may not set (group root) is tolerated, as Ansible's atomic_move does;
        // asking for a real change of owner is not.
        chown(asNobody, 65534, 0)
        try await connection.put(
            Array("again".utf8), to: asNobody, attributes: FileAttributes(mode: 0o644, owner: "65534", group: "0"),
            become: Become(user: "nobody"))
        #expect(try await connection.get(asNobody, become: nil) == Array("again".utf8))
        await #expect(throws: PGHAError.self) {
            try await connection.put(
                Array("x".utf8), to: asNobody, attributes: FileAttributes(owner: "root"), become: Become(user: "nobody")
            )
        }
        let secret = dir + "/secret"
        _ = FileManager.default.createFile(
            atPath: secret, contents: Data("s".utf8), attributes: [.posixPermissions: 0o600])
        await #expect(throws: PGHAError.self) { try await connection.get(secret, become: Become(user: "nobody")) }
    }

    @Test func closedConnectionThrows() async throws {
        let c = LocalConnection()
        await c.close()
        await #expect(throws: PGHAError.self) { try await c.run(CommandRequest("true")) }
    }

    @Test func cancellationKillsTheCommand() async throws {
        let start = Date()
        let task = Task { try await connection.run(CommandRequest("sleep 300")) }
        try await Task.sleep(nanoseconds: 300_000_000)
        task.cancel()
        let result = try await task.value
        #expect(result.signal == "KILL")
        #expect(Date().timeIntervalSince(start) < 60)
    }
}
