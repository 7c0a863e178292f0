import Foundation
import PGHACore
import Testing

@testable import Playbook

/// Broken inputs: each must give a located error (never a crash or a hang).
@Suite struct MalformedTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var yaml: String
        var message: String
        /// Expected line; 0 means the error names only the file.
        var line: Int
        var testDescription: String { message }
    }

    static let cases: [Case] = [
        Case(yaml: "", message: "the playbook is empty", line: 1),
        Case(yaml: "# only a comment\n", message: "the playbook is empty", line: 1),
        Case(yaml: "[]", message: "the playbook is empty", line: 1),
        Case(yaml: "hosts: all\ntasks: []\n", message: "a playbook must be a list of plays, got a mapping", line: 1),
        Case(yaml: "just a string", message: "a playbook must be a list of plays, got a string", line: 1),
        Case(yaml: "42", message: "a playbook must be a list of plays, got an integer", line: 1),
        Case(yaml: "- just a string", message: "playbook entries must be plays or 'import_playbook' statements, got a string", line: 1),
        Case(yaml: "- [a, b]", message: "playbook entries must be plays or 'import_playbook' statements, got a list", line: 1),
        Case(yaml: "-\n", message: "playbook entries must be plays or 'import_playbook' statements, got null", line: 1),
        Case(yaml: "- hosts: all\n  tasks: {ping: }\n", message: "'tasks' must be a list of tasks, got a mapping", line: 2),
        Case(yaml: "- hosts: all\n  tasks: ping\n", message: "'tasks' must be a list of tasks, got a string", line: 2),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping\n", message: "a task must be a mapping, got a string 'ping'", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - 12\n", message: "a task must be a mapping, got an integer", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    -\n", message: "a task must be a mapping, got null", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - [ping]\n", message: "a task must be a mapping, got a list", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - {}\n", message: "empty task", line: 3),
        Case(yaml: "- hosts: all\n  handlers: 3\n", message: "'handlers' must be a list of tasks, got an integer", line: 2),
        Case(yaml: "- hosts: all\n  pre_tasks: yes\n", message: "'pre_tasks' must be a list of tasks, got a boolean", line: 2),
        Case(yaml: "- hosts: all\n  roles: web\n", message: "'roles' must be a list of roles, got a string", line: 2),
        Case(yaml: "- hosts: all\n  roles:\n    - [a]\n", message: "'roles' entries must be role names or mappings, got a list", line: 3),
        Case(yaml: "- hosts: all\n  roles:\n    - {tags: x}\n", message: "a role entry needs 'role:'", line: 3),
        Case(yaml: "- hosts: all\n  roles:\n    - \"{{ r }}\"\n", message: "role names cannot be templated", line: 3),
        Case(yaml: "- hosts:\n", message: "'hosts' must be a host pattern, got null", line: 1),
        Case(yaml: "- hosts: ''\n", message: "'hosts' is empty", line: 1),
        Case(yaml: "- hosts: {a: 1}\n", message: "'hosts' must be a host pattern, got a mapping", line: 1),
        Case(yaml: "- hosts: []\n", message: "'hosts' is an empty list", line: 1),
        Case(yaml: "- hosts: all\n  vars: [1]\n", message: "'vars' list entries must be mappings, got an integer", line: 2),
        Case(yaml: "- hosts: all\n  vars: 7\n", message: "'vars' must be a mapping or a list of mappings, got an integer", line: 2),
        Case(yaml: "- hosts: all\n  vars:\n    bad-name: 1\n", message: "'bad-name' is not a valid variable name", line: 3),
        Case(yaml: "- hosts: all\n  vars:\n    class: 1\n", message: "'class' is not a valid variable name", line: 3),
        Case(yaml: "- hosts: all\n  become: maybe\n", message: "'become' must be a boolean, got 'maybe'", line: 2),
        Case(yaml: "- hosts: all\n  gather_facts: [x]\n", message: "'gather_facts' must be a boolean, got a list", line: 2),
        Case(yaml: "- hosts: all\n  max_fail_percentage: 150\n", message: "'max_fail_percentage' must be a number from 0 to 100", line: 2),
        Case(yaml: "- hosts: all\n  serial: -1\n", message: "'serial' must be a non-negative number", line: 2),
        Case(yaml: "- hosts: all\n  serial: []\n", message: "'serial' is an empty list", line: 2),
        Case(yaml: "- hosts: all\n  order: random\n", message: "invalid order 'random'", line: 2),
        Case(yaml: "- hosts: all\n  port: ssh\n", message: "'port' must be an integer, got 'ssh'", line: 2),
        Case(yaml: "- hosts: all\n  environment: 3\n", message: "'environment' must be a mapping of variable names to values", line: 2),
        Case(yaml: "- hosts: all\n  tags: {a: 1}\n", message: "'tags' must be a string or a list, got a mapping", line: 2),
        Case(yaml: "- hosts: all\n  tags: [[a]]\n", message: "'tags' entries must be strings, got a list", line: 2),
        Case(yaml: "- hosts: all\n  force_handlers: \"{{ x }}\"\n", message: "force_handlers must be true or false", line: 2),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      when: {a: b}\n", message: "'when' conditions must be expressions, got a mapping", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      when: a: b\n", message: "YAML:", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      notify: {a: b}\n", message: "'notify' must be a handler name or a list of them", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      notify: [~]\n", message: "'notify' entries must be handler names, got null", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      register: [a]\n", message: "'register' must be a variable name, got a list", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      loop: {a: 1}\n", message: "'loop' must be a list or a template", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      loop: [1]\n      with_items: [2]\n", message: "only one loop per task: loop, with_items", line: 5),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      loop: [1]\n      loop_control: {loop_var: 1x}\n", message: "'loop_var' must be a variable name", line: 5),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      loop: [1]\n      loop_control: {lable: x}\n", message: "'lable' is not a valid loop_control option (did you mean 'label'?)", line: 5),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      loop: [1]\n      loop_control: [x]\n", message: "'loop_control' must be a mapping", line: 5),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      retries: many\n", message: "'retries' must be an integer, got 'many'", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - copy: [a, b]\n", message: "unexpected parameter type for 'copy': a list", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - copy: 5\n", message: "unexpected parameter type for 'copy': an integer", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - copy: src='a dest=b\n", message: "failed at splitting arguments", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - debug: msg={{ x\n", message: "failed at splitting arguments", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - action: {src: a}\n", message: "'action' mapping needs a 'module' key", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - action: [copy]\n", message: "'action' must be a string or a mapping, got a list", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - action: nosuchmodule a=b\n", message: "unknown module 'nosuchmodule'", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - local_action: ping\n      action: ping\n", message: "action and local_action are mutually exclusive", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - copy: {dest: x, _ansible_check_mode: true}\n", message: "the prefix '_ansible_' is reserved", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - shell: 42\n", message: "unexpected parameter type for 'shell': an integer", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - args: {a: 1}\n      copy: dest=x\n      when: [[1]]\n", message: "'when' conditions must be expressions, got a list", line: 5),
        Case(yaml: "- hosts: all\n  tasks:\n    - copy: dest=x\n      args: [1]\n", message: "'args' must be a mapping, got a list", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - rescue: []\n", message: "'rescue' without 'block' in the same task", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - block: {ping: }\n", message: "'block' must be a list of tasks, got a mapping", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - block: []\n      register: x\n", message: "'register' is not a valid attribute for a block", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - block: [{ping: }]\n      notify: x\n", message: "notify: no handler named 'x'", line: 4),
        Case(yaml: "- hosts: all\n  handlers:\n    - block: [{name: h, ping: }]\n      rescue: []\n", message: "'rescue' is not supported in handlers", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - include_tasks: {}\n", message: "include_tasks needs a file name", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - include_tasks: {file: x.yml, bogus: 1}\n", message: "'bogus' is not a valid option for include_tasks", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - include_tasks: {file: 3}\n", message: "include_tasks needs a file name, got int", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - include_tasks: {file: x.yml, apply: 3}\n", message: "'apply' must be a mapping of keywords", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - include_role: {}\n", message: "include_role needs 'name:'", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - include_role: web\n", message: "'_raw_params' is not a valid option for include_role", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - import_role: {name: \"{{ r }}\"}\n", message: "import_role names cannot be templated", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - meta:\n", message: "meta needs an action", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - meta: stop\n", message: "invalid meta action 'stop'", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - include: other.yml\n", message: "unknown module or keyword 'include'", line: 3),
        Case(yaml: "- include: other.yml\n", message: "'include' was removed from Ansible", line: 1),
        Case(yaml: "- import_playbook: \"{{ x }}.yml\"\n", message: "import_playbook file names cannot be templated", line: 1),
        Case(yaml: "- import_playbook: [a]\n", message: "import_playbook needs a file name, got a list", line: 1),
        Case(yaml: "- import_playbook: a.yml\n  hosts: all\n", message: "'hosts' is not a valid attribute for import_playbook", line: 2),
        Case(yaml: "- hosts: all\n  tasks:\n  - ping:\n   - ping:\n", message: "YAML:", line: 4),
        Case(yaml: "- hosts: all\n\ttasks: []\n", message: "YAML:", line: 2),
        Case(yaml: "- hosts: 'all\n", message: "YAML:", line: 2),
        Case(yaml: "- hosts: all\n---\n- hosts: all\n", message: "expected a single YAML document but found 2", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      changed_when: {x: 1}\n", message: "'changed_when' conditions must be expressions, got a mapping", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      delegate_to: [a]\n", message: "'delegate_to' must be a string, got a list", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - name: [x]\n      ping:\n", message: "'name' must be a string, got a list", line: 3),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      vars: [a]\n", message: "'vars' must be a mapping, got a list", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      environment: [1]\n", message: "'environment' entries must be mappings", line: 4),
        Case(yaml: "- hosts: all\n  tasks:\n    - ping:\n      loop_control: {pause: x}\n      loop: [1]\n", message: "'pause' must be a number of seconds", line: 4),
        Case(yaml: "- hosts: all\n  vars_files: {a: 1}\n", message: "'vars_files' must be a list of file names, got a mapping", line: 2),
        Case(yaml: "- hosts: all\n  vars_files: [[]]\n", message: "empty list in 'vars_files'", line: 2),
        Case(yaml: "- hosts: all\n  vars_files: [3]\n", message: "'vars_files' entries must be file names, got an integer", line: 2),
        Case(yaml: "- hosts: all\n  module_defaults: 3\n", message: "'module_defaults' must be a mapping", line: 2),
    ]

    @Test(arguments: cases)
    func malformedInputGivesALocatedError(_ testCase: Case) throws {
        let project = try Project(["site.yml": testCase.yaml])
        let error = try #require(project.loadError())
        #expect(error.message.contains(testCase.message), "got: \(error.message)")
        #expect(error.location?.file == project.path("site.yml"))
        #expect(error.location?.line == testCase.line, "got: \(error)")
        #expect(error.kind == (testCase.message.hasPrefix("YAML") || testCase.message.hasPrefix("expected a single") ? .syntax : .semantic))
    }

    @Test func thereAreAtLeastFiftyCases() {
        #expect(Self.cases.count >= 50)
    }

    @Test func deeplyNestedBlocksAreAnErrorNotACrash() throws {
        var yaml = "- hosts: all\n  tasks:\n"
        var indent = "    "
        for _ in 0..<80 {
            yaml += indent + "- block:\n"
            indent += "    "
        }
        yaml += indent + "- ping:\n"
        let error = try #require(try Project(["site.yml": yaml]).loadError())
        #expect(error.message.contains("nested more than"))
    }

    @Test func deeplyNestedYAMLIsAnErrorNotACrash() throws {
        let yaml = "- hosts: all\n  vars:\n    x: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        let error = try #require(try Project(["site.yml": yaml]).loadError())
        #expect(error.kind == .syntax)
    }

    @Test func binaryGarbageIsAnError() throws {
        let project = try Project([:])
        try Data([0xff, 0xfe, 0x00, 0x41, 0x80]).write(to: URL(fileURLWithPath: project.path("site.yml")))
        let error = try #require(project.loadError())
        #expect(error.location?.file == project.path("site.yml"))
    }

    @Test func missingPlaybook() throws {
        let project = try Project([:])
        let error = try #require(project.loadError("nope.yml"))
        #expect(error.kind == .io)
    }

    @Test func malformedRoleFiles() throws {
        let cases: [(String, String, String, Int)] = [
            ("roles/r/tasks/main.yml", "ping: {}\n", "a task file must be a list of tasks, got a mapping", 1),
            ("roles/r/defaults/main.yml", "- a\n", "a variables file must be a mapping, got a list", 1),
            ("roles/r/vars/main.yml", "just text\n", "a variables file must be a mapping, got a string", 1),
            ("roles/r/meta/main.yml", "dependencies: web\n", "'dependencies' must be a list of roles", 1),
            ("roles/r/meta/main.yml", "- x\n", "role meta must be a mapping", 1),
            ("roles/r/meta/main.yml", "dependencies: [missing]\n", "role 'missing' not found", 1),
            ("roles/r/handlers/main.yml", "- name: h\n  ping:\n  bogus: 1\n", "unknown module or keyword 'bogus'", 3),
        ]
        for (file, text, message, line) in cases {
            let project = try Project(["site.yml": "- hosts: all\n  roles: [r]\n", file: text])
            try FileManager.default.createDirectory(atPath: project.path("roles/r"), withIntermediateDirectories: true)
            let error = try #require(project.loadError())
            #expect(error.message.contains(message), "\(file): got \(error.message)")
            #expect(error.location?.file == project.path(file))
            #expect(error.location?.line == line)
        }
    }
}

@Suite struct ValidateTests {
    @Test func validateReportsEveryProblem() throws {
        let project = try Project([
            "site.yml": """
                - hosts: all
                  roles: [missing_role, good]
                  tasks:
                    - bogus: 1
                    - ping:
                      notify: nobody
                    - include_tasks: nope.yml
                - hosts: all
                  strategy: weird
                - hosts: all
                  tasks:
                    - meta: flush
                """,
            "roles/good/tasks/main.yml": "- ping:\n- debug: msg\n",
        ])
        let errors = project.loader.validate(playbookPath: project.path("site.yml"))
        #expect(errors.map(\.location?.line) == [2, 2, 4, 7, 6, 9, 12])
        #expect(errors[1].location?.file == project.path("roles/good/tasks/main.yml"))
        #expect(errors[0].message == "role 'missing_role' not found")
        #expect(errors[4].message.hasPrefix("notify: no handler named 'nobody'"))
        // `load` stops at the first of them.
        #expect(project.loadError()?.message == errors[0].message)
    }

    @Test func validateOfAValidPlaybookIsEmpty() throws {
        let project = try Project(["site.yml": "- hosts: all\n  tasks: [{ping: }]\n"])
        #expect(project.loader.validate(playbookPath: project.path("site.yml")).isEmpty)
    }
}
