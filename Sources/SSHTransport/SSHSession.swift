import CLibSSH2
import Foundation
import PGHACore

/// Thrown inside a job when a command's own time limit ran out (the session itself is fine).
struct CommandTimedOut: Error {
    /// The remote process group, when known, so it can be killed.
    var processGroup: Int?
}

/// known_hosts lists this host only under another key type: reconnect asking for that type, as
/// OpenSSH does when it orders host key algorithms by what it already knows.
struct RetryWithHostKeyAlgorithm: Error {
    var name: String
}

/// OpenSSH's own order; libssh2 1.10 would otherwise pick ECDSA before Ed25519.
let defaultHostKeyAlgorithms = [
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa",
]

/// One libssh2 session and its socket. Not Sendable: it lives on, and is used only from, its
/// connection's `SessionThread`.
final class SSHSession {
    let options: SSHOptions
    let hostName: String
    private(set) var session: OpaquePointer?
    private var socketFD: Int32 = -1
    var sftpHandle: OpaquePointer?
    /// A channel opened ahead of the next command (see `openSpareChannel`).
    var spareChannel: OpaquePointer?
    /// The spare channel's open request is sent and its confirmation not yet read.
    var spareOpening = false
    /// The kept shells that run commands (see `PersistentShell`): the login user's and up to two
    /// become users', each started on first use.
    var shells: [ShellKey: PersistentShell] = [:]
    /// sudo here needs a terminal, so become commands take exec requests (which can have one).
    var becomeShellRefused = false
    /// Counts commands run in kept shells, to tell which was used least recently.
    var commandCounter: UInt64 = 0
    /// The most channels the server allows open at once, once it has refused one (see ChannelBudget.swift).
    var channelBudget: Int?
    /// When this session last closed a channel (the server may count it a moment longer).
    var lastChannelClose: Double?
    let context = CallbackContext()
    /// Set by the thread for the job being run, so waits can notice Swift task cancellation.
    var isCancelled: () -> Bool = { false }
    /// Partial uploads of transfers abandoned half-way, removed as soon as a session is open again
    /// (`shutdown` opens one for them).
    var pendingRemovals: [String] = []
    /// The status of the last SFTP request that failed (LIBSSH2_FX_*).
    var lastSFTPStatus: UInt = 0
    /// The login user's private upload directory, made on first use and removed on close.
    var privateTempDirectory: String?
    var closed = false
    /// Host key algorithms in the order offered to the server; changed once if known_hosts says so.
    var hostKeyAlgorithms = defaultHostKeyAlgorithms
    /// True while the first handshake of a connect may still switch algorithms.
    var mayRetryHostKeyAlgorithm = true
    /// Seconds spent in the last successful connect (TCP, handshake, host key check, authentication).
    private(set) var lastSetupSeconds: Double = 0

    init(hostName: String, options: SSHOptions) {
        self.hostName = hostName
        self.options = options
    }

    deinit { disconnect() }

    func unreachable(_ message: String, hint: String? = nil) -> PGHAError {
        PGHAError(.unreachable, message, host: hostName, hint: hint)
    }

    var endpoint: String { "\(options.user)@\(options.host):\(options.port)" }

    // MARK: - Connection lifetime

    /// Connects when there is no live session; a session that failed earlier is replaced here.
    func ensureConnected() throws -> OpaquePointer {
        if closed { throw unreachable("the SSH connection to \(endpoint) was closed") }
        if let session { return session }
        let start = monotonicSeconds()
        mayRetryHostKeyAlgorithm = true
        do {
            try connect()
        } catch let retry as RetryWithHostKeyAlgorithm {
            disconnect()
            hostKeyAlgorithms = [retry.name] + defaultHostKeyAlgorithms.filter { $0 != retry.name }
            mayRetryHostKeyAlgorithm = false
            do {
                try connect()
            } catch {
                disconnect()
                throw error
            }
        } catch {
            disconnect()
            throw error
        }
        lastSetupSeconds = monotonicSeconds() - start
        guard let session else { throw unreachable("cannot connect to \(endpoint)") }
        removePendingUploads()
        return session
    }

    func disconnect() {
        // libssh2_session_free frees the session's channels, the spare one included.
        spareChannel = nil
        spareOpening = false
        shells = [:]
        if let sftpHandle {
            _ = libssh2_sftp_shutdown(sftpHandle)
            self.sftpHandle = nil
        }
        if let session {
            // Best effort and non-blocking: a dead peer must not hold up teardown.
            _ = libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "bye", "")
            _ = libssh2_session_free(session)
            self.session = nil
        }
        if socketFD >= 0 {
            Foundation.close(socketFD)
            socketFD = -1
        }
    }

    private func connect() throws {
        guard libssh2Initialized else { throw unreachable("libssh2 failed to initialise") }
        socketFD = try openSocket()
        let abstract = Unmanaged.passUnretained(context).toOpaque()
        guard let session = libssh2_session_init_ex(nil, nil, nil, abstract) else {
            throw unreachable("libssh2 could not allocate a session")
        }
        self.session = session
        libssh2_session_set_blocking(session, 0)
        _ = libssh2_session_callback_set(
            session, LIBSSH2_CALLBACK_RECV, unsafeBitCast(recordingRecv, to: UnsafeMutableRawPointer.self))
        _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, hostKeyAlgorithms.joined(separator: ","))

        let handshakeDeadline = monotonicSeconds() + options.connectTimeout
        context.lastReceive = monotonicSeconds()
        let rc = try retry(deadline: handshakeDeadline, timeoutMessage: "SSH handshake timed out") {
            libssh2_session_handshake(session, socketFD)
        }
        if rc != 0 { throw handshakeError(rc) }
        try checkHostKey(session)
        try authenticate(session)
        if options.keepaliveInterval > 0 {
            libssh2_keepalive_config(session, 1, UInt32(options.keepaliveInterval))
        }
    }

    private func handshakeError(_ rc: Int32) -> PGHAError {
        let detail = lastError()
        if rc == LIBSSH2_ERROR_KEX_FAILURE {
            return unreachable(
                "SSH key exchange with \(endpoint) failed (\(detail)). The server most likely offers only an RSA "
                    + "host key: libssh2 1.10 can verify RSA host keys only with ssh-rsa (SHA-1) signatures, which "
                    + "OpenSSH 8.8 and later refuse to make.",
                hint: "give the server an ed25519 host key (ssh-keygen -A, and a 'HostKey "
                    + "/etc/ssh/ssh_host_ed25519_key' line in sshd_config), or connect with a newer libssh2")
        }
        return unreachable(
            "SSH handshake with \(endpoint) failed: \(detail)", hint: "check that an SSH server listens on that port")
    }

    private func openSocket() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let gai = getaddrinfo(options.host, String(options.port), &hints, &list)
        guard gai == 0, let list else {
            let reason = String(cString: gai_strerror(gai))
            throw unreachable(
                "cannot resolve \(options.host): \(reason)", hint: "check the host name or set ansible_host")
        }
        defer { freeaddrinfo(list) }
        let deadline = monotonicSeconds() + options.connectTimeout
        var lastProblem = "no address"
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let info = cursor {
            cursor = info.pointee.ai_next
            // Close-on-exec: a process the caller spawns must not keep our session's socket alive.
            let fd = socket(
                info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            if fd < 0 { continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            // Each command is a few small packets; Nagle would add delayed-ACK stalls to every one.
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            if errno != EINPROGRESS {
                lastProblem = String(cString: strerror(errno))
                Foundation.close(fd)
                continue
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var ready: Int32 = 0
            repeat {
                let remaining = deadline - monotonicSeconds()
                if remaining <= 0 { break }
                ready = poll(&pfd, 1, Int32(min(remaining, 0.25) * 1000) + 1)
                if isCancelled() { break }
            } while ready == 0 || (ready < 0 && errno == EINTR)
            if ready > 0 {
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
                if soError == 0 { return fd }
                lastProblem = String(cString: strerror(soError))
            } else {
                lastProblem = isCancelled() ? "interrupted" : "timed out after \(format(options.connectTimeout)) s"
            }
            Foundation.close(fd)
        }
        throw unreachable(
            "cannot connect to \(options.host) port \(options.port): \(lastProblem)",
            hint: "check that the host is up, that sshd listens on port \(options.port), and firewalls")
    }

    // MARK: - Waiting

    /// The message of libssh2's last error.
    func lastError() -> String {
        guard let session else { return "no session" }
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        guard let message else { return "libssh2 error \(code)" }
        return String(decoding: UnsafeRawBufferPointer(start: message, count: Int(length)), as: UTF8.self)
    }

    /// Repeats a non-blocking call until it stops asking to be retried.
    func retry(
        deadline: Double? = nil, timeoutMessage: String = "timed out", activitySince: Double? = nil,
        _ call: () -> Int32
    ) throws -> Int32 {
        let since = activitySince ?? monotonicSeconds()
        while true {
            let rc = call()
            if rc != LIBSSH2_ERROR_EAGAIN { return rc }
            try waitSocket(deadline: deadline, timeoutMessage: timeoutMessage, activitySince: since)
        }
    }

    /// Like `retry`, for calls that return a pointer and signal "again" through the session's errno.
    func retryPointer(deadline: Double? = nil, _ call: () -> OpaquePointer?) throws -> OpaquePointer? {
        let since = monotonicSeconds()
        while true {
            if let pointer = call() { return pointer }
            guard let session, libssh2_session_last_errno(session) == LIBSSH2_ERROR_EAGAIN else { return nil }
            try waitSocket(deadline: deadline, timeoutMessage: "timed out", activitySince: since)
        }
    }

    /// Sleeps until the socket is ready in the directions libssh2 is blocked on, sending keepalives,
    /// and gives up when the deadline passes (`deadline` with `CommandTimedOut` when the message is
    /// empty), the server has been silent too long, or the task was cancelled.
    func waitSocket(deadline: Double?, timeoutMessage: String, activitySince: Double) throws {
        guard let session else { throw unreachable("not connected to \(endpoint)") }
        let directions = libssh2_session_block_directions(session)
        var events: Int16 = 0
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        if events == 0 { events = Int16(POLLIN) }
        var waitSeconds = 0.25
        if let deadline { waitSeconds = min(waitSeconds, max(deadline - monotonicSeconds(), 0)) }
        var pfd = pollfd(fd: socketFD, events: events, revents: 0)
        let ready = poll(&pfd, 1, Int32(waitSeconds * 1000) + 1)
        if ready < 0 && errno != EINTR {
            throw unreachable("waiting for \(endpoint) failed: \(String(cString: strerror(errno)))")
        }
        if isCancelled() { throw PGHAError(.interrupted, "interrupted", host: hostName) }
        let now = monotonicSeconds()
        if options.keepaliveInterval > 0 {
            var next: Int32 = 0
            _ = libssh2_keepalive_send(session, &next)
            let silence = now - max(context.lastReceive, activitySince)
            if silence > options.inactivityTimeout {
                throw unreachable(
                    "\(endpoint) stopped answering: nothing received for \(format(silence)) s "
                        + "(keepalive requests every \(options.keepaliveInterval) s went unanswered)",
                    hint: "check that the host is up and the network path to it; the limit is the inactivity timeout")
            }
        }
        if let deadline, now >= deadline {
            if timeoutMessage.isEmpty { throw CommandTimedOut() }
            throw unreachable("\(endpoint): \(timeoutMessage) after \(format(options.connectTimeout)) s")
        }
    }
}

func format(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
}
