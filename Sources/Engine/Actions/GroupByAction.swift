import Declarations
import OrderedCollections
import PGHACore

/// `group_by`: puts the current host into a group named by a template.
enum GroupByAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "group_by",
        arguments: ArgumentSpec(
            [
                .init("key", .string, required: true, help: "The group's name (spaces and dashes become underscores)."),
                .init("parents", .list, default: ["all"], help: "Parent groups (shown; the group joins all)."),
            ], freeForm: .text),
        documentation: ActionDocumentation(
            "Create Ansible groups based on facts",
            examples: """
                - name: Group the hosts by role
                  ansible.builtin.group_by:
                    key: "role_{{ member_role }}"
                """))

    static func run(_ context: ActionContext) throws -> ActionResult {
        let args = try context.renderedArguments()
        guard let key = args["key"].map(Templating.display) else {
            throw PGHAError(.semantic, "group_by needs 'key'", at: context.task.location)
        }
        let group = key.replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "-", with: "_")
        var result = ActionResult(["changed": false, "add_group": .string(group), "parent_groups": ["all"]])
        result.addHosts = [(context.host, [group], [:])]
        return result
    }
}
