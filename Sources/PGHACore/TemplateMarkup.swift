/// Substring tests on UTF-8 bytes for the engine's per-task paths.
///
/// With Foundation imported, `String.contains(_:)` bridges to NSString and compares UTF-16 code
/// units through CFString: asking "is this value templated?" that way was a tenth of a whole run's
/// CPU time. Byte equality is what these callers mean: their needles are ASCII markup.
extension StringProtocol {
    /// Whether `needle` occurs in the text, byte for byte.
    public func containsBytes(_ needle: String) -> Bool {
        utf8.firstRange(of: needle.utf8) != nil
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

extension Value {
    /// Whether a template expression is still unrendered somewhere inside.
    package var containsTemplate: Bool {
        switch self {
        case .string(let s): return s.containsTemplateMarkup
        case .list(let items): return items.contains(where: \.containsTemplate)
        case .dict(let d): return d.values.contains(where: \.containsTemplate)
        default: return false
        }
    }
}
