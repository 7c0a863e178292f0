import OrderedCollections
import PGHACore

/// `ansible.posix.selinux`: not available on Debian hosts; a task that runs it fails and names the
/// alternative.
public enum SelinuxModule: Module {
    public static let declaration = ActionDeclaration(
        name: "selinux", qualifiedNames: ["ansible.posix.selinux"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([], acceptsOtherArguments: true),
        documentation: ActionDocumentation(
            "Change policy and state of SELinux",
            details: NotForDebian.details(
                "AppArmor profiles in /etc/apparmor.d (ansible_apparmor tells whether it is enabled)"),
            examples: """
                - name: Enforce SELinux on the RedHat family
                  ansible.posix.selinux:
                    policy: targeted
                    state: enforcing
                  when: ansible_facts.os_family == 'RedHat'
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        NotForDebian.failure(
            "selinux", reason: "Debian runs AppArmor, not SELinux",
            alternative: "AppArmor profiles in /etc/apparmor.d (ansible_apparmor tells whether it is enabled)")
    }
}
