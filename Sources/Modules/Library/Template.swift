import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.template`: renders a local Jinja2 file with the task's variables, then copies it.
public enum TemplateModule: Module {
    public static let declaration = ActionDeclaration(
        name: "template", qualifiedNames: ["ansible.builtin.template", "ansible.legacy.template"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("src", .path, required: true),
                .init("dest", .path, required: true),
                .init("force", .bool, default: true),
                .init("backup", .bool, default: false),
                .init("follow", .bool, default: false),
                .init("mode", .mode),
                .init("owner", .string),
                .init("group", .string),
                .init("validate", .string),
                .init("newline_sequence", .choice(["\\n", "\\r", "\\r\\n"]), default: "\\n"),
                .init("output_encoding", .choice(["utf-8", "utf8", "UTF-8"]), default: "utf-8"),
                .init("unsafe_writes", .bool, default: false),
            ]),
        documentation: ActionDocumentation(
            "Template a file out to a target host",
            examples: """
                - name: Patroni's configuration from a Jinja2 template
                  ansible.builtin.template:
                    src: patroni.yml.j2
                    dest: /etc/patroni/patroni.yml
                    owner: postgres
                    group: postgres
                    mode: "0600"
                    validate: /usr/bin/test -s %s
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let src = args.string("src") ?? ""
        let dest = args.string("dest") ?? ""
        guard let local = context.resolveLocalPath(src, "templates") else {
            return .failure("Could not find or access '\(src)'")
        }
        var text = try await context.renderTemplate(local)
        switch args.string("newline_sequence") {
        case "\\r": text = text.replacingOccurrences(of: "\n", with: "\r")
        case "\\r\\n": text = text.replacingOccurrences(of: "\n", with: "\r\n")
        default: break
        }
        let preserved = ContentSource.permissions(local)
        var result = try await FileWriter.write(
            FileWriter.Request(
                data: Array(text.utf8), dest: dest, sourceName: (local as NSString).lastPathComponent,
                afterHeader: local, preservedMode: preserved),
            args: args, context: context)
        if result.values["src"] == nil { result.values["src"] = .string(local) }
        return result
    }
}
