import CLibSSH2
import Foundation
import PGHACore
import Transport

/// A `/bin/sh` kept running on its own channel for the session, which starts plain commands (no
/// stdin, no become, no time limit) one after another, each as its own `/bin/sh -c`.
///
/// An exec request costs the server a fork of sshd and an exec of the login shell on top of the
/// command's own `/bin/sh`, and two more round trips; on a busy host that is most of a command's
/// time. Here each command is still a fresh `/bin/sh -c` with stdin at end of file, so variables,
/// directory, `$$` and `exit` behave as before; the server's environment is the same login
/// environment. Each command ends with a marker line on both streams carrying its exit status; the
/// marker holds a random token, so no output can fake it. /bin/sh reports a command killed by
/// signal N as status 128+N, so such statuses are reported as that signal (a command that exits
/// with 129-159 on its own is taken for killed, a difference from exec requests).
struct PersistentShell {
    var channel: OpaquePointer
    var token: String
    /// `\n<token> ` on stdout before the exit status; `\n<token>\n` ends stderr.
    var stdoutMarker: [UInt8]
    var stderrMarker: [UInt8]

    init(channel: OpaquePointer, token: String) {
        self.channel = channel
        self.token = token
        stdoutMarker = Array("\n\(token) ".utf8)
        stderrMarker = Array("\n\(token)\n".utf8)
    }

    /// The line that runs one script and prints the markers.
    func line(for script: String) -> String {
        "/bin/sh -c \(shellQuote(script)) </dev/null; printf '\\n%s %d\\n' \(token) $?; printf '\\n%s\\n' \(token) >&2\n"
    }
}

extension SSHSession {
    /// Whether `request` can run in the persistent shell: its output and status are then exactly those
    /// of an exec request.
    func fitsPersistentShell(_ request: CommandRequest) -> Bool {
        options.persistentShell && request.become == nil && request.timeout == nil && (request.stdin ?? []).isEmpty
    }

    private func startPersistentShell() throws -> PersistentShell {
        if let shell, idleShellIsAlive(shell) { return shell }
        let (channel, spare) = try openChannel()
        let command = "exec /bin/sh"
        let rc = try retry(deadline: monotonicSeconds() + options.inactivityTimeout, timeoutMessage: "") {
            libssh2_channel_process_startup(channel, "exec", 4, command, UInt32(command.utf8.count))
        }
        if rc != 0 {
            if spare, let session, Self.isSocketError(libssh2_session_last_errno(session)) {
                // The spare channel belonged to a session that has died since: reconnect.
                disconnect()
                return try startPersistentShell()
            }
            discard(channel)
            throw unreachable("\(endpoint) refused to run a command: \(lastError())")
        }
        let started = PersistentShell(channel: channel, token: "pgha-end-" + randomHex(12))
        shell = started
        return started
    }

    /// Whether a kept shell can take the next command. One that exited while idle is replaced, and so
    /// is the session if it died meanwhile (the host rebooted), as a fresh exec request would find
    /// out; output that came between commands (a background process's) belongs to no command.
    private func idleShellIsAlive(_ shell: PersistentShell) -> Bool {
        var scratch = [CChar](repeating: 0, count: 16 * 1024)
        for stream: Int32 in [0, SSH_EXTENDED_DATA_STDERR] {
            while true {
                let count = libssh2_channel_read_ex(shell.channel, stream, &scratch, scratch.count)
                if count > 0 { continue }
                if count == 0 || count == Int(LIBSSH2_ERROR_EAGAIN) { break }
                if let session, Self.isSocketError(libssh2_session_last_errno(session)) {
                    disconnect()
                } else {
                    stopPersistentShell()
                }
                return false
            }
        }
        if libssh2_channel_eof(shell.channel) != 0 {
            stopPersistentShell()
            return false
        }
        return true
    }

    /// Drops the persistent shell (its channel is closed; the next plain command starts a new one).
    func stopPersistentShell() {
        guard let shell else { return }
        self.shell = nil
        discard(shell.channel)
    }

    /// Runs a plain script in the persistent shell.
    func runInPersistentShell(_ script: String) throws -> ExecOutcome {
        let shell = try startPersistentShell()
        let channel = shell.channel
        let input = Array(shell.line(for: script).utf8)
        var written = 0
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var status: Int32?
        var stderrDone = false
        let bufferSize = 256 * 1024
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bufferSize)
        defer { buffer.deallocate() }
        var activity = monotonicSeconds()
        var finished = false
        // Whatever ends this early (the host lost, the run interrupted) leaves the shell mid-command.
        defer { if !finished { stopPersistentShell() } }
        while status == nil || !stderrDone {
            var progressed = false
            if written < input.count {
                let rc = writeAvailable(channel, input, from: &written)
                if rc > 0 {
                    progressed = true
                } else if rc != Int(LIBSSH2_ERROR_EAGAIN) {
                    throw unreachable("writing to the shell on \(endpoint) failed: \(lastError())")
                }
            }
            if try drainAvailable(channel, buffer: buffer, size: bufferSize, stdout: &stdout, stderr: &stderr) { progressed = true }
            if status == nil, let code = Self.takeStatus(&stdout, marker: shell.stdoutMarker) { status = code }
            if !stderrDone, stderr.count >= shell.stderrMarker.count,
                stderr[(stderr.count - shell.stderrMarker.count)...].elementsEqual(shell.stderrMarker)
            {
                stderr.removeLast(shell.stderrMarker.count)
                stderrDone = true
            }
            if status != nil && stderrDone { break }
            if libssh2_channel_eof(channel) != 0 {
                // The shell itself is gone (something killed it): the command's status is unknown.
                throw PGHAError(
                    .execution, "the shell running the command on \(hostName) exited unexpectedly", host: hostName)
            }
            if progressed {
                activity = monotonicSeconds()
            } else {
                try waitSocket(deadline: nil, timeoutMessage: "", activitySince: activity)
            }
        }
        finished = true
        var signal: String?
        if let code = status, code > 128, code < 160 { signal = signalName(code - 128) }
        return ExecOutcome(
            stdout: stdout, stderr: stderr, exitStatus: signal == nil ? status ?? -1 : -1, signal: signal,
            becameUser: true, processGroup: nil)
    }

    /// Removes `\n<token> <status>\n` from the end of `stream` and returns the status, once it is there.
    private static func takeStatus(_ stream: inout [UInt8], marker: [UInt8]) -> Int32? {
        guard stream.last == 10 else { return nil }
        // The status has one to three digits.
        for digits in 1...3 {
            let start = stream.count - 1 - digits - marker.count
            guard start >= 0 else { return nil }
            let statusBytes = stream[(start + marker.count)..<(stream.count - 1)]
            guard statusBytes.allSatisfy({ (48...57).contains($0) }),
                stream[start..<(start + marker.count)].elementsEqual(marker)
            else { continue }
            let status = Int32(String(decoding: statusBytes, as: UTF8.self))
            stream.removeSubrange(start...)
            return status
        }
        return nil
    }
}
