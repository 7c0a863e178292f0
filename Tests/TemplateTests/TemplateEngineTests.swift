import Foundation
import OrderedCollections
import PGHACore
import Testing

@testable import Template

private func vars(_ d: OrderedDictionary<String, Value>) -> DictionaryVariables { DictionaryVariables(d) }
private let here = SourceLocation(file: "play.yml", line: 10, column: 7)

@Suite struct TemplateEngineTests {
    let engine = TemplateEngine()

    @Test func plainStringsAreReturnedUnchanged() throws {
        #expect(try engine.render("just text { not } %", variables: vars([:]), location: here) == "just text { not } %")
        #expect(!TemplateEngine.isTemplate("a { b } %}"))
        #expect(TemplateEngine.isTemplate("a {# c #}"))
    }

    @Test func singleExpressionYieldsNativeValue() throws {
        let v = vars(["xs": [1, 2], "n": 3])
        #expect(try engine.render("{{ xs }}", variables: v, location: here) == [1, 2])
        #expect(try engine.render("{{ n * 2 }}", variables: v, location: here) == 6)
        #expect(try engine.render("n={{ n }}", variables: v, location: here) == "n=3")
        #expect(try engine.renderString("{{ xs }}", variables: v, location: here) == "[1, 2]")
    }

    @Test func aSingleExpressionsStringKeepsTheTrailingNewline() throws {
        // As ansible-core 2.19: Jinja drops the final newline, Ansible puts it back on strings only.
        let v = vars(["xs": ["b", "a"], "n": 3])
        #expect(try engine.render("{{ xs | join('\n') }}\n", variables: v, location: here) == "b\na\n")
        #expect(try engine.render("{{ xs | join(',') }}\n\n", variables: v, location: here) == "b,a\n\n")
        #expect(try engine.render("{{ n }}\n", variables: v, location: here) == 3)
        #expect(try engine.render("{{ xs }}\n", variables: v, location: here) == ["b", "a"])
    }

    @Test func lazyVariablesRenderOnAccess() throws {
        let v = vars(["a": "{{ b }}", "b": 2, "c": ["{{ a + 1 }}"], "k": "key"])
        #expect(try engine.render("{{ a }}", variables: v, location: here) == 2)
        #expect(try engine.render("{{ c[0] }}", variables: v, location: here) == 3)
        let rendered = try engine.renderValue(["{{ k }}": ["{{ a }}", "x{{ b }}"]], variables: v, location: here)
        #expect(rendered == ["key": [2, "x2"]])
    }

    @Test func containersRenderOnlyTheElementsUsed() throws {
        let v = vars([
            "cfg": ["good": "{{ port }}", "broken": "{{ nowhere }}", "self": "{{ cfg.good + 1 }}", "loop": "{{ cfg.loop }}"],
            "port": 5432,
        ])
        #expect(try engine.render("{{ cfg.good }}", variables: v, location: here) == 5432)
        #expect(try engine.render("{{ cfg['self'] }}", variables: v, location: here) == 5433)
        #expect(try engine.render("{{ cfg.broken | default('d') }}", variables: v, location: here) == "d")
        #expect(try engine.render("{{ cfg is mapping }}", variables: v, location: here) == true)
        #expect {
            try engine.render("{{ cfg.loop }}", variables: v, location: here)
        } throws: { error in
            (error as? PGHAError)?.kind == .template && "\(error)".contains("recursive")
        }
        #expect(try engine.render("{{ cfg | length }}", variables: v, location: here) == 4)
        #expect(try engine.render("{{ cfg.broken is defined }}", variables: v, location: here) == false)
        #expect {
            try engine.render("{{ cfg }}", variables: v, location: here)
        } throws: { error in
            (error as? PGHAError)?.kind == .undefinedVariable && "\(error)".contains("'nowhere' is undefined")
        }
    }

    @Test func recursiveVariablesFailInsteadOfLooping() {
        let v = vars(["a": "{{ b }}", "b": "{{ a }}"])
        #expect {
            try engine.render("{{ a }}", variables: v, location: here)
        } throws: { error in
            guard let e = error as? PGHAError else { return false }
            return e.kind == .template && e.message.contains("recursive")
        }
    }

    @Test func undefinedVariableNamesTheVariable() {
        #expect {
            try engine.render("x {{ missing_var }}", variables: vars([:]), location: here)
        } throws: { error in
            guard let e = error as? PGHAError else { return false }
            return e.kind == .undefinedVariable && e.message == "'missing_var' is undefined" && e.location?.line == 10
        }
    }

    @Test func undefinedHandlingWithDefaultAndTests() throws {
        let v = vars(["d": ["a": ["b": 1]]])
        #expect(try engine.render("{{ foo.bar | default(1) }}", variables: v, location: here) == 1)
        #expect(try engine.render("{{ d.x.y.z | default('z') }}", variables: v, location: here) == "z")
        #expect(try engine.render("{{ d.a.b is defined }}", variables: v, location: here) == true)
        #expect(try engine.render("{{ d.a.c is undefined }}", variables: v, location: here) == true)
        #expect(throws: PGHAError.self) { try engine.render("{{ d.a.c }}", variables: v, location: here) }
    }

    @Test func syntaxErrorsCarryTheTemplateLine() {
        let text = "line one\n{% if x %}\n{{ 1 + }}\n{% endif %}"
        #expect {
            try engine.render(text, variables: vars(["x": true]), location: SourceLocation(file: "t.yml", line: 20, column: 5))
        } throws: { error in
            guard let e = error as? PGHAError else { return false }
            return e.kind == .syntax && e.location?.file == "t.yml" && e.location?.line == 22
        }
        #expect {
            try engine.renderString("a\nb\n{% for %}", variables: vars([:]), location: SourceLocation(file: "x.j2"))
        } throws: { error in
            guard let e = error as? PGHAError else { return false }
            return e.kind == .syntax && e.location?.line == 3
        }
    }

    @Test func undefinedErrorsPointAtTheirLine() {
        #expect {
            try engine.renderString("a\nb\n{% if flag and missing_thing %}x{% endif %}", variables: vars(["flag": true]),
                                    location: SourceLocation(file: "t.j2"))
        } throws: { error in
            guard let e = error as? PGHAError else { return false }
            return e.kind == .undefinedVariable && e.location?.line == 3 && e.message == "'missing_thing' is undefined"
        }
    }

    @Test func evaluationErrorsAreTemplateErrors() {
        #expect {
            try engine.render("{{ 1 / 0 }}", variables: vars([:]), location: here)
        } throws: { error in
            (error as? PGHAError)?.kind == .template && "\(error)".contains("division by zero")
        }
    }

    @Test func conditions() throws {
        let v = vars(["n": 3, "s": "yes", "empty": [], "flag": "{{ n > 2 }}"])
        #expect(try engine.evaluateCondition("n > 2", variables: v, location: here))
        #expect(try !engine.evaluateCondition("n > 5", variables: v, location: here))
        #expect(try engine.evaluateCondition("s | bool", variables: v, location: here))
        // ansible-core 2.19: a non-boolean result is an error, not Python truthiness.
        #expect {
            try engine.evaluateCondition("empty", variables: v, location: here)
        } throws: { error in
            (error as? PGHAError)?.kind == .template && "\(error)".contains("type 'list'")
        }
        #expect(try !engine.evaluateCondition("empty | length > 0", variables: v, location: here))
        #expect(try engine.evaluateCondition("flag", variables: v, location: here))
        #expect(try engine.evaluateCondition("{{ n == 3 }}", variables: v, location: here))
        #expect(try engine.evaluateCondition("missing is not defined", variables: v, location: here))
        #expect(try engine.evaluateCondition(Value.list(["n > 2", true]), variables: v, location: here))
        #expect(try !engine.evaluateCondition(Value.list(["n > 2", "n > 5"]), variables: v, location: here))
        #expect(try !engine.evaluateCondition(Value.bool(false), variables: v, location: here))
        #expect {
            try engine.evaluateCondition("missing == 1", variables: v, location: here)
        } throws: { error in
            (error as? PGHAError)?.kind == .undefinedVariable && "\(error)".contains("'missing' is undefined")
        }
    }

    @Test func trimBlocksIsConfigurable() throws {
        let text = "{% if true %}\nx\n{% endif %}\n"
        #expect(try engine.renderString(text, variables: vars([:]), location: here) == "x\n")
        let loose = TemplateEngine(trimBlocks: false)
        #expect(try loose.renderString(text, variables: vars([:]), location: here) == "\nx\n")
    }

    @Test func compiledTemplatesAreCached() throws {
        let e = TemplateEngine()
        for i in 0..<50 { _ = try e.render("{{ i }}-x", variables: vars(["i": .int(i)]), location: here) }
        #expect(e.cachedTemplateCount == 1)
    }

    /// Inside a built-in role, `role_path` is `builtin:roles/NAME`: a path built from it, and a
    /// name searched along the role's search path, are found in the built-in tree.
    @Test func fileLookupsInsideABuiltInRole() throws {
        let e = TemplateEngine(lookups: DefaultLookups())
        let v = vars([
            "role_path": "builtin:roles/cis-hardening", "playbook_dir": "builtin:playbooks",
            "ansible_search_path": ["builtin:roles/cis-hardening", "builtin:roles/cis-hardening/tasks", "builtin:playbooks"],
        ])
        let defaults = try #require(ContentSource.contents("builtin:roles/cis-hardening/defaults/main.yml"))
        let expected = String(decoding: defaults, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try e.render("{{ lookup('file', role_path ~ '/defaults/main.yml') }}", variables: v, location: here) == .string(expected))
        #expect(try e.render("{{ lookup('file', role_path ~ '/tasks/../defaults/main.yml') }}", variables: v, location: here) == .string(expected))
        #expect(try e.render("{{ lookup('file', '../defaults/main.yml') }}", variables: v, location: here) == .string(expected))
        #expect(throws: PGHAError.self) { try e.render("{{ lookup('file', role_path ~ '/defaults/none.yml') }}", variables: v, location: here) }
    }

    @Test func fileAndEnvLookups() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-lookup-\(getpid())")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("files"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("templates"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "secret\n".write(to: dir.appendingPathComponent("files/pw.txt"), atomically: true, encoding: .utf8)
        try "port={{ port }}\n".write(to: dir.appendingPathComponent("conf.j2"), atomically: true, encoding: .utf8)
        let e = TemplateEngine(lookups: DefaultLookups(searchPaths: [dir.path]))
        let v = vars(["port": 5432])
        #expect(try e.render("{{ lookup('file', 'pw.txt') }}", variables: v, location: here) == "secret")
        #expect(try e.render("{{ lookup('template', 'conf.j2') }}", variables: v, location: here) == "port=5432\n")
        #expect(try e.render("{{ query('file', 'pw.txt') }}", variables: v, location: here) == ["secret"])
        try "{% for p in ports %}{{ prefix }}{{ p }};{% endfor %}".write(
            to: dir.appendingPathComponent("templates/part.j2"), atomically: true, encoding: .utf8)
        let withPorts = vars(["ports": [1, 2]])
        #expect(
            try e.renderFile("{% set prefix = 'p' %}[{% include 'part.j2' %}]{% include 'missing.j2' ignore missing %}\n",
                             variables: withPorts, location: here) == "[p1;p2;]\n")
        #expect(throws: PGHAError.self) { try e.renderFile("{% include 'missing.j2' %}", variables: withPorts, location: here) }
        setenv("PGHA_LOOKUP_UNIT", "v1", 1)
        #expect(try e.render("{{ lookup('env', 'PGHA_LOOKUP_UNIT') }}", variables: v, location: here) == "v1")
        #expect(throws: PGHAError.self) { try e.render("{{ lookup('file', 'nope.txt') }}", variables: v, location: here) }
    }

    @Test func layeredVariablesPreferEarlierLayers() throws {
        let v = LayeredVariables([vars(["x": 1]), vars(["x": 2, "y": 3])])
        #expect(try engine.render("{{ x + y }}", variables: v, location: here) == 4)
    }

    @Test func pythonReprOfValues() {
        #expect(Py.repr(["a", 1, nil, true, 1.5, ["k": "it's"]]) == "['a', 1, None, True, 1.5, {'k': \"it's\"}]")
        #expect(Py.str(.double(1e20)) == "1e+20")
        #expect(Py.str(.double(0.1)) == "0.1")
        #expect(Value.list(["x", .null]).pythonString == "['x', None]")
        #expect(Value.string("it's").pythonRepr == "\"it's\"")
    }

    @Test func oneEngineServesConcurrentRenders() async throws {
        let e = TemplateEngine()
        let results = try await withThrowingTaskGroup(of: Value.self) { group in
            for i in 0..<64 {
                group.addTask {
                    let v = DictionaryVariables(["i": .int(i), "a": "{{ i * 2 }}"])
                    return try e.render("{{ a + (i % 8) }}", variables: v, location: here)
                }
            }
            var all: [Value] = []
            for try await r in group { all.append(r) }
            return all
        }
        let expected = Set((0..<64).map { Value.int($0 * 2 + $0 % 8) })
        #expect(Set(results) == expected)
        #expect(e.cachedTemplateCount == 2)
    }

    @Test func rendersManySmallTemplatesQuickly() throws {
        let v = vars(["name": "pg", "port": 5432, "nodes": ["a", "b", "c"], "flag": true])
        let templates = [
            "{{ name }}", "{{ port + 1 }}", "host={{ name }}:{{ port }}", "{{ nodes | join(',') }}",
            "{% if flag %}on{% else %}off{% endif %}", "{{ nodes | map('upper') | list }}",
        ]
        // CPU time of this thread: wall time would count whatever else the machine runs.
        func threadCPUSeconds() -> Double {
            var spec = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
            return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
        }
        let start = threadCPUSeconds()
        var total = 0
        for i in 0..<10_000 {
            let out = try engine.renderString(templates[i % templates.count], variables: v, location: here)
            total += out.count
        }
        let elapsed = threadCPUSeconds() - start
        #expect(total > 0)
        #expect(elapsed < 5, "10,000 renders took \(elapsed) s of CPU")
    }
}
