import Foundation
import PGHACore
import Testing

@testable import Engine

/// `strategy: free`: hosts do not wait for each other between tasks (issue 4).
@Suite("Free strategy")
struct FreeStrategyTests {
    /// Two local hosts; `slow` spends its first task in `sleep`, `fast` has three quick tasks and a
    /// handler. Returns the order in which host results arrived, as "task host".
    private func run(strategy: String) async throws -> [String] {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-free-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try """
            fast ansible_connection=local
            slow ansible_connection=local

            """.write(toFile: work + "/hosts.ini", atomically: true, encoding: .utf8)
        try """
            - hosts: all
              gather_facts: false
              strategy: \(strategy)
              tasks:
                - name: first
                  command: "{{ 'sleep 2' if inventory_hostname == 'slow' else 'true' }}"
                - name: second
                  command: 'true'
                  notify: handler
                - name: third
                  command: 'true'
              handlers:
                - name: handler
                  command: 'true'

            """.write(toFile: work + "/play.yml", atomically: true, encoding: .utf8)
        var options = RunOptions()
        options.inventorySources = [work + "/hosts.ini"]
        let session = try Session(playbookPaths: [work + "/play.yml"], options: options)
        let recorder = EventRecorder()
        let outcome = try await session.run(sink: recorder)
        #expect(outcome == .success)
        return recorder.events.compactMap { event in
            if case .hostResult(let task, let result) = event { return "\(task) \(result.host)" }
            return nil
        }
    }

    @Test func aFastHostRunsAheadOfASlowOne() async throws {
        let order = try await run(strategy: "free")
        let slowFirst = try #require(order.firstIndex(of: "first slow"), "\(order)")
        // While `slow` is still in its first task, `fast` finishes all three and its handler.
        for done in ["first fast", "second fast", "third fast", "handler fast"] {
            let index = try #require(order.firstIndex(of: done), "\(order)")
            #expect(index < slowFirst, "\(done) came after slow's first task: \(order)")
        }
        // And `slow` still runs everything, its handler included.
        #expect(order.filter { $0.hasSuffix(" slow") } == ["first slow", "second slow", "third slow", "handler slow"])
        #expect(order.count == 8)
    }

    @Test func linearKeepsHostsTogether() async throws {
        let order = try await run(strategy: "linear")
        #expect(order.prefix(2).sorted() == ["first fast", "first slow"], "\(order)")
        #expect(order.last?.hasPrefix("handler") == true, "\(order)")
    }
}
