import Engine
import Foundation
import OrderedCollections
import PGHACore

/// `--profile`: passes every event on, and after the recap prints where the run's time went, as
/// Ansible's profile_tasks and profile_roles callbacks do: the slowest tasks, the time per role,
/// and how many round trips each task took per host.
///
/// A task's time runs from its start to the next task's (or the recap), so it includes every host
/// and the engine's own work, as profile_tasks measures it.
public final class ProfileSummary: EventSink, @unchecked Sendable {
    private struct TaskRecord {
        var name: String
        var location: SourceLocation
        var start: Double
        var end: Double?
        var role: String?
        var hosts: Set<String> = []
        var roundTrips = 0
    }

    private let inner: any EventSink
    private let write: @Sendable (String) -> Void
    private let json: Bool
    private let limit: Int
    private let clock: @Sendable () -> Double
    private let lock = NSLock()
    private var tasks: [TaskRecord] = []
    private var runStart: Double?
    /// Host results by round trips: how many results took 0, 1, 2, ... (skipped ones left out).
    private var histogram: [Int: Int] = [:]

    /// - Parameters:
    ///   - json: print the summary as one `{"event": "profile", ...}` line instead of text.
    ///   - limit: how many of the slowest tasks to list (profile_tasks' default is 20).
    public init(
        wrapping inner: any EventSink, json: Bool = false, limit: Int = 20,
        write: @escaping @Sendable (String) -> Void = HumanOutput.standardOutput,
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.inner = inner
        self.json = json
        self.limit = limit
        self.write = write
        self.clock = clock
    }

    public func handle(_ event: EngineEvent) {
        inner.handle(event)
        let now = clock()
        lock.lock()
        defer { lock.unlock() }
        if runStart == nil { runStart = now }
        switch event {
        case .playStart:
            closeLastTask(at: now)
        case .taskStart(let name, let location, _, _):
            closeLastTask(at: now)
            tasks.append(TaskRecord(name: name, location: location, start: now))
        case .hostResult(let task, let result):
            // Under the free strategy results of several tasks interleave: the latest task of that name.
            guard let index = tasks.lastIndex(where: { $0.name == task }) else { return }
            tasks[index].hosts.insert(result.host)
            tasks[index].role = tasks[index].role ?? result.role
            tasks[index].roundTrips += result.roundTrips ?? 0
            if result.status != .skipped { histogram[result.roundTrips ?? 0, default: 0] += 1 }
        case .recap:
            closeLastTask(at: now)
            write(json ? jsonSummary(total: now - (runStart ?? now)) : textSummary(total: now - (runStart ?? now)))
        default:
            break
        }
    }

    private func closeLastTask(at time: Double) {
        if let last = tasks.indices.last, tasks[last].end == nil { tasks[last].end = time }
    }

    private func duration(_ task: TaskRecord) -> Double { max(0, (task.end ?? task.start) - task.start) }

    private var slowest: [TaskRecord] {
        Array(tasks.sorted { duration($0) > duration($1) }.prefix(limit))
    }

    /// Role name to total seconds, largest first; tasks outside roles are "(no role)".
    private var perRole: [(String, Double)] {
        var totals: OrderedDictionary<String, Double> = [:]
        for task in tasks { totals[task.role ?? "(no role)", default: 0] += duration(task) }
        return totals.sorted { $0.value > $1.value }.map { ($0.key, $0.value) }
    }

    private func textSummary(total: Double) -> String {
        func seconds(_ value: Double) -> String { String(format: "%8.2fs", value) }
        var lines = ["", "PROFILE: slowest tasks " + String(repeating: "*", count: 56)]
        for task in slowest {
            let hosts = task.hosts.count
            lines.append(
                "\(seconds(duration(task)))  \(task.name)  (\(task.location.description); "
                    + "\(hosts) host\(hosts == 1 ? "" : "s"), \(task.roundTrips) round trip\(task.roundTrips == 1 ? "" : "s"))")
        }
        lines.append("")
        lines.append("PROFILE: time per role " + String(repeating: "*", count: 56))
        for (role, time) in perRole { lines.append("\(seconds(time))  \(role)") }
        lines.append("")
        lines.append("PROFILE: round trips per task and host " + String(repeating: "*", count: 40))
        let runs = histogram.values.reduce(0, +)
        let trips = histogram.reduce(0) { $0 + $1.key * $1.value }
        let buckets = [0, 1, 2].map { "\($0): \(histogram[$0] ?? 0)" }
            + ["3 or more: \(histogram.filter { $0.key >= 3 }.values.reduce(0, +))"]
        lines.append(
            "\(runs) task runs (skipped ones left out), \(trips) round trips, "
                + String(format: "%.2f", runs == 0 ? 0 : Double(trips) / Double(runs)) + " per run; "
                + buckets.joined(separator: ", "))
        lines.append(String(format: "total %.2fs, %d tasks", total, tasks.count))
        return lines.joined(separator: "\n") + "\n"
    }

    private func jsonSummary(total: Double) -> String {
        let slow: [Value] = slowest.map { task in
            [
                "name": .string(task.name), "location": .string(task.location.description),
                "seconds": .double(rounded(duration(task))), "hosts": .int(task.hosts.count),
                "round_trips": .int(task.roundTrips), "role": task.role.map(Value.string) ?? .null,
            ]
        }
        var roles = OrderedDictionary<String, Value>()
        for (role, time) in perRole { roles[role] = .double(rounded(time)) }
        var buckets = OrderedDictionary<String, Value>()
        for key in histogram.keys.sorted() { buckets[String(key)] = .int(histogram[key] ?? 0) }
        let object: Value = [
            "event": "profile", "total_seconds": .double(rounded(total)), "tasks": .int(tasks.count),
            "slowest_tasks": .list(slow), "roles": .dict(roles), "round_trips_per_task_and_host": .dict(buckets),
        ]
        return JSON.encode(object, style: .compact) + "\n"
    }

    private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
