import Foundation
import PGHACore
import Testing

@testable import Vault

@Suite("Vault file commands")
struct VaultFilesTests {
    let secret = VaultSecret(password: "files-pw")
    var secrets: VaultSecrets { VaultSecrets([secret]) }

    private func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber).intValue
    }

    @Test func encryptThenDecryptInPlace() throws {
        let scratch = try ScratchDirectory()
        let file = try scratch.write("vars.yml", "password: in-place-secret\n")
        try VaultFiles.encrypt(file, output: nil, secret: secret)
        let vaulted = try scratch.read("vars.yml")
        #expect(vaulted.hasPrefix("$ANSIBLE_VAULT;1.1;AES256\n"))
        #expect(!vaulted.contains("in-place-secret"))
        #expect(try mode(file) == 0o600)
        #expect(throws: PGHAError.self) { try VaultFiles.encrypt(file, output: nil, secret: secret) }
        try VaultFiles.decrypt(file, output: nil, secrets: secrets)
        #expect(try scratch.read("vars.yml") == "password: in-place-secret\n")
        // No temporary files are left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["vars.yml"])
    }

    @Test func encryptToAnOutputFileLeavesTheInput() throws {
        let scratch = try ScratchDirectory()
        let file = try scratch.write("plain.txt", "text\n")
        try VaultFiles.encrypt(file, output: scratch.path + "/out.vault", secret: VaultSecret(label: "prod", password: "p"))
        #expect(try scratch.read("plain.txt") == "text\n")
        #expect(try scratch.read("out.vault").hasPrefix("$ANSIBLE_VAULT;1.2;AES256;prod\n"))
        #expect(try String(decoding: VaultFiles.view(scratch.path + "/out.vault", secrets: VaultSecrets([VaultSecret(label: "prod", password: "p")])), as: UTF8.self) == "text\n")
    }

    @Test func rekeyKeepsPermissionsAndContent() throws {
        let scratch = try ScratchDirectory()
        let file = try scratch.write("vault.yml", try Vault.encrypt("k: rekey-me\n", password: "files-pw"), mode: 0o640)
        try VaultFiles.rekey(file, secrets: secrets, newSecret: VaultSecret(label: "new", password: "new-pw"))
        #expect(try mode(file) == 0o640)
        #expect(try scratch.read("vault.yml").hasPrefix("$ANSIBLE_VAULT;1.2;AES256;new\n"))
        #expect(throws: PGHAError.self) { try VaultFiles.view(file, secrets: secrets) }
        #expect(try VaultFiles.view(file, secrets: VaultSecrets([VaultSecret(password: "new-pw")])) == Array("k: rekey-me\n".utf8))
    }

    @Test func editRunsTheEditorOnAPrivateFileAndRemovesIt() throws {
        let scratch = try ScratchDirectory()
        let file = try scratch.write("vault.yml", try Vault.encrypt("a: 1\n", password: "files-pw", vaultID: "prod"), mode: 0o644)
        // The "editor" records what it saw (path, mode, content) and appends a line.
        let log = scratch.path + "/editor.log"
        let editor = try scratch.write(
            "editor.sh", "#!/bin/sh\nstat -c '%a' \"$1\" > \(log)\necho \"$1\" >> \(log)\ncat \"$1\" >> \(log)\necho 'b: 2' >> \"$1\"\n", mode: 0o755)
        nonisolated(unsafe) var watched: [String?] = []
        let changed = try VaultFiles.edit(
            file, secrets: VaultSecrets([VaultSecret(label: "other", password: "files-pw")]), editor: [editor],
            watching: { watched.append($0) })
        #expect(changed)
        let seen = try scratch.read("editor.log").split(separator: "\n").map(String.init)
        #expect(seen.first == "600")
        #expect(seen.dropFirst(2) == ["a: 1"])
        #expect(!FileManager.default.fileExists(atPath: seen[1]), "the temporary plaintext must be removed")
        #expect(watched.count == 2 && watched[1] == nil && watched[0].map { seen[1].hasPrefix($0) } == true)
        // Saved with the header's vault id, the file's mode kept.
        #expect(try scratch.read("vault.yml").hasPrefix("$ANSIBLE_VAULT;1.2;AES256;prod\n"))
        #expect(try mode(file) == 0o644)
        #expect(try VaultFiles.view(file, secrets: secrets) == Array("a: 1\nb: 2\n".utf8))
    }

    @Test func editWithoutChangesLeavesTheFile() throws {
        let scratch = try ScratchDirectory()
        let original = try Vault.encrypt("a: 1\n", password: "files-pw")
        let file = try scratch.write("vault.yml", original)
        #expect(try !VaultFiles.edit(file, secrets: secrets, editor: ["true"]))
        #expect(try scratch.read("vault.yml") == original)
        // A failing editor changes nothing either.
        #expect(throws: PGHAError.self) { try VaultFiles.edit(file, secrets: secrets, editor: ["false"]) }
        #expect(try scratch.read("vault.yml") == original)
    }

    @Test func createRefusesAnExistingFile() throws {
        let scratch = try ScratchDirectory()
        let editor = try scratch.write("editor.sh", "#!/bin/sh\nprintf 'created: yes\\n' > \"$1\"\n", mode: 0o755)
        let file = scratch.path + "/sub/new.yml"
        try VaultFiles.create(file, secret: secret, editor: [editor])
        #expect(try VaultFiles.view(file, secrets: secrets) == Array("created: yes\n".utf8))
        #expect(throws: PGHAError.self) { try VaultFiles.create(file, secret: secret, editor: [editor]) }
    }

    @Test func editorCommandsSplitAsShlex() {
        #expect(VaultFiles.editorCommand(environment: [:]) == ["vi"])
        #expect(VaultFiles.editorCommand(environment: ["EDITOR": "code --wait"]) == ["code", "--wait"])
        #expect(VaultFiles.editorCommand(environment: ["EDITOR": "'/opt/my editor/bin' -f \"a b\""]) == ["/opt/my editor/bin", "-f", "a b"])
    }
}
