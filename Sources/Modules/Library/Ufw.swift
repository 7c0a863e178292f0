import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.general.ufw`: firewall state, default policies, logging and rules. As Ansible does,
/// a change is what alters `ufw status verbose` or the user rules files, read before and after in
/// the same round trip as the commands; check mode asks `ufw --dry-run` for the rules it would write.
///
/// The state is read from ufw's own files (`UfwState`), and the ufw command, a Python program that
/// costs a busy host a large part of a second, runs only to change something: a rule whose tuple
/// is already in the rules file (or, to delete, is in neither) is left alone after one read.
public enum UfwModule: Module {
    public static let declaration = ActionDeclaration(
        name: "ufw", qualifiedNames: ["community.general.ufw"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("state", .choice(["enabled", "disabled", "reloaded", "reset"])),
                .init("default", .choice(["allow", "deny", "reject"]), aliases: ["policy"]),
                .init("logging", .choice(["on", "off", "low", "medium", "high", "full"])),
                .init("direction", .choice(["in", "incoming", "out", "outgoing", "routed"])),
                .init("delete", .bool, default: false),
                .init("route", .bool, default: false),
                .init("insert", .int),
                .init("insert_relative_to", .choice(["zero", "first-ipv4", "last-ipv4", "first-ipv6", "last-ipv6"]), default: "zero"),
                .init("rule", .choice(["allow", "deny", "limit", "reject"])),
                .init("interface", .string, aliases: ["if"]),
                .init("interface_in", .string, aliases: ["if_in"]),
                .init("interface_out", .string, aliases: ["if_out"]),
                .init("log", .bool, default: false),
                .init("from_ip", .string, default: "any", aliases: ["from", "src"]),
                .init("from_port", .string),
                .init("to_ip", .string, default: "any", aliases: ["dest", "to"]),
                .init("to_port", .string, aliases: ["port"]),
                .init("proto", .choice(["any", "tcp", "udp", "ipv6", "esp", "ah", "gre", "igmp"]), aliases: ["protocol"]),
                .init("name", .string, aliases: ["app"]),
                .init("comment", .string),
            ],
            mutuallyExclusive: [["name", "proto", "logging"], ["interface", "interface_in"], ["interface", "interface_out"]],
            requiredOneOf: [["state", "default", "logging", "rule"]]),
        documentation: ActionDocumentation(
            "Manage firewall with UFW",
            examples: """
                - name: Allow SSH before turning the firewall on
                  community.general.ufw:
                    rule: allow
                    port: "22"
                    proto: tcp

                - name: Deny everything else and enable
                  community.general.ufw:
                    state: enabled
                    default: deny
                """))

    static let missing = "command -v ufw >/dev/null || exit 127; "

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        if args["direction"] != nil, args["default"] == nil, args["rule"] == nil {
            return .failure("parameters are required together: direction with default or rule")
        }
        // A rule alone is decided from the rules files, or by ufw in one more round trip.
        let ruleOnly = args["rule"] != nil && args["state"] == nil && args["default"] == nil && args["logging"] == nil
        if ruleOnly { return try await runRule(args, context: context) }
        let probe = try await HostScript.run(context, missing + UfwState.script(withStatus: true))
        if probe.exitStatus == 127 { return .failure("Failed to find required executable \"ufw\" in paths") }
        guard probe.succeeded else { return .failure(probe.stderrText) }
        let before = UfwState(parsing: probe.stdoutText)
        let status = before.status
        let active = before.loaded == true
        var commands: [String] = []
        var predicted = false
        var dryRuns: [String] = []

        if let state = args.string("state") {
            switch state {
            case "enabled":
                if !active { commands.append("ufw --force enable"); predicted = true }
            case "disabled":
                if active { commands.append("ufw --force disable"); predicted = true }
            case "reloaded":
                commands.append("ufw --force reload"); predicted = true
            default:
                commands.append("ufw --force reset"); predicted = true
            }
        }
        if let policy = args.string("default") {
            var direction = args.string("direction") ?? "incoming"
            if direction == "in" { direction = "incoming" }
            if direction == "out" { direction = "outgoing" }
            let current = defaultPolicy(status, direction)
            // Rewriting the configured policy changes nothing ufw shows, so the command runs only
            // when the configuration differs. Ansible's check mode predicts no change from a
            // disabled (routed) policy.
            let chain = ["incoming": "input", "outgoing": "output", "routed": "forward"][direction] ?? direction
            let configured = before.defaults["default_\(chain)_policy"]
            let wanted = ["allow": "accept", "deny": "drop", "reject": "reject"][policy]
            let differs = context.checkMode ? current != policy && current != "disabled" : configured != wanted
            if differs {
                commands.append("ufw --force default \(policy) \(direction)")
                // As in Ansible's check mode: with forwarding off ufw shows "disabled (routed)"
                // whatever the policy, and a real run leaves the status unchanged.
                if current != "disabled" { predicted = true }
            }
        }
        // A logging change is decided from the status alone, as Ansible's module decides it, and counts
        // even when the status does not show it afterwards (an inactive firewall has no Logging line).
        var loggingChanged = false
        if let level = args.string("logging") {
            let line = status.split(separator: "\n").first { $0.hasPrefix("Logging: ") }.map(String.init)
            if let line {
                let words = line.dropFirst("Logging: ".count).split(separator: " ")
                let onOff = words.first.map(String.init) ?? ""
                let current = words.count > 1 ? String(words[1].dropFirst().dropLast()) : nil
                if level != "off" {
                    loggingChanged = onOff == "off" || (level != "on" && level != current)
                } else {
                    loggingChanged = onOff != "off"
                }
            } else {
                loggingChanged = true
            }
            if loggingChanged {
                commands.append("ufw logging \(level)")
                predicted = true
            }
        }
        if args["rule"] != nil, unchangedRule(args, before) == nil {
            let line: String
            do { line = try ruleLine(args) } catch let problem as Unsupported { return .failure(problem.message) }
            commands.append("ufw " + line)
            dryRuns.append("ufw --dry-run " + line)
        }

        var values: OrderedDictionary<String, Value> = [:]
        guard !commands.isEmpty else { return ModuleResult(values: values) }
        let current = tuplesByFamily(before.rules)
        if context.checkMode {
            var changed = predicted
            if !dryRuns.isEmpty {
                let dry = try await HostScript.run(context, dryRuns.joined(separator: " && "))
                guard dry.succeeded else { return .failure(dry.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)) }
                let dryText = dry.stdoutText
                if !noOps.contains(where: dryText.contains),
                    tuplesByFamily(dryText).contains(where: { family, rules in current[family] != rules })
                {
                    changed = true
                }
            }
            let diffs = context.diffMode && changed ? [HostScript.textDiff(before.rules, "(check mode: \(commands.joined(separator: "; ")))\n")] : []
            return ModuleResult(changed: changed, values: values, diffs: diffs)
        }
        let result = try await HostScript.run(
            context, commands.joined(separator: " && ") + " && echo \(HostScript.marker)__ && " + UfwState.script(withStatus: true))
        let output = result.stdoutText.components(separatedBy: HostScript.marker + "__\n")
        values["msg"] = .string(output[0])
        guard result.succeeded, output.count > 1 else {
            return .failure(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines), values: HostScript.stdoutValues(result))
        }
        let after = UfwState(parsing: output[1])
        let changed = loggingChanged || after.status != before.status || after.rules != before.rules
            || args.string("state") == "reloaded" || args.string("state") == "reset"
        let diffs = context.diffMode && changed
            ? [HostScript.textDiff(before.status + before.rules, after.status + after.rules)] : []
        return ModuleResult(changed: changed, msg: output[0].trimmingCharacters(in: .newlines), values: [:], diffs: diffs)
    }

    struct Unsupported: Error { var message: String }

    static func ruleLine(_ args: ModuleArguments) throws -> String {
            guard let rule = args.string("rule") else { throw Unsupported(message: "a rule needs 'rule'") }
            var words: [String] = []
            if args.bool("route") == true { words.append("route") }
            if args.bool("delete") == true { words.append("delete") }
            if let insert = args.int("insert") {
                var position = insert
                let relative = args.string("insert_relative_to") ?? "zero"
                if relative != "zero" {
                    // Ansible counts from the first/last rule of the given IP version in `status numbered`.
                    throw Unsupported(message: "insert_relative_to=\(relative) is not supported by this engine")
                }
                position = max(position, 1)
                words.append("insert \(position)")
            }
            words.append(rule)
            if let direction = args.string("direction") {
                words.append(direction == "incoming" ? "in" : direction == "outgoing" ? "out" : direction)
            }
            if let interface = args.string("interface") { words.append("on " + shellQuote(interface)) }
            if let interface = args.string("interface_in") { words.append("in on " + shellQuote(interface)) }
            if let interface = args.string("interface_out") { words.append("out on " + shellQuote(interface)) }
            if args.bool("log") == true { words.append("log") }
            for (key, template) in [("from_ip", "from"), ("from_port", "port"), ("to_ip", "to"), ("to_port", "port"), ("proto", "proto")] {
                if let value = args.string(key) { words.append("\(template) \(shellQuote(value))") }
            }
            if let app = args.string("name") { words.append("app " + shellQuote(app)) }
            if let comment = args.string("comment") { words.append("comment " + shellQuote(comment)) }
            return words.joined(separator: " ")
    }

    /// Skip messages of a dry run that would change nothing.
    static let noOps = ["Skipping adding existing rule", "Skipping inserting existing rule", "Could not delete non-existent rule"]

    static func runRule(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let line: String
        do { line = try ruleLine(args) } catch let problem as Unsupported { return .failure(problem.message) }
        let probe = try await HostScript.run(context, missing + UfwState.script(withStatus: false))
        if probe.exitStatus == 127 { return .failure("Failed to find required executable \"ufw\" in paths") }
        let files = UfwState(parsing: probe.stdoutText)
        if let unchanged = unchangedRule(args, files) { return unchanged }
        // ufw decides: the state before, the command (or its dry run), and the state after, at once.
        let script = missing + UfwState.script(withStatus: true) + "; echo \(HostScript.marker)__; "
            + (context.checkMode
                ? "ufw --dry-run " + line
                : "ufw " + line + " && echo \(HostScript.marker)__ && " + UfwState.script(withStatus: true))
        let result = try await HostScript.run(context, script)
        if result.exitStatus == 127 { return .failure("Failed to find required executable \"ufw\" in paths") }
        let sections = result.stdoutText.components(separatedBy: HostScript.marker + "__\n")
        guard result.succeeded, sections.count >= 2 else {
            return .failure(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines), values: HostScript.stdoutValues(result))
        }
        let before = UfwState(parsing: sections[0])
        if context.checkMode {
            let dry = sections[1]
            // The dry run prints the rules file of each family it would write; compare family by family.
            let current = tuplesByFamily(before.rules)
            let changed = !noOps.contains(where: dry.contains)
                && tuplesByFamily(dry).contains { family, rules in current[family] != rules }
            let diffs = context.diffMode && changed ? [HostScript.textDiff(before.rules, dry)] : []
            return ModuleResult(changed: changed, diffs: diffs)
        }
        let after = sections.count > 2 ? UfwState(parsing: sections[2]) : before
        let changed = after.status != before.status || after.rules != before.rules
        let diffs = context.diffMode && changed
            ? [HostScript.textDiff(before.status + before.rules, after.status + after.rules)] : []
        return ModuleResult(changed: changed, msg: sections[1].trimmingCharacters(in: .newlines), diffs: diffs)
    }

    /// The result of a rule ufw would skip, known from the rules files: adding one whose tuples are
    /// all there, or deleting one none of whose tuples is (ufw deletes whatever the comment). Nil
    /// when ufw has to be asked (a change, or a rule whose tuple cannot be predicted).
    static func unchangedRule(_ args: ModuleArguments, _ files: UfwState) -> ModuleResult? {
        guard let prediction = UfwRuleTuple.predict(args, usesIPv6: files.usesIPv6) else { return nil }
        let (v4, v6) = files.tuples
        let families = [(prediction.v4, prediction.v4Bare, v4, ""), (prediction.v6, prediction.v6Bare, v6, " (v6)")]
            .filter { $0.0 != nil }
        if args.bool("delete") == true {
            let present = families.contains { _, bare, tuples, _ in
                tuples.contains { $0 == bare! || $0.hasPrefix(bare! + " comment=") }
            }
            if present { return nil }
            return ModuleResult(msg: families.map { "Could not delete non-existent rule" + $0.3 }.joined(separator: "\n"))
        }
        guard families.allSatisfy({ tuple, _, tuples, _ in tuples.contains(tuple!) }) else { return nil }
        let verb = args["insert"] != nil ? "inserting" : "adding"
        return ModuleResult(msg: families.map { "Skipping \(verb) existing rule" + $0.3 }.joined(separator: "\n"))
    }

    /// "Default: deny (incoming), allow (outgoing), disabled (routed)" -> the policy for one direction.
    static func defaultPolicy(_ status: String, _ direction: String) -> String? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Default:") }) else { return nil }
        for part in line.dropFirst("Default:".count).split(separator: ",") {
            let words = part.split(separator: " ")
            if words.count == 2, words[1] == "(\(direction))" { return String(words[0]) }
        }
        return nil
    }

    /// "### tuple ###" lines of ufw rules files (user.rules, user6.rules), keyed by family.
    static func tuplesByFamily(_ text: String) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for block in text.components(separatedBy: "*filter\n").dropFirst() {
            let family = block.contains("ufw6-user-input") ? "v6" : "v4"
            result[family, default: []].formUnion(tuples(block))
        }
        return result
    }

    static func tuples(_ text: String) -> Set<String> {
        Set(text.split(separator: "\n").filter { $0.hasPrefix("### tuple ###") }.map(String.init))
    }
}
