import Foundation
import PGHACore
import Testing

/// `wait_for_connection` waits for a host that lost power and came back: the run kills the lab
/// host between two tasks (`lab kill`), boots it again a little later (`lab start`), and the task
/// after wait_for_connection runs on the freshly booted host.
///
/// Runs the real CLI against one lab host, by default node19 (10.77.0.30); PGHA_LAB_WAIT_HOST and
/// PGHA_LAB_WAIT_ADDRESS pick another. Needs root and the lab; runs with PGHA_LAB_TESTS=1 and
/// always under CI=true, where a missing lab fails the test.
@Suite(.serialized, .enabled(if: LabFactsEnvironment.enabled))
struct LabWaitForConnectionTests {
    static let host = ProcessInfo.processInfo.environment["PGHA_LAB_WAIT_HOST"] ?? "node19"
    static let address = ProcessInfo.processInfo.environment["PGHA_LAB_WAIT_ADDRESS"] ?? "10.77.0.30"

    @Test func waitsForAHostThatIsKilledAndStartedAgain() throws {
        let state = LabFactsEnvironment.stateDir
        let host = Self.host
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-wait-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try """
            \(host) ansible_host=\(Self.address)
            controller ansible_connection=local
            \(TestSupport.labInventoryVars(stateDirectory: state))
            """.write(toFile: work + "/inventory.ini", atomically: true, encoding: .utf8)
        // The controller task holds the run until the test has killed the host.
        try """
            - hosts: \(host)
              gather_facts: false
              tasks:
                - name: before
                  command: 'true'
                - name: hold until the host is off
                  shell: "touch \(work)/ready; timeout 120 sh -c 'until [ -e \(work)/go ]; do sleep 0.2; done'"
                  delegate_to: controller
                - name: wait
                  wait_for_connection:
                    timeout: 300
                  register: waited
                - name: after
                  command: ps -o etimes= -p 1
                  register: init_age
                - name: report
                  debug:
                    msg: "waited {{ waited.elapsed }} s, up {{ init_age.stdout | trim | int }} s"

            """.write(toFile: work + "/playbook.yml", atomically: true, encoding: .utf8)

        let run = try BackgroundRun(inventory: work + "/inventory.ini", playbook: work + "/playbook.yml")
        var killed = false
        var started = false
        defer {
            if run.process.isRunning { run.process.terminate() }
            // Whatever happened, the host is left running.
            if killed && !started { _ = try? TestSupport.run(TestSupport.executable, ["lab", "start", host]) }
        }
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: work + "/ready") && run.process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
        }
        try #require(FileManager.default.fileExists(atPath: work + "/ready"), "the run never reached the hold task")
        let kill = try TestSupport.run(TestSupport.executable, ["lab", "kill", host])
        killed = kill.status == 0
        try #require(killed, "lab kill \(host) failed: \(kill.stderr)")
        FileManager.default.createFile(atPath: work + "/go", contents: nil)
        // wait_for_connection is now polling a host that is off; power it on a little later.
        Thread.sleep(forTimeInterval: 8)
        let start = try TestSupport.run(TestSupport.executable, ["lab", "start", host])
        started = start.status == 0
        #expect(started, "lab start \(host) failed: \(start.stderr)")

        let (status, events, stderr) = run.finish()
        let results = events.filter { $0["event"] == "host_result" }
        let statuses = BackgroundRun.statuses(events)
        let log = "events:\n\(statuses.joined(separator: "\n"))\nstderr:\n\(stderr)"

        #expect(status == 0, "exit status \(status)\n\(log)")
        #expect(statuses == [
            "before \(host): changed",
            "hold until the host is off \(host): changed",
            "wait \(host): ok",
            "after \(host): changed",
            "report \(host): ok",
        ], "\(log)")
        // It waited for the boot (the host was off for at least 8 s), and the host it then reached
        // had just booted: its init (the container's pid 1; /proc/uptime is the shared kernel's) is young.
        let report = results.last?["result"]?["msg"]?.stringValue ?? ""
        let numbers = report.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        try #require(numbers.count == 2, "report: \(report)\n\(log)")
        #expect(numbers[0] >= 8, "wait_for_connection returned after \(numbers[0]) s\n\(log)")
        #expect(numbers[1] < 300, "the host has been up \(numbers[1]) s: it was not restarted\n\(log)")
    }
}
