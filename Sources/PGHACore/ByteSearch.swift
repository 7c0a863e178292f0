/// Substring tests on UTF-8 bytes.
///
/// With Foundation imported, `String.contains(_:)` and `replacingOccurrences` bridge to NSString
/// and compare UTF-16 code units through CFString: on the engine's per-task paths (is this value
/// templated? quote this argument) they were a tenth of a whole run's CPU time. Byte equality is
/// what these callers mean: their needles are ASCII markup.
extension StringProtocol {
    /// Whether `needle` occurs in the text, byte for byte.
    public func containsBytes(_ needle: String) -> Bool {
        var needle = needle
        return needle.withUTF8 { pattern in
            guard let first = pattern.first else { return true }
            if let found = utf8.withContiguousStorageIfAvailable({ Self.search(pattern, first, in: $0) }) {
                return found
            }
            return Self.search(pattern, first, in: Array(utf8))
        }
    }

    private static func search<Bytes: Collection<UInt8>>(
        _ pattern: UnsafeBufferPointer<UInt8>, _ first: UInt8, in text: Bytes
    ) -> Bool where Bytes.Index == Int {
        guard text.count >= pattern.count else { return false }
        let last = text.endIndex - pattern.count
        var index = text.startIndex
        while index <= last {
            if text[index] == first {
                var offset = 1
                while offset < pattern.count && text[index + offset] == pattern[offset] { offset += 1 }
                if offset == pattern.count { return true }
            }
            index += 1
        }
        return false
    }

    /// Whether the text holds Jinja2 expression or statement markup (`{{` or `{%`).
    public var containsTemplateMarkup: Bool {
        var previousBrace = false
        for byte in utf8 {
            if previousBrace && (byte == UInt8(ascii: "{") || byte == UInt8(ascii: "%")) { return true }
            previousBrace = byte == UInt8(ascii: "{")
        }
        return false
    }
}
