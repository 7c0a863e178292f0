import OrderedCollections
import PGHACore
import Testing

@testable import Playbook

@Suite struct TaskTests {
    func tasks(_ yaml: String, handlers: String = "") throws -> [Task] {
        let indented = yaml.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        return flatTasks(try loadPlaybook("- hosts: all\n  tasks:\n" + indented + "\n" + handlers).plays[0].tasks)
    }

    func taskError(_ yaml: String) throws -> PGHAError? {
        let indented = yaml.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        return try Project(["site.yml": "- hosts: all\n  tasks:\n" + indented + "\n"]).loadError()
    }

    @Test func shortAndQualifiedModuleNames() throws {
        let list = try tasks("""
            - copy: {src: a, dest: b}
            - ansible.builtin.copy: {src: a, dest: b}
            - community.postgresql.postgresql_query: {query: select 1}
            - ansible.posix.sysctl: {name: vm.swappiness, value: 1}
            """)
        #expect(list.map(\.action) == ["copy", "copy", "postgresql_query", "sysctl"])
        #expect(list.map(\.actionAsWritten) == [
            "copy", "ansible.builtin.copy", "community.postgresql.postgresql_query", "ansible.posix.sysctl",
        ])
        #expect(list[0].displayName == "copy")
        #expect(list[0].args == ["src": "a", "dest": "b"])
    }

    @Test func freeFormCommands() throws {
        let list = try tasks("""
            - command: ls -l /tmp
            - shell: chdir=/tmp creates=/x echo a=b | cat
            - meta: flush_handlers
            - raw: uptime
            """)
        #expect(list[0].args == ["_raw_params": "ls -l /tmp"])
        #expect(list[1].args == ["chdir": "/tmp", "creates": "/x", "_raw_params": "echo a=b | cat"])
        #expect(list[2].args == ["_raw_params": "flush_handlers"])
        #expect(list[3].args == ["_raw_params": "uptime"])
    }

    @Test func keyValueArgumentsWithLocations() throws {
        let list = try tasks("- copy: src=a dest=\"/tmp/b c\" mode=0644")
        #expect(list[0].args == ["src": "a", "dest": "/tmp/b c", "mode": "0644"])
        // `    - copy: src=...` on line 3: the value starts at column 13.
        #expect(list[0].argLocations["src"]?.column == 13)
        #expect(list[0].argLocations["dest"]?.column == 19)
        #expect(list[0].argLocations["src"]?.line == 3)
    }

    @Test func argsKeywordMerges() throws {
        let list = try tasks("""
            - command: echo hi
              args:
                chdir: /tmp
            - copy: dest=/x
              args: {src: a, dest: /overridden}
            """)
        #expect(list[0].args == ["chdir": "/tmp", "_raw_params": "echo hi"])
        #expect(list[1].args["dest"] == "/x")
        #expect(list[1].args["src"] == "a")
        #expect(list[0].argLocations["chdir"]?.line == 5)
    }

    @Test func actionAndLocalAction() throws {
        let list = try tasks("""
            - action: copy src=a dest=b
            - local_action: command echo hi
            - action:
                module: file
                path: /tmp/x
                state: directory
            """)
        #expect(list[0].action == "copy")
        #expect(list[0].args == ["src": "a", "dest": "b"])
        #expect(list[1].action == "command")
        #expect(list[1].args == ["_raw_params": "echo hi"])
        #expect(list[1].keywords.delegateTo == "localhost")
        #expect(list[2].action == "file")
        #expect(list[2].args == ["path": "/tmp/x", "state": "directory"])
    }

    @Test func templatedArgumentsBecomeVariableParams() throws {
        let list = try tasks("- copy: \"{{ copy_args }}\"")
        #expect(list[0].args == ["_variable_params": "{{ copy_args }}"])
    }

    @Test func extraParamsOnAKeyValueModuleFail() throws {
        let error = try #require(try taskError("- debug: hello"))
        #expect(error.message == "'debug' does not support free-form text ('hello'): give key=value arguments or a mapping")
        #expect(error.location?.line == 3)
    }

    @Test func allTaskKeywords() throws {
        let list = try tasks("""
            - name: Everything
              shell: echo {{ item }}
              when: [a, "b == 1", true]
              loop: [1, 2]
              loop_control: {loop_var: n, index_var: i, label: "{{ n }}", pause: 1, extended: true}
              register: out
              notify: [h1, h2]
              changed_when: false
              failed_when: "out.rc > 1"
              until: out is success
              retries: 5
              delay: 2
              become: true
              become_user: postgres
              become_method: sudo
              delegate_to: db1
              run_once: true
              no_log: true
              check_mode: false
              diff: false
              vars: {v: 1}
              environment: {E: x}
              tags: a, b
              ignore_errors: yes
              ignore_unreachable: no
              any_errors_fatal: true
              throttle: 2
              timeout: 30
              async: 60
              poll: 0
            """, handlers: "  handlers:\n    - {name: h1, debug: msg=1}\n    - {name: h2, debug: msg=2}\n")
        let task = list[0]
        #expect(task.name == "Everything")
        #expect(task.keywords.when.map(\.text) == ["a", "b == 1", "True"])
        #expect(task.keywords.when[1].location.line == 5)
        #expect(task.loop?.kind == .loop)
        #expect(task.loop?.items == [1, 2])
        #expect(task.loop?.loopVar == "n")
        #expect(task.loop?.indexVar == "i")
        #expect(task.loop?.label == "{{ n }}")
        #expect(task.loop?.pause == 1)
        #expect(task.loop?.extended == true)
        #expect(task.register == "out")
        #expect(task.notify == ["h1", "h2"])
        #expect(task.notifyLocations.map(\.line) == [9, 9])
        #expect(task.changedWhen?.map(\.text) == ["False"])
        #expect(task.failedWhen?.map(\.text) == ["out.rc > 1"])
        #expect(task.until?.text == "out is success")
        #expect(task.retries == 5)
        #expect(task.delay == 2)
        #expect(task.keywords.become == true)
        #expect(task.keywords.becomeUser == "postgres")
        #expect(task.keywords.becomeMethod == "sudo")
        #expect(task.keywords.delegateTo == "db1")
        #expect(task.keywords.runOnce == true)
        #expect(task.keywords.noLog == true)
        #expect(task.keywords.checkMode == false)
        #expect(task.keywords.diff == false)
        #expect(task.keywords.vars == ["v": 1])
        #expect(task.keywords.environment == [["E": "x"]])
        #expect(task.keywords.tags == ["a", "b"])
        #expect(task.keywords.ignoreErrors == true)
        #expect(task.keywords.ignoreUnreachable == false)
        #expect(task.keywords.anyErrorsFatal == true)
        #expect(task.keywords.extra["throttle"] == 2)
        #expect(task.keywords.extra["timeout"] == 30)
        #expect(task.extra == ["async": 60, "poll": 0])
    }

    @Test func withLoops() throws {
        let list = try tasks("""
            - debug: var=item
              with_items: [1, [2, 3]]
            - debug: var=item
              with_dict: {a: 1}
            - debug: var=item
              with_sequence: start=1 end=3
            """)
        #expect(list.map { $0.loop?.kind } == [.items, .dict, .sequence])
        #expect(list[1].loop?.items == ["a": 1])
    }

    @Test func unsupportedLoopLookup() throws {
        let error = try #require(try taskError("- debug: var=item\n  with_itemz: [1]"))
        #expect(error.message == "unsupported loop 'with_itemz' (did you mean 'with_items'?)")
        #expect(error.location?.line == 4)
    }

    /// `with_<name>` for any lookup Ansible has is that lookup, run when the task runs (a plugin
    /// pgha-play lacks fails then: EngineTests' UnavailableActionTests).
    @Test func otherLoopsAreLookups() throws {
        let list = try tasks(
            "- debug: var=item\n  with_first_found: [a.yml]\n- debug: var=item\n  with_random_choice: [1]\n"
                + "- debug: var=item\n  with_community.general.filetree: x")
        #expect(list.map { $0.loop?.kind } == [.lookup, .lookup, .lookup])
        #expect(list.map { $0.loop?.lookupName } == ["first_found", "random_choice", "community.general.filetree"])
    }

    @Test func conditionShapes() throws {
        let list = try tasks("""
            - ping:
              when: false
            - ping:
              failed_when: [a, b]
              changed_when: "x"
            - ping:
              until: [a, b]
            """)
        #expect(list[0].keywords.when.map(\.text) == ["False"])
        #expect(list[1].failedWhen?.map(\.text) == ["a", "b"])
        #expect(list[1].changedWhen?.map(\.text) == ["x"])
        #expect(list[2].until?.text == "(a) and (b)")
    }

    @Test func twoModulesConflict() throws {
        let error = try #require(try taskError("- copy: {dest: /x}\n  file: {path: /y}"))
        #expect(error.message == "conflicting action statements: copy, file")
        #expect(error.location?.line == 4)
        #expect(error.location?.column == 7)
    }

    @Test func noModuleNamesTheKeys() throws {
        let error = try #require(try taskError("- name: nothing\n  when: x"))
        #expect(error.message == "no module/action detected in task (keys: name, when)")
        #expect(error.location?.line == 3)
    }

    @Test func unknownKeyword() throws {
        let error = try #require(try taskError("- name: x\n  ping:\n  foo: 1"))
        #expect(error.message == "unknown module or keyword 'foo'")
        #expect(error.location?.line == 5)
        let typo = try #require(try taskError("- ping:\n  regsiter: out"))
        #expect(typo.message == "unknown module or keyword 'regsiter' (did you mean 'register'?)")
    }

    @Test func misindentedArgumentsGetAHint() throws {
        let error = try #require(try taskError("- copy:\n  dest: /x\n  src: a"))
        #expect(error.message.hasPrefix("unknown module or keyword 'dest'"))
        #expect(error.hint == "module arguments must be indented under 'copy:'")
    }

    @Test func registerMustBeAName() throws {
        let error = try #require(try taskError("- ping:\n  register: my-var"))
        #expect(error.message == "invalid variable name in 'register': 'my-var'")
    }

    @Test func listenOnlyOnHandlers() throws {
        let error = try #require(try taskError("- ping:\n  listen: x"))
        #expect(error.message == "'listen' is only valid on handlers")
    }

    @Test func catalogValidatesArguments() throws {
        let error = try #require(try taskError("- copy:\n    src: a\n    dset: /x"))
        #expect(error.message == "module 'copy': unsupported argument 'dset'")
        #expect(error.hint?.hasPrefix("did you mean 'dest'?") == true)
        #expect(error.location?.line == 5)
        let kv = try #require(try taskError("- file: path=/x state=dir"))
        #expect(
            kv.message
                == "module 'file': argument 'state': value must be one of: absent, directory, file, hard, link, touch, got: dir")
        #expect(kv.location?.column == 21)
        // Templated values are the module's business at run time.
        _ = try tasks("- file: path=/x state={{ wanted }}")
    }

    @Test func metaActionsAreChecked() throws {
        let error = try #require(try taskError("- meta: flush_handler"))
        #expect(error.message == "invalid meta action 'flush_handler' (did you mean 'flush_handlers'?)")
    }

    @Test func blocksInheritAndPrependWhen() throws {
        let playbook = try loadPlaybook("""
            - hosts: all
              become: true
              tasks:
                - name: outer
                  when: outer_cond
                  tags: [b]
                  vars: {x: 1, y: 1}
                  block:
                    - name: inner
                      block:
                        - name: leaf
                          debug: msg=x
                          when: leaf_cond
                          vars: {y: 2}
                      when: inner_cond
                      become: false
                  rescue:
                    - debug: msg=rescue
                  always:
                    - debug: msg=always
            """)
        guard case .block(let outer) = playbook.plays[0].tasks[0] else {
            Issue.record("expected a block")
            return
        }
        #expect(outer.name == "outer")
        #expect(outer.keywords.when.map(\.text) == ["outer_cond"])
        #expect(outer.rescue.count == 1)
        #expect(outer.always.count == 1)
        let leaf = flatTasks(outer.block)[0]
        #expect(leaf.keywords.when.map(\.text) == ["outer_cond", "inner_cond", "leaf_cond"])
        #expect(leaf.keywords.become == false)
        #expect(leaf.keywords.tags == ["b"])
        #expect(leaf.keywords.vars == ["x": 1, "y": 2])
        let rescue = flatTasks(outer.rescue)[0]
        #expect(rescue.keywords.become == true)
        #expect(rescue.keywords.when.map(\.text) == ["outer_cond"])
    }

    @Test func blockNotifyReachesTasksWithoutTheirOwn() throws {
        let tasks = flatTasks(try loadPlaybook("""
            - hosts: all
              tasks:
                - block:
                    - ping:
                    - ping:
                      notify: own
                  notify: [from_block]
              handlers:
                - {name: from_block, ping: }
                - {name: own, ping: }
            """).plays[0].tasks)
        #expect(tasks.map(\.notify) == [["from_block"], ["own"]])
        #expect(tasks[0].notifyLocations.first?.line == 7)
    }

    @Test func loopOnBlockIsRejected() throws {
        let error = try #require(try taskError("- block:\n    - ping:\n  loop: [1]"))
        #expect(error.message == "'loop' is not a valid attribute for a block")
        #expect(error.hint?.contains("move 'loop'") == true)
    }

    @Test func tagsForms() throws {
        let list = try tasks("""
            - ping:
              tags: one
            - ping:
              tags: "a, b,c"
            - ping:
              tags: [x, 42]
            """)
        #expect(list.map(\.keywords.tags) == [["one"], ["a", "b", "c"], ["x", "42"]])
    }

    @Test func notifyStringOrList() throws {
        let playbook = try loadPlaybook("""
            - hosts: all
              tasks:
                - ping:
                  notify: restart
              handlers:
                - name: restart
                  debug: msg=r
                  listen: [bounce]
            """)
        #expect(flatTasks(playbook.plays[0].tasks)[0].notify == ["restart"])
        #expect(playbook.plays[0].handlers[0].listen == ["bounce"])
    }

    @Test func nullTaskListIsEmpty() throws {
        let playbook = try loadPlaybook("- hosts: all\n  tasks:\n  handlers:\n")
        #expect(playbook.plays[0].tasks.isEmpty)
        #expect(playbook.plays[0].handlers.isEmpty)
    }
}
