import Foundation
import OrderedCollections
import PGHACore
import Testing
import Transport

@testable import Modules

@Suite struct CopyModuleTests {
    @Test(arguments: TestTarget.all)
    func contentIsIdempotentWithAnsibleResultKeys(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let dest = box.path("motd")
        let args: OrderedDictionary<String, Value> = ["content": "hello\n", "dest": .string(dest), "mode": "0640"]
        let (first, trips1, trips2) = try await box.expectIdempotent(CopyModule.self, args)
        #expect(try await box.sh("cat \(shellQuote(dest))") == "hello\n")
        #expect(try await box.sh("stat -c %a \(shellQuote(dest))") == "640\n")
        #expect(first.values["dest"] == .string(dest))
        #expect(first.values["checksum"] == "f572d396fae9206628714fb2ce00f72e94f2258f")
        #expect(first.values["size"] == 6)
        #expect(first.values["md5sum"] == "b1946ac92492d2347c6235b4d2611184")
        #expect(first.values["mode"] == "0640")
        #expect(first.values["state"] == "file")
        let owner = try await box.sh("id -un").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(first.values["owner"] == .string(owner))
        #expect(first.values["uid"]?.intValue != nil)
        // The probe itself writes the new content; the unchanged run is the probe alone.
        #expect(trips1 == 1)
        #expect(trips2 == 1)
        let (again, _) = try await box.run(CopyModule.self, args)
        #expect(again.values["path"] == .string(dest) && again.values["dest"] == .string(dest))
        #expect(again.values["md5sum"] == nil)
        roundTripLog.note("copy: new/changed file \(trips1) (probe that writes), unchanged \(trips2) (probe)")

        // Content change with --diff: old and new text with Ansible's headers.
        box.diffMode = true
        let (changed, trips3) = try await box.run(CopyModule.self, ["content": "bye\n", "dest": .string(dest)])
        #expect(changed.changed)
        #expect(trips3 == 1)
        #expect(changed.diffs == [FileDiff(before: "hello\n", after: "bye\n", beforeHeader: dest, afterHeader: dest)])
        // Without a mode argument the existing mode is kept.
        #expect(try await box.sh("stat -c %a \(shellQuote(dest))") == "640\n")
        roundTripLog.note("copy --diff: changed \(trips3) (old content comes back with the probe)")
    }

    @Test(arguments: TestTarget.all)
    func checkModePredictsAndChangesNothing(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let dest = box.path("new.conf")
        box.diffMode = true
        let result = try await box.expectCheckModeChangesNothing(
            CopyModule.self, ["content": "a=1\n", "dest": .string(dest), "mode": "u=rw,g=r,o="])
        #expect(result.values["mode"] == "0640")
        #expect(result.diffs.first?.before == "")
        #expect(result.diffs.first?.after == "a=1\n")
        try await box.sh("printf 'a=1\\n' > \(shellQuote(dest)); chmod 600 \(shellQuote(dest))")
        // Same content, different mode: a predicted attribute change, still nothing written.
        let attrs = try await box.expectCheckModeChangesNothing(
            CopyModule.self, ["content": "a=1\n", "dest": .string(dest), "mode": "u=rw,g=r,o="])
        #expect(attrs.diffs.isEmpty)
        _ = try await box.expectCheckModeChangesNothing(
            CopyModule.self, ["content": "a=1\n", "dest": .string(dest), "mode": "0600"], predictsChange: false)
    }

    @Test(arguments: TestTarget.all)
    func symbolicModeAndAttributeOnlyChange(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let dest = box.path("script.sh")
        try await box.sh("printf 'echo hi\\n' > \(shellQuote(dest)); chmod 644 \(shellQuote(dest))")
        let args: OrderedDictionary<String, Value> = ["content": "echo hi\n", "dest": .string(dest), "mode": "u+x"]
        let (first, trips1, _) = try await box.expectIdempotent(CopyModule.self, args)
        #expect(first.values["mode"] == "0744")
        #expect(try await box.sh("stat -c %a \(shellQuote(dest))") == "744\n")
        #expect(box.connection.puts == 0)
        #expect(trips1 == 2)
        roundTripLog.note("copy: attributes only \(trips1) (probe + chmod/chown)")
    }

    @Test(arguments: TestTarget.all)
    func ownerAndGroupAsRoot(target: TestTarget) async throws {
        guard requireRoot() else { return }
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let dest = box.path("owned")
        let args: OrderedDictionary<String, Value> = [
            "content": "x", "dest": .string(dest), "owner": "nobody", "group": "nogroup", "mode": "0600",
        ]
        let (first, _, _) = try await box.expectIdempotent(CopyModule.self, args)
        #expect(try await box.sh("stat -c '%U:%G:%a' \(shellQuote(dest))") == "nobody:nogroup:600\n")
        #expect(first.values["owner"] == "nobody")
        #expect(first.values["group"] == "nogroup")
        #expect(first.values["uid"] == 65534)
        // Only the group changes now: one chown, no transfer.
        var regroup = args
        regroup["group"] = "root"
        let (second, _) = try await box.run(CopyModule.self, regroup)
        #expect(second.changed)
        #expect(try await box.sh("stat -c '%U:%G' \(shellQuote(dest))") == "nobody:root\n")
        // Content change keeps the owner that is there when none is given.
        _ = try await box.run(CopyModule.self, ["content": "y", "dest": .string(dest)])
        #expect(try await box.sh("stat -c '%U:%G:%a' \(shellQuote(dest))") == "nobody:root:600\n")
        let (bad, _) = try await box.run(
            CopyModule.self, ["content": "y", "dest": .string(dest), "owner": "no-such-user-pgha"])
        #expect(bad.failed)
        #expect(bad.msg?.contains("no-such-user-pgha") == true)
    }

    @Test(arguments: TestTarget.all)
    func srcFileIntoDirectoryWithBackup(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let local = try box.writeLocal("app.conf", "port=1\n")
        try await box.sh("mkdir \(shellQuote(box.path("etc")))")
        box.diffMode = true
        let args: OrderedDictionary<String, Value> = ["src": "app.conf", "dest": .string(box.path("etc"))]
        let (first, _, _) = try await box.expectIdempotent(CopyModule.self, args)
        let dest = box.path("etc/app.conf")
        #expect(first.values["dest"] == .string(dest))
        #expect(first.diffs.first?.afterHeader == local)
        #expect(first.diffs.first?.beforeHeader == "")
        #expect(try await box.sh("cat \(shellQuote(dest))") == "port=1\n")

        _ = try box.writeLocal("app.conf", "port=2\n")
        let (backedUp, trips) = try await box.run(
            CopyModule.self, ["src": "app.conf", "dest": .string(dest), "backup": true])
        #expect(backedUp.changed)
        let backup = try #require(backedUp.values["backup_file"]?.stringValue)
        #expect(backup.hasPrefix(dest + "."))
        #expect(backup.hasSuffix("~"))
        #expect(try await box.sh("cat \(shellQuote(backup))") == "port=1\n")
        #expect(try await box.sh("cat \(shellQuote(dest))") == "port=2\n")
        #expect(trips == 3)
        roundTripLog.note("copy backup=yes: \(trips) (probe + cp + put)")
    }

    @Test(arguments: TestTarget.all)
    func validateGuardsTheDestination(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let dest = box.path("sudoers")
        try await box.sh("printf 'good\\n' > \(shellQuote(dest))")
        let (bad, _) = try await box.run(
            CopyModule.self, ["content": "bad\n", "dest": .string(dest), "validate": "grep -q good %s"])
        #expect(bad.failed)
        #expect(bad.msg == "failed to validate")
        #expect(try await box.sh("cat \(shellQuote(dest)); ls -A \(shellQuote(box.dir))") == "good\nsudoers\n")
        let (good, trips) = try await box.run(
            CopyModule.self, ["content": "good too\n", "dest": .string(dest), "validate": "grep -q good %s"])
        #expect(good.changed && !good.failed)
        #expect(try await box.sh("cat \(shellQuote(dest)); ls -A \(shellQuote(box.dir))") == "good too\nsudoers\n")
        #expect(trips == 3)
        roundTripLog.note("copy validate=: \(trips) (probe + put temp + validate/rename)")
    }

    @Test(arguments: TestTarget.all)
    func forceNoAndMissingDirectory(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let dest = box.path("keep")
        try await box.sh("printf 'mine' > \(shellQuote(dest))")
        let (kept, _) = try await box.run(
            CopyModule.self, ["content": "theirs", "dest": .string(dest), "force": false])
        #expect(!kept.changed)
        #expect(try await box.sh("cat \(shellQuote(dest))") == "mine")
        let (missing, _) = try await box.run(
            CopyModule.self, ["content": "x", "dest": .string(box.path("no/such/file"))])
        #expect(missing.failed)
        #expect(missing.msg == "Destination directory \(box.path("no/such")) does not exist")
        let (dir, _) = try await box.run(CopyModule.self, ["content": "x", "dest": .string(box.dir)])
        #expect(dir.failed)
        // A link to a file with the same content is left alone (Ansible compares through the link).
        try await box.sh("ln -s keep \(shellQuote(box.path("via-link")))")
        let (viaLink, _) = try await box.run(
            CopyModule.self, ["content": "mine", "dest": .string(box.path("via-link"))])
        #expect(!viaLink.changed)
        // follow: writes through the link to its target; without it the link itself is replaced.
        let (followed, _) = try await box.run(
            CopyModule.self, ["content": "new", "dest": .string(box.path("via-link")), "follow": true])
        #expect(followed.values["dest"] == .string(dest))
        #expect(
            try await box.sh("readlink \(shellQuote(box.path("via-link"))); cat \(shellQuote(dest))") == "keep\nnew")
        let (replaced, _) = try await box.run(
            CopyModule.self, ["content": "own", "dest": .string(box.path("via-link"))])
        #expect(replaced.changed)
        #expect(
            try await box.sh(
                "test -L \(shellQuote(box.path("via-link"))) && echo link || cat \(shellQuote(box.path("via-link")))")
                == "own")
        #expect(try await box.sh("cat \(shellQuote(dest))") == "new")
        // Lists and dicts in content are written as JSON.
        let (json, _) = try await box.run(
            CopyModule.self, ["content": ["a": [1, "b"]], "dest": .string(box.path("j"))])
        #expect(json.changed)
        #expect(try await box.sh("cat \(shellQuote(box.path("j")))") == "{\"a\": [1, \"b\"]}")
    }

    @Test(arguments: TestTarget.all)
    func templateRendersThenCopies(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let local = try box.writeLocal("pg.conf.j2", "port = {{ port }}\n")
        box.templates["pg.conf.j2"] = "port = 5432\n"
        let dest = box.path("pg.conf")
        box.diffMode = true
        let args: OrderedDictionary<String, Value> = ["src": "pg.conf.j2", "dest": .string(dest), "mode": "0600"]
        let check = try await box.expectCheckModeChangesNothing(TemplateModule.self, args)
        #expect(check.diffs.first?.after == "port = 5432\n")
        let (first, trips1, trips2) = try await box.expectIdempotent(TemplateModule.self, args)
        #expect(first.values["src"] == .string(local))
        #expect(first.diffs == [FileDiff(before: "", after: "port = 5432\n", beforeHeader: "", afterHeader: local)])
        #expect(try await box.sh("cat \(shellQuote(dest)); stat -c %a \(shellQuote(dest))") == "port = 5432\n600\n")
        #expect(trips1 == 1 && trips2 == 1)
        roundTripLog.note("template: changed \(trips1), unchanged \(trips2)")
    }
    /// The probe writes what differs in its own round trip only when nothing else must be decided
    /// first; larger or binary content, and everything check mode touches, take the usual path.
    @Test(arguments: TestTarget.all)
    func contentIsWrittenByTheProbeWhenItCanBe(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let small = box.path("small")
        try await box.sh("printf 'old\\n' > \(shellQuote(small)); chmod 4751 \(shellQuote(small))")
        // Existing mode kept (as put keeps it), content replaced, one round trip.
        let (kept, keptTrips) = try await box.run(CopyModule.self, ["content": "it's \"quoted\"\n$HOME `x`\n", "dest": .string(small)])
        #expect(kept.changed && keptTrips == 1 && box.connection.puts == 0)
        #expect(try await box.sh("cat \(shellQuote(small))") == "it's \"quoted\"\n$HOME `x`\n")
        let modeAfterPut = try await box.sh("stat -c %a \(shellQuote(small))")
        #expect(kept.values["mode"]?.stringValue.map { $0.dropFirst() + "\n" } == modeAfterPut[...])

        let big = box.path("big")
        let large = String(repeating: "x", count: FileWriter.inlineWriteLimit + 1)
        let (wrote, bigTrips) = try await box.run(CopyModule.self, ["content": .string(large), "dest": .string(big)])
        #expect(wrote.changed && bigTrips == 2 && box.connection.puts == 1)
        #expect(try await box.sh("wc -c < \(shellQuote(big))") == "\(large.utf8.count)\n")

        // No trailing newline, an empty file, a missing directory: exact bytes or the same failure.
        let (bare, bareTrips) = try await box.run(CopyModule.self, ["content": "no newline", "dest": .string(box.path("bare"))])
        #expect(bare.changed && bareTrips == 1)
        #expect(try await box.sh("od -An -c \(shellQuote(box.path("bare"))) | tr -d ' \\n'") == "nonewline")
        let (empty, emptyTrips) = try await box.run(CopyModule.self, ["content": "", "dest": .string(box.path("empty"))])
        #expect(empty.changed && emptyTrips == 1)
        #expect(try await box.sh("stat -c %s \(shellQuote(box.path("empty")))") == "0\n")
        let (missing, _) = try await box.run(CopyModule.self, ["content": "x", "dest": .string(box.path("no/such/f"))])
        #expect(missing.failed && missing.msg?.contains("does not exist") == true)
        let listing = try await box.sh("LC_ALL=C ls -A \(shellQuote(box.dir)) | tr '\\n' ' '")
        #expect(listing == "bare big empty small ", "\(listing)")

        // A link to a file is written through put as before (the probe only writes regular files).
        try await box.sh("printf 'target\\n' > \(shellQuote(box.path("t"))); ln -s t \(shellQuote(box.path("l")))")
        let (link, linkTrips) = try await box.run(CopyModule.self, ["content": "via link\n", "dest": .string(box.path("l"))])
        #expect(link.changed && linkTrips == 2 && box.connection.puts == 1)
    }
}

@Suite struct BecomeTests {
    @Test(arguments: TestTarget.all)
    func modulesWriteAsTheBecomeUser(target: TestTarget) async throws {
        guard requireRoot() else { return }
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let home = box.path("nobody-home")
        try await box.sh(
            "mkdir \(shellQuote(home)) && chown nobody:nogroup \(shellQuote(home)) && chmod 700 \(shellQuote(home))")
        let nobody = Become(user: "nobody")
        let dest = home + "/note"
        let args: OrderedDictionary<String, Value> = ["content": "hi\n", "dest": .string(dest)]
        let (first, trips) = try await box.run(CopyModule.self, args, become: nobody)
        #expect(first.changed && !first.failed, "\(first.msg ?? "")")
        #expect(first.values["owner"] == "nobody")
        #expect(first.values["mode"] == "0644")
        #expect(trips == 1)
        #expect(try await box.sh("stat -c '%U:%G:%a' \(shellQuote(dest))") == "nobody:nogroup:644\n")
        let (second, _) = try await box.run(CopyModule.self, args, become: nobody)
        #expect(!second.changed)
        let (dir, _) = try await box.run(
            FileModule.self, ["path": .string(home + "/d"), "state": "directory"], become: nobody)
        #expect(dir.changed && dir.values["owner"] == "nobody")
        #expect(try await box.sh("stat -c '%U' \(shellQuote(home + "/d"))") == "nobody\n")
        // Without become, root could; as nobody, a root-only directory is refused.
        let (refused, _) = try await box.run(
            CopyModule.self, ["content": "x", "dest": "/root/pgha-should-not-exist"], become: nobody)
        #expect(refused.failed)
        #expect(refused.msg?.contains("/root/pgha-should-not-exist") == true)
        #expect(try await box.sh("test -e /root/pgha-should-not-exist && echo yes || echo no") == "no\n")
    }
}

@Suite struct DirectoryCopyTests {
    @Test(arguments: TestTarget.all)
    func copiesTreesIdempotently(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        try FileManager.default.createDirectory(atPath: box.localDir + "/conf/sub", withIntermediateDirectories: true)
        _ = try box.writeLocal("conf/a.txt", "A\n")
        _ = try box.writeLocal("conf/sub/b.txt", "B\n")
        try await box.sh("mkdir \(shellQuote(box.path("dest")))")
        let args: OrderedDictionary<String, Value> = [
            "src": "conf", "dest": .string(box.path("dest")), "mode": "0600", "directory_mode": "0750",
        ]
        _ = try await box.expectCheckModeChangesNothing(CopyModule.self, args)
        let (first, trips1, trips2) = try await box.expectIdempotent(CopyModule.self, args)
        #expect(first.values["dest"] == .string(box.path("dest/conf") + "/"))
        let listing = try await box.sh("cd \(shellQuote(box.path("dest"))) && find . -printf '%p %y %m\\n' | sort")
        #expect(listing == ". d 755\n./conf d 750\n./conf/a.txt f 600\n./conf/sub d 750\n./conf/sub/b.txt f 600\n")
        #expect(trips1 == 4 && trips2 == 1)
        roundTripLog.note(
            "copy of a directory (2 files): changed \(trips1) (probe + mkdir + 2 puts), unchanged \(trips2)")

        // Trailing slash: the contents go straight into dest; one changed file, one put.
        _ = try box.writeLocal("conf/a.txt", "A2\n")
        box.diffMode = true
        let (contents, trips) = try await box.run(
            CopyModule.self, ["src": "conf/", "dest": .string(box.path("dest/conf"))])
        #expect(contents.changed)
        #expect(contents.diffs.map(\.after) == ["A2\n"])
        #expect(contents.diffs.map(\.before) == ["A\n"])
        #expect(try await box.sh("cat \(shellQuote(box.path("dest/conf/a.txt")))") == "A2\n")
        #expect(trips == 3)
    }
}

@Suite struct RemoteSourceTests {
    @Test(arguments: TestTarget.all)
    func remoteSrcCopiesOnTheHost(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let src = box.path("orig.conf")
        let dest = box.path("copy.conf")
        try await box.sh("printf 'x=1\\n' > \(shellQuote(src)); chmod 600 \(shellQuote(src))")
        let args: OrderedDictionary<String, Value> = [
            "src": .string(src), "dest": .string(dest), "remote_src": true, "mode": "preserve",
        ]
        _ = try await box.expectCheckModeChangesNothing(CopyModule.self, args)
        let (first, trips1, trips2) = try await box.expectIdempotent(CopyModule.self, args)
        #expect(first.values["checksum"] == .string(Digest.sha1(Array("x=1\n".utf8))))
        #expect(first.values["size"] == 4)
        #expect(first.values["mode"] == "0600")
        #expect(try await box.sh("cat \(shellQuote(dest)); stat -c %a \(shellQuote(dest))") == "x=1\n600\n")
        #expect(trips1 == 2 && trips2 == 1)
        roundTripLog.note("copy remote_src=yes: changed \(trips1) (probe + cp/chmod/rename), unchanged \(trips2)")

        try await box.sh("printf 'x=2\\n' > \(shellQuote(src))")
        let (bad, _) = try await box.run(
            CopyModule.self,
            ["src": .string(src), "dest": .string(dest), "remote_src": true, "validate": "grep -q x=1 %s"])
        #expect(bad.failed && bad.msg == "failed to validate")
        #expect(try await box.sh("cat \(shellQuote(dest)); ls -A \(shellQuote(box.dir)) | wc -l") == "x=1\n2\n")
        let (backedUp, _) = try await box.run(
            CopyModule.self, ["src": .string(src), "dest": .string(dest), "remote_src": true, "backup": true])
        let backup = try #require(backedUp.values["backup_file"]?.stringValue)
        #expect(try await box.sh("cat \(shellQuote(dest)) \(shellQuote(backup))") == "x=2\nx=1\n")
        let (missing, _) = try await box.run(
            CopyModule.self, ["src": .string(box.path("nope")), "dest": .string(dest), "remote_src": true])
        #expect(missing.failed && missing.msg == "Source \(box.path("nope")) not found")
    }
}
