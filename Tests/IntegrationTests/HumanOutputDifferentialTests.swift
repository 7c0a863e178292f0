import Foundation
import Testing

/// pgha-play's human output against ansible-playbook's default callback, line by line, for the
/// lines both must print alike: play and task banners, host lines (without their result bodies),
/// `included: FILE for HOSTS` and the recap (Fixtures/human-output).
@Suite("Human output matches ansible-playbook's default callback")
struct HumanOutputDifferentialTests {
    @Test("banners, host lines and included lines agree")
    func linesAgree() throws {
        guard let python = TestSupport.oraclePython else {
            Issue.record("the ansible-core oracle virtualenv could not be created (scripts/oracle-venv.sh)")
            return
        }
        let directory = TestSupport.fixtures + "/human-output"
        let arguments = ["-i", "inventory.ini", "-f", "1", "playbook.yml"]
        let oracle = try TestSupport.run(
            (python as NSString).deletingLastPathComponent + "/ansible-playbook", arguments, in: directory,
            environment: [
                "ANSIBLE_NOCOLOR": "1", "ANSIBLE_PYTHON_INTERPRETER": python, "ANSIBLE_RETRY_FILES_ENABLED": "false",
                "ANSIBLE_STDOUT_CALLBACK": "default",
            ])
        let ours = try TestSupport.run(TestSupport.executable, arguments, in: directory, environment: ["NO_COLOR": "1"])
        #expect(ours.status == oracle.status, "exit status: pgha-play \(ours.status), ansible \(oracle.status)\n\(ours.stderr)")
        let expected = Self.lines(oracle.stdout)
        let actual = Self.lines(ours.stdout)
        #expect(expected.contains { $0.hasPrefix("included: ") }, "the fixture must include files:\n\(oracle.stdout)")
        #expect(actual == expected, "\(EventNormalizer.describeDifference(expected: expected, actual: actual))")
    }

    /// The lines compared: banners without their stars, host lines up to their result body, the
    /// included lines and the recap.
    static func lines(_ text: String) -> [String] {
        let prefixes = ["PLAY [", "TASK [", "RUNNING HANDLER [", "included: ", "ok: ", "changed: ", "skipping: ", "fatal: ", "failed: "]
        return text.split(separator: "\n").map(String.init).compactMap { line in
            if line.hasPrefix("PLAY RECAP") { return "PLAY RECAP" }
            if line.contains(" : ok=") { return line.split(separator: " ").filter { !$0.isEmpty }.joined(separator: " ") }
            guard prefixes.contains(where: line.hasPrefix) else { return nil }
            if line.hasSuffix("*"), let bracket = line.lastIndex(of: "]") { return String(line[...bracket]) }
            if let body = line.range(of: " => {") { return String(line[..<body.lowerBound]) }
            return line
        }
    }
}
