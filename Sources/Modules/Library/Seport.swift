import OrderedCollections
import PGHACore

/// `community.general.seport`: not available on Debian hosts; a task that runs it fails and names the
/// alternative.
public enum SeportModule: Module {
    public static let declaration = ActionDeclaration(
        name: "seport", qualifiedNames: ["community.general.seport"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([], acceptsOtherArguments: true),
        documentation: ActionDocumentation(
            "Manages SELinux network port type definitions",
            details: NotForDebian.details(
                "community.general.ufw or ansible.builtin.iptables to open the port (AppArmor does not label ports)"),
            examples: """
                - name: Let httpd bind 8888 under SELinux
                  community.general.seport:
                    ports: 8888
                    proto: tcp
                    setype: http_port_t
                    state: present
                  when: ansible_facts.selinux.status == 'enabled'
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        NotForDebian.failure(
            "seport", reason: "Debian runs AppArmor, not SELinux",
            alternative:
                "community.general.ufw or ansible.builtin.iptables to open the port (AppArmor does not label ports)")
    }
}
