import PGHACore
import Testing

@testable import Engine

/// The strategies on in-process hosts: who waits for whom, and how many run at once.
@Suite struct StrategyTests {
    static func play(_ strategy: String, _ tasks: String, handlers: String = "") -> String {
        """
        - hosts: all
          gather_facts: false
          strategy: \(strategy)
          tasks:
        \(tasks)
        \(handlers.isEmpty ? "" : "  handlers:\n" + handlers)
        """
    }

    @Test func linearRunsEachTaskOnEveryHostBeforeTheNext() async throws {
        // h1's first task finishes only once h2's has run: the hosts are in it together.
        let run = try await FakeRun.of(Self.play("linear", """
                - name: one
                  command: "{{ 'wait h2-ran' if inventory_hostname == 'h1' else 'signal h2-ran' }}"
                - name: two
                  command: ok
            """))
        #expect(run.resultsByTask == ["one h1: changed", "one h2: changed", "two h1: changed", "two h2: changed"])
        #expect(run.outcome == .success)
    }

    @Test func freeLetsAFastHostRunAhead() async throws {
        // h1 waits in its first task for h2's last: only possible when h2 does not wait for h1.
        let run = try await FakeRun.of(Self.play("free", """
                - name: one
                  command: "{{ 'wait h2-done' if inventory_hostname == 'h1' else 'ok' }}"
                - name: two
                  command: ok
                  notify: handler
                - name: three
                  command: "{{ 'signal h2-done' if inventory_hostname == 'h2' else 'ok' }}"
            """, handlers: """
                - name: handler
                  command: ok
            """))
        let h1First = try #require(run.results.firstIndex(of: "one h1: changed"), "\(run.results)")
        for done in ["one h2: changed", "two h2: changed", "three h2: changed"] {
            let index = try #require(run.results.firstIndex(of: done), "\(run.results)")
            #expect(index < h1First, "\(done) came after h1's first task: \(run.results)")
        }
        // Each host flushes its own handlers at its own end.
        #expect(run.results.filter { $0.hasPrefix("handler") }.sorted() == ["handler h1: changed", "handler h2: changed"])
        #expect(run.recap["h1"]?.changed == 4 && run.recap["h2"]?.changed == 4)
    }

    @Test func freeBoundsTheTasksRunningAtOnceButNotTheHosts() async throws {
        let tasks = """
                - name: one
                  command: sleep 0.2
                - name: two
                  command: sleep 0.05
            """
        let run = try await FakeRun.of(Self.play("free", tasks), hosts: "h1\nh2\nh3\n", forks: 1)
        #expect(await run.world.mostAtOnce == 1)
        // All hosts are under way together: the first tasks of all three start before any second one.
        let started = await run.world.started
        #expect(started.prefix(3).map { $0.split(separator: ":")[1] }.allSatisfy { $0 == " sleep 0.2" }, "\(started)")
        let wide = try await FakeRun.of(Self.play("free", tasks), hosts: "h1\nh2\nh3\n", forks: 2)
        #expect(await wide.world.mostAtOnce == 2)
    }

    @Test func hostPinnedKeepsAHostUntilItIsDone() async throws {
        let tasks = """
                - name: one
                  command: sleep 0.05
                - name: two
                  command: ok
                - name: three
                  command: ok
            """
        // One fork: the hosts run one after the other, each through the whole play.
        let single = try await FakeRun.of(Self.play("host_pinned", tasks), hosts: "h1\nh2\nh3\n", forks: 1)
        let hosts = await single.world.started.map { String($0.split(separator: ":")[0]) }
        #expect(hosts.count == 9)
        for host in ["h1", "h2", "h3"] {
            let first = try #require(hosts.firstIndex(of: host))
            #expect(hosts[first..<first + 3].allSatisfy { $0 == host }, "\(hosts)")
        }
        // Two forks: the third host starts only when one of the first two has finished the play.
        let two = try await FakeRun.of(Self.play("host_pinned", tasks), hosts: "h1\nh2\nh3\n", forks: 2)
        let order = await two.world.started.map { String($0.split(separator: ":")[0]) }
        let firstTwo = Set(order.prefix(2))
        #expect(firstTwo.count == 2, "\(order)")
        let third = try #require(Set(["h1", "h2", "h3"]).subtracting(firstTwo).first)
        let thirdStarts = try #require(order.firstIndex(of: third))
        let finishedBefore = firstTwo.filter { host in order[..<thirdStarts].filter { $0 == host }.count == 3 }
        #expect(!finishedBefore.isEmpty, "\(third) started before either other host had finished: \(order)")
        #expect(await two.world.mostAtOnce <= 2)
        #expect(two.outcome == .success)
    }

    @Test func runOnceAndAnyErrorsFatalDoNotApplyWhenHostsWalkAlone() async throws {
        for strategy in ["free", "host_pinned"] {
            let run = try await FakeRun.of(Self.play(strategy, """
                    - name: once
                      command: ok
                      run_once: true
                    - name: h1 fails
                      command: "{{ 'fail' if inventory_hostname == 'h1' else 'ok' }}"
                      any_errors_fatal: true
                    - name: last
                      command: ok
                """))
            #expect(run.results.filter { $0.hasPrefix("once") }.count == 2, "\(strategy): \(run.results)")
            #expect(run.results.contains("last h2: changed"), "\(strategy): \(run.results)")
            #expect(!run.results.contains("last h1: changed"), "\(strategy): \(run.results)")
            #expect(run.warnings.contains { $0.hasPrefix("Using run_once with the free strategy") }, "\(strategy)")
            #expect(run.warnings.contains { $0.hasPrefix("Using any_errors_fatal with the free strategy") }, "\(strategy)")
            #expect(run.outcome == .hostFailed)
        }
    }

    @Test func theLoaderKnowsTheStrategies() {
        #expect(Strategies.names == ["linear", "free", "host_pinned"])
        #expect(Strategies.named("host_pinned").name == "host_pinned")
        #expect(Strategies.named(nil).name == "linear")
    }
}
