import Foundation
import OrderedCollections
import PGHACore
import Testing

@testable import Modules

/// ufw's state as read from its files, and the rule tuples predicted for ufw to skip. The expected
/// tuples are what ufw 0.36.2 wrote on a lab host for the built-in roles' rules; the module's lab
/// test (UfwModuleTests) runs the real ufw against the same decisions.
@Suite struct UfwStateTests {
    /// What UfwState.script prints on an enabled lab host (grep -H lines, then the markers).
    static let enabledHost = """
        /etc/ufw/ufw.conf:# /etc/ufw/ufw.conf
        /etc/ufw/ufw.conf:ENABLED=yes
        /etc/ufw/ufw.conf:LOGLEVEL=low
        /etc/default/ufw:IPV6=yes
        /etc/default/ufw:DEFAULT_INPUT_POLICY="DROP"
        /etc/default/ufw:DEFAULT_OUTPUT_POLICY="ACCEPT"
        /etc/default/ufw:DEFAULT_FORWARD_POLICY="DROP"
        /etc/default/ufw:DEFAULT_APPLICATION_POLICY="SKIP"
        /proc/sys/net/ipv4/ip_forward:0
        /proc/sys/net/ipv6/conf/default/forwarding:0
        /proc/sys/net/ipv6/conf/all/forwarding:0
        /etc/ufw/user.rules:*filter
        /etc/ufw/user.rules::ufw-user-input - [0:0]
        /etc/ufw/user.rules:
        /etc/ufw/user.rules:### tuple ### allow tcp 22 0.0.0.0/0 any 10.77.0.1 in comment=7067686120737368
        /etc/ufw/user.rules:-A ufw-user-input -p tcp --dport 22 -s 10.77.0.1 -j ACCEPT
        /etc/ufw/user.rules:### tuple ### allow any any 0.0.0.0/0 any 0.0.0.0/0 in_lo comment=6369732d68617264656e696e67206c6f6f706261636b
        /etc/ufw/user.rules:### tuple ### deny any any 0.0.0.0/0 any 127.0.0.0/8 in comment=6369732d68617264656e696e67206c6f6f706261636b
        /etc/ufw/user.rules:### tuple ### allow tcp 5432 0.0.0.0/0 any 10.77.0.0/24 in comment=7067686120686170726f787920636c69656e7473
        /etc/ufw/user.rules:COMMIT
        /etc/ufw/user6.rules:*filter
        /etc/ufw/user6.rules::ufw6-user-input - [0:0]
        /etc/ufw/user6.rules:### tuple ### allow any any ::/0 any ::/0 in_lo comment=6369732d68617264656e696e67206c6f6f706261636b
        /etc/ufw/user6.rules:### tuple ### deny any any ::/0 any ::1 in comment=6369732d68617264656e696e67206c6f6f706261636b
        /etc/ufw/user6.rules:COMMIT
        @ipv6
        @loaded

        """

    func arguments(_ args: OrderedDictionary<String, Value>) throws -> ModuleArguments {
        try UfwModule.arguments.validate(
            args, module: "ufw", locations: [:], taskLocation: SourceLocation(file: "t.yml", line: 1),
            allowTemplates: false)
    }

    @Test func statusIsWhatUfwStatusVerboseStartsWith() {
        let state = UfwState(parsing: Self.enabledHost)
        #expect(
            state.status
                == "Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), disabled (routed)\nNew profiles: skip\n"
        )
        #expect(state.usesIPv6)
        #expect(state.rules4.hasPrefix("*filter\n:ufw-user-input - [0:0]\n\n### tuple ### allow tcp 22"))
        #expect(state.rules4.hasSuffix("COMMIT\n"))
        #expect(state.tuples.v4.count == 4 && state.tuples.v6.count == 2)
        // Forwarding on shows the configured routed policy; chains not loaded is ufw's "inactive".
        let forwarding = UfwState(parsing: Self.enabledHost.replacingOccurrences(of: "ip_forward:0", with: "ip_forward:1"))
        #expect(forwarding.status.contains("deny (routed)"))
        let unloaded = UfwState(parsing: Self.enabledHost.replacingOccurrences(of: "@loaded", with: "@unloaded"))
        #expect(unloaded.status == "Status: inactive\n")
        let off = UfwState(parsing: Self.enabledHost.replacingOccurrences(of: "LOGLEVEL=low", with: "LOGLEVEL=off"))
        #expect(off.status.contains("Logging: off\n"))
        #expect(UfwModule.defaultPolicy(state.status, "incoming") == "deny")
    }

    @Test func predictedTuplesAreUfwsOwn() throws {
        func predict(_ args: OrderedDictionary<String, Value>) throws -> UfwRuleTuple.Prediction? {
            UfwRuleTuple.predict(try arguments(args), usesIPv6: true)
        }
        let ssh = try #require(
            try predict(["rule": "allow", "proto": "tcp", "port": "22", "from_ip": "10.77.0.1", "comment": "pgha ssh"]))
        #expect(ssh.v4 == "### tuple ### allow tcp 22 0.0.0.0/0 any 10.77.0.1 in comment=7067686120737368")
        #expect(ssh.v6 == nil)
        let network = try #require(
            try predict([
                "rule": "allow", "proto": "tcp", "port": "5432", "src": "10.77.0.0/24", "comment": "pgha haproxy clients",
            ]))
        #expect(network.v4 == "### tuple ### allow tcp 5432 0.0.0.0/0 any 10.77.0.0/24 in comment=7067686120686170726f787920636c69656e7473")
        let loopback = try #require(
            try predict(["rule": "allow", "direction": "in", "interface": "lo", "comment": "cis-hardening loopback"]))
        #expect(loopback.v4 == "### tuple ### allow any any 0.0.0.0/0 any 0.0.0.0/0 in_lo comment=6369732d68617264656e696e67206c6f6f706261636b")
        #expect(loopback.v6 == "### tuple ### allow any any ::/0 any ::/0 in_lo comment=6369732d68617264656e696e67206c6f6f706261636b")
        let spoofed6 = try #require(try predict(["rule": "deny", "from_ip": "::1", "comment": "cis-hardening loopback"]))
        #expect(spoofed6.v4 == nil)
        #expect(spoofed6.v6 == "### tuple ### deny any any ::/0 any ::1 in comment=6369732d68617264656e696e67206c6f6f706261636b")
        // A /32 host mask is dropped as ufw drops it; log and a range keep ufw's spelling.
        let host = try #require(try predict(["rule": "limit", "proto": "udp", "port": "60000:61000", "src": "10.1.2.3/32", "log": true]))
        #expect(host.v4 == "### tuple ### limit_log udp 60000:61000 0.0.0.0/0 any 10.1.2.3 in")
        // Forms ufw would rewrite or interpret are left to ufw.
        #expect(try predict(["rule": "allow", "src": "10.77.0.5/24"]) == nil)
        #expect(try predict(["rule": "allow", "port": "ssh", "proto": "tcp"]) == nil)
        #expect(try predict(["rule": "allow", "name": "OpenSSH"]) == nil)
        #expect(try predict(["rule": "allow", "src": "::0001"]) == nil)
        #expect(try predict(["rule": "allow", "src": "10.0.0.1", "to_ip": "::1"]) == nil)
        #expect(try predict(["rule": "allow", "route": true]) == nil)
        #expect(try predict(["rule": "allow", "interface": "lo"]) == nil)
        #expect(try predict(["rule": "allow", "port": "1:2"]) == nil)
    }

    @Test func rulesUfwWouldSkipNeedNoUfw() throws {
        let state = UfwState(parsing: Self.enabledHost)
        let present: OrderedDictionary<String, Value> = [
            "rule": "allow", "proto": "tcp", "port": "22", "from_ip": "10.77.0.1", "comment": "pgha ssh",
        ]
        let skipped = try #require(UfwModule.unchangedRule(try arguments(present), state))
        #expect(!skipped.changed)
        #expect(skipped.msg == "Skipping adding existing rule")
        // Another comment is a change ufw makes; a missing rule too.
        var recommented = present
        recommented["comment"] = "other"
        #expect(UfwModule.unchangedRule(try arguments(recommented), state) == nil)
        var missing = present
        missing["port"] = "23"
        #expect(UfwModule.unchangedRule(try arguments(missing), state) == nil)
        // Deleting: ufw deletes whatever the comment, so only a rule in neither file is skipped.
        var delete = recommented
        delete["delete"] = true
        #expect(UfwModule.unchangedRule(try arguments(delete), state) == nil)
        missing["delete"] = true
        #expect(UfwModule.unchangedRule(try arguments(missing), state)?.msg == "Could not delete non-existent rule")
        // Both families must hold the rule that applies to both.
        let loopback: OrderedDictionary<String, Value> = [
            "rule": "allow", "direction": "in", "interface": "lo", "comment": "cis-hardening loopback",
        ]
        #expect(
            UfwModule.unchangedRule(try arguments(loopback), state)?.msg
                == "Skipping adding existing rule\nSkipping adding existing rule (v6)")
        let v6Line = "/etc/ufw/user6.rules:### tuple ### allow any any ::/0 any ::/0 in_lo comment=6369732d68617264656e696e67206c6f6f706261636b\n"
        #expect(Self.enabledHost.contains(v6Line))
        let v4only = UfwState(parsing: Self.enabledHost.replacingOccurrences(of: v6Line, with: ""))
        #expect(UfwModule.unchangedRule(try arguments(loopback), v4only) == nil)
    }
}
