import PGHACore
import Testing

@testable import Engine

/// Modules and lookups pgha-play does not have: the task loads, and fails only when it runs, with
/// one message naming the task, where it is written and what to use instead (issue 18).
@Suite struct UnavailableActionTests {
    @Test func anUnsupportedModuleFailsWhenItRunsWithTheAlternative() async throws {
        let run = try await FakeRun.of("""
            - hosts: h1
              gather_facts: false
              tasks:
                - name: guarded, so skipped
                  community.docker.docker_container:
                    name: web
                  when: false
                - name: start the web container
                  community.docker.docker_container:
                    name: web
                    image: nginx
                - name: not reached
                  command: ok
            """)
        #expect(run.resultsByTask == ["guarded, so skipped h1: skipped", "start the web container h1: failed"])
        let failure = try #require(run.failureMessages.first)
        #expect(failure.contains("community.docker.docker_container is not supported by pgha-play"))
        #expect(failure.contains("instead use ansible.builtin.command running `docker run`"))
        #expect(failure.range(of: #"task 'start the web container' at /\S+/site\.yml:8"#, options: .regularExpression) != nil, "\(failure)")
    }

    @Test func anotherDistributionsPackageManagerFailsNamingApt() async throws {
        let run = try await FakeRun.of("""
            - hosts: h1
              gather_facts: false
              tasks:
                - name: the RedHat way
                  yum: name=httpd state=present
                  when: ansible_os_family | default('Debian') == 'RedHat'
                - name: the RedHat way, unguarded
                  ansible.builtin.dnf:
                    name: httpd
            """)
        #expect(run.resultsByTask == ["the RedHat way h1: skipped", "the RedHat way, unguarded h1: failed"])
        #expect(run.failureMessages.first?.contains("dnf is not available for Debian hosts") == true)
        #expect(run.failureMessages.first?.contains("use ansible.builtin.apt or ansible.builtin.package") == true)
    }

    @Test func aMissingLookupLoopFailsWhenItRuns() async throws {
        let run = try await FakeRun.of("""
            - hosts: h1
              gather_facts: false
              tasks:
                - name: a lookup of Ansible's that pgha-play lacks
                  debug: var=item
                  with_random_choice: [1, 2]
            """)
        // As in Ansible, the loop is expanded before `when` is looked at, so only running it tells.
        #expect(run.resultsByTask == ["a lookup of Ansible's that pgha-play lacks h1: failed"])
        #expect(run.failureMessages.first?.contains("lookup plugin 'random_choice' not found") == true)
    }
}

extension FakeRun {
    /// The `msg` of every failed result, in order.
    var failureMessages: [String] {
        events.compactMap { event -> String? in
            guard case .hostResult(_, let result) = event, result.status == .failed else { return nil }
            return result.result["msg"]?.stringValue
        }
    }
}
