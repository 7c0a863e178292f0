import Engine
import Foundation
import PGHACore

/// Which hosts play which part, and where each source listens, as the roles see them: the
/// inventory's groups and variables over the roles' defaults.
public struct ClusterLayout: Sendable, Equatable {
    /// How to reach one HTTP endpoint on a node (the monitoring role's `monitoring_scrape_tls`).
    public struct Endpoint: Sendable, Equatable {
        public var scheme = "http"
        public var port: Int
        public var caFile = ""
        public var certFile = ""
        public var keyFile = ""

        /// curl's options for this endpoint (certificate files are read as root).
        var curlOptions: [String] {
            var options: [String] = []
            if !caFile.isEmpty { options += ["--cacert", caFile] }
            if !certFile.isEmpty { options += ["--cert", certFile, "--key", keyFile] }
            return options
        }
    }

    public var cluster: String
    public var databaseNodes: [String]
    public var etcdMembers: [String]
    public var monitoringHosts: [String]
    public var addresses: [String: String]
    public var patroniConfigFile: String
    public var haproxy: Endpoint
    public var haproxyProxies: [String]
    public var prometheusPort: Int

    /// Every host status may talk to, in inventory order.
    public var allHosts: [String] {
        var seen = Set<String>()
        return (databaseNodes + etcdMembers + monitoringHosts).filter { seen.insert($0).inserted }
    }

    /// The roles whose defaults status reads (lowest precedence, as under a play).
    public static let roles = ["patroni", "etcd", "haproxy", "backup", "monitoring"]

    public init(hosts: InventoryHosts) throws {
        let databaseNodes = hosts.hosts(inGroup: "postgres")
        self.databaseNodes = databaseNodes
        let witnesses = hosts.hosts(inGroup: "witness")
        etcdMembers = databaseNodes + witnesses.filter { !databaseNodes.contains($0) }
        let monitoring = hosts.hosts(inGroup: "monitoring")
        monitoringHosts = monitoring.isEmpty ? witnesses : monitoring
        guard let first = databaseNodes.first else {
            throw PGHAError(.inventory, "the inventory has no [postgres] hosts: nothing to show")
        }
        cluster = try hosts.string("patroni_scope", for: first) ?? "postgres"
        patroniConfigFile = try hosts.string("patroni_config_file", for: first) ?? "/etc/patroni/config.yml"
        var addresses: [String: String] = [:]
        for host in databaseNodes + etcdMembers + monitoringHosts {
            addresses[host] = try hosts.string("pgha_address", for: host) ?? hosts.string("ansible_host", for: host) ?? host
        }
        self.addresses = addresses
        func port(_ names: [String], default fallback: Int) throws -> Int {
            for name in names {
                if let text = try hosts.string(name, for: first), let value = Int(text) { return value }
            }
            return fallback
        }
        haproxy = Endpoint(port: try port(["monitoring_haproxy_port", "haproxy_stats_port"], default: 8404))
        if let tls = try hosts.value("monitoring_scrape_tls", for: first)?["haproxy"] {
            let overrides = try hosts.value("monitoring_scrape_tls_overrides", for: first)?["haproxy"]
            func field(_ name: String) -> String { overrides?[name]?.stringValue ?? tls[name]?.stringValue ?? "" }
            haproxy.scheme = field("scheme").isEmpty ? "http" : field("scheme")
            haproxy.caFile = field("ca_file")
            haproxy.certFile = field("cert_file")
            haproxy.keyFile = field("key_file")
        }
        haproxyProxies = try hosts.value("monitoring_haproxy_backends", for: first)?.listValue?.compactMap(\.stringValue)
            ?? ["primary", "replicas"]
        prometheusPort = try port(["monitoring_prometheus_port"], default: 9090)
    }
}
