import PGHACore

/// An IPv4 address inside the lab network, kept as its 32-bit value.
public struct IPv4Address: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad text; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let octet = UInt8(part) else { return nil }
            v = v << 8 | UInt32(octet)
        }
        value = v
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = IPv4Address(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad IPv4 \(text)"))
        }
        self = parsed
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// One lab host: its machine name and its static address on the lab bridge.
public struct HostSpec: Sendable, Hashable, Codable {
    public var name: String
    public var address: IPv4Address

    public init(name: String, address: IPv4Address) {
        self.name = name
        self.address = address
    }
}

/// Where a lab lives: its bridge, its subnet and how its hosts are named.
///
/// The standard lab is pgha-br0 = 10.77.0.1/16 with hosts from 10.77.0.11. The real tests use
/// their own plan (pgha-test0, 10.77.200.0/24, hosts named t...) so they can run while someone
/// uses the standard lab: a /24 inside the /16 wins by longest-prefix routing on the controller.
public struct NetworkPlan: Sendable, Hashable {
    public var bridge: String
    public var bridgeAddress: IPv4Address
    public var prefixLength: Int
    /// The first host address (node1).
    public var firstHost: IPv4Address
    /// Put before every host name (node1 -> tnode1), so two labs never share a veth name.
    public var namePrefix: String

    public init(bridge: String, bridgeAddress: IPv4Address, prefixLength: Int, firstHost: IPv4Address, namePrefix: String) {
        self.bridge = bridge
        self.bridgeAddress = bridgeAddress
        self.prefixLength = prefixLength
        self.firstHost = firstHost
        self.namePrefix = namePrefix
    }

    public static let standard = NetworkPlan(
        bridge: "pgha-br0", bridgeAddress: IPv4Address(10, 77, 0, 1), prefixLength: 16,
        firstHost: IPv4Address(10, 77, 0, 11), namePrefix: "")

    /// The real tests' lab.
    public static let test = NetworkPlan(
        bridge: "pgha-test0", bridgeAddress: IPv4Address(10, 77, 200, 1), prefixLength: 24,
        firstHost: IPv4Address(10, 77, 200, 11), namePrefix: "t")

    var mask: UInt32 { prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength) }

    /// True when `address` lies in this plan's subnet.
    public func contains(_ address: IPv4Address) -> Bool {
        address.value & mask == bridgeAddress.value & mask
    }

    /// `10.77.0.0/16`
    public var subnetDescription: String { "\(IPv4Address(bridgeAddress.value & mask))/\(prefixLength)" }
}

/// The host list for `lab up --hosts N`.
///
/// Hosts count up from the plan's first address, skipping addresses whose last octet is 0 or 255
/// (legal in a /16, but confusing to people and to tools that assume /24s), so the standard plan
/// scales to thousands of hosts.
public enum HostSet {
    /// `vb-` plus the name must fit Linux's 15-character interface names: systemd-nspawn names the
    /// host side of each veth that way, and we find a host's port by that name.
    public static let maxNameLength = 12
    public static let maxHosts = 2000

    /// node1, node2, witness, then node3...node(N-1) for `count` > 3, each with the plan's prefix.
    public static func hosts(count: Int = 3, plan: NetworkPlan = .standard) throws -> [HostSpec] {
        guard count >= 3 else {
            throw PGHAError(.usage, "the lab needs at least 3 hosts (node1, node2, witness); got \(count)")
        }
        guard count <= maxHosts else {
            throw PGHAError(.usage, "at most \(maxHosts) lab hosts; got \(count)")
        }
        var names = ["node1", "node2", "witness"]
        if count > 3 { names += (3...(count - 1)).map { "node\($0)" } }
        let hosts = names.enumerated().map { index, name in
            HostSpec(name: plan.namePrefix + name, address: address(index: index, plan: plan))
        }
        if let outside = hosts.last, !plan.contains(outside.address) {
            throw PGHAError(.usage, "\(count) hosts do not fit in \(plan.subnetDescription)")
        }
        return hosts
    }

    /// The address of the `index`-th host (0-based) in the plan.
    public static func address(index: Int, plan: NetworkPlan = .standard) -> IPv4Address {
        var remaining = index
        var candidate = plan.firstHost.value
        while true {
            let last = candidate & 0xff
            if last != 0 && last != 255 {
                if remaining == 0 { return IPv4Address(candidate) }
                remaining -= 1
            }
            candidate += 1
        }
    }

    /// Names systemd-nspawn accepts as machine names and that fit the veth naming rule.
    public static func validate(name: String) throws {
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        guard !name.isEmpty, name.count <= maxNameLength, allowed, name.first?.isLetter == true else {
            throw PGHAError(
                .usage, "bad lab host name '\(name)'",
                hint: "use letters, digits and '-', start with a letter, at most \(maxNameLength) characters")
        }
    }
}
