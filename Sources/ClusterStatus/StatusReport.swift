import Foundation
import OrderedCollections
import PGHACore

/// One look at the cluster: what each source answered, and what could not be reached.
public struct StatusReport: Sendable, Equatable {
    /// A Patroni member as `patronictl list` shows it.
    public struct Member: Sendable, Equatable {
        public var name: String
        public var host: String
        public var role: String
        public var state: String
        public var timeline: Int?
        /// Replication lag in MB as patronictl reports it (nil for the leader or when unknown).
        public var lagMB: Int?
        public var pendingRestart: Bool
    }

    /// An etcd member with its endpoint's answer.
    public struct EtcdMember: Sendable, Equatable {
        public var id: String
        public var name: String
        public var endpoint: String
        /// nil when the endpoint did not answer the health check.
        public var healthy: Bool?
        public var isLeader: Bool
        public var raftTerm: Int?
        public var version: String?
    }

    /// One server line of one HAProxy proxy on one node.
    public struct HAProxyServer: Sendable, Equatable {
        public var proxy: String
        public var server: String
        /// UP, DOWN, MAINT, DRAIN or NOLB (HAProxy's own words).
        public var state: String
    }

    public struct HAProxyView: Sendable, Equatable {
        public var node: String
        public var servers: [HAProxyServer]
        public var error: String?
    }

    /// The leader's backups and WAL archiving (from the backup role's metrics script).
    public struct Backup: Sendable, Equatable {
        public var node: String
        public var lastFull: Double?
        public var lastDiff: Double?
        public var lastIncremental: Double?
        public var walArchiveFailing: Bool?
        public var walLastArchived: Double?
        public var walFailedCount: Int?
        /// The newest full or differential backup.
        public var lastBackup: Double? { [lastFull, lastDiff].compactMap { $0 }.max() }
    }

    /// An alert Prometheus has firing (or pending).
    public struct Alert: Sendable, Equatable {
        public var name: String
        public var state: String
        public var severity: String
        public var host: String?
        public var summary: String
        public var activeSince: String?
    }

    /// A time series from Prometheus: (epoch seconds, value) pairs.
    public struct Series: Sendable, Equatable {
        public var label: String
        public var points: [(time: Double, value: Double)]

        public init(label: String, points: [(time: Double, value: Double)]) {
            self.label = label
            self.points = points
        }

        public static func == (a: Series, b: Series) -> Bool {
            a.label == b.label && a.points.map(\.time) == b.points.map(\.time) && a.points.map(\.value) == b.points.map(\.value)
        }
    }

    public var cluster: String
    public var collectedAt: Date
    /// Hosts that could not be reached, with why.
    public var unreachable: OrderedDictionary<String, String> = [:]
    /// Sources that answered with an error (e.g. "members": "patronictl failed on node13: ...").
    public var problems: OrderedDictionary<String, String> = [:]
    public var members: [Member] = []
    public var membersSource: String?
    public var etcdMembers: [EtcdMember] = []
    public var etcdSource: String?
    public var haproxy: [HAProxyView] = []
    public var backup: Backup?
    public var alerts: [Alert] = []
    public var alertsSource: String?
    public var replicationLag: [Series] = []
    public var transactionsPerSecond: Series?

    public init(cluster: String, collectedAt: Date) {
        self.cluster = cluster
        self.collectedAt = collectedAt
    }

    public var etcdLeader: String? { etcdMembers.first(where: \.isLeader)?.name }
    public var leader: String? { members.first { $0.role == "Leader" || $0.role == "Standby Leader" }?.name }
}

extension StatusReport {
    /// The report for `--output json` (stable keys, times as epoch seconds).
    public var jsonValue: Value {
        func number(_ value: Double?) -> Value {
            guard let value else { return .null }
            return value == value.rounded() && abs(value) < 1e15 ? .int(Int(value)) : .double(value)
        }
        func text(_ value: String?) -> Value { value.map(Value.string) ?? .null }
        let now = collectedAt.timeIntervalSince1970
        var backupValue: Value = .null
        if let backup {
            backupValue = [
                "node": .string(backup.node),
                "last_full": number(backup.lastFull), "last_diff": number(backup.lastDiff),
                "last_incremental": number(backup.lastIncremental),
                "last_backup_age_seconds": number(backup.lastBackup.map { (now - $0).rounded() }),
                "wal_archive_failing": backup.walArchiveFailing.map(Value.bool) ?? .null,
                "wal_last_archived": number(backup.walLastArchived),
                "wal_archive_failed_count": backup.walFailedCount.map(Value.int) ?? .null,
            ]
        }
        return [
            "cluster": .string(cluster),
            "collected_at": number(now.rounded()),
            "unreachable": .list(unreachable.map { ["host": .string($0.key), "error": .string($0.value)] }),
            "problems": .dict(problems.mapValues(Value.string)),
            "leader": text(leader),
            "members_from": text(membersSource),
            "members": .list(members.map { member in
                [
                    "name": .string(member.name), "host": .string(member.host), "role": .string(member.role),
                    "state": .string(member.state), "timeline": member.timeline.map(Value.int) ?? .null,
                    "lag_mb": member.lagMB.map(Value.int) ?? .null, "pending_restart": .bool(member.pendingRestart),
                ]
            }),
            "etcd": [
                "from": text(etcdSource),
                "leader": text(etcdLeader),
                "members": .list(etcdMembers.map { member in
                    [
                        "id": .string(member.id), "name": .string(member.name), "endpoint": .string(member.endpoint),
                        "healthy": member.healthy.map(Value.bool) ?? .null, "leader": .bool(member.isLeader),
                        "raft_term": member.raftTerm.map(Value.int) ?? .null, "version": text(member.version),
                    ]
                }),
            ],
            "haproxy": .list(haproxy.map { view in
                [
                    "node": .string(view.node), "error": text(view.error),
                    "servers": .list(view.servers.map {
                        ["proxy": .string($0.proxy), "server": .string($0.server), "state": .string($0.state)]
                    }),
                ]
            }),
            "backup": backupValue,
            "alerts_from": text(alertsSource),
            "alerts": .list(alerts.map { alert in
                [
                    "name": .string(alert.name), "state": .string(alert.state), "severity": .string(alert.severity),
                    "host": text(alert.host), "summary": .string(alert.summary), "active_since": text(alert.activeSince),
                ]
            }),
            "history": [
                "replication_lag_bytes": .dict(OrderedDictionary(uniqueKeysWithValues: replicationLag.map { series in
                    (series.label, Value.list(series.points.map { [number($0.time), number($0.value)] }))
                })),
                "transactions_per_second": .list((transactionsPerSecond?.points ?? []).map { [number($0.time), number($0.value)] }),
            ],
        ]
    }
}
