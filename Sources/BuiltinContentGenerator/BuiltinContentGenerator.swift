import Foundation

// The build-time generator behind the EmbedBuiltinContent and StampBuildInfo plugins:
//   BuiltinContentGenerator content OUTPUT ROOT FILE...   the files (relative to ROOT) as a Swift table
//   BuiltinContentGenerator build-info OUTPUT COMMIT      the commit the binary is built from
// OUTPUT is rewritten only when its text changes, so an unchanged tree compiles nothing again.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: BuiltinContentGenerator: \(message)\n".utf8))
    exit(1)
}

/// `text` as a Swift string literal with the same bytes: only what a literal cannot hold is escaped.
func swiftLiteral(_ text: String) -> String {
    var literal = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": literal += "\\\\"
        case "\"": literal += "\\\""
        case "\n": literal += "\\n"
        case "\r": literal += "\\r"
        case "\t": literal += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                literal += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                literal.unicodeScalars.append(scalar)
            }
        }
    }
    return literal + "\""
}

func writeIfChanged(_ text: String, to path: String) {
    if let existing = try? String(contentsOfFile: path, encoding: .utf8), existing == text { return }
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        fail("cannot write \(path): \(error)")
    }
}

func contentTable(root: String, files: [String]) -> String {
    var source = """
        // Generated at build time by BuiltinContentGenerator from the repository's roles/ and
        // playbooks/ (the one source; this file is never committed).

        extension BuiltinFiles {
            static let embedded: [(path: String, executable: Bool, text: String)] = [

        """
    for relative in files {
        let path = root + "/" + relative
        guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
        guard let text = String(validating: [UInt8](data), as: UTF8.self) else {
            fail("\(relative) is not UTF-8 text; built-in roles and playbooks hold text files only")
        }
        let executable = FileManager.default.isExecutableFile(atPath: path)
        source += "        (path: \(swiftLiteral(relative)), executable: \(executable), text: \(swiftLiteral(text))),\n"
    }
    source += "    ]\n}\n"
    return source
}

func buildInfo(commit: String) -> String {
    """
    // Generated at build time by BuiltinContentGenerator (the StampBuildInfo plugin).

    enum BuildInfo {
        /// The git commit this binary was built from, or "unknown".
        static let commit = \(swiftLiteral(commit))
    }

    """
}

// An explicit entry point, not top-level code: builds with `-sanitize=fuzzer` (scripts/fuzz) compile
// executables as libraries, since libFuzzer brings its own main.
@main
enum BuiltinContentGenerator {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "content" where arguments.count >= 3:
            writeIfChanged(contentTable(root: arguments[2], files: Array(arguments.dropFirst(3))), to: arguments[1])
        case "build-info" where arguments.count == 3:
            writeIfChanged(buildInfo(commit: arguments[2]), to: arguments[1])
        default:
            fail("usage: content OUTPUT ROOT FILE... | build-info OUTPUT COMMIT")
        }
    }
}
