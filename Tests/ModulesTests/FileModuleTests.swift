import Foundation
import OrderedCollections
import PGHACore
import Testing
import Transport

@testable import Modules

@Suite struct FileModuleTests {
    @Test(arguments: TestTarget.all)
    func directoryIsCreatedWithModeOnEachLevel(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let path = box.path("a/b/c")
        let args: OrderedDictionary<String, Value> = ["path": .string(path), "state": "directory", "mode": "0750"]
        _ = try await box.expectCheckModeChangesNothing(FileModule.self, args)
        let (first, trips1, trips2) = try await box.expectIdempotent(FileModule.self, args)
        #expect(
            try await box.sh(
                "stat -c %a \(shellQuote(box.path("a"))) \(shellQuote(box.path("a/b"))) \(shellQuote(path))")
                == "750\n750\n750\n")
        #expect(first.values["path"] == .string(path))
        #expect(first.values["state"] == "directory")
        #expect(first.values["mode"] == "0750")
        // The probe creates the missing directories itself.
        #expect(trips1 == 1 && trips2 == 1)
        roundTripLog.note("file state=directory: changed \(trips1) (probe that creates), unchanged \(trips2)")
        _ = try await box.expectCheckModeChangesNothing(FileModule.self, args, predictsChange: false)

        // A new directory's diff: the state, and the mode it got from mkdir against the wanted one.
        box.diffMode = true
        let (created, _) = try await box.run(
            FileModule.self, ["path": .string(box.path("n")), "state": "directory", "mode": "0700"])
        let umask = try await box.sh("umask").trimmingCharacters(in: .whitespacesAndNewlines)
        let defaultMode = FileModule.diffMode(0o777 & ~(FileMode.parseOctal(umask) ?? 0o022))
        #expect(
            try JSON.decode(try #require(created.diffs.first?.before)) == [
                "mode": .string(defaultMode), "path": .string(box.path("n")), "state": "absent",
            ])
        #expect(
            try JSON.decode(try #require(created.diffs.first?.after)) == [
                "mode": "0700", "path": .string(box.path("n")), "state": "directory",
            ])
    }

    @Test(arguments: TestTarget.all)
    func modeChangeDiffLooksLikeAnsibles(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let path = box.path("f")
        try await box.sh("touch \(shellQuote(path)); chmod 644 \(shellQuote(path))")
        box.diffMode = true
        let args: OrderedDictionary<String, Value> = ["path": .string(path), "mode": "0600"]
        let check = try await box.expectCheckModeChangesNothing(FileModule.self, args)
        // Ansible's initial_diff leaves the state out when it does not change.
        let expected = FileDiff(
            before: "{\n    \"mode\": \"0644\",\n    \"path\": \"\(path)\"\n}\n",
            after: "{\n    \"mode\": \"0600\",\n    \"path\": \"\(path)\"\n}\n",
            beforeHeader: "", afterHeader: "")
        #expect(check.diffs == [expected])
        let (first, _, _) = try await box.expectIdempotent(FileModule.self, args)
        #expect(first.diffs == [expected])
        #expect(first.values["mode"] == "0600")
        #expect(first.values["state"] == "file")
    }

    @Test(arguments: TestTarget.all)
    func tildeExpandsOnTheHost(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let home = try await box.sh("printf %s \"$HOME\"")
        let name = "pgha-tilde-\(UUID().uuidString.prefix(8))"
        let (made, _) = try await box.run(FileModule.self, ["path": .string("~/" + name), "state": "directory"])
        #expect(made.values["path"] == .string(home + "/" + name))
        let (copied, _) = try await box.run(CopyModule.self, ["content": "x", "dest": .string("~/\(name)/f")])
        #expect(copied.values["dest"] == .string("\(home)/\(name)/f"))
        #expect(try await box.sh("cat \(shellQuote(home + "/" + name + "/f"))") == "x")
        let (gone, _) = try await box.run(FileModule.self, ["path": .string("~/" + name), "state": "absent"])
        #expect(gone.changed)
        #expect(try await box.sh("test -e \(shellQuote(home + "/" + name)) && echo yes || echo no") == "no\n")
    }

    @Test(arguments: TestTarget.all)
    func fileStateNeedsAnExistingFile(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let (result, _) = try await box.run(FileModule.self, ["path": .string(box.path("nope")), "state": "file"])
        #expect(result.failed)
        #expect(result.msg == "file (\(box.path("nope"))) is absent, cannot continue")
        try await box.sh("mkdir \(shellQuote(box.path("d")))")
        let (dir, _) = try await box.run(FileModule.self, ["path": .string(box.path("d")), "state": "file"])
        #expect(dir.failed)
        #expect(dir.msg == "file (\(box.path("d"))) is directory, cannot continue")
    }

    @Test(arguments: TestTarget.all)
    func absentRemovesTreesOnce(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let path = box.path("tree")
        try await box.sh("mkdir -p \(shellQuote(path))/x/y; touch \(shellQuote(path))/x/y/z")
        box.diffMode = true
        let args: OrderedDictionary<String, Value> = ["path": .string(path), "state": "absent"]
        let check = try await box.expectCheckModeChangesNothing(FileModule.self, args)
        #expect(check.diffs.first?.before.contains("\"state\": \"directory\"") == true)
        #expect(check.diffs.first?.after.contains("\"state\": \"absent\"") == true)
        let before = try JSON.decode(try #require(check.diffs.first?.before))
        #expect(
            before["path_content"] == [
                "directories": [.string(path + "/x"), .string(path + "/x/y")], "files": [.string(path + "/x/y/z")],
            ])
        let (first, trips1, trips2) = try await box.expectIdempotent(FileModule.self, args)
        #expect(first.values == ["path": .string(path), "state": "absent"])
        #expect(try await box.sh("ls -A \(shellQuote(box.dir))") == "")
        // The probe lists the tree for the diff, then removes it, in one round trip.
        #expect(first.diffs.first?.before.contains(path + "/x/y/z") == true)
        #expect(trips1 == 1 && trips2 == 1)
        roundTripLog.note("file state=absent: changed \(trips1), unchanged \(trips2)")
    }

    @Test(arguments: TestTarget.all)
    func touchCreatesAndAlwaysReportsChange(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let path = box.path("t")
        _ = try await box.expectCheckModeChangesNothing(FileModule.self, ["path": .string(path), "state": "touch"])
        let (first, trips) = try await box.run(
            FileModule.self, ["path": .string(path), "state": "touch", "mode": "0604"])
        #expect(first.changed)
        #expect(first.values["state"] == "file")
        #expect(try await box.sh("stat -c %a \(shellQuote(path))") == "604\n")
        let (second, _) = try await box.run(FileModule.self, ["path": .string(path), "state": "touch"])
        #expect(second.changed)
        #expect(trips == 2)
    }

    @Test(arguments: TestTarget.all)
    func timestampsPreserveAndExplicit(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let path = box.path("stamp")
        // touch with preserved times: creates once, then is idempotent (Ansible's recipe).
        let preserve: OrderedDictionary<String, Value> = [
            "path": .string(path), "state": "touch", "modification_time": "preserve", "access_time": "preserve",
        ]
        let (_, trips1, trips2) = try await box.expectIdempotent(FileModule.self, preserve)
        #expect(trips1 == 2 && trips2 == 1)
        let explicit: OrderedDictionary<String, Value> = [
            "path": .string(path), "modification_time": "202401021530.45", "access_time": "2024-01-02",
            "access_time_format": "%Y-%m-%d",
        ]
        _ = try await box.expectCheckModeChangesNothing(FileModule.self, explicit)
        _ = try await box.expectIdempotent(FileModule.self, explicit)
        let want = try await box.sh("date -d '2024-01-02 15:30:45' +%s; date -d '2024-01-02 00:00:00' +%s")
        #expect(try await box.sh("stat -c '%Y' \(shellQuote(path)); stat -c '%X' \(shellQuote(path))") == want)
        let (bad, _) = try await box.run(FileModule.self, ["path": .string(path), "modification_time": "yesterday"])
        #expect(bad.failed && bad.msg?.contains("Error while obtaining timestamp") == true)
    }

    @Test(arguments: TestTarget.all)
    func symlinksAndHardLinks(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        try await box.sh("printf data > \(shellQuote(box.path("real")))")
        let link = box.path("link")
        let args: OrderedDictionary<String, Value> = ["path": .string(link), "src": "real", "state": "link"]
        _ = try await box.expectCheckModeChangesNothing(FileModule.self, args)
        let (first, trips1, trips2) = try await box.expectIdempotent(FileModule.self, args)
        #expect(first.values["dest"] == .string(link))
        #expect(first.values["src"] == "real")
        #expect(first.values["state"] == "link")
        #expect(try await box.sh("readlink \(shellQuote(link))") == "real\n")
        #expect(trips1 == 2 && trips2 == 1)
        roundTripLog.note("file state=link: changed \(trips1), unchanged \(trips2)")

        // Repointing is a change; a dangling source needs force.
        try await box.sh("printf other > \(shellQuote(box.path("other")))")
        let (repoint, _) = try await box.run(FileModule.self, ["path": .string(link), "src": "other", "state": "link"])
        #expect(repoint.changed)
        #expect(try await box.sh("readlink \(shellQuote(link))") == "other\n")
        let (dangling, _) = try await box.run(
            FileModule.self, ["path": .string(box.path("l2")), "src": "missing", "state": "link"])
        #expect(dangling.failed)
        #expect(dangling.msg?.contains("src file does not exist") == true)
        _ = try await box.expectIdempotent(
            FileModule.self, ["path": .string(box.path("l2")), "src": "missing", "state": "link", "force": true])

        // A regular file is not replaced by a link unless forced.
        let (refused, _) = try await box.run(
            FileModule.self, ["path": .string(box.path("other")), "src": "real", "state": "link"])
        #expect(refused.failed)

        let hard = box.path("hard")
        _ = try await box.expectIdempotent(
            FileModule.self, ["path": .string(hard), "src": .string(box.path("real")), "state": "hard"])
        #expect(
            try await box.sh("stat -c %i \(shellQuote(hard)) \(shellQuote(box.path("real"))) | uniq | wc -l") == "1\n")
    }

    @Test(arguments: TestTarget.all)
    func ownershipAndRecurseAsRoot(target: TestTarget) async throws {
        guard requireRoot() else { return }
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let root = box.path("data")
        try await box.sh(
            "mkdir -p \(shellQuote(root))/sub && touch \(shellQuote(root))/sub/f \(shellQuote(root))/g && chmod 600 \(shellQuote(root))/g"
        )
        let args: OrderedDictionary<String, Value> = [
            "path": .string(root), "state": "directory", "owner": "nobody", "group": "nogroup", "mode": "u=rwX,g=rX,o=",
            "recurse": true,
        ]
        _ = try await box.expectCheckModeChangesNothing(FileModule.self, args)
        let (_, trips1, trips2) = try await box.expectIdempotent(FileModule.self, args)
        let listing = try await box.sh("cd \(shellQuote(root)) && find . -printf '%p %u:%g %m\\n' | sort")
        #expect(
            listing
                == ". nobody:nogroup 750\n./g nobody:nogroup 640\n./sub nobody:nogroup 750\n./sub/f nobody:nogroup 640\n"
        )
        roundTripLog.note("file recurse=yes: changed \(trips1) (probe with tree listing + change), unchanged \(trips2)")
        #expect(trips1 == 2 && trips2 == 1)
        box.diffMode = true
        let (owner, _) = try await box.run(FileModule.self, ["path": .string(root + "/g"), "owner": "root"])
        #expect(owner.changed)
        #expect(owner.diffs.first?.before.contains("\"owner\": 65534") == true)
        #expect(owner.diffs.first?.after.contains("\"owner\": 0") == true)
    }
}

@Suite struct StatModuleTests {
    @Test(arguments: TestTarget.all)
    func statsFilesLinksAndMissingPaths(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let path = box.path("s")
        try await box.sh(
            "printf 'abc' > \(shellQuote(path)); chmod 640 \(shellQuote(path)); ln -s s \(shellQuote(box.path("l")))")
        let (result, trips) = try await box.run(StatModule.self, ["path": .string(path)])
        #expect(!result.changed)
        #expect(trips == 1)
        roundTripLog.note("stat: 1")
        let stat = try #require(result.values["stat"]?.dictValue)
        #expect(stat["exists"] == true)
        #expect(stat["path"] == .string(path))
        #expect(stat["mode"] == "0640")
        #expect(stat["isreg"] == true)
        #expect(stat["isdir"] == false)
        #expect(stat["islnk"] == false)
        #expect(stat["size"] == 3)
        #expect(stat["checksum"] == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(stat["rusr"] == true && stat["wgrp"] == false && stat["roth"] == false)
        let owner = try await box.sh("id -un").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(stat["pw_name"] == .string(owner))
        let mtime = try await box.sh("stat -c %Y \(shellQuote(path))")
        #expect(Int(stat["mtime"]?.doubleValue ?? 0) == Int(mtime.trimmingCharacters(in: .whitespacesAndNewlines)))

        let (sha256, _) = try await box.run(StatModule.self, ["path": .string(path), "checksum_algorithm": "sha256"])
        #expect(
            sha256.values["stat"]?["checksum"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")

        let (link, _) = try await box.run(StatModule.self, ["path": .string(box.path("l"))])
        #expect(link.values["stat"]?["islnk"] == true)
        #expect(link.values["stat"]?["lnk_target"] == "s")
        #expect(link.values["stat"]?["lnk_source"] == .string(path))
        let (followed, _) = try await box.run(StatModule.self, ["path": .string(box.path("l")), "follow": true])
        #expect(followed.values["stat"]?["isreg"] == true)

        let (missing, _) = try await box.run(StatModule.self, ["path": .string(box.path("none"))])
        #expect(missing.values["stat"] == ["exists": false])
        box.checkMode = true
        let (inCheck, _) = try await box.run(StatModule.self, ["path": .string(path)])
        #expect(inCheck.values["stat"]?["exists"] == true)
    }
}

extension Value {
    var doubleValue: Double? { if case .double(let d) = self { return d } else { return nil } }
}
