import Foundation
import PGHACore
import Testing
import Transport

@testable import SSHTransport

@Suite(.enabled(if: SSHD.enabled, "sshd fixture unavailable (needs root); CI=true makes this fail instead"))
struct CommandTests {
    @Test func exitStatusStdoutStderr() async throws {
        let connection = try SSHD.connection()
        let result = try await connection.run(CommandRequest("echo out; echo err >&2; exit 3"))
        #expect(result.stdoutText == "out\n")
        #expect(result.stderrText == "err\n")
        #expect(result.exitStatus == 3)
        #expect(result.signal == nil)
        await connection.close()
    }

    @Test func environmentAndWorkingDirectory() async throws {
        let connection = try SSHD.connection()
        let request = CommandRequest(
            "printf '%s|%s|' \"$GREETING\" \"$OTHER\"; pwd", environment: [("GREETING", "it's a $test `x`"), ("OTHER", "")],
            workingDirectory: "/usr/share")
        let result = try await connection.run(request)
        #expect(result.stdoutText == "it's a $test `x`||/usr/share\n")
        let missing = try await connection.run(CommandRequest("echo never", workingDirectory: "/nonexistent-dir"))
        #expect(missing.exitStatus != 0)
        #expect(missing.stdoutText.isEmpty)
        await connection.close()
    }

    @Test func stdinPayloadThenEOF() async throws {
        let connection = try SSHD.connection()
        let payload = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let result = try await connection.run(CommandRequest("cat; echo done >&2", stdin: payload))
        #expect(result.stdout == payload)
        #expect(result.stderrText == "done\n")
        // Without a payload stdin is closed at once, so a reader does not wait forever.
        let empty = try await connection.run(CommandRequest("wc -c", timeout: 10))
        #expect(empty.stdoutText.trimmingCharacters(in: .whitespaces) == "0\n")
        await connection.close()
    }

    /// 10 MB on each stream at once: reading one stream in blocking mode would stall the other.
    @Test func largeStdoutAndStderrTogether() async throws {
        let connection = try SSHD.connection()
        let size = 10 * 1024 * 1024
        let command = "head -c \(size) /dev/zero | tr '\\0' o & head -c \(size) /dev/zero | tr '\\0' e >&2; wait"
        let result = try await connection.run(CommandRequest(command, timeout: 120))
        #expect(result.exitStatus == 0)
        #expect(result.stdout.count == size)
        #expect(result.stderr.count == size)
        #expect(result.stdout.allSatisfy { $0 == UInt8(ascii: "o") })
        #expect(result.stderr.allSatisfy { $0 == UInt8(ascii: "e") })
        await connection.close()
    }

    @Test func killedBySignal() async throws {
        let connection = try SSHD.connection()
        let result = try await connection.run(CommandRequest("echo before; kill -KILL $$"))
        #expect(result.signal == "KILL")
        #expect(result.exitStatus == -1)
        #expect(result.stdoutText == "before\n")
        #expect(!result.succeeded)
        await connection.close()
    }

    @Test func timeoutKillsAHungCommand() async throws {
        let connection = try SSHD.connection()
        let marker = "\(Int.random(in: 100...999)).\(Int.random(in: 100...999))"
        let start = Date()
        let error = await expectPGHAError {
            _ = try await connection.run(CommandRequest("sleep \(marker)", timeout: 2))
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(error?.message.contains("timed out after 2 s") == true)
        #expect(elapsed >= 2 && elapsed < 120)  // the command itself sleeps 1000 s
        // The remote process was killed, and the session still works.
        var survivors = "?"
        for _ in 0..<30 {
            survivors = try await connection.run(CommandRequest("pgrep -f 'slee[p] \(marker)' || true")).stdoutText
            if survivors.isEmpty { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(survivors.isEmpty, "sleep \(marker) still runs: \(survivors)")
        await connection.close()
    }

    @Test func concurrentCallersShareOneSession() async throws {
        let connection = try SSHD.connection()
        try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<20 {
                group.addTask { try await connection.run(CommandRequest("echo \(index)")).stdoutText }
            }
            var seen: Set<String> = []
            for try await text in group { seen.insert(text) }
            #expect(seen == Set((0..<20).map { "\($0)\n" }))
        }
        await connection.close()
    }

    @Test func closedConnectionThrows() async throws {
        let connection = try SSHD.connection()
        _ = try await connection.run(CommandRequest("true"))
        await connection.close()
        let error = await expectPGHAError { _ = try await connection.run(CommandRequest("true")) }
        #expect(error?.kind == .unreachable)
    }

    /// The server's session process is frozen mid-command: keepalives go unanswered and the command
    /// fails after the inactivity timeout instead of hanging; the next command reconnects.
    @Test func serverThatStopsAnsweringIsUnreachable() async throws {
        try SSHD.requireServer()
        var options = SSHD.options()
        options.keepaliveInterval = 1
        options.inactivityTimeout = 3
        let connection = SSHConnection(hostName: "frozen", options: options)
        // The session's sshd process: the command's parent is a shell kept open on the session.
        let pid = try await connection.run(
            CommandRequest(
                "p=$PPID; while [ \"$(ps -o comm= -p $p)\" != sshd ] && [ \"$p\" -gt 1 ]; do p=$(ps -o ppid= -p $p | tr -d ' '); done; echo $p"
            )
        ).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require((Int(pid) ?? 0) > 1, "no sshd process above the command: \(pid)")
        defer { SSHD.shell("kill -KILL \(pid)") }
        let start = Date()
        let error = await expectPGHAError {
            _ = try await connection.run(CommandRequest("sleep 0.2; kill -STOP \(pid); sleep 300"))
        }
        #expect(error?.kind == .unreachable)
        #expect(error?.message.contains("stopped answering") == true)
        #expect(Date().timeIntervalSince(start) < 60)
        SSHD.shell("kill -KILL \(pid)")
        #expect(try await connection.run(CommandRequest("echo again")).stdoutText == "again\n")
        await connection.close()
    }
}

extension CommandTests {
    @Test func cancellingTheTaskEndsTheWait() async throws {
        let connection = try SSHD.connection()
        let task = Task { try await connection.run(CommandRequest("sleep 300")) }
        try await Task.sleep(nanoseconds: 500_000_000)
        let start = Date()
        task.cancel()
        do {
            _ = try await task.value
            Issue.record("a cancelled command returned a result")
        } catch let error as PGHAError {
            #expect(error.kind == .interrupted)
        }
        #expect(Date().timeIntervalSince(start) < 60)
        // The session is still usable afterwards.
        #expect(try await connection.run(CommandRequest("echo ok")).stdoutText == "ok\n")
        await connection.close()
    }
}

extension CommandTests {
    /// sudo runs the command in its own pty (Debian's `use_pty`): the kill must still reach it.
    @Test func timeoutKillsACommandRunThroughSudo() async throws {
        let connection = try SSHD.connection()
        let marker = "\(Int.random(in: 100...999)).\(Int.random(in: 100...999))"
        let error = await expectPGHAError {
            _ = try await connection.run(CommandRequest("sleep \(marker)", become: Become(), timeout: 2))
        }
        #expect(error?.message.contains("timed out after 2 s") == true)
        var survivors = "?"
        for _ in 0..<30 {
            survivors = try await connection.run(CommandRequest("pgrep -f 'slee[p] \(marker)' || true")).stdoutText
            if survivors.isEmpty { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(survivors.isEmpty, "sleep \(marker) still runs as root: \(survivors)")
        await connection.close()
    }
}
