import Foundation
import PGHACore

/// ansible-vault's format, both ways: the entry points for everything that encrypts or decrypts.
///
/// ```swift
/// let text = try Vault.encrypt("s3cret\n", password: "pw")             // "$ANSIBLE_VAULT;1.1;AES256\n..."
/// let back = try Vault.decrypt(text, secrets: VaultSecrets([VaultSecret(password: "pw")]))
/// ```
public enum Vault {
    /// What decrypting gave: the plaintext and the vault id of the password that opened it.
    public struct Decryption: Sendable {
        /// The decrypted bytes (any file content, not only text).
        public var plaintext: [UInt8]
        /// The label of the password that decrypted the data (used again when `edit` saves it).
        public var secret: VaultSecret
        /// The parsed header and payload (its `vaultID` is what `edit` keeps).
        public var envelope: VaultEnvelope

        /// The plaintext as UTF-8 text.
        public func text() throws(VaultFailure) -> String {
            guard let text = String(validating: plaintext, as: UTF8.self) else { throw .notText }
            return text
        }
    }

    /// True when `text` is vaulted data (starts with `$ANSIBLE_VAULT`).
    public static func isEncrypted(_ text: String) -> Bool { VaultEnvelope.isVaulted(text) }

    /// Encrypts `plaintext` into ansible-vault's text: format 1.1, or 1.2 naming `vaultID` when one
    /// other than "default" is given. A fresh random salt each time.
    public static func encrypt(_ plaintext: [UInt8], password: [UInt8], vaultID: String? = nil) throws(VaultFailure) -> String {
        guard !password.isEmpty else { throw .password("the vault password is empty") }
        guard !VaultEnvelope.isVaulted(plaintext) else { throw .alreadyVaulted }
        if let vaultID, vaultID.contains(";") || vaultID.contains(where: \.isNewline) {
            throw .password("'\(vaultID)' is not a valid vault id: ';' and line breaks are not allowed")
        }
        let salt = VaultCipher.randomSalt()
        let sealed: (hmac: [UInt8], ciphertext: [UInt8])
        do {
            sealed = try VaultCipher.encrypt(plaintext, password: password, salt: salt)
        } catch {
            throw .malformed("the cipher failed: \(error)")
        }
        let labelled = vaultID.flatMap { $0.isEmpty || $0 == VaultEnvelope.defaultVaultID ? nil : $0 }
        return VaultEnvelope(
            version: labelled == nil ? "1.1" : "1.2", cipher: VaultEnvelope.cipherName, vaultID: labelled, salt: salt,
            hmac: sealed.hmac, ciphertext: sealed.ciphertext
        ).text
    }

    /// Encrypts UTF-8 text with a password given as text; see `encrypt(_:password:vaultID:)`.
    public static func encrypt(_ plaintext: String, password: String, vaultID: String? = nil) throws(VaultFailure) -> String {
        try encrypt(Array(plaintext.utf8), password: Array(password.utf8), vaultID: vaultID)
    }

    /// Encrypts with one of `secrets` (see `VaultSecrets.encryptionSecret`), labelling the data with its vault id.
    public static func encrypt(_ plaintext: [UInt8], secrets: VaultSecrets, vaultID: String? = nil) throws(VaultFailure) -> String {
        let secret = try secrets.encryptionSecret(vaultID: vaultID)
        return try encrypt(plaintext, password: secret.password, vaultID: secret.label)
    }

    /// Decrypts ansible-vault text, trying the password labelled as the header's vault id first,
    /// then the others in order.
    public static func decrypt(_ text: String, secrets: VaultSecrets) throws(VaultFailure) -> Decryption {
        let envelope = try VaultEnvelope.parse(text)
        guard !secrets.isEmpty else { throw .noSecrets }
        var tried: [String] = []
        for secret in secrets.candidates(for: envelope.vaultID) {
            let plaintext: [UInt8]?
            do {
                plaintext = try VaultCipher.decrypt(envelope, password: secret.password)
            } catch let failure as VaultFailure {
                throw failure
            } catch {
                throw .malformed("the cipher failed: \(error)")
            }
            if let plaintext { return Decryption(plaintext: plaintext, secret: secret, envelope: envelope) }
            if !tried.contains(secret.label) { tried.append(secret.label) }
        }
        throw .noSecretDecrypts(triedVaultIDs: tried)
    }

    /// Decrypts ansible-vault text holding UTF-8 text.
    public static func decryptText(_ text: String, secrets: VaultSecrets) throws(VaultFailure) -> String {
        try decrypt(text, secrets: secrets).text()
    }

    /// `encrypt_string`'s output: `NAME: !vault |` (or a bare `!vault |`) and the vaulted text
    /// indented by `indent` spaces, ready to paste into a YAML mapping.
    public static func inlineYAML(_ vaultText: String, name: String? = nil, indent: Int = 10) -> String {
        var lines = [(name.map { "\($0): " } ?? "") + "!vault |"]
        for line in vaultText.split(whereSeparator: \.isNewline) {
            lines.append(String(repeating: " ", count: indent) + line)
        }
        return lines.joined(separator: "\n")
    }
}
