import PGHACore
import Testing

@testable import Engine

/// Handlers on in-process hosts: when they run, how often, and on which hosts.
@Suite struct HandlerTests {
    @Test func notifiedHandlersRunOnceAtTheEndOfTheSectionInDefinitionOrder() async throws {
        let run = try await FakeRun.of("""
            - hosts: all
              gather_facts: false
              tasks:
                - name: change on h1 only
                  command: ok
                  when: inventory_hostname == 'h1'
                  notify: [second, first]
                - name: change again
                  command: ok
                  when: inventory_hostname == 'h1'
                  notify: first
                - name: no change
                  command: ok
                  changed_when: false
                  notify: never
              handlers:
                - name: first
                  command: ok
                - name: second
                  command: ok
                - name: never
                  command: ok
            """)
        #expect(run.results.filter { $0.hasPrefix("first") || $0.hasPrefix("second") || $0.hasPrefix("never") } == [
            "first h1: changed", "second h1: changed",
        ])
        // After every task of the section.
        #expect(run.results.firstIndex(of: "first h1: changed")! > run.results.firstIndex(of: "no change h2: ok")!)
    }

    @Test func flushHandlersRunsThemWhereItStandsAndListenTopicsWakeEveryListener() async throws {
        let run = try await FakeRun.of("""
            - hosts: h1
              gather_facts: false
              tasks:
                - name: change
                  command: ok
                  notify: restart stack
                - meta: flush_handlers
                - name: after the flush
                  command: ok
              handlers:
                - name: database
                  command: ok
                  listen: restart stack
                  notify: proxy
                - name: proxy
                  command: ok
                - name: cache
                  command: ok
                  listen: restart stack
            """)
        // Every listener, in definition order; a handler notified by one that ran before it runs in
        // the same pass.
        #expect(run.resultsByTask == [
            "change h1: changed", "database h1: changed", "proxy h1: changed", "cache h1: changed",
            "after the flush h1: changed",
        ])
    }

    @Test func aHostThatFailsLaterRunsNoHandlersUnlessForced() async throws {
        let playbook = { (force: Bool) in
            """
            - hosts: all
              gather_facts: false
              force_handlers: \(force)
              tasks:
                - name: change
                  command: ok
                  notify: handler
                - name: h1 fails
                  command: "{{ 'fail' if inventory_hostname == 'h1' else 'ok' }}"
              handlers:
                - name: handler
                  command: ok
            """
        }
        let plain = try await FakeRun.of(playbook(false))
        #expect(plain.results.filter { $0.hasPrefix("handler") } == ["handler h2: changed"])
        let forced = try await FakeRun.of(playbook(true))
        #expect(forced.results.filter { $0.hasPrefix("handler") }.sorted() == ["handler h1: changed", "handler h2: changed"])
        #expect(forced.outcome == .hostFailed)
    }

    @Test func handlersFlushAfterPreTasksAndBeforePostTasks() async throws {
        let run = try await FakeRun.of("""
            - hosts: h1
              gather_facts: false
              pre_tasks:
                - name: pre
                  command: ok
                  notify: handler
              tasks:
                - name: main
                  command: ok
                  notify: handler
              post_tasks:
                - name: post
                  command: ok
                  notify: handler
              handlers:
                - name: handler
                  command: ok
            """)
        #expect(run.resultsByTask == [
            "pre h1: changed", "handler h1: changed", "main h1: changed", "handler h1: changed", "post h1: changed",
            "handler h1: changed",
        ])
    }
}
