import Foundation
import OrderedCollections
import PGHACore

extension Filters {
    /// Encodings and digests: base64, `hash`, `checksum`, `md5`, `sha1`, `to_uuid`.
    static func registerEncodingFilters(_ t: inout [String: FilterFunction]) {
        t["b64encode"] = { c, input in .v(.string(Base64.encode(Py.str(try c.input(input))))) }
        t["b64decode"] = { c, input in
            let s = Py.str(try c.input(input))
            guard let d = Base64.decodeString(s) else { throw c.error("b64decode: invalid base64 input") }
            return .v(.string(d))
        }
        t["hash"] = { c, input in
            let alg = try c.string(0, "hashtype") ?? "sha1"
            guard let a = Digest.Algorithm(rawValue: alg) else { throw c.error("hash: unsupported hash type '\(alg)'") }
            return .v(.string(Digest.hex(a, Py.str(try c.input(input)))))
        }
        t["checksum"] = { c, input in .v(.string(Digest.hex(.sha1, Py.str(try c.input(input))))) }
        t["sha1"] = t["checksum"]
        t["md5"] = { c, input in .v(.string(Digest.hex(.md5, Py.str(try c.input(input))))) }
        t["to_uuid"] = { c, input in
            let namespace = try c.string(0, "namespace") ?? "361E6D51-FAEC-444A-9079-341386DA8E2E"
            let hex = namespace.replacingOccurrences(of: "-", with: "").lowercased()
            guard hex.utf8.count == 32 else { throw c.error("Invalid value '\(namespace)' for 'namespace'") }
            var bytes: [UInt8] = []
            var index = hex.startIndex
            for _ in 0..<16 {
                let next = hex.index(index, offsetBy: 2)
                guard let b = UInt8(hex[index..<next], radix: 16) else { throw c.error("Invalid value '\(namespace)' for 'namespace'") }
                bytes.append(b)
                index = next
            }
            var digest = Array(Digest.sha1Bytes(bytes + Array(Py.str(try c.input(input)).utf8)).prefix(16))
            digest[6] = (digest[6] & 0x0F) | 0x50
            digest[8] = (digest[8] & 0x3F) | 0x80
            let h = Digest.hexString(digest)
            let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { r in
                String(h[h.index(h.startIndex, offsetBy: r.lowerBound)..<h.index(h.startIndex, offsetBy: r.upperBound)])
            }
            return .v(.string(parts.joined(separator: "-")))
        }
    }
}
