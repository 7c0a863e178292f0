import ArgumentParser
import Engine
import Foundation
import PGHACore
import Vault

/// `pgha-play vault ...`: ansible-vault's commands and arguments over the same file format.
struct VaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "Encrypt, decrypt, view and edit ansible-vault files and strings.",
        discussion: """
            Files are in ansible-vault's format (1.1, or 1.2 with a vault id) and open with either tool. \
            Passwords: --vault-password-file FILE, --vault-id [LABEL@]SOURCE, -J/--ask-vault-pass, \
            ANSIBLE_VAULT_PASSWORD_FILE, or vault_password_file in pgha-play.yml; with none, it asks.
            """,
        subcommands: [Create.self, Encrypt.self, Decrypt.self, View.self, Edit.self, Rekey.self, EncryptString.self]
    )

    static var project: ProjectConfiguration {
        ProjectConfiguration.discover(from: FileManager.default.currentDirectoryPath)
    }

    /// ansible-vault's rule: with several passwords, `--encrypt-vault-id` must say which encrypts.
    static func encryptionSecret(_ vault: VaultOptions, encryptVaultID: String?) throws -> VaultSecret {
        let secrets = try vault.secrets(project: project, autoPrompt: true, confirmNew: true)
        if secrets.secrets.count > 1 && encryptVaultID == nil {
            throw PGHAError(
                .usage,
                "The vault-ids \(secrets.secrets.map(\.label).joined(separator: ",")) are available to encrypt. Specify the vault-id to encrypt with --encrypt-vault-id")
        }
        return try secrets.encryptionSecret(vaultID: encryptVaultID)
    }

    static func decryptionSecrets(_ vault: VaultOptions) throws -> VaultSecrets {
        let secrets = try vault.secrets(project: project, autoPrompt: true)
        if secrets.isEmpty { throw PGHAError(.usage, "A vault password is required to use the vault") }
        return secrets
    }

    static func note(_ message: String) {
        if isatty(STDOUT_FILENO) == 1 { FileHandle.standardError.write(Data((message + "\n").utf8)) }
    }

    /// The editor's private directory, removed also when the editing is interrupted.
    static let interruptCleanup = TemporaryDirectoryCleanup()

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a new vault-encrypted file with $EDITOR.")
        @OptionGroup var vault: VaultOptions
        @Option(name: .customLong("encrypt-vault-id"), help: "The vault id to encrypt with (needed with several).")
        var encryptVaultID: String?
        @Flag(name: .customLong("skip-tty-check"), help: "Open the editor even without a terminal.")
        var skipTTYCheck = false
        @Argument(help: "The file to create.") var files: [String] = []

        func run() throws {
            guard files.count == 1 else { throw PGHAError(.usage, "vault create takes exactly one file name") }
            guard isatty(STDOUT_FILENO) == 1 || skipTTYCheck else { throw PGHAError(.usage, "not a tty, editor cannot be opened") }
            let secret = try VaultCommand.encryptionSecret(vault, encryptVaultID: encryptVaultID)
            try VaultFiles.create(
                files[0], secret: secret, editor: VaultFiles.editorCommand(environment: ProcessInfo.processInfo.environment),
                watching: VaultCommand.interruptCleanup.watch)
        }
    }

    struct Encrypt: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Encrypt files (in place, or to --output); '-' or none reads stdin.")
        @OptionGroup var vault: VaultOptions
        @Option(name: .customLong("encrypt-vault-id"), help: "The vault id to encrypt with (needed with several).")
        var encryptVaultID: String?
        @Option(name: .long, help: "Write here instead of in place ('-' for stdout).") var output: String?
        @Argument(help: "Files to encrypt.") var files: [String] = []

        func validate() throws {
            if output != nil && files.count > 1 { throw ValidationError("At most one input file may be used with the --output option") }
        }

        func run() throws {
            let secret = try VaultCommand.encryptionSecret(vault, encryptVaultID: encryptVaultID)
            for file in files.isEmpty ? [VaultFiles.standardStream] : files {
                try VaultFiles.encrypt(file, output: output, secret: secret)
            }
            VaultCommand.note("Encryption successful")
        }
    }

    struct Decrypt: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decrypt files (in place, or to --output); '-' or none reads stdin.")
        @OptionGroup var vault: VaultOptions
        @Option(name: .long, help: "Write here instead of in place ('-' for stdout).") var output: String?
        @Argument(help: "Files to decrypt.") var files: [String] = []

        func validate() throws {
            if output != nil && files.count > 1 { throw ValidationError("At most one input file may be used with the --output option") }
        }

        func run() throws {
            let secrets = try VaultCommand.decryptionSecrets(vault)
            for file in files.isEmpty ? [VaultFiles.standardStream] : files {
                try VaultFiles.decrypt(file, output: output, secrets: secrets)
            }
            VaultCommand.note("Decryption successful")
        }
    }

    struct View: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the plaintext of vault-encrypted files.")
        @OptionGroup var vault: VaultOptions
        @Argument(help: "Files to show.") var files: [String] = []

        func run() throws {
            let secrets = try VaultCommand.decryptionSecrets(vault)
            for file in files {
                FileHandle.standardOutput.write(Data(try VaultFiles.view(file, secrets: secrets)))
            }
        }
    }

    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Edit vault-encrypted files with $EDITOR (a private temporary copy, removed afterwards).")
        @OptionGroup var vault: VaultOptions
        @Option(name: .customLong("encrypt-vault-id"), help: "Accepted as ansible-vault does; the file keeps its own vault id.")
        var encryptVaultID: String?
        @Argument(help: "Files to edit.") var files: [String] = []

        func run() throws {
            let secrets = try VaultCommand.decryptionSecrets(vault)
            let editor = VaultFiles.editorCommand(environment: ProcessInfo.processInfo.environment)
            for file in files {
                try VaultFiles.edit(file, secrets: secrets, editor: editor, watching: VaultCommand.interruptCleanup.watch)
            }
        }
    }

    struct Rekey: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Re-encrypt vault-encrypted files with a new password.")
        @OptionGroup var vault: VaultOptions
        @Option(name: .customLong("encrypt-vault-id"), help: "The vault id of the new password to encrypt with.")
        var encryptVaultID: String?
        @Option(name: .customLong("new-vault-password-file"), help: "File holding the new password.")
        var newPasswordFile: String?
        @Option(name: .customLong("new-vault-id"), help: "The new password as [LABEL@]SOURCE.")
        var newVaultID: String?
        @Argument(help: "Files to rekey.") var files: [String] = []

        func validate() throws {
            if newPasswordFile != nil && newVaultID != nil {
                throw ValidationError("--new-vault-password-file and --new-vault-id cannot be used together.")
            }
        }

        func run() throws {
            let secrets = try VaultCommand.decryptionSecrets(vault)
            var identities = try newVaultID.map { [try VaultIdentity(parsing: $0)] } ?? []
            if let newPasswordFile { identities.append(VaultIdentity(source: .file(newPasswordFile))) }
            if identities.isEmpty { identities = [VaultIdentity(source: .prompt(askVaultPass: true))] }
            let newSecrets = try VaultOptions.reader.secrets(for: identities, confirmNew: true)
            guard !newSecrets.isEmpty else { throw PGHAError(.usage, "A new vault password is required to rekey") }
            let newSecret = try newSecrets.encryptionSecret(vaultID: encryptVaultID)
            for file in files {
                try VaultFiles.rekey(file, secrets: secrets, newSecret: newSecret)
            }
            FileHandle.standardError.write(Data("Rekey successful\n".utf8))
        }
    }

    struct EncryptString: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "encrypt_string", abstract: "Encrypt strings into `!vault |` YAML values ('-' or none reads stdin).")
        @OptionGroup var vault: VaultOptions
        @Option(name: .customLong("encrypt-vault-id"), help: "The vault id to encrypt with (needed with several).")
        var encryptVaultID: String?
        @Option(name: .long, help: "Write here instead of stdout.") var output: String?
        @Flag(name: [.customShort("p"), .customLong("prompt")], help: "Ask for the string to encrypt.")
        var prompt = false
        @Flag(name: .customLong("show-input"), help: "Echo the string typed at --prompt.")
        var showInput = false
        @Option(name: [.customShort("n"), .customLong("name")], help: "The variable name of each string, in order. Repeatable.")
        var names: [String] = []
        @Option(name: .customLong("stdin-name"), help: "The variable name of the string read from stdin.")
        var stdinName: String?
        @Argument(help: "Strings to encrypt.") var strings: [String] = []

        var readsStandardInput: Bool { strings.contains("-") || stdinName != nil || (strings.isEmpty && !prompt) }

        func validate() throws {
            if prompt && readsStandardInput {
                throw ValidationError("The --prompt option is not supported if also reading input from stdin")
            }
        }

        func run() throws {
            let secret = try VaultCommand.encryptionSecret(vault, encryptVaultID: encryptVaultID)
            var inputs: [(plaintext: String, source: String, name: String?)] = []
            if prompt {
                FileHandle.standardOutput.write(Data("Variable name (enter for no name): ".utf8))
                let name = (readLine() ?? "").trimmingCharacters(in: .newlines)
                let text: String
                if showInput {
                    FileHandle.standardOutput.write(Data("String to encrypt:".utf8))
                    text = readLine() ?? ""
                } else {
                    text = try PasswordPrompt.read("String to encrypt (hidden): ")
                }
                guard !text.isEmpty else { throw PGHAError(.usage, "The plaintext provided from the prompt was empty, not encrypting") }
                inputs.append((text, "the interactive prompt", name.isEmpty ? nil : name))
            }
            if readsStandardInput {
                VaultCommand.note("Reading plaintext input from stdin. (ctrl-d to end input, twice if your content does not already have a newline)")
                // Not trimmed: ansible-vault encrypts stdin exactly as given, final newline included.
                let text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                guard !text.isEmpty else { throw PGHAError(.usage, "stdin was empty, not encrypting") }
                inputs.append((text, "stdin", stdinName))
            }
            let arguments = strings.filter { $0 != "-" }
            if !names.isEmpty && arguments.count > names.count {
                FileHandle.standardError.write(Data(
                    "The number of --name options do not match the number of args.\nThe last named variable will be \"\(names[names.count - 1])\". The rest will not have names.\n".utf8))
            }
            for (index, argument) in arguments.enumerated() {
                guard !argument.isEmpty else {
                    throw PGHAError(.usage, "The plaintext provided from the command line args was empty, not encrypting")
                }
                inputs.append((argument, "the command line args", index < names.count ? names[index] : nil))
            }
            var blocks: [String] = []
            for (index, input) in inputs.enumerated() {
                let vaulted: String
                do {
                    vaulted = try Vault.encrypt(Array(input.plaintext.utf8), password: secret.password, vaultID: secret.label)
                } catch {
                    throw error.error(at: nil)
                }
                if inputs.count > 1 {
                    // ansible-vault's wording, stray parenthesis included.
                    let delimiter = input.name.map { "# The encrypted version of variable (\"\($0)\", the string #\(index + 1) from \(input.source)).\n" }
                        ?? "# The encrypted version of the string #\(index + 1) from \(input.source).)\n"
                    FileHandle.standardError.write(Data(delimiter.utf8))
                }
                blocks.append(Vault.inlineYAML(vaulted, name: input.name))
            }
            let text = (blocks + [""]).joined(separator: "\n")
            try VaultFiles.write(Array(text.utf8), to: output ?? VaultFiles.standardStream, mode: 0o600)
            VaultCommand.note("Encryption successful")
        }
    }
}

/// Remembers the directory holding decrypted text while an editor runs, so Ctrl-C removes it too.
final class TemporaryDirectoryCleanup: @unchecked Sendable {
    private let lock = NSLock()
    private var directory: String?

    func watch(_ path: String?) {
        lock.withLock { directory = path }
    }

    func removeNow() {
        if let path = lock.withLock({ directory }) { VaultFiles.removeShredded(path) }
    }
}
