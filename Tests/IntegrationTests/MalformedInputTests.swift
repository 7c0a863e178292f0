import Foundation
import OrderedCollections
import PGHACore
import Testing

/// The built CLI against bad input (issue 17): every syntax error, wherever it is, stops the run
/// before any host is touched, naming file:line:column and the text; oversized, binary and
/// endless input is refused at once; recursion and cycles are named. Runs on the local connection.
@Suite struct MalformedInputTests {
    /// A project in a temporary directory, with a local inventory and a marker the first task creates.
    final class Workspace: TemporaryDirectory {
        var marker: String { root + "/touched" }

        init(_ files: [String: String]) throws {
            try super.init(prefix: "pgha-malformed-")
            try write("inventory.ini", "localhost ansible_connection=local\n")
            for (path, text) in files { try write(path, text) }
        }

        func run(_ arguments: [String] = [], playbook: String = "site.yml") throws -> (output: TestSupport.Output, seconds: Double) {
            let start = Date()
            let output = try TestSupport.run(
                TestSupport.executable, ["-i", root + "/inventory.ini"] + arguments + [root + "/" + playbook], in: root)
            return (output, Date().timeIntervalSince(start))
        }

        /// A play whose first task would touch the controller, then `tasks`.
        func playbook(_ tasks: String, header: String = "") -> String {
            """
            - hosts: localhost
              gather_facts: false
            \(header)  tasks:
                - name: first task changes the host
                  file: {path: \(marker), state: touch}
            \(tasks)
            """
        }
    }

    static func expectRefused(
        _ workspace: Workspace, _ arguments: [String] = [], file: String, line: Int? = nil, column: Int? = nil,
        containing texts: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws {
        let (output, seconds) = try workspace.run(arguments)
        let stderr = output.stderr
        #expect(output.status == 4, "exit \(output.status)\n\(stderr)", sourceLocation: sourceLocation)
        var place = workspace.root + "/" + file
        if let line { place += ":\(line)" }
        if let column { place += ":\(column)" }
        #expect(stderr.contains("ERROR! " + place), "\(stderr)", sourceLocation: sourceLocation)
        for text in texts { #expect(stderr.contains(text), "missing '\(text)' in\n\(stderr)", sourceLocation: sourceLocation) }
        #expect(!FileManager.default.fileExists(atPath: workspace.marker), "a task ran before the error", sourceLocation: sourceLocation)
        #expect(seconds < 20, "took \(seconds) s", sourceLocation: sourceLocation)
    }

    @Test func syntaxErrorInALaterTaskStopsTheRunBeforeTheFirst() throws {
        let workspace = try Workspace([:])
        try workspace.write("site.yml", workspace.playbook("""
                - name: later
                  debug: msg=x
                  when: x ==

            """))
        try Self.expectRefused(workspace, file: "site.yml", line: 8, column: 13, containing: ["template syntax error", "in expression: x =="])
    }

    @Test func unclosedBracesInArgumentsStopTheRun() throws {
        let workspace = try Workspace([:])
        try workspace.write("site.yml", workspace.playbook("""
                - copy:
                    content: "port = {{ port "
                    dest: /tmp/never

            """))
        try Self.expectRefused(workspace, file: "site.yml", line: 7, column: 18, containing: ["in template: port = {{ port "])
    }

    @Test func syntaxErrorInAnInventoryVariable() throws {
        let workspace = try Workspace(["site.yml": ""])
        try workspace.write("site.yml", workspace.playbook(""))
        try workspace.write("inventory.ini", "localhost ansible_connection=local\n[all:vars]\ngreeting='{{ hello'\n")
        try Self.expectRefused(workspace, file: "inventory.ini", line: 3, containing: ["template syntax error", "{{ hello"])
    }

    @Test func syntaxErrorInGroupVars() throws {
        let workspace = try Workspace(["group_vars/all.yml": "a: 1\nb: \"{% if a %}\"\n"])
        try workspace.write("site.yml", workspace.playbook(""))
        try Self.expectRefused(workspace, file: "group_vars/all.yml", line: 2, containing: ["{% if a %}"])
    }

    @Test func syntaxErrorInAVarsFile() throws {
        let workspace = try Workspace(["vars/main.yml": "ok: 1\nbad: \"{{ 1 + }}\"\n"])
        try workspace.write("site.yml", workspace.playbook("", header: "  vars_files: [vars/main.yml]\n"))
        try Self.expectRefused(workspace, file: "vars/main.yml", line: 2, column: 6, containing: ["{{ 1 + }}"])
    }

    @Test func syntaxErrorInATemplateFile() throws {
        let workspace = try Workspace(["templates/app.conf.j2": "# managed\nport = {{ port }}\n{% for h in hosts %}\n{{ h }}\n"])
        try workspace.write("site.yml", workspace.playbook("""
                - template: {src: app.conf.j2, dest: /tmp/never.conf}

            """))
        try Self.expectRefused(
            workspace, file: "templates/app.conf.j2", line: 4,
            containing: ["Jinja was looking for the following tags: 'else' or 'endfor'", "needed by"])
    }

    @Test func aComputedTemplatePathIsCheckedWhenItLoads() throws {
        let workspace = try Workspace(["templates/b.j2": "{{ broken\n"])
        try workspace.write("site.yml", workspace.playbook("""
                - template: {src: "{{ name }}.j2", dest: "\(NSTemporaryDirectory())never.conf"}
                  vars: {name: b}

            """))
        let (output, _) = try workspace.run(["--output", "json"])
        #expect(output.status == 2, "\(output.stderr)")
        // The first task ran (nothing told it not to); the template task failed naming the file.
        #expect(FileManager.default.fileExists(atPath: workspace.marker))
        #expect(output.stdout.contains("templates/b.j2:1"), "\(output.stdout)")
        #expect(output.stdout.contains("template syntax error"), "\(output.stdout)")
    }

    @Test func recursiveVariablesAreAClearError() throws {
        let workspace = try Workspace([:])
        try workspace.write("site.yml", workspace.playbook("""
                - debug: {msg: "{{ a }}"}

            """, header: "  vars: {a: \"{{ b }}\", b: \"{{ a }}\"}\n"))
        let (output, seconds) = try workspace.run(["--output", "json"])
        #expect(output.status == 2, "\(output.stderr)")
        #expect(output.stdout.contains("recursive loop detected in template: variable 'a' refers to itself (via a -> b -> a)"), "\(output.stdout)")
        #expect(seconds < 20)
    }

    @Test func billionLaughsVarsFileIsRefused() throws {
        let workspace = try Workspace(["vars.yml": Self.billionLaughs])
        try workspace.write("site.yml", workspace.playbook("", header: "  vars_files: [vars.yml]\n"))
        try Self.expectRefused(workspace, file: "vars.yml", containing: ["expands to more than", "billion laughs"])
    }

    @Test func billionLaughsPlaybookIsRefused() throws {
        let workspace = try Workspace([:])
        let vars = Self.billionLaughs.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
        try workspace.write(
            "site.yml", "- hosts: localhost\n  vars:\n\(vars)\n  tasks:\n    - file: {path: \(workspace.marker), state: touch}\n")
        try Self.expectRefused(workspace, file: "site.yml", containing: ["expands to more than"])
    }

    @Test func aHundredThousandLevelListIsRefused() throws {
        let workspace = try Workspace(["vars.yml": "x: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n"])
        try workspace.write("site.yml", workspace.playbook("", header: "  vars_files: [vars.yml]\n"))
        try Self.expectRefused(workspace, file: "vars.yml", line: 1, containing: ["nested more than 1000 levels deep"])
    }

    @Test func aHugeVarsFileIsRefusedUnread() throws {
        let workspace = try Workspace([:])
        try workspace.write("site.yml", workspace.playbook("", header: "  vars_files: [big.yml]\n"))
        let path = workspace.root + "/big.yml"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 500_000_000)
        try handle.close()
        try Self.expectRefused(workspace, file: "big.yml", containing: ["YAML file is 476.8 MiB, larger than the 16 MiB limit"])
    }

    @Test func aHugeTemplateIsRefusedUnread() throws {
        let workspace = try Workspace([:])
        try workspace.write("site.yml", workspace.playbook("""
                - template: {src: big.j2, dest: /tmp/never.conf}

            """))
        let path = workspace.root + "/big.j2"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 1 << 30)
        try handle.close()
        try Self.expectRefused(workspace, file: "big.j2", containing: ["template is 1024 MiB, larger than the 16 MiB limit"])
    }

    @Test func binaryVarsFileIsRefusedWithItsName() throws {
        let workspace = try Workspace([:])
        try workspace.write("site.yml", workspace.playbook("", header: "  vars_files: [image.yml]\n"))
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00]).write(to: URL(fileURLWithPath: workspace.root + "/image.yml"))
        try Self.expectRefused(workspace, file: "image.yml", containing: ["YAML file is not UTF-8 text (byte 0x89 at line 1, column 1)"])
    }

    @Test func malformedHostPatternsAreErrors() throws {
        let workspace = try Workspace([:])
        for pattern in ["web[1", "web[]", "web[5:2]", "web]", "~(unclosed"] {
            try workspace.write("site.yml", "- hosts: '\(pattern)'\n  tasks:\n    - file: {path: \(workspace.marker), state: touch}\n")
            try Self.expectRefused(workspace, file: "site.yml", line: 1, containing: ["malformed host pattern '\(pattern)'"])
        }
        try workspace.write("site.yml", workspace.playbook(""))
        let (output, _) = try workspace.run(["--limit", "localhost[0"])
        #expect(output.status == 4)
        #expect(output.stderr.contains("malformed host pattern 'localhost[0': unclosed '['"), "\(output.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace.marker))
    }

    @Test func includeCycleAtRunTimeIsNamed() throws {
        let workspace = try Workspace(["a.yml": "- include_tasks: b.yml\n", "b.yml": "- include_tasks: a.yml\n"])
        try workspace.write("site.yml", workspace.playbook("""
                - include_tasks: a.yml

            """))
        let (output, seconds) = try workspace.run()
        #expect(output.status != 0)
        #expect(output.stderr.contains("includes nested more than 64 levels deep: an include cycle"), "\(output.stderr)")
        #expect(output.stderr.contains("a.yml -> b.yml -> a.yml"), "\(output.stderr)")
        #expect(seconds < 60)
    }

    @Test func taskTimeoutFailsTheTaskAsAnsibleDoes() throws {
        let workspace = try Workspace([:])
        try workspace.write("site.yml", workspace.playbook("""
                - name: slow
                  command: sleep 20
                  timeout: 1
                - name: after
                  debug: msg=after

            """))
        let (output, seconds) = try workspace.run(["--output", "json"])
        #expect(output.status == 2, "\(output.stderr)")
        let events = output.stdout.split(separator: "\n").compactMap { (try? JSON.decode(String($0)))?.dictValue }
        let slow = events.first { $0["event"] == "host_result" && $0["task"] == "slow" }
        #expect(slow?["status"] == "failed", "\(output.stdout)")
        #expect(slow?["result"]?["msg"]?.stringValue?.contains("Timed out after 1 second(s).") == true, "\(output.stdout)")
        #expect(seconds < 15, "the timeout did not stop the task: \(seconds) s")
    }

    @Test func interruptStopsTheRunWithARecapAndStatus99() throws {
        let workspace = try Workspace([:])
        try workspace.write("site.yml", workspace.playbook("""
                - name: long
                  command: sleep 60
                - name: never
                  file: {path: \(workspace.root)/never, state: touch}

            """))
        let run = try BackgroundRun(inventory: workspace.root + "/inventory.ini", playbook: workspace.root + "/site.yml")
        defer { if run.process.isRunning { run.process.terminate() } }
        // Interrupt once the first task has run and the long one is under way.
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: workspace.marker) && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        Thread.sleep(forTimeInterval: 1)
        let interruptedAt = Date()
        run.process.interrupt()
        let (status, events, stderr) = run.finish()
        #expect(status == 99, "exit \(status)\n\(stderr)")
        #expect(Date().timeIntervalSince(interruptedAt) < 15)
        #expect(stderr.contains("User interrupted execution"), "\(stderr)")
        let recap = events.first { $0["event"] == "recap" }?["hosts"]?["localhost"]
        #expect(recap?["changed"] == 1, "\(events)")
        #expect(recap?["failed"] == 0, "\(events)")
        #expect(!FileManager.default.fileExists(atPath: workspace.root + "/never"))
    }

    static let billionLaughs: String = {
        var lines = [#"a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]"#]
        for level in 1...9 {
            lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]")
        }
        return lines.joined(separator: "\n") + "\n"
    }()
}
