import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.apt`: installs, upgrades and removes Debian packages with apt-get. The installed
/// state (and the cache age, and candidates for `latest`) is read in one round trip; check mode
/// simulates with `apt-get -s`.
public enum AptModule: Module {
    public static let declaration = ActionDeclaration(
        name: "apt", qualifiedNames: ["ansible.builtin.apt", "ansible.legacy.apt"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("name", .list, aliases: ["package", "pkg"]),
                .init("state", .choice(["absent", "build-dep", "latest", "present", "fixed"]), default: "present"),
                .init("update_cache", .bool, aliases: ["update-cache"]),
                .init("update_cache_retries", .int, default: 5),
                .init("cache_valid_time", .int, default: 0),
                .init("install_recommends", .bool, aliases: ["install-recommends"]),
                .init("purge", .bool, default: false),
                .init("autoremove", .bool, default: false),
                .init("autoclean", .bool, default: false),
                .init("clean", .bool, default: false),
                .init("deb", .path),
                .init("force_apt_get", .bool, default: false),
                .init("force", .bool, default: false),
                .init("allow_downgrade", .bool, default: false,
                    aliases: ["allow-downgrade", "allow_downgrades", "allow-downgrades"]),
                .init("allow_unauthenticated", .bool, default: false, aliases: ["allow-unauthenticated"]),
                .init("default_release", .string, aliases: ["default-release"]),
                .init("dpkg_options", .string, default: "force-confdef,force-confold"),
                .init("only_upgrade", .bool, default: false),
                .init("lock_timeout", .int, default: 60),
                .init("upgrade", .choice(["dist", "full", "no", "safe", "yes"]), default: "no"),
            ],
            mutuallyExclusive: [["deb", "name", "upgrade"]],
            requiredOneOf: [["autoremove", "deb", "name", "upgrade", "update_cache", "autoclean", "clean"]]),
        documentation: ActionDocumentation(
            "Manages apt packages",
            examples: """
                - name: Install PostgreSQL and its client
                  ansible.builtin.apt:
                    name: [postgresql-15, postgresql-client-15]
                    state: present
                    update_cache: true
                    cache_valid_time: 3600

                - name: Remove a package and its configuration
                  ansible.builtin.apt:
                    name: telnet
                    state: absent
                    purge: true
                """))

    static let environment = [
        ("DEBIAN_FRONTEND", "noninteractive"), ("DEBIAN_PRIORITY", "critical"), ("LANG", "C"), ("LC_ALL", "C"),
    ]
    static let stamp = "/var/lib/apt/periodic/update-success-stamp"

    struct Installed {
        var status: String
        var version: String
        var isInstalled: Bool { status.count >= 2 && Array(status)[1] == "i" }
        var hasConfig: Bool { status.count >= 2 && Array(status)[1] == "c" }
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        var state = try args.requiredString("state")
        if state == "fixed" { state = "present" }
        var specs: [(name: String, version: String?)] = []
        // name: '*' with state: latest upgrades every installed package, as `upgrade: yes` does.
        var allInstalled = false
        for item in args.stringItems("name") ?? [] {
            if item == "*" {
                allInstalled = true
                continue
            }
            if item.contains("*") || item.contains("?") || item.contains("[") {
                return .failure("package name wildcards are not supported: '\(item)'")
            }
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            specs.append((parts[0], parts.count > 1 ? parts[1] : nil))
        }
        let deb = args.string("deb")
        var upgrade = args.string("upgrade") ?? "no"
        if allInstalled && state == "latest" {
            guard specs.isEmpty else {
                return .failure("unable to install additional packages when upgrading all installed packages")
            }
            upgrade = "yes"
        }

        // One probe: cache age, installed state of the named packages, candidates (latest) and the
        // .deb's own name and version.
        // The clock is read only when the cache's age decides an update.
        var probe = [
            "stat -c %Y \(stamp) 2>/dev/null || stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0"
                + (args.bool("update_cache") ?? ((args.int("cache_valid_time") ?? 0) > 0) ? "; date +%s" : "")
        ]
        let queried = specs.map { shellQuote($0.name) }
        var debName: String?
        var debVersion: String?
        if let deb {
            probe.append("dpkg-deb -f \(shellQuote(deb)) Package Version || echo __pgha_bad_deb__")
        } else {
            probe.append(":")
        }
        let statusFormat = "'${db:Status-Abbrev}\\t${Package}\\t${Version}\\n'"
        let packageQuery = deb == nil ? queried.joined(separator: " ") : "$(dpkg-deb -f \(shellQuote(deb!)) Package 2>/dev/null)"
        probe.append(
            packageQuery.isEmpty ? ":" : "dpkg-query -W -f=\(statusFormat) \(packageQuery) 2>/dev/null; true")
        if state == "latest", !queried.isEmpty {
            probe.append("LC_ALL=C apt-cache policy \(queried.joined(separator: " "))")
        }
        let probed = try await HostScript.run(context, HostScript.sections(probe))
        let parts = HostScript.split(probed.stdoutText, count: 4)
        let times = parts[0].split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        var cacheTime = times.first ?? 0
        let now = times.count > 1 ? times[1] : Int(Date().timeIntervalSince1970)
        if deb != nil {
            if parts[1].contains("__pgha_bad_deb__") { return .failure("Unable to install package: \(parts[1])") }
            for line in parts[1].split(separator: "\n") {
                if line.hasPrefix("Package: ") { debName = String(line.dropFirst(9)) }
                if line.hasPrefix("Version: ") { debVersion = String(line.dropFirst(9)) }
            }
            if let debName { specs = [(debName, debVersion)] }
        }
        var installed: [String: Installed] = [:]
        for line in parts[2].split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if f.count >= 3 { installed[f[1]] = Installed(status: f[0], version: f[2]) }
        }
        var candidates: [String: String] = [:]
        if parts.count > 3 {
            var current: String?
            for line in parts[3].split(separator: "\n") {
                if !line.hasPrefix(" ") && line.hasSuffix(":") { current = String(line.dropLast()) }
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("Candidate: "), let current { candidates[current] = String(trimmed.dropFirst(11)) }
            }
        }

        var values: OrderedDictionary<String, Value> = [:]
        var commands: [String] = []
        let aptGet = aptGetCommand(args)

        // The cache.
        let validTime = args.int("cache_valid_time") ?? 0
        var cacheUpdated = false
        // An explicit cache_valid_time implies update_cache (Ansible 2.4 and later).
        if args.bool("update_cache") ?? (validTime > 0) {
            if validTime == 0 || now - cacheTime > validTime {
                cacheUpdated = true
                // apt's update-notifier hook touches the stamp; hosts without it get it here, so
                // cache_valid_time means the same everywhere.
                commands.append("apt-get update -q && mkdir -p /var/lib/apt/periodic && touch \(stamp)")
                cacheTime = now
            }
        }
        values["cache_updated"] = .bool(cacheUpdated)
        values["cache_update_time"] = .int(cacheTime)

        // The packages.
        var before = OrderedDictionary<String, Value>()
        var after = OrderedDictionary<String, Value>()
        var changeWords: [String] = []
        var action: String?
        switch state {
        case "absent":
            let purge = try args.requiredBool("purge")
            for spec in specs {
                let now = installed[spec.name]
                let present = now.map { $0.isInstalled || (purge && $0.hasConfig) } ?? false
                guard present, let now else { continue }
                if let version = spec.version, now.version != version { continue }
                changeWords.append(shellQuote(spec.name))
                before[spec.name] = .string(now.isInstalled ? now.version : "config-files")
                after[spec.name] = "absent"
            }
            action = purge ? "remove --purge" : "remove"
        case "build-dep":
            changeWords = specs.map { shellQuote($0.name) }
            action = "build-dep"
        default:
            for spec in specs {
                let now = installed[spec.name]
                let have = (now?.isInstalled ?? false) ? now?.version : nil
                var wanted: String?
                if let version = spec.version {
                    if have != version { wanted = version }
                } else if state == "latest", let candidate = candidates[spec.name] {
                    if candidate == "(none)" { return .failure("No package matching '\(spec.name)' is available") }
                    if have != candidate { wanted = candidate }
                } else if have == nil {
                    wanted = debVersion ?? "(latest)"
                } else if let debVersion, have != debVersion {
                    wanted = debVersion
                }
                guard let wanted else { continue }
                if args.bool("only_upgrade") == true && have == nil { continue }
                changeWords.append(
                    deb.map(shellQuote) ?? shellQuote(spec.version.map { "\(spec.name)=\($0)" } ?? spec.name))
                before[spec.name] = .string(have ?? "absent")
                after[spec.name] = .string(wanted)
            }
            action = "install"
        }
        if let action, !changeWords.isEmpty {
            commands.append("\(aptGet) \(action) \(changeWords.joined(separator: " "))")
        }
        if upgrade != "no" {
            // apt-get's commands for the upgrade modes, as Ansible runs them without aptitude.
            let verb = ["dist", "full"].contains(upgrade) ? "dist-upgrade" : "upgrade --with-new-pkgs"
            commands.append("\(aptGet) \(verb)")
        }
        if args.bool("autoremove") == true {
            if state == "absent", !changeWords.isEmpty, let last = commands.indices.last {
                commands[last] += " --auto-remove"
            } else {
                commands.append("\(aptGet) autoremove\(args.bool("purge") == true ? " --purge" : "")")
            }
        }
        if args.bool("autoclean") == true { commands.append("apt-get autoclean") }
        if args.bool("clean") == true { commands.append("apt-get clean") }

        let packageChange = !changeWords.isEmpty
        let otherChange = upgrade != "no" || args.bool("autoremove") == true || state == "build-dep"
        guard !commands.isEmpty else {
            return ModuleResult(values: values)
        }
        var diffs: [FileDiff] = []
        if context.diffMode && !before.isEmpty {
            diffs.append(HostScript.diff(["packages": .dict(before)], ["packages": .dict(after)]))
        }
        if context.checkMode {
            // Simulate the package commands (the cache update is left out: it writes).
            let simulated = commands.filter { !$0.hasPrefix("apt-get update") }.map {
                $0.replacingOccurrences(of: "apt-get -y", with: "apt-get -s -y")
            }
            var changed = packageChange || cacheUpdated
            if !simulated.isEmpty {
                let result = try await HostScript.run(
                    context, simulated.joined(separator: " && "), environment: environment)
                if !result.succeeded { return failure(result, specs: specs, values: values) }
                values.merge(HostScript.stdoutValues(result).filter { $0.key.hasPrefix("std") }) { $1 }
                if otherChange { changed = changed || simulatedChange(result.stdoutText) }
            }
            return ModuleResult(changed: changed, values: values, diffs: diffs)
        }
        // The change and the resulting versions in one round trip.
        let after1 = packageQuery.isEmpty || deb != nil ? ":" : "{ dpkg-query -W -f=\(statusFormat) \(packageQuery) 2>/dev/null; true; }"
        let result = try await HostScript.run(
            context, "{ " + commands.joined(separator: " && ") + "; } && echo \(HostScript.marker) && " + after1,
            environment: environment)
        let output = result.stdoutText.components(separatedBy: HostScript.marker + "\n")
        var std = HostScript.stdoutValues(result)
        std["stdout"] = .string(output[0])
        std["stdout_lines"] = .list(HostScript.lines(output[0]).map { .string($0) })
        guard result.succeeded else { return failure(result, specs: specs, values: values) }
        values.merge(std.filter { $0.key != "rc" }) { $1 }
        if output.count > 1, context.diffMode, !before.isEmpty {
            for line in output[1].split(separator: "\n") {
                let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                if f.count >= 3, after[f[1]] != nil {
                    after[f[1]] = .string(Installed(status: f[0], version: f[2]).isInstalled ? f[2] : "absent")
                }
            }
            diffs = [HostScript.diff(["packages": .dict(before)], ["packages": .dict(after)])]
        }
        var changed = packageChange || cacheUpdated && specs.isEmpty
        if otherChange { changed = changed || simulatedChange(output[0]) }
        if cacheUpdated && specs.isEmpty && deb == nil { changed = true }
        return ModuleResult(changed: changed, values: values, diffs: diffs)
    }

    static func aptGetCommand(_ args: ModuleArguments) -> String {
        var words = ["apt-get -y"]
        for option in (args.string("dpkg_options") ?? "").split(separator: ",") where !option.isEmpty {
            words.append("-o " + shellQuote("Dpkg::Options::=--\(option.trimmingCharacters(in: .whitespaces))"))
        }
        words.append("-o DPkg::Lock::Timeout=\(args.int("lock_timeout") ?? 60)")
        if let recommends = args.bool("install_recommends") {
            words.append(recommends ? "-o APT::Install-Recommends=yes" : "--no-install-recommends")
        }
        if args.bool("allow_downgrade") == true { words.append("--allow-downgrades") }
        if args.bool("allow_unauthenticated") == true { words.append("--allow-unauthenticated") }
        if args.bool("force") == true { words.append("--force-yes") }
        if args.bool("only_upgrade") == true { words.append("--only-upgrade") }
        if let release = args.string("default_release") { words.append("-t " + shellQuote(release)) }
        return words.joined(separator: " ")
    }

    /// apt-get's summary says whether upgrade/autoremove/build-dep did anything.
    static func simulatedChange(_ output: String) -> Bool {
        !output.contains("0 upgraded, 0 newly installed, 0 to remove")
    }

    static func failure(_ result: CommandResult, specs: [(name: String, version: String?)], values: OrderedDictionary<String, Value>)
        -> ModuleResult
    {
        var values = values
        values.merge(HostScript.stdoutValues(result)) { $1 }
        let err = result.stderrText
        for spec in specs where err.contains("Unable to locate package \(spec.name)") {
            return .failure("No package matching '\(spec.name)' is available", values: values)
        }
        if let spec = specs.first(where: { err.contains("Version '\($0.version ?? "")' for '\($0.name)' was not found") }) {
            return .failure("No package matching '\(spec.name)=\(spec.version ?? "")' is available", values: values)
        }
        let line = err.split(separator: "\n").last(where: { $0.hasPrefix("E:") }).map(String.init) ?? err
        return .failure("'apt-get' failed: \(line)", values: values)
    }
}

