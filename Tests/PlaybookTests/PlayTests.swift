import OrderedCollections
import PGHACore
import Testing

@testable import Playbook

@Suite struct PlayTests {
    @Test func minimalPlay() throws {
        let playbook = try loadPlaybook("""
            - hosts: all
              tasks:
                - ping:
            """)
        #expect(playbook.plays.count == 1)
        let play = playbook.plays[0]
        #expect(play.hosts == "all")
        #expect(play.location.line == 1)
        #expect(play.location.column == 3)
        #expect(play.strategy == "linear")
        #expect(play.tasks.count == 1)
        #expect(playbook.path.hasSuffix("/site.yml"))
    }

    @Test func playKeywords() throws {
        let playbook = try loadPlaybook("""
            - name: Deploy
              hosts: [db1, db2]
              gather_facts: no
              gather_subset: "!all,network"
              become: yes
              become_user: postgres
              serial: [1, "30%", "{{ batch }}"]
              strategy: free
              any_errors_fatal: true
              max_fail_percentage: 25
              force_handlers: true
              tags: [deploy, db]
              environment: {PGDATA: /data}
              check_mode: false
              diff: true
              no_log: false
              ignore_errors: "{{ lenient }}"
              ignore_unreachable: true
              order: sorted
              remote_user: admin
              connection: local
              port: 2222
              collections: [community.general]
              module_defaults: {ansible.builtin.file: {mode: "0644"}}
              vars:
                a: 1
              tasks: []
            """)
        let play = playbook.plays[0]
        #expect(play.name == "Deploy")
        #expect(play.hosts == "db1,db2")
        #expect(play.gatherFacts == false)
        #expect(play.gatherSubset == ["!all", "network"])
        #expect(play.keywords.become == true)
        #expect(play.keywords.becomeUser == "postgres")
        #expect(play.serial == [1, "30%", "{{ batch }}"])
        #expect(play.strategy == "free")
        #expect(play.anyErrorsFatal)
        #expect(play.maxFailPercentage == 25)
        #expect(play.forceHandlers)
        #expect(play.keywords.tags == ["deploy", "db"])
        #expect(play.keywords.environment == [["PGDATA": "/data"]])
        #expect(play.keywords.ignoreErrors == "{{ lenient }}")
        #expect(play.order == "sorted")
        #expect(play.remoteUser == "admin")
        #expect(play.connection == "local")
        #expect(play.port == 2222)
        #expect(play.keywords.extra["remote_user"] == "admin")
        #expect(play.moduleDefaults == ["ansible.builtin.file": ["mode": "0644"]])
        #expect(play.vars == ["a": 1])
    }

    @Test func varsAsListOfMappings() throws {
        let playbook = try loadPlaybook("""
            - hosts: all
              vars:
                - a: 1
                - b: 2
                  a: 3
            """)
        #expect(playbook.plays[0].vars == ["a": 3, "b": 2])
    }

    @Test func playKeywordsReachEveryTask() throws {
        let playbook = try loadPlaybook("""
            - hosts: all
              become: true
              tags: [play]
              environment: {A: "1"}
              pre_tasks:
                - debug: msg=pre
              tasks:
                - debug: msg=main
                  tags: own
              post_tasks:
                - debug: msg=post
              handlers:
                - name: h
                  debug: msg=h
            """)
        let play = playbook.plays[0]
        for task in play.allTasks + play.handlers {
            #expect(task.keywords.become == true)
            #expect(task.keywords.tags.first == "play")
            #expect(task.keywords.environment.count == 1)
        }
        #expect(flatTasks(play.tasks)[0].keywords.tags == ["play", "own"])
    }

    @Test func unknownPlayKeywordSuggestsTheClosest() throws {
        let project = try Project(["site.yml": """
            - hosts: all
              gather_fact: false
              tasks: []
            """])
        let error = try #require(project.loadError())
        #expect(error.kind == .semantic)
        #expect(error.message == "'gather_fact' is not a valid attribute for a play (did you mean 'gather_facts'?)")
        #expect(error.location?.line == 2)
        #expect(error.location?.column == 3)
        #expect(error.sourceLine == "  gather_fact: false")
        #expect(error.description.contains("site.yml:2:3: 'gather_fact' is not a valid attribute"))
    }

    @Test func moduleAtPlayLevelHintsAtTasks() throws {
        let project = try Project(["site.yml": "- hosts: all\n  shell: ls\n"])
        let error = try #require(project.loadError())
        #expect(error.hint?.contains("tasks:") == true)
    }

    @Test func missingHosts() throws {
        let error = try #require(try Project(["site.yml": "- name: x\n  tasks: []\n"]).loadError())
        #expect(error.message.contains("'hosts:'"))
        #expect(error.location?.line == 1)
    }

    @Test func unsupportedStrategy() throws {
        let error = try #require(try Project(["site.yml": "- hosts: all\n  strategy: debug\n"]).loadError())
        #expect(error.message == "unsupported strategy 'debug': use 'linear', 'free', 'host_pinned'")
        #expect(error.location?.line == 2)
        #expect(error.location?.column == 13)
    }

    @Test func varsPromptIsRejected() throws {
        let error = try #require(try Project(["site.yml": """
            - hosts: all
              vars_prompt:
                - name: pw
            """]).loadError())
        #expect(error.message.contains("vars_prompt is not supported"))
        #expect(error.hint?.contains("extra-vars") == true)
    }

    @Test func serialValidation() throws {
        #expect(try loadPlaybook("- hosts: all\n  serial: 3\n").plays[0].serial == [3])
        #expect(try loadPlaybook("- hosts: all\n  serial: '50%'\n").plays[0].serial == ["50%"])
        let error = try #require(try Project(["site.yml": "- hosts: all\n  serial: [1, lots]\n"]).loadError())
        #expect(error.message.contains("'serial' must be"))
        #expect(error.location?.column == 15)
    }

    @Test func importPlaybookAppliesWhenVarsAndTags() throws {
        let project = try Project([
            "site.yml": """
                - hosts: all
                  tasks: [{debug: msg=first}]
                - import_playbook: sub/other.yml
                  when: deploy_other
                  tags: other
                  vars: {x: 1}
                """,
            "sub/other.yml": """
                - hosts: db
                  vars: {x: 0, y: 2}
                  tasks:
                    - import_tasks: tasks/t.yml
                """,
            "sub/tasks/t.yml": "- debug: msg=imported\n",
        ])
        let playbook = try project.load()
        #expect(playbook.plays.count == 2)
        let imported = playbook.plays[1]
        #expect(imported.hosts == "db")
        #expect(imported.vars == ["x": 1, "y": 2])
        #expect(imported.keywords.when.map(\.text) == ["deploy_other"])
        let task = try #require(flatTasks(imported.tasks).first)
        #expect(task.keywords.when.map(\.text) == ["deploy_other"])
        #expect(task.keywords.tags == ["other"])
        #expect(task.location.file == project.path("sub/tasks/t.yml"))
        #expect(playbook.plays[0].keywords.when.isEmpty)
    }

    @Test func importPlaybookCycleShowsTheChain() throws {
        let project = try Project([
            "site.yml": "- import_playbook: a.yml\n",
            "a.yml": "- import_playbook: b.yml\n",
            "b.yml": "- hosts: all\n- import_playbook: a.yml\n",
        ])
        let error = try #require(project.loadError())
        #expect(error.message == "import_playbook cycle: a.yml -> b.yml -> a.yml")
        #expect(error.location?.file == project.path("b.yml"))
        #expect(error.location?.line == 2)
    }

    @Test func missingImportedPlaybook() throws {
        let project = try Project(["site.yml": "- import_playbook: nope.yml\n"])
        let error = try #require(project.loadError())
        #expect(error.message.hasPrefix("imported playbook 'nope.yml' not found"))
        #expect(error.location?.line == 1)
        #expect(error.location?.column == 20)
    }

    @Test func varsFilesLiteralMustExist() throws {
        let project = try Project([
            "site.yml": """
                - hosts: all
                  vars_files:
                    - vars/a.yml
                    - "{{ env }}.yml"
                    - [missing.yml, vars/a.yml]
                    - vars/missing.yml
                """,
            "vars/a.yml": "a: 1\n",
        ])
        let error = try #require(project.loadError())
        #expect(error.message.hasPrefix("vars file 'vars/missing.yml' not found"))
        #expect(error.location?.line == 6)
        try project.write("vars/missing.yml", "b: 2\n")
        let playbook = try project.load()
        #expect(playbook.plays[0].varsFiles.count == 4)
        #expect(playbook.plays[0].varsFiles[2] == ["missing.yml", "vars/a.yml"])
    }

    @Test func duplicateKeysAreAnErrorWithALine() throws {
        let error = try #require(try Project(["site.yml": "- hosts: all\n  name: a\n  name: b\n"]).loadError())
        #expect(error.message.contains("duplicated key(s): 'name'"))
        #expect(error.location?.line == 2)
        #expect(error.location?.column == 3)
        #expect(error.sourceLine == "  name: a")
    }

    @Test func templatedConditionsWarn() throws {
        let playbook = try loadPlaybook("- hosts: all\n  tasks:\n    - ping:\n      when: \"{{ x }}\"\n")
        #expect(playbook.warnings.first?.message.contains("should not contain") == true)
    }
}
