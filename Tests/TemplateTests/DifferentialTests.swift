import Foundation
import OrderedCollections
import PGHACore
import Testing

@testable import Template

/// Renders Fixtures/cases.yml with TemplateEngine and compares every case with ansible-core 2.19's
/// Templar (the oracle). The live oracle runs from the virtualenv scripts/oracle-venv.sh creates; its
/// results are cached per cases-file checksum. Fixtures/expected.json holds the committed oracle output for
/// machines without PyPI, and must agree with the live oracle whenever both exist.
///
/// TEMPLATE_UPDATE_EXPECTED=1 rewrites expected.json from the live oracle; TEMPLATE_ORACLE=off uses only
/// expected.json (not allowed with CI=true, where the oracle must run).
@Suite struct DifferentialTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let testEnvValue = "hello-from-env"

    struct Case {
        var name: String
        var template: String?
        var when: String?
        /// Rendered as a template file (template module) rather than a YAML string.
        var file: Bool
        var vars: OrderedDictionary<String, Value>
    }

    static func loadCases() throws -> (cases: [Case], shared: OrderedDictionary<String, Value>, sha1: String) {
        let url = fixtures.appendingPathComponent("cases.yml")
        let data = try Data(contentsOf: url)
        let text = String(decoding: data, as: UTF8.self)
        guard let root = try YAMLLoader.load(text, file: url.path)?.value.dictValue,
            let list = root["cases"]?.listValue
        else { throw PGHAError(.syntax, "cases.yml has no cases") }
        let shared = root["vars"]?.dictValue ?? [:]
        let cases = list.compactMap { item -> Case? in
            guard let d = item.dictValue, let name = d["name"]?.stringValue else { return nil }
            return Case(
                name: name, template: d["template"]?.stringValue, when: d["when"]?.stringValue,
                file: d["file"]?.isTruthy ?? false, vars: d["vars"]?.dictValue ?? [:])
        }
        return (cases, shared, Digest.sha1(Array(data)))
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Live oracle results (cached), or nil when the virtualenv is unavailable or TEMPLATE_ORACLE=off.
    static func liveOracle(sha1: String) throws -> Value? {
        if ProcessInfo.processInfo.environment["TEMPLATE_ORACLE"] == "off" { return nil }
        let oracleScript = (try? Data(contentsOf: fixtures.appendingPathComponent("oracle.py"))) ?? Data()
        let scriptSha = Digest.sha1(Array(oracleScript)).prefix(12)
        let cache = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("pgha-template-oracle-\(sha1)-\(scriptSha).json")
        if let text = try? String(contentsOf: cache, encoding: .utf8), let v = try? JSON.decode(text),
            v["cases_sha1"]?.stringValue == sha1
        {
            return v
        }
        let script = repoRoot.appendingPathComponent("scripts/oracle-venv.sh").path
        guard let (status, output) = try? run("/bin/bash", [script]), status == 0 else { return nil }
        let python = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let (rc, json) = try run(
            python,
            [fixtures.appendingPathComponent("oracle.py").path, fixtures.appendingPathComponent("cases.yml").path],
            environment: ["PGHA_TEMPLATE_TEST_ENV": testEnvValue, "ANSIBLE_DEPRECATION_WARNINGS": "False"])
        guard rc == 0 else { throw PGHAError(.execution, "oracle.py failed with status \(rc)") }
        let value = try JSON.decode(json)
        try? json.write(to: cache, atomically: true, encoding: .utf8)
        return value
    }

    static func category(_ error: any Error) -> String {
        guard let e = error as? PGHAError else { return "template" }
        switch e.kind {
        case .undefinedVariable: return "undefined"
        case .syntax: return "syntax"
        default: return "template"
        }
    }

    @Test func matchesAnsibleOracle() throws {
        let (cases, shared, sha1) = try Self.loadCases()
        #expect(cases.count >= 180)
        let expectedURL = Self.fixtures.appendingPathComponent("expected.json")
        let committed = (try? String(contentsOf: expectedURL, encoding: .utf8)).flatMap { try? JSON.decode($0) }
        let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

        var oracle: Value
        if let live = try Self.liveOracle(sha1: sha1) {
            oracle = live
            if ProcessInfo.processInfo.environment["TEMPLATE_UPDATE_EXPECTED"] == "1" {
                try (JSON.encode(live, style: .init(indent: 1, sortKeys: false)) + "\n").write(
                    to: expectedURL, atomically: true, encoding: .utf8)
            } else if let committed {
                #expect(
                    committed == live,
                    "Fixtures/expected.json disagrees with the live oracle; regenerate it with TEMPLATE_UPDATE_EXPECTED=1")
            } else {
                Issue.record("Fixtures/expected.json is missing; create it with TEMPLATE_UPDATE_EXPECTED=1")
            }
        } else {
            if isCI {
                Issue.record("CI=true but the ansible-core oracle could not run (scripts/oracle-venv.sh, TEMPLATE_ORACLE)")
                return
            }
            guard let committed else {
                Issue.record("no live oracle and no Fixtures/expected.json")
                return
            }
            oracle = committed
        }
        guard oracle["cases_sha1"]?.stringValue == sha1 else {
            Issue.record("oracle results are for another version of cases.yml; regenerate with TEMPLATE_UPDATE_EXPECTED=1")
            return
        }
        let results = oracle["results"]?.dictValue ?? [:]

        setenv("PGHA_TEMPLATE_TEST_ENV", Self.testEnvValue, 1)
        let engine = TemplateEngine()
        var passed = 0
        var failures: [String] = []
        for c in cases {
            var vars = shared
            for (k, v) in c.vars { vars[k] = v }
            let variables = DictionaryVariables(vars)
            let location = SourceLocation(file: "cases.yml", line: 1)
            guard let expected = results[c.name] else {
                failures.append("\(c.name): no oracle result")
                continue
            }
            var actual: Value
            var actualError: (String, String)?
            do {
                if let when = c.when {
                    actual = .bool(try engine.evaluateCondition(when, variables: variables, location: location))
                } else if c.file {
                    actual = .string(try engine.renderFile(c.template ?? "", variables: variables, location: location))
                } else {
                    actual = try engine.render(c.template ?? "", variables: variables, location: location)
                }
            } catch {
                actual = .null
                actualError = (Self.category(error), "\(error)")
            }
            if let expectedCategory = expected["error"]?.stringValue {
                if let (category, _) = actualError, category == expectedCategory {
                    passed += 1
                } else if let (category, message) = actualError {
                    failures.append("\(c.name): expected \(expectedCategory) error, got \(category) error: \(message)")
                } else {
                    failures.append("\(c.name): expected \(expectedCategory) error (\(expected["message"]?.stringValue ?? "")), got \(JSON.encode(actual))")
                }
            } else if let (category, message) = actualError {
                failures.append("\(c.name): expected \(JSON.encode(expected["value"] ?? .null)), got \(category) error: \(message)")
            } else if JSON.encode(actual) == JSON.encode(expected["value"] ?? .null) {
                passed += 1
            } else {
                failures.append("\(c.name): expected \(JSON.encode(expected["value"] ?? .null)), got \(JSON.encode(actual))")
            }
        }
        for f in failures { Issue.record("template differential mismatch: \(f)") }
        print("template differential: \(passed) passed, \(failures.count) failed")
        #expect(passed == cases.count)
    }
}
