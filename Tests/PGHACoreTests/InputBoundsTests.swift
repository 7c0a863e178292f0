import Foundation
import Testing

@testable import PGHACore

/// Input that would hang, exhaust memory or crash is refused at once, naming the file (issue 17).
@Suite struct InputBoundsTests {
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "pgha-bounds-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Nine levels of nine aliases: 9^9 (387 million) nodes if expanded.
    static let billionLaughs: String = {
        var lines = [#"a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]"#]
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ")
            lines.append("a\(level): &a\(level) [\(refs)]")
        }
        return lines.joined(separator: "\n") + "\n"
    }()

    @Test func billionLaughsIsRefusedQuickly() throws {
        let start = Date()
        let error = try #require(throws: PGHAError.self) { try YAMLLoader.load(Self.billionLaughs, file: "laughs.yml") }
        #expect(Date().timeIntervalSince(start) < 10, "took \(Date().timeIntervalSince(start)) s")
        #expect(error.kind == .syntax)
        #expect(error.message.contains("expands to more than"), "\(error)")
        #expect(error.location?.file == "laughs.yml")
    }

    @Test func ordinaryAliasesAndMergeKeysStillLoad() throws {
        let text = """
            base: &base {user: postgres, port: 5432}
            primary: {<<: *base, role: primary}
            replicas: [*base, *base, *base]

            """
        let node = try #require(try YAMLLoader.load(text, file: "ok.yml"))
        #expect(node.value["primary"]?["port"] == 5432)
        #expect(node.value["replicas"]?.listValue?.count == 3)
    }

    @Test func aHundredThousandLevelsOfNestingAreRefused() throws {
        let text = "x: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n"
        let error = try #require(throws: PGHAError.self) { try YAMLLoader.load(text, file: "nested.yml") }
        #expect(error.message.contains("nested more than 1000 levels"), "\(error.message)")
        #expect(error.location?.line == 1)
    }

    @Test func aFileOverTheLimitIsRefusedBeforeItIsRead() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/vars.yml"
        // Sparse: 500 MB of size, no blocks, so the test costs nothing but reading it would.
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 500_000_000)
        try handle.close()
        let error = try #require(throws: PGHAError.self) {
            try InputFile.readText(path, limit: InputLimits.maxYAMLBytes, what: "YAML file")
        }
        #expect(error.location?.file == path)
        #expect(error.message == "YAML file is 476.8 MiB, larger than the 16 MiB limit; refused")
    }

    @Test func anEndlessDeviceIsCutOffAtTheLimit() throws {
        let error = try #require(throws: PGHAError.self) {
            try InputFile.readText("/dev/zero", limit: 1 << 20, what: "vars file")
        }
        #expect(error.message == "vars file larger than the 1 MiB limit; refused")
    }

    @Test func binaryAndNonUTF8FilesAreRefusedWithTheirPosition() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let binary = directory + "/image.yml"
        try Data([0x61, 0x3A, 0x20, 0x31, 0x0A, 0x62, 0x00, 0x01]).write(to: URL(fileURLWithPath: binary))
        let nul = try #require(throws: PGHAError.self) { try YAMLLoader.load(contentsOf: binary) }
        #expect(nul.message == "YAML file is binary, not text (a NUL byte at line 2, column 2)")
        #expect(nul.location?.file == binary)

        let latin1 = directory + "/latin1.yml"
        try Data("name: caf".utf8 + [0xE9] + Data("\n".utf8)).write(to: URL(fileURLWithPath: latin1))
        let invalid = try #require(throws: PGHAError.self) { try YAMLLoader.load(contentsOf: latin1) }
        #expect(invalid.message == "YAML file is not UTF-8 text (byte 0xe9 at line 1, column 10)")
        #expect(invalid.location?.file == latin1)
    }

    @Test func validUTF8PassesTheCheck() throws {
        for text in ["", "plain", "ünïcödé ✓ 日本語 🐘", "a\tb\r\n"] {
            #expect(InputFile.firstProblem(in: Array(text.utf8)) == nil)
        }
        // Overlong encodings and surrogates are not UTF-8.
        #expect(InputFile.firstProblem(in: [0xC0, 0x80])?.offset == 0)
        #expect(InputFile.firstProblem(in: [0x41, 0xED, 0xA0, 0x80])?.offset == 1)
        #expect(InputFile.firstProblem(in: [0x41, 0xE2, 0x82])?.offset == 1)
    }

    @Test func longSourceLinesAreShownAsAnExcerpt() throws {
        let line = String(repeating: "[", count: 5000) + "x" + String(repeating: "]", count: 5000)
        let error = PGHAError(.syntax, "bad", at: SourceLocation(file: "f.yml", line: 1, column: 5001), sourceLine: line)
        let lines = error.description.split(separator: "\n").map { Array($0) }
        #expect(lines.count == 3)
        #expect(lines[1].count < 200)
        let caret = try #require(lines[2].firstIndex(of: "^"))
        #expect(lines[1][caret] == "x")
    }
}

/// Controller files are replaced whole, and concurrent read-modify-write cycles keep every change.
@Suite struct AtomicFileTests {
    @Test func replacesTheFileKeepingItsPermissions() throws {
        let directory = try InputBoundsTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/known_hosts"
        try AtomicFile.write(Array("one\n".utf8), to: path, mode: 0o600)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        chmod(path, 0o640)
        try AtomicFile.write(Array("two\n".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "two\n")
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["known_hosts"])
    }

    @Test func aLinkIsFollowed() throws {
        let directory = try InputBoundsTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "old\n".write(toFile: directory + "/real", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: directory + "/link", withDestinationPath: "real")
        try AtomicFile.write(Array("new\n".utf8), to: directory + "/link")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: directory + "/link") == "real")
        #expect(try String(contentsOfFile: directory + "/real", encoding: .utf8) == "new\n")
    }

    @Test func aFailedWriteLeavesTheOldFile() throws {
        let directory = try InputBoundsTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let error = try #require(throws: PGHAError.self) {
            try AtomicFile.write(Array("x".utf8), to: directory + "/missing/dir/file")
        }
        #expect(error.message.contains("cannot write"))
    }

    @Test func concurrentAdditionsUnderTheLockKeepEveryLine() async throws {
        let directory = try InputBoundsTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/known_hosts"
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for entry in 0..<40 {
                        try? AtomicFile.withDirectoryLock(for: path) {
                            let old = FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
                            try AtomicFile.write(old + Array("host-\(writer)-\(entry) ssh-ed25519 AAAA\n".utf8), to: path)
                        }
                    }
                }
            }
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 320)
        #expect(Set(lines).count == 320)
        #expect(lines.allSatisfy { $0.hasPrefix("host-") && $0.hasSuffix(" ssh-ed25519 AAAA") })
    }
}
