import PGHACore

/// Why vaulted data could not be read or written. Turned into a `PGHAError` naming the file (and
/// line, for inline values) by `error(at:)`; never carries plaintext.
public enum VaultFailure: Error, Sendable, Equatable {
    /// The text does not start with `$ANSIBLE_VAULT`.
    case notVaulted
    /// The header or payload is damaged.
    case malformed(String)
    case unsupportedVersion(String)
    case unsupportedCipher(String)
    /// Vaulted data was found but no vault password was given.
    case noSecrets
    /// No password could decrypt it: every one failed the HMAC check (wrong password or changed data).
    case noSecretDecrypts(triedVaultIDs: [String])
    /// The HMAC matched but the padding did not: written by a faulty tool.
    case badPadding
    /// Decrypted, but the text is not UTF-8 where text is needed (a YAML file or inline value).
    case notText
    /// Encrypting text that is already vaulted (ansible-vault refuses too).
    case alreadyVaulted
    /// A password source gave nothing usable.
    case password(String)

    /// What went wrong, for people (never with plaintext in it).
    public var message: String {
        switch self {
        case .notVaulted: return "not vault-encrypted data (no $ANSIBLE_VAULT header)"
        case .malformed(let detail): return "damaged vault data: \(detail)"
        case .unsupportedVersion(let version):
            return "unknown vault format version '\(version)' (pgha-play reads 1.1 and 1.2)"
        case .unsupportedCipher(let cipher): return "unknown vault cipher '\(cipher)' (only AES256 is supported)"
        case .noSecrets: return "vault-encrypted data found, but no vault password was given"
        case .noSecretDecrypts(let ids):
            return "decryption failed: no vault password could decrypt it (tried vault id\(ids.count == 1 ? "" : "s") "
                + ids.map { "'\($0)'" }.joined(separator: ", ")
                + "): the password is wrong or the data was changed (HMAC check failed)"
        case .badPadding: return "damaged vault data: the decrypted padding is invalid"
        case .notText: return "the decrypted data is not UTF-8 text"
        case .alreadyVaulted: return "the input is already vault-encrypted"
        case .password(let detail): return detail
        }
    }

    var hint: String? {
        switch self {
        case .noSecrets: return "pass --vault-password-file FILE, --ask-vault-pass (-J) or --vault-id [LABEL@]SOURCE"
        case .noSecretDecrypts: return "check the vault password (or the --vault-id labels) and that the file is unchanged"
        default: return nil
        }
    }

    /// The failure as a user-facing error at `location`.
    public func error(at location: SourceLocation?) -> PGHAError {
        PGHAError(.vault, message, at: location, hint: hint)
    }
}
