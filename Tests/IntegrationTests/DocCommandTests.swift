import Foundation
import Testing

/// `pgha-play doc`, as ansible-doc: the list of actions and one action's page, from the declarations.
@Suite struct DocCommandTests {
    @Test func listsEveryActionAndShowsOne() throws {
        let list = try TestSupport.run(TestSupport.executable, ["doc", "-l"])
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count >= 60, "\(lines.count) actions listed")
        #expect(lines.contains { $0.hasPrefix("ansible.builtin.wait_for_connection ") })
        #expect(lines.contains { $0.hasPrefix("community.general.ufw ") })

        let page = try TestSupport.run(TestSupport.executable, ["doc", "wait_for_connection"])
        #expect(page.status == 0, "\(page.stderr)")
        #expect(page.stdout.hasPrefix("> MODULE ansible.builtin.wait_for_connection\n"))
        #expect(page.stdout.contains("\n- timeout\n"))
        #expect(page.stdout.contains("        default: 600\n"))
        #expect(page.stdout.contains("EXAMPLES:\n"))
    }

    @Test func anUnknownNameIsAUsageErrorWithASuggestion() throws {
        let result = try TestSupport.run(TestSupport.executable, ["doc", "wait_for_conection"])
        #expect(result.status == 5)
        #expect(result.stderr.contains("no action or module named 'wait_for_conection'"), "\(result.stderr)")
        #expect(result.stderr.contains("did you mean 'wait_for_connection'?"), "\(result.stderr)")
    }
}
