import Foundation
import PGHACore

/// One `--vault-id [LABEL@]SOURCE`: where a password comes from and the vault id it stands for.
public struct VaultIdentity: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// A file holding the password, or an executable printing it on stdout.
        case file(String)
        /// Ask on the terminal (`prompt`, or `--ask-vault-pass`, which keeps Ansible's old prompt text).
        case prompt(askVaultPass: Bool)
    }

    public var label: String
    public var source: Source

    public init(label: String = VaultEnvelope.defaultVaultID, source: Source) {
        self.label = label
        self.source = source
    }

    /// Parses `LABEL@SOURCE` or `SOURCE` (label "default"), as `ansible-playbook --vault-id` does.
    public init(parsing text: String) throws(VaultFailure) {
        guard !text.contains(";") else {
            throw .password("'\(text)' is not a valid vault id: the character ';' is not allowed in vault ids")
        }
        var label = VaultEnvelope.defaultVaultID
        var source = text
        if let at = text.firstIndex(of: "@") {
            label = String(text[..<at])
            source = String(text[text.index(after: at)...])
        }
        guard !source.isEmpty else { throw .password("--vault-id '\(text)' names no password source") }
        switch source {
        case "prompt": self.init(label: label, source: .prompt(askVaultPass: false))
        case "prompt_ask_vault_pass": self.init(label: label, source: .prompt(askVaultPass: true))
        default: self.init(label: label, source: .file(source))
        }
    }
}

/// The vault options of a command line, in ansible-playbook's terms.
public struct VaultPasswordOptions: Sendable, Equatable {
    /// `--vault-id`, in order.
    public var vaultIDs: [String] = []
    /// `--vault-password-file`, in order.
    public var passwordFiles: [String] = []
    /// `--ask-vault-pass` / `-J`.
    public var askVaultPass = false
    /// `ANSIBLE_VAULT_PASSWORD_FILE`, else `vault_password_file` in pgha-play.yml (already absolute).
    public var defaultPasswordFile: String?

    public init(vaultIDs: [String] = [], passwordFiles: [String] = [], askVaultPass: Bool = false, defaultPasswordFile: String? = nil) {
        self.vaultIDs = vaultIDs
        self.passwordFiles = passwordFiles
        self.askVaultPass = askVaultPass
        self.defaultPasswordFile = defaultPasswordFile
    }

    /// The password file named by the environment (`ANSIBLE_VAULT_PASSWORD_FILE`) or, failing that,
    /// by the project file, as Ansible lets the environment override ansible.cfg.
    public static func defaultPasswordFile(
        environment: [String: String], projectSetting: String?, projectDirectory: String?
    ) -> String? {
        if let fromEnvironment = environment["ANSIBLE_VAULT_PASSWORD_FILE"], !fromEnvironment.isEmpty {
            return (fromEnvironment as NSString).expandingTildeInPath
        }
        guard let setting = projectSetting, !setting.isEmpty else { return nil }
        let expanded = (setting as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return expanded }
        return ((projectDirectory ?? FileManager.default.currentDirectoryPath) as NSString).appendingPathComponent(expanded)
    }

    /// Ansible's `build_vault_ids`: every `--vault-id`, then the password files (label "default"),
    /// then a prompt when asked for (or, with `autoPrompt`, when nothing else was given).
    public func identities(autoPrompt: Bool) throws(VaultFailure) -> [VaultIdentity] {
        var result = try vaultIDs.map { (text: String) throws(VaultFailure) -> VaultIdentity in try VaultIdentity(parsing: text) }
        for file in passwordFiles + (defaultPasswordFile.map { [$0] } ?? []) {
            result.append(VaultIdentity(source: .file(file)))
        }
        if askVaultPass || (result.isEmpty && autoPrompt) {
            result.append(VaultIdentity(source: .prompt(askVaultPass: true)))
        }
        return result
    }

    /// True when any password was asked for.
    public var isEmpty: Bool { vaultIDs.isEmpty && passwordFiles.isEmpty && !askVaultPass && defaultPasswordFile == nil }
}

/// Turns vault identities into passwords: reads files, runs executables, asks on the terminal.
public struct VaultPasswordReader: Sendable {
    /// Asks without echo; the CLI supplies the terminal prompt.
    public var prompt: @Sendable (String) throws -> String
    /// Reports a password source that failed while another one worked (Ansible warns and goes on).
    public var warn: @Sendable (String) -> Void

    public init(
        prompt: @escaping @Sendable (String) throws -> String,
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.prompt = prompt
        self.warn = warn
    }

    /// The passwords of `identities`, in order. `confirmNew` asks twice at prompts (for passwords
    /// that will encrypt). A failing file is skipped with a warning when another source worked,
    /// and is the error when none did.
    public func secrets(for identities: [VaultIdentity], confirmNew: Bool = false) throws -> VaultSecrets {
        var secrets = VaultSecrets()
        var lastFailure: PGHAError?
        for identity in identities {
            switch identity.source {
            case .prompt(let askVaultPass):
                let password = try ask(label: identity.label, askVaultPass: askVaultPass, confirmNew: confirmNew)
                secrets.secrets.append(VaultSecret(label: identity.label, password: password))
            case .file(let path):
                do {
                    let password = try readPasswordFile(path, label: identity.label, known: secrets)
                    secrets.secrets.append(VaultSecret(label: identity.label, password: password))
                } catch let error as PGHAError {
                    warn("Error getting vault password file (\(identity.label)): \(error.message)")
                    lastFailure = error
                }
            }
        }
        if let lastFailure, secrets.isEmpty { throw lastFailure }
        return secrets
    }

    private func ask(label: String, askVaultPass: Bool, confirmNew: Bool) throws -> [UInt8] {
        let prompts: [String]
        switch (askVaultPass, confirmNew) {
        case (true, false): prompts = ["Vault password: "]
        case (true, true): prompts = ["New Vault password: ", "Confirm New Vault password: "]
        case (false, false): prompts = ["Vault password (\(label)): "]
        case (false, true): prompts = ["New vault password (\(label)): ", "Confirm new vault password (\(label)): "]
        }
        var answers: [[UInt8]] = []
        for text in prompts {
            let answer = Self.trimmingWhitespace(Array(try prompt(text).utf8))
            guard !answer.isEmpty else { throw VaultFailure.password("Invalid vault password was provided").error(at: nil) }
            answers.append(answer)
        }
        guard answers.allSatisfy({ $0 == answers[0] }) else {
            throw VaultFailure.password("Passwords do not match").error(at: nil)
        }
        return answers[0]
    }

    /// A password file's content (surrounding whitespace removed), or an executable's stdout (line
    /// breaks removed). A `*-client` executable is given `--vault-id LABEL`, as Ansible does.
    func readPasswordFile(_ path: String, label: String, known: VaultSecrets) throws -> [UInt8] {
        let location = SourceLocation(file: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw VaultFailure.password("The vault password file \(path) was not found").error(at: nil)
        }
        guard !isDirectory.boolValue else {
            throw VaultFailure.password("The vault password file \(path) is a directory").error(at: nil)
        }
        if Self.isExecutable(path) {
            let password = Self.trimmingLineBreaks(try runPasswordScript(path, label: label))
            guard !password.isEmpty else {
                throw VaultFailure.password("Invalid vault password was provided from script (\(path))").error(at: nil)
            }
            return password
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VaultFailure.password("Could not read vault password file \(path)").error(at: location)
        }
        var password = Self.trimmingWhitespace([UInt8](data))
        // A password file may itself be vaulted with a password given before it.
        if VaultEnvelope.isVaulted(password) {
            password = try VaultContext(secrets: known, redactor: nil).decrypt(String(decoding: password, as: UTF8.self), at: location)
        }
        password = Self.trimmingLineBreaks(password)
        guard !password.isEmpty else {
            throw VaultFailure.password("Invalid vault password was provided from file (\(path))").error(at: nil)
        }
        return password
    }

    private func runPasswordScript(_ path: String, label: String) throws -> [UInt8] {
        let isClient = ((path as NSString).deletingPathExtension as NSString).lastPathComponent.hasSuffix("-client")
        let stdout = Pipe()
        // A plain script's stderr stays on the terminal so it can prompt; a client's is reported.
        let stderr = Pipe()
        var process = Process()
        for attempt in 1... {
            process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            if isClient { process.arguments = ["--vault-id", label] }
            process.standardOutput = stdout
            if isClient { process.standardError = stderr }
            do {
                try process.run()
                break
            } catch where attempt < 5 {
                // A script written a moment ago may still be open for writing in a child that another
                // thread has just forked (the kernel then refuses to run it: ETXTBSY); it closes soon.
                usleep(50_000)
            } catch {
                throw VaultFailure.password(
                    "Problem running vault password script \(path) (\(error.localizedDescription)). If this is not a script, remove the executable bit from the file."
                ).error(at: nil)
            }
        }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errorText = isClient ? String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) : ""
        process.waitUntilExit()
        let status = process.terminationStatus
        if isClient && status == 2 {
            throw VaultFailure.password("Vault password client script \(path) did not find a secret for vault-id=\(label): \(errorText)")
                .error(at: nil)
        }
        guard status == 0 else {
            throw VaultFailure.password("Vault password script \(path) returned non-zero (\(status))\(errorText.isEmpty ? "" : ": " + errorText)")
                .error(at: nil)
        }
        return [UInt8](output)
    }

    /// Ansible's `loader.is_executable`: any execute bit set on a regular file.
    static func isExecutable(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return info.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH) != 0
    }

    /// Python's `bytes.strip()`: ASCII whitespace off both ends.
    static func trimmingWhitespace(_ bytes: [UInt8]) -> [UInt8] {
        trimming(bytes) { [0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c].contains($0) }
    }

    /// Python's `bytes.strip(b'\r\n')`.
    static func trimmingLineBreaks(_ bytes: [UInt8]) -> [UInt8] {
        trimming(bytes) { $0 == 0x0a || $0 == 0x0d }
    }

    private static func trimming(_ bytes: [UInt8], where strip: (UInt8) -> Bool) -> [UInt8] {
        guard let first = bytes.firstIndex(where: { !strip($0) }), let last = bytes.lastIndex(where: { !strip($0) }) else {
            return []
        }
        return Array(bytes[first...last])
    }
}
