import CLibSSH2
import Foundation
import PGHACore
import Transport

/// Which kept shell runs a command: the login user's own, or one sudo escalated once.
enum ShellKey: Hashable {
    case login
    case become(Become)
}

/// A `/bin/sh` kept running on its own channel for the session, which starts commands without
/// stdin or time limit one after another, each as its own `/bin/sh -c`.
///
/// An exec request costs the server a fork of sshd and an exec of the login shell on top of the
/// command's own `/bin/sh`, and two more round trips; with become it also costs a sudo process
/// (PAM, sudoers, logging) per command. On a busy host that is most of a command's time. Here
/// each command is still a fresh `/bin/sh -c` with stdin at end of file, so variables, directory,
/// `$$` and `exit` behave as before; the environment is what the login (or sudo, for a become
/// shell, which sudo starts once with the options it would use per command) gave the kept shell.
/// Each command ends with a marker line on both streams carrying its exit status; the marker holds
/// a random token, so no output can fake it. /bin/sh reports a command killed by signal N as
/// status 128+N, so such statuses are reported as that signal (a command that exits with 129-159
/// on its own is taken for killed, a difference from exec requests).
struct PersistentShell {
    var channel: OpaquePointer
    var token: String
    /// `\n<token> ` on stdout before the exit status; `\n<token>\n` ends stderr.
    var stdoutMarker: [UInt8]
    var stderrMarker: [UInt8]
    /// When it last ran a command (the session's command counter), to close the least used first.
    var lastUsed: UInt64 = 0

    init(channel: OpaquePointer, token: String) {
        self.channel = channel
        self.token = token
        stdoutMarker = Array("\n\(token) ".utf8)
        stderrMarker = Array("\n\(token)\n".utf8)
    }

    /// The line that runs one script and prints the markers: in a new `/bin/sh`, or, for a
    /// module's own script, in a forked subshell of this one (`eval` there, so a syntax error ends
    /// the subshell, not the kept shell).
    func line(for script: String, subshell: Bool = false) -> String {
        let run = subshell ? "( eval \(shellQuote(script)) )" : "/bin/sh -c \(shellQuote(script))"
        return "\(run) </dev/null; printf '\\n%s %d\\n' \(token) $?; printf '\\n%s\\n' \(token) >&2\n"
    }

    /// At most this many become shells stay open per session (root and one other user, typically).
    static let maxBecomeShells = 2
}

extension SSHSession {
    /// The kept shell that can run `request` with exactly the output and status an exec request
    /// would give; nil when it needs an exec request (stdin, a time limit, a become method or a
    /// host where sudo cannot be kept).
    func keptShell(for request: CommandRequest) -> ShellKey? {
        guard request.timeout == nil, (request.stdin ?? []).isEmpty else { return nil }
        guard let become = request.become else { return options.persistentShell ? .login : nil }
        guard options.persistentBecomeShell, become.method == "sudo", !becomeShellRefused else { return nil }
        return .become(become)
    }

    /// Whether `request` can run in the login user's kept shell.
    func fitsPersistentShell(_ request: CommandRequest) -> Bool {
        keptShell(for: request) == .login
    }

    /// The kept shell for `key`, started when there is none; nil when sudo cannot run without a
    /// terminal here (the caller then uses an exec request, which can have one).
    private func startShell(_ key: ShellKey) throws -> PersistentShell? {
        if let shell = shells[key], idleShellIsAlive(key, shell) { return shell }
        if case .become = key {
            let become = shells.filter { if case .become = $0.key { return true } else { return false } }
            if become.count >= PersistentShell.maxBecomeShells, let oldest = become.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                stopShell(oldest.key)
            }
        }
        let (channel, spare) = try openChannel()
        var command = "exec /bin/sh"
        var dialog: SudoDialog?
        if case .become(let become) = key {
            (command, dialog) = sudoInvocation(become, script: "exec /bin/sh")
        }
        let rc = try retry(deadline: monotonicSeconds() + options.inactivityTimeout, timeoutMessage: "") {
            libssh2_channel_process_startup(channel, "exec", 4, command, UInt32(command.utf8.count))
        }
        if rc != 0 {
            if spare, let session, Self.isSocketError(libssh2_session_last_errno(session)) {
                // The spare channel belonged to a session that has died since: reconnect.
                disconnect()
                return try startShell(key)
            }
            discard(channel)
            throw unreachable("\(endpoint) refused to run a command: \(lastError())")
        }
        if let dialog, case .become(let become) = key {
            do {
                guard try awaitEscalation(channel, dialog: dialog, become: become) else {
                    discard(channel)
                    becomeShellRefused = true
                    return nil
                }
            } catch {
                discard(channel)
                throw error
            }
        }
        let started = PersistentShell(channel: channel, token: "pgha-end-" + randomHex(12))
        shells[key] = started
        return started
    }

    /// Answers sudo's password prompt and waits for the escalated shell's first line. False when
    /// sudo wants a terminal; a refusal is thrown as the per-command path reports it.
    private func awaitEscalation(_ channel: OpaquePointer, dialog: SudoDialog, become: Become) throws -> Bool {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var pending: [UInt8] = []
        var written = 0
        var passwordSent = false
        var promptScanFrom = 0
        let successLine = dialog.successMarker + [10]
        let bufferSize = 64 * 1024
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bufferSize)
        defer { buffer.deallocate() }
        var activity = monotonicSeconds()
        while true {
            var progressed = false
            if written < pending.count {
                let rc = writeAvailable(channel, pending, from: &written)
                if rc > 0 {
                    progressed = true
                } else if rc != Int(LIBSSH2_ERROR_EAGAIN) {
                    throw unreachable("writing to sudo on \(endpoint) failed: \(lastError())")
                }
            }
            if try drainAvailable(channel, buffer: buffer, size: bufferSize, stdout: &stdout, stderr: &stderr) {
                progressed = true
            }
            if let prompt = dialog.promptMarker,
                let range = stderr[min(promptScanFrom, stderr.count)...].firstRange(of: prompt)
            {
                stderr.removeSubrange(range)
                promptScanFrom = range.lowerBound
                if passwordSent {
                    throw sudoPasswordRejectedError()
                }
                passwordSent = true
                pending = (dialog.password ?? []) + [10]
                written = 0
            }
            if stdout.firstRange(of: successLine) != nil { return true }
            if libssh2_channel_eof(channel) != 0 {
                if Self.sudoWantsTerminal(stderr) { return false }
                _ = try? retry(deadline: monotonicSeconds() + 2, timeoutMessage: "") { libssh2_channel_close(channel) }
                _ = try? retry(deadline: monotonicSeconds() + 2, timeoutMessage: "") {
                    libssh2_channel_wait_closed(channel)
                }
                throw sudoFailure(become, said: stderr, pty: false, exitStatus: libssh2_channel_get_exit_status(channel))
            }
            if progressed {
                activity = monotonicSeconds()
            } else {
                try waitSocket(deadline: nil, timeoutMessage: "", activitySince: activity)
            }
        }
    }

    /// Whether a kept shell can take the next command. One that exited while idle is replaced, and so
    /// is the session if it died meanwhile (the host rebooted), as a fresh exec request would find
    /// out; output that came between commands (a background process's) belongs to no command.
    private func idleShellIsAlive(_ key: ShellKey, _ shell: PersistentShell) -> Bool {
        var scratch = [CChar](repeating: 0, count: 16 * 1024)
        for stream: Int32 in [0, SSH_EXTENDED_DATA_STDERR] {
            while true {
                let count = libssh2_channel_read_ex(shell.channel, stream, &scratch, scratch.count)
                if count > 0 { continue }
                if count == 0 || count == Int(LIBSSH2_ERROR_EAGAIN) { break }
                if let session, Self.isSocketError(libssh2_session_last_errno(session)) {
                    disconnect()
                } else {
                    stopShell(key)
                }
                return false
            }
        }
        if libssh2_channel_eof(shell.channel) != 0 {
            stopShell(key)
            return false
        }
        return true
    }

    /// Drops one kept shell (its channel is closed; the next command for it starts a new one).
    func stopShell(_ key: ShellKey) {
        guard let shell = shells.removeValue(forKey: key) else { return }
        discard(shell.channel)
    }

    /// Drops the login user's kept shell.
    func stopPersistentShell() {
        stopShell(.login)
    }

    /// Runs a script in the kept shell for `key`; nil when that shell cannot be had (sudo wants a
    /// terminal), so the caller runs it with an exec request instead.
    func runInKeptShell(_ script: String, _ key: ShellKey, subshell: Bool = false) throws -> ExecOutcome? {
        guard var shell = try startShell(key) else { return nil }
        commandCounter &+= 1
        shell.lastUsed = commandCounter
        shells[key] = shell
        let channel = shell.channel
        let input = Array(shell.line(for: script, subshell: subshell).utf8)
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
        defer { if !finished { stopShell(key) } }
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

    /// Runs a plain script in the login user's kept shell.
    func runInPersistentShell(_ script: String) throws -> ExecOutcome {
        // The login shell needs no sudo, so it always starts (or throws).
        guard let outcome = try runInKeptShell(script, .login) else {
            throw PGHAError(.execution, "the kept shell on \(hostName) could not be started", host: hostName)
        }
        return outcome
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
