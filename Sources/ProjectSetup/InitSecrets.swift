import PGHACore

/// One secret `pgha-play init` generates: vault.yml holds it as `vault_<name>`, main.yml sets
/// `<name>` from it, so a grep finds where each variable is set without decrypting anything.
public struct InitSecret: Sendable {
    /// How the value is made.
    public enum Kind: Sendable {
        /// `InitSecrets.password()`.
        case password
        /// The private key (PEM) of the cluster CA init makes; main.yml gets its certificate.
        case clusterCAPrivateKey
    }

    /// The variable the roles read, e.g. `pg_superuser_password`.
    public var name: String
    /// One line for main.yml, saying what the secret protects.
    public var comment: String
    public var kind: Kind

    public init(_ name: String, comment: String, kind: Kind = .password) {
        self.name = name
        self.comment = comment
        self.kind = kind
    }

    /// The name vault.yml holds the value under.
    public var vaultName: String { "vault_" + name }
}

/// Every secret an `init` inventory holds: the one table to extend when a role needs another
/// (a cluster CA's key, an exporter's password).
public enum InitSecrets {
    public static let all: [InitSecret] = [
        InitSecret("pg_superuser_password", comment: "PostgreSQL superuser (postgres), for admins and Patroni"),
        InitSecret("pg_replication_password", comment: "the replicator role replicas stream with"),
        InitSecret("pg_rewind_password", comment: "the rewind_user role pg_rewind connects as"),
        InitSecret("patroni_restapi_password", comment: "Patroni's REST API (patronictl, switchovers)"),
        InitSecret("haproxy_stats_password", comment: "HAProxy's stats page (user admin)"),
        InitSecret("postgres_exporter_password", comment: "the role postgres_exporter reads PostgreSQL's statistics as (role monitoring)"),
        InitSecret(
            "pgha_tls_ca_private_key", comment: "the cluster CA's key (PEM): signs node certificates on this machine, never copied to a host",
            kind: .clusterCAPrivateKey),
    ]

    /// Characters of generated passwords: letters and digits with no vowel and no x, so a password
    /// can never spell a placeholder the preflight role refuses (changeme, secret, todo, xxxx...),
    /// and never needs quoting in YAML, INI, HAProxy's or Patroni's configuration or a shell.
    public static let passwordAlphabet = Array("bcdfghjkmnpqrstvwyzBCDFGHJKLMNPQRSTVWYZ23456789")

    /// A password of `length` characters drawn uniformly from `passwordAlphabet` by the system's
    /// CSPRNG (getrandom on Linux): 40 characters carry about 220 bits.
    public static func password(length: Int = 40) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in passwordAlphabet[Int.random(in: 0..<passwordAlphabet.count, using: &generator)] })
    }
}
