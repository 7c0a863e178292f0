import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.service_facts`: systemd services as `ansible_facts.services`, read in one round
/// trip from `systemctl list-units` and `systemctl list-unit-files`, as Ansible reads them. Ansible
/// then asks `systemctl show` for the ActiveState of each unit file that is not loaded; a unit
/// systemd has not loaded is inactive by definition (a failed one stays loaded until reset), and
/// a template (`name@.service`) has no state, so those answers are known without asking: loading
/// every such unit for `show` was nearly all of this module's time.
///
/// What remains is systemd working out each unit file's state for `list-unit-files`, a few
/// milliseconds per unit.
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
                // The pattern lets systemd work out the state of service unit files only, not of every
                // unit file (--type filters only what is shown): the same lines in half the time.
                "systemctl list-unit-files --no-pager --type service --all --plain --no-legend '*.service'",
            ]))
        if probe.exitStatus == 3 {
            return ModuleResult(
                msg: "Failed to find any services. This can be due to privileges or some other configuration issue.",
                values: ["ansible_facts": .dict(["services": .dict([:])])])
        }
        let parts = HostScript.split(probe.stdoutText, count: 2)
        var services = OrderedDictionary<String, Value>()
        for line in HostScript.lines(parts[0]) where line.contains(".service") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 4 else { continue }
            var status = fields[2]
            if let bad = badStates.first(where: { fields.dropLast().contains($0) }) { status = bad }
            services[fields[0]] = entry(fields[0], state: fields[3] == "running" ? "running" : "stopped", status: status)
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
                // What `systemctl show --property=ActiveState` answers for a unit that is not loaded.
                let state = name.hasSuffix("@.service") ? "unknown" : "inactive"
                services[name] = entry(name, state: state, status: fields[1])
            }
        }
        return ModuleResult(values: ["ansible_facts": .dict(["services": .dict(services)])])
    }

    static func entry(_ name: String, state: String, status: String) -> Value {
        .dict(["name": .string(name), "state": .string(state), "status": .string(status), "source": "systemd"])
    }
}

