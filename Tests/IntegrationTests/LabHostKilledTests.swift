import Foundation
import PGHACore
import Testing

/// A host that dies mid-task (power loss: `lab kill`) becomes UNREACHABLE for the rest of the
/// play while the other hosts finish, and the run ends as ansible-playbook's does: the recap
/// counts the host unreachable and the exit status is 4 (issue 4).
///
/// Runs the real CLI against lab host node5 and a local target, then boots node5 again. Needs
/// root and the lab (`lab up --hosts 9`); runs with PGHA_LAB_TESTS=1 and always under CI=true,
/// where a missing lab fails the test. PGHA_LAB_KILL_HOST / PGHA_LAB_KILL_ADDRESS pick another host.
@Suite(.serialized, .enabled(if: LabFactsEnvironment.enabled))
struct LabHostKilledTests {
    static let host = ProcessInfo.processInfo.environment["PGHA_LAB_KILL_HOST"] ?? "node5"
    static let address = ProcessInfo.processInfo.environment["PGHA_LAB_KILL_ADDRESS"] ?? "10.77.0.16"

    @Test func hostKilledMidTaskIsUnreachableAndOthersFinish() throws {
        let state = LabFactsEnvironment.stateDir
        let host = Self.host
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-kill-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        // A killed host sends nothing more, not even a TCP reset: the keepalives (every second, three
        // unanswered) are what notice it.
        try """
            [lab]
            \(host) ansible_host=\(Self.address) ansible_user=deploy ansible_ssh_private_key_file=\(state)/id_ed25519
            controller ansible_connection=local
            [all:vars]
            ansible_ssh_common_args='-o UserKnownHostsFile=\(state)/known_hosts -o StrictHostKeyChecking=yes -o ServerAliveInterval=1 -o ServerAliveCountMax=3'

            """.write(toFile: work + "/inventory.ini", atomically: true, encoding: .utf8)
        try """
            - hosts: lab
              gather_facts: false
              tasks:
                - name: long task
                  command: "{{ 'sleep 30' if inventory_hostname == '\(host)' else 'true' }}"
                - name: after the loss
                  command: 'true'
            - hosts: lab
              gather_facts: false
              tasks:
                - name: next play
                  command: 'true'

            """.write(toFile: work + "/playbook.yml", atomically: true, encoding: .utf8)

        let run = try BackgroundRun(inventory: work + "/inventory.ini", playbook: work + "/playbook.yml")
        var killed = false
        defer {
            if run.process.isRunning { run.process.terminate() }
            if killed {
                let start = try? TestSupport.run(TestSupport.executable, ["lab", "start", host])
                #expect(start?.status == 0, "lab start \(host): \(start?.stderr ?? "did not run")")
            }
        }
        // Kill the host only once its `sleep 30` is running.
        #expect(waitForSleep(state: state), "the long task never started on \(host)")
        let killStarted = Date()
        let kill = try TestSupport.run(TestSupport.executable, ["lab", "kill", host])
        killed = kill.status == 0
        try #require(killed, "lab kill \(host) failed: \(kill.stderr)")
        let killedAt = Date()
        let killSeconds = killedAt.timeIntervalSince(killStarted)

        let (status, events, stderr) = run.finish()
        let elapsed = Date().timeIntervalSince(killedAt)
        let results = BackgroundRun.statuses(events)
        let log = "`lab kill \(host)` took \(String(format: "%.1f", killSeconds)) s\nevents:\n\(results.joined(separator: "\n"))\nstderr:\n\(stderr)"

        #expect(status == 4, "exit status \(status), ansible-playbook's is 4\n\(log)")
        #expect(results == [
            "long task controller: changed",
            "long task \(host): unreachable",
            "after the loss controller: changed",
            "next play controller: changed",
        ], "\(log)")
        // Noticed by the keepalives, well before the 30 s sleep would have ended.
        #expect(elapsed < 20, "the loss took \(elapsed) s to notice")
        let recap = events.first { $0["event"] == "recap" }?["hosts"]
        #expect(recap?[host] == ["ok": 0, "changed": 0, "unreachable": 1, "failed": 0, "skipped": 0, "rescued": 0, "ignored": 0], "\(log)")
        #expect(recap?["controller"] == ["ok": 3, "changed": 3, "unreachable": 0, "failed": 0, "skipped": 0, "rescued": 0, "ignored": 0], "\(log)")
    }

    /// Polls the host (read-only, over a separate OpenSSH login) until `sleep 30` runs there.
    private func waitForSleep(state: String) -> Bool {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let probe = try? TestSupport.run("/usr/bin/ssh", [
                "-i", state + "/id_ed25519", "-o", "UserKnownHostsFile=\(state)/known_hosts",
                "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                "deploy@\(Self.address)", "pgrep -x sleep",
            ])
            if probe?.status == 0 { return true }
            Thread.sleep(forTimeInterval: 0.3)
        }
        return false
    }
}
