import Foundation
import PGHACore

/// The lab bridge and each host's port on it.
///
/// systemd-nspawn's `--network-bridge` creates a veth pair per host and enslaves the host side,
/// named `vb-<machine>`, to the bridge. A partition sets that port down: the host keeps its
/// address and processes but no frame crosses, and setting it up again restores everything.
public struct Network: Sendable {
    public var plan: NetworkPlan
    public var runner: ProcessRunner
    public var bridge: String { plan.bridge }

    public init(plan: NetworkPlan = .standard, runner: ProcessRunner) {
        self.plan = plan
        self.runner = runner
    }

    /// The host-side veth that nspawn creates for machine `name`.
    public static func port(for name: String) -> String { "vb-" + name }

    public func linkExists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "/sys/class/net/\(name)")
    }

    /// True when `name` is a bridge device (it has a bridge/ directory in sysfs).
    public func isBridge(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "/sys/class/net/\(name)/bridge")
    }

    /// The bridge `port` is enslaved to, if any.
    public func master(of port: String) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/sys/class/net/\(port)/master")
        else { return nil }
        return (target as NSString).lastPathComponent
    }

    /// Whether the interface is administratively up (IFF_UP in its flags).
    public func isUp(_ link: String) -> Bool {
        guard let text = try? String(contentsOfFile: "/sys/class/net/\(link)/flags", encoding: .utf8),
            let flags = UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(2), radix: 16)
        else { return false }
        return flags & 1 != 0
    }

    /// IPv4 addresses (with prefix) per interface, from `ip -j addr`.
    public func ipv4Addresses() throws -> [(link: String, address: IPv4Address, prefix: Int)] {
        let out = try runner.check(["ip", "-j", "-4", "addr", "show"]).stdout
        guard let list = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] else { return [] }
        var result: [(String, IPv4Address, Int)] = []
        for link in list {
            guard let name = link["ifname"] as? String, let infos = link["addr_info"] as? [[String: Any]] else {
                continue
            }
            for info in infos {
                if let local = info["local"] as? String, let address = IPv4Address(local),
                    let prefix = info["prefixlen"] as? Int
                {
                    result.append((name, address, prefix))
                }
            }
        }
        return result.map { (link: $0.0, address: $0.1, prefix: $0.2) }
    }

    /// Creates the bridge with the plan's address (10.77.0.1/16), or accepts the one an earlier
    /// `up` made.
    ///
    /// Refuses when an interface that is not a pgha lab bridge already has an address in the
    /// subnet: that network is someone else's, and the lab must not route into it.
    /// - Returns: true when this call created the bridge.
    @discardableResult
    public func ensureBridge() throws -> Bool {
        let cidr = "\(plan.bridgeAddress)/\(plan.prefixLength)"
        let foreign = try ipv4Addresses().filter {
            $0.link != bridge && !($0.link.hasPrefix("pgha-") && isBridge($0.link)) && plan.contains($0.address)
        }
        if let clash = foreign.first {
            throw PGHAError(
                .environment,
                "interface \(clash.link) already has \(clash.address)/\(clash.prefix) inside the lab network \(plan.subnetDescription)",
                hint: "the lab only uses \(plan.subnetDescription) on its own bridge \(bridge); free that range first")
        }
        var created = false
        if linkExists(bridge) {
            guard isBridge(bridge) else {
                throw PGHAError(
                    .environment, "\(bridge) exists and is not a bridge; refusing to touch it",
                    hint: "remove or rename that interface")
            }
        } else {
            try runner.check(["ip", "link", "add", bridge, "type", "bridge"])
            created = true
        }
        let mine = try ipv4Addresses().filter { $0.link == bridge }
        if !mine.contains(where: { $0.address == plan.bridgeAddress && $0.prefix == plan.prefixLength }) {
            try runner.check(["ip", "addr", "add", cidr, "dev", bridge])
        }
        try runner.check(["ip", "link", "set", bridge, "up"])
        return created
    }

    /// Deletes the bridge if it exists and is a bridge.
    public func removeBridge() throws {
        guard linkExists(bridge), isBridge(bridge) else { return }
        try runner.check(["ip", "link", "del", bridge])
    }

    /// Cuts (`up: false`) or restores a host's port on the bridge.
    public func setPort(of name: String, up: Bool) throws {
        let port = Self.port(for: name)
        guard linkExists(port), master(of: port) == bridge else {
            throw PGHAError(.environment, "host \(name) has no port \(port) on \(bridge)", host: name)
        }
        try runner.check(["ip", "link", "set", port, up ? "up" : "down"])
    }

    /// Removes a veth left behind by a host, only when it hangs on our bridge.
    public func removeLeftoverPort(of name: String) throws {
        let port = Self.port(for: name)
        guard linkExists(port), master(of: port) == bridge else { return }
        try runner.check(["ip", "link", "del", port])
    }
}
