import Testing

@testable import Playbook

@Suite struct KeyValueArgsTests {
    func parse(_ text: String, raw: Bool = false) throws -> [String: String] {
        var result: [String: String] = [:]
        for option in try KeyValueArgs.parse(text, checkRaw: raw) { result[option.key] = option.value }
        return result
    }

    @Test func simplePairs() throws {
        #expect(try parse("src=a dest=b") == ["src": "a", "dest": "b"])
    }

    @Test func quotedValuesKeepSpaces() throws {
        #expect(try parse("dest=/tmp/x content=\"hello world\" mode='0644'") == [
            "dest": "/tmp/x", "content": "hello world", "mode": "0644",
        ])
    }

    @Test func jinjaBlocksStayWhole() throws {
        #expect(try parse("msg={{ a | default('x y') }} other=1") == ["msg": "{{ a | default('x y') }}", "other": "1"])
    }

    @Test func freeFormKeepsNonCommandOptionsInRawParams() throws {
        #expect(try parse("chdir=/tmp ls -l a=b", raw: true) == ["chdir": "/tmp", "_raw_params": "ls -l a=b"])
        #expect(try parse("creates=/x removes=/y echo hi", raw: true) == ["creates": "/x", "removes": "/y", "_raw_params": "echo hi"])
    }

    @Test func wordsWithoutEqualsAreRawParams() throws {
        #expect(try parse("flush_handlers") == ["_raw_params": "flush_handlers"])
        #expect(try parse("echo 'a  b'", raw: true) == ["_raw_params": "echo 'a  b'"])
    }

    @Test func escapedEqualsIsNotASeparator() throws {
        #expect(try parse("a\\=b") == ["_raw_params": "a=b"])
    }

    @Test func escapesAreDecodedInValues() throws {
        #expect(try parse("line=a\\tb") == ["line": "a\tb"])
    }

    @Test func newlinesArePreserved() throws {
        #expect(try KeyValueArgs.split("a b\nc") == ["a", "b\n", "c"])
        #expect(try parse("echo one\necho two", raw: true) == ["_raw_params": "echo one\necho two"])
    }

    @Test func unbalancedQuotesAndBlocksFail() {
        #expect(throws: KeyValueArgs.UnbalancedError.self) { try KeyValueArgs.split("a='b c") }
        #expect(throws: KeyValueArgs.UnbalancedError.self) { try KeyValueArgs.split("msg={{ x") }
    }

    @Test func unquoteOnlyStripsMatchingQuotes() {
        #expect(KeyValueArgs.unquote("'a'") == "a")
        #expect(KeyValueArgs.unquote("\"a'") == "\"a'")
        #expect(KeyValueArgs.unquote("'") == "'")
    }

    @Test func offsetsPointAtEachKey() throws {
        let options = try KeyValueArgs.parse("src=a  dest=b", checkRaw: false)
        #expect(options.map(\.offset) == [0, 7])
    }
}

/// Expected values produced by ansible-core 2.19's `parse_kv` on the same inputs.
@Suite struct KeyValueArgsMatchAnsible {
    static let cases: [(String, [String: String], [String: String])] = [
        ("src=a  dest=b", ["src": "a", "dest": "b"], ["_raw_params": "src=a  dest=b"]),
        ("echo 'a  b'", ["_raw_params": "echo 'a  b'"], ["_raw_params": "echo 'a  b'"]),
        ("a\\=b", ["_raw_params": "a=b"], ["_raw_params": "a=b"]),
        ("line=a\\tb", ["line": "a\tb"], ["_raw_params": "line=a\\tb"]),
        ("a b\nc", ["_raw_params": "a b\nc"], ["_raw_params": "a b\nc"]),
        ("chdir=/tmp ls -l a=b", ["chdir": "/tmp", "a": "b", "_raw_params": "ls -l"], ["chdir": "/tmp", "_raw_params": "ls -l a=b"]),
        ("x=\"a b\" y", ["x": "a b", "_raw_params": "y"], ["_raw_params": "x=\"a b\" y"]),
        ("  lead", ["_raw_params": "  lead"], ["_raw_params": "  lead"]),
        ("a=1 \\\n b=2", ["a": "1", "b": "2"], ["_raw_params": "a=1 b=2"]),
        ("k=\"v\\\"\"", ["k": "v\""], ["_raw_params": "k=\"v\\\"\""]),
    ]

    @Test func sameAsAnsible() throws {
        for (input, plain, raw) in Self.cases {
            var got: [String: String] = [:]
            for option in try KeyValueArgs.parse(input, checkRaw: false) { got[option.key] = option.value }
            #expect(got == plain, "\(input)")
            got = [:]
            for option in try KeyValueArgs.parse(input, checkRaw: true) { got[option.key] = option.value }
            #expect(got == raw, "\(input) (check_raw)")
        }
    }
}
