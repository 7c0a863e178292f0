import CLibSSH2
import Foundation
import PGHACore

extension SSHSession {
    /// The session's one SFTP channel, opened on first use and kept for every later transfer.
    func sftp() throws -> OpaquePointer {
        if let sftpHandle { return sftpHandle }
        let session = try ensureConnected()
        settleSpareChannel()
        makeRoomForChannel(keepSFTP: true)
        var handle = try retryPointer(deadline: nil, { libssh2_sftp_init(session) })
        while handle == nil, libssh2_session_last_errno(session) == LIBSSH2_ERROR_CHANNEL_FAILURE,
            channelRefused(heldOpen: idleChannelCount, keepSFTP: true)
        {
            handle = try retryPointer(deadline: nil, { libssh2_sftp_init(session) })
        }
        guard let handle else {
            let message = lastError()
            throw unreachable(
                "cannot start SFTP on \(endpoint): \(message)",
                hint: "the server needs an sftp subsystem ('Subsystem sftp ...' in sshd_config)")
        }
        sftpHandle = handle
        return handle
    }

    func sftpFailure(_ action: String, _ path: String) -> PGHAError {
        guard let sftpHandle else { return PGHAError(.execution, "\(action) \(path) failed: \(lastError())", host: hostName) }
        let code = libssh2_sftp_last_error(sftpHandle)
        lastSFTPStatus = code
        let reason: String
        switch code {
        case LIBSSH2_FX_NO_SUCH_FILE, LIBSSH2_FX_NO_SUCH_PATH: reason = "no such file or directory"
        case LIBSSH2_FX_PERMISSION_DENIED: reason = "permission denied"
        case LIBSSH2_FX_FILE_ALREADY_EXISTS: reason = "file exists"
        case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM, LIBSSH2_FX_QUOTA_EXCEEDED: reason = "no space left"
        case 0: reason = lastError()
        default: reason = "SFTP status \(code)"
        }
        return PGHAError(.execution, "\(action) \(path) on \(endpoint) failed: \(reason)", host: hostName)
    }

    /// Writes a new file (it must not exist) with exactly `mode`, whatever the remote umask.
    func sftpWrite(_ data: [UInt8], to path: String, mode: UInt32) throws {
        let sftp = try sftp()
        let flags = UInt(LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL)
        guard
            let file = try retryPointer(deadline: nil, {
                libssh2_sftp_open_ex(
                    sftp, path, UInt32(path.utf8.count), flags, Int(mode), LIBSSH2_SFTP_OPENFILE)
            })
        else { throw sftpFailure("creating", path) }
        var closed = false
        defer { if !closed { _ = try? retry { libssh2_sftp_close_handle(file) } } }
        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        attributes.flags = UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS)
        attributes.permissions = UInt(mode)
        if try retry({ libssh2_sftp_fstat_ex(file, &attributes, 1) }) != 0 { throw sftpFailure("setting the mode of", path) }
        var offset = 0
        let since = monotonicSeconds()
        try data.withUnsafeBufferPointer { bytes in
            try bytes.withMemoryRebound(to: CChar.self) { chars in
                var activity = since
                while offset < chars.count {
                    // A fast link may never make the write wait: look for Ctrl-C between chunks too.
                    if isCancelled() { throw PGHAError(.interrupted, "interrupted", host: hostName) }
                    // libssh2 pipelines many packets out of one large buffer, so hand it everything left.
                    let written = libssh2_sftp_write(file, chars.baseAddress! + offset, chars.count - offset)
                    if written > 0 {
                        offset += written
                        activity = monotonicSeconds()
                    } else if written == Int(LIBSSH2_ERROR_EAGAIN) {
                        try waitSocket(deadline: nil, timeoutMessage: "", activitySince: activity)
                    } else {
                        throw sftpFailure("writing", path)
                    }
                }
            }
        }
        closed = true
        if try retry({ libssh2_sftp_close_handle(file) }) != 0 { throw sftpFailure("closing", path) }
    }

    func sftpRead(_ path: String) throws -> [UInt8] {
        let sftp = try sftp()
        guard
            let file = try retryPointer(deadline: nil, {
                libssh2_sftp_open_ex(
                    sftp, path, UInt32(path.utf8.count), UInt(LIBSSH2_FXF_READ), 0, LIBSSH2_SFTP_OPENFILE)
            })
        else { throw sftpFailure("opening", path) }
        defer { _ = try? retry { libssh2_sftp_close_handle(file) } }
        var result: [UInt8] = []
        let size = 1 << 20
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
        defer { buffer.deallocate() }
        var activity = monotonicSeconds()
        while true {
            let count = libssh2_sftp_read(file, buffer, size)
            if count > 0 {
                buffer.withMemoryRebound(to: UInt8.self, capacity: count) {
                    result.append(contentsOf: UnsafeBufferPointer(start: $0, count: count))
                }
                activity = monotonicSeconds()
            } else if count == 0 {
                return result
            } else if count == Int(LIBSSH2_ERROR_EAGAIN) {
                try waitSocket(deadline: nil, timeoutMessage: "", activitySince: activity)
            } else {
                throw sftpFailure("reading", path)
            }
        }
    }

    /// Makes the login user's private (0700) upload directory once per session.
    func privateDirectory() throws -> String {
        if let privateTempDirectory { return privateTempDirectory }
        let sftp = try sftp()
        for _ in 0..<5 {
            let path = "/tmp/.pgha-\(options.user)-\(randomHex(8))"
            let rc = try retry { libssh2_sftp_mkdir_ex(sftp, path, UInt32(path.utf8.count), 0o700) }
            if rc == 0 {
                privateTempDirectory = path
                return path
            }
        }
        throw sftpFailure("creating a private directory in", "/tmp")
    }

    func sftpUnlink(_ path: String) {
        guard let sftp = try? sftp() else { return }
        _ = try? retry { libssh2_sftp_unlink_ex(sftp, path, UInt32(path.utf8.count)) }
    }
}

func randomHex(_ bytes: Int) -> String {
    (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
}
