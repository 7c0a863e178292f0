import OrderedCollections
import PGHACore

/// `community.general.pacman`: not available on Debian hosts; a task that runs it fails and names the
/// alternative.
public enum PacmanModule: Module {
    public static let declaration = ActionDeclaration(
        name: "pacman", qualifiedNames: ["community.general.pacman"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([], acceptsOtherArguments: true),
        documentation: ActionDocumentation(
            "Manage packages with pacman",
            details: NotForDebian.details("ansible.builtin.apt or ansible.builtin.package"),
            examples: """
                - name: Install nginx on Arch Linux
                  community.general.pacman:
                    name: nginx
                    state: present
                  when: ansible_facts.os_family == 'Archlinux'
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        NotForDebian.failure(
            "pacman", reason: "they use apt, not pacman",
            alternative: "ansible.builtin.apt or ansible.builtin.package")
    }
}
