import Foundation
import OrderedCollections
import PGHACore
import Testing
import Transport

@testable import Modules

private func validate<M: Module>(_ module: M.Type, _ args: OrderedDictionary<String, Value>) throws {
    _ = try M.arguments.validate(
        args, module: M.name, locations: [:], taskLocation: SourceLocation(file: "t.yml", line: 1),
        allowTemplates: false)
}

@Suite struct SimpleHostModuleTests {
    @Test(arguments: TestTarget.all)
    func pingRawSlurp(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let (ping, trips) = try await box.run(PingModule.self, [:])
        #expect(ping.values["ping"] == "pong" && !ping.changed && trips == 1)
        let (data, _) = try await box.run(PingModule.self, ["data": "hi"])
        #expect(data.values["ping"] == "hi")
        let (raw, _) = try await box.run(RawModule.self, ["_raw_params": "echo out; echo err >&2; exit 3"])
        #expect(raw.failed && raw.changed && raw.values["rc"] == 3)
        #expect(raw.values["stdout_lines"] == ["out"] && raw.values["stderr"] == "err\n")
        try await box.sh("printf 'a\\0b' > \(shellQuote(box.path("bin")))")
        let (slurp, _) = try await box.run(SlurpModule.self, ["src": .string(box.path("bin"))])
        #expect(slurp.values["content"] == "YQBi" && slurp.values["encoding"] == "base64")
        let (missing, _) = try await box.run(SlurpModule.self, ["path": .string(box.path("none"))])
        #expect(missing.failed && missing.msg == "file not found: \(box.path("none"))")
        let (dir, _) = try await box.run(SlurpModule.self, ["src": .string(box.dir)])
        #expect(dir.failed)
        #expect(throws: PGHAError.self) { try validate(SlurpModule.self, [:]) }
        #expect(throws: PGHAError.self) { try validate(PingModule.self, ["bogus": 1]) }
    }

    @Test(arguments: TestTarget.all)
    func fetchCopiesToTheControllerOnce(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let src = box.path("remote.txt")
        try await box.sh("printf 'data\\n' > \(shellQuote(src))")
        let (first, trips1, trips2) = try await box.expectIdempotent(
            FetchModule.self, ["src": .string(src), "dest": .string(box.localDir + "/out")])
        let expected = box.localDir + "/out/target" + src
        #expect(first.values["dest"] == .string(expected))
        #expect(first.values["checksum"] == .string(Digest.sha1(Array("data\n".utf8))))
        #expect(FileManager.default.contents(atPath: expected) == Data("data\n".utf8))
        #expect(trips1 == 2 && trips2 == 1)
        let flat = box.localDir + "/flat/"
        box.checkMode = true
        let (check, _) = try await box.run(
            FetchModule.self, ["src": .string(src), "dest": .string(flat), "flat": true])
        #expect(check.changed && !FileManager.default.fileExists(atPath: flat + "remote.txt"))
        box.checkMode = false
        _ = try await box.expectIdempotent(
            FetchModule.self, ["src": .string(src), "dest": .string(flat), "flat": true])
        #expect(FileManager.default.fileExists(atPath: flat + "remote.txt"))
        let (missing, _) = try await box.run(FetchModule.self, ["src": "/nonexistent/x", "dest": .string(flat)])
        #expect(missing.failed && missing.msg == "the remote file does not exist")
        let (ignored, _) = try await box.run(
            FetchModule.self, ["src": "/nonexistent/x", "dest": .string(flat), "fail_on_missing": false])
        #expect(!ignored.failed && !ignored.changed)
    }

    @Test(arguments: TestTarget.all)
    func scriptRunsWithArgumentsAndCreates(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        _ = try box.writeLocal("s.sh", "#!/bin/sh\necho \"args: $1 $2\"; pwd\n")
        let (run, trips) = try await box.run(
            ScriptModule.self, ["_raw_params": "s.sh one 'two words'", "chdir": .string(box.dir)])
        #expect(!run.failed && run.changed)
        #expect(run.values["stdout_lines"] == ["args: one two words", .string(box.dir)])
        #expect(trips == 3)
        let (skipped, _) = try await box.run(ScriptModule.self, ["_raw_params": "s.sh", "creates": .string(box.dir)])
        #expect(skipped.skipped && skipped.msg == "skipped, since \(box.dir) exists")
        let (missing, _) = try await box.run(ScriptModule.self, ["_raw_params": "nope.sh"])
        #expect(missing.failed)
        #expect(try await box.sh("ls /tmp | grep -c pgha-script || true") == "0\n")
    }

    @Test(arguments: TestTarget.all)
    func hostnameInCheckModeOnly(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let current = try await box.sh("hostname").trimmingCharacters(in: .whitespacesAndNewlines)
        box.checkMode = true
        box.diffMode = true
        let (same, _) = try await box.run(HostnameModule.self, ["name": .string(current)])
        // The permanent name may differ from the running one in a container; only compare when equal.
        let permanent = try await box.sh("hostnamectl --static 2>/dev/null || cat /etc/hostname 2>/dev/null || true")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if permanent == current { #expect(!same.changed) }
        let (other, _) = try await box.run(HostnameModule.self, ["name": "pgha-db1.example.com"])
        #expect(other.changed)
        #expect(other.diffs.first?.after == "hostname = pgha-db1.example.com\n")
        #expect(other.values["ansible_facts"]?.dictValue?["ansible_hostname"] == "pgha-db1")
        #expect(try await box.sh("hostname").trimmingCharacters(in: .whitespacesAndNewlines) == current)
        #expect(throws: PGHAError.self) { try validate(HostnameModule.self, ["name": "x", "use": "bsd"]) }
    }
}

@Suite struct CronModuleTests {
    @Test(arguments: TestTarget.all)
    func cronFileJobsWithMarkers(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let file = box.path("cron.d/pgha")
        try await box.sh("mkdir \(shellQuote(box.path("cron.d")))")
        let args: OrderedDictionary<String, Value> = [
            "name": "backup", "cron_file": .string(file), "user": "postgres", "minute": "0", "hour": "3",
            "job": "/usr/local/bin/backup.sh",
        ]
        let (first, _, _) = try await box.expectIdempotent(CronModule.self, args)
        #expect(first.values["jobs"] == ["backup"])
        #expect(
            try await box.sh("cat \(shellQuote(file))")
                == "#Ansible: backup\n0 3 * * * postgres /usr/local/bin/backup.sh\n")
        var reboot = args
        reboot["name"] = "start"
        reboot["special_time"] = "reboot"
        reboot["job"] = "echo hi"
        _ = try await box.expectIdempotent(CronModule.self, reboot)
        var disabled = args
        disabled["disabled"] = true
        box.diffMode = true
        let check = try await box.expectCheckModeChangesNothing(CronModule.self, disabled)
        #expect(check.diffs.first?.after.contains("#0 3 * * * postgres /usr/local/bin/backup.sh\n") == true)
        box.diffMode = false
        _ = try await box.expectIdempotent(CronModule.self, disabled)
        #expect(
            try await box.sh("cat \(shellQuote(file))")
                == "#Ansible: backup\n#0 3 * * * postgres /usr/local/bin/backup.sh\n#Ansible: start\n@reboot postgres echo hi\n"
        )
        _ = try await box.expectIdempotent(
            CronModule.self, ["name": "backup", "cron_file": .string(file), "user": "postgres", "state": "absent"])
        #expect(try await box.sh("cat \(shellQuote(file))") == "#Ansible: start\n@reboot postgres echo hi\n")
        // An unnamed existing line gets a marker the first time it is managed.
        try await box.sh("printf '5 * * * * postgres vacuum\\n' >> \(shellQuote(file))")
        let (adopted, _) = try await box.run(
            CronModule.self,
            ["name": "vacuum", "cron_file": .string(file), "user": "postgres", "minute": "5", "job": "vacuum"])
        #expect(adopted.changed)
        #expect(try await box.sh("tail -2 \(shellQuote(file))") == "#Ansible: vacuum\n5 * * * * postgres vacuum\n")
        _ = try await box.expectIdempotent(CronModule.self, ["cron_file": .string(file), "state": "absent"])
        #expect(try await box.sh("[ -e \(shellQuote(file)) ] || echo gone") == "gone\n")
        let (noJob, _) = try await box.run(CronModule.self, ["name": "x", "cron_file": .string(file)])
        #expect(noJob.failed)
    }

    @Test(arguments: TestTarget.all)
    func environmentVariablesAsCronPy(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let file = box.path("cron.d/env")
        try await box.sh("mkdir \(shellQuote(box.path("cron.d")))")
        let job: OrderedDictionary<String, Value> = [
            "name": "backup", "cron_file": .string(file), "user": "postgres", "minute": "0", "job": "backup.sh",
        ]
        _ = try await box.expectIdempotent(CronModule.self, job)
        let path: OrderedDictionary<String, Value> = [
            "name": "PATH", "env": true, "job": "/usr/bin:/bin", "cron_file": .string(file), "user": "postgres",
        ]
        let (first, _, _) = try await box.expectIdempotent(CronModule.self, path)
        #expect(first.values["envs"] == ["PATH"] && first.values["jobs"] == ["backup"])
        var mailto = path
        mailto["name"] = "MAILTO"
        mailto["job"] = "ops@example.org"
        mailto["insertafter"] = "PATH"
        _ = try await box.expectIdempotent(CronModule.self, mailto)
        #expect(try await box.sh("cat \(shellQuote(file))")
            == "PATH=\"/usr/bin:/bin\"\nMAILTO=\"ops@example.org\"\n#Ansible: backup\n0 * * * * postgres backup.sh\n")
        mailto["job"] = "dba@example.org"
        box.diffMode = true
        let check = try await box.expectCheckModeChangesNothing(CronModule.self, mailto)
        #expect(check.diffs.first?.after.contains("MAILTO=\"dba@example.org\"\n") == true)
        box.diffMode = false
        _ = try await box.expectIdempotent(CronModule.self, mailto)
        var absent = path
        absent["state"] = "absent"
        _ = try await box.expectIdempotent(CronModule.self, absent)
        #expect(try await box.sh("head -1 \(shellQuote(file))") == "MAILTO=\"dba@example.org\"\n")
        var missing = path
        missing["name"] = "LANG"
        missing["insertbefore"] = "NOPE"
        #expect(try await box.run(CronModule.self, missing).result.msg == "Variable named 'NOPE' not found.")
        #expect(try await box.run(CronModule.self, ["name": "x", "job": "y", "insertafter": "PATH", "cron_file": .string(file)]).result.failed)
        #expect(throws: PGHAError.self) { try validate(CronModule.self, ["name": "x", "special_time": "sometimes"]) }
    }
}

extension CronModuleTests {
    @Test(arguments: TestTarget.all)
    func userCrontabThroughCrontabCommand(target: TestTarget) async throws {
        guard requireRoot() else { return }
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        guard try await box.sh("command -v crontab || true").contains("crontab") else {
            if inCI { Issue.record("crontab is not installed on the target") }
            return
        }
        try await box.sh("crontab -u nobody -r 2>/dev/null || true")
        defer { Task { _ = try? await box.sh("crontab -u nobody -r 2>/dev/null || true") } }
        let args: OrderedDictionary<String, Value> = [
            "name": "check", "user": "nobody", "minute": "*/5", "job": "true",
        ]
        let (first, _, _) = try await box.expectIdempotent(CronModule.self, args)
        #expect(first.values["jobs"] == ["check"])
        #expect(try await box.sh("crontab -u nobody -l") == "#Ansible: check\n*/5 * * * * true\n")
        box.checkMode = true
        let (check, _) = try await box.run(CronModule.self, ["name": "check", "user": "nobody", "state": "absent"])
        #expect(check.changed)
        box.checkMode = false
        #expect(try await box.sh("crontab -u nobody -l") == "#Ansible: check\n*/5 * * * * true\n")
        _ = try await box.expectIdempotent(CronModule.self, ["name": "check", "user": "nobody", "state": "absent"])
        #expect(try await box.sh("crontab -u nobody -l") == "")
    }
}

@Suite struct FindModuleTests {
    @Test(arguments: TestTarget.all)
    func patternsTypesRecurseContains(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        try await box.sh(
            "cd \(shellQuote(box.dir)) && mkdir -p sub/deeper && printf 'port=1\\n' > a.conf && printf 'x\\n' > b.log && printf 'port=2\\n' > sub/c.conf && touch .hidden.conf sub/deeper/d.conf && truncate -s 2048 big.conf"
        )
        let (flat, _) = try await box.run(FindModule.self, ["paths": .string(box.dir), "patterns": "*.conf"])
        let flatPaths = Set((flat.values["files"]?.listValue ?? []).compactMap { $0.dictValue?["path"]?.stringValue })
        #expect(flatPaths == [box.path("a.conf"), box.path("big.conf")])
        #expect(flat.values["matched"] == 2)
        #expect(flat.values["examined"] == 5)
        let (deep, _) = try await box.run(
            FindModule.self,
            [
                "paths": .string(box.dir), "patterns": "^[a-c]\\.conf$", "use_regex": true, "recurse": true,
                "hidden": true,
            ])
        #expect(deep.values["matched"] == 2)
        let (contains, _) = try await box.run(
            FindModule.self, ["paths": .string(box.dir), "recurse": true, "contains": "port=\\d"])
        #expect(contains.values["matched"] == 2)
        let (size, _) = try await box.run(FindModule.self, ["paths": .string(box.dir), "size": "1k"])
        #expect(size.values["matched"] == 1)
        let (dirs, _) = try await box.run(
            FindModule.self, ["paths": .string(box.dir), "file_type": "directory", "recurse": true])
        #expect(dirs.values["matched"] == 2)
        let first = dirs.values["files"]?.listValue?.first?.dictValue
        #expect(first?["isdir"] == true && first?["mode"] != nil && first?["pw_name"] != nil)
        let (old, _) = try await box.run(FindModule.self, ["paths": .string(box.dir), "age": "1d"])
        #expect(old.values["matched"] == 0)
        let (missing, _) = try await box.run(FindModule.self, ["paths": "/nonexistent-pgha"])
        #expect(missing.values["matched"] == 0 && missing.msg?.hasPrefix("Not all paths") == true)
        #expect(throws: PGHAError.self) { try validate(FindModule.self, ["patterns": "*"]) }
    }
}

@Suite struct NetworkModuleTests {
    /// An HTTP server for three requests on loopback, run on the target with python3.
    static func serve(_ box: Sandbox, body: String, contentType: String, status: Int = 200) async throws -> Int {
        let script = """
            import http.server, socketserver, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self): self.reply()
                def do_POST(self): self.reply()
                def reply(self):
                    n = int(self.headers.get('Content-Length') or 0)
                    got = self.rfile.read(n).decode()
                    data = (\(JSON.encode(.string(body))) + got + self.headers.get('Authorization', '')).encode()
                    self.send_response(\(status)); self.send_header('Content-Type', \(JSON.encode(.string(contentType))))
                    self.send_header('Content-Length', str(len(data))); self.end_headers(); self.wfile.write(data)
                def log_message(self, *a): pass
            s = socketserver.TCPServer(('127.0.0.1', 0), H)
            print(s.server_address[1], flush=True)
            # Three requests within five minutes in all: a loaded CI machine may leave long gaps.
            import time
            deadline = time.time() + 300
            for _ in range(3):
                s.timeout = max(1, deadline - time.time())
                s.handle_request()
            """
        try await box.sh("printf '%s' \(shellQuote(script)) > \(shellQuote(box.path("srv.py")))")
        let portFile = shellQuote(box.path("port"))
        try await box.sh(
            "(python3 \(shellQuote(box.path("srv.py"))) > \(portFile) 2>&1 &); for i in $(seq 100); do [ -s \(portFile) ] && break; sleep 0.2; done"
        )
        return Int(
            try await box.sh("cat \(shellQuote(box.path("port")))").trimmingCharacters(in: .whitespacesAndNewlines))
            ?? 0
    }

    @Test(arguments: TestTarget.all)
    func uriJsonBodyAuthAndStatus(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let port = try await Self.serve(box, body: "{\"ok\": true, \"echo\": \"", contentType: "application/json")
        #expect(port > 0)
        let (json, _) = try await box.run(
            UriModule.self,
            [
                "url": .string("http://127.0.0.1:\(port)/"), "method": "POST", "body_format": "raw",
                "body": "x\"}", "return_content": true,
            ])
        #expect(!json.failed, "\(json.msg ?? "")")
        #expect(json.values["status"] == 200)
        #expect(json.values["json"]?.dictValue?["ok"] == true)
        #expect(json.values["content_type"] == "application/json")
        let (auth, _) = try await box.run(
            UriModule.self,
            [
                "url": .string("http://127.0.0.1:\(port)/"), "user": "u", "password": "s3cret",
                "force_basic_auth": true, "return_content": true, "status_code": [201, 200],
            ])
        #expect(auth.values["content"]?.stringValue?.hasSuffix("Basic dTpzM2NyZXQ=") == true)
        // The password never appears on a command line.
        #expect(!box.connection.commands.contains { $0.contains("s3cret") })
        let (wrong, _) = try await box.run(
            UriModule.self, ["url": .string("http://127.0.0.1:\(port)/"), "status_code": 204])
        #expect(wrong.failed && wrong.msg?.hasPrefix("Status code was 200 and not [204]") == true)
        let (skipped, trips) = try await box.run(
            UriModule.self, ["url": "http://127.0.0.1:1/", "creates": .string(box.dir)])
        #expect(!skipped.changed && !skipped.failed && trips == 1)
        #expect(skipped.values["stdout"] == .string("skipped, since '\(box.dir)' exists"))
        let (refused, _) = try await box.run(UriModule.self, ["url": "http://127.0.0.1:1/"])
        #expect(refused.failed && refused.values["status"] == -1)
        #expect(throws: PGHAError.self) { try validate(UriModule.self, ["url": "x", "body_format": "xml"]) }
    }

    @Test(arguments: TestTarget.all)
    func getUrlFileUrlChecksumAndForce(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let src = box.path("src.txt")
        try await box.sh("printf 'payload\\n' > \(shellQuote(src))")
        let dest = box.path("dl.txt")
        let sum = Digest.sha1(Array("payload\n".utf8))
        let args: OrderedDictionary<String, Value> = [
            "url": .string("file://" + src), "dest": .string(dest), "mode": "0640", "checksum": .string("sha1:" + sum),
        ]
        _ = try await box.expectCheckModeChangesNothing(GetUrlModule.self, args)
        let (first, _, _) = try await box.expectIdempotent(GetUrlModule.self, args)
        #expect(first.values["checksum_src"] == .string(sum) && first.values["mode"] == "0640")
        #expect(try await box.sh("cat \(shellQuote(dest)); stat -c %a \(shellQuote(dest))") == "payload\n640\n")
        // force: downloads again, unchanged content is still ok.
        var forced = args
        forced["force"] = true
        let (again, _) = try await box.run(GetUrlModule.self, forced)
        #expect(!again.changed && !again.failed)
        var bad = forced
        bad["checksum"] = "sha1:0000"
        let (mismatch, _) = try await box.run(GetUrlModule.self, bad)
        #expect(mismatch.failed && mismatch.msg?.contains("did not match") == true)
        let (missing, _) = try await box.run(
            GetUrlModule.self, ["url": .string("file://" + box.path("nope")), "dest": .string(box.path("x"))])
        #expect(missing.failed)
    }

    @Test(arguments: TestTarget.all)
    func waitForPortAndPath(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let flag = box.path("ready")
        // The writer runs from the test, not as a background job on the host, so nothing on the
        // host (a reaped process group, a loaded CI machine) can keep the file from appearing.
        let writer = Task {
            try await Task.sleep(nanoseconds: 1_000_000_000)
            _ = try await box.sh("printf 'state: ready 42\\n' > \(shellQuote(flag))")
        }
        let (found, _) = try await box.run(
            WaitForModule.self, ["path": .string(flag), "search_regex": "ready (\\d+)", "timeout": 30])
        try await writer.value
        #expect(!found.failed, "\(found.msg ?? "")")
        #expect(found.values["match_groups"] == ["42"])
        #expect(found.values["elapsed"]?.intValue != nil)
        let (closed, _) = try await box.run(WaitForModule.self, ["port": 1, "state": "stopped", "timeout": 5])
        #expect(!closed.failed)
        let (timeout, _) = try await box.run(WaitForModule.self, ["port": 1, "timeout": 1])
        #expect(timeout.failed && timeout.msg == "Timeout when waiting for 127.0.0.1:1")
        let (absent, _) = try await box.run(
            WaitForModule.self, ["path": .string(box.path("never")), "state": "absent", "timeout": 2])
        #expect(!absent.failed)
        #expect(throws: PGHAError.self) { try validate(WaitForModule.self, ["port": 1, "path": "/x"]) }
    }

    @Test(arguments: TestTarget.all)
    func modprobeCheckModeOnly(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        box.checkMode = true
        let (load, trips) = try await box.run(ModprobeModule.self, ["name": "pgha_no_such_module"])
        #expect(load.changed && trips == 1)
        let (unload, _) = try await box.run(ModprobeModule.self, ["name": "pgha_no_such_module", "state": "absent"])
        #expect(!unload.changed)
        #expect(throws: PGHAError.self) { try validate(ModprobeModule.self, ["name": "x", "persistent": "yes"]) }
    }
}
