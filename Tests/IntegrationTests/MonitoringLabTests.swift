import Foundation
import PGHACore
import Testing
import Transport

/// The monitoring issue's "done when" on three lab hosts (PGHA_MONITORING_HOSTS, default
/// node13,node14,node15: two database nodes and the witness, which monitors): one deploy with
/// `pgha-play site.yml` shared by every test, in order: every target up and the rules loaded; the
/// replica's Patroni stopped fires the replica alert within 2 minutes and it clears; WAL replay paused
/// while writing fires the lag alert and empties 5433's replica pool until it catches up;
/// `pgha-play status --output json` agrees with patronictl; with a node killed, status still answers
/// and names it.
///
/// Runs in the cluster phase (PGHA_CLUSTER_TESTS=1): it stops services and kills a host. The test
/// inventory shortens the scrape and evaluation intervals and the alerts' `for:` (role variables).
@Suite(.serialized, .enabled(if: MonitoringLab.enabled, "runs in the cluster phase of scripts/test (PGHA_CLUSTER_TESTS=1)"))
struct MonitoringLabTests {
    @Test func deployScrapesEveryTargetAndLoadsTheRules() throws {
        try MonitoringLab.prepareExpiringCertificate()
        let deploy = try MonitoringLab.pgha(["site.yml", "-i", MonitoringLab.inventory] + ClusterLab.extraArguments)
        try #require(deploy.status == 0, "site.yml failed:\n\(deploy.tail)")
        #expect(!MonitoringLab.leaksSecret(deploy.stdout + deploy.stderr), "a secret reached the output")

        let rerun = try MonitoringLab.pgha(["site.yml", "-i", MonitoringLab.inventory, "--tags", "monitoring"] + ClusterLab.extraArguments)
        #expect(rerun.status == 0, "\(rerun.tail)")
        #expect(ClusterLab.changedCounts(rerun.stdout).values.allSatisfy { $0 == 0 }, "changed: \(rerun.changes)\n\(rerun.tail)")

        // Every target up: node_exporter 3, postgres_exporter 2, Patroni 2, etcd 3, HAProxy 2.
        let expected = ["node": 3, "postgres": 2, "patroni": 2, "etcd": 3, "haproxy": 2]
        var health: [String: [String]] = [:]
        let deadline = Date().addingTimeInterval(90)
        repeat {
            health = try MonitoringLab.targetHealth()
            if expected.allSatisfy({ health[$0.key]?.count == $0.value && health[$0.key]!.allSatisfy { $0 == "up" } }) { break }
            Thread.sleep(forTimeInterval: 3)
        } while Date() < deadline
        for (job, count) in expected {
            #expect(health[job]?.count == count && health[job]!.allSatisfy { $0 == "up" }, "\(job): \(health[job] ?? [])")
        }

        let rules = try MonitoringLab.prometheus("/api/v1/rules")
        let loaded = (rules["data"]?["groups"]?.listValue ?? []).flatMap { $0["rules"]?.listValue ?? [] }
        let alertNames = Set(loaded.filter { $0["type"]?.stringValue == "alerting" }.compactMap { $0["name"]?.stringValue })
        #expect(alertNames.isSuperset(of: MonitoringLab.alertNames), "missing: \(MonitoringLab.alertNames.subtracting(alertNames))")
        #expect(loaded.allSatisfy { $0["health"]?.stringValue != "err" }, "\(loaded.filter { $0["health"]?.stringValue == "err" })")

        let check = try MonitoringLab.ssh(MonitoringLab.monitor, "sudo promtool check config /etc/prometheus/prometheus.yml && sudo amtool check-config /etc/prometheus/alertmanager.yml")
        #expect(check.status == 0 && check.stdout.contains("SUCCESS"), "\(check.stdout)\(check.stderr)")

        // The exporter ports are open to the Prometheus host only; the exporter's role is no superuser.
        let monitorAddress = MonitoringLab.address[MonitoringLab.monitor]!
        for node in MonitoringLab.databaseNodes {
            let rules = try MonitoringLab.ssh(node, "sudo ufw status").stdout.split(separator: "\n")
            for port in ["9100", "9187", "8404"] {
                let allowed = rules.filter { $0.hasPrefix("\(port)/tcp ") }
                #expect(allowed.count == (port == "8404" ? 2 : 1) && allowed.contains { $0.contains(monitorAddress) }, "\(node) \(port): \(allowed)")
            }
        }
        let role = try MonitoringLab.ssh(MonitoringLab.databaseNodes[0], "sudo -u postgres psql -p 5442 -XAtc \"select rolsuper, pg_has_role('postgres_exporter', 'pg_monitor', 'member') from pg_roles where rolname = 'postgres_exporter'\"")
        #expect(role.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "f|t", "\(role.stdout)\(role.stderr)")

        // The backup role's first full backup and its metrics; the certificate that expires in
        // 5 days on the monitoring host fires its alert; nothing else fires on a healthy cluster.
        let backup = try MonitoringLab.query("pgbackrest_backup_last_completion_timestamp_seconds{type=\"full\"} > 0")
        #expect(backup.count == 1, "\(backup)")
        let certificate = try MonitoringLab.waitForAlert("CertificateExpiringSoon", host: MonitoringLab.monitor, firing: true, timeout: 120)
        #expect(certificate != nil, "CertificateExpiringSoon did not fire")
        let firing = try MonitoringLab.alerts().filter { $0.state == "firing" && $0.name != "CertificateExpiringSoon" }
        #expect(firing.isEmpty, "firing on a healthy cluster: \(firing)")
    }

    @Test func stoppingTheReplicasPatroniFiresTheReplicaAlertUntilItReturns() throws {
        try MonitoringLab.waitForHealthyCluster(timeout: 120)
        let replica = try MonitoringLab.replica()
        let stoppedAt = Date()
        try MonitoringLab.ssh(replica, "sudo systemctl stop patroni", require: true)
        let fired = try MonitoringLab.waitForAlert("PostgreSQLReplicaNotStreaming", host: replica, firing: true, timeout: 180)
        let seconds = fired.map { $0.timeIntervalSince(stoppedAt) }
        print(String(format: "monitoring: replica alert fired %.0f s after Patroni stopped on %@", seconds ?? -1, replica))
        #expect(seconds != nil && seconds! <= 120, "PostgreSQLReplicaNotStreaming for \(replica) fired after \(seconds.map { "\($0) s" } ?? "never")")

        // While it is down, status shows the alert too.
        let status = try MonitoringLab.status()
        #expect(status["alerts"]?.listValue?.contains {
            $0["name"]?.stringValue == "PostgreSQLReplicaNotStreaming" && $0["host"]?.stringValue == replica
        } == true, "\(JSON.encode(status["alerts"] ?? .null))")

        try MonitoringLab.ssh(replica, "sudo systemctl start patroni", require: true)
        try MonitoringLab.waitForHealthyCluster(timeout: 180)
        let cleared = try MonitoringLab.waitForAlert("PostgreSQLReplicaNotStreaming", host: replica, firing: false, timeout: 120)
        #expect(cleared != nil, "the replica alert did not clear after \(replica) came back")
    }

    @Test func pausedReplayFiresTheLagAlertAndLeavesTheLeaderServing5433() throws {
        try MonitoringLab.waitForHealthyCluster(timeout: 120)
        let leader = try MonitoringLab.leader()
        let replica = try MonitoringLab.replica()
        try MonitoringLab.sql(leader, port: 5432, "create table if not exists lag_probe (id bigint, filler text)")
        // Patroni 3.0 resumes a paused replay on PostgreSQL 14+ in every loop (it takes the pause
        // for one caused by a parameter change) unless the cluster is in maintenance mode.
        let patronictl = "sudo patronictl -c /etc/patroni/config.yml"
        try MonitoringLab.ssh(leader, "\(patronictl) pause --wait", require: true)
        defer {
            _ = try? MonitoringLab.ssh(replica, "sudo -u postgres psql -p 5442 -XAtc 'select pg_wal_replay_resume()'")
            _ = try? MonitoringLab.ssh(leader, "\(patronictl) resume --wait")
        }
        try MonitoringLab.ssh(replica, "sudo -u postgres psql -p 5442 -XAtc 'select pg_wal_replay_pause()'", require: true)

        // Write (about 10MB of WAL a round) until Patroni reports the replica beyond HAProxy's
        // limit (16MB not replayed), and no more: a bounded amount of WAL for the next tests.
        var outOfPool = false
        for _ in 0..<12 where !outOfPool {
            try MonitoringLab.sql(leader, port: 5432, "insert into lag_probe select g, repeat('x', 200) from generate_series(1, 40000) g")
            Thread.sleep(forTimeInterval: 6)  // the leader publishes its WAL position every loop_wait (5 s)
            // The REST API is https with the cluster CA (TLS on) or plain http: ask the scheme it serves.
            let code = try MonitoringLab.ssh(
                replica,
                "if [ -e /etc/pgha/tls/ca.crt ]; then curl -s -o /dev/null -w '%{http_code}' --cacert /etc/pgha/tls/ca.crt 'https://127.0.0.1:8008/replica?lag=16MB'; "
                    + "else curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:8008/replica?lag=16MB'; fi"
            ).stdout
            outOfPool = code == "503"
        }
        try #require(outOfPool, "the replica never lagged beyond 16MB")

        // HAProxy's checks (inter 2s, fall 2) take it out of 5433; the leader serves reads instead.
        var readsFromLeader: [String: Bool] = [:]
        let poolDeadline = Date().addingTimeInterval(30)
        repeat {
            for node in MonitoringLab.databaseNodes {
                readsFromLeader[node] = (try? MonitoringLab.sql(node, port: 5433, "select pg_is_in_recovery()")) == "f"
            }
            if readsFromLeader.values.allSatisfy({ $0 }) { break }
            Thread.sleep(forTimeInterval: 2)
        } while Date() < poolDeadline
        #expect(readsFromLeader.values.allSatisfy { $0 }, "5433 still reaches the lagging replica: \(readsFromLeader)")
        let view = try MonitoringLab.status()
        for node in view["haproxy"]?.listValue ?? [] {
            let state = node["servers"]?.listValue?.first { $0["proxy"]?.stringValue == "replicas" && $0["server"]?.stringValue == replica }
            #expect(state?["state"]?.stringValue == "DOWN", "HAProxy on \(node["node"]?.stringValue ?? "?"): \(JSON.encode(node))")
        }

        let fired = try MonitoringLab.waitForAlert("PostgreSQLReplicationLagHigh", host: replica, firing: true, timeout: 120)
        #expect(fired != nil, "PostgreSQLReplicationLagHigh did not fire for \(replica)")

        try MonitoringLab.ssh(replica, "sudo -u postgres psql -p 5442 -XAtc 'select pg_wal_replay_resume()'", require: true)
        var backInPool = false
        let resumeDeadline = Date().addingTimeInterval(90)
        while Date() < resumeDeadline && !backInPool {
            backInPool = MonitoringLab.databaseNodes.allSatisfy { (try? MonitoringLab.sql($0, port: 5433, "select pg_is_in_recovery()")) == "t" }
            if !backInPool { Thread.sleep(forTimeInterval: 2) }
        }
        #expect(backInPool, "the replica did not return to 5433 after catching up")
        let cleared = try MonitoringLab.waitForAlert("PostgreSQLReplicationLagHigh", host: replica, firing: false, timeout: 120)
        #expect(cleared != nil, "the lag alert did not clear")
        try MonitoringLab.ssh(leader, "\(patronictl) resume --wait", require: true)
        try MonitoringLab.sql(leader, port: 5432, "drop table lag_probe")
    }

    @Test func statusMatchesPatronictl() throws {
        try MonitoringLab.waitForHealthyCluster(timeout: 120)
        let status = try MonitoringLab.status()
        let members = try MonitoringLab.members()
        let shown = (status["members"]?.listValue ?? []).map { member in
            "\(member["name"]?.stringValue ?? "?") \(member["role"]?.stringValue ?? "?") \(member["state"]?.stringValue ?? "?") TL\(member["timeline"]?.intValue ?? -1) lag \(member["lag_mb"]?.intValue.map(String.init) ?? "-")"
        }
        #expect(shown.sorted() == members.map(\.description).sorted(), "status \(shown), patronictl \(members)")
        #expect(status["leader"]?.stringValue == (try MonitoringLab.leader()))
        #expect(status["unreachable"]?.listValue?.isEmpty == true, "\(JSON.encode(status["unreachable"] ?? .null))")

        let etcd = try MonitoringLab.ssh(MonitoringLab.monitor, "sudo sh -c '. /etc/profile.d/etcdctl.sh; etcdctl endpoint status -w simple'").stdout
        let etcdLeaderEndpoint = etcd.split(separator: "\n").first { $0.components(separatedBy: ", ")[4] == "true" }?.components(separatedBy: ", ")[0]
        let statusLeader = status["etcd"]?["members"]?.listValue?.first { $0["leader"]?.boolValue == true }
        #expect(statusLeader?["endpoint"]?.stringValue == etcdLeaderEndpoint, "\(etcd)")
        #expect(status["etcd"]?["members"]?.listValue?.count == 3)
        #expect(status["haproxy"]?.listValue?.count == 2)
        // The leader's own repository (after a failover it may have no backup yet).
        let leader = try MonitoringLab.leader()
        let info = try JSON.decode(try MonitoringLab.ssh(leader, "sudo -u postgres pgbackrest --stanza=main --output=json info", require: true).stdout)
        let lastFull = (info.listValue?.first?["backup"]?.listValue ?? []).filter { $0["type"]?.stringValue == "full" }
            .compactMap { $0["timestamp"]?["stop"]?.intValue }.max()
        #expect(status["backup"]?["node"]?.stringValue == leader, "\(JSON.encode(status["backup"] ?? .null))")
        #expect(status["backup"]?["last_full"]?.intValue == lastFull, "\(JSON.encode(status["backup"] ?? .null)), pgbackrest: \(lastFull.map(String.init) ?? "none")")
        #expect(status["backup"]?["wal_archive_failing"]?.boolValue == false, "\(JSON.encode(status["backup"] ?? .null))")
        #expect(status["alerts_from"]?.stringValue == MonitoringLab.monitor)
        #expect(status["history"]?["transactions_per_second"]?.listValue?.isEmpty == false)

        // The human view, through a pseudo-terminal so it draws the sparklines.
        let screen = try TestSupport.run(
            "/usr/bin/script", ["-qec", "\(TestSupport.executable) status -i \(MonitoringLab.inventory)", "/dev/null"],
            in: TestSupport.repositoryRoot, environment: ["NO_COLOR": "1", "TERM": "xterm"])
        #expect(screen.status == 0, "\(screen.stdout)\(screen.stderr)")
        #expect(screen.stdout.contains("Last 15 minutes") && screen.stdout.contains("transactions/s"), "\(screen.stdout)")
    }

    @Test func statusAnswersWithANodeKilledAndNamesIt() throws {
        try MonitoringLab.waitForHealthyCluster(timeout: 120)
        let victim = MonitoringLab.databaseNodes[1]
        try ClusterLab.lab(["kill", victim])
        defer { try? ClusterLab.lab(["start", victim]) }
        let started = Date()
        let output = try MonitoringLab.pgha(["status", "-i", MonitoringLab.inventory, "--output", "json"])
        let seconds = Date().timeIntervalSince(started)
        #expect(output.status == 0, "\(output.tail)")
        let status = try JSON.decode(output.stdout)
        #expect(status["unreachable"]?.listValue?.map { $0["host"]?.stringValue ?? "" } == [victim], "\(output.stdout)")
        #expect(status["members_from"]?.stringValue == MonitoringLab.databaseNodes[0], "\(output.stdout)")
        #expect(status["etcd"]?["members"]?.listValue?.count == 3, "\(output.stdout)")
        #expect(seconds < 60, "status took \(seconds) s")
        print(String(format: "monitoring: status with %@ killed answered in %.1f s", victim, seconds))
        let human = try MonitoringLab.pgha(["status", "-i", MonitoringLab.inventory])
        #expect(human.status == 0 && human.stdout.contains("UNREACHABLE \(victim)"), "\(human.tail)")

        try ClusterLab.lab(["start", victim])
        try MonitoringLab.waitForHealthyCluster(timeout: 240)
        let after = try MonitoringLab.status()
        #expect(after["unreachable"]?.listValue?.isEmpty == true, "\(JSON.encode(after["unreachable"] ?? .null))")
    }
}

/// The lab hosts of the monitoring tests and access to them.
enum MonitoringLab {
    static let environment = ProcessInfo.processInfo.environment
    static var enabled: Bool { environment["PGHA_CLUSTER_TESTS"] == "1" }
    /// Two database nodes, then the witness (which monitors).
    static let hosts = (environment["PGHA_MONITORING_HOSTS"] ?? "node13,node14,node15").split(separator: ",").map(String.init)
    static var databaseNodes: [String] { Array(hosts.prefix(2)) }
    static var monitor: String { hosts[2] }
    static let alertNames: Set<String> = [
        "PatroniNoLeader", "PatroniMultipleLeaders", "PostgreSQLReplicaNotStreaming", "PostgreSQLReplicationLagHigh",
        "PostgreSQLSynchronousStandbyMissing", "EtcdMemberDown", "EtcdNoLeader", "HAProxyBackendDown", "BackupTooOld",
        "WALArchivingFailing", "FilesystemAlmostFull", "HostDown", "CertificateExpiringSoon",
    ]
    static let certificatePath = "/etc/pgha-monitoring-test/expiring.crt"

    /// Addresses from the lab's state file.
    static let address: [String: String] = {
        let path = ClusterLab.labDirectory + "/state.json"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let state = try? JSON.decode(text) else { return [:] }
        var result: [String: String] = [:]
        for host in state["hosts"]?.listValue ?? [] {
            if let name = host["name"]?.stringValue, let address = host["address"]?.stringValue { result[name] = address }
        }
        return result
    }()

    /// The test inventory: the hosts above shaped like inventory/lab.ini, the repository's
    /// group_vars, and faster monitoring (5 s scrapes, short `for:`).
    static let inventory: String = {
        let directory = NSTemporaryDirectory() + "pgha-monitoring-lab-\(UUID().uuidString)"
        let fileManager = FileManager.default
        try? fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try? fileManager.copyItem(atPath: TestSupport.repositoryRoot + "/inventory/group_vars", toPath: directory + "/group_vars")
        func line(_ host: String) -> String { "\(host) ansible_host=\(address[host] ?? host)" }
        let ini = """
            [postgres]
            \(line(hosts[0]))
            \(line(hosts[1]))

            [witness]
            \(line(hosts[2])) monitoring_tls_certificates='["\(certificatePath)"]'

            [etcd:children]
            postgres
            witness

            \(TestSupport.labInventoryVars(stateDirectory: ClusterLab.labDirectory))
            """
        try? ini.write(toFile: directory + "/lab.ini", atomically: true, encoding: .utf8)
        let fast = """
            # Faster monitoring for the tests (the defaults are for production).
            monitoring_scrape_interval: 5s
            monitoring_evaluation_interval: 5s
            monitoring_alert_for:
              leader: 30s
              split_brain: 15s
              replica: 30s
              lag: 30s
              sync: 1m
              etcd: 30s
              haproxy: 30s
              backup: 15m
              archive: 10m
              filesystem: 5m
              host: 30s
              certificate: 15s

            """
        try? fast.write(toFile: directory + "/group_vars/all/zz-monitoring-tests.yml", atomically: true, encoding: .utf8)
        return directory + "/lab.ini"
    }()

    static let secrets: [String] = {
        let path = TestSupport.repositoryRoot + "/inventory/group_vars/all/secrets.yml"
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { return nil }
            return line[line.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: " \"'"))
        }.filter { $0.count >= 16 }
    }()

    static func leaksSecret(_ text: String) -> Bool { secrets.contains { text.contains($0) } }

    static func pgha(_ arguments: [String]) throws -> ClusterLab.Output {
        let out = try TestSupport.run(TestSupport.executable, arguments, in: TestSupport.repositoryRoot, environment: ["NO_COLOR": "1"])
        return ClusterLab.Output(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }

    /// `pgha-play status --output json`, decoded.
    static func status() throws -> Value {
        let out = try pgha(["status", "-i", inventory, "--output", "json"])
        guard out.status == 0 else { throw PGHAError(.execution, "pgha-play status failed: \(out.tail)") }
        return try JSON.decode(out.stdout)
    }

    @discardableResult
    static func ssh(_ host: String, _ command: String, stdin: String? = nil, require: Bool = false) throws -> ClusterLab.Output {
        guard let address = address[host] else { throw PGHAError(.environment, "\(host) is not in the lab (\(ClusterLab.labDirectory)/state.json)") }
        var arguments = [
            "-i", ClusterLab.labDirectory + "/id_ed25519", "-o", "UserKnownHostsFile=\(ClusterLab.labDirectory)/known_hosts",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "deploy@\(address)", command,
        ]
        if stdin != nil { arguments.insert("-T", at: 0) }
        let out = try TestSupport.run("/usr/bin/ssh", arguments, stdin: stdin)
        if require && out.status != 0 { throw PGHAError(.execution, "\(host): \(command): \(out.stderr)\(out.stdout)") }
        return ClusterLab.Output(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }

    /// One value from psql on `node` through HAProxy's port on that node, as postgres (the
    /// password goes on stdin, never on a command line).
    @discardableResult
    static func sql(_ node: String, port: Int, _ query: String) throws -> String {
        let script = """
            export PGPASSWORD=\(shellQuote(ClusterLab.superuserPassword))
            exec psql "host=\(address[node] ?? node) port=\(port) user=postgres dbname=postgres connect_timeout=5" -XAtc \(shellQuote(query))
            """
        let out = try ssh(node, "bash -s", stdin: script)
        if out.status != 0 { throw PGHAError(.execution, "psql on \(node):\(port): \(out.stderr)") }
        return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A Prometheus API answer, asked on the monitoring host.
    static func prometheus(_ path: String, query: [String: String] = [:]) throws -> Value {
        var command = "curl -sS --max-time 10 -G 'http://127.0.0.1:9090\(path)'"
        for (key, value) in query { command += " --data-urlencode \(shellQuote("\(key)=\(value)"))" }
        let out = try ssh(monitor, command, require: true)
        return try JSON.decode(out.stdout)
    }

    static func query(_ promql: String) throws -> [Value] {
        try prometheus("/api/v1/query", query: ["query": promql])["data"]?["result"]?.listValue ?? []
    }

    /// The health of every active target, by job.
    static func targetHealth() throws -> [String: [String]] {
        var health: [String: [String]] = [:]
        for target in try prometheus("/api/v1/targets")["data"]?["activeTargets"]?.listValue ?? [] {
            health[target["labels"]?["job"]?.stringValue ?? "?", default: []].append(target["health"]?.stringValue ?? "?")
        }
        return health
    }

    struct Alert: CustomStringConvertible {
        var name: String
        var host: String?
        var state: String
        var description: String { "\(name)[\(host ?? "")] \(state)" }
    }

    static func alerts() throws -> [Alert] {
        (try prometheus("/api/v1/alerts")["data"]?["alerts"]?.listValue ?? []).map { alert in
            Alert(name: alert["labels"]?["alertname"]?.stringValue ?? "?", host: alert["labels"]?["host"]?.stringValue,
                  state: alert["state"]?.stringValue ?? "?")
        }
    }

    /// Waits until the alert is firing for `host` (or, with `firing: false`, until it is gone);
    /// returns when, or nil at the timeout.
    static func waitForAlert(_ name: String, host: String, firing: Bool, timeout: Double) throws -> Date? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            let present = try alerts().contains { $0.name == name && $0.host == host && $0.state == "firing" }
            if present == firing { return Date() }
            Thread.sleep(forTimeInterval: 2)
        } while Date() < deadline
        return nil
    }

    /// `patronictl list` on whichever database node answers.
    static func members() throws -> [ClusterLab.Member] {
        for node in databaseNodes {
            guard let out = try? ssh(node, "sudo patronictl -c /etc/patroni/config.yml list -f json"), out.status == 0,
                case .list(let rows) = try JSON.decode(out.stdout)
            else { continue }
            return rows.map { row in
                ClusterLab.Member(
                    name: row["Member"]?.stringValue ?? "?", role: row["Role"]?.stringValue ?? "?",
                    state: row["State"]?.stringValue ?? "?", timeline: row["TL"]?.intValue ?? -1, lag: row["Lag in MB"]?.intValue)
            }
        }
        throw PGHAError(.execution, "patronictl answered on none of \(databaseNodes)")
    }

    static func leader() throws -> String {
        guard let leader = try members().first(where: { $0.role == "Leader" }) else { throw PGHAError(.execution, "no leader") }
        return leader.name
    }

    static func replica() throws -> String {
        let leader = try leader()
        return databaseNodes.first { $0 != leader }!
    }

    /// One leader and a streaming synchronous standby with lag 0 on one timeline.
    static func waitForHealthyCluster(timeout: Double) throws {
        let started = Date()
        let deadline = started.addingTimeInterval(timeout)
        var last: [ClusterLab.Member] = []
        repeat {
            last = (try? members()) ?? []
            // No Patroni at all (the deploy failed): say so now rather than after the timeout.
            if last.isEmpty && Date().timeIntervalSince(started) > 30 {
                throw PGHAError(.execution, "no Patroni cluster answers on \(databaseNodes.joined(separator: ", "))")
            }
            if last.count == 2, last.filter({ $0.role == "Leader" }).count == 1, last.contains(where: { $0.role == "Sync Standby" }),
                Set(last.map(\.timeline)).count == 1, last.allSatisfy({ $0.state == "running" || $0.state == "streaming" }),
                last.allSatisfy({ $0.role == "Leader" || $0.lag == 0 })
            {
                return
            }
            Thread.sleep(forTimeInterval: 2)
        } while Date() < deadline
        throw PGHAError(.execution, "the cluster did not become healthy in \(Int(timeout)) s: \(last)")
    }

    /// A certificate that expires in 5 days on the monitoring host, listed in the test inventory
    /// (made here: a fresh host has no openssl before the deploy).
    static func prepareExpiringCertificate() throws {
        let directory = NSTemporaryDirectory() + "pgha-monitoring-cert-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let made = try TestSupport.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "5",
            "-subj", "/CN=\(monitor)", "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem",
        ])
        guard made.status == 0 else { throw PGHAError(.environment, "openssl req failed: \(made.stderr)") }
        let pem = try String(contentsOfFile: directory + "/cert.pem", encoding: .utf8)
        let target = shellQuote(certificatePath)
        let folder = shellQuote((certificatePath as NSString).deletingLastPathComponent)
        try ssh(monitor, "sudo mkdir -p \(folder) && sudo tee \(target) >/dev/null", stdin: pem, require: true)
    }
}
