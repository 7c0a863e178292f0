import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.systemd_service` (also `systemd`): unit state, enablement and masking, read
/// with one `systemctl show` and changed with one command.
public enum SystemdModule: Module {
    public static let declaration = ActionDeclaration(
        name: "systemd",
        qualifiedNames: [
            "ansible.builtin.systemd", "ansible.legacy.systemd", "systemd_service", "ansible.builtin.systemd_service",
            "ansible.legacy.systemd_service",
        ],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("name", .string, aliases: ["service", "unit"]),
                .init("state", .choice(["reloaded", "restarted", "started", "stopped"])),
                .init("enabled", .bool),
                .init("force", .bool),
                .init("masked", .bool),
                .init("daemon_reload", .bool, default: false, aliases: ["daemon-reload"]),
                .init("daemon_reexec", .bool, default: false, aliases: ["daemon-reexec"]),
                .init("scope", .choice(["system", "user", "global"]), default: "system"),
                .init("no_block", .bool, default: false),
            ]),
        documentation: ActionDocumentation(
            "Manage systemd units",
            examples: """
                - name: Reload units and restart Patroni
                  ansible.builtin.systemd_service:
                    name: patroni
                    state: restarted
                    daemon_reload: true

                - name: Mask a unit
                  ansible.builtin.systemd_service:
                    name: postgresql
                    masked: true
                """))

    /// The unit file states Ansible counts as enabled: those `systemctl is-enabled` exits 0 for,
    /// except enabled-runtime, indirect and alias, for which it runs `systemctl enable` anyway
    /// (a transient enablement is not the permanent one asked for).
    static let enabledStates: Set<String> = ["enabled", "static", "generated", "transient"]

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        try await manage(args, context: context)
    }

    static func manage(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let scope = args.string("scope") ?? "system"
        var systemctl = "systemctl"
        if scope != "system" { systemctl += " --\(scope)" }
        if args.bool("no_block") == true { systemctl += " --no-block" }
        let name = args.string("name")
        let state = args.string("state")
        let enabled = args.bool("enabled")
        let masked = args.bool("masked")
        if name == nil && (state != nil || enabled != nil || masked != nil) {
            return .failure("missing parameter(s) required by 'state': name")
        }
        var pre: [String] = []
        if args.bool("daemon_reload") == true { pre.append("\(systemctl) daemon-reload") }
        if args.bool("daemon_reexec") == true { pre.append("\(systemctl) daemon-reexec") }
        var values: OrderedDictionary<String, Value> = [:]
        guard let name else {
            guard !pre.isEmpty else { return .failure("one of the following is required: name, daemon_reload, daemon_reexec") }
            // Ansible's module never counts a reload or re-exec as a change.
            if context.checkMode { return ModuleResult(values: values) }
            let result = try await HostScript.run(context, pre.joined(separator: " && "))
            guard result.succeeded else { return .failure("failure \(result.exitStatus) during daemon-reload: \(result.stderrText)") }
            return ModuleResult(values: values)
        }
        values["name"] = .string(name)
        // daemon-reload must come before reading the unit, as Ansible orders it: run both together.
        let probeLine = (pre + ["\(systemctl) show -- \(shellQuote(name))"]).joined(separator: " && ")
        // Check mode must not reload; it reads the unit as it is now.
        let probe = try await HostScript.run(
            context, context.checkMode ? "\(systemctl) show -- \(shellQuote(name))" : probeLine)
        guard probe.succeeded else {
            return .failure("Error loading unit file '\(name)': \(probe.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        var status = OrderedDictionary<String, Value>()
        for line in probe.stdoutText.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            status[String(line[..<eq])] = .string(String(line[line.index(after: eq)...]))
        }
        values["status"] = .dict(status)
        let loadState = status["LoadState"]?.stringValue ?? ""
        let activeState = status["ActiveState"]?.stringValue ?? ""
        let unitFileState = status["UnitFileState"]?.stringValue ?? ""
        let isMasked = loadState == "masked" || unitFileState == "masked" || unitFileState == "masked-runtime"
        let found = loadState != "not-found" || isMasked
        if !found && (state != nil || enabled != nil || masked == false) {
            return .failure("Could not find the requested service \(name): host")
        }
        var commands: [String] = context.checkMode ? [] : pre
        var changed = false
        let unit = shellQuote(name)
        var before: OrderedDictionary<String, Value> = [:]
        var after: OrderedDictionary<String, Value> = [:]

        var nowMasked = isMasked
        if let masked, masked != isMasked {
            commands.append("\(systemctl) \(masked ? "mask" : "unmask") \(unit)")
            before["masked"] = .bool(isMasked)
            after["masked"] = .bool(masked)
            nowMasked = masked
            changed = true
        }
        if let enabled {
            values["enabled"] = .bool(enabled)
            let isEnabled = enabledStates.contains(unitFileState)
            if enabled != isEnabled {
                if nowMasked && enabled { return .failure("Unable to enable service \(name): unit is masked") }
                let force = args.bool("force") == true ? " --force" : ""
                commands.append("\(systemctl) \(enabled ? "enable" : "disable")\(force) \(unit)")
                before["enabled"] = .bool(isEnabled)
                after["enabled"] = .bool(enabled)
                changed = true
            }
        }
        if let state {
            values["state"] = .string(state)
            let running = activeState == "active" || activeState == "activating"
            var action: String?
            switch state {
            case "started": if !running { action = "start" }
            case "stopped": if running || activeState == "deactivating" { action = "stop" }
            default: action = running ? String(state.dropLast(2)) : "start"
            }
            if let action {
                if nowMasked && action != "stop" { return .failure("Unable to \(action) service \(name): unit is masked") }
                commands.append("\(systemctl) \(action) \(unit)")
                before["ActiveState"] = .string(activeState)
                after["ActiveState"] = .string(action == "stop" ? "inactive" : "active")
                changed = true
            }
        }
        let diffs = context.diffMode && !before.isEmpty ? [HostScript.diff(before, after)] : []
        guard changed else { return ModuleResult(values: values) }
        if context.checkMode || commands.count == pre.count {
            return ModuleResult(changed: true, values: values, diffs: diffs)
        }
        let result = try await HostScript.run(context, commands.dropFirst(pre.count).joined(separator: " && "))
        guard result.succeeded else {
            let err = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            return .failure("Unable to change the state of service \(name): \(err)", values: values)
        }
        return ModuleResult(changed: true, values: values, diffs: diffs)
    }
}

