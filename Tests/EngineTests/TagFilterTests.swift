import Testing

@testable import Engine

@Suite("Tag selection follows Ansible's evaluate_tags")
struct TagFilterTests {
    struct Case: Sendable, CustomStringConvertible {
        var only: [String]
        var skip: [String]
        var tags: [String]
        var runs: Bool
        var description: String { "--tags \(only) --skip-tags \(skip) on \(tags) -> \(runs)" }
    }

    static let cases: [Case] = [
        Case(only: [], skip: [], tags: [], runs: true),
        Case(only: [], skip: [], tags: ["web"], runs: true),
        Case(only: [], skip: [], tags: ["never"], runs: false),
        Case(only: [], skip: [], tags: ["never", "debug"], runs: false),
        Case(only: ["debug"], skip: [], tags: ["never", "debug"], runs: true),
        Case(only: ["web"], skip: [], tags: ["db"], runs: false),
        Case(only: ["web"], skip: [], tags: [], runs: false),
        Case(only: ["web"], skip: [], tags: ["always"], runs: true),
        Case(only: ["tagged"], skip: [], tags: [], runs: false),
        Case(only: ["tagged"], skip: [], tags: ["x"], runs: true),
        Case(only: ["tagged"], skip: [], tags: ["never"], runs: false),
        Case(only: ["untagged"], skip: [], tags: [], runs: true),
        Case(only: ["untagged"], skip: [], tags: ["x"], runs: false),
        Case(only: ["untagged"], skip: [], tags: ["always"], runs: true),
        Case(only: [], skip: ["web"], tags: ["web", "db"], runs: false),
        Case(only: [], skip: ["web"], tags: ["db"], runs: true),
        Case(only: [], skip: ["always"], tags: ["always"], runs: false),
        Case(only: [], skip: ["all"], tags: ["always"], runs: true),
        Case(only: [], skip: ["all"], tags: ["web"], runs: false),
        Case(only: [], skip: ["tagged"], tags: ["web"], runs: false),
        Case(only: [], skip: ["tagged"], tags: [], runs: true),
        Case(only: ["cis"], skip: ["rule_1.1.1"], tags: ["cis", "rule_1.1.1"], runs: false),
        Case(only: ["cis"], skip: ["rule_1.1.1"], tags: ["cis", "rule_1.1.2"], runs: true),
    ]

    @Test(arguments: cases)
    func decides(_ c: Case) {
        #expect(TagFilter(only: c.only, skip: c.skip).shouldRun(tags: c.tags) == c.runs)
    }
}
