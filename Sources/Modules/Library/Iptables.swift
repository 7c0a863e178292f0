import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.iptables`: one rule, a chain's policy, a flush, or a user chain, with the
/// iptables (and ip6tables) command lines Ansible's module builds. Each binary costs one round
/// trip: a script that tests the current state (`-C`, `-L`) and changes it unless --check.
public enum IptablesModule: Module {
    public static let declaration = ActionDeclaration(
        name: "iptables", qualifiedNames: ["ansible.builtin.iptables", "ansible.legacy.iptables"],
        supportsCheckMode: true,
        arguments: ArgumentSpec(
            [
                .init("table", .choice(["filter", "nat", "mangle", "raw", "security"]), default: "filter"),
                .init("state", .choice(["absent", "present"]), default: "present"),
                .init("action", .choice(["append", "insert"]), default: "append"),
                .init("ip_version", .choice(["ipv4", "ipv6", "both"]), default: "ipv4"),
                .init("chain", .string),
                .init("rule_num", .string),
                .init("protocol", .string),
                .init("wait", .string),
                .init("source", .string),
                .init("to_source", .string),
                .init("destination", .string),
                .init("to_destination", .string),
                .init("match", .list, default: []),
                .init("tcp_flags", .dict),
                .init("jump", .string),
                .init("gateway", .string),
                .init("log_prefix", .string),
                .init(
                    "log_level",
                    .choice([
                        "0", "1", "2", "3", "4", "5", "6", "7", "emerg", "alert", "crit", "error", "warning", "notice", "info",
                        "debug",
                    ])),
                .init("goto", .string),
                .init("in_interface", .string),
                .init("out_interface", .string),
                .init("fragment", .string),
                .init("set_counters", .string),
                .init("source_port", .string),
                .init("destination_port", .string),
                .init("destination_ports", .list, default: []),
                .init("to_ports", .string),
                .init("set_dscp_mark", .string),
                .init("set_dscp_mark_class", .string),
                .init("comment", .string),
                .init("ctstate", .list, default: []),
                .init("src_range", .string),
                .init("dst_range", .string),
                .init("match_set", .string),
                .init("match_set_flags", .choice(["src", "dst", "src,dst", "dst,src", "src,src", "dst,dst"])),
                .init("limit", .string),
                .init("limit_burst", .string),
                .init("uid_owner", .string),
                .init("gid_owner", .string),
                .init("reject_with", .string),
                .init("icmp_type", .string),
                .init("syn", .choice(["ignore", "match", "negate"]), default: "ignore"),
                .init("flush", .bool, default: false),
                .init("policy", .choice(["ACCEPT", "DROP", "QUEUE", "RETURN"])),
                .init("chain_management", .bool, default: false),
                .init("numeric", .bool, default: false),
            ],
            mutuallyExclusive: [["set_dscp_mark", "set_dscp_mark_class"], ["flush", "policy"]]),
        documentation: ActionDocumentation(
            "Modify iptables rules",
            details: [
                "Rules are tested with `iptables -C` and added with -A or -I, removed with -D, exactly as the "
                    + "module builds them (the same option order), so rules made by either tool are found by the other. "
                    + "Like Ansible's module, it does not save the rules: persist them with iptables-persistent."
            ],
            examples: """
                - name: Accept SSH
                  ansible.builtin.iptables:
                    chain: INPUT
                    protocol: tcp
                    destination_port: "22"
                    ctstate: [NEW]
                    jump: ACCEPT
                    comment: ssh

                - name: Drop what nothing accepted
                  ansible.builtin.iptables:
                    chain: INPUT
                    policy: DROP

                - name: A chain of our own
                  ansible.builtin.iptables:
                    chain: WHITELIST
                    chain_management: true
                """))

    /// `construct_rule`: the rule's words in the module's order.
    static func rule(_ args: ModuleArguments, jump: String?) -> [String] {
        var words: [String] = []
        func parameter(_ value: String?, _ flag: String) {
            guard let value else { return }
            if value.first == "!" { words += ["!", flag, String(value.dropFirst())] } else { words += [flag, value] }
        }
        func list(_ name: String) -> [String] { args.stringItems(name) ?? [] }
        func csv(_ items: [String], _ flag: String) { if !items.isEmpty { words += [flag, items.joined(separator: ",")] } }
        func match(_ present: Bool, _ module: String) { if present { words += ["-m", module] } }
        func matchFlag(_ value: String?, _ flag: String, negatable: Bool) {
            if value == "match" { words.append(flag) } else if negatable && value == "negate" { words += ["!", flag] }
        }
        let matches = list("match")
        parameter(args.string("protocol"), "-p")
        parameter(args.string("source"), "-s")
        parameter(args.string("destination"), "-d")
        for item in matches { parameter(item, "-m") }
        if let flags = args["tcp_flags"]?.dictValue, let set = flags["flags"]?.listValue, let on = flags["flags_set"]?.listValue {
            words += ["--tcp-flags", set.compactMap(\.pythonString).joined(separator: ","), on.compactMap(\.pythonString).joined(separator: ",")]
        }
        parameter(jump, "-j")
        if jump?.lowercased() == "tee" { parameter(args.string("gateway"), "--gateway") }
        parameter(args.string("log_prefix"), "--log-prefix")
        parameter(args.string("log_level"), "--log-level")
        parameter(args.string("to_destination"), "--to-destination")
        let ports = list("destination_ports")
        match(!ports.isEmpty, "multiport")
        csv(ports, "--dports")
        parameter(args.string("to_source"), "--to-source")
        parameter(args.string("goto"), "-g")
        parameter(args.string("in_interface"), "-i")
        parameter(args.string("out_interface"), "-o")
        parameter(args.string("fragment"), "-f")
        parameter(args.string("set_counters"), "-c")
        parameter(args.string("source_port"), "--source-port")
        parameter(args.string("destination_port"), "--destination-port")
        parameter(args.string("to_ports"), "--to-ports")
        let dscp = args.string("set_dscp_mark")
        let dscpClass = args.string("set_dscp_mark_class")
        parameter(dscp, "--set-dscp")
        if dscp != nil && jump?.lowercased() != "dscp" { words += ["-j", "DSCP"] }
        parameter(dscpClass, "--set-dscp-class")
        if dscpClass != nil && jump?.lowercased() != "dscp" { words += ["-j", "DSCP"] }
        matchFlag(args.string("syn"), "--syn", negatable: true)
        let states = list("ctstate")
        if matches.contains("conntrack") {
            csv(states, "--ctstate")
        } else if matches.contains("state") {
            csv(states, "--state")
        } else if !states.isEmpty {
            match(true, "conntrack")
            csv(states, "--ctstate")
        }
        let sourceRange = args.string("src_range")
        let destinationRange = args.string("dst_range")
        if !matches.contains("iprange") { match(sourceRange != nil || destinationRange != nil, "iprange") }
        parameter(sourceRange, "--src-range")
        parameter(destinationRange, "--dst-range")
        let set = args.string("match_set")
        if !matches.contains("set") { match(set != nil, "set") }
        if matches.contains("set") || set != nil {
            parameter(set, "--match-set")
            if let flags = args.string("match_set_flags") { words.append(flags) }
        }
        let limit = args.string("limit")
        let burst = args.string("limit_burst")
        match(limit != nil || burst != nil, "limit")
        parameter(limit, "--limit")
        parameter(burst, "--limit-burst")
        for (name, flag) in [("uid_owner", "--uid-owner"), ("gid_owner", "--gid-owner")] {
            let owner = args.string(name)
            match(owner != nil, "owner")
            matchFlag(owner, flag, negatable: true)
            parameter(owner, flag)
        }
        let reject = args.string("reject_with")
        if jump == nil {
            if reject != nil { words += ["-j", "REJECT"] }
            if dscpClass != nil { words += ["-j", "DSCP"] }
            if dscp != nil { words += ["-j", "DSCP"] }
        }
        parameter(reject, "--reject-with")
        let icmpFlag = ["ipv4": "--icmp-type", "ipv6": "--icmpv6-type", "both": "--icmp-type --icmpv6-type"]
        parameter(args.string("icmp_type"), icmpFlag[args.string("ip_version") ?? "ipv4"] ?? "--icmp-type")
        let comment = args.string("comment")
        match(comment != nil, "comment")
        parameter(comment, "--comment")
        return words
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let table = try args.requiredString("table")
        let state = try args.requiredString("state")
        let flush = try args.requiredBool("flush")
        let chain = args.string("chain")
        let ipVersion = try args.requiredString("ip_version")
        var jump = args.string("jump")
        if (args.string("set_dscp_mark") != nil || args.string("set_dscp_mark_class") != nil) && jump == nil {
            return .failure("missing parameter(s) required by 'set_dscp_mark': jump")
        }
        if jump?.lowercased() == "tee" && args.string("gateway") == nil {
            return .failure("jump is \(jump ?? "") but all of the following are missing: gateway")
        }
        if !flush && chain == nil { return .failure("flush is False but all of the following are missing: chain") }
        // The result shows the rule as given, before a logging option implies -j LOG.
        let shownRule = rule(args, jump: jump).joined(separator: " ")
        if args.string("log_prefix") != nil || args.string("log_level") != nil {
            if jump == nil {
                jump = "LOG"
            } else if jump != "LOG" {
                return .failure("Logging options can only be used with the LOG jump target.")
            }
        }
        let ruleWords = rule(args, jump: jump)
        let values: OrderedDictionary<String, Value> = [
            "ip_version": .string(ipVersion), "table": .string(table), "chain": chain.map(Value.string) ?? .null,
            "flush": .bool(flush), "rule": .string(shownRule), "state": .string(state),
            "chain_management": .bool(try args.requiredBool("chain_management")),
            "wait": args.string("wait").map(Value.string) ?? .null,
        ]
        var changed = false
        for binary in ipVersion == "both" ? ["iptables", "ip6tables"] : [ipVersion == "ipv6" ? "ip6tables" : "iptables"] {
            let outcome = try await apply(binary, args: args, rule: ruleWords, hasRule: !shownRule.isEmpty, context: context)
            switch outcome {
            case .success(let didChange): changed = changed || didChange
            case .failure(let message): return .failure(message, values: values)
            }
        }
        return ModuleResult(changed: changed, values: values)
    }

    enum Outcome {
        case success(Bool)
        case failure(String)
    }

    /// The state check and the change for one binary, in one script. It prints `changed` or
    /// `unchanged`; a failing iptables fails the script with its message.
    static func apply(_ binary: String, args: ModuleArguments, rule: [String], hasRule: Bool, context: ModuleContext) async throws
        -> Outcome
    {
        let table = args.string("table") ?? "filter"
        let chain = args.string("chain") ?? ""
        let check = context.checkMode
        func command(_ action: String, withRule: Bool = false, number: String? = nil) -> String {
            var words = [binary, "-t", table, action]
            // A flush without a chain flushes the whole table.
            if !chain.isEmpty || action != "-F" { words.append(chain) }
            if let number { words.append(number) }
            if let wait = args.string("wait") { words += ["-w", wait] }
            if withRule { words += rule }
            return words.map(shellQuote).joined(separator: " ")
        }
        let list = command("-L") + (args.bool("numeric") == true ? " --numeric" : "")
        var script = "command -v \(binary) >/dev/null || { echo '\(binary) not found' >&2; exit 127; }\n"
        if args.bool("flush") == true {
            script += "echo changed\n" + (check ? "" : command("-F") + "\n")
        } else if let policy = args.string("policy") {
            script += """
                policy=$(\(list) | head -n 1 | sed -n 's/.*(policy \\([A-Z]*\\)).*/\\1/p')
                [ -n "$policy" ] || { echo "Can't detect current policy" >&2; exit 1; }
                if [ "$policy" = \(shellQuote(policy)) ]; then echo unchanged; else echo changed
                """
            script += check ? "fi\n" : "\n  \(command("-P")) \(shellQuote(policy)) || exit $?\nfi\n"
        } else if !hasRule {
            // A chain without a rule: its existence is what changes (created or deleted only with
            // chain_management, as the module does).
            let present = args.string("state") == "present"
            let manage = args.bool("chain_management") == true && !check
            script += "if \(list) >/dev/null 2>&1; then "
            script += present ? "echo unchanged; else echo changed\(manage ? "; " + command("-N") + " || exit $?" : "")"
                : "echo changed\(manage ? "; " + command("-X") + " || exit $?" : ""); else echo unchanged"
            script += "; fi\n"
        } else {
            let present = args.string("state") == "present"
            let insert = args.string("action") == "insert"
            let change = present
                ? command(insert ? "-I" : "-A", withRule: true, number: insert ? args.string("rule_num") : nil)
                : command("-D", withRule: true)
            script += "if \(command("-C", withRule: true)) >/dev/null 2>&1; then found=1; else found=0; fi\n"
            script += "if [ $found = \(present ? 1 : 0) ]; then echo unchanged; else echo changed"
            script += check ? "; fi\n" : "\n  \(change) || exit $?\nfi\n"
        }
        let result = try await HostScript.run(context, script)
        guard result.succeeded else {
            let message = (result.stderrText + result.stdoutText).trimmingCharacters(in: .whitespacesAndNewlines)
            return .failure(message.isEmpty ? "\(binary) failed with status \(result.exitStatus)" : message)
        }
        return .success(result.stdoutText.contains("changed") && !result.stdoutText.contains("unchanged"))
    }
}
