import PGHACore
import Testing

@testable import Engine

/// Failures on in-process hosts: which hosts go on, what the recap counts, how the run ends.
@Suite struct FailureHandlingTests {
    @Test func aFailedHostStopsAndTheOthersGoOn() async throws {
        let run = try await FakeRun.of("""
            - hosts: all
              gather_facts: false
              tasks:
                - name: h1 fails
                  command: "{{ 'fail' if inventory_hostname == 'h1' else 'ok' }}"
                - name: next
                  command: ok
            - hosts: all
              gather_facts: false
              tasks:
                - name: next play
                  command: ok
            """)
        #expect(run.resultsByTask == [
            "h1 fails h1: failed", "h1 fails h2: changed", "next h2: changed", "next play h2: changed",
        ])
        #expect(run.recap["h1"]?.failed == 1 && run.recap["h1"]?.ok == 0)
        #expect(run.recap["h2"]?.ok == 3)
        #expect(run.outcome == .hostFailed)
    }

    @Test func ignoredFailuresCountAsOkAndIgnored() async throws {
        let run = try await FakeRun.of("""
            - hosts: h1
              gather_facts: false
              tasks:
                - name: fails
                  command: fail
                  ignore_errors: true
                - name: goes on
                  command: ok
            """)
        #expect(run.resultsByTask == ["fails h1: failed", "goes on h1: changed"])
        #expect(run.recap["h1"]?.ok == 2 && run.recap["h1"]?.ignored == 1 && run.recap["h1"]?.failed == 0)
        #expect(run.outcome == .success)
    }

    @Test func rescueAndAlwaysRunAndTheFailureIsRescued() async throws {
        let run = try await FakeRun.of("""
            - hosts: h1
              gather_facts: false
              tasks:
                - block:
                    - name: breaks
                      command: fail
                    - name: skipped by the failure
                      command: ok
                  rescue:
                    - name: rescue
                      debug:
                        msg: "rescued {{ ansible_failed_task.name }}"
                  always:
                    - name: always
                      command: ok
                - name: after the block
                  command: ok
            """)
        #expect(run.resultsByTask == [
            "breaks h1: failed", "rescue h1: ok", "always h1: changed", "after the block h1: changed",
        ])
        #expect(run.messages == ["h1: rescued breaks"])
        #expect(run.recap["h1"]?.rescued == 1 && run.recap["h1"]?.failed == 0)
        #expect(run.outcome == .success)
    }

    @Test func anyErrorsFatalEndsTheBatchAndTheRun() async throws {
        let run = try await FakeRun.of("""
            - hosts: all
              gather_facts: false
              any_errors_fatal: true
              tasks:
                - name: h1 fails
                  command: "{{ 'fail' if inventory_hostname == 'h1' else 'ok' }}"
                - name: nobody gets here
                  command: ok
            - hosts: all
              gather_facts: false
              tasks:
                - name: nor here
                  command: ok
            """)
        #expect(run.resultsByTask == ["h1 fails h1: failed", "h1 fails h2: changed"])
        #expect(run.outcome == .hostFailed)
    }

    @Test func maxFailPercentageAbortsOnlyAboveTheLimit() async throws {
        let playbook = { (failing: String) in
            """
            - hosts: all
              gather_facts: false
              max_fail_percentage: 50
              tasks:
                - name: some fail
                  command: "{{ 'fail' if inventory_hostname in \(failing) else 'ok' }}"
                - name: next
                  command: ok
            """
        }
        let hosts = "h1\nh2\nh3\n"
        // One of three (33 %) is within the limit: the others go on.
        let within = try await FakeRun.of(playbook("['h1']"), hosts: hosts)
        #expect(within.resultsByTask.filter { $0.hasPrefix("next") }.count == 2)
        // Two of three (67 %) is above it: nobody goes on.
        let above = try await FakeRun.of(playbook("['h1', 'h2']"), hosts: hosts)
        #expect(above.resultsByTask.filter { $0.hasPrefix("next") }.isEmpty)
    }

    @Test func anUnreachableHostIsLeftOutUntilTheEnd() async throws {
        let run = try await FakeRun.of("""
            - hosts: all
              gather_facts: false
              tasks:
                - name: h1 loses power
                  command: "{{ 'unreachable' if inventory_hostname == 'h1' else 'ok' }}"
                - name: next
                  command: ok
            - hosts: all
              gather_facts: false
              tasks:
                - name: next play
                  command: ok
            """)
        #expect(run.resultsByTask == [
            "h1 loses power h1: unreachable", "h1 loses power h2: changed", "next h2: changed", "next play h2: changed",
        ])
        #expect(run.recap["h1"]?.unreachable == 1)
        #expect(run.outcome == .hostUnreachable)
    }

    @Test func serialBatchesRunThePlayOncePerBatch() async throws {
        let run = try await FakeRun.of("""
            - hosts: all
              gather_facts: false
              serial: 1
              tasks:
                - name: one
                  command: ok
                - name: two
                  command: ok
            """)
        #expect(run.resultsByTask == ["one h1: changed", "two h1: changed", "one h2: changed", "two h2: changed"])
    }
}
