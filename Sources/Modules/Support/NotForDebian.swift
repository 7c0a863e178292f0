import OrderedCollections
import PGHACore

/// Modules of other distributions (yum, dnf, pacman, SELinux) that roles call behind a `when:` on
/// the OS family. They load, so a role that guards them runs; a task that reaches one fails with
/// the module's name, the reason and what Debian hosts use instead.
enum NotForDebian {
    static func failure(_ module: String, reason: String, alternative: String) -> ModuleResult {
        .failure(
            "\(module) is not available for Debian hosts (\(reason)); use \(alternative)",
            values: ["unavailable_module": .string(module)])
    }

    /// The documentation note every such module carries.
    static func details(_ alternative: String) -> [String] {
        [
            "Declared so that roles written for several distributions load and run on Debian hosts: tasks "
                + "guarded by `when: ansible_os_family == ...` are skipped as usual. A task that does run fails, "
                + "naming the alternative: \(alternative). Every argument is accepted."
        ]
    }
}
