import Foundation
import PGHACore
import Testing

@testable import Engine

@Suite("-e/--extra-vars parsing")
struct ExtraVarsParserTests {
    @Test func keyValuePairsStayStrings() throws {
        let vars = try ExtraVarsParser.parse(["a=1 b='two words' c=\"x=y\""])
        #expect(vars["a"] == .string("1"))
        #expect(vars["b"] == .string("two words"))
        #expect(vars["c"] == .string("x=y"))
    }

    @Test func jsonKeepsTypes() throws {
        let vars = try ExtraVarsParser.parse(["{\"n\": 3, \"l\": [1, 2], \"t\": true}"])
        #expect(vars["n"] == .int(3))
        #expect(vars["l"] == .list([1, 2]))
        #expect(vars["t"] == .bool(true))
    }

    @Test func laterArgumentsWin() throws {
        let vars = try ExtraVarsParser.parse(["a=1", "a=2"])
        #expect(vars["a"] == .string("2"))
    }

    @Test func fileArgumentLoadsYAML() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ev-\(UUID().uuidString).yml").path
        try "x: 5\ny: [a]\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let vars = try ExtraVarsParser.parse(["@" + path])
        #expect(vars["x"] == .int(5))
        #expect(vars["y"] == .list(["a"]))
    }

    @Test func garbageIsAUsageError() {
        #expect(throws: PGHAError.self) { try ExtraVarsParser.parse(["novalue"]) }
        #expect(throws: PGHAError.self) { try ExtraVarsParser.parse(["a='unterminated"]) }
    }
}
