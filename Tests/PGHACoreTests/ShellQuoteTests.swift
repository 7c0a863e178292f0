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
}
