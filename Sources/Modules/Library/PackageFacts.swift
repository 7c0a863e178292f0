import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.package_facts`: installed packages as `ansible_facts.packages`, from one
/// dpkg-query (the apt manager; other managers are not implemented).
public enum PackageFactsModule: Module {
    public static let declaration = ActionDeclaration(
        name: "package_facts", qualifiedNames: ["ansible.builtin.package_facts", "ansible.legacy.package_facts"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([
            .init("manager", .list, default: ["auto"]),
            .init("strategy", .choice(["first", "all"]), default: "first"),
        ]),
        documentation: ActionDocumentation(
            "Package information as facts",
            examples: """
                - name: Read the installed packages
                  ansible.builtin.package_facts:

                - name: Show PostgreSQL's version
                  ansible.builtin.debug:
                    var: ansible_facts.packages['postgresql-15'][0].version
                  when: "'postgresql-15' in ansible_facts.packages"
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let managers = args.stringItems("manager") ?? ["auto"]
        if let other = managers.first(where: { $0 != "auto" && $0 != "apt" }) {
            return .failure("Unsupported package manager: \(other) (this engine implements apt only)")
        }
        let result = try await HostScript.run(
            context,
            "dpkg-query -W -f='${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Architecture}\\t${Section}\\n'")
        guard result.succeeded else {
            return .failure("Could not detect a supported package manager from the following list: ['apt']",
                values: HostScript.stdoutValues(result))
        }
        var packages = OrderedDictionary<String, Value>()
        for (name, version, arch, section) in installed(result.stdoutText) {
            let item: Value = .dict([
                "name": .string(name), "version": .string(version), "arch": .string(arch),
                "category": .string(section), "source": "apt",
            ])
            packages[name] = .list((packages[name]?.listValue ?? []) + [item])
        }
        return ModuleResult(values: ["ansible_facts": .dict(["packages": .dict(packages)])])
    }

    /// Packages with an installed version (python-apt's `is_installed`): every dpkg state except
    /// not-installed and config-files.
    static func installed(_ text: String) -> [(String, String, String, String)] {
        var found: [(String, String, String, String)] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 5, f[0].count >= 2 else { continue }
            let status = Array(f[0])[1]
            if status == "n" || status == "c" { continue }
            found.append((f[1], f[2], f[3], f[4]))
        }
        return found
    }
}
