import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `gather_facts` / `setup`: one command on the host, parsed natively.
enum FactsAction {
    static func run(_ context: ActionContext) async throws -> ActionResult {
        let connection = try await context.invocation.connection()
        let output = try await connection.run(CommandRequest(FactScript.text))
        guard output.succeeded || !output.stdout.isEmpty else {
            return .failed("fact gathering failed: \(output.stderrText)")
        }
        var facts = FactParser.parse(output.stdoutText)
        if let filter = context.task.args["filter"].map(Templating.display) {
            facts = facts.filter { fnmatchName(filter, "ansible_" + $0.key) || fnmatchName(filter, $0.key) }
        }
        var result = ActionResult.ok(["ansible_facts": .dict(facts)])
        result.facts = facts
        return result
    }

    private static func fnmatchName(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}
