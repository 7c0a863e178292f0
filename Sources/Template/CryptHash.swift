import Crypto

/// The Unix crypt(3) password hashes `password_hash` produces: SHA-crypt as specified by Ulrich
/// Drepper ("Unix crypt using SHA-256 and SHA-512", `$5$`/`$6$`) and the older MD5-crypt (`$1$`),
/// built on swift-crypto's digests.
enum CryptHash {
    /// The crypt alphabet, in the order its base64 variant assigns values 0...63.
    static let alphabet = Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    enum ShaVariant: Sendable {
        case sha256, sha512

        var identifier: String { self == .sha256 ? "5" : "6" }
    }

    static let defaultShaRounds = 5000
    static let shaRoundsRange = 1000...999_999_999
    static let maxShaSaltLength = 16
    static let maxMD5SaltLength = 8

    /// crypt(3) with a `$5$` or `$6$` setting (`$6$rounds=N$salt`), as the spec's reference code
    /// reads it: rounds clamped into 1000...999999999, the salt cut at 16 characters, and
    /// `rounds=` repeated in the result whenever the setting had it. Nil for any other setting.
    static func shaCrypt(_ password: String, setting: String) -> String? {
        let variant: ShaVariant
        if setting.hasPrefix("$5$") { variant = .sha256 } else if setting.hasPrefix("$6$") { variant = .sha512 } else { return nil }
        var rest = Substring(setting.dropFirst(3))
        var rounds: Int?
        if rest.hasPrefix("rounds="), let end = rest.firstIndex(of: "$"),
            let requested = UInt64(rest[rest.index(rest.startIndex, offsetBy: 7)..<end])
        {
            rounds = Int(min(max(requested, UInt64(shaRoundsRange.lowerBound)), UInt64(shaRoundsRange.upperBound)))
            rest = rest[rest.index(after: end)...]
        }
        let salt = Array(rest.prefix { $0 != "$" }.utf8.prefix(maxShaSaltLength))
        let digest = sha(Array(password.utf8), salt: salt, rounds: rounds ?? defaultShaRounds, variant: variant)
        let roundsField = rounds.map { "rounds=\($0)$" } ?? ""
        return "$\(variant.identifier)$\(roundsField)\(String(decoding: salt, as: UTF8.self))$\(digest)"
    }

    /// The encoded SHA-crypt digest (43 or 86 characters) of `password` with `salt` (at most 16
    /// bytes) over `rounds` rounds, following the numbered steps of Drepper's specification.
    static func sha(_ password: [UInt8], salt: [UInt8], rounds: Int, variant: ShaVariant) -> String {
        switch variant {
        case .sha256:
            let digest = sha(SHA256.self, password, salt, rounds)
            var groups: [(Int, Int, Int)] = []
            for k in 0..<10 {
                let (a, b, c) = (k, k + 10, k + 20)
                groups.append([(a, b, c), (c, a, b), (b, c, a)][k % 3])
            }
            return encode(digest, groups) + encode24(0, digest[31], digest[30], count: 3)
        case .sha512:
            let digest = sha(SHA512.self, password, salt, rounds)
            var groups: [(Int, Int, Int)] = []
            for k in 0..<21 {
                let (a, b, c) = (k, k + 21, k + 42)
                groups.append([(a, b, c), (b, c, a), (c, a, b)][k % 3])
            }
            return encode(digest, groups) + encode24(0, 0, digest[63], count: 2)
        }
    }

    private static func sha<H: HashFunction>(_: H.Type, _ password: [UInt8], _ salt: [UInt8], _ rounds: Int) -> [UInt8] {
        func digest(_ parts: [UInt8]...) -> [UInt8] {
            var hasher = H()
            for part in parts { hasher.update(data: part) }
            return Array(hasher.finalize())
        }
        let size = H.Digest.byteCount
        // Steps 4-8: digest B.
        let b = digest(password, salt, password)
        // Steps 1-3, 9-12: digest A.
        var a = H()
        a.update(data: password)
        a.update(data: salt)
        a.update(data: repeated(b, to: password.count))
        var length = password.count
        while length > 0 {
            a.update(data: length & 1 == 1 ? b : password)
            length >>= 1
        }
        var result = Array(a.finalize())
        // Steps 13-16: P, the password digest DP stretched to the password's length.
        let p = repeated(digest(Array(repeatElement(password, count: password.count).joined())), to: password.count)
        // Steps 17-20: S, the salt digest DS stretched to the salt's length; the first byte of A
        // decides how often the salt goes in.
        let s = repeated(digest(Array(repeatElement(salt, count: 16 + Int(result[0])).joined())), to: salt.count)
        // Step 21: the rounds, each mixing the previous digest with P and S in a pattern of 2, 3 and 7.
        // Ansible's default is 656000 rounds: raw buffers and one reused digest buffer keep them
        // clear of per-round allocations and generic DataProtocol walks.
        precondition(result.count == size)
        p.withUnsafeBytes { p in
            s.withUnsafeBytes { s in
                result.withUnsafeMutableBytes { previous in
                    for round in 0..<rounds {
                        var c = H()
                        let last = UnsafeRawBufferPointer(previous)
                        c.update(bufferPointer: round & 1 == 1 ? p : last)
                        if round % 3 != 0 { c.update(bufferPointer: s) }
                        if round % 7 != 0 { c.update(bufferPointer: p) }
                        c.update(bufferPointer: round & 1 == 1 ? last : p)
                        c.finalize().withUnsafeBytes { previous.copyMemory(from: $0) }
                    }
                }
            }
        }
        return result
    }

    /// crypt(3) with a `$1$` setting: the salt is what follows up to the next `$`, cut at 8.
    static func md5Crypt(_ password: String, setting: String) -> String? {
        guard setting.hasPrefix("$1$") else { return nil }
        let salt = Array(setting.dropFirst(3).prefix { $0 != "$" }.utf8.prefix(maxMD5SaltLength))
        return "$1$\(String(decoding: salt, as: UTF8.self))$\(md5(Array(password.utf8), salt: salt))"
    }

    /// The encoded MD5-crypt digest (22 characters), Poul-Henning Kamp's FreeBSD algorithm.
    static func md5(_ password: [UInt8], salt: [UInt8]) -> String {
        func digest(_ parts: [UInt8]...) -> [UInt8] {
            var hasher = Insecure.MD5()
            for part in parts { hasher.update(data: part) }
            return Array(hasher.finalize())
        }
        let alternate = digest(password, salt, password)
        var context = Insecure.MD5()
        context.update(data: password)
        context.update(data: Array("$1$".utf8))
        context.update(data: salt)
        context.update(data: repeated(alternate, to: password.count))
        // The original code meant to add digest bytes here but adds a zero byte or the password's
        // first byte; every implementation keeps that quirk.
        var length = password.count
        while length > 0 {
            context.update(data: length & 1 == 1 ? [0] : [password[0]])
            length >>= 1
        }
        var result = Array(context.finalize())
        for round in 0..<1000 {
            result = digest(
                round & 1 == 1 ? password : result, round % 3 != 0 ? salt : [], round % 7 != 0 ? password : [],
                round & 1 == 1 ? result : password)
        }
        let groups = [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)]
        return encode(result, groups) + encode24(0, 0, result[11], count: 2)
    }

    /// `bytes` repeated and cut to exactly `length` bytes.
    private static func repeated(_ bytes: [UInt8], to length: Int) -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity(length)
        while out.count < length { out.append(contentsOf: bytes.prefix(length - out.count)) }
        return out
    }

    /// crypt's base64: each group of three digest bytes, taken in the order the algorithm's table
    /// gives, becomes four characters, least significant six bits first.
    private static func encode(_ digest: [UInt8], _ groups: [(Int, Int, Int)]) -> String {
        groups.map { encode24(digest[$0.0], digest[$0.1], digest[$0.2], count: 4) }.joined()
    }

    private static func encode24(_ high: UInt8, _ middle: UInt8, _ low: UInt8, count: Int) -> String {
        var word = UInt32(high) << 16 | UInt32(middle) << 8 | UInt32(low)
        var out: [UInt8] = []
        for _ in 0..<count {
            out.append(alphabet[Int(word & 0x3F)])
            word >>= 6
        }
        return String(decoding: out, as: UTF8.self)
    }
}
