import OrderedCollections
import PGHACore

/// `set_fact`: host variables above play vars, kept for later plays.
enum SetFactAction {
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
