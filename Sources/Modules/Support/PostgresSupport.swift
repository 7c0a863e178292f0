import Foundation
import OrderedCollections
import PGHACore
import Transport

/// What the community.postgresql modules share: login arguments, and running psql with SQL (and
/// secrets) on standard input only.
enum Postgres {
    static let loginArguments: [ArgumentSpec.Argument] = [
        .init("login_user", .string, default: "postgres", aliases: ["login"]),
        .init("login_password", .string, default: "", secret: true),
        .init("login_host", .string, default: "", aliases: ["host"]),
        .init("login_unix_socket", .string, default: "", aliases: ["unix_socket"]),
        .init("port", .int, default: 5432, aliases: ["login_port"]),
        .init("ssl_mode", .choice(["allow", "disable", "prefer", "require", "verify-ca", "verify-full"]), default: "prefer"),
        .init("ca_cert", .string, aliases: ["ssl_rootcert"]),
        .init("trust_input", .bool, default: true),
        .init("session_role", .string),
    ]

    /// psql's `\set` argument quoting: the value reaches the server only through `:'var'` or
    /// `:"var"`, which psql quotes as a literal or identifier.
    static func setVariable(_ name: String, _ value: String) -> String {
        "\\set \(name) '" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            .replacingOccurrences(of: "\n", with: "\\n") + "'\n"
    }

    /// Runs psql (one round trip). The login password is the first line of standard input, read into
    /// PGPASSWORD by the shell; the SQL follows it. Neither appears on a command line.
    static func psql(
        _ args: ModuleArguments, db: String?, _ sql: String, context: ModuleContext
    ) async throws -> CommandResult {
        var words = ["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-F", "'|'"]
        if let db, !db.isEmpty { words += ["-d", shellQuote(db)] }
        words += ["-U", shellQuote(args.string("login_user") ?? "postgres"), "-p", String(args.int("port") ?? 5432)]
        let host = args.string("login_host") ?? ""
        let socket = args.string("login_unix_socket") ?? ""
        // As the collection's get_conn_params: with a socket given, no host or "localhost" means the
        // socket; any other host is reached over TCP.
        if (host.isEmpty || host == "localhost") && !socket.isEmpty {
            words += ["-h", shellQuote(socket)]
        } else if !host.isEmpty {
            words += ["-h", shellQuote(host)]
        }
        var script = "IFS= read -r PGPASSWORD; if [ -n \"$PGPASSWORD\" ]; then export PGPASSWORD; else unset PGPASSWORD; fi; "
        script += "PGSSLMODE=\(shellQuote(args.string("ssl_mode") ?? "prefer")) "
        if let ca = args.string("ca_cert") { script += "PGSSLROOTCERT=\(shellQuote(ca)) " }
        script += "exec " + words.joined(separator: " ")
        var input = (args.string("login_password") ?? "").replacingOccurrences(of: "\n", with: "") + "\n"
        if let role = args.string("session_role") { input += setVariable("pgha_session_role", role) + "SET ROLE :\"pgha_session_role\";\n" }
        input += sql
        return try await HostScript.run(context, script, stdin: Array(input.utf8))
    }

    static func failure(_ result: CommandResult, _ what: String) -> ModuleResult {
        let err = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        if err.contains("could not connect") || err.contains("connection to server") || err.contains("authentication failed")
            || err.contains("Peer authentication")
        {
            return .failure("unable to connect to database: \(err)")
        }
        return .failure("\(what): \(err)")
    }

    static func rows(_ text: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
    }
}

/// SCRAM-SHA-256 verifiers (RFC 5802/7677) as PostgreSQL stores them in pg_authid.rolpassword:
/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
enum SCRAM {
    static func hmac(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var key = key
        if key.count > 64 { key = Digest.sha256Bytes(key) }
        key += [UInt8](repeating: 0, count: 64 - key.count)
        let inner = Digest.sha256Bytes(key.map { $0 ^ 0x36 } + message)
        return Digest.sha256Bytes(key.map { $0 ^ 0x5c } + inner)
    }

    /// PBKDF2-HMAC-SHA256 with one 32-byte block: all SCRAM-SHA-256 needs.
    static func pbkdf2(_ password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        var u = hmac(password, salt + [0, 0, 0, 1])
        var result = u
        if iterations > 1 {
            for _ in 2...iterations {
                u = hmac(password, u)
                for i in 0..<result.count { result[i] ^= u[i] }
            }
        }
        return result
    }

    /// Whether `password` matches a stored verifier. PostgreSQL SASLprep-normalizes passwords;
    /// ASCII passwords (the usual case) are unchanged by it.
    static func verify(_ password: String, against stored: String) -> Bool {
        guard stored.hasPrefix("SCRAM-SHA-256$") else { return false }
        let body = stored.dropFirst("SCRAM-SHA-256$".count)
        let halves = body.split(separator: "$")
        guard halves.count == 2 else { return false }
        let params = halves[0].split(separator: ":")
        let keys = halves[1].split(separator: ":")
        guard params.count == 2, keys.count == 2, let iterations = Int(params[0]),
            let salt = Base64.decode(String(params[1])), let storedKey = Base64.decode(String(keys[0])),
            let serverKey = Base64.decode(String(keys[1]))
        else { return false }
        let salted = pbkdf2(Array(password.utf8), salt: salt, iterations: iterations)
        let clientKey = hmac(salted, Array("Client Key".utf8))
        return Digest.sha256Bytes(clientKey) == storedKey && hmac(salted, Array("Server Key".utf8)) == serverKey
    }

    /// Whether the stored password (SCRAM, md5 or absent) is `password` for `user`.
    static func matches(_ password: String, stored: String, user: String) -> Bool {
        if password == stored { return true }
        if stored.hasPrefix("SCRAM-SHA-256$") { return verify(password, against: stored) }
        if stored.hasPrefix("md5") { return "md5" + Digest.md5(Array((password + user).utf8)) == stored }
        return false
    }
}
