import Foundation
import PGHACore
import Testing
import Vault

/// A scratch project directory for one test, removed afterwards.
final class VaultScratch {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "pgha-vault-it-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String, mode: Int = 0o644) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
        return file
    }

    func read(_ name: String) throws -> String { try String(contentsOfFile: path + "/" + name, encoding: .utf8) }

    func mode(_ name: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path + "/" + name)[.posixPermissions] as? NSNumber).intValue
    }

    /// `pgha-play ARGS` run in this directory.
    func pgha(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> TestSupport.Output {
        try TestSupport.run(
            TestSupport.executable, arguments, in: path, environment: ["NO_COLOR": "1"].merging(environment) { $1 }, stdin: stdin)
    }

    /// Encrypts `name` in place with `pgha-play vault encrypt`.
    func vaultEncrypt(_ name: String, passwordFile: String = ".vault-pass", vaultID: String? = nil) throws {
        let source = vaultID.map { ["--vault-id", "\($0)@\(passwordFile)"] } ?? ["--vault-password-file", passwordFile]
        let out = try pgha(["vault", "encrypt"] + source + [name])
        try #require(out.status == 0, "vault encrypt \(name): \(out.stderr)")
    }
}

/// `inventory.ini` for one local host, as the end-to-end runs use it.
private let localInventory = "[local]\nlocalhost ansible_connection=local\n"

@Suite("pgha-play vault: command round trips")
struct VaultCommandTests {
    @Test func encryptViewDecryptRoundTrip() throws {
        let scratch = try VaultScratch()
        try scratch.write(".vault-pass", "round-trip-pw\n")
        try scratch.write("vars.yml", "db_password: round-trip-secret\n")
        try scratch.vaultEncrypt("vars.yml")
        #expect(try scratch.read("vars.yml").hasPrefix("$ANSIBLE_VAULT;1.1;AES256\n"))
        #expect(try !scratch.read("vars.yml").contains("round-trip-secret"))
        #expect(try scratch.mode("vars.yml") == 0o600)

        let view = try scratch.pgha(["vault", "view", "--vault-password-file", ".vault-pass", "vars.yml"])
        #expect(view.status == 0 && view.stdout == "db_password: round-trip-secret\n", "\(view.stderr)")

        let toStdout = try scratch.pgha(["vault", "decrypt", "--vault-password-file", ".vault-pass", "--output", "-", "vars.yml"])
        #expect(toStdout.stdout == "db_password: round-trip-secret\n")
        #expect(try scratch.read("vars.yml").hasPrefix("$ANSIBLE_VAULT"))

        let decrypt = try scratch.pgha(["vault", "decrypt", "--vault-password-file", ".vault-pass", "vars.yml"])
        #expect(decrypt.status == 0, "\(decrypt.stderr)")
        #expect(try scratch.read("vars.yml") == "db_password: round-trip-secret\n")

        // stdin to stdout, both ways.
        let encrypted = try scratch.pgha(["vault", "encrypt", "--vault-password-file", ".vault-pass", "-"], stdin: "piped-secret\n")
        #expect(encrypted.stdout.hasPrefix("$ANSIBLE_VAULT;1.1;AES256\n"))
        let decrypted = try scratch.pgha(["vault", "decrypt", "--vault-password-file", ".vault-pass"], stdin: encrypted.stdout)
        #expect(decrypted.stdout == "piped-secret\n")
    }

    @Test func rekeyChangesThePasswordAndKeepsTheMode() throws {
        let scratch = try VaultScratch()
        try scratch.write("old-pass", "old-pw\n")
        try scratch.write("new-pass", "new-pw\n")
        try scratch.write("vault.yml", "k: rekeyed-secret\n")
        try scratch.vaultEncrypt("vault.yml", passwordFile: "old-pass")
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: scratch.path + "/vault.yml")
        let rekey = try scratch.pgha(["vault", "rekey", "--vault-password-file", "old-pass", "--new-vault-password-file", "new-pass", "vault.yml"])
        #expect(rekey.status == 0, "\(rekey.stderr)")
        #expect(rekey.stderr.contains("Rekey successful"))
        #expect(try scratch.mode("vault.yml") == 0o640)
        let old = try scratch.pgha(["vault", "view", "--vault-password-file", "old-pass", "vault.yml"])
        #expect(old.status == 1)
        let new = try scratch.pgha(["vault", "view", "--vault-password-file", "new-pass", "vault.yml"])
        #expect(new.stdout == "k: rekeyed-secret\n")
        // To a labelled password: the header carries the new vault id.
        let labelled = try scratch.pgha(["vault", "rekey", "--vault-password-file", "new-pass", "--new-vault-id", "prod@old-pass", "vault.yml"])
        #expect(labelled.status == 0, "\(labelled.stderr)")
        #expect(try scratch.read("vault.yml").hasPrefix("$ANSIBLE_VAULT;1.2;AES256;prod\n"))
    }

    @Test func editUsesEditorOnAPrivateCopyThatIsRemoved() throws {
        let scratch = try VaultScratch()
        try scratch.write(".vault-pass", "edit-pw\n")
        try scratch.write("vault.yml", "a: edit-secret\n")
        try scratch.vaultEncrypt("vault.yml")
        // The editor notes the file it got, its mode and content, then appends a line.
        let log = scratch.path + "/editor.log"
        try scratch.write(
            "editor.sh",
            "#!/bin/sh\necho \"$1\" > \(log)\nstat -c '%a' \"$1\" >> \(log)\ncat \"$1\" >> \(log)\necho 'b: added' >> \"$1\"\n",
            mode: 0o755)
        let before = try scratch.read("vault.yml")
        let edit = try scratch.pgha(
            ["vault", "edit", "--vault-password-file", ".vault-pass", "vault.yml"], environment: ["EDITOR": scratch.path + "/editor.sh"])
        #expect(edit.status == 0, "\(edit.stderr)")
        let seen = try scratch.read("editor.log").split(separator: "\n").map(String.init)
        #expect(seen.count == 3 && seen[1] == "600" && seen[2] == "a: edit-secret", "\(seen)")
        #expect(!FileManager.default.fileExists(atPath: seen[0]), "the decrypted copy \(seen[0]) must be gone")
        #expect(!FileManager.default.fileExists(atPath: (seen[0] as NSString).deletingLastPathComponent))
        let after = try scratch.read("vault.yml")
        #expect(after != before && after.hasPrefix("$ANSIBLE_VAULT;1.1;AES256\n") && !after.contains("edit-secret"))
        let view = try scratch.pgha(["vault", "view", "--vault-password-file", ".vault-pass", "vault.yml"])
        #expect(view.stdout == "a: edit-secret\nb: added\n")
        // Only the vaulted file is left in the directory (no temporary or backup files).
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
        #expect(names == [".vault-pass", "editor.log", "editor.sh", "vault.yml"])
    }

    @Test func createWritesAVaultedFileFromTheEditor() throws {
        let scratch = try VaultScratch()
        try scratch.write("pw", "create-pw\n")
        try scratch.write("editor.sh", "#!/bin/sh\nprintf 'created: from-editor\\n' > \"$1\"\n", mode: 0o755)
        let create = try scratch.pgha(
            ["vault", "create", "--skip-tty-check", "--vault-id", "dev@pw", "group_vars/all/vault.yml"],
            environment: ["EDITOR": scratch.path + "/editor.sh"])
        #expect(create.status == 0, "\(create.stderr)")
        #expect(try scratch.read("group_vars/all/vault.yml").hasPrefix("$ANSIBLE_VAULT;1.2;AES256;dev\n"))
        let view = try scratch.pgha(["vault", "view", "--vault-id", "dev@pw", "group_vars/all/vault.yml"])
        #expect(view.stdout == "created: from-editor\n")
        let again = try scratch.pgha(
            ["vault", "create", "--skip-tty-check", "--vault-id", "dev@pw", "group_vars/all/vault.yml"],
            environment: ["EDITOR": scratch.path + "/editor.sh"])
        #expect(again.status != 0 && again.stderr.contains("exists, please use 'edit' instead"))
    }

    @Test func wrongPasswordsAndDamagedFilesAreClearErrors() throws {
        let scratch = try VaultScratch()
        try scratch.write(".vault-pass", "right-pw\n")
        try scratch.write("wrong", "wrong-pw\n")
        try scratch.write("vault.yml", "secret: never-printed-value\n")
        try scratch.vaultEncrypt("vault.yml")

        let wrong = try scratch.pgha(["vault", "view", "--vault-password-file", "wrong", "vault.yml"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("vault.yml") && wrong.stderr.contains("decryption failed"), "\(wrong.stderr)")
        #expect(!wrong.stdout.contains("never-printed-value") && !wrong.stderr.contains("never-printed-value"))

        // One hex digit of the payload flipped: the HMAC check refuses it.
        var lines = try scratch.read("vault.yml").split(separator: "\n").map(String.init)
        var digits = Array(lines[3])
        digits[10] = digits[10] == "3" ? "6" : "3"
        lines[3] = String(digits)
        try scratch.write("flipped.yml", lines.joined(separator: "\n") + "\n")
        let flipped = try scratch.pgha(["vault", "view", "--vault-password-file", ".vault-pass", "flipped.yml"])
        #expect(flipped.status == 1)
        #expect(flipped.stderr.contains("flipped.yml") && flipped.stderr.contains("HMAC"), "\(flipped.stderr)")

        try scratch.write("future.yml", try scratch.read("vault.yml").replacingOccurrences(of: ";1.1;", with: ";9.9;"))
        let future = try scratch.pgha(["vault", "view", "--vault-password-file", ".vault-pass", "future.yml"])
        #expect(future.status == 1 && future.stderr.contains("future.yml") && future.stderr.contains("version '9.9'"), "\(future.stderr)")

        let none = try scratch.pgha(["vault", "view", "vault.yml"])
        #expect(none.status != 0 && none.stderr.contains("needs a terminal"), "\(none.stderr)")
    }

    /// `-J` asks on the terminal without echo (script(1) gives the command a pseudo-terminal; the
    /// password is typed a few times since getpass discards what arrives before it asks).
    @Test func askVaultPassReadsTheTerminalWithoutEcho() throws {
        let scratch = try VaultScratch()
        try scratch.write(".vault-pass", "typed-pw-4242\n")
        try scratch.write("vault.yml", "asked: terminal-secret\n")
        try scratch.vaultEncrypt("vault.yml")
        try scratch.write("inventory.ini", localInventory)
        try scratch.write(
            "playbook.yml", "- hosts: local\n  gather_facts: false\n  vars_files: [vault.yml]\n  tasks:\n    - assert: {that: [asked == 'terminal-secret']}\n")
        func typed(_ command: String) throws -> TestSupport.Output {
            let typing = "(for i in 1 2 3 4 5 6 7 8; do sleep 1; printf 'typed-pw-4242\\n'; done)"
            return try TestSupport.run(
                "/bin/sh", ["-c", "\(typing) | script -qec \"\(TestSupport.executable) \(command)\" /dev/null"], in: scratch.path)
        }
        let view = try typed("vault view -J vault.yml")
        #expect(view.stdout.contains("Vault password: ") && view.stdout.contains("asked: terminal-secret"), "\(view.stdout)\(view.stderr)")
        #expect(!view.stdout.contains("typed-pw-4242"), "the password was echoed")
        let run = try typed("-i inventory.ini playbook.yml --ask-vault-pass")
        #expect(run.stdout.contains("Vault password: ") && run.stdout.contains("ok=1"), "\(run.stdout)\(run.stderr)")
        #expect(!run.stdout.contains("typed-pw-4242") && !run.stdout.contains("terminal-secret"))
    }

    @Test func encryptStringFormatsYAMLValues() throws {
        let scratch = try VaultScratch()
        try scratch.write(".vault-pass", "string-pw\n")
        let named = try scratch.pgha(
            ["vault", "encrypt_string", "--vault-password-file", ".vault-pass", "-n", "first", "-n", "second", "one-secret", "two-secret"])
        #expect(named.status == 0, "\(named.stderr)")
        let lines = named.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "first: !vault |")
        #expect(lines[1] == "          $ANSIBLE_VAULT;1.1;AES256")
        #expect(lines.contains("second: !vault |"))
        #expect(named.stdout.hasSuffix("\n") && !named.stdout.contains("one-secret"))
        #expect(named.stderr.contains("# The encrypted version of variable (\"first\", the string #1 from the command line args)."))
        // The values open again through a vars file.
        try scratch.write("vars.yml", named.stdout)
        let redactor = Redactor()
        let node = try VaultContext(secrets: VaultSecrets([VaultSecret(password: "string-pw")]), redactor: redactor)
            .loadYAML(contentsOf: scratch.path + "/vars.yml")
        #expect(node?["first"]?.value == "one-secret" && node?["second"]?.value == "two-secret")

        let piped = try scratch.pgha(["vault", "encrypt_string", "--vault-password-file", ".vault-pass", "--stdin-name", "piped"], stdin: "from-stdin")
        #expect(piped.stdout.hasPrefix("piped: !vault |\n"), "\(piped.stderr)")
        let empty = try scratch.pgha(["vault", "encrypt_string", "--vault-password-file", ".vault-pass", ""])
        #expect(empty.status != 0 && empty.stderr.contains("empty"))
    }
}

@Suite("Running with vaulted inputs")
struct VaultRunTests {
    /// A project whose secrets sit in every place Ansible decrypts, all under one password.
    static func vaultedProject(_ scratch: VaultScratch) throws {
        try scratch.write(".vault-pass", "run-pw\n")
        try scratch.write("inventory.ini", localInventory)
        try scratch.write("group_vars/all/main.yml", "db_password: \"{{ vault_db_password }}\"\n")
        try scratch.write("group_vars/all/vault.yml", "vault_db_password: Group-Vars-Secret-4711\n")
        try scratch.write("vars/vaulted.yml", "files_secret: Vars-Files-Secret-0815\n")
        try scratch.write("vars/included.yml", "included_secret: Include-Vars-Secret-2323\n")
        try scratch.write("files/secret.txt", "copied File-Secret-7070 line\n")
        try scratch.write("templates/conf.j2", "password={{ db_password }}\nstatic=Template-Secret-6060\n")
        try FileManager.default.createDirectory(atPath: scratch.path + "/out", withIntermediateDirectories: true)
        try scratch.write("roles/r/defaults/main.yml", "role_secret: Role-Default-Secret-5151\n")
        try scratch.write("roles/r/tasks/main.yml", "- assert: {that: [role_secret == 'Role-Default-Secret-5151']}\n")
        for file in ["group_vars/all/vault.yml", "vars/vaulted.yml", "vars/included.yml", "files/secret.txt", "templates/conf.j2", "roles/r/defaults/main.yml"] {
            try scratch.vaultEncrypt(file)
        }
        let inline = try scratch.pgha(["vault", "encrypt_string", "--vault-password-file", ".vault-pass", "--name", "inline_secret", "Inline-Secret-9898"])
        try #require(inline.status == 0, "\(inline.stderr)")
        let indentedInline = inline.stdout.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
        try scratch.write(
            "playbook.yml",
            """
            - hosts: local
              gather_facts: false
              vars_files: [vars/vaulted.yml]
              vars:
            \(indentedInline)
              roles: [r]
              tasks:
                - include_vars: vars/included.yml
                - debug: var=db_password
                - debug: msg="{{ files_secret }} {{ inline_secret }} {{ included_secret }}"
                - debug: msg="{{ db_password | b64encode }} {{ ('user:' ~ db_password) | b64encode }} {{ db_password | hash('sha256') }} {{ db_password[2:-2] }}"
                - debug: msg="{{ lookup('file', 'files/secret.txt') }}"
                - assert: {that: ["lookup('file', 'files/secret.txt') == 'copied File-Secret-7070 line'"]}
                - copy: src=secret.txt dest={{ playbook_dir }}/out/secret.txt
                - template: src=conf.j2 dest={{ playbook_dir }}/out/conf
                - command: echo {{ db_password }} {{ inline_secret }}
                  register: echoed
                - debug: var=echoed
                - debug: msg="hidden {{ db_password }}"
                  no_log: true
                - command: "sh -c 'echo failing with {{ db_password }} >&2; exit 3'"
                  ignore_errors: true
                - fail: msg="the password {{ db_password }} is wrong"

            """)
    }

    static let secrets = [
        "Group-Vars-Secret-4711", "Vars-Files-Secret-0815", "Include-Vars-Secret-2323", "File-Secret-7070",
        "Template-Secret-6060", "Role-Default-Secret-5151", "Inline-Secret-9898",
    ]

    /// Every form of the secrets a leak could take: plain, base64 (alone and after "user:"), the
    /// sha256 and the slice the playbook prints.
    static var forbidden: [String] {
        secrets + secrets.map { Base64.encode($0) } + [
            Base64.encode("user:Group-Vars-Secret-4711"), Digest.hex(.sha256, "Group-Vars-Secret-4711"), "oup-Vars-Secret-47",
        ]
    }

    @Test(arguments: [["--output", "json"], []])
    func secretsNeverLeaveTheProcess(_ format: [String]) throws {
        let scratch = try VaultScratch()
        try Self.vaultedProject(scratch)
        let temporary = scratch.path + "/tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        let run = try scratch.pgha(
            ["-i", "inventory.ini", "playbook.yml", "--vault-password-file", ".vault-pass", "-vvvv", "--diff"] + format,
            environment: ["TMPDIR": temporary])
        // The run got to the failing task (exit 2) having used every secret.
        #expect(run.status == 2, "\(run.stdout.suffix(3000))\n\(run.stderr)")
        #expect(try scratch.read("out/conf") == "password=Group-Vars-Secret-4711\nstatic=Template-Secret-6060\n")
        #expect(try scratch.read("out/secret.txt") == "copied File-Secret-7070 line\n")
        #expect(run.stdout.contains("failed=1") || run.stdout.contains("\"failed\":1,"), "\(run.stdout.suffix(400))")
        #expect(run.stdout.contains("the output has been hidden due to the fact that 'no_log: true' was specified"))
        for secret in Self.forbidden {
            #expect(!run.stdout.contains(secret), "'\(secret)' leaked to stdout")
            #expect(!run.stderr.contains(secret), "'\(secret)' leaked to stderr")
        }
        #expect(run.stdout.contains(Redactor.mask))
        // Nothing decrypted was written to the controller's temporary directory.
        let leftovers = (FileManager.default.enumerator(atPath: temporary)?.allObjects as? [String]) ?? []
        for file in leftovers {
            let text = (try? String(contentsOfFile: temporary + "/" + file, encoding: .utf8)) ?? ""
            #expect(!Self.secrets.contains(where: text.contains), "\(file) holds a secret")
        }
    }

    @Test func aWrongPasswordStopsTheRunBeforeAnyHostIsTouched() throws {
        let scratch = try VaultScratch()
        try scratch.write(".vault-pass", "right-pw\n")
        try scratch.write("other-pass", "other-pw\n")
        try scratch.write("inventory.ini", localInventory)
        try scratch.write("files/other.txt", "other: Other-Secret-1414\n")
        try scratch.vaultEncrypt("files/other.txt", passwordFile: "other-pass")
        try scratch.write(
            "playbook.yml",
            """
            - hosts: local
              gather_facts: false
              tasks:
                - file: path={{ playbook_dir }}/touched state=touch
                - copy: src=other.txt dest={{ playbook_dir }}/copied.txt

            """)
        let run = try scratch.pgha(["-i", "inventory.ini", "playbook.yml", "--vault-password-file", ".vault-pass"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("files/other.txt") && run.stderr.contains("decryption failed"), "\(run.stderr)")
        #expect(run.stderr.contains("playbook.yml:5"), "the task needing the file: \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/touched"), "a host was touched")
        #expect(!run.stdout.contains("TASK ["))

        // Both passwords given as vault ids: the run goes through.
        let both = try scratch.pgha(["-i", "inventory.ini", "playbook.yml", "--vault-id", "main@.vault-pass", "--vault-id", "other@other-pass"])
        #expect(both.status == 0, "\(both.stderr)")
        #expect(try scratch.read("copied.txt") == "other: Other-Secret-1414\n")
    }

    @Test func inlineValueErrorsNameTheFileAndLine() throws {
        let scratch = try VaultScratch()
        try scratch.write(".vault-pass", "inline-pw\n")
        try scratch.write("wrong", "wrong-pw\n")
        try scratch.write("inventory.ini", localInventory)
        let inline = try scratch.pgha(["vault", "encrypt_string", "--vault-password-file", ".vault-pass", "--name", "x", "inline-secret"])
        try scratch.write("group_vars/all.yml", "first: 1\nsecond: 2\n" + inline.stdout)
        try scratch.write("playbook.yml", "- hosts: local\n  gather_facts: false\n  tasks:\n    - debug: var=x\n")
        let run = try scratch.pgha(["-i", "inventory.ini", "playbook.yml", "--vault-password-file", "wrong"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("group_vars/all.yml:3:4"), "\(run.stderr)")
        let noPassword = try scratch.pgha(["-i", "inventory.ini", "playbook.yml"])
        #expect(noPassword.status == 1 && noPassword.stderr.contains("no vault password was given"), "\(noPassword.stderr)")
        #expect(noPassword.stderr.contains("--vault-password-file"))
    }

    @Test func passwordSourcesOfARun() throws {
        let scratch = try VaultScratch()
        try scratch.write(".vault-pass", "source-pw\n")
        try scratch.write("inventory.ini", localInventory)
        try scratch.write("group_vars/all/vault.yml", "vault_value: Sources-Secret-3131\n")
        try scratch.vaultEncrypt("group_vars/all/vault.yml")
        try scratch.write(
            "playbook.yml", "- hosts: local\n  gather_facts: false\n  tasks:\n    - assert: {that: [vault_value == 'Sources-Secret-3131']}\n")
        let arguments = ["-i", "inventory.ini", "playbook.yml"]
        // An executable password file is run; its stdout is the password.
        try scratch.write("pass.sh", "#!/bin/sh\necho source-pw\n", mode: 0o755)
        #expect(try scratch.pgha(arguments + ["--vault-password-file", "pass.sh"]).status == 0)
        #expect(try scratch.pgha(arguments + ["--vault-id", "prod@pass.sh"]).status == 0)
        #expect(try scratch.pgha(arguments, environment: ["ANSIBLE_VAULT_PASSWORD_FILE": scratch.path + "/.vault-pass"]).status == 0)
        #expect(try scratch.pgha(arguments + ["--vault-password-file", "inventory.ini"]).status == 1)
        // A vaulted -e @file overrides the inventory value, and stays masked.
        try scratch.write("extra.yml", "vault_value: Extra-Vars-Secret-2929\n")
        try scratch.vaultEncrypt("extra.yml")
        try scratch.write("extra-play.yml", "- hosts: local\n  gather_facts: false\n  tasks:\n    - debug: var=vault_value\n    - assert: {that: [vault_value == 'Extra-Vars-Secret-2929']}\n")
        let extra = try scratch.pgha(["-i", "inventory.ini", "extra-play.yml", "-e", "@extra.yml", "--vault-password-file", ".vault-pass"])
        #expect(extra.status == 0 && extra.stdout.contains("\"vault_value\": \"\(Redactor.mask)\""), "\(extra.stdout)\(extra.stderr)")
        #expect(!extra.stdout.contains("Extra-Vars-Secret-2929"))
        try scratch.write("pgha-play.yml", "inventory: inventory.ini\nvault_password_file: .vault-pass\n")
        let fromProject = try scratch.pgha(["playbook.yml"])
        #expect(fromProject.status == 0, "\(fromProject.stderr)")
        // As in Ansible, the configured file is tried after the ones on the command line.
        #expect(try scratch.pgha(arguments + ["--vault-password-file", "inventory.ini"]).status == 0)
    }
}

@Suite("Vault files shared with ansible-vault (oracle)")
struct VaultOracleTests {
    static var bin: String? { TestSupport.oraclePython.map { ($0 as NSString).deletingLastPathComponent } }

    static func oracle(_ tool: String, _ arguments: [String], in directory: String, stdin: String? = nil) throws -> TestSupport.Output {
        try TestSupport.run(
            bin! + "/" + tool, arguments, in: directory,
            environment: [
                "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_PYTHON_INTERPRETER": TestSupport.oraclePython!,
                "ANSIBLE_RETRY_FILES_ENABLED": "false", "PYTHONWARNINGS": "ignore",
            ], stdin: stdin)
    }

    static func requireOracle() -> Bool {
        if bin == nil { Issue.record("the ansible-core oracle virtualenv could not be created (scripts/oracle-venv.sh)") }
        return bin != nil
    }

    @Test func ansibleVaultOpensOurFiles() throws {
        guard Self.requireOracle() else { return }
        let scratch = try VaultScratch()
        try scratch.write("pw", "shared-pw\n")
        try scratch.write("a.yml", "a: ours-v11\n")
        try scratch.write("b.yml", "b: ours-v12\n")
        try scratch.vaultEncrypt("a.yml", passwordFile: "pw")
        try scratch.vaultEncrypt("b.yml", passwordFile: "pw", vaultID: "prod")
        #expect(try scratch.read("b.yml").hasPrefix("$ANSIBLE_VAULT;1.2;AES256;prod\n"))
        let a = try Self.oracle("ansible-vault", ["view", "--vault-password-file", "pw", "a.yml"], in: scratch.path)
        #expect(a.status == 0 && a.stdout == "a: ours-v11\n", "\(a.stderr)")
        let b = try Self.oracle("ansible-vault", ["view", "--vault-id", "prod@pw", "b.yml"], in: scratch.path)
        #expect(b.status == 0 && b.stdout == "b: ours-v12\n", "\(b.stderr)")
        // And after our rekey and edit.
        try scratch.write("new", "new-shared-pw\n")
        #expect(try scratch.pgha(["vault", "rekey", "--vault-password-file", "pw", "--new-vault-password-file", "new", "a.yml"]).status == 0)
        try scratch.write("editor.sh", "#!/bin/sh\necho 'edited: yes' >> \"$1\"\n", mode: 0o755)
        #expect(try scratch.pgha(["vault", "edit", "--vault-password-file", "new", "a.yml"], environment: ["EDITOR": scratch.path + "/editor.sh"]).status == 0)
        let edited = try Self.oracle("ansible-vault", ["view", "--vault-password-file", "new", "a.yml"], in: scratch.path)
        #expect(edited.stdout == "a: ours-v11\nedited: yes\n", "\(edited.stderr)")
    }

    @Test func weOpenAnsibleVaultFiles() throws {
        guard Self.requireOracle() else { return }
        let scratch = try VaultScratch()
        try scratch.write("pw", "their-pw\n")
        try scratch.write("a.yml", "a: theirs-v11\n")
        try scratch.write("b.yml", "b: theirs-v12\n")
        #expect(try Self.oracle("ansible-vault", ["encrypt", "--vault-password-file", "pw", "a.yml"], in: scratch.path).status == 0)
        #expect(try Self.oracle("ansible-vault", ["encrypt", "--vault-id", "prod@pw", "b.yml"], in: scratch.path).status == 0)
        #expect(try scratch.read("b.yml").hasPrefix("$ANSIBLE_VAULT;1.2;AES256;prod"))
        #expect(try scratch.pgha(["vault", "view", "--vault-password-file", "pw", "a.yml"]).stdout == "a: theirs-v11\n")
        #expect(try scratch.pgha(["vault", "view", "--vault-id", "prod@pw", "b.yml"]).stdout == "b: theirs-v12\n")
        // Used by a run: vars_files of both formats.
        try scratch.write("inventory.ini", localInventory)
        try scratch.write(
            "playbook.yml",
            "- hosts: local\n  gather_facts: false\n  vars_files: [a.yml, b.yml]\n  tasks:\n    - assert: {that: [a == 'theirs-v11', b == 'theirs-v12']}\n")
        let run = try scratch.pgha(["-i", "inventory.ini", "playbook.yml", "--vault-id", "prod@pw"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
    }

    @Test func encryptStringValuesInGroupVarsWorkInBothTools() throws {
        guard Self.requireOracle() else { return }
        let scratch = try VaultScratch()
        try scratch.write(".vault-pass", "inline-shared-pw\n")
        try scratch.write("inventory.ini", localInventory)
        let ours = try scratch.pgha(["vault", "encrypt_string", "--vault-password-file", ".vault-pass", "--name", "ours", "Ours-Inline-Value"])
        let theirs = try Self.oracle(
            "ansible-vault", ["encrypt_string", "--vault-password-file", ".vault-pass", "--name", "theirs", "Theirs-Inline-Value"], in: scratch.path)
        #expect(ours.status == 0 && theirs.status == 0, "\(ours.stderr)\(theirs.stderr)")
        try scratch.write("group_vars/all.yml", "plain: visible\n" + ours.stdout + theirs.stdout)
        try scratch.write(
            "playbook.yml",
            """
            - hosts: local
              gather_facts: false
              tasks:
                - debug: var=ours
                - debug: var=theirs
                - assert: {that: [ours == 'Ours-Inline-Value', theirs == 'Theirs-Inline-Value']}

            """)
        let ansible = try Self.oracle(
            "ansible-playbook", ["-i", "inventory.ini", "playbook.yml", "--vault-password-file", ".vault-pass"], in: scratch.path)
        #expect(ansible.status == 0, "\(ansible.stdout)\(ansible.stderr)")
        #expect(ansible.stdout.contains("\"ours\": \"Ours-Inline-Value\"") && ansible.stdout.contains("\"theirs\": \"Theirs-Inline-Value\""))
        let pgha = try scratch.pgha(["-i", "inventory.ini", "playbook.yml", "--vault-password-file", ".vault-pass"])
        #expect(pgha.status == 0, "\(pgha.stdout)\(pgha.stderr)")
        #expect(pgha.stdout.contains("\"ours\": \"\(Redactor.mask)\"") && pgha.stdout.contains("\"theirs\": \"\(Redactor.mask)\""), "\(pgha.stdout)")
        #expect(!pgha.stdout.contains("Inline-Value"))
    }
}
