import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.service`: on systemd hosts Ansible runs the systemd module; so does this one.
public enum ServiceModule: Module {
    public static let declaration = ActionDeclaration(
        name: "service", qualifiedNames: ["ansible.builtin.service", "ansible.legacy.service"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec([
            .init("name", .string, required: true),
            .init("state", .choice(["reloaded", "restarted", "started", "stopped"])),
            .init("enabled", .bool),
            .init("sleep", .int),
            .init("pattern", .string),
            .init("arguments", .string, default: "", aliases: ["args"]),
            .init("runlevel", .string, default: "default"),
            .init("use", .string, default: "auto"),
        ], requiredOneOf: [["state", "enabled"]]),
        documentation: ActionDocumentation(
            "Manage services",
            examples: """
                - name: Start and enable HAProxy
                  ansible.builtin.service:
                    name: haproxy
                    state: started
                    enabled: true
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        if let use = args.string("use"), use != "auto", use != "systemd" {
            return .failure("service manager '\(use)' is not supported (only systemd)")
        }
        var forwarded = OrderedDictionary<String, Value>()
        for key in ["name", "state", "enabled"] { if let value = args[key] { forwarded[key] = value } }
        forwarded["scope"] = "system"
        return try await SystemdModule.manage(ModuleArguments(forwarded), context: context)
    }
}
