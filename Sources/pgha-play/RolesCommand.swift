import ArgumentParser
import Engine
import Foundation
import PGHACore
import ProjectSetup

/// `pgha-play roles list|export`: the built-in roles.
struct RolesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roles",
        abstract: "List the built-in roles, or export one to change it.",
        subcommands: [List.self, Export.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each built-in role: what it does, the variables you set for it, and whether your roles path overrides it.")

        func run() throws {
            let project = ProjectConfiguration.discover(from: FileManager.default.currentDirectoryPath)
            let roles = try BuiltinCatalog.roles()
            let width = (roles.map(\.name.count).max() ?? 0) + 2
            print("Built-in roles (`pgha-play roles export NAME` writes one to roles/NAME, where it overrides the built-in one):\n")
            for role in roles {
                print(role.name.padding(toLength: width, withPad: " ", startingAt: 0) + role.description)
                let indent = String(repeating: " ", count: width)
                print(indent + "you set: " + (role.requiredVariables.isEmpty ? "nothing (defaults only)" : role.requiredVariables.joined(separator: ", ")))
                if let override = project.userRoleDirectory(named: role.name) {
                    print(indent + "overridden by: " + override)
                }
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a built-in role to DIR/NAME (default roles/NAME), to change it there.",
            discussion: "A role in the roles path (roles/ beside pgha-play.yml or in the current directory) is used instead of the built-in one of the same name.")

        @Argument(help: "The built-in role (see `pgha-play roles list`).")
        var name: String

        @Argument(help: "The directory to write the role into.")
        var directory: String = "roles"

        func run() throws {
            let written = try BuiltinCatalog.exportRole(name, into: directory)
            print("Wrote \(written.path) (\(written.files) files): it is used instead of the built-in \(name) from a project whose roles path holds \(directory).")
        }
    }
}

/// `pgha-play playbooks list`: the built-in playbooks.
struct PlaybooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "playbooks",
        abstract: "List the built-in playbooks.",
        subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each built-in playbook, what it does and how it is run.")

        func run() throws {
            let project = ProjectConfiguration.discover(from: FileManager.default.currentDirectoryPath)
            let playbooks = BuiltinCatalog.playbooks()
            let width = (playbooks.map(\.name.count).max() ?? 0) + 2
            print("Built-in playbooks (a playbook of the same name in the current directory or playbooks/ is run instead):\n")
            for playbook in playbooks {
                print(playbook.name.padding(toLength: width, withPad: " ", startingAt: 0) + playbook.description)
                let indent = String(repeating: " ", count: width)
                if let usage = playbook.usage { print(indent + usage) }
                if let resolved = try? project.resolvePlaybook(playbook.name), !ContentSource.isBuiltin(resolved) {
                    print(indent + "overridden by: " + resolved)
                }
            }
        }
    }
}
