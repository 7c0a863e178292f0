import OrderedCollections
import PGHACore

/// `ansible.builtin.dnf`: not available on Debian hosts; a task that runs it fails and names the
/// alternative.
public enum DnfModule: Module {
    public static let declaration = ActionDeclaration(
        name: "dnf",
        qualifiedNames: ["ansible.builtin.dnf", "ansible.legacy.dnf", "dnf5", "ansible.builtin.dnf5", "ansible.legacy.dnf5"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([], acceptsOtherArguments: true),
        documentation: ActionDocumentation(
            "Manages packages with the dnf package manager",
            details: NotForDebian.details("ansible.builtin.apt or ansible.builtin.package"),
            examples: """
                - name: Install httpd on the RedHat family
                  ansible.builtin.dnf:
                    name: httpd
                    state: present
                  when: ansible_facts.os_family == 'RedHat'
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        NotForDebian.failure(
            "dnf", reason: "they use apt, not dnf",
            alternative: "ansible.builtin.apt or ansible.builtin.package")
    }
}
