import Foundation
import OrderedCollections
import PGHACore
import Testing
import Transport

@testable import Modules

@Suite struct CommandModuleTests {
    @Test(arguments: TestTarget.all)
    func runsWithoutShellAndReportsAnsibleKeys(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let (result, trips) = try await box.run(CommandModule.self, ["_raw_params": "printf '%s\\n' 'a b' '$HOME|x'"])
        #expect(result.changed)
        #expect(!result.failed)
        // No shell: the pipe character is an ordinary argument. Ansible expands $HOME even inside
        // single quotes (os.path.expandvars after shlex), and so do we.
        let home = try await box.sh("printf %s \"$HOME\"")
        #expect(result.values["stdout"] == .string("a b\n\(home)|x"))
        #expect(result.values["stdout_lines"] == ["a b", .string("\(home)|x")])
        #expect(result.values["rc"] == 0)
        #expect(result.values["cmd"] == ["printf", "%s\\n", "a b", "$HOME|x"])
        #expect(result.values["stderr"] == "")
        let start = try #require(result.values["start"]?.stringValue)
        #expect(start.count == "2024-01-01 00:00:00.000000".count)
        #expect(result.values["delta"]?.stringValue?.hasPrefix("0:00:") == true)
        #expect(trips == 1)
        roundTripLog.note("command: 1 (run)")
    }

    @Test(arguments: TestTarget.all)
    func expandsVariablesAndTildeLikeAnsible(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let (result, _) = try await box.run(CommandModule.self, ["argv": ["echo", "$HOME", "~", "a;b"]])
        let home = try await box.sh("printf %s \"$HOME\"")
        #expect(result.values["stdout"] == .string("\(home) \(home) a;b"))
        let (literal, _) = try await box.run(
            CommandModule.self, ["argv": ["echo", "$HOME"], "expand_argument_vars": false])
        #expect(literal.values["stdout"] == "$HOME")
    }

    @Test(arguments: TestTarget.all)
    func nonZeroReturnCodeFails(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let (result, _) = try await box.run(CommandModule.self, ["_raw_params": "ls /nonexistent-pgha"])
        #expect(result.failed)
        #expect(result.msg == "non-zero return code")
        #expect(result.values["rc"] == 2)
        #expect(result.values["stderr"]?.stringValue?.contains("nonexistent-pgha") == true)
        #expect(result.asValue["failed"] == true)
    }

    @Test(arguments: TestTarget.all)
    func createsAndRemovesMakeItIdempotent(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let marker = box.path("made it")
        let args: OrderedDictionary<String, Value> = [
            "argv": ["touch", .string(marker)], "creates": .string(box.dir + "/made*"),
        ]
        let (first, trips1, trips2) = try await box.expectIdempotent(CommandModule.self, args)
        #expect(first.values["rc"] == 0)
        let (second, _) = try await box.run(CommandModule.self, args)
        #expect(second.msg == "Did not run command since '\(box.dir)/made*' exists")
        #expect(second.values["stdout"] == .string("skipped, since \(box.dir)/made* exists"))
        #expect(trips1 == 1 && trips2 == 1)

        let removeArgs: OrderedDictionary<String, Value> = [
            "_raw_params": .string("rm \(shellQuote(marker))"), "removes": .string(marker),
        ]
        _ = try await box.expectIdempotent(CommandModule.self, removeArgs)
        let (again, _) = try await box.run(CommandModule.self, removeArgs)
        #expect(again.msg == "Did not run command since '\(marker)' does not exist")
        roundTripLog.note("command creates/removes: 1 (guards and program in one command)")
    }

    @Test(arguments: TestTarget.all)
    func checkModeSkipsUnlessCreatesDecides(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let touch: OrderedDictionary<String, Value> = ["_raw_params": .string("touch \(box.path("x"))")]
        let before = try await box.snapshot()
        box.checkMode = true
        let (plain, plainTrips) = try await box.run(CommandModule.self, touch)
        #expect(plain.skipped)
        #expect(!plain.changed)
        #expect(plainTrips == 0)
        var guarded = touch
        guarded["creates"] = .string(box.path("x"))
        let (wouldRun, _) = try await box.run(CommandModule.self, guarded)
        #expect(wouldRun.changed && !wouldRun.skipped)
        #expect(wouldRun.msg == "Command would have run if not in check mode")
        box.checkMode = false
        #expect(try await box.snapshot() == before)
        try await box.sh("touch \(shellQuote(box.path("x")))")
        let result = try await box.expectCheckModeChangesNothing(CommandModule.self, guarded, predictsChange: false)
        #expect(result.msg == "Would not run command since '\(box.path("x"))' exists")
    }

    @Test(arguments: TestTarget.all)
    func chdirStdinAndStrip(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let (pwd, _) = try await box.run(CommandModule.self, ["_raw_params": "pwd", "chdir": .string(box.dir)])
        #expect(pwd.values["stdout"] == .string(box.dir))
        let (cat, _) = try await box.run(CommandModule.self, ["_raw_params": "cat", "stdin": "hello"])
        #expect(cat.values["stdout"] == "hello")
        let (raw, _) = try await box.run(
            CommandModule.self,
            ["_raw_params": "od -c", "stdin": "x", "stdin_add_newline": false, "strip_empty_ends": false])
        #expect(raw.values["stdout"]?.stringValue?.hasSuffix("\n") == true)
        #expect(raw.values["stdout"]?.stringValue?.contains("\\n") == false)
        let (bad, _) = try await box.run(
            CommandModule.self, ["_raw_params": "pwd", "chdir": .string(box.path("missing"))])
        #expect(bad.failed)
        #expect(bad.msg?.hasPrefix("Unable to change directory before execution") == true)
    }

    @Test(arguments: TestTarget.all)
    func shellUsesPipesAndExecutable(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let (piped, trips) = try await box.run(ShellModule.self, ["_raw_params": "echo one two | wc -w; echo err >&2"])
        #expect(piped.values["stdout"]?.stringValue?.trimmingCharacters(in: .whitespaces) == "2")
        #expect(piped.values["stderr"] == "err")
        #expect(piped.values["cmd"] == "echo one two | wc -w; echo err >&2")
        #expect(trips == 1)
        let (bash, _) = try await box.run(
            ShellModule.self, ["_raw_params": "echo ${BASH_VERSION:+bash}", "executable": "/bin/bash"])
        #expect(bash.values["stdout"] == "bash")
        let (failed, _) = try await box.run(ShellModule.self, ["_raw_params": "exit 7"])
        #expect(failed.failed && failed.values["rc"] == 7)
        roundTripLog.note("shell: 1 (run)")
    }

    @Test(arguments: TestTarget.all)
    func becomeRunsAsAnotherUser(target: TestTarget) async throws {
        guard requireRoot() else { return }
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let (result, _) = try await box.run(
            CommandModule.self, ["_raw_params": "id -un"], become: Become(user: "nobody"))
        #expect(result.values["stdout"] == "nobody")
    }

    @Test(arguments: TestTarget.all)
    func signalGivesNegativeReturnCode(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let (result, _) = try await box.run(ShellModule.self, ["_raw_params": "kill -KILL $$"])
        #expect(result.failed)
        #expect(result.values["rc"] == -9)
    }
}
