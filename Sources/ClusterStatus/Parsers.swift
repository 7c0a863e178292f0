import Foundation
import OrderedCollections
import PGHACore

/// Turns what the cluster's own tools print into the report's values. Each parser takes the text a
/// command wrote, so it can be checked against output captured from a real cluster.
public enum StatusParsers {
    /// `patronictl list -f json`: one object per member.
    public static func members(patronictlJSON text: String) throws -> [StatusReport.Member] {
        guard case .list(let rows) = try JSON.decode(text) else {
            throw PGHAError(.execution, "patronictl list -f json did not print a list")
        }
        return rows.map { row in
            StatusReport.Member(
                name: row["Member"]?.stringValue ?? "?", host: row["Host"]?.stringValue ?? "",
                role: row["Role"]?.stringValue ?? "?", state: row["State"]?.stringValue ?? "?",
                timeline: row["TL"]?.intValue, lagMB: lagMB(row["Lag in MB"]),
                pendingRestart: (row["Pending restart"]?.stringValue ?? "").contains("*"))
        }
    }

    private static func lagMB(_ value: Value?) -> Int? {
        switch value {
        case .int(let mb): return mb
        case .double(let mb): return Int(mb.rounded())
        default: return nil  // the leader, or "unknown"
        }
    }

    /// `etcdctl member list -w simple` and `etcdctl endpoint status -w simple` (plus the health
    /// lines of `endpoint health`, stdout and stderr together) into one list of members.
    public static func etcdMembers(memberList: String, endpointStatus: String, endpointHealth: String) -> [StatusReport.EtcdMember] {
        // endpoint status: endpoint, ID, version, db size, is leader, is learner, raft term, raft index, applied index, errors
        var statusByEndpoint: [String: [String]] = [:]
        for line in endpointStatus.split(separator: "\n") {
            let fields = line.components(separatedBy: ", ")
            if fields.count >= 7, fields[0].contains("://") { statusByEndpoint[fields[0]] = fields }
        }
        var health: [String: Bool] = [:]
        for line in endpointHealth.split(separator: "\n") {
            guard let endpoint = line.split(separator: " ").first.map(String.init), endpoint.contains("://") else { continue }
            if line.contains(" is healthy") { health[endpoint] = true }
            if line.contains(" is unhealthy") { health[endpoint] = false }
        }
        var members: [StatusReport.EtcdMember] = []
        // member list: ID, status, name, peer URLs, client URLs, is learner
        for line in memberList.split(separator: "\n") {
            let fields = line.components(separatedBy: ", ")
            guard fields.count >= 5 else { continue }
            let endpoint = fields[4].components(separatedBy: ",").first ?? fields[4]
            let status = statusByEndpoint[endpoint]
            members.append(StatusReport.EtcdMember(
                id: fields[0], name: fields[2].isEmpty ? "(\(fields[1]))" : fields[2], endpoint: endpoint,
                healthy: health[endpoint] ?? (status == nil ? false : nil), isLeader: status?[4] == "true",
                raftTerm: status.flatMap { Int($0[6]) }, version: status?[2]))
        }
        return members.sorted { $0.name < $1.name }
    }

    /// One sample of the Prometheus text exposition format.
    public struct Sample: Sendable, Equatable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    /// The Prometheus text exposition format (what exporters serve), samples only.
    public static func samples(prometheusText text: String) -> [Sample] {
        var result: [Sample] = []
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            var name = ""
            var index = line.startIndex
            while index < line.endIndex, line[index] != "{", line[index] != " " {
                name.append(line[index])
                index = line.index(after: index)
            }
            // Some exporters (Patroni 3.0) write a space before the label set.
            while index < line.endIndex, line[index] == " " { index = line.index(after: index) }
            var labels: [String: String] = [:]
            if index < line.endIndex, line[index] == "{" {
                guard let (parsed, end) = parseLabels(line, from: line.index(after: index)) else { continue }
                labels = parsed
                index = end
            }
            let rest = line[index...].split(separator: " ")
            guard let valueText = rest.first, let value = parseValue(String(valueText)) else { continue }
            result.append(Sample(name: name, labels: labels, value: value))
        }
        return result
    }

    private static func parseValue(_ text: String) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return Double(text)
        }
    }

    /// `name="value",...}` from `start`; returns the labels and the index after the closing brace.
    private static func parseLabels(_ line: String, from start: String.Index) -> ([String: String], String.Index)? {
        var labels: [String: String] = [:]
        var index = start
        func skipSpacesAndCommas() {
            while index < line.endIndex, line[index] == " " || line[index] == "," { index = line.index(after: index) }
        }
        while true {
            skipSpacesAndCommas()
            guard index < line.endIndex else { return nil }
            if line[index] == "}" { return (labels, line.index(after: index)) }
            var key = ""
            while index < line.endIndex, line[index] != "=" {
                key.append(line[index])
                index = line.index(after: index)
            }
            guard index < line.endIndex else { return nil }
            index = line.index(after: index)
            guard index < line.endIndex, line[index] == "\"" else { return nil }
            index = line.index(after: index)
            var value = ""
            while index < line.endIndex, line[index] != "\"" {
                if line[index] == "\\" {
                    index = line.index(after: index)
                    guard index < line.endIndex else { return nil }
                    switch line[index] {
                    case "n": value.append("\n")
                    default: value.append(line[index])
                    }
                } else {
                    value.append(line[index])
                }
                index = line.index(after: index)
            }
            guard index < line.endIndex else { return nil }
            index = line.index(after: index)
            labels[key.trimmingCharacters(in: .whitespaces)] = value
        }
    }

    /// HAProxy's view of its servers from its Prometheus endpoint: each server's current state
    /// (the `haproxy_server_status` series whose value is 1), in the order HAProxy lists them.
    public static func haproxyServers(metrics text: String, proxies: Set<String>) -> [StatusReport.HAProxyServer] {
        var servers: [StatusReport.HAProxyServer] = []
        for sample in samples(prometheusText: text) where sample.name == "haproxy_server_status" && sample.value == 1 {
            guard let proxy = sample.labels["proxy"], proxies.contains(proxy), let server = sample.labels["server"] else { continue }
            servers.append(StatusReport.HAProxyServer(proxy: proxy, server: server, state: sample.labels["state"] ?? "?"))
        }
        return servers
    }

    /// The backup role's metrics (`pgha-backup-metrics --stdout`) of the node they came from; nil
    /// when that node is not the leader.
    public static func backup(metrics text: String, node: String) -> StatusReport.Backup? {
        let all = samples(prometheusText: text)
        guard all.contains(where: { $0.name == "pgha_backup_node_is_leader" && $0.value == 1 }) else { return nil }
        func value(_ name: String, type: String? = nil) -> Double? {
            all.first { $0.name == name && (type == nil || $0.labels["type"] == type) }?.value
        }
        func timestamp(_ name: String, type: String? = nil) -> Double? {
            value(name, type: type).flatMap { $0 > 0 ? $0 : nil }
        }
        return StatusReport.Backup(
            node: node,
            lastFull: timestamp("pgbackrest_backup_last_completion_timestamp_seconds", type: "full"),
            lastDiff: timestamp("pgbackrest_backup_last_completion_timestamp_seconds", type: "diff"),
            lastIncremental: timestamp("pgbackrest_backup_last_completion_timestamp_seconds", type: "incr"),
            walArchiveFailing: value("pgbackrest_wal_archive_failing").map { $0 == 1 },
            walLastArchived: timestamp("pgbackrest_wal_last_archived_timestamp_seconds"),
            walFailedCount: value("pgbackrest_wal_archive_failed_total").map { Int($0) })
    }

    /// Prometheus' `/api/v1/alerts`: firing alerts first, then pending, each group by name.
    public static func alerts(prometheusAPI text: String) throws -> [StatusReport.Alert] {
        let response = try JSON.decode(text)
        guard response["status"]?.stringValue == "success", let list = response["data"]?["alerts"]?.listValue else {
            throw PGHAError(.execution, "Prometheus /api/v1/alerts: \(response["error"]?.stringValue ?? "unexpected answer")")
        }
        let alerts = list.map { alert in
            StatusReport.Alert(
                name: alert["labels"]?["alertname"]?.stringValue ?? "?", state: alert["state"]?.stringValue ?? "?",
                severity: alert["labels"]?["severity"]?.stringValue ?? "", host: alert["labels"]?["host"]?.stringValue,
                summary: alert["annotations"]?["summary"]?.stringValue ?? "", activeSince: alert["activeAt"]?.stringValue)
        }
        return alerts.sorted { ($0.state != "firing" ? 1 : 0, $0.name, $0.host ?? "") < ($1.state != "firing" ? 1 : 0, $1.name, $1.host ?? "") }
    }

    /// Prometheus' `/api/v1/query_range` (a matrix): one series per result, labelled by
    /// `labelName` (or "value" when the series has no such label).
    public static func series(prometheusAPI text: String, labelName: String) throws -> [StatusReport.Series] {
        let response = try JSON.decode(text)
        guard response["status"]?.stringValue == "success", let results = response["data"]?["result"]?.listValue else {
            throw PGHAError(.execution, "Prometheus query_range: \(response["error"]?.stringValue ?? "unexpected answer")")
        }
        return results.map { result in
            let points: [(time: Double, value: Double)] = (result["values"]?.listValue ?? []).compactMap { pair in
                guard let items = pair.listValue, items.count == 2, let value = Double(items[1].stringValue ?? "") else { return nil }
                let time: Double
                switch items[0] {
                case .int(let seconds): time = Double(seconds)
                case .double(let seconds): time = seconds
                default: return nil
                }
                return (time, value)
            }
            return StatusReport.Series(label: result["metric"]?[labelName]?.stringValue ?? "value", points: points)
        }
        .sorted { $0.label < $1.label }
    }
}
