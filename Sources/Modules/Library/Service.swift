import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.service`: on systemd hosts Ansible's service action runs the systemd module with
/// the task's arguments (`masked`, `daemon_reload`, `scope`, ... included), ignoring the SysV-only
/// ones (`pattern`, `runlevel`, `sleep`, `arguments`); so does this one.
public enum ServiceModule: Module {
    /// What the systemd module accepts besides the service module's own arguments.
    static let systemdArguments = SystemdModule.arguments.arguments.filter { !["name", "state", "enabled"].contains($0.name) }

    public static let declaration = ActionDeclaration(
        name: "service", qualifiedNames: ["ansible.builtin.service", "ansible.legacy.service"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("name", .string),
                .init("state", .choice(["reloaded", "restarted", "started", "stopped"])),
                .init("enabled", .bool),
                .init("sleep", .int),
                .init("pattern", .string),
                .init("arguments", .string, default: "", aliases: ["args"]),
                .init("runlevel", .string, default: "default"),
                .init("use", .string, default: "auto"),
            ] + systemdArguments,
            requiredOneOf: [["state", "enabled", "masked", "daemon_reload", "daemon_reexec"]]),
        documentation: ActionDocumentation(
            "Manage services",
            details: [
                "Runs the systemd module, as Ansible does on systemd hosts: masked, daemon_reload, daemon_reexec, "
                    + "scope, no_block and force are the systemd module's; pattern, runlevel, sleep and arguments are ignored."
            ],
            examples: """
                - name: Start and enable HAProxy
                  ansible.builtin.service:
                    name: haproxy
                    state: started
                    enabled: true

                - name: Reload unit files, then mask a service that must not start
                  ansible.builtin.service:
                    name: rsync
                    masked: true
                    daemon_reload: true
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        if let use = args.string("use"), use != "auto", use != "systemd" {
            return .failure("service manager '\(use)' is not supported (only systemd)")
        }
        var forwarded = OrderedDictionary<String, Value>()
        for key in ["name", "state", "enabled"] + systemdArguments.map(\.name) {
            if let value = args[key] { forwarded[key] = value }
        }
        return try await SystemdModule.manage(
            ModuleArguments(forwarded, spec: SystemdModule.arguments, module: SystemdModule.name), context: context)
    }
}
