import Foundation
import PGHACore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address as its bytes (4 or 16).
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    var isIPv4: Bool { bytes.count == 4 }
    var bitCount: Int { bytes.count * 8 }

    /// Parses an address literal (`10.0.0.1`, `fd00::1`); nil for anything else, host names included.
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var copy = bytes
        let family = isIPv4 ? AF_INET : AF_INET6
        guard inet_ntop(family, &copy, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The address with every bit after the first `prefix` cleared.
    func masked(to prefix: Int) -> IPAddress {
        IPAddress(bytes: bytes.enumerated().map { index, byte in
            let kept = max(0, min(8, prefix - index * 8))
            return kept == 8 ? byte : byte & ~(UInt8(0xFF) >> kept)
        })
    }

    /// How many leading bits `self` and `other` (of the same family) share.
    func commonPrefixLength(with other: IPAddress) -> Int {
        for (index, (a, b)) in zip(bytes, other.bytes).enumerated() where a != b {
            return index * 8 + (a ^ b).leadingZeroBitCount
        }
        return bitCount
    }
}

/// A network in CIDR notation, as ufw and pg_hba.conf take it.
struct CIDRNetwork: Hashable, Sendable, CustomStringConvertible {
    let address: IPAddress
    let prefix: Int

    var description: String { "\(address)/\(prefix)" }

    /// Parses `10.0.0.0/24` or `fd00::/64`; a bare address is that one host (/32 or /128). Refuses
    /// a prefix out of range and host bits after the prefix, naming the network meant.
    static func parse(_ text: String, option: String) throws -> CIDRNetwork {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2, let address = IPAddress(parts[0]) else {
            throw PGHAError(
                .usage, "\(option) \(text): not a network in CIDR notation", hint: "write it as 10.0.0.0/24 or fd00::/64")
        }
        guard parts.count == 2 else { return CIDRNetwork(address: address, prefix: address.bitCount) }
        guard let prefix = Int(parts[1]), (0...address.bitCount).contains(prefix), parts[1].allSatisfy(\.isNumber) else {
            throw PGHAError(
                .usage, "\(option) \(text): the prefix length must be a number from 0 to \(address.bitCount)")
        }
        let network = address.masked(to: prefix)
        guard network == address else {
            throw PGHAError(
                .usage, "\(option) \(text): the address has bits set after the /\(prefix) prefix",
                hint: "did you mean \(network)/\(prefix)?")
        }
        return CIDRNetwork(address: address, prefix: prefix)
    }

    /// The smallest network holding every address, no smaller than a /24 (IPv4) or /64 (IPv6), so
    /// a node added later beside the others is still inside it. Nil for mixed families, none, or
    /// addresses too far apart to guess a network (wider than /16 or /48): pg_hba.conf admits it.
    static func covering(_ addresses: [IPAddress]) -> CIDRNetwork? {
        guard let first = addresses.first, addresses.allSatisfy({ $0.isIPv4 == first.isIPv4 }) else { return nil }
        let prefix = addresses.reduce(first.isIPv4 ? 24 : 64) { min($0, first.commonPrefixLength(with: $1)) }
        guard prefix >= (first.isIPv4 ? 16 : 48) else { return nil }
        return CIDRNetwork(address: first.masked(to: prefix), prefix: prefix)
    }
}

public enum LocalAddress {
    /// The address this machine sends from to reach `host` (an address or a resolvable name): a
    /// datagram socket is connected, which picks the route and sends nothing. Nil when unknown.
    public static func toward(_ host: String) -> IPAddress? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, "22", &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            defer { entry = current.pointee.ai_next }
            let descriptor = socket(current.pointee.ai_family, Int32(SOCK_DGRAM.rawValue), 0)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            guard connect(descriptor, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 else { continue }
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let named = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            }
            guard named == 0 else { continue }
            switch Int32(storage.ss_family) {
            case AF_INET:
                return withUnsafeBytes(of: &storage) { raw in
                    var address = raw.load(as: sockaddr_in.self).sin_addr
                    return IPAddress(bytes: withUnsafeBytes(of: &address) { Array($0) })
                }
            case AF_INET6:
                return withUnsafeBytes(of: &storage) { raw in
                    var address = raw.load(as: sockaddr_in6.self).sin6_addr
                    return IPAddress(bytes: withUnsafeBytes(of: &address) { Array($0) })
                }
            default:
                continue
            }
        }
        return nil
    }
}
