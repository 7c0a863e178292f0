import Foundation
import OrderedCollections
import PGHACore
import Testing

@testable import Modules

@Suite struct ArgumentSpecTests {
    let task = SourceLocation(file: "play.yml", line: 10, column: 5)

    func validate<M: Module>(
        _ module: M.Type, _ args: OrderedDictionary<String, Value>, locations: [String: SourceLocation] = [:],
        templates: Bool = false
    ) throws -> ModuleArguments {
        try M.arguments.validate(
            args, module: M.name, locations: locations, taskLocation: task, allowTemplates: templates)
    }

    func error<M: Module>(
        _ module: M.Type, _ args: OrderedDictionary<String, Value>, locations: [String: SourceLocation] = [:]
    ) -> PGHAError? {
        do {
            _ = try validate(module, args, locations: locations)
            return nil
        } catch let e as PGHAError {
            return e
        } catch {
            return nil
        }
    }

    @Test func unknownArgumentSuggestsTheNearestAndPointsAtIt() throws {
        let at = SourceLocation(file: "play.yml", line: 12, column: 7)
        let e = try #require(
            error(CopyModule.self, ["dest": "/x", "content": "a", "mdoe": "0644"], locations: ["mdoe": at]))
        #expect(e.kind == .semantic)
        #expect(e.location == at)
        #expect(e.message.contains("copy"))
        #expect(e.message.contains("'mdoe'"))
        #expect(e.hint?.contains("did you mean 'mode'") == true)
    }

    @Test func missingRequiredArgumentPointsAtTheTask() throws {
        let e = try #require(error(CopyModule.self, ["content": "a"]))
        #expect(e.message.contains("missing required arguments: dest"))
        #expect(e.location == task)
        let one = try #require(error(CopyModule.self, ["dest": "/x"]))
        #expect(one.message.contains("one of the following is required: src, content"))
    }

    @Test func wrongTypesAreRejectedWithTheArgumentName() throws {
        let at = SourceLocation(file: "play.yml", line: 13, column: 9)
        let e = try #require(
            error(CopyModule.self, ["dest": "/x", "content": "a", "force": "maybe"], locations: ["force": at]))
        #expect(e.message.contains("'force'"))
        #expect(e.message.contains("not a valid boolean"))
        #expect(e.location == at)
        let list = try #require(error(StatModule.self, ["path": ["a", "b"]]))
        #expect(list.message.contains("'path'"))
        let choice = try #require(error(FileModule.self, ["path": "/x", "state": "present"]))
        #expect(choice.message.contains("must be one of: absent, directory, file, hard, link, touch, got: present"))
        let mode = try #require(error(FileModule.self, ["path": "/x", "mode": "u=rw,x"]))
        #expect(mode.message.contains("octal or symbolic"))
    }

    @Test func mutuallyExclusiveArguments() throws {
        let at = SourceLocation(file: "play.yml", line: 14, column: 3)
        let e = try #require(
            error(CopyModule.self, ["dest": "/x", "content": "a", "src": "f"], locations: ["src": at]))
        #expect(e.message.contains("mutually exclusive: src|content"))
        #expect(e.location == at)
        #expect(
            error(CommandModule.self, ["_raw_params": "ls", "argv": ["ls"]])?.message.contains("mutually exclusive")
                == true)
    }

    @Test func ansibleConversions() throws {
        let copy = try validate(
            CopyModule.self, ["dest": 42, "content": "x", "force": "yes", "backup": 1, "mode": "0644"])
        #expect(copy["dest"] == "42")
        #expect(copy["force"] == true)
        #expect(copy["backup"] == true)
        #expect(copy["mode"] == 420)
        // YAML's 0644 is already 420; an int is used as is, as Ansible does.
        #expect(try validate(CopyModule.self, ["dest": "/x", "content": "x", "mode": 420])["mode"] == 420)
        #expect(
            try validate(CopyModule.self, ["dest": "/x", "content": "x", "mode": "u=rw,g=r"])["mode"] == "u=rw,g=r")
        #expect(try validate(CommandModule.self, ["argv": "ls,-l"])["argv"] == ["ls", "-l"])
        #expect(try validate(FileModule.self, ["path": "/x", "recurse": "off"])["recurse"] == false)
        let stat = try validate(StatModule.self, ["path": "/x", "get_checksum": "no"])
        #expect(stat["get_checksum"] == false)
        // Defaults are applied, aliases become canonical names.
        #expect(stat["checksum_algorithm"] == "sha1")
        #expect(stat["follow"] == false)
        let file = try validate(FileModule.self, ["dest": "/x", "state": "directory"])
        #expect(file["path"] == "/x")
        #expect(file.values["dest"] == nil)
        let cmd = try validate(CommandModule.self, ["cmd": "ls"])
        #expect(cmd["_raw_params"] == "ls")
        #expect(cmd["strip_empty_ends"] == true)
    }

    @Test func intConversion() throws {
        let spec = ArgumentSpec([.init("n", .int), .init("f", .float), .init("d", .dict)])
        let v = try spec.validate(
            ["n": "42", "f": "1.5", "d": "a=1 b=2"], module: "m", locations: [:], taskLocation: task,
            allowTemplates: false)
        #expect(v["n"] == 42)
        #expect(v["f"] == 1.5)
        #expect(v["d"] == ["a": "1", "b": "2"])
        #expect(throws: PGHAError.self) {
            try spec.validate(["n": "4x"], module: "m", locations: [:], taskLocation: task, allowTemplates: false)
        }
    }

    @Test func aliasAndCanonicalTogetherIsAnError() throws {
        let e = try #require(error(FileModule.self, ["path": "/x", "dest": "/y"]))
        #expect(e.message.contains("same option"))
    }

    @Test func staticPassSkipsTemplatedValuesButStillChecksNames() throws {
        let v = try validate(CopyModule.self, ["dest": "/x", "content": "a", "force": "{{ f }}"], templates: true)
        #expect(v["force"] == "{{ f }}")
        #expect(throws: PGHAError.self) {
            try validate(CopyModule.self, ["dest": "/x", "content": "a", "forse": "{{ f }}"], templates: true)
        }
        #expect(throws: PGHAError.self) {
            try validate(CopyModule.self, ["dest": "/x", "content": "a", "force": "{{ f }}"], templates: false)
        }
    }

    @Test func ansibleBookkeepingKeysAreIgnored() throws {
        let v = try validate(StatModule.self, ["path": "/x", "_ansible_check_mode": true])
        #expect(v.values["_ansible_check_mode"] == nil)
    }

    @Test func registryFindsShortAndQualifiedNames() {
        #expect(id(ModuleRegistry.module(named: "copy")) == ObjectIdentifier(CopyModule.self))
        #expect(id(ModuleRegistry.module(named: "ansible.builtin.copy")) == ObjectIdentifier(CopyModule.self))
        #expect(id(ModuleRegistry.module(named: "ansible.builtin.file")) == ObjectIdentifier(FileModule.self))
        #expect(id(ModuleRegistry.module(named: "ansible.builtin.shell")) == ObjectIdentifier(ShellModule.self))
        #expect(ModuleRegistry.module(named: "cpoy") == nil)
        #expect(ActionCatalog(ModuleRegistry.all.map { $0.declaration }).suggestion(for: "cpoy") == "copy")
        for module in ModuleRegistry.all {
            #expect(id(ModuleRegistry.module(named: module.name)) == ObjectIdentifier(module))
        }
    }
}

private func id(_ type: (any Module.Type)?) -> ObjectIdentifier? { type.map { ObjectIdentifier($0) } }

@Suite struct SupportTests {
    @Test func symbolicModesFollowAnsible() throws {
        func apply(_ s: String, _ start: UInt32, dir: Bool = false, umask: UInt32 = 0o022) throws -> UInt32 {
            try FileMode.applySymbolic(s, to: start, isDirectory: dir, umask: umask)
        }
        #expect(try apply("u=rw,g=r,o=r", 0o777) == 0o644)
        #expect(try apply("u+x", 0o644) == 0o744)
        #expect(try apply("a-w", 0o664) == 0o444)
        #expect(try apply("go=", 0o755) == 0o700)
        #expect(try apply("g=u", 0o750) == 0o770)
        #expect(try apply("a+X", 0o644) == 0o644)
        #expect(try apply("a+X", 0o644, dir: true) == 0o755)
        #expect(try apply("a+X", 0o744) == 0o755)
        #expect(try apply("+w", 0o444, umask: 0o022) == 0o644)
        #expect(try apply("u+s,o+t", 0o755) == 0o5755)
        #expect(try apply("u=rwx,g+rx-w", 0o624) == 0o754)
        #expect(throws: (any Error).self) { try apply("z=r", 0) }
        #expect(throws: (any Error).self) { try apply("u=q", 0) }
        #expect(FileMode.format(0o644) == "0644")
        #expect(FileMode.format(0o4755) == "4755")
        #expect(FileMode(.string("0o755")) == .absolute(0o755))
    }

    @Test func shellWordsSplitLikeShlex() throws {
        #expect(try ShellWords.split("ls -l  'a b' \"c \\\" d\" e\\ f") == ["ls", "-l", "a b", "c \" d", "e f"])
        #expect(try ShellWords.split("echo ''") == ["echo", ""])
        #expect(throws: (any Error).self) { try ShellWords.split("echo 'oops") }
        #expect(ShellWords.globQuote("/tmp/a b*.txt") == "'/tmp/a b'*.txt")
        #expect(ShellWords.globQuote("~/x y") == "~'/x y'")
        #expect(ShellWords.globQuote("~") == "~")
        #expect(CommandRunner.splitLines("a\nb\r\nc\n") == ["a", "b", "c"])
        #expect(CommandRunner.pythonDelta(1.5) == "0:00:01.500000")
        #expect(CommandRunner.pythonDelta(3661) == "1:01:01")
    }
}
