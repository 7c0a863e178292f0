import CLibSSH2
import Foundation

/// How many channels the server lets one connection hold at once (sshd's MaxSessions, which CIS
/// hardening lowers), learnt from its first refusal.
///
/// A session keeps channels idle between commands: the kept shells (the login user's and the become
/// users'), the spare channel and the SFTP channel. A server that allows fewer refuses the next open
/// with "connect failed"; the session then closes idle channels (the spare first, then the login
/// shell, then SFTP, then the become shells, least recently used first: a hardened host's tasks
/// nearly all run with become) until the open succeeds, and from then on keeps no more idle
/// channels than the server allows. A server that refuses with no idle channel to give back
/// refuses for real.
extension SSHSession {
    /// Channels held open between requests.
    var idleChannelCount: Int {
        (spareChannel != nil || spareOpening ? 1 : 0) + shells.count + (sftpHandle != nil ? 1 : 0)
    }

    /// Whether one more idle channel (the spare) fits the server's limit with room for a command's own.
    var roomForSpareChannel: Bool {
        guard let channelBudget else { return true }
        return idleChannelCount + 2 <= channelBudget
    }

    /// Called when the server refused a channel while `heldOpen` others were open: remembers the
    /// limit and gives one idle channel back. False when there is none to give (the refusal stands).
    func channelRefused(heldOpen: Int, keepSFTP: Bool) -> Bool {
        guard heldOpen > 0 else {
            // sshd counts a closed channel until the process behind it has exited, a few
            // milliseconds later: after a recent close, wait a moment and ask again.
            guard let lastChannelClose, monotonicSeconds() - lastChannelClose < 5 else { return false }
            usleep(20_000)
            return true
        }
        rememberChannelLimit(heldOpen: heldOpen)
        return releaseIdleChannel(keepSFTP: keepSFTP)
    }

    /// The server refused one more channel while `heldOpen` were open: it allows at most that many.
    func rememberChannelLimit(heldOpen: Int) {
        guard heldOpen > 0 else { return }
        channelBudget = min(channelBudget ?? heldOpen, heldOpen)
    }

    /// Before a channel is opened: closes idle channels while the server's known limit leaves no room.
    func makeRoomForChannel(keepSFTP: Bool) {
        guard let channelBudget else { return }
        while idleChannelCount >= channelBudget, releaseIdleChannel(keepSFTP: keepSFTP) {}
    }

    /// Closes one idle channel, the cheapest to reopen first; false when none is left to close.
    private func releaseIdleChannel(keepSFTP: Bool) -> Bool {
        if spareOpening || spareChannel != nil {
            settleSpareChannel()
            if let spare = spareChannel {
                spareChannel = nil
                discard(spare)
            }
            return true
        }
        if shells[.login] != nil {
            stopShell(.login)
            return true
        }
        if !keepSFTP, let handle = sftpHandle {
            sftpHandle = nil
            _ = try? retry(deadline: monotonicSeconds() + 2, timeoutMessage: "") { libssh2_sftp_shutdown(handle) }
            lastChannelClose = monotonicSeconds()
            return true
        }
        if let oldest = shells.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            stopShell(oldest.key)
            return true
        }
        return false
    }
}
