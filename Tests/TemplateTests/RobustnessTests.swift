import Foundation
import PGHACore
import Testing

@testable import Template

/// Malformed templates must fail with an error, never trap: a crash would take down a whole run.
@Suite struct RobustnessTests {
    /// xorshift: deterministic, so a failure reproduces.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
    }

    static let fragments = [
        "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "{{-", "-}}", " if ", " for ", " in ", " endif ", " endfor ",
        " else ", " set ", " = ", "x", "items", "d", "d.a", "[", "]", "(", ")", "{", "}", "'", "\"", "\\", ",", ":", "|",
        " default(1) ", " length ", " is ", " defined ", " not ", " and ", " or ", "1", "-2", "1.5", "**", "//", "%", "~",
        "\n", " ", "raw", "endraw", "macro", "endmacro", "call", "caller()", "loop.index", "[1:2]", "[::-1]", "'a'",
        "namespace()", "range(3)", " map(attribute='a') ", " select('odd') ", " regex_replace('(', 'x') ", "é",
    ]

    @Test func randomTemplatesNeverTrap() {
        var g = Generator(state: 0x9E37_79B9_7F4A_7C15)
        let engine = TemplateEngine()
        let variables = DictionaryVariables(["items": [1, 2, 3], "d": ["a": 1, "b": "{{ items }}"], "x": "{{ x }}"])
        var rendered = 0
        var failed = 0
        for _ in 0..<20_000 {
            let count = 1 + Int(g.next() % 12)
            var text = ""
            for _ in 0..<count { text += g.pick(Self.fragments) }
            do {
                _ = try engine.render(text, variables: variables, location: SourceLocation(file: "fuzz"))
                rendered += 1
            } catch is PGHAError {
                failed += 1
            } catch {
                Issue.record("non-PGHAError \(type(of: error)) for template \(text.debugDescription)")
            }
        }
        #expect(rendered + failed == 20_000)
        #expect(rendered > 1000)
        #expect(failed > 1000)
    }

    static let expressionParts = [
        "items", "d", "x", "1", "0", "-1", "'s'", "none", "true", "[1, 'a']", "{'k': 2}", "d.a", "d.b", "d['zz']",
        "items[5]", "items[-1]", "items[1:]", "'abc'[::-1]", "+", "-", "*", "/", "//", "%", "**", "~", "==", "<", "in",
        "not", "and", "or", "if", "else", "(", ")", "| length", "| first", "| default(0)", "| int", "| string",
        "| join(',')", "| sort", "| unique", "| to_json", "| to_nice_yaml", "| from_json", "| b64decode",
        "| regex_search('[')", "| map('upper') | list", "| sum", "| max", "| combine({})", "| dict2items",
        "is defined", "is number", "is version('1', '<')", ".split()", ".items()", ".get('a')", "range(2)",
        "'%s' %", "'{}'.format(1)", "lookup('env', 'NOPE')", "namespace(a=1).a", "dict(a=1)",
    ]

    @Test func randomExpressionsNeverTrap() {
        var g = Generator(state: 0xD1B5_4A32_D192_ED03)
        let engine = TemplateEngine()
        let variables = DictionaryVariables(["items": [1, 2, 3], "d": ["a": 1, "b": "{{ items }}"], "x": "{{ x }}"])
        var outcomes = 0
        for _ in 0..<20_000 {
            let count = 1 + Int(g.next() % 6)
            var expr = ""
            for _ in 0..<count { expr += g.pick(Self.expressionParts) + " " }
            do {
                _ = try engine.render("{{ \(expr)}}", variables: variables, location: SourceLocation(file: "fuzz"))
                outcomes += 1
            } catch is PGHAError {
                outcomes += 1
            } catch {
                Issue.record("non-PGHAError \(type(of: error)) for expression \(expr.debugDescription)")
            }
            _ = try? engine.evaluateCondition(expr, variables: variables, location: SourceLocation(file: "fuzz"))
        }
        #expect(outcomes == 20_000)
    }
}
