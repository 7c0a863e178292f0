import Foundation
import OrderedCollections
import PGHACore
import Testing

@testable import Engine

/// Every host result says when its task started, how long it took and how many round trips it
/// sent the host: what --profile and the JSON-lines events report.
@Suite("Round trips and times in host results")
struct TaskMeterTests {
    @Test func eachResultCountsItsOwnRoundTrips() async throws {
        let before = Date().timeIntervalSince1970
        let run = try await FakeRun.of(
            """
            - hosts: all
              gather_facts: false
              tasks:
                - name: one command
                  command: ok
                - name: no host at all
                  debug: {msg: hi}
                - name: a loop of three
                  command: "sleep 0.05"
                  loop: [1, 2, 3]
                - name: skipped
                  command: ok
                  when: false
            """)
        var results: [String: [HostResult]] = [:]
        for event in run.events {
            if case .hostResult(let task, let result) = event { results[task, default: []].append(result) }
        }
        #expect(results["one command"]?.map(\.roundTrips) == [1, 1])
        #expect(results["no host at all"]?.map(\.roundTrips) == [0, 0])
        // Each loop item reports its own round trip and its own time, not the loop's so far.
        let items = try #require(results["a loop of three"])
        #expect(items.count == 6 && items.allSatisfy { $0.roundTrips == 1 })
        // (No upper bounds: a busy test process may be descheduled for any time.)
        #expect(items.allSatisfy { ($0.duration ?? 0) >= 0.04 })
        for host in Set(items.map(\.host)) {
            let ofHost = items.filter { $0.host == host }
            let starts = ofHost.compactMap(\.started)
            // An item starts when the previous one has ended: its time is its own.
            #expect(starts.count == 3 && zip(starts, starts.dropFirst()).allSatisfy { $1 >= $0 + 0.04 }, "\(starts)")
        }
        #expect(results["skipped"]?.map(\.roundTrips) == [0, 0])
        let now = Date().timeIntervalSince1970
        #expect(results.values.joined().allSatisfy { ($0.started ?? 0) >= before && ($0.started ?? 0) <= now })
    }

    @Test func rolesAreNamedInResults() async throws {
        let run = try await FakeRun.of(
            """
            - hosts: h1
              gather_facts: false
              roles: [web]
            """,
            files: ["roles/web/tasks/main.yml": "- name: in the role\n  command: ok\n"])
        let roles = run.events.compactMap { event -> String?? in
            if case .hostResult(_, let result) = event { return .some(result.role) }
            return nil
        }
        #expect(roles == [.some("web")])
    }
}
