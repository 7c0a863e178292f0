import Foundation
import PGHACore
import Testing

@testable import Playbook

@Suite struct PerformanceTests {
    /// 500 tasks spread over a playbook, imported task files, an imported playbook and roles with
    /// dependencies, defaults and handlers.
    static func bigProject() throws -> Project {
        var files: [String: String] = [:]
        func tasks(_ count: Int, prefix: String) -> String {
            (0..<count).map { i in
                """
                - name: \(prefix) task \(i)
                  ansible.builtin.copy:
                    dest: /tmp/\(prefix)-\(i)
                    content: "{{ value_\(i % 7) | default('x') }}"
                    mode: "0644"
                  when: enabled | bool
                  tags: [\(prefix), t\(i % 5)]
                  notify: restart svc
                  register: out_\(i)

                """
            }.joined()
        }
        for r in 0..<5 {
            files["roles/role\(r)/tasks/main.yml"] = tasks(40, prefix: "role\(r)") + "- import_tasks: more.yml\n"
            files["roles/role\(r)/tasks/more.yml"] = tasks(10, prefix: "role\(r)more")
            files["roles/role\(r)/defaults/main.yml"] = (0..<20).map { "var_\($0): \($0)\n" }.joined()
            files["roles/role\(r)/handlers/main.yml"] = "- name: restart role\(r)\n  service: name=x state=restarted\n"
            files["roles/role\(r)/meta/main.yml"] = r > 0 ? "dependencies: [role\(r - 1)]\n" : "dependencies: []\n"
        }
        files["tasks/part.yml"] = tasks(50, prefix: "part")
        files["other.yml"] = "- hosts: all\n  tasks:\n" + tasks(100, prefix: "other").split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n") + "\n  handlers:\n    - {name: restart svc, ping: }\n"
        files["site.yml"] = """
            - hosts: all
              roles: [role0, role1, role2, role3, role4]
              handlers:
                - name: restart svc
                  ping:
              tasks:
                - import_tasks: tasks/part.yml
            \(tasks(100, prefix: "play").split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
            - import_playbook: other.yml
            """
        return try Project(files)
    }

    /// CPU time of the calling thread: unlike wall time, not inflated by other processes.
    static func threadCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    @Test func fiveHundredTasksLoadFast() throws {
        let project = try Self.bigProject()
        // Warm up the file system cache, then time a full load.
        _ = try project.load()
        // The best of five: the machine is shared, and the minimum is the loader's own cost.
        let clock = ContinuousClock()
        var playbook: Playbook? = nil
        var elapsed = Duration.seconds(1000)
        var cpu = Double.infinity
        for _ in 0..<5 {
            let cpuStart = Self.threadCPUSeconds()
            elapsed = min(elapsed, try clock.measure { playbook = try project.load() })
            cpu = min(cpu, Self.threadCPUSeconds() - cpuStart)
        }
        let loaded = try #require(playbook)
        let count = loaded.plays.reduce(0) { $0 + $1.allTasks.count }
        #expect(count == 500)
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        print("PERF: loaded \(count) tasks in \(String(format: "%.1f", milliseconds)) ms wall, \(String(format: "%.1f", cpu * 1000)) ms CPU")
        // A guard against a quadratic loader, not a speed goal (bench/ has those): the thread's CPU
        // time, which a busy machine does not inflate the way it inflates the wall clock.
        #expect(cpu < 1.0, "loading 500 tasks took \(cpu) s of CPU")
    }
}
