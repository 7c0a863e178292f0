import Foundation
import PGHACore

/// One vault password and the vault id (label) it was given for.
public struct VaultSecret: Sendable, Equatable {
    /// The vault id: `LABEL` of `--vault-id LABEL@SOURCE`, or "default".
    public var label: String
    /// The password's bytes (ansible-vault compares bytes, not text).
    public var password: [UInt8]

    public init(label: String = VaultEnvelope.defaultVaultID, password: [UInt8]) {
        self.label = label
        self.password = password
    }

    public init(label: String = VaultEnvelope.defaultVaultID, password: String) {
        self.init(label: label, password: Array(password.utf8))
    }
}

/// The passwords of a run in the order they were given (`--vault-id` first, then password files,
/// then the prompt), as Ansible keeps them.
public struct VaultSecrets: Sendable, Equatable {
    public var secrets: [VaultSecret]

    public init(_ secrets: [VaultSecret] = []) {
        self.secrets = secrets
    }

    /// No passwords: vaulted data cannot be read.
    public static let none = VaultSecrets()

    public var isEmpty: Bool { secrets.isEmpty }

    /// The passwords to try for data whose header names `vaultID` (1.1 data counts as "default"):
    /// those with that label first, then every other one in order.
    public func candidates(for vaultID: String?) -> [VaultSecret] {
        let target = vaultID ?? VaultEnvelope.defaultVaultID
        return secrets.filter { $0.label == target } + secrets.filter { $0.label != target }
    }

    /// The password to encrypt with: the one labelled `vaultID` when given (an error when none is),
    /// otherwise the first. ansible-vault's `match_encrypt_secret`.
    public func encryptionSecret(vaultID: String? = nil) throws(VaultFailure) -> VaultSecret {
        if let vaultID {
            guard let match = secrets.first(where: { $0.label == vaultID }) else {
                throw .password(
                    "no vault password has the vault id '\(vaultID)' (known: \(secrets.map(\.label).joined(separator: ", ")))")
            }
            return match
        }
        guard let first = secrets.first else { throw .noSecrets }
        return first
    }
}
