import Foundation

/// Where a variable's value came from, and whether it must never be shown.
///
/// The engine attaches an origin to every variable binding; output, diffs, logs and error messages
/// pass through a `Redactor` that knows every secret value seen so far.
public struct Origin: Sendable, Hashable {
    public var location: SourceLocation?
    public var isSecret: Bool

    public init(location: SourceLocation? = nil, isSecret: Bool = false) {
        self.location = location
        self.isSecret = isSecret
    }
}

/// Replaces every known secret string in text that is about to leave the process.
public final class Redactor: @unchecked Sendable {
    public static let mask = "********"
    private let lock = NSLock()
    private var secrets: Set<String> = []
    private var ordered: [String] = []

    public init() {}

    /// Registers a secret; very short values are ignored because masking them would mangle output.
    public func register(_ secret: String) {
        guard secret.count >= 4 else { return }
        lock.lock()
        defer { lock.unlock() }
        if secrets.insert(secret).inserted {
            ordered.append(secret)
            ordered.sort { $0.count > $1.count }
        }
    }

    /// Registers every string inside a value.
    public func register(value: Value) {
        switch value {
        case .string(let s): register(s)
        case .list(let items): items.forEach { register(value: $0) }
        case .dict(let dict): dict.values.forEach { register(value: $0) }
        default: break
        }
    }

    public var isEmpty: Bool {
        lock.lock()
        defer { lock.unlock() }
        return ordered.isEmpty
    }

    public func redact(_ text: String) -> String {
        lock.lock()
        let secrets = ordered
        lock.unlock()
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: Redactor.mask)
        }
        return result
    }

    public func redact(value: Value) -> Value {
        switch value {
        case .string(let s): return .string(redact(s))
        case .list(let items): return .list(items.map { redact(value: $0) })
        case .dict(let dict): return .dict(dict.mapValues { redact(value: $0) })
        default: return value
        }
    }
}
