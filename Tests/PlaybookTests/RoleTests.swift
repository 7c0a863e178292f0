import OrderedCollections
import PGHACore
import Testing

@testable import Playbook

@Suite struct RoleTests {
    static let pgRole: [String: String] = [
        "roles/pg/tasks/main.yml": """
            - name: install
              apt: name=postgresql
              notify: restart pg
            - import_tasks: config.yml
            """,
        "roles/pg/tasks/config.yml": "- name: configure\n  template: src=pg.conf.j2 dest=/etc/pg.conf\n",
        "roles/pg/templates/pg.conf.j2": "port = {{ pg_port }}\n",
        "roles/pg/handlers/main.yml": "- name: restart pg\n  service: name=postgresql state=restarted\n",
        "roles/pg/defaults/main.yml": "pg_port: 5432\npg_version: 16\n",
        "roles/pg/vars/main.yml": "pg_user: postgres\n",
        "roles/pg/meta/main.yml": "galaxy_info: {author: me}\ndependencies:\n  - common\n",
        "roles/common/tasks/main.yml": "- name: common task\n  ping:\n",
    ]

    @Test func rolesExpandIntoBlocksWithDependenciesFirst() throws {
        var files = Self.pgRole
        files["site.yml"] = """
            - hosts: db
              become: true
              roles:
                - role: pg
                  tags: [database]
                  when: install_pg
                  pg_port: 6432
                  vars: {pg_extra: 1}
              tasks:
                - debug: msg=after
                  notify: "pg : restart pg"
            """
        let project = try Project(files)
        let play = try project.load().plays[0]
        #expect(play.roles.count == 2)
        guard case .block(let dep) = play.roles[0], case .block(let main) = play.roles[1] else {
            Issue.record("roles must be blocks")
            return
        }
        #expect(dep.role?.name == "common")
        #expect(dep.role?.isDependency == true)
        #expect(main.role?.name == "pg")
        #expect(main.role?.isDependency == false)
        let role = try #require(main.role)
        #expect(role.path == project.path("roles/pg"))
        #expect(role.defaults == ["pg_port": 5432, "pg_version": 16])
        #expect(role.vars == ["pg_user": "postgres"])
        #expect(role.parameters == ["pg_port": 6432, "pg_extra": 1])
        #expect(role.location.line == 4)
        let tasks = flatTasks(main.block)
        #expect(tasks.map(\.name) == ["install", "configure"])
        #expect(tasks.allSatisfy { $0.role === role })
        #expect(tasks[0].displayName == "pg : install")
        #expect(tasks[1].location.file == project.path("roles/pg/tasks/config.yml"))
        for task in tasks {
            #expect(task.keywords.tags == ["database"])
            #expect(task.keywords.when.map(\.text) == ["install_pg"])
            #expect(task.keywords.become == true)
            // Role parameters are not task vars.
            #expect(task.keywords.vars.isEmpty)
        }
        // Dependencies inherit the depending role's keywords.
        let common = flatTasks(dep.block)[0]
        #expect(common.keywords.tags == ["database"])
        #expect(common.keywords.when.map(\.text) == ["install_pg"])
        #expect(play.handlers.map(\.name) == ["restart pg"])
        #expect(play.handlers[0].role === role)
    }

    @Test func sameRoleWithSameParametersRunsOnce() throws {
        var files = Self.pgRole
        files["roles/other/meta/main.yml"] = "dependencies: [common]\n"
        files["roles/other/tasks/main.yml"] = "- ping:\n"
        files["site.yml"] = """
            - hosts: all
              roles: [common, pg, other, {role: common, x: 1}]
            """
        let play = try Project(files).load().plays[0]
        let names = play.roles.compactMap { node -> String? in
            if case .block(let block) = node { return block.role?.name }
            return nil
        }
        #expect(names == ["common", "pg", "other", "common"])
    }

    @Test func allowDuplicatesRunsAgain() throws {
        let play = try Project([
            "roles/r/tasks/main.yml": "- ping:\n",
            "roles/r/meta/main.yml": "allow_duplicates: true\n",
            "site.yml": "- hosts: all\n  roles: [r, r]\n",
        ]).load().plays[0]
        #expect(play.roles.count == 2)
    }

    @Test func searchPathsAndRoleByPath() throws {
        let project = try Project([
            "shared-roles/shared/tasks/main.yaml": "- ping:\n",
            "elsewhere/byPath/tasks/main.yml": "- ping:\n",
            "site.yml": "- hosts: all\n  roles: [shared, ./elsewhere/byPath]\n",
        ])
        let play = try project.load().plays[0]
        guard case .block(let shared) = play.roles[0], case .block(let byPath) = play.roles[1] else {
            Issue.record("expected blocks")
            return
        }
        #expect(shared.role?.path == project.path("shared-roles/shared"))
        #expect(byPath.role?.name == "byPath")
    }

    @Test func missingRoleListsTheSearchPaths() throws {
        let project = try Project(["site.yml": "- hosts: all\n  roles:\n    - nosuch\n"])
        let error = try #require(project.loadError())
        #expect(error.message == "role 'nosuch' not found")
        #expect(error.location?.line == 3)
        #expect(error.location?.column == 7)
        #expect(error.hint?.contains(project.path("roles/nosuch")) == true)
        #expect(error.hint?.contains(project.path("shared-roles/nosuch")) == true)
    }

    @Test func dependencyCycle() throws {
        let project = try Project([
            "roles/a/meta/main.yml": "dependencies: [b]\n",
            "roles/b/meta/main.yml": "dependencies:\n  - role: a\n",
            "site.yml": "- hosts: all\n  roles: [a]\n",
        ])
        let error = try #require(project.loadError())
        #expect(error.message == "role dependency cycle: a -> b -> a")
        #expect(error.location?.file == project.path("roles/b/meta/main.yml"))
        #expect(error.location?.line == 2)
    }

    @Test func importRoleWithFromOptions() throws {
        let project = try Project([
            "roles/r/tasks/main.yml": "- debug: msg=main\n",
            "roles/r/tasks/extra.yml": "- debug: msg=extra\n",
            "roles/r/vars/other.yml": "v: other\n",
            "roles/r/defaults/main/a.yml": "d1: 1\n",
            "roles/r/defaults/main/b.yml": "d2: 2\n",
            "roles/r/handlers/alt.yml": "- name: alt handler\n  debug: msg=h\n",
            "site.yml": """
                - hosts: all
                  tasks:
                    - import_role:
                        name: r
                        tasks_from: extra
                        vars_from: other.yml
                        handlers_from: alt
                      vars: {p: 1}
                      tags: imported
                      when: go
                    - debug: msg=x
                      notify: alt handler
                """,
        ])
        let play = try project.load().plays[0]
        guard case .block(let block) = play.tasks[0] else {
            Issue.record("expected a block")
            return
        }
        let role = try #require(block.role)
        #expect(role.parameters == ["p": 1])
        #expect(role.vars == ["v": "other"])
        #expect(role.defaults == ["d1": 1, "d2": 2])
        let task = flatTasks(block.block)[0]
        #expect(task.args == ["msg": "extra"])
        #expect(task.keywords.tags == ["imported"])
        #expect(task.keywords.when.map(\.text) == ["go"])
        #expect(task.keywords.vars.isEmpty)
        #expect(play.handlers.map(\.name) == ["alt handler"])
    }

    @Test func roleImportedTwiceBringsItsHandlersOnce() throws {
        var files = Self.pgRole
        files["site.yml"] = "- hosts: all\n  tasks:\n    - import_role: name=pg\n    - import_role: name=pg\n"
        let play = try Project(files).load().plays[0]
        #expect(play.handlers.map(\.name) == ["restart pg"])
        #expect(flatTasks(play.tasks).filter { $0.name == "install" }.count == 2)
    }

    @Test func missingTasksFrom() throws {
        let project = try Project([
            "roles/r/tasks/main.yml": "- ping:\n",
            "site.yml": "- hosts: all\n  tasks:\n    - import_role: name=r tasks_from=nope\n",
        ])
        let error = try #require(project.loadError())
        #expect(error.message.hasPrefix("tasks_from: 'nope' not found"))
        #expect(error.location?.line == 3)
    }

    @Test func includeRoleStaysATaskButIsChecked() throws {
        let project = try Project([
            "roles/r/tasks/main.yml": "- ping:\n",
            "roles/r/handlers/main.yml": "- name: r handler\n  ping:\n",
            "site.yml": """
                - hosts: all
                  tasks:
                    - include_role:
                        name: r
                      tags: only_the_include
                    - ping:
                      notify: r handler
                    - include_role: name={{ dynamic }}
                """,
        ])
        let play = try project.load().plays[0]
        let tasks = flatTasks(play.tasks)
        #expect(tasks.map(\.action) == ["include_role", "ping", "include_role"])
        #expect(tasks[0].args == ["name": "r"])
        #expect(play.handlers.isEmpty)

        try project.write("site.yml", "- hosts: all\n  tasks:\n    - include_role: {name: missing}\n")
        let error = try #require(project.loadError())
        #expect(error.message == "role 'missing' not found")
        #expect(error.location?.line == 3)
    }

    @Test func runtimeLoadRole() throws {
        let project = try Project(Self.pgRole)
        var keywords = Keywords()
        keywords.become = true
        let loaded = try project.loader.loadRole(
            name: "pg", parameters: ["pg_port": 1], location: PGHACore.SourceLocation(file: project.path("site.yml"), line: 3, column: 7),
            varsFrom: nil, inheriting: keywords, playbookDirectory: project.root)
        #expect(loaded.role.name == "pg")
        #expect(loaded.role.parameters == ["pg_port": 1])
        #expect(loaded.handlers.map(\.name) == ["restart pg"])
        #expect(loaded.tasks.count == 3)
        guard case .block(let dependency) = loaded.tasks[0] else {
            Issue.record("dependency must come first as a block")
            return
        }
        #expect(dependency.role?.name == "common")
        let own = flatTasks(Array(loaded.tasks.dropFirst()))
        #expect(own.map(\.name) == ["install", "configure"])
        #expect(own.allSatisfy { $0.role === loaded.role && $0.keywords.become == true })
    }

    @Test func runtimeLoadTasks() throws {
        let project = try Project(["t.yml": "- debug: msg=a\n- import_tasks: u.yml\n", "u.yml": "- ping:\n"])
        var keywords = Keywords()
        keywords.when = [Expression("x", at: PGHACore.SourceLocation(file: "f"))]
        let nodes = try project.loader.loadTasks(file: project.path("t.yml"), role: nil, inheriting: keywords)
        let tasks = flatTasks(nodes)
        #expect(tasks.map(\.action) == ["debug", "ping"])
        #expect(tasks.allSatisfy { $0.keywords.when.map(\.text) == ["x"] })
        let resolved = project.loader.resolveTasksFile(
            "u.yml", includedFrom: PGHACore.SourceLocation(file: project.path("t.yml")), role: nil,
            playbookDirectory: project.root)
        #expect(resolved == project.path("u.yml"))
    }

    @Test func engineSeamSignatures() throws {
        var files = Self.pgRole
        files["roles/pg/tasks/listen.yml"] = "- name: l\n  ping:\n  listen: topic\n"
        let project = try Project(files)
        let loader = project.loader
        let location = PGHACore.SourceLocation(file: project.path("roles/other/tasks/main.yml"), line: 2, column: 3)
        let role = try loader.loadRole(name: "pg", tasksFrom: "config", parameters: ["x": 1], inheriting: Keywords(), location: location,
            validateArguments: true)
        #expect(role.role.path == project.path("roles/pg"))
        #expect(flatTasks(role.tasks).map(\.name) == ["common task", "configure"])
        let tasks = try loader.loadTasks(
            file: project.path("roles/pg/tasks/listen.yml"), role: role.role, inheriting: Keywords(), location: location)
        #expect(flatTasks(tasks).first?.listen == ["topic"])
        #expect(PlaybookLoader.inferPlaybookDirectory(from: project.path("roles/pg/tasks/main.yml")) == project.root)
        #expect(PlaybookLoader.inferPlaybookDirectory(from: project.path("site.yml")) == project.root)
    }

    @Test func roleHandlersAreAddressableByRolePrefix() throws {
        var files = Self.pgRole
        files["site.yml"] = """
            - hosts: all
              roles: [pg]
              tasks:
                - ping:
                  notify: "pg : restart pg"
              handlers:
                - name: play handler
                  ping:
            """
        let play = try Project(files).load().plays[0]
        #expect(play.handlers.map(\.name) == ["restart pg", "play handler"])
    }
}

/// Roles that ship Python plugins load with a warning naming them (issue 18).
@Suite struct RolePluginWarningTests {
    @Test func pythonPluginsOfARoleAreNamedWhenItLoads() throws {
        let project = try Project([
            "site.yml": "- hosts: all\n  roles: [proxmox, plain]\n",
            "roles/proxmox/tasks/main.yml": "- debug: msg=hi\n",
            "roles/proxmox/library/proxmox_pool.py": "# a module\n",
            "roles/proxmox/library/__init__.py": "",
            "roles/proxmox/filter_plugins/netaddr.py": "# filters\n",
            "roles/plain/tasks/main.yml": "- debug: msg=hi\n",
        ])
        let playbook = try project.load()
        let messages = playbook.warnings.map(\.message)
        #expect(messages == [
            "role 'proxmox' ships Python plugins pgha-play cannot run: library/proxmox_pool.py (module 'proxmox_pool'), "
                + "filter_plugins/netaddr.py; a task or template that uses one fails when it runs"
        ])
        #expect(playbook.warnings.first?.location?.line == 2)
    }
}
