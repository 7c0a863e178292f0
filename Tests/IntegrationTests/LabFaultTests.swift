import Foundation
import OrderedCollections
import PGHACore
import Testing

/// Faults in the middle of a run, on real lab hosts (issue 17): a host partitioned during a task,
/// sshd restarted during a run, Ctrl-C during file transfers, a full disk while a template is
/// written. Each ends as ansible-playbook's would, and no file on a host is ever half-written.
///
/// Hosts: PGHA_LAB_FAULT_HOSTS (default `node32=10.77.0.43,node33=10.77.0.44`); the tests change
/// files under /var/tmp/pgha-fault and /etc/pgha-fault-*, mount a small tmpfs on /mnt/pgha-full
/// and partition the first host (healed afterwards). Runs with PGHA_LAB_TESTS=1 and always under
/// CI=true, where a missing lab fails the tests.
@Suite(.serialized, .enabled(if: LabFactsEnvironment.enabled))
struct LabFaultTests {
    struct Host {
        var name: String
        var address: String
    }

    static let hosts: [Host] = {
        let spec = ProcessInfo.processInfo.environment["PGHA_LAB_FAULT_HOSTS"] ?? "node32=10.77.0.43,node33=10.77.0.44"
        return spec.split(separator: ",").compactMap { item in
            let parts = item.split(separator: "=").map(String.init)
            return parts.count == 2 ? Host(name: parts[0], address: parts[1]) : nil
        }
    }()

    static var state: String { LabFactsEnvironment.stateDir }
    var first: Host { Self.hosts[0] }
    var second: Host { Self.hosts[1] }

    /// A work directory with an inventory of the fault hosts.
    final class Workspace: TemporaryDirectory {
        init() throws {
            try super.init(prefix: "pgha-fault-")
            var inventory = "[lab]\n"
            for host in LabFaultTests.hosts { inventory += "\(host.name) ansible_host=\(host.address)\n" }
            inventory += TestSupport.labInventoryVars(stateDirectory: LabFaultTests.state)
            try write("inventory.ini", inventory)
        }

        func run(_ arguments: [String]) throws -> TestSupport.Output {
            try TestSupport.run(
                TestSupport.executable, ["-i", root + "/inventory.ini", "--output", "json"] + arguments + [root + "/site.yml"],
                in: root)
        }

        func background(_ arguments: [String]) throws -> BackgroundRun {
            try BackgroundRun(inventory: root + "/inventory.ini", playbook: root + "/site.yml", extraArguments: arguments)
        }
    }

    /// Limits what the controller sends to `host` (the egress of its bridge port, vb-NAME) with a
    /// token bucket, or removes the limit (nil).
    static func shapeLink(of host: Host, megabitsPerSecond rate: Int?) throws {
        let port = "vb-" + host.name
        _ = try TestSupport.run("/usr/sbin/tc", ["qdisc", "del", "dev", port, "root"])
        guard let rate else { return }
        let added = try TestSupport.run(
            "/usr/sbin/tc", ["qdisc", "add", "dev", port, "root", "tbf", "rate", "\(rate)mbit", "burst", "64kb", "latency", "500ms"])
        try #require(added.status == 0, "tc could not shape \(port): \(added.stderr)")
    }

    /// A command on a lab host over a separate OpenSSH login (as root with `sudo`).
    @discardableResult
    static func ssh(_ host: Host, _ command: String, timeout: Int = 20) throws -> TestSupport.Output {
        try TestSupport.run("/usr/bin/timeout", [
            String(timeout), "/usr/bin/ssh", "-i", state + "/id_ed25519", "-o", "UserKnownHostsFile=\(state)/known_hosts",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
            "deploy@\(host.address)", command,
        ])
    }

    static func lab(_ arguments: String...) throws -> TestSupport.Output {
        try TestSupport.run(TestSupport.executable, ["lab"] + arguments)
    }

    static func events(_ stdout: String) -> [OrderedDictionary<String, Value>] {
        stdout.split(separator: "\n").compactMap { (try? JSON.decode(String($0)))?.dictValue }
    }

    static func recap(_ events: [OrderedDictionary<String, Value>]) -> Value? {
        events.first { $0["event"] == "recap" }?["hosts"]
    }

    /// Polls `host` until `command` succeeds there (up to `seconds`).
    static func waitUntil(_ host: Host, _ command: String, seconds: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? ssh(host, command, timeout: 5))?.status == 0 { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    // MARK: - Partition

    @Test func partitionedHostIsUnreachableWithinTheTimeoutAndARerunConverges() throws {
        let workspace = try Workspace()
        for host in Self.hosts { try Self.ssh(host, "sudo rm -f /etc/pgha-fault-partition*") }
        try workspace.write("site.yml", """
            - hosts: lab
              gather_facts: false
              become: true
              tasks:
                - name: config
                  copy: {content: "v1\\n", dest: /etc/pgha-fault-partition.conf, mode: "0644"}
                - name: long
                  command: "sleep {{ long_sleep | default(0) if inventory_hostname == '\(first.name)' else 0 }}"
                  changed_when: false
                - name: after
                  copy: {content: "v2\\n", dest: /etc/pgha-fault-partition-after.conf, mode: "0644"}

            """)
        let run = try workspace.background(["-T", "4", "-e", "long_sleep=15"])
        var partitioned = false
        defer {
            if run.process.isRunning { run.process.terminate() }
            if partitioned { _ = try? Self.lab("heal", first.name) }
        }
        #expect(Self.waitUntil(first, "pgrep -x sleep"), "the long task never started on \(first.name)")
        let partition = try Self.lab("partition", first.name)
        partitioned = partition.status == 0
        try #require(partitioned, "lab partition \(first.name): \(partition.stderr)")
        let partitionedAt = Date()
        let (status, events, stderr) = run.finish()
        let noticed = Date().timeIntervalSince(partitionedAt)
        let statuses = BackgroundRun.statuses(events)
        let log = "\(statuses.joined(separator: "\n"))\n\(stderr)"
        #expect(status == 4, "exit \(status)\n\(log)")
        #expect(statuses.contains("long \(first.name): unreachable"), "\(log)")
        #expect(statuses.contains("long \(second.name): ok"), "\(log)")
        #expect(statuses.contains("after \(second.name): changed"), "\(log)")
        #expect(!statuses.contains("after \(first.name): changed"), "\(log)")
        // -T 4: the silence is noticed within the timeout (plus a keepalive interval and the
        // run's own end: the other host is done by then), long before the 15 s sleep would end.
        #expect(noticed < 9, "the partition took \(noticed) s to notice")
        let message = events.first {
            $0["event"] == "host_result" && $0["host"]?.stringValue == first.name && $0["task"] == "long"
        }?["result"]?["msg"]
        #expect(message?.stringValue?.contains("stopped answering") == true, "\(String(describing: message))")

        let heal = try Self.lab("heal", first.name)
        partitioned = heal.status != 0
        #expect(heal.status == 0, "lab heal: \(heal.stderr)")
        // After healing: the first rerun finishes the partitioned host's work, the next changes nothing.
        let rerun = try workspace.run(["-T", "4"])
        #expect(rerun.status == 0, "\(rerun.stdout)\n\(rerun.stderr)")
        let again = try workspace.run(["-T", "4"])
        #expect(again.status == 0, "\(again.stderr)")
        let recap = Self.recap(Self.events(again.stdout))
        for host in Self.hosts {
            #expect(recap?[host.name]?["changed"] == 0, "\(again.stdout)")
            #expect(recap?[host.name]?["ok"] == 3, "\(again.stdout)")
        }
    }

    // MARK: - sshd restarted

    @Test func sshdRestartedDuringARunReconnectsOrFailsCleanly() throws {
        let workspace = try Workspace()
        for host in Self.hosts { try Self.ssh(host, "sudo rm -rf /var/tmp/pgha-fault && sudo mkdir -p /var/tmp/pgha-fault") }
        try workspace.write("site.yml", """
            - hosts: lab
              gather_facts: false
              become: true
              tasks:
                - name: step
                  command: "sleep 1"
                  changed_when: false
                  loop: "{{ range(10) | list }}"
                - name: write
                  copy: {content: "after the restart\\n", dest: /var/tmp/pgha-fault/restart.txt}
                - name: read
                  command: cat /var/tmp/pgha-fault/restart.txt
                  changed_when: false

            """)
        let run = try workspace.background(["-T", "5"])
        defer { if run.process.isRunning { run.process.terminate() } }
        #expect(Self.waitUntil(first, "pgrep -x sleep"), "the loop never started on \(first.name)")
        Thread.sleep(forTimeInterval: 2)
        // Restart sshd and end every session of the login user (pgha-play's included); detached,
        // so this login's own end does not stop it.
        let restart = try Self.ssh(first, """
            sudo systemd-run --quiet --collect sh -c 'systemctl restart ssh; pkill -f "sshd: deploy"'
            """)
        #expect(restart.status == 0 || restart.status == 255, "restart: \(restart.stderr)")
        let started = Date()
        let (status, events, stderr) = run.finish()
        let statuses = BackgroundRun.statuses(events)
        let log = "\(statuses.joined(separator: "\n"))\n\(stderr)"
        #expect(Date().timeIntervalSince(started) < 60, "the run hung after the restart")
        // Reconnected (exit 0) or given up cleanly (exit 4, the host unreachable); never failed or crashed.
        #expect(status == 0 || status == 4, "exit \(status)\n\(log)")
        #expect(!statuses.contains { $0.hasSuffix(": failed") }, "\(log)")
        #expect(statuses.contains("write \(second.name): changed"), "\(log)")
        #expect(statuses.contains("read \(second.name): ok"), "\(log)")
        if status == 0 {
            #expect(statuses.contains("read \(first.name): ok"), "\(log)")
        } else {
            #expect(statuses.contains { $0.hasPrefix("step \(first.name)") && $0.hasSuffix("unreachable") }, "\(log)")
        }
        // sshd answers again, and a new run reaches the host.
        #expect(Self.waitUntil(first, "true", seconds: 30))
        let rerun = try workspace.run(["-T", "5"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
    }

    // MARK: - Ctrl-C

    @Test func interruptLeavesEveryFileWholeAndExits99WithARecap() throws {
        let workspace = try Workspace()
        var digests: [String] = []
        // Four different 16 MB files: each copy is a long transfer to interrupt.
        try FileManager.default.createDirectory(atPath: workspace.root + "/files", withIntermediateDirectories: true)
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        for index in 1...4 {
            let bytes = [UInt8](random.readData(ofLength: 16 << 20))
            try Data(bytes).write(to: URL(fileURLWithPath: workspace.root + "/files/big\(index).bin"))
            digests.append(Digest.sha1(bytes))
        }
        let old = "old content\n"
        for host in Self.hosts {
            // Upload directories left by earlier runs (a host lost mid-run keeps its own) go first.
            try Self.ssh(host, """
                sudo rm -rf /var/tmp/pgha-fault /tmp/.pgha-deploy-* && sudo mkdir -p /var/tmp/pgha-fault && \
                for i in 1 2 3 4; do printf 'old content\\n' | sudo tee /var/tmp/pgha-fault/f$i >/dev/null; done
                """)
        }
        try workspace.write("site.yml", """
            - hosts: lab
              gather_facts: false
              become: true
              tasks:
                - name: copy
                  copy: {src: "big{{ item }}.bin", dest: "/var/tmp/pgha-fault/f{{ item }}"}
                  loop: [1, 2, 3, 4]
                - name: never
                  file: {path: /var/tmp/pgha-fault/never, state: touch}

            """)
        // The links to the hosts shaped to 40 Mbit/s: each 16 MB upload takes about 3 s however fast
        // or idle the machine is (unshaped, a quiet machine finished all four before the first poll).
        for host in Self.hosts { try Self.shapeLink(of: host, megabitsPerSecond: 40) }
        defer { for host in Self.hosts { try? Self.shapeLink(of: host, megabitsPerSecond: nil) } }
        let run = try workspace.background([])
        defer { if run.process.isRunning { run.process.terminate() } }
        // Interrupt while an upload is under way (a file in the session's private upload directory).
        let uploading = Self.waitUntil(first, "sudo sh -c 'ls /tmp/.pgha-deploy-*/* >/dev/null 2>&1'", seconds: 180)
        run.process.interrupt()
        let interruptedAt = Date()
        let (status, events, stderr) = run.finish()
        #expect(status == 99, "exit \(status)\n\(stderr)")
        #expect(Date().timeIntervalSince(interruptedAt) < 30)
        #expect(stderr.contains("User interrupted execution"), "\(stderr)")
        let recap = Self.recap(events)
        for host in Self.hosts {
            #expect(recap?[host.name] != nil, "no recap for \(host.name): \(events.suffix(3))")
            #expect(recap?[host.name]?["failed"] == 0, "\(String(describing: recap))")
        }
        let expected = Set(digests + [Digest.sha1(Array(old.utf8))])
        for host in Self.hosts {
            let sums = try Self.ssh(host, "sudo sha1sum /var/tmp/pgha-fault/f1 /var/tmp/pgha-fault/f2 /var/tmp/pgha-fault/f3 /var/tmp/pgha-fault/f4")
            #expect(sums.status == 0, "\(sums.stderr)")
            for line in sums.stdout.split(separator: "\n") {
                let sum = String(line.prefix(40))
                #expect(expected.contains(sum), "\(host.name): \(line) is neither the old file nor a whole new one")
            }
            let listing = try Self.ssh(host, "sudo ls -A /var/tmp/pgha-fault; sudo sh -c 'ls -d /tmp/.pgha-deploy-* 2>/dev/null' || true")
            #expect(listing.stdout.split(separator: "\n").sorted() == ["f1", "f2", "f3", "f4"], "\(host.name) left: \(listing.stdout)")
        }
        #expect(uploading, "no upload was seen under way before the interrupt (the files were still checked)")
    }

    // MARK: - Full disk

    @Test(arguments: [true, false])
    func fullDiskWhileWritingATemplateFailsWithTheReasonAndKeepsTheOldFile(become: Bool) throws {
        let workspace = try Workspace()
        let host = second
        let mount = "/mnt/pgha-full"
        try Self.ssh(host, """
            sudo umount \(mount) 2>/dev/null; sudo mkdir -p \(mount) && sudo mount -t tmpfs -o size=512k tmpfs \(mount) && \
            sudo chown deploy \(mount) && printf 'old config\\n' > \(mount)/app.conf && \
            (dd if=/dev/zero of=\(mount)/fill bs=4k 2>/dev/null; true) && df \(mount)
            """)
        defer { _ = try? Self.ssh(host, "sudo umount \(mount)") }
        try workspace.write("templates/app.conf.j2", "{% for i in range(20000) %}line {{ i }} of the new configuration\n{% endfor %}")
        try workspace.write("site.yml", """
            - hosts: \(host.name)
              gather_facts: false
              become: \(become)
              tasks:
                - name: render
                  template: {src: app.conf.j2, dest: \(mount)/app.conf}

            """)
        let output = try workspace.run([])
        let events = Self.events(output.stdout)
        let result = events.first { $0["event"] == "host_result" && $0["task"] == "render" }
        #expect(output.status == 2, "\(output.stdout)\n\(output.stderr)")
        #expect(result?["status"] == "failed", "\(output.stdout)")
        let message = result?["result"]?["msg"]?.stringValue ?? ""
        #expect(message.contains("No space left on device"), "\(message)")
        let after = try Self.ssh(host, "cat \(mount)/app.conf; ls -A \(mount)")
        #expect(after.stdout == "old config\napp.conf\nfill\n", "\(after.stdout)")
    }
}
