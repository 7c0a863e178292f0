import Engine
import Foundation
import OrderedCollections
import PGHACore

/// One JSON object per line for every play, task, host result and the recap (`--output json`).
/// Task starts carry `start` (seconds since 1970); host results `start`, `duration` (seconds) and
/// `round_trips` (commands and transfers sent to the host).
public final class JSONLinesOutput: EventSink, @unchecked Sendable {
    private let write: @Sendable (String) -> Void
    private let lock = NSLock()

    public init(write: @escaping @Sendable (String) -> Void = HumanOutput.standardOutput) {
        self.write = write
    }

    public func handle(_ event: EngineEvent) {
        guard let object = Self.object(for: event) else { return }
        let line = JSON.encode(object, style: .compact) + "\n"
        lock.lock()
        write(line)
        lock.unlock()
    }

    static func object(for event: EngineEvent) -> Value? {
        switch event {
        case .playStart(let name, let hosts, let location):
            return ["event": "play_start", "name": .string(name), "hosts": .list(hosts.map(Value.string)), "location": .string(location.description)]
        case .taskStart(let name, let location, let isHandler, _):
            return [
                "event": isHandler ? "handler_start" : "task_start", "name": .string(name),
                "location": .string(location.description), "start": .double(seconds(Date().timeIntervalSince1970)),
            ]
        case .hostResult(let task, let result):
            var object: OrderedDictionary<String, Value> = [
                "event": "host_result", "task": .string(task), "host": .string(result.host),
                "action": .string(result.action), "status": .string(result.status.rawValue), "result": HumanOutput.clean(result.result),
            ]
            if let item = result.itemLabel { object["item"] = .string(item) }
            if result.ignored { object["ignored"] = true }
            if let delegate = result.delegatedTo { object["delegated_to"] = .string(delegate) }
            if let started = result.started { object["start"] = .double(seconds(started)) }
            if let duration = result.duration { object["duration"] = .double(seconds(duration)) }
            if let roundTrips = result.roundTrips { object["round_trips"] = .int(roundTrips) }
            if !result.diffs.isEmpty {
                object["diff"] = .list(result.diffs.map {
                    ["before": .string($0.before), "after": .string($0.after), "before_header": .string($0.beforeHeader), "after_header": .string($0.afterHeader)]
                })
            }
            return .dict(object)
        case .included(let file, let hosts, let itemLabel):
            var object: OrderedDictionary<String, Value> = [
                "event": "included", "file": .string(file), "hosts": .list(hosts.map(Value.string)),
            ]
            if let itemLabel { object["item"] = .string(itemLabel) }
            return .dict(object)
        case .progress:
            return nil
        case .noHostsMatched(let pattern):
            return ["event": "warning", "message": .string("Could not match supplied host pattern, ignoring: \(pattern)")]
        case .noHostsRemaining:
            return ["event": "no_hosts_remaining"]
        case .warning(let message):
            return ["event": "warning", "message": .string(message)]
        case .recap(let stats):
            var hosts = OrderedDictionary<String, Value>()
            for (host, s) in stats {
                hosts[host] = [
                    "ok": .int(s.ok), "changed": .int(s.changed), "unreachable": .int(s.unreachable), "failed": .int(s.failed),
                    "skipped": .int(s.skipped), "rescued": .int(s.rescued), "ignored": .int(s.ignored),
                ]
            }
            return ["event": "recap", "hosts": .dict(hosts)]
        }
    }

    /// Microseconds are all a clock tells apart here.
    private static func seconds(_ value: Double) -> Double { (value * 1_000_000).rounded() / 1_000_000 }
}
