import Declarations
import OrderedCollections
import PGHACore

/// `set_fact`: host variables above play vars, kept for later plays.
enum SetFactAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "set_fact",
        arguments: ArgumentSpec(
            [.init("cacheable", .bool, default: false, help: "Accepted and ignored: there is no fact cache.")],
            freeForm: .text, acceptsOtherArguments: true),
        documentation: ActionDocumentation(
            "Set host variable(s) and fact(s)",
            details: [
                "Every other argument is a variable to set on the host, above play vars and kept for later plays."
            ],
            examples: """
                - name: Remember the leader
                  ansible.builtin.set_fact:
                    leader: "{{ members.json.leader }}"
                    leader_port: 5432
                """))

    static func run(_ context: ActionContext) throws -> ActionResult {
        var facts = try context.renderedArguments()
        facts.removeValue(forKey: "cacheable")
        if let raw = facts.removeValue(forKey: "_raw_params") {
            throw PGHAError(
                .semantic, "set_fact takes key: value pairs, not '\(Templating.display(raw))'", at: context.task.location)
        }
        if facts.isEmpty {
            throw PGHAError(.semantic, "set_fact needs at least one variable", at: context.task.location)
        }
        var result = ActionResult.ok(["ansible_facts": .dict(facts)])
        result.setFacts = facts
        return result
    }
}
