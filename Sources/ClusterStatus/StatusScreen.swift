import Foundation
import PGHACore

/// The one-screen human view of a `StatusReport`.
public struct StatusScreen: Sendable {
    /// Sparklines of the last minutes (only in a terminal: they mean nothing in a log file).
    public var sparklines: Bool
    public var colors: Bool

    public init(sparklines: Bool, colors: Bool) {
        self.sparklines = sparklines
        self.colors = colors
    }

    public func render(_ report: StatusReport) -> String {
        var lines: [String] = []
        let now = report.collectedAt.timeIntervalSince1970
        lines.append(bold("pgha-play status") + " cluster \(report.cluster), \(Self.clock(now)) UTC")
        if !report.unreachable.isEmpty {
            for (host, error) in report.unreachable { lines.append(red("UNREACHABLE \(host)") + ": \(error)") }
        }

        lines.append("")
        lines.append(bold("Members") + (report.membersSource.map { " (patronictl on \($0))" } ?? ""))
        if report.members.isEmpty {
            lines.append("  " + (report.problems["members"] ?? "none"))
        } else {
            var rows = [["MEMBER", "HOST", "ROLE", "STATE", "TL", "LAG MB"]]
            for member in report.members {
                rows.append([
                    member.name, member.host, member.role, member.state + (member.pendingRestart ? " (pending restart)" : ""),
                    member.timeline.map(String.init) ?? "", member.lagMB.map(String.init) ?? "",
                ])
            }
            lines += Self.table(rows)
        }

        lines.append("")
        lines.append(bold("etcd") + (report.etcdSource.map { " (etcdctl on \($0))" } ?? "")
            + (report.etcdLeader.map { ", leader \($0)" } ?? (report.etcdMembers.isEmpty ? "" : red(", no leader"))))
        if report.etcdMembers.isEmpty {
            lines.append("  " + (report.problems["etcd"] ?? "none"))
        } else {
            var rows = [["MEMBER", "ENDPOINT", "HEALTH", "LEADER", "TERM", "VERSION"]]
            for member in report.etcdMembers {
                let health = member.healthy.map { $0 ? "healthy" : "UNHEALTHY" } ?? "?"
                rows.append([member.name, member.endpoint, health, member.isLeader ? "*" : "", member.raftTerm.map(String.init) ?? "", member.version ?? ""])
            }
            lines += Self.table(rows)
        }

        lines.append("")
        lines.append(bold("HAProxy") + " (each node's view of its backends)")
        if report.haproxy.isEmpty { lines.append("  no database node reachable") }
        for view in report.haproxy {
            if let error = view.error {
                lines.append("  \(view.node): " + red(error))
                continue
            }
            var proxies: [String] = []
            for server in view.servers where !proxies.contains(server.proxy) { proxies.append(server.proxy) }
            for proxy in proxies {
                let servers = view.servers.filter { $0.proxy == proxy }.map { server in
                    server.server + " " + (server.state == "UP" ? green("UP") : server.state)
                }
                lines.append("  \(view.node.padding(toLength: 10, withPad: " ", startingAt: 0)) \(proxy.padding(toLength: 9, withPad: " ", startingAt: 0)) " + servers.joined(separator: ", "))
            }
        }

        lines.append("")
        if let backup = report.backup {
            lines.append(bold("Backup") + " (pgBackRest on \(backup.node), the leader)")
            lines.append("  last full  " + Self.moment(backup.lastFull, now: now) + "    last diff  " + Self.moment(backup.lastDiff, now: now))
            let archiving: String
            switch backup.walArchiveFailing {
            case .some(true): archiving = red("FAILING")
            case .some(false): archiving = "ok"
            case .none: archiving = "?"
            }
            lines.append("  WAL archiving \(archiving), last archived " + Self.moment(backup.walLastArchived, now: now))
        } else {
            lines.append(bold("Backup") + ": " + (report.problems["backup"] ?? "no leader answered"))
        }

        lines.append("")
        lines.append(bold("Alerts") + (report.alertsSource.map { " (Prometheus on \($0))" } ?? ""))
        if let problem = report.problems["prometheus"], report.alertsSource == nil || report.alerts.isEmpty {
            lines.append("  " + red(problem))
        }
        if report.alerts.isEmpty && report.alertsSource != nil {
            lines.append("  " + green("none firing"))
        }
        for alert in report.alerts {
            let state = alert.state == "firing" ? red(alert.severity.uppercased()) : "pending " + alert.severity
            lines.append("  \(state) \(alert.name)" + (alert.host.map { " [\($0)]" } ?? "") + ": \(alert.summary)")
        }

        if sparklines, report.alertsSource != nil {
            lines.append("")
            lines.append(bold("Last 15 minutes"))
            if report.replicationLag.isEmpty { lines.append("  replication lag  no replica") }
            for series in report.replicationLag {
                let values = series.points.map(\.value)
                lines.append("  lag \(series.label.padding(toLength: 12, withPad: " ", startingAt: 0)) "
                    + Self.sparkline(values) + "  now " + Self.bytes(values.last ?? 0) + ", max " + Self.bytes(values.max() ?? 0))
            }
            if let tps = report.transactionsPerSecond {
                let values = tps.points.map(\.value)
                lines.append("  transactions/s   " + Self.sparkline(values)
                    + String(format: "  now %.1f, max %.1f", values.last ?? 0, values.max() ?? 0))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Eight block heights from the series' minimum (or 0) to its maximum; a flat series is flat.
    public static func sparkline(_ values: [Double]) -> String {
        let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let finite = values.filter(\.isFinite)
        guard let high = finite.max() else { return "" }
        let low = min(0, finite.min() ?? 0)
        let span = high - low
        return String(values.map { value in
            guard value.isFinite, span > 0 else { return blocks[0] }
            return blocks[min(blocks.count - 1, max(0, Int(((value - low) / span * Double(blocks.count - 1)).rounded())))]
        })
    }

    static func table(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            "  " + row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }

    static func clock(_ epoch: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: epoch))
    }

    /// "2026-12-07 09:06:22 (24m ago)", or "none".
    static func moment(_ epoch: Double?, now: Double) -> String {
        guard let epoch else { return "none" }
        return clock(epoch) + " (" + age(now - epoch) + " ago)"
    }

    static func age(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m" }
        if s < 172_800 { return "\(s / 3600)h \(s % 3600 / 60)m" }
        return "\(s / 86400)d \(s % 86400 / 3600)h"
    }

    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var size = value
        var unit = 0
        while size >= 1024, unit < units.count - 1 {
            size /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(size)) B" : String(format: "%.1f", size) + " " + units[unit]
    }

    private func bold(_ text: String) -> String { colors ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    private func red(_ text: String) -> String { colors ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
    private func green(_ text: String) -> String { colors ? "\u{1B}[32m\(text)\u{1B}[0m" : text }
}
