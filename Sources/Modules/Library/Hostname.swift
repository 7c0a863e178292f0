import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.hostname`: the running and the permanent host name (hostnamectl under systemd,
/// otherwise /etc/hostname and `hostname`).
public enum HostnameModule: Module {
    public static let declaration = ActionDeclaration(
        name: "hostname", qualifiedNames: ["ansible.builtin.hostname", "ansible.legacy.hostname"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec([
            .init("name", .string, required: true),
            .init(
                "use",
                .choice([
                    "alpine", "debian", "freebsd", "generic", "macos", "macosx", "darwin", "openbsd", "openrc", "redhat",
                    "sles", "solaris", "systemd",
                ])),
        ]),
        documentation: ActionDocumentation(
            "Manage hostname",
            examples: """
                - name: Name the host after its inventory name
                  ansible.builtin.hostname:
                    name: "{{ inventory_hostname }}"
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let name = args.string("name") ?? ""
        if let use = args.string("use"), !["systemd", "debian", "generic"].contains(use) {
            return .failure("use=\(use) is not supported here (only systemd, debian, generic)")
        }
        let script = """
            exec 2>/dev/null
            printf '%s\\n' "$(hostname)"
            if [ -d /run/systemd/system ] && command -v hostnamectl >/dev/null; then
              echo systemd; printf '%s\\n' "$(hostnamectl --static)"
            else
              echo file; printf '%s\\n' "$(cat /etc/hostname)"
            fi
            exit 0
            """
        let probe = try await context.connection.run(
            CommandRequest(script, environment: context.environment, become: context.become))
        let lines = probe.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let current = lines.count > 0 ? lines[0] : ""
        let useSystemd = args.string("use").map { $0 == "systemd" } ?? (lines.count > 1 && lines[1] == "systemd")
        let permanent = lines.count > 2 ? lines[2] : ""
        let changed = current != name || permanent != name
        let short = String(name.split(separator: ".").first ?? "")
        let domain = name.split(separator: ".").dropFirst().joined(separator: ".")
        let values: OrderedDictionary<String, Value> = [
            "name": .string(name),
            "ansible_facts": .dict([
                "ansible_hostname": .string(short), "ansible_nodename": .string(name), "ansible_fqdn": .string(name),
                "ansible_domain": .string(domain),
            ]),
        ]
        var diffs: [FileDiff] = []
        if context.diffMode && changed {
            diffs = [
                FileDiff(
                    before: "hostname = \(current)\n", after: "hostname = \(name)\n", beforeHeader: "", afterHeader: "")
            ]
        }
        if changed && !context.checkMode {
            let q = shellQuote(name)
            let command =
                useSystemd
                ? "hostnamectl set-hostname \(q)"
                : "printf '%s\\n' \(q) > /etc/hostname && hostname \(q)"
            let result = try await context.connection.run(
                CommandRequest(command, environment: context.environment, become: context.become))
            if !result.succeeded {
                return .failure(
                    "Command failed rc=\(result.exitStatus), out=\(result.stdoutText), err=\(result.stderrText)")
            }
        }
        return ModuleResult(changed: changed, values: values, diffs: diffs)
    }
}
