import OrderedCollections
import PGHACore

/// `ansible.builtin.yum`: not available on Debian hosts; a task that runs it fails and names the
/// alternative.
public enum YumModule: Module {
    public static let declaration = ActionDeclaration(
        name: "yum", qualifiedNames: ["ansible.builtin.yum", "ansible.legacy.yum"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([], acceptsOtherArguments: true),
        documentation: ActionDocumentation(
            "Manages packages with the yum package manager",
            details: NotForDebian.details("ansible.builtin.apt or ansible.builtin.package"),
            examples: """
                - name: Install httpd where yum is the package manager
                  ansible.builtin.yum:
                    name: httpd
                    state: present
                  when: ansible_facts.pkg_mgr == 'yum'
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        NotForDebian.failure(
            "yum", reason: "they use apt, not yum",
            alternative: "ansible.builtin.apt or ansible.builtin.package")
    }
}
