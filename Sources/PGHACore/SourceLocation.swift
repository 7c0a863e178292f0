/// A place in a source file: where a YAML node, template or inventory line came from.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based; 0 when only the file is known.
    public var line: Int
    /// 1-based; 0 when only the line is known.
    public var column: Int

    public init(file: String, line: Int = 0, column: Int = 0) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String {
        if line == 0 { return file }
        if column == 0 { return "\(file):\(line)" }
        return "\(file):\(line):\(column)"
    }

    /// The same file, `lines` further down (used for templates embedded in YAML block scalars).
    public func offset(lines: Int, column: Int? = nil) -> SourceLocation {
        SourceLocation(file: file, line: line + lines, column: column ?? self.column)
    }
}
