import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.general.locale_gen`: enables (or comments out) locales in /etc/locale.gen and runs
/// `locale-gen`, as the collection's module does on Debian. A locale counts as present when
/// `locale -a` lists it; one that /usr/share/i18n/SUPPORTED does not know is refused.
public enum LocaleGenModule: Module {
    public static let declaration = ActionDeclaration(
        name: "locale_gen", qualifiedNames: ["community.general.locale_gen"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([
            .init("name", .list, required: true, help: "Locales such as en_US.UTF-8."),
            .init("state", .choice(["absent", "present"]), default: "present"),
        ]),
        documentation: ActionDocumentation(
            "Creates or removes locales",
            details: [
                "Needs the locales package (/etc/locale.gen). As the collection's module, it reports no change "
                    + "under --check, and with state absent it changes nothing unless every named locale is present."
            ],
            examples: """
                - name: The locales PostgreSQL databases are created with
                  community.general.locale_gen:
                    name: [en_US.UTF-8, de_DE.UTF-8]
                    state: present
                """))

    static let localeGen = "/etc/locale.gen"

    /// `locale -a` prints some encodings in lower case; the module compares them normalized.
    static func normalized(_ name: String) -> String {
        var name = name
        for (short, long) in [
            (".utf8", ".UTF-8"), (".eucjp", ".EUC-JP"), (".iso885915", ".ISO-8859-15"), (".cp1251", ".CP1251"),
            (".koi8r", ".KOI8-R"), (".armscii8", ".ARMSCII-8"), (".euckr", ".EUC-KR"), (".gbk", ".GBK"),
            (".gb18030", ".GB18030"), (".euctw", ".EUC-TW"),
        ] {
            name = name.replacingOccurrences(of: short, with: long)
        }
        return name
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let names = args.stringItems("name") ?? []
        let wantPresent = args.string("state") != "absent"
        let values: OrderedDictionary<String, Value> = ["name": .list(names.map(Value.string))]
        let probe = try await HostScript.run(
            context,
            HostScript.sections([
                "if [ -e \(localeGen) ]; then echo glibc; elif [ -e /var/lib/locales/supported.d ]; then echo legacy; else echo none; fi",
                "cat /usr/share/i18n/SUPPORTED 2>/dev/null; true",
                "locale -a",
                "cat \(localeGen) 2>/dev/null; true",
            ]))
        let parts = HostScript.split(probe.stdoutText, count: 4)
        switch parts[0].trimmingCharacters(in: .whitespacesAndNewlines) {
        case "glibc": break
        case "legacy":
            return .failure("the ubuntu_legacy mechanism (/var/lib/locales/supported.d) is not supported here", values: values)
        default:
            return .failure(
                "/var/lib/locales/supported.d and /etc/locale.gen are missing. Is the package \"locales\" installed?",
                values: values)
        }
        let installed = Set(parts[2].split(separator: "\n").map { normalized(String($0)) })
        func missing(_ locales: [String]) -> [String] { locales.filter { !installed.contains(normalized($0)) } }
        // Known to the system: listed in SUPPORTED (commented or not), or already generated.
        let available = try? NSRegularExpression(pattern: "^\\s*#?\\s*(\\S+[._\\S]+) (\\S+)\\s*$")
        let supported = Set(parts[1].split(separator: "\n").compactMap { line -> String? in
            let text = String(line)
            guard let match = available?.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                let range = Range(match.range(at: 1), in: text)
            else { return nil }
            return String(text[range])
        })
        let unknown = missing(names.filter { !supported.contains($0) })
        if !unknown.isEmpty {
            return .failure(
                "The following locales you have entered are not available on your system: " + unknown.joined(separator: ", "),
                values: values)
        }
        let isPresent = missing(names).isEmpty
        // As the module's state tracking: present means all of them are; anything else is absent.
        guard isPresent != wantPresent, !context.checkMode else { return ModuleResult(values: values) }
        let before = parts[3]
        let after = before.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var text = String(line)
            for name in names {
                let pattern = "^#?\\s*" + NSRegularExpression.escapedPattern(for: name) + " (.+)"
                guard let regex = try? NSRegularExpression(pattern: pattern) else { continue }
                let replacement = (wantPresent ? "" : "# ") + NSRegularExpression.escapedTemplate(for: name) + " $1"
                text = regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: replacement)
            }
            return text
        }.joined(separator: "\n")
        let result = try await HostScript.run(
            context, "cat > \(localeGen) && locale-gen && echo \(HostScript.marker) && locale -a", stdin: Array(after.utf8))
        guard result.succeeded else {
            let error = (result.stderrText + result.stdoutText).trimmingCharacters(in: .whitespacesAndNewlines)
            return .failure("locale-gen failed: \(error)", values: values)
        }
        // Changed when the state the module tracks changed.
        let now = Set(HostScript.split(result.stdoutText, count: 2)[1].split(separator: "\n").map { normalized(String($0)) })
        let presentNow = names.allSatisfy { now.contains(normalized($0)) }
        return ModuleResult(changed: presentNow != isPresent, values: values)
    }
}
