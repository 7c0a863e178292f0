import Foundation
import OrderedCollections
import PGHACore
import Testing

@testable import Template

/// Templates that nest or recurse without end are errors, never a stack overflow (issue 17), and
/// the load-time syntax check finds what a render would, without rendering.
@Suite struct TemplateBoundsTests {
    let engine = TemplateEngine()
    let here = SourceLocation(file: "t.yml", line: 3, column: 7)

    func renderError(_ text: String, _ variables: OrderedDictionary<String, Value> = [:]) -> PGHAError? {
        do {
            _ = try engine.render(text, variables: DictionaryVariables(variables), location: here)
            return nil
        } catch let error as PGHAError {
            return error
        } catch {
            return PGHAError(.template, "unexpected \(error)")
        }
    }

    @Test(arguments: [
        "{{ " + String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000) + " }}",
        "{{ " + Array(repeating: "1", count: 100_000).joined(separator: " + ") + " }}",
        "{{ " + String(repeating: "not ", count: 10_000) + "true }}",
        "{{ " + String(repeating: "-", count: 10_000) + "1 }}",
        "{{ x" + String(repeating: ".a", count: 10_000) + " }}",
        "{{ x" + String(repeating: " | upper", count: 10_000) + " }}",
        "{{ " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + " }}",
        String(repeating: "{% if true %}", count: 5_000) + String(repeating: "{% endif %}", count: 5_000),
    ])
    func deepNestingIsASyntaxError(_ text: String) throws {
        let error = try #require(renderError(text))
        #expect(error.kind == .syntax, "\(error.message)")
        #expect(error.message.contains("nests more than \(Parser.maxDepth) levels"), "\(error.message)")
        #expect(error.location?.file == "t.yml")
        #expect(throws: PGHAError.self) { try engine.checkSyntax(template: text, at: here) }
    }

    @Test func nestingWithinTheLimitRenders() async throws {
        // Just under the limit, on a task's thread as a run renders: no stack trouble.
        let text = "{{ " + String(repeating: "(", count: 95) + "1" + String(repeating: ")", count: 95) + " + 1 }}"
        let engine = self.engine
        let here = self.here
        let value = try await Task.detached { try engine.render(text, variables: DictionaryVariables(), location: here) }.value
        #expect(value == 2)
        let chain = "{{ " + Array(repeating: "1", count: 90).joined(separator: " + ") + " }}"
        #expect(try engine.render(chain, variables: DictionaryVariables(), location: here) == 90)
        let blocks = String(repeating: "{% if true %}", count: 90) + "x" + String(repeating: "{% endif %}", count: 90)
        #expect(try engine.render(blocks, variables: DictionaryVariables(), location: here) == "x")
    }

    @Test func recursiveMacroIsARecursionError() throws {
        let error = try #require(renderError("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"))
        #expect(error.kind == .template)
        #expect(error.message.contains("maximum recursion depth exceeded: more than 100 nested macro calls"), "\(error.message)")
    }

    @Test func recursiveVariablesNameTheirChain() throws {
        let error = try #require(renderError("{{ a }}", ["a": "{{ b }}", "b": "{{ a }}"]))
        #expect(error.message.contains("recursive loop detected"), "\(error.message)")
        #expect(error.message.contains("a -> b -> a"), "\(error.message)")
    }

    @Test func aLongChainOfVariablesIsBounded() throws {
        var variables: OrderedDictionary<String, Value> = ["v500": 1]
        for index in 0..<500 { variables["v\(index)"] = .string("{{ v\(index + 1) }}") }
        let error = try #require(renderError("{{ v0 }}", variables))
        #expect(error.message.contains("maximum recursion depth exceeded"), "\(error.message)")
        // A chain of ordinary length resolves.
        #expect(try engine.render("{{ v450 }}", variables: DictionaryVariables(variables), location: here) == 1)
    }

    @Test func recursiveLoopOverDeepDataIsBounded() throws {
        var tree: Value = ["children": []]
        for _ in 0..<300 { tree = ["children": [tree]] }
        let error = try #require(renderError(
            "{% for n in [t] recursive %}x{{ loop(n.children) }}{% endfor %}", ["t": tree]))
        #expect(error.message.contains("nested recursive loop levels"), "\(error.message)")
    }

    // MARK: - The syntax check

    @Test func syntaxCheckFindsWhatARenderWould() throws {
        for text in ["{{ x ", "{% if x %}", "{{ x | }}", "{% for %}{% endfor %}", "{# open", "a {{ 1 +* 2 }}", "{% endif %}"] {
            let error = try #require(throws: PGHAError.self) { try engine.checkSyntax(template: text, at: here) }
            #expect(error.kind == .syntax, "\(text): \(error.message)")
            #expect(error.location == here, "\(text)")
            #expect(error.hint == "in template: \(text)")
        }
    }

    @Test func syntaxCheckPassesWhatParses() throws {
        for text in ["plain text", "{{ x }}", "{{ x | nosuchfilter }}", "{{ x is nosuchtest }}", "{% raw %}{{ {% endraw %}",
                     "${#array[@]}{# comment #}", "{% set a = 1 %}{{ a }}"] {
            try engine.checkSyntax(template: text, at: here)
        }
    }

    @Test func expressionCheckReadsBareExpressions() throws {
        for text in ["x == 1", "x is defined and x | length > 0", "'{{ x }}' == y", "{{ flag }}", "  ", "item in ['a', 'b']"] {
            try engine.checkSyntax(expression: text, at: here)
        }
        for text in ["x ==", "x = 1", "(x", "x y", "{{ x"] {
            let error = try #require(throws: PGHAError.self) { try engine.checkSyntax(expression: text, at: here) }
            #expect(error.kind == .syntax, "\(text)")
            #expect(error.location == here)
        }
        let error = try #require(throws: PGHAError.self) { try engine.checkSyntax(expression: "x ==", at: here) }
        #expect(error.hint == "in expression: x ==")
    }

    @Test func aLineInsideAMultiLineTemplateIsLocated() throws {
        let error = try #require(throws: PGHAError.self) {
            try engine.checkSyntax(template: "line one\n{{ ok }}\n{{ broken", at: SourceLocation(file: "t.j2", line: 1), isFile: true)
        }
        #expect(error.location?.line == 3)
    }
}
