import Foundation
import PGHACore
import Testing

/// The module library against Ansible's own modules on real hosts (issue 5).
///
/// One playbook (Fixtures/modules-differential) runs with pgha-play on a freshly reset lab host
/// and with the oracle venv's ansible-playbook (ansible-core plus the `ansible` package's
/// collections) on another, both at once. Then one state-dump script reads both hosts over SSH
/// (files, modes, owners, contents, users, groups, services, net.* sysctls, packages, ufw rules,
/// crontabs, PostgreSQL roles and databases) and the dumps must be identical once the hosts' names
/// and addresses are normalized. The two tools must also report the same status for every task.
///
/// Runs with PGHA_LAB_TESTS=1 (and always under CI=true). Resets node7 and node8, which no other
/// suite uses, or the two hosts PGHA_MODDIFF_HOSTS names ("name=address,name=address": pgha-play's,
/// then ansible-playbook's).
@Suite(.serialized, .enabled(if: LabFactsEnvironment.enabled))
struct ModuleDifferentialLabTests {
    static let directory = TestSupport.fixtures + "/modules-differential"
    static let stateDir = "/var/lib/pgha-play/lab"
    /// Host names and addresses: pgha-play's, then ansible-playbook's.
    static let hosts: [(name: String, address: String)] = {
        let given = ProcessInfo.processInfo.environment["PGHA_MODDIFF_HOSTS"] ?? "node7=10.77.0.18,node8=10.77.0.19"
        let pairs = given.split(separator: ",").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
        guard pairs.count == 2, pairs.allSatisfy({ $0.count == 2 }) else {
            return [("node7", "10.77.0.18"), ("node8", "10.77.0.19")]
        }
        return pairs.map { ($0[0], $0[1]) }
    }()
    static let ours = hosts[0]
    static let oracle = hosts[1]

    /// The modules the playbook calls, by their short names.
    static func modulesUsed() throws -> Set<String> {
        let text = try String(contentsOfFile: directory + "/playbook.yml", encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"^\s+(?:ansible\.builtin|ansible\.posix|community\.\w+)\.(\w+):"#, options: .anchorsMatchLines)
        let range = NSRange(text.startIndex..., in: text)
        return Set(pattern.matches(in: text, range: range).compactMap { Range($0.range(at: 1), in: text).map { String(text[$0]) } })
    }

    @Test func pghaPlayAndAnsibleLeaveTheSameState() async throws {
        guard let python = TestSupport.oraclePython else {
            Issue.record("the oracle venv (scripts/oracle-venv.sh) could not be created")
            return
        }
        let collections = try await TestSupport.runAsync(
            python, ["-c", "import ansible_collections.ansible.posix, ansible_collections.community.general, ansible_collections.community.postgresql"])
        try #require(collections.status == 0, "the oracle venv lacks the collections: \(collections.stderr)")
        let started = Date()
        let reset = try await TestSupport.runAsync(TestSupport.executable, ["lab", "reset", Self.ours.name, Self.oracle.name])
        try #require(reset.status == 0, "lab reset failed: \(reset.stdout)\(reset.stderr)")

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-moddiff-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        for host in [Self.ours, Self.oracle] {
            try Self.inventory(host).write(toFile: "\(work)/\(host.name).ini", atomically: true, encoding: .utf8)
        }

        // OpenSSH forwards the controller's locale (SendEnv LANG LC_*); pgha-play forwards nothing.
        let locale = ProcessInfo.processInfo.environment.keys.filter { $0 == "LANG" || $0.hasPrefix("LC_") }.sorted()
        let ansiblePlaybook = (python as NSString).deletingLastPathComponent + "/ansible-playbook"
        async let ansibleRun = TestSupport.runAsync(
            "/usr/bin/env",
            locale.flatMap { ["-u", $0] } + [ansiblePlaybook, "-i", "\(work)/\(Self.oracle.name).ini", "playbook.yml"],
            in: Self.directory,
            environment: [
                "ANSIBLE_CALLBACK_PLUGINS": TestSupport.fixtures + "/callback_plugins",
                "ANSIBLE_STDOUT_CALLBACK": "pgha_events", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_PIPELINING": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "false", "ANSIBLE_LOCAL_TEMP": work + "/ansible-tmp",
            ])
        async let ourRun = TestSupport.runAsync(
            TestSupport.executable, ["-i", "\(work)/\(Self.ours.name).ini", "--output", "json", "playbook.yml"],
            in: Self.directory, environment: ["PGHA_ROUND_TRIPS": "1"])
        let (theirs, mine) = try await (ansibleRun, ourRun)
        let playbooksDone = Date()
        #expect(theirs.status == 0, "ansible-playbook failed:\n\(Self.failures(theirs.stdout))\(theirs.stderr)")
        #expect(mine.status == 0, "pgha-play failed:\n\(Self.failures(mine.stdout))\(mine.stderr)")

        // The same tasks ran with the same statuses (changed/ok/skipped) on both hosts.
        let expectedEvents = EventNormalizer.normalize(Self.normalize(theirs.stdout))
        let actualEvents = EventNormalizer.normalize(Self.normalize(mine.stdout))
        if expectedEvents != actualEvents {
            Issue.record("task statuses differ\n\(Self.statusDifference(expected: expectedEvents, actual: actualEvents))")
        }

        async let theirState = Self.dumpState(Self.oracle)
        async let myState = Self.dumpState(Self.ours)
        let (expected, actual) = try await (theirState, myState)
        try #require(expected.contains("=== postgres") && actual.contains("=== postgres"), "state dump incomplete:\n\(expected.suffix(2000))\n\(actual.suffix(2000))")
        let difference = Self.lineDifference(expected: expected, actual: actual)
        #expect(difference.isEmpty, "host states differ (- ansible-playbook on \(Self.oracle.name), + pgha-play on \(Self.ours.name)):\n\(difference)")
        // Idempotence: a second pgha-play run changes only what always reports a change (in Ansible too).
        let again = try await TestSupport.runAsync(
            TestSupport.executable, ["-i", "\(work)/\(Self.ours.name).ini", "--output", "json", "playbook.yml"],
            in: Self.directory, environment: ["PGHA_ROUND_TRIPS": "1"])
        #expect(again.status == 0, "second pgha-play run failed:\n\(Self.failures(again.stdout))\(again.stderr)")
        let changedAgain = Self.changedTasks(again.stdout)
        #expect(changedAgain == Self.alwaysChanged, "changed on the second run: \(changedAgain.sorted())")

        for line in Self.roundTripReport(first: mine.stderr, again: again.stderr) { print("round trips: \(line)") }
        let modules = try Self.modulesUsed()
        print(String(
            format: "module differential: %d modules, %d state lines compared, %d differing; %.0fs playbooks, %.0fs total",
            modules.count, actual.split(separator: "\n").count, difference.split(separator: "\n").count,
            playbooksDone.timeIntervalSince(started), Date().timeIntervalSince(started)))
    }

    static func inventory(_ host: (name: String, address: String)) -> String {
        """
        [difftest]
        \(host.name) ansible_host=\(host.address)

        """ + TestSupport.labInventoryVars(stateDirectory: stateDir)
    }

    /// Host names and addresses are the only things the two hosts may not share.
    static func normalize(_ text: String) -> String {
        var out = text
        for host in [ours, oracle] {
            out = out.replacingOccurrences(of: host.address, with: "ADDRESS").replacingOccurrences(of: host.name, with: "HOST")
        }
        return out
    }

    static func dumpState(_ host: (name: String, address: String)) async throws -> String {
        let result = try await TestSupport.runAsync(
            "/usr/bin/ssh",
            ["-i", stateDir + "/id_ed25519", "-o", "UserKnownHostsFile=\(stateDir)/known_hosts", "-o", "StrictHostKeyChecking=yes",
             "-o", "BatchMode=yes", "deploy@" + host.address,
             // The script goes to a file first: commands in it must not read the rest of it from stdin.
             "sudo -n bash -c 'f=$(mktemp); cat >\"$f\"; bash \"$f\" </dev/null; rm -f \"$f\"'"],
            stdin: try String(contentsOfFile: directory + "/state-dump.sh", encoding: .utf8))
        return normalize(result.stdout)
    }

    /// The lines only one dump has, grouped by section, at most 80.
    static func lineDifference(expected: String, actual: String) -> String {
        func lines(_ text: String) -> [String] {
            var section = ""
            return text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                if line.hasPrefix("=== ") { section = String(line.dropFirst(4)) }
                return "[\(section)] \(line)"
            }
        }
        let mine = lines(actual)
        let theirs = lines(expected)
        let mineSet = Set(mine)
        let theirSet = Set(theirs)
        let differing = theirs.filter { !mineSet.contains($0) }.map { "- " + $0 } + mine.filter { !theirSet.contains($0) }.map { "+ " + $0 }
        return differing.prefix(80).joined(separator: "\n")
    }

    /// Tasks that report a change on every run: `raw` cannot know, and postgresql_query counts DDL.
    static let alwaysChanged: Set<String> = ["raw", "a table and a row"]

    /// The names of the tasks with a changed result in a JSON-lines event stream.
    static func changedTasks(_ events: String) -> Set<String> {
        var names = Set<String>()
        for line in events.split(separator: "\n") where line.hasPrefix("{") {
            guard let event = try? JSON.decode(String(line)), event["event"]?.stringValue == "host_result",
                event["status"]?.stringValue == "changed", let task = event["task"]?.stringValue
            else { continue }
            names.insert(task)
        }
        return names
    }

    /// Per module, from pgha-play's PGHA_ROUND_TRIPS lines: the round trips of its runs on the fresh
    /// host and on the second, idempotent run.
    static func roundTripReport(first: String, again: String) -> [String] {
        func counts(_ stderr: String) -> [String: [Int]] {
            var perModule: [String: [Int]] = [:]
            for line in stderr.split(separator: "\n") where line.hasPrefix("round trips: ") {
                let rest = line.dropFirst("round trips: ".count)
                guard let module = rest.split(separator: " ").first, let colon = rest.lastIndex(of: ":"),
                    let count = Int(rest[rest.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                else { continue }
                perModule[String(module), default: []].append(count)
            }
            return perModule
        }
        func range(_ values: [Int]?) -> String {
            guard let values, let low = values.min(), let high = values.max() else { return "-" }
            return low == high ? "\(low)" : "\(low)-\(high)"
        }
        let fresh = counts(first)
        let second = counts(again)
        return fresh.keys.sorted().map { module in
            "\(module) (\(fresh[module]!.count) task runs): fresh host \(range(fresh[module])), second run \(range(second[module]))"
        }
    }

    /// The differing result lines, each under the task it belongs to.
    static func statusDifference(expected: [String], actual: [String]) -> String {
        var out = ""
        var task = ""
        for index in 0..<max(expected.count, actual.count) {
            let e = index < expected.count ? expected[index] : "<none>"
            let a = index < actual.count ? actual[index] : "<none>"
            if e.hasPrefix("TASK ") || e.hasPrefix("HANDLER ") { task = e }
            if e != a { out += "\(task):\n  ansible-playbook: \(e)\n  pgha-play:        \(a)\n" }
        }
        return out
    }

    /// The failed results in a JSON-lines event stream, for the failure message.
    static func failures(_ events: String) -> String {
        events.split(separator: "\n").filter { $0.contains("\"status\": \"failed\"") || $0.contains("\"status\":\"failed\"") || $0.contains("unreachable") }
            .prefix(5).joined(separator: "\n")
    }
}

/// The differential playbook's reach, checked without the lab.
@Suite struct ModuleDifferentialPlaybookTests {
    @Test func thePlaybookUsesAtLeast25Modules() throws {
        let modules = try ModuleDifferentialLabTests.modulesUsed()
        #expect(modules.count >= 25, "only \(modules.count): \(modules.sorted())")
    }
}
