import OrderedCollections
import PGHACore

/// `add_host`: adds a host (and groups) to the in-memory inventory for the rest of the run.
enum AddHostAction {
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

/// `group_by`: puts the current host into a group named by a template.
enum GroupByAction {
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
