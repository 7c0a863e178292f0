import Foundation
import PGHACore
import Testing

@testable import Vault

/// A scratch directory removed when the test ends.
final class ScratchDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "vault-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String, mode: Int = 0o644) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
        return file
    }

    func read(_ name: String) throws -> String { try String(contentsOfFile: path + "/" + name, encoding: .utf8) }
}

@Suite("Decrypting as files are loaded")
struct VaultContextTests {
    let password = "context-pw"
    var secrets: VaultSecrets { VaultSecrets([VaultSecret(password: password)]) }

    @Test func inlineValuesAreDecryptedAndBecomeSecrets() throws {
        let vaulted = try Vault.encrypt("inline-secret-value", password: password)
        let yaml = "plain: visible\n" + Vault.inlineYAML(vaulted, name: "db_password", indent: 2) + "\nlist:\n  - " + "x\n"
        let redactor = Redactor()
        let context = VaultContext(secrets: secrets, redactor: redactor)
        let node = try #require(try context.loadYAML(yaml, file: "/inventory/group_vars/all.yml"))
        #expect(node["db_password"]?.value == .string("inline-secret-value"))
        #expect(node["db_password"]?.customTag == "!vault")
        #expect(node["db_password"]?.containsSecret == true)
        #expect(node["plain"]?.value == .string("visible"))
        #expect(redactor.redact("pw=inline-secret-value, plain=visible") == "pw=\(Redactor.mask), plain=visible")
    }

    @Test func wholeVaultedFilesAreDecryptedAndEveryValueIsSecret() throws {
        let plaintext = "vault_db_password: whole-file-secret\nvault_api_token: another-one-here\nvault_pin: 918273\n"
        let vaulted = try Vault.encrypt(plaintext, password: password)
        let redactor = Redactor()
        let node = try #require(try VaultContext(secrets: secrets, redactor: redactor).loadYAML(vaulted, file: "/x/vault.yml"))
        #expect(node["vault_db_password"]?.value == .string("whole-file-secret"))
        #expect(node["vault_pin"]?.value == .int(918273))
        let shown = redactor.redact("whole-file-secret another-one-here 918273 vault_db_password")
        #expect(shown == "\(Redactor.mask) \(Redactor.mask) \(Redactor.mask) vault_db_password")
    }

    @Test func errorsNameTheFileAndTheLineOfAnInlineValue() throws {
        let vaulted = try Vault.encrypt("s3cret-value", password: "other-password")
        let yaml = "a: 1\nb: 2\n" + Vault.inlineYAML(vaulted, name: "c", indent: 2) + "\n"
        let error = try #require(throws: PGHAError.self) {
            try VaultContext(secrets: secrets, redactor: nil).loadYAML(yaml, file: "/p/vars.yml")
        }
        #expect(error.kind == .vault)
        #expect(error.location?.file == "/p/vars.yml")
        #expect(error.location?.line == 3)
        #expect(error.message.contains("decryption failed"))

        let none = try #require(throws: PGHAError.self) { try VaultContext.none.loadYAML(yaml, file: "/p/vars.yml") }
        #expect(none.message.contains("no vault password was given"))
        #expect(none.hint?.contains("--vault-password-file") == true)

        let whole = try Vault.encrypt("a: b\n", password: "other-password")
        let wholeError = try #require(throws: PGHAError.self) {
            try VaultContext(secrets: secrets, redactor: nil).loadYAML(whole, file: "/p/vault.yml")
        }
        #expect(wholeError.location == SourceLocation(file: "/p/vault.yml", line: 1))
    }

    @Test func aYAMLErrorInDecryptedTextDoesNotShowIt() throws {
        let vaulted = try Vault.encrypt("ok: fine\nbroken: [unclosed-secret-text\n", password: password)
        let error = try #require(throws: PGHAError.self) {
            try VaultContext(secrets: secrets, redactor: nil).loadYAML(vaulted, file: "/p/vault.yml")
        }
        #expect(error.location?.file == "/p/vault.yml")
        #expect(error.message.contains("decrypted content"))
        #expect(!error.description.contains("unclosed-secret-text"), "\(error.description)")
    }

    @Test func readFileDecryptsVaultedFilesOnly() throws {
        let scratch = try ScratchDirectory()
        let plain = try scratch.write("plain.txt", "not secret\n")
        let secret = try scratch.write("key.pem", try Vault.encrypt("-----BEGIN KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END KEY-----\n", password: password))
        let redactor = Redactor()
        let context = VaultContext(secrets: secrets, redactor: redactor)
        #expect(try context.readFile(plain) == Array("not secret\n".utf8))
        #expect(String(decoding: try context.readFile(secret), as: UTF8.self).hasPrefix("-----BEGIN KEY-----\n"))
        #expect(redactor.redact("c2VjcmV0LWtleS1ieXRlcw==") == Redactor.mask)
        #expect(redactor.redact("not secret") == "not secret")
    }
}

@Suite("Vault passwords")
struct VaultPasswordTests {
    let reader = VaultPasswordReader(prompt: { _ in throw PGHAError(.usage, "no terminal in tests") })

    @Test func identitiesFollowAnsiblesOrder() throws {
        let options = VaultPasswordOptions(
            vaultIDs: ["dev@dev.txt", "prod@prompt", "plain.txt"], passwordFiles: ["pw1"], askVaultPass: true,
            defaultPasswordFile: "/env/pw")
        #expect(try options.identities(autoPrompt: false) == [
            VaultIdentity(label: "dev", source: .file("dev.txt")),
            VaultIdentity(label: "prod", source: .prompt(askVaultPass: false)),
            VaultIdentity(label: "default", source: .file("plain.txt")),
            VaultIdentity(label: "default", source: .file("pw1")),
            VaultIdentity(label: "default", source: .file("/env/pw")),
            VaultIdentity(label: "default", source: .prompt(askVaultPass: true)),
        ])
        #expect(try VaultPasswordOptions().identities(autoPrompt: true) == [VaultIdentity(source: .prompt(askVaultPass: true))])
        #expect(try VaultPasswordOptions().identities(autoPrompt: false) == [])
        #expect(throws: VaultFailure.self) { try VaultIdentity(parsing: "a;b@file") }
    }

    @Test func theEnvironmentOverridesTheProjectFile() {
        #expect(
            VaultPasswordOptions.defaultPasswordFile(
                environment: ["ANSIBLE_VAULT_PASSWORD_FILE": "/from/env"], projectSetting: ".vault-pass", projectDirectory: "/proj")
                == "/from/env")
        #expect(
            VaultPasswordOptions.defaultPasswordFile(environment: [:], projectSetting: ".vault-pass", projectDirectory: "/proj")
                == "/proj/.vault-pass")
        #expect(VaultPasswordOptions.defaultPasswordFile(environment: [:], projectSetting: nil, projectDirectory: "/proj") == nil)
    }

    @Test func passwordFilesAreStrippedAsAnsibleStripsThem() throws {
        let scratch = try ScratchDirectory()
        let file = try scratch.write("pw", "  spaced pass word \r\n\n")
        let secrets = try reader.secrets(for: [VaultIdentity(label: "dev", source: .file(file))])
        #expect(secrets.secrets == [VaultSecret(label: "dev", password: "spaced pass word")])
    }

    @Test func executablesPrintThePassword() throws {
        let scratch = try ScratchDirectory()
        let script = try scratch.write("pass.sh", "#!/bin/sh\nprintf 'from-script\\n'\n", mode: 0o755)
        #expect(try reader.secrets(for: [VaultIdentity(source: .file(script))]).secrets[0].password == Array("from-script".utf8))
        // A `-client` script is asked for its vault id.
        let client = try scratch.write("vault-client.sh", "#!/bin/sh\n[ \"$1\" = --vault-id ] && printf 'pw-for-%s' \"$2\"\n", mode: 0o755)
        #expect(try reader.secrets(for: [VaultIdentity(label: "prod", source: .file(client))]).secrets[0].password == Array("pw-for-prod".utf8))
        let failing = try scratch.write("fail.sh", "#!/bin/sh\nexit 3\n", mode: 0o755)
        let error = try #require(throws: PGHAError.self) { try reader.secrets(for: [VaultIdentity(source: .file(failing))]) }
        #expect(error.message.contains("returned non-zero (3)"))
    }

    @Test func badSourcesAreErrorsUnlessAnotherWorked() throws {
        let scratch = try ScratchDirectory()
        let empty = try scratch.write("empty", "\n \n")
        let good = try scratch.write("good", "good-pw\n")
        let emptyError = try #require(throws: PGHAError.self) { try reader.secrets(for: [VaultIdentity(source: .file(empty))]) }
        #expect(emptyError.message.contains("Invalid vault password was provided from file"))
        let missing = try #require(throws: PGHAError.self) {
            try reader.secrets(for: [VaultIdentity(source: .file(scratch.path + "/nope"))])
        }
        #expect(missing.message.contains("was not found"))
        nonisolated(unsafe) var warnings: [String] = []
        let warning = VaultPasswordReader(prompt: { _ in "" }, warn: { warnings.append($0) })
        let secrets = try warning.secrets(for: [VaultIdentity(source: .file(scratch.path + "/nope")), VaultIdentity(label: "g", source: .file(good))])
        #expect(secrets.secrets.map(\.label) == ["g"])
        #expect(warnings.count == 1)
    }

    @Test func aVaultedPasswordFileOpensWithAnEarlierPassword() throws {
        let scratch = try ScratchDirectory()
        let first = try scratch.write("first", "first-pw\n")
        let second = try scratch.write("second", try Vault.encrypt("second-pw\n", password: "first-pw"))
        let secrets = try reader.secrets(for: [
            VaultIdentity(label: "a", source: .file(first)), VaultIdentity(label: "b", source: .file(second)),
        ])
        #expect(secrets.secrets.map(\.password) == [Array("first-pw".utf8), Array("second-pw".utf8)])
    }

    @Test func promptsConfirmNewPasswords() throws {
        nonisolated(unsafe) var asked: [String] = []
        nonisolated(unsafe) var answers = ["new-pw", "new-pw", "a", "b"]
        let prompting = VaultPasswordReader(prompt: { text in
            asked.append(text)
            return answers.removeFirst()
        })
        let secrets = try prompting.secrets(for: [VaultIdentity(label: "prod", source: .prompt(askVaultPass: false))], confirmNew: true)
        #expect(secrets.secrets == [VaultSecret(label: "prod", password: "new-pw")])
        #expect(asked == ["New vault password (prod): ", "Confirm new vault password (prod): "])
        #expect(throws: PGHAError.self) {
            try prompting.secrets(for: [VaultIdentity(source: .prompt(askVaultPass: true))], confirmNew: true)
        }
        #expect(asked.suffix(2) == ["New Vault password: ", "Confirm New Vault password: "])
    }
}
