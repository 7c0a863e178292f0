import Foundation
import PGHACore
import Testing

/// Plain YAML scalars typed as ansible-core's loader (PyYAML, YAML 1.1) types them: a generated
/// corpus of booleans, nulls, integers in every base, floats, base-60 numbers and timestamps, each
/// loaded by pgha-play and by the oracle's AnsibleLoader (Fixtures/yaml-scalars/load.py).
@Suite("YAML scalars match ansible-core's loader")
struct YAMLScalarDifferentialTests {
    @Test("every scalar of the corpus resolves as PyYAML resolves it")
    func corpusAgrees() throws {
        guard let python = TestSupport.oraclePython else {
            Issue.record("the ansible-core oracle virtualenv could not be created (scripts/oracle-venv.sh)")
            return
        }
        let corpus = Self.corpus()
        #expect(corpus.count > 1500, "corpus of \(corpus.count)")
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-yaml-corpus-\(getpid()).json").path
        try JSON.encode(.list(corpus.map(Value.string))).write(toFile: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: input) }
        let oracle = try TestSupport.run(python, [TestSupport.fixtures + "/yaml-scalars/load.py", input])
        #expect(oracle.status == 0, "\(oracle.stderr)")
        let pairs = try #require(try JSON.decode(oracle.stdout).listValue).map { $0.listValue?.compactMap(\.stringValue) ?? [] }
        try #require(pairs.count == corpus.count)
        let expected = pairs.compactMap(\.first)
        var mismatches: [String] = []
        for (scalar, wanted) in zip(corpus, pairs) {
            let got = [Self.describe(scalar), Self.describeKey(scalar)]
            for (role, (w, g)) in zip(["value", "key"], zip(wanted, got)) where !Self.agree(w, g) {
                mismatches.append("'\(scalar)' as a \(role): PyYAML \(w), pgha-play \(g)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(corpus.count) differ:\n\(mismatches.prefix(40).joined(separator: "\n"))")
        // The corpus exercises every kind, not only strings.
        for kind in ["null", "bool:", "int:", "float:", "error"] {
            #expect(expected.contains(where: { $0.hasPrefix(kind) }), "no \(kind) in the corpus")
        }
    }

    /// pgha-play's reading of `v: SCALAR`, in load.py's notation.
    static func describe(_ scalar: String) -> String {
        guard let node = try? YAMLLoader.load("v: \(scalar)\n", file: "corpus.yml"), let value = node["v"]?.value else {
            return "error"
        }
        return describe(value: value)
    }

    /// pgha-play's reading of `SCALAR: v` (the key's own value, before it becomes a text key).
    static func describeKey(_ scalar: String) -> String {
        guard let node = try? YAMLLoader.load("\(scalar): v\n", file: "corpus.yml"), case .mapping(let pairs) = node.content,
            pairs.count == 1
        else { return "error" }
        return describe(value: pairs[0].key.scalarValue)
    }

    static func describe(value: Value) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return "bool:\(b ? "True" : "False")"
        case .int(let i): return "int:\(i)"
        case .double(let d): return "float:\(d)"
        case .string(let s): return "str:" + s
        default: return "other:\(value)"
        }
    }

    /// Floats are compared by value (Python's repr and Swift's description spell some differently).
    static func agree(_ wanted: String, _ got: String) -> Bool {
        guard wanted.hasPrefix("float:"), got.hasPrefix("float:") else { return wanted == got }
        guard let a = Double(wanted.dropFirst(6)), let b = Double(got.dropFirst(6)) else { return false }
        return a == b || (a.isNaN && b.isNaN)
    }

    /// Scalars built from the pieces PyYAML's resolver patterns distinguish, with and without signs.
    static func corpus() -> [String] {
        var scalars: [String] = []
        // Every capitalisation of the boolean and null words (PyYAML accepts three of each).
        for word in ["yes", "no", "true", "false", "on", "off", "null", "y", "n", "none", "nil"] {
            let letters = Array(word)
            for mask in 0..<(1 << letters.count) {
                scalars.append(String(letters.enumerated().map { mask & (1 << $0.offset) != 0 ? Character($0.element.uppercased()) : $0.element }))
            }
        }
        scalars += ["~", "~~", "", "=", "==", "<", "<<<", "Yes please", "on_failure", "offset", "nothing"]
        var numeric: [String] = []
        // Integers in each base PyYAML knows, and the prefixes it does not (0o, 0X, 0B).
        let digits = ["0", "1", "7", "8", "9", "00", "01", "07", "08", "010", "0644", "0755", "0_", "00_", "0_7", "09", "123",
                      "1_000", "1__", "_1", "12_", "9223372036854775807", "922337203685477580"]
        numeric += digits
        for prefix in ["0b", "0x", "0o", "0X", "0B"] {
            for body in ["", "1", "101", "12", "_", "1_0", "1F", "ff", "g", "7"] { numeric.append(prefix + body) }
        }
        // Floats: an integer part, a dot, a fraction and an exponent, each present or not.
        for whole in ["", "0", "1", "1_0", "01", "_1"] {
            for dot in ["", "."] {
                for fraction in ["", "5", "5_0", "_", "25"] {
                    for exponent in ["", "e3", "e+3", "E-3", "e+", "e-03", "E+3_0"] {
                        numeric.append(whole + dot + fraction + exponent)
                    }
                }
            }
        }
        // Base 60: groups must be [0-5]?[0-9].
        numeric += ["1:30", "10:30", "10:30:60", "10:30:59", "190:20:30", "1:3", "1:03", "1:60", "1:59", "0:30", "1:_0",
                    "1_0:30", "1:30.5", "1:30.", "10:30:60.5", "1:3:0.5", "1::3", "1:", ":", "1:305", "1:30:00:00",
                    "01:30", "1:30.5e+3", "1:30.5_5"]
        numeric += [".inf", ".Inf", ".INF", ".iNf", "inf", ".nan", ".NaN", ".NAN", ".Nan", "nan", "infinity"]
        for body in numeric { scalars += [body, "-" + body, "+" + body] }
        // Timestamps: the bare date needs two-digit fields; a date and time accepts one digit.
        scalars += ["2001-12-14", "2001-1-14", "2001-12-1", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
                    "2001-12-14T21:59:43Z", "2001-12-14 21:59:43", "2001-12-14T21:59:43.1234567+01:30", "2001-02-29",
                    "2000-02-29", "1900-02-29", "2001-13-01", "2001-00-10", "0000-01-01", "0001-01-01", "2001-12-14T24:00:00",
                    "2001-12-14T21:59:60", "2001-12-14T1:02:03", "2001-1-4T1:02:03", "2001-12-14  21:59:43 Z",
                    "2001-12-14T21:59:43+24", "2001-12-14T21:59:43+23:59", "2001-12-14T21:59:43-00:00",
                    "2001-12-14T21:59:43.", "2001-12-14T21:59:43+1:30", "2001-12-14T21:59:43.000000",
                    "2001-12-14T21:59:43.0000001", "2001-12-14T21:59", "2001-12-14T21:59:43+01:99", "2001-12-14 ",
                    "20011-12-14", "2001-12-14x", "2001/12/14", "12-14-2001", "2001-12-14T21:59:43 +05:00"]
        // Text that only looks numeric, and real-world values.
        scalars += ["1.2.3", "1-2", "1e", "0x", "-", "+", ".", "..", "1,000", "1 000", "12ab", "2001:db8::1", "::1",
                    "MaxStartups 10:30:60", "10:30:60 x", "3.14.15", "1.0.0-rc1", "v1.2", "0.0.0.0", "127.0.0.1",
                    "1_000_000", "6.02e+23", "6.02E23", "-1e-5", "+12e+03", "0.1", "100%", "$1", "#x", "1#x"]
        var seen = Set<String>()
        return scalars.filter { seen.insert($0).inserted }
    }
}
