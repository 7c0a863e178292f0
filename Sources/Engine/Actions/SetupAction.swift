import Declarations
import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `setup`: one command on the host, parsed natively.
enum SetupAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "setup",
        arguments: ArgumentSpec([
            .init("gather_subset", .list, default: ["all"], help: "Accepted; every fact is read in one round trip."),
            .init("gather_timeout", .int, default: 10, help: "Accepted."),
            .init("filter", .string, help: "Keep only facts whose names match this shell pattern."),
            .init("fact_path", .path, default: "/etc/ansible/facts.d", help: "Where the local facts (*.fact) are."),
        ]),
        documentation: ActionDocumentation(
            "Gathers facts about remote hosts",
            details: [
                "A POSIX shell script reads the facts in one round trip; no Python runs on the host. Local facts "
                    + "(fact_path) are read as JSON or INI, executable ones run.",
                "Under become, the facts are read as the become user (ansible_user_id, ansible_env), as Ansible's are."
            ],
            examples: """
                - name: Read the network facts again after a change
                  ansible.builtin.setup:
                    filter: ansible_default_ipv4
                """))

    static func run(_ context: ActionContext) async throws -> ActionResult {
        let connection = try await context.invocation.connection()
        // As Ansible's setup module, it runs with the task's become (facts such as the user and
        // /proc/1's environment differ as root), and reports the interpreter the inventory names.
        let factPath = context.task.args["fact_path"].map(Templating.display) ?? "/etc/ansible/facts.d"
        var settings = "PGHA_FACT_PATH=\(shellQuote(factPath))\n"
        if let python = context.variables.lookup("ansible_python_interpreter").map(Templating.display), python.hasPrefix("/") {
            settings += "PGHA_PYTHON=\(shellQuote(python))\n"
        }
        let output = try await connection.run(
            CommandRequest(settings + FactScript.text, become: try ModuleAction.become(context), subshellAllowed: true))
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
