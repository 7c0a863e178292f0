import Engine
import Foundation
import PGHACore
import Template
import Testing

@testable import Playbook

/// The roles and playbooks built into the binary: the same bytes as the repository's roles/ and
/// playbooks/, found after the user's own, resolving their files inside the built-in tree, and
/// named `builtin:...` with their lines in errors.
@Suite struct BuiltinContentTests {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        return FileManager.default.currentDirectoryPath
    }()

    // MARK: The built-in tree

    @Test func builtInFilesAreTheRepositorysRolesAndPlaybooks() throws {
        for top in ["roles", "playbooks"] {
            let onDisk = try #require(FileManager.default.enumerator(atPath: Self.repositoryRoot + "/" + top)?.allObjects as? [String])
            var files: [String] = []
            for relative in onDisk where !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
                if PathUtil.isFile(Self.repositoryRoot + "/\(top)/\(relative)") { files.append(relative) }
            }
            #expect(files.count > 5)
            for relative in files {
                let builtin = ContentSource.builtinPrefix + top + "/" + relative
                #expect(ContentSource.isFile(builtin), "\(builtin) is not built in")
                #expect(ContentSource.contents(builtin) == FileManager.default.contents(atPath: Self.repositoryRoot + "/\(top)/\(relative)").map { [UInt8]($0) },
                        "\(builtin) differs from the repository's file")
            }
            let builtinFiles = try #require(ContentSource.descendants(of: ContentSource.builtinPrefix + top)).filter { !$0.isDirectory }
            #expect(builtinFiles.count == files.count, "files built in that the repository does not have")
        }
        #expect(ContentSource.entries(ofDirectory: "builtin:") == ["playbooks", "roles"])
        #expect(ContentSource.isDirectory("builtin:roles/haproxy/templates"))
        #expect(!ContentSource.isFile("builtin:roles/haproxy"))
        #expect(!ContentSource.exists("builtin:roles/no-such-role"))
        #expect(ContentSource.permissions("builtin:roles/haproxy/templates/haproxy.cfg.j2") == 0o644)
    }

    @Test func builtInPathsJoinAndStandardizeInsideTheTree() {
        #expect(ContentSource.join("builtin:roles/etcd/tasks", "../templates/etcd.default.j2") == "builtin:roles/etcd/templates/etcd.default.j2")
        #expect(ContentSource.join("builtin:", "roles") == "builtin:roles")
        #expect(ContentSource.join("builtin:roles", "../../../etc/passwd") == "builtin:etc/passwd")
        #expect(ContentSource.join("builtin:roles", "/etc/hosts") == "/etc/hosts")
        #expect(ContentSource.standardize("builtin:roles//x/./y/") == "builtin:roles/x/y")
        #expect(ContentSource.directory(of: "builtin:roles/x/tasks/main.yml") == "builtin:roles/x/tasks")
        #expect(ContentSource.directory(of: "builtin:roles") == "builtin:")
        #expect(ContentSource.isFile("builtin:roles/etcd/tasks/../tasks/main.yml"))
        #expect(PathUtil.absolute("builtin:playbooks/./site.yml") == "builtin:playbooks/site.yml")
        #expect(PlaybookLoader.inferPlaybookDirectory(from: "builtin:roles/etcd/tasks/main.yml") == "builtin:")
    }

    // MARK: Resolution order

    @Test func withoutAProjectFileTheWorkingDirectoryIsTheProject() throws {
        let project = try Project([:])
        var config = ProjectConfiguration.discover(from: project.root)
        #expect(config.root == nil)
        #expect(config.roleSearchPaths == [project.path("roles"), ContentSource.builtinRoles])
        #expect(config.playbookDirectories == [project.path("playbooks")])
        #expect(config.defaultInventory == nil)
        // Inventory: ./hosts.ini, then ./inventory/, then ./inventory.ini.
        try project.write("inventory.ini", "[postgres]\n")
        #expect(ProjectConfiguration.discover(from: project.root).defaultInventory == project.path("inventory.ini"))
        try project.write("inventory/hosts", "[postgres]\n")
        #expect(ProjectConfiguration.discover(from: project.root).defaultInventory == project.path("inventory"))
        try project.write("hosts.ini", "[postgres]\n")
        config = ProjectConfiguration.discover(from: project.root)
        #expect(config.defaultInventory == project.path("hosts.ini"))
        // A project file found above the working directory: the same defaults, relative to it.
        try project.write("pgha-play.yml", "vault_password_file: .vault-pass\n")
        try project.write("sub/dir/.keep", "")
        config = ProjectConfiguration.discover(from: project.path("sub/dir"))
        #expect(config.root == project.root)
        #expect(config.defaultInventory == project.path("hosts.ini"))
        #expect(config.roleSearchPaths == [project.path("roles"), ContentSource.builtinRoles])
        #expect(config.vaultPasswordFile == project.path(".vault-pass"))
        // Named ones win.
        try project.write("pgha-play.yml", "inventory: prod.ini\nroles_path: [mine, /shared/roles]\nplaybook_dirs: [plays]\n")
        config = ProjectConfiguration.discover(from: project.root)
        #expect(config.defaultInventory == project.path("prod.ini"))
        #expect(config.roleSearchPaths == [project.path("mine"), "/shared/roles", ContentSource.builtinRoles])
        #expect(config.playbookDirectories == [project.path("plays")])
    }

    @Test func aBarePlaybookNameIsTheUsersFirstThenBuiltIn() throws {
        let project = try Project([:])
        let config = ProjectConfiguration.discover(from: project.root)
        #expect(try config.resolvePlaybook("site.yml", currentDirectory: project.root) == "builtin:playbooks/site.yml")
        #expect(try config.resolvePlaybook("builtin:playbooks/switchover.yml", currentDirectory: project.root) == "builtin:playbooks/switchover.yml")
        try project.write("playbooks/site.yml", "- hosts: all\n  tasks: []\n")
        #expect(try config.resolvePlaybook("site.yml", currentDirectory: project.root) == project.path("playbooks/site.yml"))
        try project.write("site.yml", "- hosts: all\n  tasks: []\n")
        #expect(try config.resolvePlaybook("site.yml", currentDirectory: project.root) == project.path("site.yml"))
        // The other built-in playbooks are still found.
        #expect(try config.resolvePlaybook("switchover.yml", currentDirectory: project.root) == "builtin:playbooks/switchover.yml")
        let missing = #expect(throws: PGHAError.self) { try config.resolvePlaybook("nope.yml", currentDirectory: project.root) }
        #expect(missing?.message == "the playbook nope.yml could not be found")
        #expect(missing?.hint?.contains("builtin:playbooks") == true)
        #expect(throws: PGHAError.self) { try config.resolvePlaybook("builtin:playbooks/nope.yml", currentDirectory: project.root) }
    }

    /// The built-in site.yml with a user's roles/haproxy: the user's haproxy is used, every other
    /// role, task file, template and include resolves in the built-in tree.
    @Test func usersRoleOverridesTheBuiltInOneOfTheSameName() throws {
        let project = try Project([
            "roles/haproxy/tasks/main.yml": "- name: my own haproxy\n  ansible.builtin.debug:\n    msg: mine\n",
            // The built-in tls-migrate.yml (imported by site.yml) uses these entry points of the haproxy role.
            "roles/haproxy/tasks/helper.yml": "- name: my own helper\n  ansible.builtin.debug:\n    msg: helper\n",
            "roles/haproxy/tasks/config.yml": "- name: my own config\n  ansible.builtin.debug:\n    msg: config\n",
        ])
        let config = ProjectConfiguration.discover(from: project.root)
        let loader = PlaybookLoader(roleSearchPaths: config.roleSearchPaths, catalog: ActionRegistry.catalog, strategies: Strategies.names)
        let playbook = try loader.load(playbookPath: try config.resolvePlaybook("site.yml", currentDirectory: project.root))
        #expect(playbook.path == "builtin:playbooks/site.yml")
        #expect(playbook.directory == "builtin:playbooks")
        var rolePaths: [String: String] = [:]
        for play in playbook.plays {
            for case .block(let block) in play.roles { if let role = block.role { rolePaths[role.name] = role.path } }
        }
        #expect(rolePaths["haproxy"] == project.path("roles/haproxy"))
        #expect(rolePaths["patroni"] == "builtin:roles/patroni")
        #expect(rolePaths["preflight"] == "builtin:roles/preflight")
        let tasks = playbook.plays.flatMap(\.allTasks)
        #expect(tasks.contains { $0.name == "my own haproxy" && $0.location.file == project.path("roles/haproxy/tasks/main.yml") })
        #expect(!tasks.contains { $0.location.file.hasPrefix("builtin:roles/haproxy/") })

        // Tasks carry their built-in file and line.
        let patroniMain = try #require(ContentSource.contents("builtin:roles/patroni/tasks/main.yml"))
        let lines = String(decoding: patroniMain, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let task = try #require(tasks.first { $0.location.file == "builtin:roles/patroni/tasks/main.yml" })
        #expect(lines[task.location.line - 1].contains("- name: \(task.name ?? "")"))

        // Run-time includes and the cis role's summary lookup resolve inside the built-in tree.
        let patroni = try #require(tasks.first { $0.role?.name == "patroni" }?.role)
        #expect(loader.resolveTasksFile("dcs.yml", includedFrom: task.location, role: patroni, playbookDirectory: playbook.directory)
            == "builtin:roles/patroni/tasks/dcs.yml")
        let loaded = try loader.loadRole(
            name: "cis-hardening", parameters: [:], location: SourceLocation(file: "builtin:playbooks/site.yml", line: 20),
            tasksFrom: "final.yml", playbookDirectory: playbook.directory)
        #expect(loaded.role.path == "builtin:roles/cis-hardening")
        let lookups = DefaultLookups(searchPaths: [loaded.role.path])
        let defaults = try #require(lookups.resolve("builtin:roles/cis-hardening/defaults/main.yml"))
        #expect(lookups.resolve("defaults/main.yml") == defaults)
    }

    @Test func errorsInsideBuiltInContentNameTheFileAndLine() throws {
        // A built-in task file imported as a playbook: the error is in the built-in file.
        let project = try Project(["site.yml": "- import_playbook: builtin:playbooks/tasks/wait-streaming.yml\n"])
        let error = try #require(project.loadError())
        let location = try #require(error.location)
        #expect(location.file == "builtin:playbooks/tasks/wait-streaming.yml")
        let text = String(decoding: try #require(ContentSource.contents(location.file)), as: UTF8.self)
        let line = text.split(separator: "\n", omittingEmptySubsequences: false)[location.line - 1]
        #expect(line.contains("ansible.builtin.uri:"))
        #expect(error.withSourceLine().sourceLine == String(line))
        #expect(error.description.hasPrefix("builtin:playbooks/tasks/wait-streaming.yml:\(location.line):"))

        let patroni = PGHAError(.semantic, "boom", at: SourceLocation(file: "builtin:roles/patroni/tasks/main.yml", line: 12, column: 3))
        #expect(patroni.description.hasPrefix("builtin:roles/patroni/tasks/main.yml:12:3"))
        #expect(patroni.withSourceLine().sourceLine != nil)
    }
}
