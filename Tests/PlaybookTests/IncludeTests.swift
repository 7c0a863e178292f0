import OrderedCollections
import PGHACore
import Testing

@testable import Playbook

@Suite struct IncludeTests {
    @Test func importTasksIsSplicedWithKeywords() throws {
        let project = try Project([
            "site.yml": """
                - hosts: all
                  tasks:
                    - debug: msg=before
                    - import_tasks: tasks/a.yml
                      when: cond
                      tags: [imp]
                      become: true
                      vars: {v: 1}
                    - debug: msg=after
                """,
            "tasks/a.yml": "- debug: msg=a1\n- import_tasks: b.yml\n",
            "tasks/b.yml": "- debug: msg=b1\n",
        ])
        let tasks = flatTasks(try project.load().plays[0].tasks)
        #expect(tasks.map { $0.args["msg"] } == ["before", "a1", "b1", "after"])
        for task in tasks[1...2] {
            #expect(task.keywords.when.map(\.text) == ["cond"])
            #expect(task.keywords.tags == ["imp"])
            #expect(task.keywords.become == true)
            #expect(task.keywords.vars == ["v": 1])
        }
        #expect(tasks[2].location.file == project.path("tasks/b.yml"))
        #expect(tasks[3].keywords.tags.isEmpty)
    }

    @Test func includeTasksStaysDynamic() throws {
        let project = try Project([
            "site.yml": """
                - hosts: all
                  tasks:
                    - include_tasks: inc.yml
                      tags: [t]
                    - include_tasks:
                        file: "{{ which }}.yml"
                        apply: {tags: [x]}
                """,
            "inc.yml": "- debug: msg=inc\n",
        ])
        let tasks = flatTasks(try project.load().plays[0].tasks)
        #expect(tasks.map(\.action) == ["include_tasks", "include_tasks"])
        #expect(tasks[0].args == ["_raw_params": "inc.yml"])
        #expect(tasks[0].keywords.tags == ["t"])
        #expect(tasks[1].args["apply"] == ["tags": ["x"]])
    }

    @Test func missingIncludeIsReportedAtTheLine() throws {
        let project = try Project(["site.yml": "- hosts: all\n  tasks:\n    - ping:\n    - include_tasks: nope.yml\n"])
        let error = try #require(project.loadError())
        #expect(error.message.hasPrefix("included task file 'nope.yml' not found"))
        #expect(error.location?.line == 4)
        #expect(error.location?.column == 22)
        #expect(error.sourceLine == "    - include_tasks: nope.yml")
        #expect(error.description.contains("\n" + String(repeating: " ", count: 25) + "^"))
    }

    @Test func missingImportIsReportedAtTheLine() throws {
        let project = try Project(["site.yml": "- hosts: all\n  tasks:\n    - import_tasks:\n        file: nope.yml\n"])
        let error = try #require(project.loadError())
        #expect(error.message.hasPrefix("imported task file 'nope.yml' not found"))
        #expect(error.location?.line == 4)
    }

    @Test func syntaxErrorsInsideLiteralIncludesAreFoundAtLoadTime() throws {
        let project = try Project([
            "site.yml": "- hosts: all\n  tasks:\n    - include_tasks: inc.yml\n",
            "inc.yml": "- ping:\n- debug: msg=x\n  whenn: true\n",
        ])
        let error = try #require(project.loadError())
        #expect(error.message.hasPrefix("unknown module or keyword 'whenn'"))
        #expect(error.location?.file == project.path("inc.yml"))
        #expect(error.location?.line == 3)
    }

    /// What an included file needs on other platforms (modules this catalog lacks, arguments of
    /// other package managers, files of other platforms) fails only if it runs, as in Ansible.
    @Test func contentThatMayNotRunIsCheckedWhenItRuns() throws {
        let project = try Project([
            "site.yml": """
                - hosts: all
                  tasks:
                    - include_tasks: setup-RedHat.yml
                      when: ansible_os_family == 'RedHat'
                    - include_tasks: setup-Archlinux.yml
                      when: ansible_os_family == 'Archlinux'
                    - name: other platform's arguments
                      package: {name: tree, enablerepo: epel}
                      when: ansible_os_family == 'RedHat'
                    - community.general.seport: {ports: 1, proto: tcp, setype: x}
                      when: false
                    - block:
                        - ping:
                      rescue:
                        - yum: name=x
                """,
            "setup-RedHat.yml": "- yum: name=epel-release\n- ansible.posix.selinux: {state: permissive}\n",
        ])
        let play = try project.load().plays[0]
        let tasks = play.tasks.compactMap { node -> Task? in if case .task(let t) = node { return t } else { return nil } }
        #expect(tasks.count == 4)
        #expect(tasks[2].args["enablerepo"] == "epel")
        let deferred = try #require(tasks[3].deferredError)
        #expect(deferred.message.hasPrefix("unknown module 'community.general.seport'"))
        #expect(deferred.location?.line == 10)
        guard case .block(let block) = play.tasks[4], case .task(let rescued) = block.rescue[0] else {
            Issue.record("expected a block with a rescue")
            return
        }
        #expect(rescued.deferredError?.message.hasPrefix("unknown module 'yum'") == true)
    }

    @Test func unknownModulesCertainToRunAreStillLoadErrors() throws {
        let project = try Project(["site.yml": "- hosts: all\n  tasks:\n    - yum: name=x\n"])
        let error = try #require(project.loadError())
        #expect(error.message.hasPrefix("unknown module or keyword 'yum'"))
        let arguments = try Project(["site.yml": "- hosts: all\n  tasks:\n    - package: {name: x, enablerepo: epel}\n"])
        #expect(try #require(arguments.loadError()).message.contains("enablerepo"))
    }

    @Test func recursiveIncludeIsAllowed() throws {
        let project = try Project([
            "site.yml": "- hosts: all\n  tasks:\n    - include_tasks: loop.yml\n",
            "loop.yml": "- debug: msg=again\n- include_tasks: loop.yml\n  when: again\n",
        ])
        #expect(try project.load().plays[0].tasks.count == 1)
    }

    @Test func importCycleShowsTheChain() throws {
        let project = try Project([
            "site.yml": "- hosts: all\n  tasks:\n    - import_tasks: a.yml\n",
            "a.yml": "- import_tasks: b.yml\n",
            "b.yml": "- ping:\n- import_tasks: a.yml\n",
        ])
        let error = try #require(project.loadError())
        #expect(error.message == "import_tasks cycle: a.yml -> b.yml -> a.yml")
        #expect(error.location?.file == project.path("b.yml"))
        #expect(error.location?.line == 2)
    }

    @Test func loopOnImportIsRejected() throws {
        let project = try Project([
            "site.yml": "- hosts: all\n  tasks:\n    - import_tasks: a.yml\n      loop: [1]\n",
            "a.yml": "- ping:\n",
        ])
        let error = try #require(project.loadError())
        #expect(error.message == "loops cannot be used on 'import_tasks'; use 'include_tasks' instead")
    }

    @Test func templatedImportIsRejected() throws {
        let project = try Project(["site.yml": "- hosts: all\n  tasks:\n    - import_tasks: \"{{ x }}.yml\"\n"])
        let error = try #require(project.loadError())
        #expect(error.message.contains("cannot be templated"))
        #expect(error.hint?.contains("include_tasks") == true)
    }

    @Test func roleIncludesResolveInsideTheRole() throws {
        let project = try Project([
            "roles/r/tasks/main.yml": "- include_tasks: sub.yml\n- import_tasks: sub.yml\n",
            "roles/r/tasks/sub.yml": "- debug: msg=sub\n",
            "site.yml": "- hosts: all\n  roles: [r]\n",
        ])
        let tasks = flatTasks(try project.load().plays[0].roles)
        #expect(tasks.map(\.action) == ["include_tasks", "debug"])
        #expect(tasks[1].role?.name == "r")
    }

    @Test func literalLocalFilesMustExist() throws {
        let project = try Project([
            "roles/r/tasks/main.yml": """
                - template: src=ok.conf.j2 dest=/etc/ok.conf
                - copy: {src: data.txt, dest: /tmp/data.txt}
                - copy: {src: /on/the/host, dest: /tmp/x, remote_src: true}
                - include_vars: extra.yml
                - template: src={{ which }}.j2 dest=/x
                """,
            "roles/r/templates/ok.conf.j2": "x\n",
            "roles/r/files/data.txt": "x\n",
            "roles/r/vars/extra.yml": "a: 1\n",
            "site.yml": "- hosts: all\n  roles: [r]\n  tasks:\n    - template: src=top.j2 dest=/x\n",
            "templates/top.j2": "x\n",
        ])
        _ = try project.load()
        try project.write("site.yml", "- hosts: all\n  tasks:\n    - template:\n        src: missing.j2\n        dest: /x\n")
        let error = try #require(project.loadError())
        #expect(error.message == "template: local file 'missing.j2' not found")
        #expect(error.location?.line == 4)
        #expect(error.hint?.contains(project.path("templates")) == true)
        try project.write("site.yml", "- hosts: all\n  tasks:\n    - include_vars: nope.yml\n")
        #expect(project.loadError()?.message == "include_vars: local file 'nope.yml' not found")
    }

    @Test func recursiveIncludeRoleIsAllowed() throws {
        let project = try Project([
            "roles/r/tasks/main.yml": "- include_role: {name: r}\n  when: depth | int < 3\n",
            "site.yml": "- hosts: all\n  tasks:\n    - include_role: {name: r}\n    - include_role: {name: r}\n",
        ])
        #expect(try project.load().plays[0].tasks.count == 2)
    }

    @Test func notifyOfAnUnknownHandler() throws {
        let project = try Project(["site.yml": """
            - hosts: all
              tasks:
                - ping:
                  notify:
                    - restart postgres
                    - reload pg
              handlers:
                - name: restart postgres
                  ping:
                - name: reload
                  ping:
                  listen: reload postgres
            """])
        let error = try #require(project.loadError())
        #expect(error.message == "notify: no handler named 'reload pg' and no handler listening to it in this play (did you mean 'reload'?)")
        #expect(error.location?.line == 6)
        #expect(error.location?.column == 11)
    }

    @Test func notifyMatchesListenTopicsAndTemplatesAreSkipped() throws {
        _ = try loadPlaybook("""
            - hosts: all
              tasks:
                - ping:
                  notify: [reload postgres, "{{ handler_name }}"]
              handlers:
                - name: reload
                  ping:
                  listen: reload postgres
            """)
    }

    /// A notification in an included file or under a condition is checked when the task changes
    /// (Fixtures/playbooks/57-missing-handler-at-run-time), one certain to run when it is loaded.
    @Test func notifyIsCheckedAtLoadOnlyWhereCertainToRun() throws {
        let lazy = try Project([
            "site.yml": "- hosts: all\n  tasks:\n    - include_tasks: inc.yml\n    - ping:\n      notify: other\n      when: x\n",
            "inc.yml": "- ping:\n  notify: nobody\n",
        ])
        _ = try lazy.load()
        let certain = try Project(["site.yml": "- hosts: all\n  tasks:\n    - ping:\n      notify: nobody\n"])
        let error = try #require(certain.loadError())
        #expect(error.location?.line == 4)
        #expect(error.hint == "this play has no handlers")
    }

    @Test func handlersAreCheckedPerPlay() throws {
        let project = try Project(["site.yml": """
            - hosts: all
              handlers: [{name: h, ping: }]
            - hosts: all
              tasks:
                - ping:
                  notify: h
            """])
        let error = try #require(project.loadError())
        #expect(error.location?.line == 6)
    }

    @Test func handlersMayNotifyHandlers() throws {
        _ = try loadPlaybook("""
            - hosts: all
              handlers:
                - name: a
                  ping:
                  notify: b
                - name: b
                  ping:
            """)
    }
}

@Suite struct HandlerTests {
    @Test func handlerBlocksAreFlattenedWithTheirKeywords() throws {
        let play = try loadPlaybook("""
            - hosts: all
              handlers:
                - block:
                    - name: a
                      ping:
                    - name: b
                      ping:
                  when: cond
                  become: true
            """).plays[0]
        #expect(play.handlers.map(\.name) == ["a", "b"])
        #expect(play.handlers.allSatisfy { $0.keywords.when.map(\.text) == ["cond"] && $0.keywords.become == true })
    }

    @Test func handlersMayIncludeTasksAndTheseMayListen() throws {
        let project = try Project([
            "site.yml": """
                - hosts: all
                  tasks:
                    - ping:
                      notify: restart
                  handlers:
                    - name: restart
                      include_tasks: restart.yml
                """,
            "restart.yml": "- name: really restart\n  ping:\n  listen: other\n",
        ])
        let play = try project.load().plays[0]
        #expect(play.handlers.map(\.action) == ["include_tasks"])
        let loaded = try project.loader.loadTasks(
            file: project.path("restart.yml"), role: nil, inheriting: play.keywords, handlers: true)
        #expect(flatTasks(loaded).first?.listen == ["other"])
    }

    @Test func breakWhenIsParsed() throws {
        let tasks = flatTasks(try loadPlaybook("""
            - hosts: all
              tasks:
                - ping:
                  loop: [1, 2]
                  register: r
                  loop_control:
                    break_when: [r.ping == 'pong']
            """).plays[0].tasks)
        #expect(tasks[0].loop?.breakWhen.map(\.text) == ["r.ping == 'pong'"])
    }
}
