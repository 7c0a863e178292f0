import Engine
import Foundation
import PGHACore
import Synchronization
import Testing

@testable import Output

/// `--profile`: the summary printed after the recap, from the events of a run and a clock the
/// test moves by hand.
@Suite("--profile summary")
struct ProfileSummaryTests {
    final class Clock: Sendable {
        let now = Mutex<Double>(1000)
        func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
    }

    final class Capture: Sendable {
        let text = Mutex<String>("")
        func write(_ more: String) { text.withLock { $0 += more } }
    }

    func events(_ sink: ProfileSummary, clock: Clock) {
        let here = SourceLocation(file: "site.yml", line: 3)
        sink.handle(.playStart(name: "p", hosts: ["a", "b"], location: here))
        sink.handle(.taskStart(name: "fast", location: here, isHandler: false, hosts: ["a", "b"]))
        clock.advance(0.5)
        sink.handle(.hostResult(task: "fast", HostResult(host: "a", action: "copy", status: .ok, result: .null, roundTrips: 1, role: "web")))
        sink.handle(.hostResult(task: "fast", HostResult(host: "b", action: "copy", status: .ok, result: .null, roundTrips: 1, role: "web")))
        sink.handle(.taskStart(name: "slow", location: SourceLocation(file: "site.yml", line: 9), isHandler: false, hosts: ["a", "b"]))
        clock.advance(2.0)
        sink.handle(.hostResult(task: "slow", HostResult(host: "a", action: "command", status: .changed, result: .null, roundTrips: 3)))
        sink.handle(.hostResult(task: "slow", HostResult(host: "b", action: "command", status: .skipped, result: .null, roundTrips: 0)))
        clock.advance(0.25)
        sink.handle(.recap([:]))
    }

    @Test func slowestTasksRolesAndRoundTrips() throws {
        let clock = Clock()
        let capture = Capture()
        let inner = EventRecorder()
        let sink = ProfileSummary(
            wrapping: inner, write: { capture.write($0) }, clock: { clock.now.withLock { $0 } })
        events(sink, clock: clock)
        // Every event still reaches the view.
        #expect(inner.events.count == 8)
        let text = capture.text.withLock { $0 }
        let lines = text.split(separator: "\n").map(String.init)
        let slowest = try #require(lines.firstIndex { $0.hasPrefix("PROFILE: slowest tasks") })
        try #require(lines.count > slowest + 2)
        #expect(lines[slowest + 1] == "    2.25s  slow  (site.yml:9; 2 hosts, 3 round trips)")
        #expect(lines[slowest + 2] == "    0.50s  fast  (site.yml:3; 2 hosts, 2 round trips)")
        #expect(text.contains("    2.25s  (no role)\n    0.50s  web\n"))
        // The skipped result is left out of the round-trip count per task and host.
        #expect(text.contains("3 task runs (skipped ones left out), 5 round trips, 1.67 per run; 0: 0, 1: 2, 2: 0, 3 or more: 1"))
        #expect(text.contains("total 2.75s, 2 tasks"))
    }

    @Test func jsonSummaryIsOneEvent() throws {
        let clock = Clock()
        let capture = Capture()
        let sink = ProfileSummary(
            wrapping: EventRecorder(), json: true, write: { capture.write($0) }, clock: { clock.now.withLock { $0 } })
        events(sink, clock: clock)
        let line = capture.text.withLock { $0 }
        #expect(line.hasSuffix("\n") && line.split(separator: "\n").count == 1)
        let profile = try JSON.decode(line)
        #expect(profile["event"] == "profile")
        #expect(profile["total_seconds"] == .double(2.75))
        #expect(profile["slowest_tasks"]?.listValue?.first?["name"] == "slow")
        #expect(profile["slowest_tasks"]?.listValue?.first?["round_trips"] == 3)
        #expect(profile["roles"]?["web"] == .double(0.5))
        #expect(profile["round_trips_per_task_and_host"] == ["1": 2, "3": 1])
    }

    @Test func jsonLinesCarryTimesAndRoundTrips() throws {
        let lines = Capture()
        let output = JSONLinesOutput(write: { lines.write($0) })
        output.handle(.taskStart(name: "t", location: SourceLocation(file: "x.yml", line: 1), isHandler: false, hosts: ["a"]))
        output.handle(.hostResult(task: "t", HostResult(
            host: "a", action: "copy", status: .ok, result: ["changed": false], started: 1796640752.1234567,
            duration: 0.0123456, roundTrips: 1)))
        let events = lines.text.withLock { $0 }.split(separator: "\n").map { try? JSON.decode(String($0)) }
        #expect(events.count == 2)
        guard case .double(let taskStart)? = events[0]?["start"] else {
            Issue.record("task_start has no start time")
            return
        }
        #expect(taskStart > 1_700_000_000)
        #expect(events[1]?["start"] == .double(1796640752.123457))
        #expect(events[1]?["duration"] == .double(0.012346))
        #expect(events[1]?["round_trips"] == 1)
    }
}
