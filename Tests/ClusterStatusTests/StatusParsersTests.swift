import Foundation
import PGHACore
import Testing

@testable import ClusterStatus

/// The parsers against output captured from the lab cluster (node13 sync standby, node14 leader,
/// node15 witness); `MonitoringLabTests` runs them against the live cluster.
struct StatusParsersTests {
    static func fixture(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil) else {
            throw PGHAError(.io, "fixture \(name) missing")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test func patronictlMembers() throws {
        let members = try StatusParsers.members(patronictlJSON: Self.fixture("patronictl-list.json"))
        #expect(members.map(\.name) == ["node13", "node14"])
        #expect(members[0].role == "Sync Standby" && members[0].state == "running" && members[0].lagMB == 0)
        #expect(members[1].role == "Leader" && members[1].lagMB == nil && members[1].timeline == 1)
        #expect(members[1].host == "10.77.0.25:5442")
    }

    @Test func patronictlRejectsSomethingElse() {
        #expect(throws: PGHAError.self) { try StatusParsers.members(patronictlJSON: "{\"not\": \"a list\"}") }
    }

    @Test func etcdMembersWithLeaderAndHealth() throws {
        let members = StatusParsers.etcdMembers(
            memberList: try Self.fixture("etcd-member-list.txt"), endpointStatus: try Self.fixture("etcd-endpoint-status.txt"),
            endpointHealth: try Self.fixture("etcd-endpoint-health.txt"))
        #expect(members.map(\.name) == ["node13", "node14", "node15"])
        #expect(members.filter(\.isLeader).map(\.name) == ["node13"])
        #expect(members.allSatisfy { $0.healthy == true && $0.version == "3.4.23" && $0.raftTerm == 2 })
        #expect(members[2].endpoint == "http://10.77.0.26:2379")
    }

    /// A member whose endpoint did not answer: no status line, an unhealthy health line.
    @Test func etcdMemberThatDoesNotAnswer() throws {
        let status = try Self.fixture("etcd-endpoint-status.txt").split(separator: "\n").filter { !$0.contains("10.77.0.25") }
            .joined(separator: "\n")
        let health = "http://10.77.0.25:2379 is unhealthy: failed to commit proposal: context deadline exceeded\n"
            + "http://10.77.0.24:2379 is healthy: successfully committed proposal: took = 2ms\n"
        let members = StatusParsers.etcdMembers(
            memberList: try Self.fixture("etcd-member-list.txt"), endpointStatus: status, endpointHealth: health)
        let node14 = try #require(members.first { $0.name == "node14" })
        #expect(node14.healthy == false && !node14.isLeader && node14.version == nil)
        // No health line but a status line: healthy is unknown, not false.
        #expect(members.first { $0.name == "node15" }?.healthy == nil)
    }

    @Test func prometheusTextFormat() throws {
        let samples = StatusParsers.samples(prometheusText: try Self.fixture("patroni-metrics.txt"))
        // Patroni 3.0 writes "patroni_postgres_server_version {scope=...}" with a space.
        #expect(samples.first { $0.name == "patroni_postgres_server_version" }?.value == 150020)
        #expect(samples.first { $0.name == "patroni_sync_standby" }?.labels == ["scope": "postgres"])
        let tricky = StatusParsers.samples(prometheusText: #"m{a="x,\"y\"}",b="2"} 1.5e3 1700000000"# + "\nbad{a=\"1\" 2\n")
        #expect(tricky == [StatusParsers.Sample(name: "m", labels: ["a": #"x,"y"}"#, "b": "2"], value: 1500)])
    }

    @Test func haproxyServerStates() throws {
        let servers = StatusParsers.haproxyServers(metrics: try Self.fixture("haproxy-metrics.txt"), proxies: ["primary", "replicas"])
        #expect(servers.map { "\($0.proxy)/\($0.server) \($0.state)" } == [
            "primary/node13 DOWN", "primary/node14 UP",
            "replicas/node13 UP", "replicas/node14 DOWN", "replicas/node13-leader DOWN", "replicas/node14-leader UP",
        ])
    }

    @Test func backupFromTheLeaderOnly() throws {
        let backup = try #require(StatusParsers.backup(metrics: try Self.fixture("backup-metrics-leader.txt"), node: "node14"))
        #expect(backup.node == "node14")
        #expect(backup.lastFull == 1_796_634_382 && backup.lastDiff == nil && backup.lastBackup == 1_796_634_382)
        #expect(backup.walArchiveFailing == false && backup.walFailedCount == 1)
        #expect(StatusParsers.backup(metrics: try Self.fixture("backup-metrics-replica.txt"), node: "node13") == nil)
    }

    @Test func prometheusRanges() throws {
        let lag = try StatusParsers.series(prometheusAPI: try Self.fixture("prometheus-lag-range.json"), labelName: "host")
        #expect(lag.map(\.label) == ["node13"])
        #expect(lag[0].points.count >= 10 && lag[0].points.allSatisfy { $0.value == 0 })
        let tps = try StatusParsers.series(prometheusAPI: try Self.fixture("prometheus-tps-range.json"), labelName: "host")
        #expect(tps.count == 1 && tps[0].label == "value" && tps[0].points.allSatisfy { $0.value > 0 })
        #expect(throws: PGHAError.self) {
            try StatusParsers.series(prometheusAPI: #"{"status":"error","error":"bad query"}"#, labelName: "host")
        }
    }

    @Test func prometheusAlertsFiringFirst() throws {
        let text = """
            {"status":"success","data":{"alerts":[
            {"labels":{"alertname":"PostgreSQLReplicationLagHigh","host":"node13","severity":"warning"},"annotations":{"summary":"lag"},"state":"pending","activeAt":"2026-12-07T09:30:00Z","value":"1e+08"},
            {"labels":{"alertname":"PostgreSQLReplicaNotStreaming","host":"node13","severity":"critical"},"annotations":{"summary":"node13 is not streaming from the leader."},"state":"firing","activeAt":"2026-12-07T09:29:00Z","value":"1e+00"}]}}
            """
        let alerts = try StatusParsers.alerts(prometheusAPI: text)
        #expect(alerts.map(\.name) == ["PostgreSQLReplicaNotStreaming", "PostgreSQLReplicationLagHigh"])
        #expect(alerts[0].state == "firing" && alerts[0].host == "node13" && alerts[0].severity == "critical")
    }
}

struct StatusScreenTests {
    static func report() throws -> StatusReport {
        var report = StatusReport(cluster: "postgres", collectedAt: Date(timeIntervalSince1970: 1_796_635_000))
        report.members = try StatusParsers.members(patronictlJSON: StatusParsersTests.fixture("patronictl-list.json"))
        report.membersSource = "node13"
        report.unreachable = ["node14": "connect to 10.77.0.25:22 timed out"]
        report.backup = StatusParsers.backup(metrics: try StatusParsersTests.fixture("backup-metrics-leader.txt"), node: "node14")
        report.replicationLag = [StatusReport.Series(label: "node13", points: [(0, 0), (30, 1_048_576), (60, 16_777_216)])]
        report.alertsSource = "node15"
        return report
    }

    @Test func sparklineScalesFromZeroToTheMaximum() {
        #expect(StatusScreen.sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█")
        #expect(StatusScreen.sparkline([5, 5, 5]) == "███")
        #expect(StatusScreen.sparkline([0, 0]) == "▁▁")
        #expect(StatusScreen.sparkline([]) == "")
    }

    @Test func screenNamesTheUnreachableHostAndShowsWhatItHas() throws {
        let text = StatusScreen(sparklines: true, colors: false).render(try Self.report())
        #expect(text.contains("UNREACHABLE node14: connect to 10.77.0.25:22 timed out"))
        #expect(text.contains("node13  10.77.0.24:5442  Sync Standby  running  1   0"), "\(text)")
        #expect(text.contains("last full  2026-12-07 09:06:22 (10m ago)"), "\(text)")
        #expect(text.contains("lag node13       ▁▁█  now 16.0 MiB, max 16.0 MiB"), "\(text)")
        #expect(text.contains("none firing"))
        let plain = StatusScreen(sparklines: false, colors: false).render(try Self.report())
        #expect(!plain.contains("Last 15 minutes"))
    }

    @Test func jsonHasStableKeys() throws {
        let json = try JSON.decode(JSON.encode(try Self.report().jsonValue))
        #expect(json["cluster"]?.stringValue == "postgres")
        #expect(json["leader"]?.stringValue == "node14")
        #expect(json["unreachable"]?.listValue?.first?["host"]?.stringValue == "node14")
        #expect(json["members"]?.listValue?.map { $0["role"]?.stringValue ?? "" } == ["Sync Standby", "Leader"])
        #expect(json["backup"]?["last_backup_age_seconds"]?.intValue == 618)
        #expect(json["history"]?["replication_lag_bytes"]?["node13"]?.listValue?.count == 3)
    }
}
