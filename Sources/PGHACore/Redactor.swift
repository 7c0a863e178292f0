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
    /// Stands for a secret in a file's old content that differs from the one replacing it.
    public static let previousMask = "******** (previous value)"
    private let lock = NSLock()
    private var secrets: Set<String> = []
    private var ordered: [String] = []
    private var matcher = SecretMatcher()

    public init() {}

    /// Registers a secret; very short values are ignored because masking them would mangle output.
    /// The secret is also masked as templates write it into JSON or YAML strings (`to_json`, with
    /// or without ensure_ascii) and into URLs (percent-encoded), where its bytes differ.
    public func register(_ secret: String) {
        guard secret.count >= 4 else { return }
        var forms: Set<String> = [secret]
        for asciiOnly in [true, false] {
            let quoted = JSON.encode(.string(secret), style: JSON.Style(asciiOnly: asciiOnly))
            forms.insert(String(quoted.dropFirst().dropLast()))
        }
        let unreserved = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        if let encoded = secret.addingPercentEncoding(withAllowedCharacters: unreserved) { forms.insert(encoded) }
        forms.formUnion(Self.base64Forms(of: secret))
        lock.lock()
        defer { lock.unlock() }
        for form in forms where secrets.insert(form).inserted {
            ordered.append(form)
            matcher.add(form)
        }
        ordered.sort { $0.count > $1.count }
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

    /// The secret's base64 as it appears inside the base64 of any longer text (`b64encode`, slurp):
    /// for each of the three byte alignments, the characters that only the secret's bytes decide.
    static func base64Forms(of secret: String) -> [String] {
        let bytes = Array(secret.utf8)
        var forms = [Base64.encode(bytes)]
        for offset in 0..<3 {
            let encoded = Array(Base64.encode([UInt8](repeating: 0, count: offset) + bytes).utf8)
            // Whole 4-character groups past the one holding the leading padding bytes, and before
            // the last, whose characters depend on what follows the secret.
            let first = offset == 0 ? 0 : 4
            let last = (offset + bytes.count) / 3 * 4
            guard last - first >= 8 else { continue }
            forms.append(String(decoding: encoded[first..<last], as: UTF8.self))
        }
        return forms
    }

    /// True when `text` contains a registered secret.
    public func containsSecret(_ text: String) -> Bool {
        snapshot().matcher.occurs(in: text)
    }

    /// The secrets' forms, longest first, and their matcher, as registered so far.
    private func snapshot() -> (matcher: SecretMatcher, forms: [String]) {
        lock.lock()
        defer { lock.unlock() }
        return (matcher, ordered)
    }

    /// The error with every secret in its message, hint and source line masked.
    public func redact(_ error: PGHAError) -> PGHAError {
        var copy = error
        copy.message = redact(error.message)
        copy.hint = error.hint.map(redact)
        copy.sourceLine = error.sourceLine.map(redact)
        copy.task = error.task.map(redact)
        return copy
    }

    public var isEmpty: Bool {
        lock.lock()
        defer { lock.unlock() }
        return ordered.isEmpty
    }

    public func redact(_ text: String) -> String {
        // Nearly all text holds no secret: one pass over its bytes says so (Foundation's substring
        // search per secret form was 40 % of a whole run's CPU time).
        let (matcher, forms) = snapshot()
        guard matcher.occurs(in: text) else { return text }
        var result = text
        for secret in forms where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: Redactor.mask)
        }
        return result
    }

    /// Redacts both sides of a diff. A file's old content can hold a secret that is no longer
    /// known (the password before a rotation): a line of the old text that has the same text
    /// around it as a line of the new text has around a secret is masked in the same place, as
    /// `previousMask` when it differs, so the diff still shows which secret changed.
    public func redact(before: String, after: String) -> (before: String, after: String) {
        let redactedAfter = redact(after)
        var frames: [(prefix: Substring, suffix: Substring)] = []
        for line in redactedAfter.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let first = line.range(of: Redactor.mask), let last = line.range(of: Redactor.mask, options: .backwards)
            else { continue }
            let frame = (prefix: line[..<first.lowerBound], suffix: line[last.upperBound...])
            // A secret alone on its line gives no frame to recognise the old one by.
            if frame.prefix.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            frames.append(frame)
        }
        guard !frames.isEmpty else { return (redact(before), redactedAfter) }
        // Compared unmasked: an old and a new secret, both known, would otherwise look the same.
        let afterLines = Set(after.split(separator: "\n", omittingEmptySubsequences: false))
        let lines = before.split(separator: "\n", omittingEmptySubsequences: false).map { raw -> String in
            let line = redact(String(raw))
            for frame in frames
            where line.count > frame.prefix.count + frame.suffix.count && line.hasPrefix(frame.prefix)
                && line.hasSuffix(frame.suffix)
            {
                let mask = afterLines.contains(raw) ? Redactor.mask : Redactor.previousMask
                return String(frame.prefix + mask + frame.suffix)
            }
            return line
        }
        return (lines.joined(separator: "\n"), redactedAfter)
    }

    public func redact(value: Value) -> Value {
        // One pass over the whole value first: nearly every value holds no secret and is returned
        // as it is; one that does is rebuilt with each string masked.
        guard snapshot().matcher.occurs(in: value) else { return value }
        return masked(value)
    }

    private func masked(_ value: Value) -> Value {
        switch value {
        case .string(let s): return .string(redact(s))
        case .list(let items): return .list(items.map(masked))
        case .dict(let dict): return .dict(dict.mapValues(masked))
        default: return value
        }
    }
}

/// Says whether any of a set of byte strings occurs in a text, in one pass over the text's UTF-8.
///
/// Every pattern is at least two bytes long (the redactor ignores secrets under four characters):
/// a bit per possible first two bytes rules out nearly every position without looking further.
struct SecretMatcher: Sendable {
    private var patterns: [[UInt8]] = []
    /// Bit `b0 << 8 | b1` is set when some pattern starts with the bytes b0, b1.
    private var leadingPairs = [UInt64](repeating: 0, count: 1024)
    private var byLeadingPair: [UInt16: [Int]] = [:]

    mutating func add(_ pattern: String) {
        let bytes = Array(pattern.utf8)
        guard bytes.count >= 2 else { return }
        let pair = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        leadingPairs[Int(pair >> 6)] |= 1 << UInt64(pair & 63)
        byLeadingPair[pair, default: []].append(patterns.count)
        patterns.append(bytes)
    }

    func occurs(in text: String) -> Bool {
        guard !patterns.isEmpty else { return false }
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count >= 2 else { return false }
            return leadingPairs.withUnsafeBufferPointer { bits in
                var previous = UInt16(bytes[0])
                for index in 1..<bytes.count {
                    let pair = previous << 8 | UInt16(bytes[index])
                    previous = UInt16(bytes[index])
                    guard bits[Int(pair >> 6)] & (1 << UInt64(pair & 63)) != 0 else { continue }
                    let start = index - 1
                    for candidate in byLeadingPair[pair] ?? [] {
                        let pattern = patterns[candidate]
                        guard pattern.count <= bytes.count - start else { continue }
                        if pattern.withUnsafeBufferPointer({ memcmp($0.baseAddress!, bytes.baseAddress! + start, $0.count) }) == 0 {
                            return true
                        }
                    }
                }
                return false
            }
        }
    }

    func occurs(in value: Value) -> Bool {
        switch value {
        case .string(let text): return occurs(in: text)
        case .list(let items): return items.contains { occurs(in: $0) }
        case .dict(let dict): return dict.values.contains { occurs(in: $0) }
        default: return false
        }
    }
}
