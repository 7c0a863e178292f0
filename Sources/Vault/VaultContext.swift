import Foundation
import PGHACore

/// The vault passwords of one run, and the redactor that learns every plaintext they reveal.
///
/// Every place that reads controller files (inventory vars, playbooks, roles, vars files,
/// `copy`/`template` sources) reads through one of these, so a vaulted file or an inline `!vault`
/// value is decrypted in memory as it is loaded, and its plaintext is a secret from that moment
/// on. Nothing decrypted is written to disk.
public struct VaultContext: Sendable {
    /// The passwords tried on every vaulted file and value.
    public let secrets: VaultSecrets
    /// Learns each decrypted value; nil only where nothing is ever shown (tests, listings).
    public let redactor: Redactor?
    private let cache = DecryptionCache()

    public init(secrets: VaultSecrets, redactor: Redactor?) {
        self.secrets = secrets
        self.redactor = redactor
    }

    /// No passwords: vaulted data is an error that says how to give one.
    public static var none: VaultContext { VaultContext(secrets: .none, redactor: nil) }

    // MARK: Whole files

    /// A controller file's bytes (on disk or built in), decrypted when the file is vaulted (each of
    /// its lines then becomes a secret).
    public func readFile(_ path: String) throws -> [UInt8] {
        guard let bytes = ContentSource.contents(path) else {
            throw PGHAError(.io, "cannot read file", at: SourceLocation(file: path))
        }
        guard VaultEnvelope.isVaulted(bytes) else { return bytes }
        let plaintext = try decrypt(String(decoding: bytes, as: UTF8.self), at: SourceLocation(file: path, line: 1))
        reveal(lines: String(decoding: plaintext, as: UTF8.self))
        return plaintext
    }

    /// The YAML of `text` read from `file`: a vaulted file is decrypted first (and every value in it
    /// becomes a secret); inline `!vault` values are replaced by their plaintext, keeping the tag.
    public func loadYAML(_ text: String, file: String) throws -> YAMLNode? {
        guard VaultEnvelope.isVaulted(text) else {
            guard let node = try YAMLLoader.load(text, file: file) else { return nil }
            return try decryptInline(node)
        }
        let plaintext = try decrypt(text, at: SourceLocation(file: file, line: 1))
        guard let decoded = String(validating: plaintext, as: UTF8.self) else {
            throw VaultFailure.notText.error(at: SourceLocation(file: file))
        }
        let node: YAMLNode?
        do {
            node = try YAMLLoader.load(decoded, file: file)
        } catch let error as PGHAError {
            throw Self.decryptedContentError(error, file: file)
        }
        guard let node else { return nil }
        reveal(values: node)
        return try decryptInline(node)
    }

    /// `loadYAML` of a file's contents (on disk or built in).
    public func loadYAML(contentsOf path: String) throws -> YAMLNode? {
        try loadYAML(InputFile.readText(path, limit: InputLimits.maxYAMLBytes, what: "YAML file"), file: path)
    }

    // MARK: Inline values

    /// `node` with every `!vault` scalar replaced by its decrypted text (still tagged `!vault`, so
    /// `containsSecret` holds).
    public func decryptInline(_ node: YAMLNode) throws -> YAMLNode {
        guard node.containsSecret else { return node }
        var result = node
        switch node.content {
        case .scalar(let text, _):
            guard node.customTag == "!vault" else { return node }
            let plaintext = try decrypt(text, at: node.location)
            guard let value = String(validating: plaintext, as: UTF8.self) else {
                throw VaultFailure.notText.error(at: node.location)
            }
            redactor?.register(value)
            result.content = .scalar(value, plain: false)
            result.scalarValue = .string(value)
        case .sequence(let items):
            result.content = .sequence(try items.map(decryptInline))
        case .mapping(let pairs):
            result.content = .mapping(try pairs.map { (key: $0.key, value: try decryptInline($0.value)) })
        }
        return result
    }

    // MARK: Decryption

    /// Decrypts vaulted text; failures name `location` (the file, and the line of an inline value).
    public func decrypt(_ text: String, at location: SourceLocation) throws -> [UInt8] {
        if let cached = cache.plaintext(for: text) { return cached }
        do {
            let plaintext = try Vault.decrypt(text, secrets: secrets).plaintext
            cache.store(plaintext, for: text)
            return plaintext
        } catch {
            throw error.error(at: location)
        }
    }

    // MARK: Secrets

    private func reveal(values node: YAMLNode) {
        guard let redactor else { return }
        switch node.content {
        case .scalar:
            switch node.scalarValue {
            case .string(let text): redactor.register(text)
            case .int(let number): redactor.register(String(number))
            case .double: if let text = node.scalarText { redactor.register(text) }
            default: break
            }
        case .sequence(let items): items.forEach(reveal(values:))
        case .mapping(let pairs): pairs.forEach { reveal(values: $0.value) }
        }
    }

    private func reveal(lines text: String) {
        guard let redactor else { return }
        redactor.register(text.trimmingCharacters(in: .whitespacesAndNewlines))
        for line in text.split(whereSeparator: \.isNewline) {
            redactor.register(line.trimmingCharacters(in: .whitespaces))
        }
    }

    /// A YAML error inside decrypted text: the position is kept, but the line is not shown (the
    /// file on disk holds only ciphertext, and the plaintext must not be printed).
    static func decryptedContentError(_ error: PGHAError, file: String) -> PGHAError {
        let firstLine = error.message.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? error.message
        var location = error.location ?? SourceLocation(file: file)
        location.column = 0
        return PGHAError(
            error.kind, firstLine + " (in the decrypted content of this vaulted file)", at: location,
            hint: "fix it with 'pgha-play vault edit \(file)'", sourceLine: "(decrypted content not shown)")
    }
}

/// Plaintexts already decrypted in this run, by their vaulted text: PBKDF2 is deliberately slow and
/// the same file is read for several hosts.
private final class DecryptionCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: [UInt8]] = [:]

    func plaintext(for text: String) -> [UInt8]? {
        lock.withLock { entries[text] }
    }

    func store(_ plaintext: [UInt8], for text: String) {
        lock.withLock { entries[text] = plaintext }
    }
}
