import Foundation
import OrderedCollections
import PGHACore
import Testing
import Transport

@testable import Modules

/// Validates the arguments the way the engine does, for the argument-error tests.
private func validate<M: Module>(_ module: M.Type, _ args: OrderedDictionary<String, Value>) throws {
    _ = try M.arguments.validate(
        args, module: M.name, locations: [:], taskLocation: SourceLocation(file: "t.yml", line: 1),
        allowTemplates: false)
}

@Suite struct LineInFileTests {
    @Test(arguments: TestTarget.all)
    func regexpReplacesAndInsertafterAddsOnce(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let f = box.path("pg.conf")
        try await box.sh("printf '# comment\\nport = 5432\\nlisten = x\\n' > \(shellQuote(f))")
        let (first, trips1, trips2) = try await box.expectIdempotent(
            LineInFileModule.self, ["path": .string(f), "regexp": "^port", "line": "port = 5433"])
        #expect(first.msg == "line replaced")
        #expect(first.values["backup"] == "")
        #expect(trips1 == 2)
        #expect(trips2 == 1)
        // insertafter only applies when neither regexp nor the line matched.
        let (added, _, _) = try await box.expectIdempotent(
            LineInFileModule.self, ["path": .string(f), "line": "wal_level = replica", "insertafter": "^port"])
        #expect(added.msg == "line added")
        #expect(try await box.sh("cat \(shellQuote(f))") == "# comment\nport = 5433\nwal_level = replica\nlisten = x\n")
        _ = try await box.expectIdempotent(
            LineInFileModule.self, ["path": .string(f), "line": "# top", "insertbefore": "BOF"])
        #expect(try await box.sh("head -1 \(shellQuote(f))") == "# top\n")
        let (removed, _, _) = try await box.expectIdempotent(
            LineInFileModule.self, ["path": .string(f), "regexp": "^#", "state": "absent"])
        #expect(removed.msg == "2 line(s) removed")
        #expect(removed.values["found"] == 2)
    }

    @Test(arguments: TestTarget.all)
    func backrefsCreateCheckModeDiffAndErrors(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let f = box.path("a.conf")
        try await box.sh("printf 'host=db1 port=1\\n' > \(shellQuote(f))")
        _ = try await box.expectIdempotent(
            LineInFileModule.self,
            ["path": .string(f), "regexp": "^host=(\\w+) port=\\d+$", "line": "host=\\1 port=2", "backrefs": true])
        #expect(try await box.sh("cat \(shellQuote(f))") == "host=db1 port=2\n")
        // backrefs without a match leaves the file alone.
        let (none, _) = try await box.run(
            LineInFileModule.self, ["path": .string(f), "regexp": "^nomatch(.*)", "line": "x\\1", "backrefs": true])
        #expect(!none.changed)
        let missing = box.path("sub/new.conf")
        let (fail, _) = try await box.run(LineInFileModule.self, ["path": .string(missing), "line": "a"])
        #expect(fail.failed && fail.msg == "Destination \(missing) does not exist !")
        box.diffMode = true
        let check = try await box.expectCheckModeChangesNothing(
            LineInFileModule.self, ["path": .string(f), "line": "extra"])
        #expect(
            check.diffs == [
                FileDiff(
                    before: "host=db1 port=2\n", after: "host=db1 port=2\nextra\n", beforeHeader: "\(f) (content)",
                    afterHeader: "\(f) (content)")
            ])
        let (created, _) = try await box.run(
            LineInFileModule.self, ["path": .string(missing), "line": "a", "create": true, "mode": "0600"])
        #expect(created.changed && created.msg == "line added")
        #expect(try await box.sh("stat -c %a \(shellQuote(missing)); cat \(shellQuote(missing))") == "600\na\n")
        #expect(throws: PGHAError.self) {
            try validate(LineInFileModule.self, ["path": "/x", "line": "a", "bogus": 1])
        }
        #expect(throws: PGHAError.self) { try validate(LineInFileModule.self, ["line": "a"]) }
        #expect(throws: PGHAError.self) {
            try validate(LineInFileModule.self, ["path": "/x", "line": "a", "insertafter": "a", "insertbefore": "b"])
        }
        let (noLine, _) = try await box.run(LineInFileModule.self, ["path": .string(f), "regexp": "x"])
        #expect(noLine.failed && noLine.msg == "line is required with state=present")
    }
}

@Suite struct BlockInFileTests {
    @Test(arguments: TestTarget.all)
    func blockMarkersInsertUpdateRemove(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let f = box.path("hba.conf")
        try await box.sh("printf 'local all all peer\\nhost all all 0.0.0.0/0 md5' > \(shellQuote(f))")
        let (first, _, _) = try await box.expectIdempotent(
            BlockInFileModule.self, ["path": .string(f), "block": "host replication rep 10.0.0.0/8 md5"])
        #expect(first.msg == "Block inserted")
        #expect(
            try await box.sh("cat \(shellQuote(f))")
                == "local all all peer\nhost all all 0.0.0.0/0 md5\n# BEGIN ANSIBLE MANAGED BLOCK\nhost replication rep 10.0.0.0/8 md5\n# END ANSIBLE MANAGED BLOCK\n"
        )
        box.diffMode = true
        let (updated, _) = try await box.run(
            BlockInFileModule.self, ["path": .string(f), "block": "a\nb\n", "insertbefore": "BOF"])
        // An existing block is replaced where it is; insertbefore only places new blocks.
        #expect(updated.changed)
        #expect(updated.diffs.first?.beforeHeader == "\(f) (content)")
        #expect(
            try await box.sh("tail -4 \(shellQuote(f))")
                == "# BEGIN ANSIBLE MANAGED BLOCK\na\nb\n# END ANSIBLE MANAGED BLOCK\n")
        box.diffMode = false
        let custom: OrderedDictionary<String, Value> = [
            "path": .string(f), "block": "x", "marker": "<!-- {mark} pgha -->", "marker_begin": "start",
            "marker_end": "stop", "insertafter": "^local",
        ]
        _ = try await box.expectIdempotent(BlockInFileModule.self, custom)
        #expect(try await box.sh("sed -n 2,4p \(shellQuote(f))") == "<!-- start pgha -->\nx\n<!-- stop pgha -->\n")
        _ = try await box.expectCheckModeChangesNothing(
            BlockInFileModule.self, ["path": .string(f), "state": "absent"])
        let (removed, _, _) = try await box.expectIdempotent(
            BlockInFileModule.self, ["path": .string(f), "state": "absent"])
        #expect(removed.msg == "Block removed")
        let (missing, _) = try await box.run(BlockInFileModule.self, ["path": .string(box.path("nope")), "block": "x"])
        #expect(missing.failed && missing.values["rc"] == 257)
        let (created, _) = try await box.run(
            BlockInFileModule.self, ["path": .string(box.path("nope")), "block": "x", "create": true])
        #expect(created.msg == "File created")
    }
}

@Suite struct ReplaceTests {
    @Test(arguments: TestTarget.all)
    func replaceWithGroupsAndSection(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let f = box.path("r.conf")
        try await box.sh("printf 'a=1\\n[x]\\na=2\\nb=3\\n[y]\\na=4\\n' > \(shellQuote(f))")
        let (first, _, _) = try await box.expectIdempotent(
            ReplaceModule.self,
            [
                "path": .string(f), "regexp": "^a=(\\d)$", "replace": "a=\\g<1>0", "after": "\\[x\\]",
                "before": "\\[y\\]",
            ])
        #expect(first.msg == "1 replacements made")
        #expect(try await box.sh("cat \(shellQuote(f))") == "a=1\n[x]\na=20\nb=3\n[y]\na=4\n")
        box.diffMode = true
        let check = try await box.expectCheckModeChangesNothing(
            ReplaceModule.self, ["path": .string(f), "regexp": "^(\\w)=", "replace": "\\1 = "])
        #expect(check.msg == "4 replacements made")
        #expect(check.diffs.first?.beforeHeader == f)
        let (missing, _) = try await box.run(ReplaceModule.self, ["path": .string(box.path("no")), "regexp": "a"])
        #expect(missing.failed && missing.msg == "Path \(box.path("no")) does not exist !")
        #expect(throws: PGHAError.self) { try validate(ReplaceModule.self, ["path": "/x"]) }
    }
}

@Suite struct IniFileTests {
    @Test(arguments: TestTarget.all)
    func optionsSectionsAndSpacing(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let f = box.path("patroni.ini")
        try await box.sh("printf '[main]\\n# port = 1\\nname=x\\n\\n[other]\\nk = v\\n' > \(shellQuote(f))")
        let (first, _, _) = try await box.expectIdempotent(
            IniFileModule.self, ["path": .string(f), "section": "main", "option": "port", "value": "5432"])
        // The commented-out option is replaced in place (modify_inactive_option).
        #expect(first.msg == "option changed")
        #expect(try await box.sh("cat \(shellQuote(f))") == "[main]\nport = 5432\nname=x\n\n[other]\nk = v\n")
        let (added, _, _) = try await box.expectIdempotent(
            IniFileModule.self,
            ["path": .string(f), "section": "main", "option": "host", "value": "db", "no_extra_spaces": true])
        #expect(added.msg == "option added")
        #expect(try await box.sh("sed -n 4p \(shellQuote(f))") == "host=db\n")
        let (section, _, _) = try await box.expectIdempotent(
            IniFileModule.self, ["path": .string(f), "section": "new", "option": "a", "value": "1"])
        #expect(section.msg == "section and option added")
        #expect(try await box.sh("tail -2 \(shellQuote(f))") == "[new]\na = 1\n")
        let (removed, _, _) = try await box.expectIdempotent(
            IniFileModule.self, ["path": .string(f), "section": "other", "state": "absent"])
        #expect(removed.msg == "section removed")
        box.diffMode = true
        let check = try await box.expectCheckModeChangesNothing(
            IniFileModule.self, ["path": .string(f), "section": "main", "option": "name", "value": "y"])
        #expect(check.diffs.first?.after.contains("name = y\n") == true)
        let new = box.path("d/new.ini")
        let (created, _) = try await box.run(
            IniFileModule.self, ["path": .string(new), "section": "s", "option": "o", "value": "v"])
        #expect(created.changed)
        #expect(try await box.sh("cat \(shellQuote(new))") == "\n[s]\no = v\n")
        #expect(throws: PGHAError.self) {
            try validate(IniFileModule.self, ["path": "/x", "value": "a", "values": ["b"]])
        }
    }
}

@Suite struct PamLimitsTests {
    @Test(arguments: TestTarget.all)
    func addsAndUpdatesWithTabs(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let f = box.path("limits.conf")
        try await box.sh("printf '# limits\\npostgres  soft  nofile  1024\\n' > \(shellQuote(f))")
        let args: OrderedDictionary<String, Value> = [
            "dest": .string(f), "domain": "postgres", "limit_type": "soft", "limit_item": "nofile", "value": "65536",
        ]
        let (first, _, _) = try await box.expectIdempotent(PamLimitsModule.self, args)
        #expect(first.msg == "postgres\tsoft\tnofile\t65536\n")
        #expect(try await box.sh("cat \(shellQuote(f))") == "# limits\npostgres\tsoft\tnofile\t65536\n")
        var hard = args
        hard["limit_type"] = "hard"
        hard["comment"] = "pg"
        _ = try await box.expectIdempotent(PamLimitsModule.self, hard)
        #expect(try await box.sh("tail -1 \(shellQuote(f))") == "postgres\thard\tnofile\t65536\t#pg\n")
        var smaller = args
        smaller["value"] = "100"
        smaller["use_max"] = true
        let (kept, _) = try await box.run(PamLimitsModule.self, smaller)
        #expect(!kept.changed)
        smaller["use_max"] = false
        _ = try await box.expectCheckModeChangesNothing(PamLimitsModule.self, smaller)
        var bad = args
        bad["value"] = "lots"
        let (failed, _) = try await box.run(PamLimitsModule.self, bad)
        #expect(failed.failed)
        bad["limit_item"] = "nofiles"
        #expect(throws: PGHAError.self) { try validate(PamLimitsModule.self, bad) }
    }
}

@Suite struct SysctlTests {
    @Test(arguments: TestTarget.all)
    func fileOnlyWithoutTouchingTheKernel(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let f = box.path("99-pg.conf")
        try await box.sh("printf '# pg\\nvm.swappiness = 60\\nvm.swappiness=30\\n' > \(shellQuote(f))")
        let args: OrderedDictionary<String, Value> = [
            "name": "vm.swappiness", "value": 1, "sysctl_file": .string(f), "reload": false,
        ]
        _ = try await box.expectIdempotent(SysctlModule.self, args)
        // fix_lines: key=value without spaces, duplicates dropped.
        #expect(try await box.sh("cat \(shellQuote(f))") == "# pg\nvm.swappiness=1\n")
        _ = try await box.expectIdempotent(
            SysctlModule.self,
            ["name": "vm.overcommit_memory", "value": "2", "sysctl_file": .string(f), "reload": false])
        box.diffMode = true
        let check = try await box.expectCheckModeChangesNothing(
            SysctlModule.self,
            ["name": "vm.swappiness", "state": "absent", "sysctl_file": .string(f), "reload": false])
        #expect(check.diffs.first?.after == "# pg\nvm.overcommit_memory=2\n")
        let (noValue, _) = try await box.run(SysctlModule.self, ["name": "vm.swappiness", "sysctl_file": .string(f)])
        #expect(noValue.failed && noValue.msg == "value cannot be None")
        #expect(throws: PGHAError.self) { try validate(SysctlModule.self, ["value": "1"]) }
    }
}

@Suite struct AuthorizedKeyTests {
    static let key1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA1 alice@host"
    static let key2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ2 bob"

    @Test(arguments: TestTarget.all)
    func keysAddedOnceOptionsAndExclusive(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let user = try await box.sh("id -un").trimmingCharacters(in: .whitespacesAndNewlines)
        let f = box.path("ssh/authorized_keys")
        try await box.sh("mkdir \(shellQuote(box.path("ssh"))); printf '# keep\\n' > \(shellQuote(f))")
        let (first, _, _) = try await box.expectIdempotent(
            AuthorizedKeyModule.self,
            ["user": .string(user), "path": .string(f), "key": .string(Self.key1 + "\n" + Self.key2)])
        #expect(first.values["keyfile"] == .string(f))
        #expect(
            try await box.sh("cat \(shellQuote(f)); stat -c %a \(shellQuote(f)) \(shellQuote(box.path("ssh")))")
                == "# keep\n\(Self.key1)\n\(Self.key2)\n600\n700\n")
        _ = try await box.expectIdempotent(
            AuthorizedKeyModule.self,
            [
                "user": .string(user), "path": .string(f), "key": .string(Self.key1),
                "key_options": "no-pty,from=\"10.0.0.1\"",
            ])
        #expect(try await box.sh("tail -1 \(shellQuote(f))") == "no-pty,from=\"10.0.0.1\" \(Self.key1)\n")
        box.diffMode = true
        let check = try await box.expectCheckModeChangesNothing(
            AuthorizedKeyModule.self,
            ["user": .string(user), "path": .string(f), "key": .string(Self.key2), "exclusive": true])
        #expect(check.diffs.first?.after == "\(Self.key2)\n")
        box.diffMode = false
        _ = try await box.expectIdempotent(
            AuthorizedKeyModule.self,
            ["user": .string(user), "path": .string(f), "key": .string(Self.key2), "state": "absent"])
        let (bad, _) = try await box.run(
            AuthorizedKeyModule.self, ["user": .string(user), "path": .string(f), "key": "not a key"])
        #expect(bad.failed && bad.msg == "invalid key specified: not a key")
        let (nouser, _) = try await box.run(
            AuthorizedKeyModule.self, ["user": "no-such-user-pgha", "path": .string(f), "key": .string(Self.key1)])
        #expect(nouser.failed)
    }
}

@Suite struct MountTests {
    @Test(arguments: TestTarget.all)
    func fstabPresentAndAbsent(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let fstab = box.path("fstab")
        try await box.sh("printf '# fstab\\nUUID=1 / ext4 errors=remount-ro 0 1\\n' > \(shellQuote(fstab))")
        let args: OrderedDictionary<String, Value> = [
            "path": "/srv/pg data", "src": "/dev/vdb1", "fstype": "xfs", "opts": "noatime", "state": "present",
            "fstab": .string(fstab),
        ]
        let (first, _, _) = try await box.expectIdempotent(MountModule.self, args)
        #expect(first.values["name"] == "/srv/pg data")
        #expect(try await box.sh("tail -1 \(shellQuote(fstab))") == "/dev/vdb1 /srv/pg\\040data xfs noatime 0 0\n")
        var changedOpts = args
        changedOpts["opts"] = "noatime,nodiratime"
        changedOpts["passno"] = "2"
        box.diffMode = true
        let check = try await box.expectCheckModeChangesNothing(MountModule.self, changedOpts)
        #expect(check.diffs.first?.after.hasSuffix("/dev/vdb1 /srv/pg\\040data xfs noatime,nodiratime 0 2\n") == true)
        box.diffMode = false
        _ = try await box.expectIdempotent(MountModule.self, changedOpts)
        let (absent, _) = try await box.run(
            MountModule.self, ["path": "/srv/pg data", "state": "absent", "fstab": .string(fstab)])
        #expect(absent.changed)
        #expect(try await box.sh("cat \(shellQuote(fstab))") == "# fstab\nUUID=1 / ext4 errors=remount-ro 0 1\n")
        let (missing, _) = try await box.run(
            MountModule.self, ["path": "/x", "state": "present", "fstab": .string(fstab)])
        #expect(missing.failed && missing.msg == "state is present but all of the following are missing: src, fstype")
        #expect(throws: PGHAError.self) { try validate(MountModule.self, ["path": "/x"]) }
    }
}
