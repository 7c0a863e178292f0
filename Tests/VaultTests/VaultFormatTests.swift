import Foundation
import Testing

@testable import Vault

/// Known answers from ansible-vault 2.19 (`ANSIBLE_VAULT_ENCRYPT_SALT` fixes its salt), so the
/// format and cipher are checked byte for byte without the oracle installed; `OracleVaultTests`
/// checks against the live tool.
enum AnsibleVectors {
    static let password = "pgha-test-password"
    static let salt = Array("0123456789abcdef0123456789abcdef".utf8)

    /// `ansible-vault encrypt --vault-password-file pw` of "hello vault\n".
    static let helloV11 = """
        $ANSIBLE_VAULT;1.1;AES256
        33303331333233333334333533363337333833393631363236333634363536363330333133323333
        3334333533363337333833393631363236333634363536360a663133396336356562646432303939
        33306335653161313133643564333035383666343565656165643966663162656462393733306632
        6534343431323437380a363732396534303737346135316234396462383363326431373132363565
        3231

        """

    /// `ansible-vault encrypt --vault-id prod@pw` of "exactly sixteen!" (one whole block: a full pad block follows).
    static let sixteenV12 = """
        $ANSIBLE_VAULT;1.2;AES256;prod
        33303331333233333334333533363337333833393631363236333634363536363330333133323333
        3334333533363337333833393631363236333634363536360a303362633037633439623666323664
        37653831663562653235373332636462643263373562393433346132393832613233626632656434
        3563663831623936640a366133346539303836666539313430386464383663656166313034373334
        30346130623334623566626538303465376565306435646438373737333832393737

        """

    /// `ansible-vault encrypt_string --vault-password-file pw --name db_password 'Sup3r-s3cret-pw'`.
    static let inlineString = """
        db_password: !vault |
                  $ANSIBLE_VAULT;1.1;AES256
                  33303331333233333334333533363337333833393631363236333634363536363330333133323333
                  3334333533363337333833393631363236333634363536360a663139633034383439396161653734
                  39646335666662383561373338353263393736386336303430396531356465656337366164333238
                  3134613962613637330a356333396638353836396138316531626364396464336166353835323264
                  3234
        """

    static var secrets: VaultSecrets { VaultSecrets([VaultSecret(password: password)]) }
}

@Suite("ansible-vault format and cipher")
struct VaultFormatTests {
    /// Encrypts as `Vault.encrypt` does but with the vectors' salt.
    private func encrypt(_ plaintext: String, vaultID: String?) throws -> String {
        let sealed = try VaultCipher.encrypt(Array(plaintext.utf8), password: Array(AnsibleVectors.password.utf8), salt: AnsibleVectors.salt)
        return VaultEnvelope(
            version: vaultID == nil ? "1.1" : "1.2", cipher: "AES256", vaultID: vaultID, salt: AnsibleVectors.salt,
            hmac: sealed.hmac, ciphertext: sealed.ciphertext
        ).text
    }

    @Test func encryptsByteForByteAsAnsibleVault() throws {
        #expect(try encrypt("hello vault\n", vaultID: nil) == AnsibleVectors.helloV11)
        #expect(try encrypt("exactly sixteen!", vaultID: "prod") == AnsibleVectors.sixteenV12)
    }

    @Test func encryptStringOutputMatchesAnsible() throws {
        let vaulted = try encrypt("Sup3r-s3cret-pw", vaultID: nil)
        #expect(Vault.inlineYAML(vaulted, name: "db_password") == AnsibleVectors.inlineString)
    }

    @Test func decryptsAnsibleVaultOutput() throws {
        let v11 = try Vault.decrypt(AnsibleVectors.helloV11, secrets: AnsibleVectors.secrets)
        #expect(try v11.text() == "hello vault\n")
        #expect(v11.envelope.version == "1.1" && v11.envelope.vaultID == nil)
        let v12 = try Vault.decrypt(AnsibleVectors.sixteenV12, secrets: AnsibleVectors.secrets)
        #expect(try v12.text() == "exactly sixteen!")
        #expect(v12.envelope.vaultID == "prod")
    }

    @Test func roundTripsWithAFreshSaltEachTime() throws {
        for plaintext in ["", "x", "exactly sixteen!", String(repeating: "long line of text ", count: 40), "ünïcødé ✓\n"] {
            let first: String = try Vault.encrypt(plaintext, password: "pw")
            let second = try Vault.encrypt(plaintext, password: "pw")
            #expect(first != second, "the salt must differ")
            #expect(try VaultEnvelope.parse(first).salt.count == 32)
            #expect(try Vault.decryptText(first, secrets: VaultSecrets([VaultSecret(password: "pw")])) == plaintext)
            let lineLengths = first.split(separator: "\n" as Character).map(\.count)
            #expect(lineLengths.dropFirst().allSatisfy { $0 <= 80 })
            #expect(first.hasSuffix("\n"))
        }
    }

    @Test func headerVersionFollowsTheVaultID() throws {
        #expect(try Vault.encrypt("a", password: "pw").hasPrefix("$ANSIBLE_VAULT;1.1;AES256\n"))
        #expect(try Vault.encrypt("a", password: "pw", vaultID: "default").hasPrefix("$ANSIBLE_VAULT;1.1;AES256\n"))
        #expect(try Vault.encrypt("a", password: "pw", vaultID: "prod").hasPrefix("$ANSIBLE_VAULT;1.2;AES256;prod\n"))
        #expect(throws: VaultFailure.self) { try Vault.encrypt("a", password: "pw", vaultID: "a;b") }
        #expect(throws: VaultFailure.alreadyVaulted) { try Vault.encrypt(AnsibleVectors.helloV11, password: "pw") }
        #expect(throws: VaultFailure.self) { try Vault.encrypt("a", password: "") }
    }

    @Test func wrongPasswordFailsTheHMACCheck() {
        let wrong = VaultSecrets([VaultSecret(label: "dev", password: "not-it"), VaultSecret(password: "nor-this")])
        #expect(throws: VaultFailure.noSecretDecrypts(triedVaultIDs: ["default", "dev"])) {
            try Vault.decrypt(AnsibleVectors.helloV11, secrets: wrong)
        }
        #expect(throws: VaultFailure.noSecrets) { try Vault.decrypt(AnsibleVectors.helloV11, secrets: .none) }
    }

    @Test func aChangedByteIsRefused() throws {
        var lines = AnsibleVectors.helloV11.split(separator: "\n").map(String.init)
        // Flip one hex digit of the ciphertext (still valid hex: the HMAC check catches it).
        var last = Array(lines[4])
        last[1] = last[1] == "1" ? "2" : "1"
        lines[4] = String(last)
        #expect(throws: VaultFailure.noSecretDecrypts(triedVaultIDs: ["default"])) {
            try Vault.decrypt(lines.joined(separator: "\n"), secrets: AnsibleVectors.secrets)
        }
        // A character that is not hex at all is a format error.
        var bad = Array(lines[2])
        bad[3] = "z"
        lines[2] = String(bad)
        #expect(throws: VaultFailure.malformed("the payload is not hexadecimal")) {
            try Vault.decrypt(lines.joined(separator: "\n"), secrets: AnsibleVectors.secrets)
        }
        #expect(throws: VaultFailure.self) {
            try Vault.decrypt(String(AnsibleVectors.helloV11.prefix(200)), secrets: AnsibleVectors.secrets)
        }
    }

    @Test func unknownVersionsAndCiphersAreNamed() {
        let v13 = AnsibleVectors.helloV11.replacingOccurrences(of: ";1.1;", with: ";1.3;")
        #expect(throws: VaultFailure.unsupportedVersion("1.3")) { try Vault.decrypt(v13, secrets: AnsibleVectors.secrets) }
        let aes = AnsibleVectors.helloV11.replacingOccurrences(of: ";AES256", with: ";AES")
        #expect(throws: VaultFailure.unsupportedCipher("AES")) { try Vault.decrypt(aes, secrets: AnsibleVectors.secrets) }
        #expect(throws: VaultFailure.notVaulted) { try Vault.decrypt("plain: yaml\n", secrets: AnsibleVectors.secrets) }
        #expect(VaultFailure.unsupportedVersion("1.3").message.contains("1.3"))
    }

    @Test func theHeaderLabelIsTriedFirst() throws {
        // Both labels hold the right password: the one named in the header opens it.
        let secrets = VaultSecrets([
            VaultSecret(label: "dev", password: AnsibleVectors.password),
            VaultSecret(label: "prod", password: AnsibleVectors.password),
        ])
        #expect(try Vault.decrypt(AnsibleVectors.sixteenV12, secrets: secrets).secret.label == "prod")
        #expect(try Vault.decrypt(AnsibleVectors.helloV11, secrets: secrets).secret.label == "dev")
        #expect(secrets.candidates(for: "prod").map(\.label) == ["prod", "dev"])
        // A label that is not in the header still gets its turn.
        let other = VaultSecrets([VaultSecret(label: "x", password: "no"), VaultSecret(label: "y", password: AnsibleVectors.password)])
        #expect(try Vault.decrypt(AnsibleVectors.sixteenV12, secrets: other).secret.label == "y")
    }

    @Test func encryptionSecretMatchesAnsible() throws {
        let secrets = VaultSecrets([VaultSecret(label: "dev", password: "a"), VaultSecret(label: "prod", password: "b")])
        #expect(try secrets.encryptionSecret().label == "dev")
        #expect(try secrets.encryptionSecret(vaultID: "prod").label == "prod")
        #expect(throws: VaultFailure.self) { try secrets.encryptionSecret(vaultID: "qa") }
        let text = try Vault.encrypt(Array("x".utf8), secrets: secrets, vaultID: "prod")
        #expect(text.hasPrefix("$ANSIBLE_VAULT;1.2;AES256;prod\n"))
    }

    @Test func envelopeToleratesAnsiblesLayoutVariants() throws {
        // Indented (as inside a YAML block), CRLF line ends, upper-case hex.
        let indented = AnsibleVectors.helloV11.split(separator: "\n").map { "    " + $0 }.joined(separator: "\r\n")
        #expect(try Vault.decryptText(indented, secrets: AnsibleVectors.secrets) == "hello vault\n")
        let upper = AnsibleVectors.helloV11.split(separator: "\n").enumerated().map { $0.offset == 0 ? String($0.element) : $0.element.uppercased() }
            .joined(separator: "\n")
        #expect(try Vault.decryptText(upper, secrets: AnsibleVectors.secrets) == "hello vault\n")
    }
}
