import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.user`: manages a local account with useradd/usermod/userdel. The password is a
/// crypt hash and reaches the host only on `chpasswd -e`'s standard input, never a command line.
public enum UserModule: Module {
    public static let declaration = ActionDeclaration(
        name: "user", qualifiedNames: ["ansible.builtin.user", "ansible.legacy.user"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec([
            .init("name", .string, required: true, aliases: ["user"]),
            .init("uid", .int),
            .init("comment", .string),
            .init("non_unique", .bool, default: false),
            .init("group", .string),
            .init("groups", .list),
            .init("append", .bool, default: false),
            .init("shell", .string),
            .init("home", .path),
            .init("skeleton", .string),
            .init("password", .string, secret: true),
            .init("state", .choice(["absent", "present"]), default: "present"),
            .init("create_home", .bool, default: true, aliases: ["createhome"]),
            .init("move_home", .bool, default: false),
            .init("system", .bool, default: false),
            .init("force", .bool, default: false),
            .init("remove", .bool, default: false),
            .init("update_password", .choice(["always", "on_create"]), default: "always"),
            .init("password_lock", .bool),
            .init("password_expire_max", .int),
            .init("password_expire_min", .int),
            .init("password_expire_warn", .int),
            .init("local", .bool, default: false),
        ]),
        documentation: ActionDocumentation(
            "Manage user accounts",
            examples: """
                - name: An account for the backups
                  ansible.builtin.user:
                    name: backup
                    shell: /usr/sbin/nologin
                    system: true
                    create_home: false
                """))

    struct Account {
        var uid: Int
        var gid: Int
        var comment: String
        var home: String
        var shell: String
        var hash: String?
        var groups: [String]
    }

    struct GroupEntry {
        var name: String
        var gid: Int
        var members: [String]
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let name = try args.requiredString("name")
        let state = try args.requiredString("state")
        let q = shellQuote(name)
        // One probe: the passwd and shadow entries and the whole group database (to resolve group
        // names and read memberships).
        let probe = try await HostScript.run(
            context,
            HostScript.sections([
                "getent passwd \(q) || true", "getent shadow \(q) 2>/dev/null | cut -d: -f2,4,5,6 || true", "getent group",
            ]))
        let parts = HostScript.split(probe.stdoutText, count: 3)
        var groupsByName: [String: GroupEntry] = [:]
        var groupsByGid: [Int: GroupEntry] = [:]
        for line in HostScript.lines(parts[2]) {
            let f = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 4, let gid = Int(f[2]) else { continue }
            let entry = GroupEntry(name: f[0], gid: gid, members: f[3].split(separator: ",").map(String.init))
            groupsByName[f[0]] = entry
            if groupsByGid[gid] == nil { groupsByGid[gid] = entry }
        }
        func resolve(_ group: String) -> GroupEntry? {
            groupsByName[group] ?? Int(group).flatMap { groupsByGid[$0] }
        }
        var account: Account?
        /// Password aging from the shadow entry: (min, max, warn) days.
        var aging: (min: Int?, max: Int?, warn: Int?) = (nil, nil, nil)
        let pw = parts[0].trimmingCharacters(in: .newlines).split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if pw.count >= 7, let uid = Int(pw[2]), let gid = Int(pw[3]) {
            let shadow = parts[1].trimmingCharacters(in: .whitespacesAndNewlines)
                .split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let hash = shadow.first ?? ""
            aging = (shadow.count > 1 ? Int(shadow[1]) : nil, shadow.count > 2 ? Int(shadow[2]) : nil,
                     shadow.count > 3 ? Int(shadow[3]) : nil)
            account = Account(
                uid: uid, gid: gid, comment: pw[4], home: pw[5], shell: pw[6], hash: hash.isEmpty ? nil : hash,
                groups: groupsByName.values.filter { $0.members.contains(name) && $0.gid != gid }.map(\.name).sorted())
        }

        if state == "absent" {
            var values: OrderedDictionary<String, Value> = [
                "name": .string(name), "state": "absent", "force": .bool(try args.requiredBool("force")),
                "remove": .bool(try args.requiredBool("remove")),
            ]
            guard let account else { return ModuleResult(values: values) }
            var words = ["userdel"]
            if try args.requiredBool("force") { words.append("-f") }
            if try args.requiredBool("remove") { words.append("-r") }
            words.append(q)
            let diffs = context.diffMode ? [HostScript.diff(describe(account, name), ["state": "absent"])] : []
            if context.checkMode { return ModuleResult(changed: true, values: values, diffs: diffs) }
            let result = try await HostScript.run(context, words.joined(separator: " "))
            guard result.succeeded else { return failed(result, "userdel", &values) }
            return ModuleResult(changed: true, values: values, diffs: diffs)
        }

        var wantedGroup: GroupEntry?
        if let group = args.string("group") {
            guard let entry = resolve(group) else { return .failure("Group \(group) does not exist") }
            wantedGroup = entry
        }
        var wantedGroups: [String]?
        if let groups = args.stringItems("groups") {
            var names: [String] = []
            for group in groups {
                guard let entry = resolve(group) else { return .failure("Group \(group) does not exist") }
                names.append(entry.name)
            }
            wantedGroups = names
        }
        let password = args.string("password")
        var values: OrderedDictionary<String, Value> = ["name": .string(name), "state": "present"]
        var stdin: [UInt8]?
        var command: String
        var after: Account
        let created = account == nil

        if let account {
            var opts: [String] = []
            after = account
            if let uid = args.int("uid"), uid != account.uid {
                opts.append("-u \(uid)" + (try args.requiredBool("non_unique") ? " -o" : ""))
                after.uid = uid
            }
            if let wantedGroup, wantedGroup.gid != account.gid {
                opts.append("-g \(wantedGroup.gid)")
                after.gid = wantedGroup.gid
            }
            if let wantedGroups {
                let wanted = Set(wantedGroups).subtracting([groupsByGid[after.gid]?.name ?? ""])
                let current = Set(account.groups)
                if try args.requiredBool("append") {
                    if !wanted.isSubset(of: current) {
                        opts.append("-a -G " + shellQuote(wanted.subtracting(current).sorted().joined(separator: ",")))
                        after.groups = current.union(wanted).sorted()
                    }
                } else if wanted != current {
                    opts.append("-G " + shellQuote(wantedGroups.joined(separator: ",")))
                    after.groups = wanted.sorted()
                }
            }
            if let comment = args.string("comment"), comment != account.comment {
                opts.append("-c " + shellQuote(comment))
                after.comment = comment
            }
            if let home = args.string("home"), home != account.home {
                opts.append("-d " + shellQuote(home) + (try args.requiredBool("move_home") ? " -m" : ""))
                after.home = home
            }
            if let shell = args.string("shell"), shell != account.shell {
                opts.append("-s " + shellQuote(shell))
                after.shell = shell
            }
            var script: [String] = []
            if let lock = args.bool("password_lock") {
                let locked = account.hash?.hasPrefix("!") ?? false
                if lock && !locked {
                    opts.append("-L")
                    after.hash = "!" + (account.hash ?? "")
                } else if !lock && locked {
                    opts.append("-U")
                    after.hash = String(account.hash!.dropFirst())
                }
            }
            if !opts.isEmpty { script.append("usermod " + opts.joined(separator: " ") + " " + q) }
            var chage: [String] = []
            if let days = args.int("password_expire_min"), days != aging.min { chage.append("-m \(days)") }
            if let days = args.int("password_expire_max"), days != aging.max { chage.append("-M \(days)") }
            if let days = args.int("password_expire_warn"), days != aging.warn { chage.append("-W \(days)") }
            if !chage.isEmpty { script.append("chage " + chage.joined(separator: " ") + " " + q) }
            if let password, args.string("update_password") == "always", password != account.hash,
                "!" + password != account.hash
            {
                script.append("chpasswd -e")
                stdin = Array("\(name):\(password)\n".utf8)
                after.hash = password
            }
            values["append"] = .bool(try args.requiredBool("append"))
            values["move_home"] = .bool(try args.requiredBool("move_home"))
            command = script.joined(separator: " && ")
        } else {
            var words = [try args.requiredBool("local") ? "luseradd" : "useradd"]
            if let uid = args.int("uid") { words.append("-u \(uid)" + (try args.requiredBool("non_unique") ? " -o" : "")) }
            if let wantedGroup { words.append("-g \(wantedGroup.gid)") }
            if let wantedGroups, !wantedGroups.isEmpty {
                words.append("-G " + shellQuote(wantedGroups.joined(separator: ",")))
            }
            if let comment = args.string("comment") { words.append("-c " + shellQuote(comment)) }
            if let home = args.string("home") { words.append("-d " + shellQuote(home)) }
            if let shell = args.string("shell") { words.append("-s " + shellQuote(shell)) }
            if try args.requiredBool("system") { words.append("-r") }
            if try args.requiredBool("create_home") {
                words.append("-m")
                if let skeleton = args.string("skeleton") { words.append("-k " + shellQuote(skeleton)) }
            } else {
                words.append("-M")
            }
            words.append(q)
            command = words.joined(separator: " ")
            if let password {
                command += " && chpasswd -e"
                stdin = Array("\(name):\(password)\n".utf8)
            }
            if args.bool("password_lock") == true { command += " && usermod -L \(q)" }
            var chage: [String] = []
            if let days = args.int("password_expire_min") { chage.append("-m \(days)") }
            if let days = args.int("password_expire_max") { chage.append("-M \(days)") }
            if let days = args.int("password_expire_warn") { chage.append("-W \(days)") }
            if !chage.isEmpty { command += " && chage " + chage.joined(separator: " ") + " " + q }
            after = Account(
                uid: args.int("uid") ?? -1, gid: wantedGroup?.gid ?? -1, comment: args.string("comment") ?? "",
                home: args.string("home") ?? "/home/\(name)", shell: args.string("shell") ?? "", hash: password,
                groups: wantedGroups ?? [])
            values["system"] = .bool(try args.requiredBool("system"))
            values["create_home"] = .bool(try args.requiredBool("create_home"))
        }
        if password != nil { values["password"] = "NOT_LOGGING_PASSWORD" }
        if let groups = args.stringItems("groups") { values["groups"] = .string(groups.joined(separator: ",")) }

        func report(_ a: Account) {
            values["uid"] = .int(a.uid)
            values["group"] = .int(a.gid)
            values["comment"] = .string(a.comment)
            values["home"] = .string(a.home)
            values["shell"] = .string(a.shell)
        }
        if command.isEmpty {
            report(account!)
            return ModuleResult(values: values)
        }
        let diffs = context.diffMode
            ? [HostScript.diff(account.map { describe($0, name) } ?? ["state": "absent"], describe(after, name))] : []
        if context.checkMode {
            report(after)
            return ModuleResult(changed: true, values: values, diffs: diffs)
        }
        // The resulting entry comes back in the same round trip (uids and gids assigned by useradd).
        let result = try await HostScript.run(context, command + " && getent passwd \(q)", stdin: stdin)
        guard result.succeeded else { return failed(result, created ? "useradd" : "usermod", &values) }
        let f = result.stdoutText.trimmingCharacters(in: .newlines).split(separator: "\n").last?
            .split(separator: ":", omittingEmptySubsequences: false).map(String.init) ?? []
        if f.count >= 7, let uid = Int(f[2]), let gid = Int(f[3]) {
            after.uid = uid
            after.gid = gid
            after.comment = f[4]
            after.home = f[5]
            after.shell = f[6]
        }
        report(after)
        return ModuleResult(changed: true, values: values, diffs: diffs)
    }

    /// The attributes shown by --diff; the password only as whether it is set and locked.
    static func describe(_ a: Account, _ name: String) -> OrderedDictionary<String, Value> {
        [
            "comment": .string(a.comment), "group": a.gid < 0 ? "(default)" : .int(a.gid),
            "groups": .list(a.groups.map { .string($0) }), "home": .string(a.home),
            "password_locked": .bool(a.hash?.hasPrefix("!") ?? false),
            "password_set": .bool(a.hash.map { !$0.isEmpty && $0 != "!" && $0 != "*" && $0 != "!*" } ?? false),
            "shell": .string(a.shell), "state": "present", "uid": a.uid < 0 ? "(assigned)" : .int(a.uid),
        ]
    }

    static func failed(_ result: CommandResult, _ tool: String, _ values: inout OrderedDictionary<String, Value>)
        -> ModuleResult
    {
        values["rc"] = .int(Int(result.exitStatus))
        values["err"] = .string(result.stderrText)
        values["out"] = .string(result.stdoutText)
        return .failure(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines), values: values)
    }
}
