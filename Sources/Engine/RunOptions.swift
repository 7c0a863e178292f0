import OrderedCollections
import PGHACore
import Vault

/// What the operator asked for on the command line.
public struct RunOptions: Sendable {
    public enum ConnectionKind: String, Sendable { case ssh, local }

    public var inventorySources: [String] = []
    public var limit: String?
    public var tags: [String] = []
    public var skipTags: [String] = []
    public var check = false
    public var diff = false
    /// Extra vars, highest precedence, in the order given.
    public var extraVars: OrderedDictionary<String, Value> = [:]
    public var forks = 50
    public var connection: ConnectionKind?
    public var remoteUser: String?
    public var privateKeyFile: String?
    public var become = false
    public var becomeUser: String?
    public var becomePassword: String?
    public var connectionPassword: String?
    public var verbosity = 0
    /// Extra directories searched for roles after the playbook's own `roles/`.
    public var roleSearchPaths: [String] = []
    /// Where installed collections are (`CollectionRoles.configuredPaths`).
    public var collectionPaths: [String] = []
    public var startAtTask: String?
    /// `-T/--timeout`: seconds to connect to a host, and how long a connected host may stay
    /// silent (keepalives unanswered) before it counts as unreachable. `ansible_timeout` wins.
    public var connectionTimeout: Double = 10
    /// Accept unknown SSH host keys and record them.
    public var acceptNewHostKeys = false
    /// The vault passwords (`--vault-password-file`, `--ask-vault-pass`, `--vault-id`).
    public var vaultSecrets = VaultSecrets()

    public init() {}
}
