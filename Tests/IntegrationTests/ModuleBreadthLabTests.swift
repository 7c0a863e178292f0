import Foundation
import PGHACore
import Testing

/// What public roles use beside the module differential's modules (issue 18), against Ansible's
/// own modules on real hosts.
///
/// As ModuleDifferentialLabTests: one playbook (Fixtures/modules-breadth) runs with pgha-play on a
/// freshly reset lab host and with the oracle venv's ansible-playbook on another, both at once; the
/// two tools must report the same status for every task, and state-dump.sh must print the same
/// state for both hosts once names and addresses are normalized. Before that, check.yml runs with
/// --check on both fresh hosts (changes predicted for directories that earlier tasks would create).
/// Files fetched to the controller are compared too. Then both tools run the playbook again and
/// must again agree on statuses and state.
///
/// Runs with PGHA_LAB_TESTS=1 (and always under CI=true). Hosts: PGHA_BREADTH_LAB_HOSTS, "pgha=addr,
/// ansible=addr" (default node34=10.77.0.45,node35=10.77.0.46); the reboot test uses
/// PGHA_BREADTH_SPARE_HOST (default node36=10.77.0.47). All of them are reset first.
@Suite(.serialized, .enabled(if: LabFactsEnvironment.enabled))
struct ModuleBreadthLabTests {
    typealias Host = (name: String, address: String)
    static let directory = TestSupport.fixtures + "/modules-breadth"
    static let stateDir = LabFactsEnvironment.stateDir

    static func hosts(_ variable: String, default fallback: String) -> [Host] {
        let spec = ProcessInfo.processInfo.environment[variable] ?? fallback
        return spec.split(separator: ",").compactMap { item in
            let parts = item.split(separator: "=").map(String.init)
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
    }

    static let pair = hosts("PGHA_BREADTH_LAB_HOSTS", default: "node34=10.77.0.45,node35=10.77.0.46")
    static let spare = hosts("PGHA_BREADTH_SPARE_HOST", default: "node36=10.77.0.47")

    /// The modules the playbooks call, by their short names.
    static func modulesUsed() throws -> Set<String> {
        var modules = Set<String>()
        for file in ["playbook.yml", "check.yml", "reboot.yml"] {
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            let pattern = try NSRegularExpression(
                pattern: #"^\s+(?:ansible\.builtin|ansible\.posix|community\.\w+)\.(\w+):"#, options: .anchorsMatchLines)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text) { modules.insert(String(text[range])) }
            }
        }
        return modules
    }

    @Test func pghaPlayAndAnsibleLeaveTheSameState() async throws {
        try #require(Self.pair.count == 2, "PGHA_BREADTH_LAB_HOSTS must name two hosts, name=address,name=address")
        let (ours, oracle) = (Self.pair[0], Self.pair[1])
        guard let python = TestSupport.oraclePython else {
            Issue.record("the oracle venv (scripts/oracle-venv.sh) could not be created")
            return
        }
        let started = Date()
        let reset = try await TestSupport.runAsync(TestSupport.executable, ["lab", "reset", ours.name, oracle.name])
        try #require(reset.status == 0, "lab reset failed: \(reset.stdout)\(reset.stderr)")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-breadth-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        for host in [ours, oracle] {
            try Self.inventory(host).write(toFile: "\(work)/\(host.name).ini", atomically: true, encoding: .utf8)
        }

        // --check on the fresh hosts first: nothing may change, and both must predict the same.
        let (checkTheirs, checkMine) = try await Self.runBoth(
            "check.yml", ["--check"], ours: ours, oracle: oracle, python: python, work: work)
        #expect(checkTheirs.status == 0, "ansible-playbook --check failed:\n\(Self.failures(checkTheirs.stdout))\(checkTheirs.stderr)")
        #expect(checkMine.status == 0, "pgha-play --check failed:\n\(Self.failures(checkMine.stdout))\(checkMine.stderr)")
        Self.compareStatuses(expected: checkTheirs.stdout, actual: checkMine.stdout, ours: ours, oracle: oracle, what: "--check")

        let (theirs, mine) = try await Self.runBoth(
            "playbook.yml", [], ours: ours, oracle: oracle, python: python, work: work)
        let playbooksDone = Date()
        #expect(theirs.status == 0, "ansible-playbook failed:\n\(Self.failures(theirs.stdout))\(theirs.stderr)")
        #expect(mine.status == 0, "pgha-play failed:\n\(Self.failures(mine.stdout))\(mine.stderr)")
        Self.compareStatuses(expected: theirs.stdout, actual: mine.stdout, ours: ours, oracle: oracle, what: "the playbook")

        async let theirState = Self.dumpState(oracle, ours: ours, oracle: oracle)
        async let myState = Self.dumpState(ours, ours: ours, oracle: oracle)
        let (expected, actual) = try await (theirState, myState)
        try #require(
            expected.contains("=== sysctls") && actual.contains("=== sysctls"),
            "state dump incomplete:\n\(expected.suffix(2000))\n\(actual.suffix(2000))")
        let difference = ModuleDifferentialLabTests.lineDifference(expected: expected, actual: actual)
        #expect(difference.isEmpty, "host states differ (- ansible-playbook on \(oracle.name), + pgha-play on \(ours.name)):\n\(difference)")

        // The files fetched to the controller: the same names (the host's own under tree/) and contents.
        let fetchedTheirs = try Self.listing(work + "/fetch-" + oracle.name, host: oracle.name)
        let fetchedMine = try Self.listing(work + "/fetch-" + ours.name, host: ours.name)
        #expect(!fetchedMine.isEmpty && fetchedMine == fetchedTheirs, "fetched files differ:\nansible \(fetchedTheirs)\npgha-play \(fetchedMine)")

        // Both tools again on the same hosts: what changes on a second run (toggled states, flushes)
        // must be the same tasks, and the hosts must still agree.
        let (theirsAgain, mineAgain) = try await Self.runBoth(
            "playbook.yml", [], ours: ours, oracle: oracle, python: python, work: work)
        #expect(mineAgain.status == 0, "second pgha-play run failed:\n\(Self.failures(mineAgain.stdout))\(mineAgain.stderr)")
        Self.compareStatuses(expected: theirsAgain.stdout, actual: mineAgain.stdout, ours: ours, oracle: oracle, what: "the second run")
        let differenceAgain = ModuleDifferentialLabTests.lineDifference(
            expected: try await Self.dumpState(oracle, ours: ours, oracle: oracle),
            actual: try await Self.dumpState(ours, ours: ours, oracle: oracle))
        #expect(differenceAgain.isEmpty, "host states differ after the second run:\n\(differenceAgain)")
        print(String(
            format: "module breadth differential: %d modules, %d state lines compared, %d differing; %.0fs playbooks, %.0fs total",
            try Self.modulesUsed().count, actual.split(separator: "\n").count, difference.split(separator: "\n").count,
            playbooksDone.timeIntervalSince(started), Date().timeIntervalSince(started)))
    }

    /// `reboot` on the spare host, with each tool in turn: the host's nspawn ends when its systemd
    /// reboots, so a watcher starts it again, as a hypervisor would.
    @Test func rebootMatchesAnsible() async throws {
        try #require(Self.spare.count == 1, "PGHA_BREADTH_SPARE_HOST must name one host, name=address")
        let host = Self.spare[0]
        guard let python = TestSupport.oraclePython else {
            Issue.record("the oracle venv (scripts/oracle-venv.sh) could not be created")
            return
        }
        let reset = try await TestSupport.runAsync(TestSupport.executable, ["lab", "reset", host.name])
        try #require(reset.status == 0, "lab reset failed: \(reset.stdout)\(reset.stderr)")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-reboot-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try Self.inventory(host).write(toFile: "\(work)/\(host.name).ini", atomically: true, encoding: .utf8)
        let ansiblePlaybook = (python as NSString).deletingLastPathComponent + "/ansible-playbook"
        let locale = ProcessInfo.processInfo.environment.keys.filter { $0 == "LANG" || $0.hasPrefix("LC_") }.sorted()
        var outputs: [TestSupport.Output] = []
        for tool in ["ansible", "pgha-play"] {
            let watcher = Task { await Self.restartWhenDown(host.name) }
            let output = tool == "ansible"
                ? try await TestSupport.runAsync(
                    "/usr/bin/env",
                    locale.flatMap { ["-u", $0] } + [ansiblePlaybook, "-i", "\(work)/\(host.name).ini", "reboot.yml"],
                    in: Self.directory,
                    environment: [
                        "ANSIBLE_CALLBACK_PLUGINS": TestSupport.fixtures + "/callback_plugins", "ANSIBLE_STDOUT_CALLBACK": "pgha_events",
                        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "false", "ANSIBLE_LOCAL_TEMP": work + "/ansible-tmp",
                    ])
                : try await TestSupport.runAsync(
                    TestSupport.executable, ["-i", "\(work)/\(host.name).ini", "--output", "json", "reboot.yml"], in: Self.directory)
            watcher.cancel()
            _ = await watcher.value
            #expect(output.status == 0, "\(tool) failed:\n\(Self.failures(output.stdout))\(output.stderr)")
            outputs.append(output)
        }
        let expected = EventNormalizer.normalize(outputs[0].stdout)
        let actual = EventNormalizer.normalize(outputs[1].stdout)
        #expect(expected.contains { $0.contains("rebooted=True new boot=True elapsed is a number=True") }, "ansible did not reboot: \(expected)")
        if expected != actual {
            Issue.record("reboot differs\n\(ModuleDifferentialLabTests.statusDifference(expected: expected, actual: actual))")
        }
    }

    /// Starts `name` again whenever its nspawn is gone, until cancelled.
    static func restartWhenDown(_ name: String) async {
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 1_000_000_000)
            guard let status = try? await TestSupport.runAsync(TestSupport.executable, ["lab", "status"]) else { continue }
            let running = status.stdout.split(separator: "\n").contains { line in
                let words = line.split(separator: " ", omittingEmptySubsequences: true)
                return words.count >= 3 && words[0] == name && words[2] == "running"
            }
            if !running { _ = try? await TestSupport.runAsync(TestSupport.executable, ["lab", "start", name]) }
        }
    }

    /// Runs one playbook with ansible-playbook on the oracle host and with pgha-play on ours, at once.
    static func runBoth(
        _ playbook: String, _ arguments: [String], ours: Host, oracle: Host, python: String, work: String
    ) async throws -> (theirs: TestSupport.Output, mine: TestSupport.Output) {
        // OpenSSH forwards the controller's locale (SendEnv LANG LC_*); pgha-play forwards nothing.
        let locale = ProcessInfo.processInfo.environment.keys.filter { $0 == "LANG" || $0.hasPrefix("LC_") }.sorted()
        let ansiblePlaybook = (python as NSString).deletingLastPathComponent + "/ansible-playbook"
        async let theirs = TestSupport.runAsync(
            "/usr/bin/env",
            locale.flatMap { ["-u", $0] } + [
                ansiblePlaybook, "-i", "\(work)/\(oracle.name).ini", "-e", "fetch_dir=\(work)/fetch-\(oracle.name)",
            ] + arguments + [playbook],
            in: directory,
            environment: [
                "ANSIBLE_CALLBACK_PLUGINS": TestSupport.fixtures + "/callback_plugins",
                "ANSIBLE_STDOUT_CALLBACK": "pgha_events", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_PIPELINING": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "false", "ANSIBLE_LOCAL_TEMP": work + "/ansible-tmp",
            ])
        async let mine = TestSupport.runAsync(
            TestSupport.executable,
            ["-i", "\(work)/\(ours.name).ini", "--output", "json", "-e", "fetch_dir=\(work)/fetch-\(ours.name)"]
                + arguments + [playbook],
            in: directory)
        return try await (theirs, mine)
    }

    static func compareStatuses(expected: String, actual: String, ours: Host, oracle: Host, what: String) {
        let theirs = EventNormalizer.normalize(normalize(expected, ours: ours, oracle: oracle))
        let mine = EventNormalizer.normalize(normalize(actual, ours: ours, oracle: oracle))
        if theirs != mine {
            Issue.record("task statuses differ in \(what)\n\(ModuleDifferentialLabTests.statusDifference(expected: theirs, actual: mine))")
        }
    }

    static func inventory(_ host: Host) -> String {
        """
        [breadth]
        \(host.name) ansible_host=\(host.address)

        """ + TestSupport.labInventoryVars(stateDirectory: stateDir)
    }

    /// Host names and addresses are the only things the two hosts may not share.
    static func normalize(_ text: String, ours: Host, oracle: Host) -> String {
        var out = text
        for host in [ours, oracle] {
            out = out.replacingOccurrences(of: host.address, with: "ADDRESS").replacingOccurrences(of: host.name, with: "HOST")
        }
        return out
    }

    static func dumpState(_ host: Host, ours: Host, oracle: Host) async throws -> String {
        let result = try await TestSupport.runAsync(
            "/usr/bin/ssh",
            ["-i", stateDir + "/id_ed25519", "-o", "UserKnownHostsFile=\(stateDir)/known_hosts", "-o", "StrictHostKeyChecking=yes",
             "-o", "BatchMode=yes", "deploy@" + host.address,
             // The script goes to a file first: commands in it must not read the rest of it from stdin.
             "sudo -n bash -c 'f=$(mktemp); cat >\"$f\"; bash \"$f\" </dev/null; rm -f \"$f\"'"],
            stdin: try String(contentsOfFile: directory + "/state-dump.sh", encoding: .utf8))
        return normalize(result.stdout, ours: ours, oracle: oracle)
    }

    /// Relative path and SHA-256 of every file under `root`, the host's name replaced.
    static func listing(_ root: String, host: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var lines: [String] = []
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue,
                let data = FileManager.default.contents(atPath: root + "/" + relative)
            else { continue }
            let content = String(decoding: data, as: UTF8.self).replacingOccurrences(of: host, with: "HOST")
            lines.append(relative.replacingOccurrences(of: host, with: "HOST") + " " + Digest.sha256(Array(content.utf8)))
        }
        return lines.sorted()
    }

    static func failures(_ events: String) -> String { ModuleDifferentialLabTests.failures(events) }
}

/// The breadth playbooks' reach, checked without the lab.
@Suite struct ModuleBreadthPlaybookTests {
    @Test func thePlaybooksUseTheModulesOfIssue18() throws {
        let modules = try ModuleBreadthLabTests.modulesUsed()
        let wanted: Set<String> = [
            "iptables", "timezone", "locale_gen", "dpkg_divert", "acl", "package", "service", "fetch", "sysctl", "git",
            "unarchive", "pamd", "postgresql_privs", "postgresql_db", "postgresql_user", "reboot", "setup",
            "deb822_repository", "apt_key",
        ]
        #expect(wanted.isSubset(of: modules), "missing: \(wanted.subtracting(modules).sorted())")
    }
}
