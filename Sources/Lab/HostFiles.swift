import Foundation
import PGHACore

/// Per-host identity written into each host's overlay upper dir before it boots, plus the lab's
/// own key pair and known_hosts on the controller.
///
/// The base image deliberately has no host keys, machine-id, hostname or address: putting them in
/// the upper dir gives every host its own while all hosts share one read-only image.
public struct HostFiles: Sendable {
    public var paths: LabPaths
    public var runner: ProcessRunner
    public var plan: NetworkPlan

    public init(paths: LabPaths, runner: ProcessRunner, plan: NetworkPlan = .standard) {
        self.paths = paths
        self.runner = runner
        self.plan = plan
    }

    /// Creates the lab's ed25519 key pair once; later calls keep it.
    public func ensureLabKey() throws {
        try FileManager.default.createDirectory(
            atPath: paths.stateDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if FileManager.default.fileExists(atPath: paths.privateKey)
            && FileManager.default.fileExists(atPath: paths.publicKey)
        {
            return
        }
        try? FileManager.default.removeItem(atPath: paths.privateKey)
        try? FileManager.default.removeItem(atPath: paths.publicKey)
        try runner.check([
            "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pgha-play-lab", "-f", paths.privateKey,
        ])
    }

    /// Writes `host`'s identity into its upper dir. Host keys and machine-id are made once and then
    /// kept, so a host restarted with `lab start` is the same machine; the rest is rewritten.
    public func prepare(_ host: LabState.Host, allHosts: [LabState.Host]) throws {
        let upper = paths.upperDir(host.name)
        // Directories that also exist in the image: in an overlay the upper copy's owner and mode
        // win, so they must match the image's (root, 0755).
        for dir in ["", "/etc", "/etc/ssh", "/etc/ssh/pgha-lab", "/etc/systemd", "/etc/systemd/network"] {
            try FileManager.default.createDirectory(
                atPath: upper + dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        let hostKey = upper + "/etc/ssh/ssh_host_ed25519_key"
        if !FileManager.default.fileExists(atPath: hostKey) || !FileManager.default.fileExists(atPath: hostKey + ".pub") {
            try? FileManager.default.removeItem(atPath: hostKey)
            try? FileManager.default.removeItem(atPath: hostKey + ".pub")
            try runner.check(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@\(host.name)", "-f", hostKey])
        }
        let machineID = upper + "/etc/machine-id"
        if (try? String(contentsOfFile: machineID, encoding: .utf8))?.count ?? 0 < 32 {
            let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try write(id + "\n", to: machineID, mode: 0o444)
        }
        let labKey = try String(contentsOfFile: paths.publicKey, encoding: .utf8)
        for user in ["root", "deploy"] {
            try write(labKey, to: upper + "/etc/ssh/pgha-lab/authorized_keys.\(user)", mode: 0o644)
        }
        try write(host.name + "\n", to: upper + "/etc/hostname", mode: 0o644)
        try write(Self.networkUnit(for: host.address, prefixLength: plan.prefixLength, gateway: plan.bridgeAddress), to: upper + "/etc/systemd/network/10-host0.network", mode: 0o644)
        try write(Self.hostsFile(for: host.name, allHosts: allHosts), to: upper + "/etc/hosts", mode: 0o644)
    }

    /// systemd-networkd config for the container side of the veth. It sorts before the image's
    /// 80-container-host0.network, which would ask for DHCP. The bridge address is the default
    /// gateway, because software expects a default route (Ansible's `default_ipv4` is empty
    /// without one); `LabFirewall` drops anything the controller would route off the bridge. No
    /// DNS. Carrier options keep the address through a partition.
    public static func networkUnit(for address: IPv4Address, prefixLength: Int, gateway: IPv4Address) -> String {
        """
        [Match]
        Name=host0

        [Network]
        Address=\(address)/\(prefixLength)
        Gateway=\(gateway)
        LinkLocalAddressing=no
        IPv6AcceptRA=no
        ConfigureWithoutCarrier=yes
        IgnoreCarrierLoss=yes

        """
    }

    /// /etc/hosts naming every lab host, so services can find each other by name.
    public static func hostsFile(for name: String, allHosts: [LabState.Host]) -> String {
        var text = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        for other in allHosts { text += "\(other.address)\t\(other.name)\n" }
        if !allHosts.contains(where: { $0.name == name }) { text += "127.0.1.1\t\(name)\n" }
        return text
    }

    /// The public host key of `name` (`ssh-ed25519 AAAA...`, without comment).
    public func hostPublicKey(_ name: String) throws -> String {
        let text = try String(contentsOfFile: paths.upperDir(name) + "/etc/ssh/ssh_host_ed25519_key.pub", encoding: .utf8)
        let fields = text.split(separator: " ")
        guard fields.count >= 2 else {
            throw PGHAError(.io, "malformed host key for \(name)", at: SourceLocation(file: paths.upperDir(name)))
        }
        return fields[0] + " " + fields[1]
    }

    /// Rewrites known_hosts with one line per host, matching both its name and its address.
    public func writeKnownHosts(_ hosts: [LabState.Host]) throws {
        var text = ""
        for host in hosts { text += "\(host.name),\(host.address) \(try hostPublicKey(host.name))\n" }
        try write(text, to: paths.knownHosts, mode: 0o644)
    }

    private func write(_ text: String, to path: String, mode: Int) throws {
        let url = URL(fileURLWithPath: path)
        if (try? String(contentsOf: url, encoding: .utf8)) != text {
            try Data(text.utf8).write(to: url, options: .atomic)
        }
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }
}
