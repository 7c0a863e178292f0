import Foundation

/// How much input the controller accepts, so a wrong file (a disk image passed as a vars file, a
/// generated YAML bomb) fails at once with a message instead of eating memory or hanging.
public enum InputLimits {
    /// The largest YAML or JSON document read (playbooks, task files, vars files, inventories):
    /// hundreds of times the size of real ones.
    public static let maxYAMLBytes = 16 << 20
    /// The largest template file rendered (`template:`, `lookup('template')`).
    public static let maxTemplateBytes = 16 << 20
    /// YAML nesting (libyaml's own limit, kept here so messages can name it).
    public static let maxYAMLDepth = 1000
    /// Nodes a YAML document may hold beyond its size in bytes: without aliases a document has
    /// fewer nodes than bytes, so only alias expansion (`*a` repeated inside anchors) exceeds it.
    public static let yamlNodeAllowance = 20_000

    /// The node budget of a YAML document of `byteCount` bytes.
    public static func maxYAMLNodes(forBytes byteCount: Int) -> Int { yamlNodeAllowance + 2 * byteCount }

    /// `16 MiB`, `512.0 MiB`: sizes in messages.
    public static func describe(bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) bytes" }
        if bytes < 1 << 20 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        if bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        return String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
    }
}

/// Reads controller text files with the checks every reader needs: a size limit checked before
/// reading (and enforced while reading, for pipes and devices), binary content and invalid UTF-8
/// refused with the file's name and the position of the first bad byte.
public enum InputFile {
    /// The bytes of `path`, at most `limit` of them; a larger file is refused before it is read.
    ///
    /// - Parameter what: what the file is, for messages ("YAML file", "template").
    public static func readBytes(_ path: String, limit: Int, what: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw PGHAError(.io, "cannot read \(what): \(reason)", at: SourceLocation(file: path))
        }
        defer { close(descriptor) }
        var status = stat()
        if fstat(descriptor, &status) == 0 {
            if (status.st_mode & S_IFMT) == S_IFDIR {
                throw PGHAError(.io, "cannot read \(what): it is a directory", at: SourceLocation(file: path))
            }
            if (status.st_mode & S_IFMT) == S_IFREG, Int(status.st_size) > limit {
                throw tooLarge(path, size: Int(status.st_size), limit: limit, what: what)
            }
        }
        // Read in chunks up to one byte past the limit: a FIFO or /dev/zero has no size to check.
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                throw PGHAError(.io, "cannot read \(what): \(reason)", at: SourceLocation(file: path))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit { throw tooLarge(path, size: nil, limit: limit, what: what) }
        }
        return bytes
    }

    /// Refuses a regular file larger than `limit` without reading it (readers that go through
    /// another layer, such as the vault's, call this first).
    public static func checkSize(_ path: String, limit: Int, what: String) throws {
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return }
        if Int(status.st_size) > limit { throw tooLarge(path, size: Int(status.st_size), limit: limit, what: what) }
    }

    /// The text of `path`: refused when larger than `limit`, binary (a NUL byte) or not UTF-8.
    /// A `builtin:` path reads the content compiled into pgha-play (ContentSource).
    public static func readText(_ path: String, limit: Int, what: String) throws -> String {
        if ContentSource.isBuiltin(path) {
            guard let bytes = ContentSource.contents(path) else {
                throw PGHAError(.io, "cannot read \(what): no such built-in file", at: SourceLocation(file: path))
            }
            return try text(of: bytes, file: path, what: what)
        }
        return try text(of: readBytes(path, limit: limit, what: what), file: path, what: what)
    }

    /// `bytes` as text, refused with the first offending byte's position when binary or not UTF-8.
    public static func text(of bytes: [UInt8], file: String, what: String) throws -> String {
        if let problem = firstProblem(in: bytes) {
            let (line, column) = position(of: problem.offset, in: bytes)
            let message =
                problem.isNUL
                ? "\(what) is binary, not text (a NUL byte at line \(line), column \(column))"
                : "\(what) is not UTF-8 text (byte 0x\(String(bytes[problem.offset], radix: 16)) at line \(line), column \(column))"
            throw PGHAError(
                .syntax, message, at: SourceLocation(file: file),
                hint: "check the path: pgha-play reads \(what)s as UTF-8 text")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The first NUL byte or invalid UTF-8 sequence, if any.
    static func firstProblem(in bytes: [UInt8]) -> (offset: Int, isNUL: Bool)? {
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte == 0 { return (index, true) }
            if byte < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var minimum: UInt32
            var scalar: UInt32
            switch byte {
            case 0xC2...0xDF: length = 2; minimum = 0x80; scalar = UInt32(byte & 0x1F)
            case 0xE0...0xEF: length = 3; minimum = 0x800; scalar = UInt32(byte & 0x0F)
            case 0xF0...0xF4: length = 4; minimum = 0x10000; scalar = UInt32(byte & 0x07)
            default: return (index, false)
            }
            guard index + length <= count else { return (index, false) }
            for next in bytes[(index + 1)..<(index + length)] {
                guard next & 0xC0 == 0x80 else { return (index, false) }
                scalar = scalar << 6 | UInt32(next & 0x3F)
            }
            if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return (index, false) }
            index += length
        }
        return nil
    }

    /// 1-based line and column (in bytes) of `offset`.
    static func position(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for index in 0..<offset where bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        return (line, offset - lineStart + 1)
    }

    static func tooLarge(_ path: String, size: Int?, limit: Int, what: String) -> PGHAError {
        let actual = size.map { " is \(InputLimits.describe(bytes: $0))," } ?? ""
        return PGHAError(
            .syntax, "\(what)\(actual) larger than the \(InputLimits.describe(bytes: limit)) limit; refused",
            at: SourceLocation(file: path), hint: "check the path: this is not a \(what) pgha-play can use")
    }
}
