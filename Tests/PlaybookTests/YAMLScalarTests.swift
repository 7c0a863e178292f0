import PGHACore
import Testing

/// The loader's YAML scalar fast path (PGHACore) must keep Ansible's YAML 1.1 typing.
@Suite struct YAMLScalarTests {
    static let cases: [(String, Value)] = [
        ("yes", true), ("No", false), ("ON", true), ("off", false), ("true", true), ("False", false),
        ("y", "y"), ("n", "n"), ("~", nil), ("null", nil), ("Null", nil), ("", nil), ("nUll", "nUll"),
        ("0644", 420), ("42", 42), ("-7", -7), ("+3", 3), ("0x1F", 31), ("1_000", 1000), ("1.5", 1.5),
        ("-.5", "-.5"), ("1e3", "1e3"), ("1.0e+3", 1000.0), ("0o17", "0o17"), ("10:30", 630),
        ("10:30:60", "10:30:60"), ("1:30.5", 90.5), ("09", "09"), ("yEs", "yEs"), ("2001-12-14", "2001-12-14"), ("'yes'", "yes"), ("\"42\"", "42"), ("hello", "hello"),
        ("/tmp/x", "/tmp/x"), ("-x", "-x"), (".hidden", ".hidden"), ("12ab", "12ab"),
        ("2001:db8::1", "2001:db8::1"), ("on_failure", "on_failure"), ("yesterday", "yesterday"),
    ]

    @Test func scalarsKeepAnsibleTypes() throws {
        for (text, expected) in Self.cases {
            let node = try YAMLLoader.load("v: \(text.isEmpty ? "" : text)\n", file: "t.yml")
            #expect(node?["v"]?.value == expected, "\(text)")
        }
    }

    @Test func keysAreTypedLikeValues() throws {
        let node = try #require(try YAMLLoader.load("42: a\nyes: b\n'7': c\n1.5: d\n", file: "t.yml"))
        let keys = try #require(node.mappingEntries).map(\.keyNode.scalarValue)
        #expect(keys == [42, true, "7", 1.5])
    }

    @Test func infinityAndNaN() throws {
        let node = try #require(try YAMLLoader.load("a: .inf\nb: -.Inf\nc: .nan\n", file: "t.yml"))
        #expect(node["a"]?.value == .double(.infinity))
        #expect(node["b"]?.value == .double(-.infinity))
        guard case .double(let d)? = node["c"]?.value else {
            Issue.record("expected a float")
            return
        }
        #expect(d.isNaN)
    }
}

