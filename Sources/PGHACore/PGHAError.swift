/// The one user-facing error type: what went wrong, where, and what to do.
///
/// Every error that reaches an operator carries its origin: a file position for YAML, template and
/// inventory problems, or a host and task for problems found while running.
public struct PGHAError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Malformed YAML, INI, JSON or template syntax.
        case syntax
        /// Well-formed input that means nothing valid (unknown keyword, module or argument, bad type).
        case semantic
        /// A template referenced a variable that does not exist.
        case undefinedVariable
        /// A template failed while being evaluated (bad filter input, division by zero, ...).
        case template
        /// Host pattern, inventory source or group problem.
        case inventory
        /// Command-line misuse.
        case usage
        /// A host could not be reached or authenticated.
        case unreachable
        /// A module or task failed on a host.
        case execution
        /// The local machine refused (permissions, missing tools).
        case environment
        case io
        /// Vaulted data that cannot be decrypted: no password, a wrong one, a damaged or unknown format.
        case vault
        case interrupted
    }

    public var kind: Kind
    public var message: String
    public var location: SourceLocation?
    public var host: String?
    public var task: String?
    /// What the operator can do about it.
    public var hint: String?
    /// The text of the offending line, shown under the message with a caret.
    public var sourceLine: String?

    public init(
        _ kind: Kind, _ message: String, at location: SourceLocation? = nil, host: String? = nil,
        task: String? = nil, hint: String? = nil, sourceLine: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.location = location
        self.host = host
        self.task = task
        self.hint = hint
        self.sourceLine = sourceLine
    }

    /// `file:line:column: message`, then the offending line with a caret, then the hint.
    public var description: String {
        var text = ""
        if let location { text += "\(location): " }
        if let host { text += "[\(host)] " }
        if let task { text += "task '\(task)': " }
        text += message
        if let sourceLine, let location, location.line > 0 {
            let (shown, caret) = Self.excerpt(of: sourceLine, column: location.column)
            text += "\n    \(shown)"
            if let caret {
                text += "\n    " + String(repeating: " ", count: caret) + "^"
            }
        }
        if let hint { text += "\nhint: \(hint)" }
        return text
    }

    /// At most `width` characters of a long line (a generated or minified file), around the
    /// column, and where the caret goes under them.
    static func excerpt(of line: String, column: Int, width: Int = 160) -> (text: String, caret: Int?) {
        let characters = Array(line)
        guard characters.count > width else { return (line, column > 0 ? column - 1 : nil) }
        let target = max(0, min(column - 1, characters.count - 1))
        let start = max(0, min(target - width / 2, characters.count - width))
        let end = min(characters.count, start + width)
        let prefix = start > 0 ? "..." : ""
        let text = prefix + String(characters[start..<end]) + (end < characters.count ? "..." : "")
        return (text, column > 0 ? prefix.count + target - start : nil)
    }

    /// Fills in the offending line from the file on disk, if it is readable.
    public func withSourceLine() -> PGHAError {
        guard sourceLine == nil, let location, location.line > 0,
            let bytes = ContentSource.contents(location.file), let text = String(validating: bytes, as: UTF8.self)
        else { return self }
        var copy = self
        var lineNumber = 1
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if lineNumber == location.line {
                copy.sourceLine = String(line)
                break
            }
            lineNumber += 1
        }
        return copy
    }
}
