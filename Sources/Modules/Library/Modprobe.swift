import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.general.modprobe`: a kernel module loaded or unloaded, and optionally kept across
/// boots in /etc/modules-load.d/<name>.conf (and its params in /etc/modprobe.d/<name>.conf).
public enum ModprobeModule: Module {
    public static let declaration = ActionDeclaration(
        name: "modprobe", qualifiedNames: ["community.general.modprobe", "community.general.system.modprobe"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([
            .init("name", .string, required: true),
            .init("state", .choice(["absent", "present"]), default: "present"),
            .init("params", .string, default: ""),
            .init("persistent", .choice(["disabled", "absent", "present"]), default: "disabled"),
        ]),
        documentation: ActionDocumentation(
            "Load or unload kernel modules",
            examples: """
                - name: Load the bonding module now and at boot
                  community.general.modprobe:
                    name: bonding
                    state: present
                    persistent: present
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let name = args.string("name") ?? ""
        let present = args.string("state") != "absent"
        let params = args.string("params") ?? ""
        let persistent = args.string("persistent") ?? "disabled"
        let loadFile = "/etc/modules-load.d/\(name).conf"
        let optionsFile = "/etc/modprobe.d/\(name).conf"
        let underscored = name.replacingOccurrences(of: "-", with: "_")
        // One probe: loaded or built in, and the two persistence files.
        let script = """
            exec 2>/dev/null
            if grep -q "^\(underscored) " /proc/modules; then echo loaded
            elif grep -q "/\(underscored).ko" "/lib/modules/$(uname -r)/modules.builtin"; then echo builtin; fi
            echo ---; cat -- \(shellQuote(loadFile)); echo ---; cat -- \(shellQuote(optionsFile)); exit 0
            """
        let probe = try await context.connection.run(
            CommandRequest(script, environment: context.environment, become: context.become))
        let parts = probe.stdoutText.components(separatedBy: "---\n")
        let state = parts.first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let loaded = state == "loaded" || state == "builtin"
        let loadText = parts.count > 1 ? parts[1] : ""
        let optionsText = parts.count > 2 ? parts[2] : ""
        var commands: [String] = []
        var changed = false
        if present && !loaded {
            commands.append(
                "modprobe -- \(shellQuote(name))"
                    + (params.isEmpty
                        ? "" : " " + params.split(separator: " ").map { shellQuote(String($0)) }.joined(separator: " "))
            )
            changed = true
        } else if !present && state == "loaded" {
            commands.append("modprobe -r -- \(shellQuote(name))")
            changed = true
        } else if !present && state == "builtin" {
            return .failure("\(name) is builtin and cannot be unloaded")
        }
        let wantOptions = "options \(name) \(params)\n"
        if persistent == "present" {
            if !loadText.split(separator: "\n").contains(where: { $0 == name }) {
                commands.append(
                    "mkdir -p /etc/modules-load.d && printf '%s\\n' \(shellQuote(name)) > \(shellQuote(loadFile))")
                changed = true
            }
            if !params.isEmpty && optionsText != wantOptions {
                commands.append(
                    "mkdir -p /etc/modprobe.d && printf '%s' \(shellQuote(wantOptions)) > \(shellQuote(optionsFile))")
                changed = true
            }
        } else if persistent == "absent" {
            if !loadText.isEmpty {
                commands.append("rm -f -- \(shellQuote(loadFile))")
                changed = true
            }
            if !optionsText.isEmpty {
                commands.append("rm -f -- \(shellQuote(optionsFile))")
                changed = true
            }
        }
        let values: OrderedDictionary<String, Value> = [
            "name": .string(name), "params": .string(params), "state": .string(present ? "present" : "absent"),
        ]
        if changed && !context.checkMode {
            let result = try await context.connection.run(
                CommandRequest(
                    commands.joined(separator: " && "), environment: context.environment, become: context.become))
            if !result.succeeded {
                return .failure(
                    result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines),
                    values: values.merging(["rc": .int(Int(result.exitStatus))], uniquingKeysWith: { $1 }))
            }
        }
        return ModuleResult(changed: changed, values: values)
    }
}
