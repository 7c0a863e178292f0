import Foundation
import PGHACore
import Testing

@testable import Inventory

/// Host patterns and ranges that cannot mean what was written are errors, not names that match
/// nothing or a hang (issue 17).
@Suite struct InventoryBoundsTests {
    @Test(arguments: [
        ("web[1", "unclosed '['"), ("web[]", "empty range '[]'"), ("web[5:2]", "empty range '[5:2]' (2 is before 5)"),
        ("web[3-1]", "empty range '[3-1]' (1 is before 3)"), ("web]", "']' without a matching '['"), ("web[[1]]", "'[' inside '[...]'"),
        ("all:!db[", "unclosed '['"), ("~(web", "'~(web' is not a valid regular expression"), ("a,b[0", "unclosed '['"),
    ])
    func malformedPatternsAreErrors(_ pattern: String, _ reason: String) throws {
        let error = try #require(throws: PGHAError.self) {
            try Inventory.validatePattern(pattern, at: SourceLocation(file: "site.yml", line: 2))
        }
        #expect(error.kind == .inventory)
        #expect(error.message == "malformed host pattern '\(pattern)': \(reason)", "\(error.message)")
        #expect(error.location == SourceLocation(file: "site.yml", line: 2))
    }

    @Test(arguments: [
        "all", "web", "web[0]", "web[-1]", "web[1:3]", "web[1:]", "web[0:0]", "web*", "web-0[12]", "w?b", "~web[0-9]+",
        "web:&prod:!web01", "db,web", "[2001:db8::1]", "10.0.0.[1:3]", "web[a-c]",
    ])
    func wellFormedPatternsPass(_ pattern: String) throws {
        try Inventory.validatePattern(pattern)
    }

    @Test func aHugeHostRangeIsRefusedQuickly() throws {
        let tree = try TempTree(["hosts.ini": "[web]\nweb[1:99999999].example.com\n"])
        let start = Date()
        let error = try #require(throws: PGHAError.self) { try Inventory.load(sources: [tree.path("hosts.ini")]) }
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(error.message.contains("expands to more than 100000 hosts"), "\(error.message)")
        #expect(error.location?.file == tree.path("hosts.ini"))
    }

    /// The largest range allowed loads in linear time (adding each host searched and copied the
    /// group's whole list: 8,000 hosts took 44 s, 100,000 would take hours; the fuzzer's slow input).
    /// The bound only separates linear from quadratic: 44 s measured in a debug build at load 25.
    @Test func theLargestRangeAllowedLoads() throws {
        let tree = try TempTree(["hosts.ini": "[web]\nweb[1:100000].example.com\n"])
        let start = Date()
        let inventory = try Inventory.load(sources: [tree.path("hosts.ini")])
        #expect(Date().timeIntervalSince(start) < 300, "took \(Date().timeIntervalSince(start)) s")
        #expect(inventory.hosts(inGroup: "web").count == 100_000)
        #expect(inventory.hosts(inGroup: "all").last == "web100000.example.com")
    }

    @Test func nestedRangesAreCountedTogether() throws {
        #expect(throws: HostAddress.Failure.self) { try HostAddress.expandRange("h[0:999]-[0:999]") }
        #expect(try HostAddress.expandRange("h[0:9]-[a:c]").count == 30)
    }

    @Test func extremeBoundsDoNotOverflow() throws {
        #expect(throws: HostAddress.Failure.self) { try HostAddress.expandRange("h[0:9223372036854775807]") }
        #expect(try HostAddress.expandRange("h[1:9223372036854775807:-1]").isEmpty)
        #expect(try HostAddress.expandRange("h[9223372036854775807:9223372036854775807]") == ["h9223372036854775807"])
    }
}
