import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.service_facts`: systemd services as `ansible_facts.services`, read in one round
/// trip (units, unit files, and the state of units that are not loaded).
public enum ServiceFactsModule: Module {
    public static let declaration = ActionDeclaration(
        name: "service_facts", qualifiedNames: ["ansible.builtin.service_facts", "ansible.legacy.service_facts"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([]),
        documentation: ActionDocumentation(
            "Return service state information as fact data",
            examples: """
                - name: Read the services' states
                  ansible.builtin.service_facts:

                - name: Show whether Patroni runs
                  ansible.builtin.debug:
                    var: ansible_facts.services['patroni.service'].state
                """))

    static let badStates = ["not-found", "masked", "failed"]

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let probe = try await HostScript.run(
            context,
            HostScript.sections([
                "command -v systemctl >/dev/null || exit 3; systemctl list-units --no-pager --type service --all --plain --no-legend",
                "systemctl list-unit-files --no-pager --type service --all --plain --no-legend",
                // Ansible asks `systemctl show` for each unit file not listed above; one call here.
                "systemctl show --property=Id,ActiveState $(systemctl list-unit-files --no-pager --type service --all --plain --no-legend | awk '$1 !~ /@\\.service$/ {print $1}') 2>/dev/null",
            ]))
        if probe.exitStatus == 3 {
            return ModuleResult(
                msg: "Failed to find any services. This can be due to privileges or some other configuration issue.",
                values: ["ansible_facts": .dict(["services": .dict([:])])])
        }
        let parts = HostScript.split(probe.stdoutText, count: 3)
        var services = OrderedDictionary<String, Value>()
        for line in HostScript.lines(parts[0]) where line.contains(".service") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 4 else { continue }
            var status = fields[2]
            if let bad = badStates.first(where: { fields.dropLast().contains($0) }) { status = bad }
            services[fields[0]] = entry(fields[0], state: fields[3] == "running" ? "running" : "stopped", status: status)
        }
        var activeStates: [String: String] = [:]
        var id: String?
        for line in parts[2].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Id=") { id = String(line.dropFirst(3)) }
            if line.hasPrefix("ActiveState="), let unit = id { activeStates[unit] = String(line.dropFirst(12)) }
            if line.isEmpty { id = nil }
        }
        for line in HostScript.lines(parts[1]) where line.contains(".service") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 2 else { continue }
            let name = fields[0]
            if var existing = services[name]?.dictValue {
                if let status = existing["status"]?.stringValue, !badStates.contains(status) {
                    existing["status"] = .string(fields[1])
                    services[name] = .dict(existing)
                }
            } else {
                services[name] = entry(name, state: activeStates[name] ?? "unknown", status: fields[1])
            }
        }
        return ModuleResult(values: ["ansible_facts": .dict(["services": .dict(services)])])
    }

    static func entry(_ name: String, state: String, status: String) -> Value {
        .dict(["name": .string(name), "state": .string(state), "status": .string(status), "source": "systemd"])
    }
}

