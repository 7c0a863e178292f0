import Foundation
import PGHACore
import Synchronization
import Transport

/// Measures one task on one host: when it started and its round trips to the host, every `run`,
/// `put` and `get` on the connection, each of which waits for the host's answer (a `put` with
/// become is an SFTP upload and one command, on channels the session keeps open). Host results
/// carry both (`--profile`, JSON lines), and with PGHA_ROUND_TRIPS=1 every module run also reports
/// its round trips on stderr.
final class TaskMeter: Sendable {
    /// PGHA_ROUND_TRIPS=1: each module run prints `round trips: MODULE [HOST] TASK: N` on stderr.
    static let reportModules = ProcessInfo.processInfo.environment["PGHA_ROUND_TRIPS"] == "1"

    private let total = Atomic<Int>(0)
    private let startedAt = Mutex<Date>(Date())

    var roundTrips: Int { total.load(ordering: .relaxed) }

    func add() { total.add(1, ordering: .relaxed) }

    /// When the task started running on its host (not when it was queued behind other hosts).
    var started: Date {
        get { startedAt.withLock { $0 } }
        set { startedAt.withLock { $0 = newValue } }
    }

    /// The stderr line of PGHA_ROUND_TRIPS=1 for one module run.
    static func report(module: String, host: String, task: String, count: Int) {
        FileHandle.standardError.write(Data("round trips: \(module) [\(host)] \(task): \(count)\n".utf8))
    }
}

/// The host's connection as one task sees it: the same session, every request counted.
final class CountingConnection: Connection, Sendable {
    private let inner: any Connection
    private let meter: TaskMeter

    init(_ inner: any Connection, meter: TaskMeter) {
        self.inner = inner
        self.meter = meter
    }

    var hostName: String { inner.hostName }

    func run(_ request: CommandRequest) async throws -> CommandResult {
        meter.add()
        return try await inner.run(request)
    }

    func put(_ data: [UInt8], to path: String, attributes: FileAttributes, become: Become?) async throws {
        meter.add()
        try await inner.put(data, to: path, attributes: attributes, become: become)
    }

    func get(_ path: String, become: Become?) async throws -> [UInt8] {
        meter.add()
        return try await inner.get(path, become: become)
    }

    /// The connection belongs to the run's pool: closing it is the pool's business.
    func close() async {}
}
