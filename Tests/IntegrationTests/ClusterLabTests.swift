import Foundation
import PGHACore
import Transport
import Testing

/// The cluster issue's "done when", on the lab's node1, node2 and witness (issue 6): deploy with
/// `pgha-play site.yml`, converge, `--check --diff`, backups, switchover, losing the leader's power,
/// and a partition of the leader; and TLS on every link (issue 12): verify-full clients, encrypted
/// replication, etcd and the REST API, nothing readable on the wire, renewal, CA rotation and the
/// move of a cluster deployed without TLS.
///
/// These tests kill and cut off hosts, so they run on their own, after the other suites, in the
/// cluster phase of scripts/test (PGHA_CLUSTER_TESTS=1); the facts tests read the same hosts.
/// They expect fresh hosts (scripts/test resets them) but also run against a deployed cluster.
/// Hosts: PGHA_CLUSTER_HOSTS (database nodes, then the witness last; default
/// "node1=10.77.0.11,node2=10.77.0.12,witness=10.77.0.13") and, for adding nodes,
/// PGHA_CLUSTER_EXTRA_HOSTS (default "node3=10.77.0.14,node4=10.77.0.15").
@Suite(.serialized, .enabled(if: ClusterLab.enabled, "runs in the cluster phase of scripts/test (PGHA_CLUSTER_TESTS=1)"))
struct ClusterLabTests {
    @Test func deployConvergesAndChecksChangeNothing() throws {
        let started = Date()
        let deploy = try ClusterLab.pgha(["site.yml"] + ClusterLab.extraArguments)
        let deploySeconds = Date().timeIntervalSince(started)
        try #require(deploy.status == 0, "site.yml failed:\n\(deploy.tail)")
        print(String(format: "cluster: site.yml deployed in %.0f s", deploySeconds))
        #expect(!ClusterLab.leaksSecret(deploy.stdout + deploy.stderr))

        let members = try ClusterLab.members()
        #expect(members.filter { $0.role == "Leader" }.count == 1, "\(members)")
        #expect(members.count == 2)
        #expect(Set(members.map(\.timeline)).count == 1, "\(members)")
        #expect(members.allSatisfy { $0.state == "running" || $0.state == "streaming" }, "\(members)")
        try ClusterLab.expectReplicaStreaming()

        let etcd = try ClusterLab.ssh(ClusterLab.witness, "sudo -i etcdctl member list -w simple")
        #expect(etcd.stdout.split(separator: "\n").filter { $0.contains(", started,") }.count == 3, "\(etcd.stdout)")

        for node in ClusterLab.databaseNodes {
            let address = ClusterLab.address[node]!
            #expect(try ClusterLab.sql(on: node, host: address, port: 5432, "select pg_is_in_recovery()") == "f")
            #expect(try ClusterLab.sql(on: node, host: address, port: 5433, "select pg_is_in_recovery()") == "t")
        }

        let rerun = try ClusterLab.pgha(["site.yml"] + ClusterLab.extraArguments)
        #expect(rerun.status == 0, "\(rerun.tail)")
        #expect(ClusterLab.changedCounts(rerun.stdout).values.allSatisfy { $0 == 0 }, "changed: \(rerun.changes)\n\(rerun.tail)")

        let before = try ClusterLab.fingerprints()
        let check = try ClusterLab.pgha(["site.yml", "--check", "--diff"] + ClusterLab.extraArguments)
        #expect(check.status == 0, "\(check.tail)")
        #expect(ClusterLab.changedCounts(check.stdout).values.allSatisfy { $0 == 0 }, "changed: \(check.changes)\n\(check.tail)")
        #expect(try ClusterLab.fingerprints() == before)

        // One setting changes in group_vars: --check --diff shows exactly it and touches nothing.
        let inventory = try ClusterLab.inventoryCopy(appending: "pgbackrest_retention_full: 3\n")
        defer { try? FileManager.default.removeItem(atPath: inventory.directory) }
        let changedSetting = try ClusterLab.pgha(
            ["site.yml", "--check", "--diff", "-i", inventory.file] + ClusterLab.extraArguments)
        #expect(changedSetting.status == 0, "\(changedSetting.tail)")
        let counts = ClusterLab.changedCounts(changedSetting.stdout)
        var expected = [ClusterLab.witness: 0]
        for node in ClusterLab.databaseNodes { expected[node] = 1 }
        #expect(counts == expected, "\(changedSetting.tail)")
        #expect(changedSetting.stdout.contains("-repo1-retention-full=2\n+repo1-retention-full=3\n"), "\(changedSetting.stdout)")
        let diffLines = changedSetting.stdout.split(separator: "\n").filter {
            ($0.hasPrefix("+") && !$0.hasPrefix("+++")) || ($0.hasPrefix("-") && !$0.hasPrefix("---"))
        }
        #expect(diffLines.count == 4, "only the retention line, on two nodes: \(diffLines)")
        #expect(try ClusterLab.fingerprints() == before)
    }

    @Test func everyLinkUsesTLS() throws {
        try ClusterLab.requireHealthy()
        try ClusterTLS.expectEveryLinkUsesTLS()
    }

    @Test func aMarkerWrittenThroughHAProxyNeverCrossesTheBridgeInClearText() throws {
        try ClusterLab.requireHealthy()
        try ClusterTLS.expectMarkerNotOnTheWire()
    }

    @Test func backupRestoresAndSwitchoverMovesTheLeader() throws {
        try ClusterLab.requireHealthy()
        let restore = try ClusterLab.pgha(["restore-test.yml"])
        #expect(restore.status == 0, "\(restore.tail)")

        let leader = try ClusterLab.leader()
        let candidate = ClusterLab.databaseNodes.first { $0 != leader }!
        let writer = try ClusterLab.Writer(on: candidate, table: "switchover_probe", seconds: 40)
        Thread.sleep(forTimeInterval: 5)
        let switchover = try ClusterLab.pgha(["switchover.yml", "-e", "candidate=\(candidate)"])
        let outcome = try writer.finish()
        #expect(switchover.status == 0, "\(switchover.tail)")
        #expect(try ClusterLab.leader() == candidate)
        print(String(format: "cluster: switchover write pause %.1f s (%d acknowledged inserts)", outcome.longestPause, outcome.acknowledged.count))
        #expect(try ClusterLab.missingRows(outcome, table: "switchover_probe").isEmpty)
        try ClusterLab.waitForHealthyReplica(timeout: 120)
    }

    @Test func losingTheLeadersPowerLosesNoAcknowledgedWrite() throws {
        try ClusterLab.requireHealthy()
        let leader = try ClusterLab.leader()
        let survivor = ClusterLab.databaseNodes.first { $0 != leader }!
        let writer = try ClusterLab.Writer(on: survivor, table: "failover_probe", seconds: 75)
        Thread.sleep(forTimeInterval: 8)
        let killedAt = Date().timeIntervalSince1970
        try ClusterLab.lab(["kill", leader])
        let outcome = try writer.finish()
        // Inserts in flight at the kill may still be acknowledged: the outage starts at the kill and
        // ends with the first success after the first failure.
        let firstFailure = outcome.attempts.first { !$0.ok && $0.at > killedAt }?.at ?? killedAt
        let resumed = outcome.firstSuccess(after: firstFailure)
        try #require(resumed != nil, "no write succeeded after \(leader) lost power: \(outcome.summary)")
        let downtime = resumed! - killedAt
        print(String(format: "cluster: %@ killed; writes resumed after %.1f s; %d inserts acknowledged", leader, downtime, outcome.acknowledged.count))
        #expect(downtime <= 30, "writes came back after \(downtime) s")
        #expect(try ClusterLab.missingRows(outcome, table: "failover_probe").isEmpty)
        #expect(try ClusterLab.leader() == survivor)

        try ClusterLab.lab(["start", leader])
        try ClusterLab.waitForHealthyReplica(timeout: 180)
        let members = try ClusterLab.members()
        #expect(members.first { $0.name == leader }?.role != "Leader", "\(members)")
    }

    @Test func aPartitionedLeaderNeverLeavesTwoWritableNodes() throws {
        try ClusterLab.requireHealthy()
        let leader = try ClusterLab.leader()
        let other = ClusterLab.databaseNodes.first { $0 != leader }!
        try ClusterLab.lab(["partition", leader])
        var bothWritable: [String] = []
        var otherPromoted = false
        var oldDemoted = false
        var healedAt: Date?
        // Sample until 30 s after the heal: a split brain is as likely when the network comes back.
        let deadline = Date().addingTimeInterval(150)
        while Date() < deadline {
            // Inside each container (no network needed): is this PostgreSQL a primary right now?
            let a = try ClusterLab.insideContainer(leader, "runuser -u postgres -- psql -p 5442 -Atc 'select pg_is_in_recovery()'")
            let b = try ClusterLab.insideContainer(other, "runuser -u postgres -- psql -p 5442 -Atc 'select pg_is_in_recovery()'")
            if a == "f" && b == "f" { bothWritable.append("\(Date())") }
            if b == "f" { otherPromoted = true }
            if otherPromoted && a != "f" { oldDemoted = true }
            if healedAt == nil && otherPromoted && oldDemoted {
                try ClusterLab.lab(["heal", leader])
                healedAt = Date()
            }
            if let healedAt, Date().timeIntervalSince(healedAt) > 30 { break }
            Thread.sleep(forTimeInterval: 0.3)
        }
        if healedAt == nil { try ClusterLab.lab(["heal", leader]) }
        #expect(bothWritable.isEmpty, "both nodes were primaries at \(bothWritable)")
        #expect(otherPromoted, "\(other) was not promoted while \(leader) was cut off")
        #expect(oldDemoted, "\(leader) stayed primary while cut off")
        try ClusterLab.waitForHealthyReplica(timeout: 180)
    }

    /// It rebuilds the cluster's hosts, deploys without TLS and moves to TLS: it runs first or
    /// alone. scripts/test runs it in a process of its own on other hosts, followed there by the
    /// renewal and the rotation below (declared after it: a serialized suite runs its tests in
    /// declaration order), which then work on the cluster it moved to TLS.
    @Test func aClusterDeployedWithoutTLSMovesToTLSByRerunningSite() throws {
        try ClusterTLS.expectMigration()
    }

    @Test func aCertificateExpiringWithin30DaysIsRenewed() throws {
        try ClusterLab.requireHealthy()
        try ClusterTLS.expectRenewal()
    }

    @Test func rotateCARollsANewCAInWhileWritesGoOn() throws {
        try ClusterLab.requireHealthy()
        try ClusterTLS.expectCARotation()
    }

    /// Last, because the cluster then has four database nodes: node3 and node4 (fresh) join
    /// [postgres] and a plain rerun of site.yml extends etcd, Patroni, HAProxy and UFW everywhere,
    /// without a failover. Then node3 is rebuilt (fresh disk) and a rerun replaces its etcd member.
    @Test func addingTwoDatabaseNodesExtendsTheCluster() throws {
        try ClusterLab.requireHealthy()
        let before = try ClusterLab.members()
        let extra = ClusterLab.extraHosts
        try #require(extra.count == 2, "PGHA_CLUSTER_EXTRA_HOSTS names two hosts")
        let (node3, node4) = (extra[0].name, extra[1].name)
        try ClusterLab.lab(["reset", node3, node4])
        let inventory = try ClusterLab.inventoryCopy(appending: "", databaseNodes: Array(ClusterLab.hosts.dropLast()) + extra)
        defer { try? FileManager.default.removeItem(atPath: inventory.directory) }

        // Limited to a new host, the etcd role cannot see the running members: it refuses rather
        // than found a second cluster.
        let limited = try ClusterLab.pgha(["site.yml", "-i", inventory.file, "--limit", node3, "--tags", "etcd"])
        #expect(limited.status == 2 && limited.stdout.contains("it could only start a cluster of its own"), "\(limited.tail)")

        let extend = try ClusterLab.pgha(["site.yml", "-i", inventory.file] + ClusterLab.extraArguments)
        try #require(extend.status == 0, "\(extend.tail)")
        try expectFourMembersAndFiveEtcdMembers()
        let after = try ClusterLab.members()
        // Extending the cluster restarts no existing etcd member at once and moves no leader.
        #expect(
            after.first { $0.role == "Leader" }?.name == before.first { $0.role == "Leader" }?.name
                && Set(after.map(\.timeline)) == Set(before.map(\.timeline)),
            "before \(before), after \(after)")
        for node in ClusterLab.databaseNodes {
            let config = try ClusterLab.ssh(node, "sudo cat /etc/haproxy/haproxy.cfg; sudo ufw status").stdout
            #expect(
                config.contains("server \(node3) \(extra[0].address):5442") && config.contains("server \(node4) \(extra[1].address):5442"),
                "\(node): \(config)")
            #expect(config.contains("5442/tcp                   ALLOW       \(extra[0].address)"), "\(node): \(config)")
        }

        // A rebuilt host: the cluster still lists its old etcd member, whose data is gone.
        try ClusterLab.lab(["reset", node3])
        let replace = try ClusterLab.pgha(["site.yml", "-i", inventory.file] + ClusterLab.extraArguments)
        try #require(replace.status == 0, "\(replace.tail)")
        #expect(replace.stdout.contains("TASK [etcd : Remove this host's old member, whose data is gone]"), "\(replace.tail)")
        try expectFourMembersAndFiveEtcdMembers()

        let rerun = try ClusterLab.pgha(["site.yml", "-i", inventory.file] + ClusterLab.extraArguments)
        #expect(rerun.status == 0, "\(rerun.tail)")
        #expect(ClusterLab.changedCounts(rerun.stdout).values.allSatisfy { $0 == 0 }, "changed: \(rerun.changes)\n\(rerun.tail)")
    }

    private func expectFourMembersAndFiveEtcdMembers() throws {
        let etcd = try ClusterLab.ssh(ClusterLab.witness, "sudo -i etcdctl member list -w simple")
        #expect(etcd.stdout.split(separator: "\n").filter { $0.contains(", started,") }.count == 5, "\(etcd.stdout)")
        let deadline = Date().addingTimeInterval(240)
        var members: [ClusterLab.Member] = []
        while Date() < deadline {
            members = (try? ClusterLab.members()) ?? []
            if members.count == 4, members.allSatisfy({ $0.state == "running" || $0.state == "streaming" }),
                members.allSatisfy({ $0.role == "Leader" || $0.lag == 0 }) { break }
            Thread.sleep(forTimeInterval: 3)
        }
        #expect(members.count == 4 && members.filter { $0.role == "Leader" }.count == 1, "\(members)")
        #expect(members.allSatisfy { $0.state == "running" || $0.state == "streaming" }, "\(members)")
        #expect(Set(members.map(\.timeline)).count == 1, "\(members)")
    }
}

/// Access to the lab cluster for the tests above.
enum ClusterLab {
    static let environment = ProcessInfo.processInfo.environment
    static var enabled: Bool { environment["PGHA_CLUSTER_TESTS"] == "1" }
    /// The cluster's hosts, database nodes first and the witness last (PGHA_CLUSTER_HOSTS).
    static let hosts = parseHosts(environment["PGHA_CLUSTER_HOSTS"] ?? "node1=10.77.0.11,node2=10.77.0.12,witness=10.77.0.13")
    /// Two fresh hosts the adding test joins to [postgres] (PGHA_CLUSTER_EXTRA_HOSTS).
    static let extraHosts = parseHosts(environment["PGHA_CLUSTER_EXTRA_HOSTS"] ?? "node3=10.77.0.14,node4=10.77.0.15")
    static let databaseNodes = hosts.dropLast().map(\.name)
    static let witness = hosts.last?.name ?? "witness"
    static let address = Dictionary((hosts + extraHosts).map { ($0.name, $0.address) }, uniquingKeysWith: { first, _ in first })
    static let labDirectory = environment["PGHA_LAB_STATE_DIR"] ?? "/var/lib/pgha-play/lab"

    /// `name=address,name=address,...`
    static func parseHosts(_ text: String) -> [(name: String, address: String)] {
        text.split(separator: ",").compactMap { entry in
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
    }

    /// An inventory for these hosts (a copy of the lab inventory's group_vars, the lab CA from
    /// the lab directory), made once per test process; the tests' runs of pgha-play use it.
    static let inventory: (directory: String, file: String) = {
        do {
            return try makeInventory(databaseNodes: Array(hosts.dropLast()))
        } catch {
            fatalError("cannot write the cluster tests' inventory: \(error)")
        }
    }()

    static func makeInventory(databaseNodes: [(name: String, address: String)], copying source: String? = nil) throws
        -> (directory: String, file: String)
    {
        let directory = NSTemporaryDirectory() + "pgha-cluster-inventory-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: (source ?? TestSupport.repositoryRoot + "/inventory") + "/group_vars", toPath: directory + "/group_vars")
        var ini = "[postgres]\n"
        for host in databaseNodes { ini += "\(host.name) ansible_host=\(host.address)\n" }
        ini += "\n[witness]\n\(witness) ansible_host=\(address[witness] ?? "")\n\n[etcd:children]\npostgres\nwitness\n\n"
        ini += TestSupport.labInventoryVars(stateDirectory: labDirectory)
        try ini.write(toFile: directory + "/hosts.ini", atomically: true, encoding: .utf8)
        if let source {
            // The CA file site.yml wrote for clients beside the source: a copy is no change.
            if FileManager.default.fileExists(atPath: source + "/pgha-ca.crt") {
                try FileManager.default.copyItem(atPath: source + "/pgha-ca.crt", toPath: directory + "/pgha-ca.crt")
            }
        } else {
            try useCA(certificate: labDirectory + "/ca.crt", key: labDirectory + "/ca.key", inventory: directory)
        }
        return (directory, directory + "/hosts.ini")
    }

    /// Points an inventory's cluster CA at these files (group_vars/all/zz-cluster-ca.yml, read last).
    static func useCA(certificate: String, key: String, inventory directory: String) throws {
        try """
            pgha_tls_ca_cert: "{{ lookup('file', '\(certificate)') }}"
            pgha_tls_ca_private_key: "{{ lookup('file', '\(key)') }}"

            """.write(toFile: directory + "/group_vars/all/zz-cluster-ca.yml", atomically: true, encoding: .utf8)
    }
    /// Extra arguments for site.yml runs, e.g. PGHA_CLUSTER_SITE_ARGS="-e pgha_cis_hardening=false".
    static let extraArguments = (environment["PGHA_CLUSTER_SITE_ARGS"] ?? "").split(separator: " ").map(String.init)

    /// The lab-only superuser password, read from the committed lab inventory (never printed).
    static let superuserPassword: String = {
        let path = TestSupport.repositoryRoot + "/inventory/group_vars/all/secrets.yml"
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("pg_superuser_password:") {
            return line.dropFirst("pg_superuser_password:".count).trimmingCharacters(in: CharacterSet(charactersIn: " \"'"))
        }
        return ""
    }()

    static func leaksSecret(_ text: String) -> Bool { !superuserPassword.isEmpty && text.contains(superuserPassword) }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var tail: String { String((stdout + stderr).suffix(4000)) }
        /// "TASK name: host" for each change the human output reports, in order: what a rerun that
        /// should change nothing changed.
        var changes: [String] {
            var task = ""
            var found: [String] = []
            for line in stdout.split(separator: "\n") {
                if line.hasPrefix("TASK [") { task = String(line.dropFirst(6).prefix { $0 != "]" }) }
                if line.hasPrefix("changed: [") { found.append("\(task): \(line.dropFirst(10).prefix { $0 != "]" })") }
            }
            return found
        }
    }

    /// Runs pgha-play from the repository root; playbooks on the tests' inventory unless `-i` is given.
    static func pgha(_ arguments: [String]) throws -> Output {
        let isPlaybookRun = !["ca", "lab"].contains(arguments.first ?? "") && !arguments.contains("-i")
        let inventoryArguments = isPlaybookRun ? ["-i", inventory.file] : []
        let out = try TestSupport.run(
            TestSupport.executable, inventoryArguments + arguments, in: TestSupport.repositoryRoot,
            environment: ["NO_COLOR": "1"])
        return Output(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }

    static func lab(_ arguments: [String]) throws {
        let out = try TestSupport.run(TestSupport.executable, ["lab"] + arguments)
        if out.status != 0 {
            throw PGHAError(.environment, "lab \(arguments.joined(separator: " ")) failed: \(out.stderr)")
        }
    }

    /// Runs `command` on a lab host as the deploy user over OpenSSH (as an operator would).
    @discardableResult
    static func ssh(_ host: String, _ command: String, stdin: String? = nil) throws -> Output {
        var arguments = [
            "-i", labDirectory + "/id_ed25519", "-o", "UserKnownHostsFile=\(labDirectory)/known_hosts",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
            "deploy@\(address[host]!)", command,
        ]
        if stdin != nil { arguments.insert("-T", at: 0) }
        let out = try TestSupport.run("/usr/bin/ssh", arguments, stdin: stdin)
        return Output(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }

    /// One value from psql run on `node`, connecting over TCP as postgres with the inventory password
    /// (passed on stdin, never on a command line).
    static func sql(on node: String, host: String, port: Int, _ query: String) throws -> String {
        let script = """
            export PGPASSWORD=\(shellQuote(superuserPassword))
            exec psql "host=\(host) port=\(port) user=postgres dbname=postgres connect_timeout=5" -Atc \(shellQuote(query))
            """
        let out = try ssh(node, "bash -s", stdin: script)
        if out.status != 0 { throw PGHAError(.execution, "psql on \(node) via \(host):\(port): \(out.stderr)") }
        return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct Member: CustomStringConvertible {
        var name: String
        var role: String
        var state: String
        var timeline: Int
        var lag: Int?
        var description: String { "\(name) \(role) \(state) TL\(timeline) lag \(lag.map(String.init) ?? "-")" }
    }

    /// `patronictl list` as the operator runs it, from whichever database node answers.
    static func members() throws -> [Member] {
        var lastError = ""
        for node in databaseNodes {
            guard let out = try? ssh(node, "sudo patronictl -c /etc/patroni/config.yml list -f json"), out.status == 0 else {
                lastError = "patronictl on \(node) failed"
                continue
            }
            guard case .list(let rows) = try JSON.decode(out.stdout) else { continue }
            return rows.map { row in
                Member(
                    name: row["Member"]?.stringValue ?? "?", role: row["Role"]?.stringValue ?? "?",
                    state: row["State"]?.stringValue ?? "?", timeline: row["TL"]?.intValue ?? -1,
                    lag: row["Lag in MB"]?.intValue)
            }
        }
        throw PGHAError(.execution, lastError)
    }

    static func leader() throws -> String {
        let leaders = try members().filter { $0.role == "Leader" }
        guard leaders.count == 1 else { throw PGHAError(.execution, "expected one leader, found \(leaders)") }
        return leaders[0].name
    }

    /// The leader's pg_stat_replication shows the other node streaming.
    static func expectReplicaStreaming(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let leader = try leader()
        let states = try ssh(leader, "sudo -u postgres psql -p 5442 -Atc \"select application_name || ' ' || state || ' ' || sync_state from pg_stat_replication\"")
        let other = databaseNodes.first { $0 != leader }!
        #expect(states.stdout.contains("\(other) streaming"), "\(states.stdout)\(states.stderr)", sourceLocation: sourceLocation)
    }

    /// One leader, and a synchronous standby: with synchronous_mode only that one may be promoted,
    /// so a failure test that starts before the replica is synchronous again tests nothing.
    static func isHealthy() -> Bool {
        guard let members = try? members(), members.count == 2,
            members.filter({ $0.role == "Leader" }).count == 1,
            members.contains(where: { $0.role == "Sync Standby" }),
            Set(members.map(\.timeline)).count == 1,
            members.allSatisfy({ $0.state == "running" || $0.state == "streaming" }),
            members.allSatisfy({ $0.role == "Leader" || $0.lag == 0 })
        else { return false }
        return true
    }

    static func requireHealthy() throws {
        if !isHealthy() { try waitForHealthyReplica(timeout: 60) }
    }

    /// Waits until one leader and one synchronous standby on the same timeline with lag 0.
    static func waitForHealthyReplica(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if isHealthy() { return }
            Thread.sleep(forTimeInterval: 2)
        }
        throw PGHAError(.execution, "the cluster did not become healthy in \(Int(timeout)) s: \((try? members()).map { "\($0)" } ?? "no answer")")
    }

    /// Checksums of every file the roles manage plus the service states: what --check must not change.
    static func fingerprints() throws -> [String: String] {
        var result: [String: String] = [:]
        let command = "sudo sh -c 'md5sum /etc/patroni/config.yml /etc/haproxy/haproxy.cfg /etc/pgbackrest.conf /etc/default/etcd /etc/hosts /etc/ufw/user.rules 2>/dev/null; systemctl is-active etcd patroni haproxy 2>/dev/null; ufw status numbered'"
        for host in hosts.map(\.name) {
            result[host] = try ssh(host, command).stdout
        }
        return result
    }

    /// The recap's changed= per host.
    static func changedCounts(_ output: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        var inRecap = false
        for line in output.split(separator: "\n") {
            if line.hasPrefix("PLAY RECAP") { inRecap = true; continue }
            guard inRecap, let colon = line.firstIndex(of: ":"), let range = line.range(of: "changed=") else { continue }
            let host = line[..<colon].trimmingCharacters(in: .whitespaces)
            counts[host] = Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        return counts
    }

    /// A copy of the tests' inventory (optionally with other database nodes) whose
    /// group_vars/all/main.yml ends with `extra`.
    static func inventoryCopy(
        appending extra: String, databaseNodes: [(name: String, address: String)] = Array(hosts.dropLast())
    ) throws -> (directory: String, file: String) {
        let copy = try makeInventory(databaseNodes: databaseNodes, copying: inventory.directory)
        let main = copy.directory + "/group_vars/all/main.yml"
        let text = try String(contentsOfFile: main, encoding: .utf8)
        try (text + (text.hasSuffix("\n") ? "" : "\n") + extra).write(toFile: main, atomically: true, encoding: .utf8)
        return copy
    }

    /// Runs `command` inside a lab container through its namespaces: works while it is partitioned.
    static func insideContainer(_ host: String, _ command: String) throws -> String {
        let pidText = (try? String(contentsOfFile: "\(labDirectory)/hosts/\(host)/pid", encoding: .utf8)) ?? ""
        guard let nspawn = Int(pidText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw PGHAError(.environment, "no nspawn pid for \(host)")
        }
        let children = try TestSupport.run("/usr/bin/pgrep", ["-P", String(nspawn)]).stdout
        guard let initPID = children.split(separator: "\n").first else {
            throw PGHAError(.environment, "\(host) has no init process")
        }
        let out = try TestSupport.run(
            "/usr/bin/nsenter", ["-t", String(initPID), "-a", "-r", "-w", "/bin/sh", "-c", command])
        return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Rows acknowledged to the writer but missing from the table on the current leader.
    static func missingRows(_ outcome: Writer.Outcome, table: String) throws -> [Int] {
        let leader = try leader()
        let out = try ssh(leader, "sudo -u postgres psql -p 5442 -Atc 'select id from \(table)'")
        let present = Set(out.stdout.split(separator: "\n").compactMap { Int($0) })
        return outcome.acknowledged.filter { !present.contains($0) }
    }

    /// A client inserting numbered rows through HAProxy's read-write port on one node, one
    /// connection per insert (as an application reconnecting after errors), for a fixed time.
    final class Writer: @unchecked Sendable {
        struct Outcome {
            /// (id, acknowledged, epoch seconds) per attempt.
            var attempts: [(id: Int, ok: Bool, at: Double)]
            /// What psql printed for each failed attempt, by id.
            var errors: [Int: String] = [:]
            var acknowledged: [Int] { attempts.filter(\.ok).map(\.id) }
            func firstSuccess(after time: Double) -> Double? { attempts.first { $0.ok && $0.at > time }?.at }
            /// The longest time between two acknowledged inserts.
            var longestPause: Double {
                let times = attempts.filter(\.ok).map(\.at)
                return zip(times, times.dropFirst()).map { $1 - $0 }.max() ?? 0
            }
            var summary: String { "\(attempts.count) attempts, \(acknowledged.count) acknowledged" }
        }

        private let group = DispatchGroup()
        private var output: Output?
        private var failure: (any Error)?

        init(on node: String, table: String, seconds: Int) throws {
            let address = ClusterLab.address[node]!
            _ = try ClusterLab.sql(on: node, host: address, port: 5432, "create table if not exists \(table) (id int primary key)")
            let script = """
                export PGPASSWORD=\(shellQuote(ClusterLab.superuserPassword))
                end=$(( $(date +%s) + \(seconds) ))
                i=$(psql "host=\(address) port=5432 user=postgres dbname=postgres connect_timeout=2" -Atc 'select coalesce(max(id), 0) from \(table)' 2>/dev/null || echo 1000000)
                while [ "$(date +%s)" -lt "$end" ]; do
                  i=$((i + 1))
                  if error=$(timeout 10 psql "host=\(address) port=5432 user=postgres dbname=postgres connect_timeout=2" -Atqc "insert into \(table) values ($i)" 2>&1 >/dev/null); then
                    echo "ok $i $(date +%s.%N)"
                  else
                    echo "err $i $(date +%s.%N) $(printf '%s' "$error" | tr '\n' ' ' | cut -c1-300)"; sleep 0.2
                  fi
                  sleep 0.05
                done
                """
            group.enter()
            DispatchQueue.global().async {
                do { self.output = try ClusterLab.ssh(node, "bash -s", stdin: script) } catch { self.failure = error }
                self.group.leave()
            }
        }

        func finish() throws -> Outcome {
            group.wait()
            if let failure { throw failure }
            let text = output?.stdout ?? ""
            var outcome = Outcome(attempts: [])
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 3)
                guard parts.count >= 3, let id = Int(parts[1]), let at = Double(parts[2]) else { continue }
                outcome.attempts.append((id, parts[0] == "ok", at))
                if parts[0] != "ok" { outcome.errors[id] = parts.count == 4 ? String(parts[3]) : "" }
            }
            return outcome
        }
    }
}
