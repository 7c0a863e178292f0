import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.package`: on Debian hosts Ansible's package module runs apt; so does this one.
public enum PackageModule: Module {
    public static let declaration = ActionDeclaration(
        name: "package", qualifiedNames: ["ansible.builtin.package", "ansible.legacy.package"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec([
            .init("name", .list, required: true),
            .init("state", .string, required: true),
            .init("use", .string, default: "auto"),
        ]),
        documentation: ActionDocumentation(
            "Generic OS package manager",
            examples: """
                - name: Install chrony with the host's package manager (apt)
                  ansible.builtin.package:
                    name: chrony
                    state: present
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        if let use = args.string("use"), use != "auto", use != "apt" {
            return .failure("package manager '\(use)' is not supported here (apt only)")
        }
        let state = try args.requiredString("state")
        guard ["present", "absent", "latest", "installed", "removed"].contains(state) else {
            return .failure("value of state must be one of: absent, present, latest, got: \(state)")
        }
        let mapped = state == "installed" ? "present" : state == "removed" ? "absent" : state
        let validated = try AptModule.arguments.validate(
            ["name": try args.required("name"), "state": .string(mapped)], module: "apt", locations: [:],
            taskLocation: context.taskLocation, allowTemplates: false)
        return try await AptModule.run(validated, context: context)
    }
}
