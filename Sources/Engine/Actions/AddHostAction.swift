import Declarations
import OrderedCollections
import PGHACore

/// `add_host`: adds a host (and groups) to the in-memory inventory for the rest of the run.
enum AddHostAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "add_host",
        arguments: ArgumentSpec(
            [
                .init("name", .string, required: true, aliases: ["host", "hostname"], help: "The host to add."),
                .init("groups", .list, aliases: ["group", "groupname"], help: "Groups to put it in."),
            ], freeForm: .text, acceptsOtherArguments: true),
        documentation: ActionDocumentation(
            "Add a host (and alternatively a group) to the ansible-playbook in-memory inventory",
            details: ["Every other argument becomes a variable of the added host."],
            examples: """
                - name: Remember the new replica for the next play
                  ansible.builtin.add_host:
                    name: "{{ new_replica }}"
                    groups: [postgres, new]
                    ansible_host: "{{ new_replica_address }}"
                """))

    static func run(_ context: ActionContext) throws -> ActionResult {
        var args = try context.renderedArguments()
        guard let name = (args.removeValue(forKey: "name") ?? args.removeValue(forKey: "hostname")
            ?? args.removeValue(forKey: "host")).map(Templating.display)
        else {
            throw PGHAError(.semantic, "add_host needs 'name'", at: context.task.location)
        }
        let groupsValue = args.removeValue(forKey: "groups") ?? args.removeValue(forKey: "group") ?? args.removeValue(forKey: "groupname")
        var groups: [String] = []
        if let groupsValue {
            groups = groupsValue.listValue?.map(Templating.display)
                ?? Templating.display(groupsValue).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        var result = ActionResult(["changed": false, "add_host": ["host_name": .string(name), "groups": .list(groups.map(Value.string)), "host_vars": .dict(args)]])
        result.addHosts = [(name, groups, args)]
        return result
    }
}
