import Modules
import OrderedCollections
import PGHACore
import Synchronization

/// How a task ended on one host.
public enum HostStatus: String, Sendable {
    case ok, changed, failed, skipped, unreachable
}

/// One host's outcome of one task (or one loop item of it).
public struct HostResult: Sendable {
    public var host: String
    /// The task's action (short module name), so consumers can tell engine output from module output.
    public var action: String
    public var status: HostStatus
    /// The registered result (redacted), as ansible-playbook shows it after `=>`.
    public var result: Value
    /// Set for a loop item: the label shown as `(item=...)`.
    public var itemLabel: String?
    /// The failure was ignored (`ignore_errors`) and the play goes on.
    public var ignored: Bool
    public var delegatedTo: String?
    /// Unified-diff sources for `--diff` (already redacted).
    public var diffs: [DiffText]
    /// Whether the result body should be printed even without -v (debug, failures).
    public var showResult: Bool
    /// When the task (or loop item) started on this host, in seconds since 1970.
    public var started: Double?
    /// Seconds from `started` until this result.
    public var duration: Double?
    /// Round trips to the host (commands and file transfers) this result took.
    public var roundTrips: Int?
    /// The role the task belongs to, if any.
    public var role: String?

    public init(
        host: String, action: String, status: HostStatus, result: Value, itemLabel: String? = nil, ignored: Bool = false,
        delegatedTo: String? = nil, diffs: [DiffText] = [], showResult: Bool = false, started: Double? = nil,
        duration: Double? = nil, roundTrips: Int? = nil, role: String? = nil
    ) {
        self.host = host
        self.action = action
        self.status = status
        self.result = result
        self.itemLabel = itemLabel
        self.ignored = ignored
        self.delegatedTo = delegatedTo
        self.diffs = diffs
        self.showResult = showResult
        self.started = started
        self.duration = duration
        self.roundTrips = roundTrips
        self.role = role
    }
}

/// A before/after pair for `--diff`: the modules' own type, passed through unchanged.
public typealias DiffText = FileDiff

public struct HostStats: Sendable, Equatable {
    public var ok = 0
    public var changed = 0
    public var unreachable = 0
    public var failed = 0
    public var skipped = 0
    public var rescued = 0
    public var ignored = 0

    public init() {}
}

/// Everything the engine reports. The human view, the JSON-lines view and tests consume the same
/// stream, so what an operator sees is what the tests check.
public enum EngineEvent: Sendable {
    case playStart(name: String, hosts: [String], location: SourceLocation)
    case taskStart(name: String, location: SourceLocation, isHandler: Bool, hosts: [String])
    case hostResult(task: String, HostResult)
    /// A dynamic include loaded for these hosts (`included: FILE for HOSTS`): the task file, or the
    /// role's name, with the loop item's label when the include loops.
    case included(file: String, hosts: [String], itemLabel: String?)
    /// Progress of a long task: hosts still running and seconds elapsed.
    case progress(task: String, running: [String], elapsed: Double)
    case noHostsMatched(pattern: String)
    case noHostsRemaining
    case warning(String)
    case recap(OrderedDictionary<String, HostStats>)
}

/// Receives engine events; implementations must be cheap and thread-safe (events arrive from the
/// executor's tasks).
public protocol EventSink: Sendable {
    func handle(_ event: EngineEvent)
}

/// Collects events in memory (tests, `--list-*`).
public final class EventRecorder: EventSink, Sendable {
    private let storage = Mutex<[EngineEvent]>([])

    public init() {}

    public func handle(_ event: EngineEvent) {
        storage.withLock { $0.append(event) }
    }

    public var events: [EngineEvent] { storage.withLock { $0 } }
}
