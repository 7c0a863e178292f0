import Declarations
import Foundation
import OrderedCollections
import PGHACore

/// `include_vars`: variables from a YAML/JSON file, above block and task vars.
enum IncludeVarsAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "include_vars",
        arguments: ArgumentSpec(
            [
                .init("file", .path, help: "A YAML or JSON file of variables (or give it as free-form text)."),
                .init("name", .string, help: "Put the variables under this one name instead of at the top."),
            ], freeForm: .text),
        documentation: ActionDocumentation(
            "Load variables from files, dynamically within a task",
            details: ["Directories (`dir:`) are not supported."],
            examples: """
                - name: Variables for this distribution
                  ansible.builtin.include_vars: "{{ ansible_distribution | lower }}.yml"

                - name: Under one name
                  ansible.builtin.include_vars:
                    file: cluster.yml
                    name: cluster
                """))

    static func run(_ context: ActionContext) throws -> ActionResult {
        let args = try context.renderedArguments()
        guard let fileValue = args["file"] ?? args["_raw_params"] else {
            throw PGHAError(.semantic, "include_vars needs a file (directories are not supported)", at: context.task.location)
        }
        let name = Templating.display(fileValue)
        var candidates: [String] = []
        if name.hasPrefix("/") || ContentSource.isBuiltin(name) {
            candidates = [name]
        } else {
            if let role = context.task.role { candidates.append(role.path + "/vars/" + name) }
            let taskFile = context.task.location.file
            if let slash = taskFile.lastIndex(of: "/") {
                candidates.append(String(taskFile[..<slash]) + "/vars/" + name)
                candidates.append(String(taskFile[..<slash]) + "/" + name)
            }
            if let dir = context.variables.lookup("playbook_dir")?.stringValue {
                candidates.append(dir + "/vars/" + name)
                candidates.append(dir + "/" + name)
            }
        }
        guard let path = candidates.first(where: ContentSource.exists) else {
            return .failed("Could not find or access '\(name)'")
        }
        guard let node = try context.invocation.vault.loadYAML(contentsOf: path) else {
            return .ok(["ansible_facts": .emptyDict, "ansible_included_var_files": [.string(path)]])
        }
        guard case .dict(var vars) = node.value else {
            throw PGHAError(.semantic, "include_vars: file must hold a mapping", at: node.location)
        }
        if let scope = args["name"].map(Templating.display) {
            vars = [scope: .dict(vars)]
        }
        if node.containsSecret { context.invocation.redactor.register(value: .dict(vars)) }
        for (key, value) in vars { SecretNames.register(name: key, value: value, with: context.invocation.redactor) }
        var result = ActionResult.ok(["ansible_facts": .dict(vars), "ansible_included_var_files": [.string(path)]])
        result.includedVars = vars
        return result
    }
}
