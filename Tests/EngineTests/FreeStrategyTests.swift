import Foundation
import PGHACore
import Testing

@testable import Engine

/// `strategy: free`: hosts do not wait for each other between tasks (issue 4).
@Suite("Free strategy")
struct FreeStrategyTests {
    /// Two local hosts; `fast` has three quick tasks and a handler that touches a flag file. With
    /// `slowWaitsForFast`, `slow`'s first task waits (up to 120 s) for that flag and then 5 s more, so
    /// it can only end after `fast` ran ahead through everything and its handler's result was
    /// reported (the flag appears a moment before that), however loaded the machine is; otherwise it
    /// sleeps 2 s. Returns the order in which host results arrived, as "task host".
    private func run(strategy: String, slowWaitsForFast: Bool) async throws -> [String] {
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
                  shell: "{{ slow_command if inventory_hostname == 'slow' else 'true' }}"
                  vars:
                    slow_command: "\(slowWaitsForFast
                        ? "timeout 600 sh -c 'until [ -e \(work)/fast-handler-ran ]; do sleep 0.1; done; sleep 5'"
                        : "sleep 2")"
                - name: second
                  command: 'true'
                  notify: handler
                - name: third
                  command: 'true'
              handlers:
                - name: handler
                  command: "touch {{ inventory_hostname }}-handler-ran"
                  args:
                    chdir: \(work)

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
        let order = try await run(strategy: "free", slowWaitsForFast: true)
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
        let order = try await run(strategy: "linear", slowWaitsForFast: false)
        #expect(order.prefix(2).sorted() == ["first fast", "first slow"], "\(order)")
        #expect(order.last?.hasPrefix("handler") == true, "\(order)")
    }
}
