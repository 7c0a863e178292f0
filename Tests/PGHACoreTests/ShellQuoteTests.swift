import PGHACore
import Testing

/// The one shellQuote agrees with Python's shlex.quote (the values below are shlex.quote's).
@Suite struct ShellQuoteTests {
    @Test(arguments: [
        ("", "''"), ("abc", "abc"), ("a b", "'a b'"), ("it's", #"'it'"'"'s'"#), ("a$b", "'a$b'"),
        ("x=1,y:2/./-_@%+", "x=1,y:2/./-_@%+"), ("é", "'é'"), ("tab\there", "'tab\there'"), ("new\nline", "'new\nline'"),
    ])
    func quotesAsShlexQuote(text: String, quoted: String) {
        #expect(shellQuote(text) == quoted)
    }

    /// A quote that a combining mark joins into one character is still a quote to the shell.
    @Test func quoteJoinedByACombiningMarkIsEscaped() {
        #expect(shellQuote("a'\u{301}; rm x") == "'a'\"'\"'\u{301}; rm x'")
    }
}

/// The byte-wise substring tests the engine's per-task paths use.
@Suite struct ByteSearchTests {
    @Test func findsNeedlesWhereTheyAre() {
        #expect("say {{ x }}".containsBytes("{{"))
        #expect("{{".containsBytes("{{"))
        #expect(!"{ {".containsBytes("{{"))
        #expect(!"{".containsBytes("{{"))
        #expect("anything".containsBytes(""))
        #expect("日本{{語".containsBytes("{{"))
        #expect("a b c".dropFirst(2).containsBytes("b c"))
        #expect(!"abcab".containsBytes("abd"))
    }

    @Test func templateMarkupIsAnExpressionOrAStatement() {
        #expect("x {{ y }}".containsTemplateMarkup)
        #expect("{% if x %}".containsTemplateMarkup)
        #expect(!"{# note #}".containsTemplateMarkup)
        #expect(!"{ a: 1 }, 100%".containsTemplateMarkup)
    }
}
