import Engine
import Foundation
import OrderedCollections
import PGHACore
import Transport

/// Settings of one status look.
public struct StatusOptions: Sendable {
    /// Seconds to wait for a host's SSH connection: a host that is down is named, not waited for.
    public var connectTimeout: Double = 5
    /// Seconds any one command may take.
    public var commandTimeout: Double = 20
    /// How far back the sparklines go, and their step.
    public var historySeconds: Int = 15 * 60
    public var historyStep: Int = 30
    /// How commands that need root run (sudo; a password only if the operator gave one).
    public var become = Become()

    public init() {}
}

/// Collects a `StatusReport` over SSH, each source from the first host that can give it: Patroni's
/// members (patronictl), etcd (etcdctl), HAProxy on every database node, the leader's backups,
/// and Prometheus' alerts and history (curl on a monitoring host). Connections are kept between
/// looks (`--watch`); a host that cannot be reached is named and skipped.
public actor StatusCollector {
    let hosts: InventoryHosts
    public let layout: ClusterLayout
    let options: StatusOptions
    private var connections: [String: any Connection] = [:]

    public init(hosts: InventoryHosts, options: StatusOptions = StatusOptions()) throws {
        self.hosts = hosts
        self.layout = try ClusterLayout(hosts: hosts)
        self.options = options
    }

    /// One look at the cluster.
    public func collect(now: Date = Date()) async -> StatusReport {
        var report = StatusReport(cluster: layout.cluster, collectedAt: now)
        let unreachable = await connectAll()
        report.unreachable = unreachable

        // The sources are asked at once; only the backup waits for the members (it asks the leader).
        async let etcd = collectEtcd()
        async let haproxy = collectHAProxy()
        async let prometheus = collectPrometheus(now: now)
        await collectMembers(into: &report)
        let backupResult = await collectBackup(leader: report.leader)
        let (etcdResult, haproxyViews, prometheusResult) = await (etcd, haproxy, prometheus)

        switch etcdResult {
        case .success(let (source, members)):
            report.etcdSource = source
            report.etcdMembers = members
        case .failure(let error): report.problems["etcd"] = error.message
        }
        report.haproxy = haproxyViews
        switch backupResult {
        case .success(let backup): report.backup = backup
        case .failure(let error): report.problems["backup"] = error.message
        }
        switch prometheusResult {
        case .success(let answer):
            report.alertsSource = answer.source
            report.alerts = answer.alerts
            report.replicationLag = answer.lag
            report.transactionsPerSecond = answer.tps
            if let problem = answer.problem { report.problems["prometheus"] = problem }
        case .failure(let error): report.problems["prometheus"] = error.message
        }
        // Hosts that went away while being asked.
        for (host, error) in lost where report.unreachable[host] == nil { report.unreachable[host] = error }
        lost = [:]
        return report
    }

    /// Closes every connection.
    public func close() async {
        for connection in connections.values { await connection.close() }
        connections = [:]
    }

    // MARK: - Connections

    private var lost: OrderedDictionary<String, String> = [:]

    /// Opens the connections that are not open yet, all at once; returns the hosts that failed.
    private func connectAll() async -> OrderedDictionary<String, String> {
        let missing = layout.allHosts.filter { connections[$0] == nil }
        let hosts = self.hosts
        let timeout = options.connectTimeout
        var failures: [String: String] = [:]
        await withTaskGroup(of: (String, Result<any Connection, PGHAError>).self) { group in
            for host in missing {
                group.addTask {
                    do {
                        return (host, .success(try await hosts.connect(host, connectTimeout: timeout)))
                    } catch let error as PGHAError {
                        return (host, .failure(error))
                    } catch {
                        return (host, .failure(PGHAError(.unreachable, "\(error)", host: host)))
                    }
                }
            }
            for await (host, result) in group {
                switch result {
                case .success(let connection): connections[host] = connection
                case .failure(let error): failures[host] = error.message
                }
            }
        }
        var ordered = OrderedDictionary<String, String>()
        for host in layout.allHosts { if let failure = failures[host] { ordered[host] = failure } }
        return ordered
    }

    private struct CommandFailure: Error {
        var message: String
    }

    /// Runs `command` on `host`; a host that stops answering is dropped and remembered as lost.
    private func run(_ command: String, on host: String, become: Bool = false) async throws(CommandFailure) -> String {
        guard let connection = connections[host] else { throw CommandFailure(message: "\(host) is not reachable") }
        let request = CommandRequest(command, become: become ? options.become : nil, timeout: options.commandTimeout)
        let result: CommandResult
        do {
            result = try await connection.run(request)
        } catch {
            connections[host] = nil
            let message = (error as? PGHAError)?.message ?? "\(error)"
            lost[host] = message
            await connection.close()
            throw CommandFailure(message: "\(host): \(message)")
        }
        guard result.succeeded else {
            let detail = (result.stderrText.isEmpty ? result.stdoutText : result.stderrText)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw CommandFailure(message: "\(host): exit \(result.exitStatus): \(detail.suffix(300))")
        }
        return result.stdoutText
    }

    /// Tries `hosts` in order (reachable ones only) until `body` succeeds.
    private func firstAnswer<T>(
        from candidates: [String], _ body: (String) async throws(CommandFailure) -> T
    ) async -> Result<(String, T), CommandFailure> {
        var errors: [String] = []
        for host in candidates where connections[host] != nil {
            do {
                return .success((host, try await body(host)))
            } catch {
                errors.append(error.message)
            }
        }
        return .failure(CommandFailure(message: errors.isEmpty ? "no host reachable among \(candidates.joined(separator: ", "))" : errors.joined(separator: "; ")))
    }

    // MARK: - Sources

    private func collectMembers(into report: inout StatusReport) async {
        let command = "patronictl -c \(shellQuote(layout.patroniConfigFile)) list -f json"
        let answer = await firstAnswer(from: layout.databaseNodes) { (host) throws(CommandFailure) in
            let text = try await run(command, on: host, become: true)
            do { return try StatusParsers.members(patronictlJSON: text) } catch {
                throw CommandFailure(message: "\(host): \((error as? PGHAError)?.message ?? "\(error)")")
            }
        }
        switch answer {
        case .success(let (host, members)):
            report.membersSource = host
            report.members = members
        case .failure(let error): report.problems["members"] = error.message
        }
    }

    private static let separator = "@@pgha-status@@"

    private func collectEtcd() async -> Result<(String, [StatusReport.EtcdMember]), CommandFailure> {
        // The etcd role's profile script names every member's endpoint (and, with TLS, the client
        // certificates), so etcdctl here talks to the cluster as an operator's shell would.
        let script = """
            [ -r /etc/profile.d/etcdctl.sh ] && . /etc/profile.d/etcdctl.sh; export ETCDCTL_API=3
            etcdctl --command-timeout=3s member list -w simple; echo \(Self.separator)
            etcdctl --command-timeout=3s endpoint status -w simple 2>/dev/null; echo \(Self.separator)
            etcdctl --command-timeout=3s endpoint health -w simple 2>&1; true
            """
        let command = "sh -c \(shellQuote(script))"
        return await firstAnswer(from: layout.etcdMembers) { (host) throws(CommandFailure) in
            let parts = try await run(command, on: host, become: true).components(separatedBy: Self.separator + "\n")
            guard parts.count == 3 else { throw CommandFailure(message: "\(host): etcdctl gave no member list") }
            return StatusParsers.etcdMembers(memberList: parts[0], endpointStatus: parts[1], endpointHealth: parts[2])
        }
    }

    private func collectHAProxy() async -> [StatusReport.HAProxyView] {
        let endpoint = layout.haproxy
        let proxies = Set(layout.haproxyProxies)
        var views: [StatusReport.HAProxyView] = []
        for node in layout.databaseNodes {
            guard connections[node] != nil else { continue }
            let url = "\(endpoint.scheme)://\(layout.addresses[node] ?? node):\(endpoint.port)/metrics"
            let command = (["curl", "-sS", "--max-time", "5"] + endpoint.curlOptions + [url]).map(shellQuote).joined(separator: " ")
            do {
                let text = try await run(command, on: node, become: !endpoint.curlOptions.isEmpty)
                views.append(StatusReport.HAProxyView(node: node, servers: StatusParsers.haproxyServers(metrics: text, proxies: proxies)))
            } catch {
                views.append(StatusReport.HAProxyView(node: node, servers: [], error: error.message))
            }
        }
        return views
    }

    private func collectBackup(leader: String?) async -> Result<StatusReport.Backup?, CommandFailure> {
        // The leader first (its repository is the one that counts), then any node that says it leads.
        let candidates = (leader.map { [$0] } ?? []) + layout.databaseNodes.filter { $0 != leader }
        var errors: [String] = []
        for node in candidates where connections[node] != nil {
            do {
                let text = try await run("/usr/local/sbin/pgha-backup-metrics --stdout", on: node, become: true)
                if let backup = StatusParsers.backup(metrics: text, node: node) { return .success(backup) }
            } catch {
                errors.append(error.message)
            }
        }
        return errors.isEmpty ? .success(nil) : .failure(CommandFailure(message: errors.joined(separator: "; ")))
    }

    struct PrometheusAnswer: Sendable {
        var source: String
        var alerts: [StatusReport.Alert]
        var lag: [StatusReport.Series]
        var tps: StatusReport.Series?
        var problem: String?
    }

    private func collectPrometheus(now: Date) async -> Result<PrometheusAnswer, CommandFailure> {
        let end = Int(now.timeIntervalSince1970)
        let start = end - options.historySeconds
        let base = "http://127.0.0.1:\(layout.prometheusPort)/api/v1"
        func range(_ query: String) -> String {
            (["curl", "-sS", "--max-time", "5", "-G", "\(base)/query_range", "--data-urlencode", "query=\(query)",
              "--data-urlencode", "start=\(start)", "--data-urlencode", "end=\(end)",
              "--data-urlencode", "step=\(options.historyStep)"]).map(shellQuote).joined(separator: " ")
        }
        // One round trip: the alerts, then the two histories the sparklines draw.
        let command = [
            "curl -sS --max-time 5 \(shellQuote(base + "/alerts"))", "echo", "echo \(Self.separator)",
            range("pgha:replication_lag_bytes"), "echo", "echo \(Self.separator)",
            range("pgha:transactions:rate1m"),
        ].joined(separator: "; ")
        let answer = await firstAnswer(from: layout.monitoringHosts) { (host) throws(CommandFailure) in
            try await run(command, on: host).components(separatedBy: "\n" + Self.separator + "\n")
        }
        switch answer {
        case .failure(let error): return .failure(error)
        case .success(let (host, parts)):
            guard parts.count == 3 else { return .failure(CommandFailure(message: "\(host): Prometheus gave an incomplete answer")) }
            var result = PrometheusAnswer(source: host, alerts: [], lag: [], tps: nil)
            do {
                result.alerts = try StatusParsers.alerts(prometheusAPI: parts[0])
                result.lag = try StatusParsers.series(prometheusAPI: parts[1], labelName: "host")
                result.tps = try StatusParsers.series(prometheusAPI: parts[2], labelName: "host").first
            } catch {
                result.problem = "\(host): \((error as? PGHAError)?.message ?? "\(error)")"
            }
            return .success(result)
        }
    }
}
