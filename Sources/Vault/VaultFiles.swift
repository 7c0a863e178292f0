import Foundation
import PGHACore

/// What `pgha-play vault` does to files, as ansible-vault's VaultEditor: encrypt, decrypt, view,
/// rekey, create and edit. `-` is standard input or output. Files are replaced atomically (a
/// temporary file in the same directory renamed over the old one), and plaintext reaches the
/// disk only where asked: `decrypt`, and `edit`'s private temporary file, removed afterwards.
public enum VaultFiles {
    /// Standard input or output instead of a file.
    public static let standardStream = "-"

    // MARK: Commands

    /// Encrypts `input` into `output` (in place when nil).
    public static func encrypt(_ input: String, output: String?, secret: VaultSecret) throws {
        let plaintext = try read(input)
        let vaulted: String
        do {
            vaulted = try Vault.encrypt(plaintext, password: secret.password, vaultID: secret.label)
        } catch {
            throw error.error(at: location(of: input))
        }
        try write(Array(vaulted.utf8), to: output ?? input, mode: 0o600)
    }

    /// Decrypts `input` into `output` (in place when nil).
    public static func decrypt(_ input: String, output: String?, secrets: VaultSecrets) throws {
        let plaintext = try open(input, secrets: secrets).plaintext
        try write(plaintext, to: output ?? input, mode: 0o600)
    }

    /// The plaintext of a vaulted file, for `view`.
    public static func view(_ input: String, secrets: VaultSecrets) throws -> [UInt8] {
        try open(input, secrets: secrets).plaintext
    }

    /// Re-encrypts a vaulted file with `newSecret`, keeping its permissions.
    public static func rekey(_ path: String, secrets: VaultSecrets, newSecret: VaultSecret) throws {
        let opened = try open(path, secrets: secrets)
        let vaulted: String
        do {
            vaulted = try Vault.encrypt(opened.plaintext, password: newSecret.password, vaultID: newSecret.label)
        } catch {
            throw error.error(at: location(of: path))
        }
        try write(Array(vaulted.utf8), to: path, mode: existingMode(path) ?? 0o600)
    }

    /// Creates a vaulted file from what the editor saves; refuses an existing file.
    public static func create(
        _ path: String, secret: VaultSecret, editor: [String], watching: TemporaryDirectoryObserver? = nil
    ) throws {
        if FileManager.default.fileExists(atPath: path) {
            throw PGHAError(.usage, "\(path) exists, please use 'edit' instead", at: SourceLocation(file: path))
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        _ = try editInTemporaryFile(named: path, initial: nil, editor: editor, watching: watching) { edited in
            try write(try encrypted(edited, with: secret, for: path), to: path, mode: 0o600)
        }
    }

    /// Decrypts `path` into a private 0600 temporary file, runs the editor on it, and when the
    /// content changed encrypts it again with the password and vault id that opened it, replacing
    /// the file atomically with its permissions kept. The temporary file is always removed.
    /// Returns whether the file was rewritten.
    @discardableResult
    public static func edit(
        _ path: String, secrets: VaultSecrets, editor: [String], watching: TemporaryDirectoryObserver? = nil
    ) throws -> Bool {
        let opened = try open(path, secrets: secrets)
        // The header's vault id is kept even when another password opened the file, as ansible-vault does.
        let secret = VaultSecret(label: opened.envelope.vaultID ?? VaultEnvelope.defaultVaultID, password: opened.secret.password)
        let mode = existingMode(path) ?? 0o600
        return try editInTemporaryFile(named: path, initial: opened.plaintext, editor: editor, watching: watching) { edited in
            try write(try encrypted(edited, with: secret, for: path), to: path, mode: mode)
        }
    }

    /// `$EDITOR` split as a shell would (Python's shlex.split), `vi` when unset.
    public static func editorCommand(environment: [String: String]) -> [String] {
        let words = ShellWords.split(environment["EDITOR"] ?? "")
        return words.isEmpty ? ["vi"] : words
    }

    // MARK: Temporary plaintext

    /// Told the private directory holding plaintext while the editor runs (then nil once it is
    /// removed), so an interrupt handler can remove it too.
    public typealias TemporaryDirectoryObserver = (String?) -> Void

    private static func editInTemporaryFile(
        named path: String, initial: [UInt8]?, editor: [String], watching: TemporaryDirectoryObserver?,
        save: ([UInt8]) throws -> Void
    ) throws -> Bool {
        let directory = try makePrivateDirectory()
        watching?(directory)
        defer {
            removeShredded(directory)
            watching?(nil)
        }
        let file = (directory as NSString).appendingPathComponent((path as NSString).lastPathComponent)
        let descriptor = Foundation.open(file, O_CREAT | O_EXCL | O_WRONLY, 0o600)
        guard descriptor >= 0 else { throw PGHAError(.io, "cannot create a temporary file", at: SourceLocation(file: file)) }
        let written = (initial ?? []).withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == (initial ?? []).count else { throw PGHAError(.io, "cannot write a temporary file", at: SourceLocation(file: file)) }
        try runEditor(editor, on: file)
        guard let data = FileManager.default.contents(atPath: file) else {
            throw PGHAError(.io, "the edited file is gone", at: SourceLocation(file: file))
        }
        let edited = [UInt8](data)
        // ansible-vault saves a new file even when empty, and an existing one only when it changed.
        guard initial == nil || edited != initial else { return false }
        try save(edited)
        return true
    }

    private static func runEditor(_ editor: [String], on file: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = editor + [file]
        do {
            try process.run()
        } catch {
            throw PGHAError(.environment, "Unable to execute the command \"\((editor + [file]).joined(separator: " "))\": \(error.localizedDescription)")
        }
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw PGHAError(
                .environment, "the editor (\(editor.joined(separator: " "))) failed with status \(process.terminationStatus); the file was not changed")
        }
    }

    private static func makePrivateDirectory() throws -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base as NSString).appendingPathComponent("pgha-vault-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let start = buffer.baseAddress else { return nil }
            return mkdtemp(start).map { String(cString: $0) }
        }
        guard let made else {
            throw PGHAError(.io, "cannot create a private temporary directory", at: SourceLocation(file: base))
        }
        return made
    }

    /// Removes a directory of plaintext, overwriting each file with zeros first so the text does
    /// not linger in the freed blocks.
    public static func removeShredded(_ directory: String) {
        let manager = FileManager.default
        for name in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] {
            let file = (directory as NSString).appendingPathComponent(name)
            if let size = (try? manager.attributesOfItem(atPath: file))?[.size] as? NSNumber, size.intValue > 0,
                let handle = FileHandle(forWritingAtPath: file)
            {
                handle.write(Data(count: size.intValue))
                try? handle.synchronize()
                try? handle.close()
            }
        }
        try? manager.removeItem(atPath: directory)
    }

    // MARK: Reading and writing

    private static func location(of path: String) -> SourceLocation {
        SourceLocation(file: path == standardStream ? "<stdin>" : path)
    }

    static func read(_ path: String) throws -> [UInt8] {
        if path == standardStream { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PGHAError(.io, "Unable to read source file", at: SourceLocation(file: path))
        }
        return [UInt8](data)
    }

    private static func open(_ path: String, secrets: VaultSecrets) throws -> Vault.Decryption {
        let bytes = try read(path)
        do {
            return try Vault.decrypt(String(decoding: bytes, as: UTF8.self), secrets: secrets)
        } catch {
            throw error.error(at: location(of: path))
        }
    }

    private static func encrypted(_ plaintext: [UInt8], with secret: VaultSecret, for path: String) throws -> [UInt8] {
        do {
            return Array(try Vault.encrypt(plaintext, password: secret.password, vaultID: secret.label).utf8)
        } catch {
            throw error.error(at: SourceLocation(file: path))
        }
    }

    private static func existingMode(_ path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }

    /// Writes `bytes` to `path` (or stdout for `-`) through a temporary file with `mode`, renamed over it.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        if path == standardStream {
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        let directory = (path as NSString).deletingLastPathComponent
        let base = directory.isEmpty ? "." : directory
        var template = Array((base as NSString).appendingPathComponent(".\((path as NSString).lastPathComponent).XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let start = buffer.baseAddress else { return -1 }
            return mkstemp(start)
        }
        guard descriptor >= 0 else {
            throw PGHAError(.io, "Destination '\(base)' not writable", at: SourceLocation(file: path))
        }
        let temporary = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var ok = fchmod(descriptor, mode) == 0
        ok = ok && bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) } == bytes.count
        ok = ok && fsync(descriptor) == 0
        close(descriptor)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw PGHAError(.io, "cannot write the file", at: SourceLocation(file: path))
        }
    }
}

/// Python's `shlex.split` for an editor command line: quotes and backslashes, no expansion.
enum ShellWords {
    static func split(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character? = nil
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
                inWord = true
                continue
            }
            if let q = quote {
                if character == q {
                    quote = nil
                } else if character == "\\" && q == "\"" {
                    escaped = true
                } else {
                    current.append(character)
                }
                continue
            }
            switch character {
            case "\\": escaped = true
            case "'", "\"":
                quote = character
                inWord = true
            case _ where character.isWhitespace:
                if inWord { words.append(current) }
                current = ""
                inWord = false
            default:
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
