import Foundation
import PGHACore
import Testing
import Transport

@testable import SSHTransport

/// Commands without stdin or time limit run in shells the session keeps: the login user's, and one
/// sudo escalated once per become user, so a become command costs no sudo of its own. Module
/// scripts may run in a forked subshell of them instead of a new /bin/sh.
@Suite(.enabled(if: SSHD.enabled, "sshd fixture unavailable (needs root); CI=true makes this fail instead"))
struct KeptShellTests {
    /// The command's parent (the kept shell, or sudo's shell) and that one's parent's program name.
    static let lineage = "p=$PPID; read -r _ _ _ g _ < /proc/$p/stat; echo $p $(cat /proc/$g/comm); id -un"

    @Test func becomeCommandsShareOneEscalatedShell() async throws {
        let connection = try SSHD.connection()
        let first = try await connection.run(CommandRequest(Self.lineage, become: Become()))
        let second = try await connection.run(CommandRequest(Self.lineage, become: Become()))
        #expect(first.succeeded && first.stdoutText.hasSuffix(" sudo\nroot\n"), "\(first.stdoutText)\(first.stderrText)")
        // The same escalated shell ran both: one sudo for the session.
        #expect(first.stdoutText == second.stdoutText)
        // Another user has a shell of its own; root's is still there afterwards.
        let other = try await connection.run(CommandRequest(Self.lineage, become: Become(user: "pghapw")))
        #expect(other.stdoutText.hasSuffix(" sudo\npghapw\n") && other.stdoutText != first.stdoutText)
        let again = try await connection.run(CommandRequest(Self.lineage, become: Become()))
        #expect(again.stdoutText == first.stdoutText)
        // Status, stderr and the environment come through as from sudo itself.
        let mixed = try await connection.run(
            CommandRequest("echo \"$HOME $X\"; echo err >&2; exit 3", environment: [("X", "y z")], become: Become()))
        #expect(mixed.stdoutText == "/root y z\n" && mixed.stderrText == "err\n" && mixed.exitStatus == 3)
        await connection.close()
    }

    @Test func moduleScriptsRunInASubshellOfTheKeptShell() async throws {
        let connection = try SSHD.connection()
        let parent = try await connection.run(CommandRequest("echo $PPID", become: Become()))
        let script = try await connection.run(CommandRequest("echo $$", become: Become(), subshellAllowed: true))
        #expect(script.stdoutText == parent.stdoutText)
        // A syntax error ends the subshell only.
        let broken = try await connection.run(CommandRequest("if then (", become: Become(), subshellAllowed: true))
        #expect(broken.exitStatus == 2)
        let after = try await connection.run(CommandRequest("echo $PPID", become: Become()))
        #expect(after.stdoutText == parent.stdoutText)
        // The login user's kept shell does the same.
        let plainParent = try await connection.run(CommandRequest("echo $PPID"))
        let plainScript = try await connection.run(CommandRequest("exit 5", subshellAllowed: true))
        let plainAfter = try await connection.run(CommandRequest("echo $PPID"))
        #expect(plainScript.exitStatus == 5 && plainAfter.stdoutText == plainParent.stdoutText)
        await connection.close()
    }

    @Test func aKilledEscalatedShellIsReplaced() async throws {
        let connection = try SSHD.connection()
        let parent = try await connection.run(CommandRequest("echo $PPID", become: Become()))
        let shellPID = parent.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        // Killing the kept shell under a running command: that command's status is unknown.
        let error = await expectPGHAError {
            _ = try await connection.run(CommandRequest("kill -9 \(shellPID); sleep 5", become: Become()))
        }
        #expect(error?.message.contains("exited unexpectedly") == true)
        let next = try await connection.run(CommandRequest("echo $PPID; id -un", become: Become()))
        #expect(next.stdoutText.hasSuffix("\nroot\n") && !next.stdoutText.hasPrefix(shellPID + "\n"))
        await connection.close()
    }

    @Test func sudoWithAPasswordIsAskedOnceAndAWrongOneIsAClearError() async throws {
        let connection = try SSHD.connection(user: "pghapw")
        let become = Become(password: SSHD.password)
        let first = try await connection.run(CommandRequest("echo $PPID; id -un", become: become))
        let second = try await connection.run(CommandRequest("echo $PPID; id -un", become: become))
        #expect(first.stdoutText.hasSuffix("\nroot\n") && first.stdoutText == second.stdoutText)
        await connection.close()

        let wrong = try SSHD.connection(user: "pghapw")
        let secret = "Wr0ng-Secret-\(Int.random(in: 1000...9999))"
        let refused = await expectPGHAError {
            _ = try await wrong.run(CommandRequest("id", become: Become(password: secret)))
        }
        #expect(refused?.message.contains("incorrect password") == true)
        #expect(refused?.description.contains(secret) == false)
        await wrong.close()
    }

    @Test func withTheOptionOffEachCommandHasItsOwnSudo() async throws {
        try SSHD.requireServer()
        var options = SSHD.options()
        options.persistentBecomeShell = false
        let connection = SSHConnection(hostName: "localhost", options: options)
        let first = try await connection.run(CommandRequest(Self.lineage, become: Become()))
        let second = try await connection.run(CommandRequest(Self.lineage, become: Become()))
        #expect(first.stdoutText.hasSuffix("\nroot\n") && first.stdoutText != second.stdoutText)
        await connection.close()
    }
}
