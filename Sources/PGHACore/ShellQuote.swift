import Foundation

/// Quotes a string for a POSIX shell, as Python's shlex.quote does: text made only of ASCII
/// letters, digits and `@%+=:,./-_` stays as it is; anything else is single-quoted.
public func shellQuote(_ text: String) -> String {
    if text.isEmpty { return "''" }
    let safe = text.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
            || "@%+=:,./-_".unicodeScalars.contains($0)
    }
    if safe { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\"'\"'") + "'"
}
