import ArgumentParser
import Engine
import Foundation
import PGHACore
import Vault

/// The vault password options shared by running playbooks and `pgha-play vault`, as ansible-playbook
/// and ansible-vault spell them.
struct VaultOptions: ParsableArguments {
    @Option(name: .customLong("vault-id"), help: "A vault password as [LABEL@]SOURCE (a file, an executable printing it, or 'prompt'). Repeatable.")
    var vaultIDs: [String] = []

    @Flag(name: [.customShort("J"), .customLong("ask-vault-pass"), .customLong("ask-vault-password")], help: "Ask for the vault password.")
    var askVaultPass = false

    @Option(
        name: [.customLong("vault-password-file"), .customLong("vault-pass-file")],
        help: "File holding the vault password (an executable file is run and prints it). Repeatable.")
    var passwordFiles: [String] = []

    func validate() throws {
        if askVaultPass && !passwordFiles.isEmpty {
            throw ValidationError("--ask-vault-pass and --vault-password-file cannot be used together.")
        }
    }

    /// The options with the default password file of the environment or the project.
    func passwordOptions(project: ProjectConfiguration) -> VaultPasswordOptions {
        VaultPasswordOptions(
            vaultIDs: vaultIDs, passwordFiles: passwordFiles, askVaultPass: askVaultPass,
            defaultPasswordFile: VaultPasswordOptions.defaultPasswordFile(
                environment: ProcessInfo.processInfo.environment, projectSetting: project.vaultPasswordFile,
                projectDirectory: project.root))
    }

    /// Reads the passwords: files, executables, prompts. `autoPrompt` asks when nothing else was
    /// given (ansible-vault does, ansible-playbook does not); `confirmNew` asks twice at prompts.
    func secrets(project: ProjectConfiguration, autoPrompt: Bool, confirmNew: Bool = false) throws -> VaultSecrets {
        let identities = try passwordOptions(project: project).identities(autoPrompt: autoPrompt)
        return try Self.reader.secrets(for: identities, confirmNew: confirmNew)
    }

    static let reader = VaultPasswordReader(
        prompt: { try PasswordPrompt.read($0) },
        warn: { FileHandle.standardError.write(Data("[WARNING]: \($0)\n".utf8)) })
}
