import Foundation
import PGHACore
import Transport

/// A `Connection` over one SSH session (libssh2), kept open and reused for every command and transfer.
///
/// All libssh2 work runs on a thread owned by the connection, one request at a time, so concurrent
/// callers queue up instead of sharing the session, and waiting on the network never blocks Swift's
/// cooperative threads. The session is opened on first use; if it dies, the next request reconnects.
public final class SSHConnection: Connection {
    public let hostName: String
    public let options: SSHOptions
    private let thread: SessionThread<SSHSession>

    public init(hostName: String, options: SSHOptions) {
        self.hostName = hostName
        self.options = options
        thread = SessionThread(
            name: "ssh \(hostName)", state: SSHSession(hostName: hostName, options: options))
    }

    deinit {
        thread.stop { $0.shutdown() }
    }

    private func perform<T: Sendable>(_ body: @escaping @Sendable (SSHSession) throws -> T) async throws -> T {
        // A cancelled caller (Ctrl-C) starts nothing new on the host.
        if Task.isCancelled { throw PGHAError(.interrupted, "interrupted", host: hostName) }
        do {
            return try await thread.perform { session, isCancelled in
                session.isCancelled = isCancelled
                defer { session.isCancelled = { false } }
                session.settleSpareChannel()
                do {
                    let result = try body(session)
                    session.openSpareChannel()
                    return result
                } catch let error as PGHAError where error.kind == .unreachable || error.kind == .interrupted {
                    // A session that stopped answering is not trusted again, nor one whose libssh2
                    // call was abandoned half-way (Ctrl-C, a task's timeout): the next request reconnects.
                    session.disconnect()
                    throw error
                }
            }
        } catch is SessionThreadStopped {
            throw PGHAError(.unreachable, "the SSH connection to \(hostName) was closed", host: hostName)
        }
    }

    /// Opens the session now (instead of on first use) and returns how long the setup took, in seconds.
    @discardableResult
    public func connect() async throws -> Double {
        try await perform { session in
            _ = try session.ensureConnected()
            return session.lastSetupSeconds
        }
    }

    public func run(_ request: CommandRequest) async throws -> CommandResult {
        try await perform { try $0.runCommand(request) }
    }

    public func put(_ data: [UInt8], to path: String, attributes: FileAttributes, become: Become?) async throws {
        try await perform { try $0.putFile(data, to: path, attributes: attributes, become: become) }
    }

    public func get(_ path: String, become: Become?) async throws -> [UInt8] {
        try await perform { try $0.getFile(path, become: become) }
    }

    public func close() async {
        _ = try? await perform { $0.shutdown() }
    }
}
