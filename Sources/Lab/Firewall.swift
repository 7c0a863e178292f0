import Foundation
import PGHACore

/// The lab's own nftables table, which keeps lab traffic on the lab bridge.
///
/// Lab hosts use the bridge address as their default gateway (software that looks for a default
/// route, Ansible's `default_ipv4` among it, needs one), so a packet for any other network reaches
/// the controller. The table's forward chain drops whatever would be routed from the bridge to
/// another interface or from another interface onto the bridge, so the controller never routes
/// lab traffic anywhere, whatever its `ip_forward` setting. Only this table is ever created or
/// deleted; every other table and interface stays as it is.
public struct LabFirewall: Sendable {
    public var plan: NetworkPlan
    public var runner: ProcessRunner

    public init(plan: NetworkPlan = .standard, runner: ProcessRunner) {
        self.plan = plan
        self.runner = runner
    }

    /// `pgha_lab` for the standard lab; other labs (the test lab) get their own table, named
    /// after their bridge, so one lab's `down` leaves the other's rules alone.
    public var table: String {
        plan == .standard ? "pgha_lab" : "pgha_lab_" + plan.bridge.replacingOccurrences(of: "-", with: "_")
    }

    /// The whole table as one `nft -f` transaction: it declares the table (a no-op when it
    /// exists), deletes it and defines it afresh, so a rerun replaces stale rules atomically.
    public var ruleset: String {
        let bridge = plan.bridge
        return """
            table inet \(table) {}
            delete table inet \(table)
            table inet \(table) {
            \tchain forward {
            \t\ttype filter hook forward priority filter; policy accept;
            \t\tiifname "\(bridge)" oifname != "\(bridge)" drop
            \t\toifname "\(bridge)" iifname != "\(bridge)" drop
            \t}
            }

            """
    }

    /// Creates or refreshes the table.
    public func install() throws {
        try runner.check(["nft", "-f", "-"], input: ruleset)
    }

    /// True when the table exists.
    public func isInstalled() -> Bool {
        (try? runner.run(["nft", "list", "table", "inet", table]))?.status == 0
    }

    /// Deletes the table if it exists.
    public func remove() throws {
        guard isInstalled() else { return }
        try runner.check(["nft", "delete", "table", "inet", table])
    }
}
