import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.package`: on Debian hosts Ansible's package action runs apt with every argument
/// the task gives (`update_cache`, `purge`, `install_recommends`, ...) but `use`; so does this one.
public enum PackageModule: Module {
    public static let declaration = ActionDeclaration(
        name: "package", qualifiedNames: ["ansible.builtin.package", "ansible.legacy.package"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            AptModule.arguments.arguments + [
                .init("use", .string, default: "auto", help: "The package manager module: auto (apt here) or apt.")
            ],
            mutuallyExclusive: AptModule.arguments.mutuallyExclusive, requiredOneOf: AptModule.arguments.requiredOneOf),
        documentation: ActionDocumentation(
            "Generic OS package manager",
            details: [
                "Runs the apt module (the package manager of Debian hosts) with the task's other arguments, "
                    + "so apt's arguments apply: update_cache, purge, install_recommends, name '*' with state latest."
            ],
            examples: """
                - name: Install chrony with the host's package manager (apt)
                  ansible.builtin.package:
                    name: chrony
                    state: present

                - name: Remove a package and its configuration, refreshing the cache first
                  ansible.builtin.package:
                    name: telnet
                    state: absent
                    purge: true
                    update_cache: true
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let use = args.string("use") ?? "auto"
        guard use == "auto" || use == "apt" || use == "ansible.builtin.apt" else {
            return .failure("Could not find a matching action for the \"\(use)\" package manager.")
        }
        var forwarded = args.values
        forwarded.removeValue(forKey: "use")
        return try await AptModule.run(
            ModuleArguments(forwarded, spec: AptModule.arguments, module: AptModule.name), context: context)
    }
}
