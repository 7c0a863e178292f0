import PGHACore

extension Filters {
    /// `password_hash(hashtype='sha512', salt=None, salt_size=None, rounds=None, ident=None)` as
    /// ansible-core 2.19 computes it through passlib: crypt(3) hashes for /etc/shadow and the user
    /// module. The result is derived from its input, so `Renderer.applyFilter` registers it as a
    /// secret whenever the input was one (a vaulted password).
    static func registerPasswordHashFilter(_ t: inout [String: FilterFunction]) {
        t["password_hash"] = { c, input in
            guard case .string(let password) = try c.input(input) else {
                throw c.error("password_hash: secret must be a string, not \(try c.input(input).typeName)")
            }
            let requested = try c.string(0, "hashtype") ?? "sha512"
            let algorithm = try PasswordHashAlgorithm(requested, c)
            let salt = try algorithm.salt(
                given: try c.value(1, "salt"), size: try c.int(2, "salt_size"), c)
            let rounds = try algorithm.rounds(try c.int(3, "rounds"), c)
            switch algorithm {
            case .md5Crypt:
                return .v(.string("$1$\(salt)$\(CryptHash.md5(Array(password.utf8), salt: Array(salt.utf8)))"))
            case .shaCrypt(let variant):
                let digest = CryptHash.sha(Array(password.utf8), salt: Array(salt.utf8), rounds: rounds, variant: variant)
                // passlib leaves the crypt(3) default out of the hash, and writes any other count.
                let roundsField = rounds == CryptHash.defaultShaRounds ? "" : "rounds=\(rounds)$"
                return .v(.string("$\(variant.identifier)$\(roundsField)\(salt)$\(digest)"))
            }
        }
    }
}

/// The hash types `password_hash` accepts, with Ansible's names and passlib's rules for each.
enum PasswordHashAlgorithm {
    case md5Crypt
    case shaCrypt(CryptHash.ShaVariant)

    /// Ansible's short names and the passlib names they map to; any other name is refused.
    private static let passlibNames = ["md5": "md5_crypt", "blowfish": "bcrypt", "sha256": "sha256_crypt", "sha512": "sha512_crypt"]

    init(_ requested: String, _ c: Call) throws {
        let name = Self.passlibNames[requested] ?? requested
        switch name {
        case "md5_crypt": self = .md5Crypt
        case "sha256_crypt": self = .shaCrypt(.sha256)
        case "sha512_crypt": self = .shaCrypt(.sha512)
        case "bcrypt":
            throw c.error("password_hash: hash type '\(requested)' (bcrypt) is not supported by pgha-play; use sha512, sha256 or md5")
        default:
            throw c.error("password_hash: \(requested) is not in the list of supported passlib algorithms: md5, blowfish, sha256, sha512")
        }
    }

    var passlibName: String {
        switch self {
        case .md5Crypt: return "md5_crypt"
        case .shaCrypt(.sha256): return "sha256_crypt"
        case .shaCrypt(.sha512): return "sha512_crypt"
        }
    }

    private var maxSaltLength: Int {
        if case .md5Crypt = self { return CryptHash.maxMD5SaltLength }
        return CryptHash.maxShaSaltLength
    }

    /// The salt to hash with: the given one when set (Ansible treats an empty salt as none), else
    /// `size` (default: the algorithm's longest) random characters of the crypt alphabet from the
    /// system's CSPRNG. passlib refuses, rather than cuts, a salt that is too long.
    func salt(given: Value?, size: Int?, _ c: Call) throws -> String {
        if let given, given != .null, given != .string("") {
            let salt = Py.str(given)
            guard salt.utf8.allSatisfy({ CryptHash.alphabet.contains($0) }) else {
                throw c.error("password_hash: invalid characters in \(passlibName) salt (allowed: ./0-9A-Za-z)")
            }
            guard salt.utf8.count <= maxSaltLength else {
                throw c.error("password_hash: salt too large (\(passlibName) requires <= \(maxSaltLength) chars)")
            }
            return salt
        }
        let length = size.flatMap { $0 == 0 ? nil : $0 } ?? maxSaltLength
        guard (1...maxSaltLength).contains(length) else {
            throw c.error("password_hash: \(passlibName): salt_size (\(length)) must be between 1 and \(maxSaltLength)")
        }
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<length).map { _ in CryptHash.alphabet[Int.random(in: 0..<64, using: &generator)] }
        return String(decoding: characters, as: UTF8.self)
    }

    /// The rounds to hash with. Ansible asks passlib for the rounds Python's crypt module used as
    /// its default (sha256: 535000, sha512: 656000) when none are given; passlib refuses counts
    /// outside SHA-crypt's range where crypt(3) would clamp them.
    func rounds(_ requested: Int?, _ c: Call) throws -> Int {
        switch self {
        case .md5Crypt:
            if let requested, requested != 0 { throw c.error("password_hash: md5_crypt does not take rounds") }
            return 1000
        case .shaCrypt(let variant):
            guard let requested, requested != 0 else { return variant == .sha256 ? 535_000 : 656_000 }
            guard CryptHash.shaRoundsRange.contains(requested) else {
                throw c.error(
                    "password_hash: \(passlibName): rounds (\(requested)) must be between \(CryptHash.shaRoundsRange.lowerBound) and \(CryptHash.shaRoundsRange.upperBound)")
            }
            return requested
        }
    }
}
