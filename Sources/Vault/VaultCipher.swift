import Crypto
import Foundation
import _CryptoExtras

/// ansible-vault's AES256 cipher: keys from PBKDF2-HMAC-SHA256 (10,000 rounds) over the password and
/// a 32-byte random salt, AES-256 in CTR mode over the PKCS#7-padded plaintext, and an HMAC-SHA256
/// of the ciphertext (encrypt-then-MAC).
enum VaultCipher {
    /// Fixed by the format: files written with any other count would not open in Ansible.
    static let rounds = 10_000
    static let saltLength = 32
    static let keyLength = 32
    static let counterLength = 16
    static let blockSize = 16

    struct Keys {
        let cipherKey: SymmetricKey
        let hmacKey: SymmetricKey
        let initialCounter: [UInt8]
    }

    /// The 80 derived bytes, split as ansible-core does: AES key, HMAC key, initial counter block.
    static func keys(password: [UInt8], salt: [UInt8]) throws -> Keys {
        // 10,000 rounds is below swift-crypto's recommended minimum, hence the unchecked entry point.
        let derived = try KDF.Insecure.PBKDF2.deriveKey(
            from: password, salt: salt, using: .sha256, outputByteCount: 2 * keyLength + counterLength,
            unsafeUncheckedRounds: rounds)
        let bytes = derived.withUnsafeBytes { Array($0) }
        return Keys(
            cipherKey: SymmetricKey(data: bytes[0..<keyLength]),
            hmacKey: SymmetricKey(data: bytes[keyLength..<(2 * keyLength)]),
            initialCounter: Array(bytes[(2 * keyLength)...]))
    }

    static func randomSalt() -> [UInt8] {
        // SystemRandomNumberGenerator reads the kernel's CSPRNG (getrandom on Linux).
        var generator = SystemRandomNumberGenerator()
        return (0..<saltLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    static func encrypt(_ plaintext: [UInt8], password: [UInt8], salt: [UInt8]) throws -> (hmac: [UInt8], ciphertext: [UInt8]) {
        let keys = try keys(password: password, salt: salt)
        let padding = blockSize - plaintext.count % blockSize
        let padded = plaintext + [UInt8](repeating: UInt8(padding), count: padding)
        let ciphertext = Array(
            try AES._CTR.encrypt(padded, using: keys.cipherKey, nonce: AES._CTR.Nonce(nonceBytes: keys.initialCounter)))
        let mac = Array(HMAC<SHA256>.authenticationCode(for: ciphertext, using: keys.hmacKey))
        return (mac, ciphertext)
    }

    /// The plaintext, or nil when the HMAC does not match (a wrong password or changed data).
    static func decrypt(_ envelope: VaultEnvelope, password: [UInt8]) throws -> [UInt8]? {
        let keys = try keys(password: password, salt: envelope.salt)
        // isValidAuthenticationCode compares in constant time.
        guard HMAC<SHA256>.isValidAuthenticationCode(envelope.hmac, authenticating: envelope.ciphertext, using: keys.hmacKey)
        else { return nil }
        let padded = Array(
            try AES._CTR.decrypt(envelope.ciphertext, using: keys.cipherKey, nonce: AES._CTR.Nonce(nonceBytes: keys.initialCounter)))
        guard let last = padded.last, last >= 1, Int(last) <= blockSize, Int(last) <= padded.count,
            padded.suffix(Int(last)).allSatisfy({ $0 == last })
        else { throw VaultFailure.badPadding }
        return Array(padded.dropLast(Int(last)))
    }
}
