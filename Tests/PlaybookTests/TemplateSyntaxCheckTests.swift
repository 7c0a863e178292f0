import Engine
import Foundation
import PGHACore
import Testing

@testable import Playbook

/// Every template in the content is parsed when it loads (issue 17): a syntax error anywhere is
/// reported with its file, line, column and text before anything runs, whether or not the task
/// holding it would run.
@Suite struct TemplateSyntaxCheckTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var files: [String: String]
        /// The file, line and column the error must name.
        var file: String
        var line: Int
        var column: Int
        var text: String
        var testDescription: String { "\(file):\(line) \(text)" }
    }

    static let play = "- hosts: all\n  tasks:\n"

    static let cases: [Case] = [
        Case(files: ["site.yml": play + "    - debug: msg=hi\n      when: x ==\n"], file: "site.yml", line: 4, column: 13, text: "x =="),
        Case(files: ["site.yml": play + "    - command: 'true'\n      changed_when: rc !=\n"], file: "site.yml", line: 4, column: 21, text: "rc !="),
        Case(files: ["site.yml": play + "    - command: 'true'\n      failed_when: [rc == 0, 'rc >']\n"], file: "site.yml", line: 4, column: 30, text: "rc >"),
        Case(files: ["site.yml": play + "    - command: 'true'\n      register: r\n      until: r.rc ==\n      retries: 2\n"], file: "site.yml", line: 5, column: 14, text: "r.rc =="),
        Case(files: ["site.yml": play + "    - debug: msg={{ item }}\n      loop: [1]\n      loop_control:\n        break_when: [item >]\n"], file: "site.yml", line: 6, column: 22, text: "item >"),
        Case(files: ["site.yml": play + "    - assert:\n        that:\n          - x is defined\n          - x ==\n"], file: "site.yml", line: 6, column: 13, text: "x =="),
        Case(files: ["site.yml": play + "    - debug:\n        msg: \"value {{ x \"\n"], file: "site.yml", line: 4, column: 14, text: "value {{ x "),
        Case(files: ["site.yml": play + "    - shell: echo {% if x %}yes\n"], file: "site.yml", line: 3, column: 14, text: "echo {% if x %}yes"),
        Case(files: ["site.yml": play + "    - name: \"{{ 1 + }}\"\n      debug: msg=x\n"], file: "site.yml", line: 3, column: 13, text: "{{ 1 + }}"),
        Case(files: ["site.yml": play + "    - debug: msg=x\n      loop: \"{{ [1, 2 }}\"\n"], file: "site.yml", line: 4, column: 13, text: "{{ [1, 2 }}"),
        Case(files: ["site.yml": "- hosts: all\n  vars:\n    a: \"{{ b | }}\"\n  tasks: []\n"], file: "site.yml", line: 3, column: 8, text: "{{ b | }}"),
        Case(files: ["site.yml": "- hosts: \"{{ target \"\n  tasks: []\n"], file: "site.yml", line: 1, column: 10, text: "{{ target "),
        Case(files: ["site.yml": play + "    - block:\n        - debug: msg=ok\n      rescue:\n        - debug: msg={{ oops\n"], file: "site.yml", line: 6, column: 18, text: "msg={{ oops"),
        Case(files: ["site.yml": play + "    - debug: msg=ok\n  handlers:\n    - name: h\n      debug: msg=x\n      when: a and\n"], file: "site.yml", line: 7, column: 13, text: "a and"),
        Case(files: ["site.yml": "- hosts: all\n  roles:\n    - role: r\n      when: r_enabled ==\n"], file: "site.yml", line: 4, column: 13, text: "r_enabled =="),
        Case(files: ["site.yml": "- hosts: all\n  roles: [r]\n", "roles/r/tasks/main.yml": "- debug: msg={{ a.b( }}\n"],
             file: "roles/r/tasks/main.yml", line: 1, column: 10, text: "msg={{ a.b( }}"),
        Case(files: ["site.yml": "- hosts: all\n  roles: [r]\n", "roles/r/tasks/main.yml": "- debug: msg=ok\n",
                     "roles/r/defaults/main.yml": "port: \"{{ 5432 + }}\"\n"],
             file: "roles/r/defaults/main.yml", line: 1, column: 7, text: "{{ 5432 + }}"),
        Case(files: ["site.yml": "- hosts: all\n  roles: [r]\n", "roles/r/tasks/main.yml": "- debug: msg=ok\n",
                     "roles/r/vars/main.yml": "x: \"{% for i in y %}\"\n"],
             file: "roles/r/vars/main.yml", line: 1, column: 4, text: "{% for i in y %}"),
        Case(files: ["site.yml": "- hosts: all\n  roles: [r]\n", "roles/r/tasks/main.yml": "- debug: msg=ok\n",
                     "roles/r/handlers/main.yml": "- name: h\n  debug: msg={{ }}\n"],
             file: "roles/r/handlers/main.yml", line: 2, column: 10, text: "msg={{ }}"),
        Case(files: ["site.yml": "- hosts: all\n  roles: [r]\n", "roles/r/tasks/main.yml": "- debug: msg=ok\n",
                     "roles/r/meta/main.yml": "dependencies:\n  - role: d\n    when: d_wanted and\n",
                     "roles/d/tasks/main.yml": "- debug: msg=d\n"],
             file: "roles/r/meta/main.yml", line: 3, column: 11, text: "d_wanted and"),
        // A task file only included (never imported) is checked too, whether or not it runs.
        Case(files: ["site.yml": play + "    - include_tasks: later.yml\n      when: false\n", "later.yml": "- debug: msg={{ x ]] }}\n"],
             file: "later.yml", line: 1, column: 10, text: "msg={{ x ]] }}"),
    ]

    static func loader(_ project: Project) -> PlaybookLoader {
        var loader = project.loader
        loader.templateSyntax = .standard
        return loader
    }

    @Test(arguments: cases)
    func syntaxErrorsAreFoundWhenTheContentLoads(_ testCase: Case) throws {
        let project = try Project(testCase.files)
        let error = try #require(throws: PGHAError.self) { try Self.loader(project).load(playbookPath: project.path("site.yml")) }
        #expect(error.kind == .syntax, "\(error)")
        #expect(error.message.hasPrefix("template syntax error"), "\(error)")
        #expect(error.location?.file == project.path(testCase.file), "\(error)")
        #expect(error.location?.line == testCase.line, "\(error)")
        #expect(error.location?.column == testCase.column, "\(error)")
        #expect(error.hint?.hasSuffix(": " + testCase.text) == true, "\(error.hint ?? "no hint")")
    }

    @Test func validContentLoadsWithTheCheck() throws {
        let project = try Project([
            "site.yml": """
                - hosts: "{{ target | default('all') }}"
                  vars:
                    literal: !unsafe "{{ not a template"
                    filters: "{{ x | some_collection_filter }}"
                    shell_length: "${#array[@]} {# a comment #}"
                  tasks:
                    - debug: msg="{{ x }}"
                      when:
                        - x is defined
                        - "{{ flag }}"
                        - true
                    - assert: {that: ["a == 1", "b in c"]}
                    - debug:
                        var: hostvars[inventory_hostname]
                    - command: echo {% raw %}{{ literally }}{% endraw %}

                """,
        ])
        let playbook = try Self.loader(project).load(playbookPath: project.path("site.yml"))
        #expect(playbook.plays.count == 1)
    }

    @Test func everyBuiltInPlaybookPassesTheCheck() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let loader = PlaybookLoader(
            roleSearchPaths: [root + "/roles"], catalog: ActionRegistry.catalog, strategies: Strategies.names,
            templateSyntax: .standard)
        let playbooks = try FileManager.default.contentsOfDirectory(atPath: root + "/playbooks").filter { $0.hasSuffix(".yml") }
        #expect(!playbooks.isEmpty)
        for name in playbooks {
            #expect(throws: Never.self, "\(name)") { try loader.load(playbookPath: root + "/playbooks/" + name) }
        }
    }
}
