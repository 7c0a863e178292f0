import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.general.timezone`: the system time zone and whether the hardware clock keeps local
/// time. With a working `timedatectl` (systemd) it reads `timedatectl status` and sets with
/// `timedatectl set-timezone`/`set-local-rtc`, as Ansible's module does; without one, the Debian way:
/// /etc/timezone, the /etc/localtime link and `dpkg-reconfigure tzdata`.
public enum TimezoneModule: Module {
    public static let declaration = ActionDeclaration(
        name: "timezone", qualifiedNames: ["community.general.timezone"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("name", .string, help: "A zone under /usr/share/zoneinfo, e.g. Europe/Paris or Etc/UTC."),
                .init("hwclock", .choice(["local", "UTC"]), aliases: ["rtc"], help: "Whether the RTC keeps local time or UTC."),
            ],
            requiredOneOf: [["hwclock", "name"]]),
        documentation: ActionDocumentation(
            "Configure timezone setting",
            details: [
                "Under systemd, timedatectl does the work (as with Ansible); hosts without a usable timedatectl get "
                    + "/etc/timezone, the /etc/localtime link and dpkg-reconfigure tzdata, as Ansible does on Debian. "
                    + "hwclock needs timedatectl here."
            ],
            examples: """
                - name: Keep the cluster on UTC
                  community.general.timezone:
                    name: Etc/UTC

                - name: Local time for the office server, RTC in UTC
                  community.general.timezone:
                    name: Europe/Paris
                    hwclock: UTC
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let name = args.string("name")
        let hwclock = args.string("hwclock")
        // One probe: which method, the current settings, and whether the zone exists.
        var probe = """
            if command -v timedatectl >/dev/null 2>&1 && timedatectl >/dev/null 2>&1; then
              echo systemd; timedatectl status
            else
              echo files
              printf 'zone=%s\nlink=%s\n' "$(sed -n 1p /etc/timezone 2>/dev/null)" "$(readlink /etc/localtime)"
            fi
            """
        if let name { probe += "\necho \(HostScript.marker); test -f \(shellQuote("/usr/share/zoneinfo/" + name)) && echo zone" }
        let result = try await HostScript.run(context, probe)
        let sections = HostScript.split(result.stdoutText, count: 2)
        let current = sections[0]
        if name != nil && !sections[1].contains("zone") {
            return .failure("Error message:\ngiven timezone \"\(name ?? "")\" is not available")
        }
        let useSystemd = current.hasPrefix("systemd\n")
        var before = OrderedDictionary<String, Value>()
        var commands: [String] = []
        var executed: [String] = []
        if useSystemd {
            let status = String(current.dropFirst("systemd\n".count))
            if let name {
                let now = field(status, "Time ?zone") ?? ""
                before["name"] = .string(now)
                if now != name {
                    commands.append("timedatectl set-timezone \(shellQuote(name))")
                    executed.append("executed `timedatectl set-timezone \(name)`")
                }
            }
            if let hwclock {
                let local = (field(status, "RTC in local TZ") ?? "no").lowercased()
                let now = ["yes", "true", "1", "on"].contains(local) ? "local" : "UTC"
                before["hwclock"] = .string(now)
                if now != hwclock {
                    let flag = hwclock == "local" ? "yes" : "no"
                    commands.append("timedatectl set-local-rtc \(flag)")
                    executed.append("executed `timedatectl set-local-rtc \(flag)`")
                }
            }
        } else {
            if hwclock != nil {
                return .failure("Error message:\nhwclock is only managed through timedatectl here; timedatectl is not usable")
            }
            if let name {
                var found: [String: String] = [:]
                for line in current.split(separator: "\n") {
                    guard let eq = line.firstIndex(of: "=") else { continue }
                    found[String(line[..<eq])] = String(line[line.index(after: eq)...])
                }
                let configured = String((found["zone"] ?? "").split(separator: " ").first ?? "")
                let link = found["link"] ?? ""
                let zoneFile = "/usr/share/zoneinfo/" + name
                // The file names the zone; the link must point at it too, or the zone is not in effect.
                let effective = configured == name && link == zoneFile ? name : configured
                before["name"] = .string(effective)
                if effective != name {
                    commands += [
                        "printf '%s\\n' \(shellQuote(name)) > /etc/timezone",
                        "ln -sf \(shellQuote(zoneFile)) /etc/localtime",
                        "dpkg-reconfigure --frontend noninteractive tzdata",
                    ]
                }
            }
        }
        var after = before
        if let name { after["name"] = .string(name) }
        if let hwclock { after["hwclock"] = .string(hwclock) }
        let changed = before != after
        let values: OrderedDictionary<String, Value> = ["diff": ["before": .dict(before), "after": .dict(after)]]
        let diffs = context.diffMode && changed ? [HostScript.diff(before, after)] : []
        guard changed, !context.checkMode else { return ModuleResult(changed: changed, values: values, diffs: diffs) }
        let change = try await HostScript.run(context, commands.joined(separator: " && "))
        guard change.succeeded else {
            let error = (change.stderrText + change.stdoutText).trimmingCharacters(in: .whitespacesAndNewlines)
            return .failure("Error message:\n\(error)", values: values)
        }
        return ModuleResult(changed: true, msg: executed.isEmpty ? nil : executed.joined(separator: "\n"), values: values, diffs: diffs)
    }

    /// The value after `label:` in `timedatectl status` (Ansible's regular expressions).
    static func field(_ status: String, _ label: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: "^\\s*\(label)\\s*:\\s*([^\\s]+)", options: .anchorsMatchLines),
            let match = regex.firstMatch(in: status, range: NSRange(status.startIndex..., in: status)),
            let range = Range(match.range(at: 1), in: status)
        else { return nil }
        return String(status[range])
    }
}
