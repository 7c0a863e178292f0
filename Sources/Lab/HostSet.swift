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

/// The lab's fixed network plan and the host list for `lab up --hosts N`.
///
/// Everything lives in 10.77.0.0/16: the bridge is 10.77.0.1 and hosts count up from 10.77.0.11,
/// skipping addresses whose last octet is 0 or 255 (legal in a /16, but confusing to people and to
/// tools that assume /24s), so the plan scales to thousands of hosts.
public enum HostSet {
    public static let network = IPv4Address(10, 77, 0, 0)
    public static let prefixLength = 16
    public static let bridgeAddress = IPv4Address(10, 77, 0, 1)
    /// The first host address (node1).
    public static let firstHost = IPv4Address(10, 77, 0, 11)
    /// `vb-` plus the name must fit Linux's 15-character interface names: systemd-nspawn names the
    /// host side of each veth that way, and we find a host's port by that name.
    public static let maxNameLength = 12
    public static let maxHosts = 2000

    /// node1, node2, witness, then node3...nodeN for `count` > 3.
    public static func hosts(count: Int = 3) throws -> [HostSpec] {
        guard count >= 3 else {
            throw PGHAError(.usage, "the lab needs at least 3 hosts (node1, node2, witness); got \(count)")
        }
        guard count <= maxHosts else {
            throw PGHAError(.usage, "at most \(maxHosts) lab hosts; got \(count)")
        }
        var names = ["node1", "node2", "witness"]
        if count > 3 { names += (3...(count - 1)).map { "node\($0)" } }
        return names.enumerated().map { index, name in HostSpec(name: name, address: address(index: index)) }
    }

    /// The address of the `index`-th host (0-based) in the plan.
    public static func address(index: Int) -> IPv4Address {
        var remaining = index
        var candidate = firstHost.value
        while true {
            let last = candidate & 0xff
            if last != 0 && last != 255 {
                if remaining == 0 { return IPv4Address(candidate) }
                remaining -= 1
            }
            candidate += 1
        }
    }

    /// True when `address` lies in the lab's /16.
    public static func contains(_ address: IPv4Address) -> Bool {
        address.value >> UInt32(32 - prefixLength) == network.value >> UInt32(32 - prefixLength)
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
