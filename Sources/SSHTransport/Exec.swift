import CLibSSH2
import Foundation
import PGHACore

/// The conversation with sudo for one command: answer its prompt, then wait for the marker the
/// escalated shell prints before running the command.
struct SudoDialog {
    /// Printed by the escalated shell first thing, proving sudo let us in.
    var successMarker: [UInt8]
    /// sudo's `-p` prompt, when a password is to be typed.
    var promptMarker: [UInt8]?
    var password: [UInt8]?
}

/// One exec request as the session runs it.
struct ExecSpec {
    var command: String
    var stdin: [UInt8] = []
    var pty = false
    var dialog: SudoDialog?
    var timeout: Double?
}

struct ExecOutcome {
    var stdout: [UInt8]
    var stderr: [UInt8]
    var exitStatus: Int32
    var signal: String?
    /// False when a sudo dialog was asked for and the success marker never came (sudo itself failed).
    var becameUser: Bool
    /// The remote shell's process group, when the command announced it.
    var processGroup: Int?
}

/// sudo asked for the password again after it had been given: it was wrong.
struct SudoPasswordRejected: Error {}

/// Marks the first stderr line a timed command prints: the process group to kill on timeout.
let processGroupMarker = Array("\u{1}pgha-pgid ".utf8)

/// Removes the process-group line from the start of `stream` once it is complete; nil while incomplete.
private func takeProcessGroupLine(_ stream: inout [UInt8]) -> Int?? {
    guard let newline = stream.firstIndex(of: 10) else { return nil }
    guard stream.starts(with: processGroupMarker) else { return .some(nil) }
    let value = Int(String(decoding: stream[processGroupMarker.count..<newline], as: UTF8.self))
    stream.removeSubrange(0...newline)
    return .some(value)
}

extension SSHSession {
    private static func openSessionChannel(_ session: OpaquePointer) -> OpaquePointer? {
        libssh2_channel_open_ex(
            session, "session", 7, UInt32(2 * 1024 * 1024), UInt32(LIBSSH2_CHANNEL_PACKET_DEFAULT), nil, 0)
    }

    /// Sends the open request of the next command's channel while the session is idle, without
    /// waiting for the answer: the next command then spends one round trip (and one wake-up of the
    /// server) less. Commands on a host come one after another, so there is nearly always a next one.
    func openSpareChannel() {
        guard let session, !closed, spareChannel == nil, !spareOpening, roomForSpareChannel else { return }
        if let channel = Self.openSessionChannel(session) {
            spareChannel = channel
        } else if libssh2_session_last_errno(session) == LIBSSH2_ERROR_EAGAIN {
            spareOpening = true
        }
    }

    /// Completes a pending spare open, so that libssh2 (which tracks one channel open per session)
    /// can open another channel (SFTP) or run the command. A failure here is left to the next open,
    /// which reconnects.
    func settleSpareChannel() {
        guard spareOpening, let session else { return }
        spareOpening = false
        let deadline = monotonicSeconds() + options.connectTimeout
        do {
            spareChannel = try retryPointer(deadline: deadline) { Self.openSessionChannel(session) }
            guard spareChannel == nil else { return }
            let code = libssh2_session_last_errno(session)
            if code == LIBSSH2_ERROR_CHANNEL_FAILURE {
                // Refused (the server's MaxSessions): keep no spare from now on; the command opens its own.
                rememberChannelLimit(heldOpen: idleChannelCount)
            } else if Self.isSocketError(code) {
                disconnect()
            }
        } catch {
            disconnect()
        }
    }

    /// Opens a session channel (or takes the spare one), reconnecting once when the session turns
    /// out to be dead (the host rebooted or dropped us between commands).
    func openChannel() throws -> (channel: OpaquePointer, spare: Bool) {
        settleSpareChannel()
        if let spare = spareChannel {
            spareChannel = nil
            return (spare, true)
        }
        var reconnected = false
        while true {
            let session = try ensureConnected()
            makeRoomForChannel(keepSFTP: false)
            let heldOpen = idleChannelCount
            if let channel = try retryPointer({ Self.openSessionChannel(session) }) { return (channel, false) }
            let code = libssh2_session_last_errno(session)
            if code == LIBSSH2_ERROR_CHANNEL_FAILURE, channelRefused(heldOpen: heldOpen, keepSFTP: false) { continue }
            let message = lastError()
            disconnect()
            if Self.isSocketError(code) && !reconnected {
                reconnected = true
                continue
            }
            throw unreachable("cannot open a channel to \(endpoint): \(message)")
        }
    }

    static func isSocketError(_ code: Int32) -> Bool {
        [
            LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_DISCONNECT,
            LIBSSH2_ERROR_SOCKET_TIMEOUT,
        ].contains(code)
    }

    /// Closes and frees a channel without waiting long for a peer that may be gone.
    func discard(_ channel: OpaquePointer) {
        // Cleanup must finish even when the caller was cancelled, or the channel stays open on the server.
        let wasCancelled = isCancelled
        isCancelled = { false }
        defer { isCancelled = wasCancelled }
        let deadline = monotonicSeconds() + 2
        _ = try? retry(deadline: deadline, timeoutMessage: "") { libssh2_channel_close(channel) }
        _ = try? retry(deadline: deadline, timeoutMessage: "") { libssh2_channel_free(channel) }
        lastChannelClose = monotonicSeconds()
    }

    /// Writes to stdin what the channel takes now of `bytes` after `offset` (non-blocking), moving
    /// `offset` on; returns libssh2's result (bytes written, EAGAIN, or an error code).
    func writeAvailable(_ channel: OpaquePointer, _ bytes: [UInt8], from offset: inout Int) -> Int {
        let start = offset
        let rc = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                libssh2_channel_write_ex(channel, 0, $0.baseAddress! + start, $0.count - start)
            }
        }
        if rc > 0 { offset += rc }
        return rc
    }

    /// Reads what stdout and stderr hold right now, each until it has nothing more (non-blocking, so a
    /// full stderr never stalls stdout); true when anything arrived.
    func drainAvailable(
        _ channel: OpaquePointer, buffer: UnsafeMutablePointer<CChar>, size bufferSize: Int,
        stdout: inout [UInt8], stderr: inout [UInt8]
    ) throws -> Bool {
        var progressed = false
        for stream: Int32 in [0, SSH_EXTENDED_DATA_STDERR] {
            while true {
                let count = libssh2_channel_read_ex(channel, stream, buffer, bufferSize)
                if count > 0 {
                    buffer.withMemoryRebound(to: UInt8.self, capacity: count) {
                        let bytes = UnsafeBufferPointer(start: $0, count: count)
                        if stream == 0 { stdout.append(contentsOf: bytes) } else { stderr.append(contentsOf: bytes) }
                    }
                    progressed = true
                    continue
                }
                if count == Int(LIBSSH2_ERROR_EAGAIN) || count == 0 { break }
                throw unreachable("reading command output from \(endpoint) failed: \(lastError())")
            }
        }
        return progressed
    }

    /// Runs one command, reading stdout and stderr as they come so neither can fill the window and stall
    /// the other, while feeding stdin.
    func exec(_ spec: ExecSpec) throws -> ExecOutcome {
        let start = monotonicSeconds()
        let deadline = spec.timeout.map { start + $0 }
        let (channel, spare) = try openChannel()
        var freed = false
        defer { if !freed { discard(channel) } }
        do {
            if spec.pty {
                // Raw mode: no echo, no CR/LF translation, so output stays byte-exact.
                let modes: [UInt8] = [
                    53, 0, 0, 0, 0,  // ECHO
                    51, 0, 0, 0, 0,  // ICANON
                    70, 0, 0, 0, 0,  // OPOST
                    72, 0, 0, 0, 0,  // ONLCR
                    0,
                ]
                let rc = try modes.withUnsafeBufferPointer { buffer in
                    try buffer.withMemoryRebound(to: CChar.self) { modePointer in
                        try retry(deadline: deadline, timeoutMessage: "", activitySince: start) {
                            libssh2_channel_request_pty_ex(
                                channel, "dumb", 4, modePointer.baseAddress, UInt32(modePointer.count), 200, 50, 0, 0)
                        }
                    }
                }
                if rc != 0 { throw unreachable("\(endpoint) refused a pseudo-terminal: \(lastError())") }
            }
            let rc = try retry(deadline: deadline, timeoutMessage: "", activitySince: start) {
                libssh2_channel_process_startup(channel, "exec", 4, spec.command, UInt32(spec.command.utf8.count))
            }
            if rc != 0 {
                if spare, let session, Self.isSocketError(libssh2_session_last_errno(session)) {
                    // The spare channel was opened on a session that has died since: start over on a new one.
                    disconnect()
                    freed = true
                    return try exec(spec)
                }
                throw unreachable("\(endpoint) refused to run a command: \(lastError())")
            }
            let outcome = try pump(channel, spec: spec, start: start, deadline: deadline)
            freed = true
            discard(channel)
            return outcome
        }
    }

    private func pump(_ channel: OpaquePointer, spec: ExecSpec, start: Double, deadline: Double?) throws -> ExecOutcome {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        // Bytes to write: the sudo password goes first, the payload only once sudo has let us in.
        var pending: [UInt8] = []
        var pendingOffset = 0
        var payloadReleased = spec.dialog == nil
        var writingFailed = false
        var eofSent = false
        var passwordSent = false
        var becameUser = spec.dialog == nil
        var promptScanFrom = 0
        var processGroup: Int?
        var processGroupPending = spec.timeout != nil
        if payloadReleased { pending = spec.stdin }

        let bufferSize = 256 * 1024
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bufferSize)
        defer { buffer.deallocate() }
        var activity = start

        do {
            while true {
                var progressed = false
                // stdin
                if !writingFailed && pendingOffset < pending.count {
                    let rc = writeAvailable(channel, pending, from: &pendingOffset)
                    if rc > 0 {
                        progressed = true
                    } else if rc != Int(LIBSSH2_ERROR_EAGAIN) {
                        // The command closed its stdin or exited; what it did not read is its business.
                        writingFailed = true
                    }
                }
                if payloadReleased && !eofSent && !spec.pty && (pendingOffset >= pending.count || writingFailed) {
                    let rc = libssh2_channel_send_eof(channel)
                    if rc != LIBSSH2_ERROR_EAGAIN { eofSent = true }
                }
                if try drainAvailable(channel, buffer: buffer, size: bufferSize, stdout: &stdout, stderr: &stderr) { progressed = true }
                if processGroupPending {
                    // With a pty the marker arrives on the merged output stream.
                    if spec.pty {
                        if let line = takeProcessGroupLine(&stdout) {
                            processGroupPending = false
                            processGroup = line
                        }
                    } else if let line = takeProcessGroupLine(&stderr) {
                        processGroupPending = false
                        processGroup = line
                    }
                }
                if let dialog = spec.dialog, !becameUser {
                    if let prompt = dialog.promptMarker {
                        // With a pty sudo's prompt arrives on the merged output stream.
                        let found: Range<Int>? =
                            spec.pty
                            ? stdout[min(promptScanFrom, stdout.count)...].firstRange(of: prompt)
                            : stderr[min(promptScanFrom, stderr.count)...].firstRange(of: prompt)
                        if let range = found {
                            if spec.pty { stdout.removeSubrange(range) } else { stderr.removeSubrange(range) }
                            promptScanFrom = range.lowerBound
                            if passwordSent { throw SudoPasswordRejected() }
                            passwordSent = true
                            pending = (dialog.password ?? []) + [10]
                            pendingOffset = 0
                        }
                    }
                    let successLine = dialog.successMarker + [10]
                    if let range = stdout.firstRange(of: successLine) {
                        // Anything before it (a pty's echoed newline after the password) is sudo's, not the command's.
                        stdout.removeSubrange(0..<range.upperBound)
                        becameUser = true
                        payloadReleased = true
                        pending = spec.stdin
                        pendingOffset = 0
                        progressed = true
                    }
                }
                if libssh2_channel_eof(channel) != 0 { break }
                if progressed {
                    activity = monotonicSeconds()
                    if let deadline, activity >= deadline { throw CommandTimedOut() }
                } else {
                    try waitSocket(deadline: deadline, timeoutMessage: "", activitySince: activity)
                }
            }
        } catch var timedOut as CommandTimedOut {
            timedOut.processGroup = processGroup
            throw timedOut
        }
        let closeDeadline = monotonicSeconds() + options.inactivityTimeout
        _ = try retry(deadline: deadline.map { max($0, closeDeadline) } ?? closeDeadline, timeoutMessage: "") {
            libssh2_channel_close(channel)
        }
        _ = try retry(deadline: deadline.map { max($0, closeDeadline) } ?? closeDeadline, timeoutMessage: "") {
            libssh2_channel_wait_closed(channel)
        }
        let status = libssh2_channel_get_exit_status(channel)
        var signalName: UnsafeMutablePointer<CChar>?
        var signalLength = 0
        _ = libssh2_channel_get_exit_signal(channel, &signalName, &signalLength, nil, nil, nil, nil)
        var signal: String?
        if let signalName {
            if signalLength > 0 {
                signal = String(decoding: UnsafeRawBufferPointer(start: signalName, count: signalLength), as: UTF8.self)
            }
            libssh2_free(session, signalName)
        }
        return ExecOutcome(
            stdout: stdout, stderr: stderr, exitStatus: signal == nil ? Int32(status) : -1, signal: signal,
            becameUser: becameUser, processGroup: processGroup)
    }
}
