import PGHACore

/// `pgha-play doc` output, laid out as ansible-doc's text output.
public enum DocumentationText {
    /// `doc -l`: one line per action, its fully qualified name and summary, sorted by name.
    public static func listing(_ catalog: ActionCatalog) -> String {
        let rows = catalog.declarations.map { ($0.displayName, $0.documentation.summary) }.sorted { $0.0 < $1.0 }
        let width = (rows.map(\.0.count).max() ?? 0) + 2
        return rows.map { name, summary in
            name + String(repeating: " ", count: width - name.count) + summary
        }.joined(separator: "\n") + "\n"
    }

    /// `doc NAME`: the summary and details, every argument (required ones marked `=`), what the
    /// action supports, the names that select it, and the examples.
    public static func page(_ declaration: ActionDeclaration) -> String {
        var out = "> MODULE \(declaration.displayName)\n\n"
        for paragraph in [declaration.documentation.summary] + declaration.documentation.details {
            out += wrap(paragraph, indent: "  ") + "\n"
        }
        out += "\nOPTIONS (= is mandatory):\n"
        let spec = declaration.arguments
        if spec.arguments.isEmpty && spec.freeForm == .none && !spec.acceptsOtherArguments {
            out += "\n  none\n"
        }
        for argument in spec.arguments.sorted(by: { optionName($0.name) < optionName($1.name) }) {
            out += "\n" + (argument.required ? "= " : "- ") + optionName(argument.name) + "\n"
            if let help = argument.help { out += wrap(help, indent: "        ") + "\n" }
            if !argument.aliases.isEmpty { out += "        aliases: " + list(argument.aliases) + "\n" }
            if case .choice(let choices) = argument.kind { out += "        choices: " + list(choices) + "\n" }
            if let value = argument.defaultValue { out += "        default: \(JSON.encode(value))\n" }
            out += "        type: \(typeName(argument.kind))\n"
        }
        if spec.freeForm != .none && spec.argument(named: "_raw_params") == nil {
            out += "\n- free_form\n"
            out += "        The text after the action's name"
            out += (spec.freeForm == .commandLine ? " (a command line)" : "") + ".\n        type: str\n"
        }
        if spec.acceptsOtherArguments {
            out += "\n- (any other name)\n        Taken as it is written (see the description).\n        type: raw\n"
        }
        if !spec.mutuallyExclusive.isEmpty {
            out += "\n  mutually exclusive: "
                + spec.mutuallyExclusive.map { $0.map(optionName).joined(separator: "|") }.joined(separator: "; ") + "\n"
        }
        if !spec.requiredOneOf.isEmpty {
            out += "\n  one of these is required: "
                + spec.requiredOneOf.map { $0.map(optionName).joined(separator: "|") }.joined(separator: "; ") + "\n"
        }
        out += "\nATTRIBUTES:\n"
        out += "        check_mode: \(declaration.supportsCheckMode ? "full" : "none")\n"
        out += "        diff_mode: \(declaration.supportsDiff ? "full" : "none")\n"
        out += "\nNAMES: \(declaration.allNames.joined(separator: ", "))\n"
        out += "\nEXAMPLES:\n" + declaration.documentation.examples
        if !declaration.documentation.examples.hasSuffix("\n") { out += "\n" }
        return out
    }

    static func list(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }

    /// Free-form text is `_raw_params` inside; ansible-doc calls it `free_form`.
    static func optionName(_ name: String) -> String { name == "_raw_params" ? "free_form" : name }

    static func typeName(_ kind: ArgumentSpec.Kind) -> String {
        switch kind {
        case .string: return "str"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .path: return "path"
        case .list: return "list"
        case .dict: return "dict"
        case .raw: return "raw"
        case .mode: return "raw (octal such as '0644', or symbolic such as 'u=rw,g=r')"
        case .choice: return "str"
        }
    }

    /// Words wrapped at 80 columns after `indent`.
    static func wrap(_ text: String, indent: String) -> String {
        var lines: [String] = []
        var line = indent
        for word in text.split(separator: " ") {
            if line.count > indent.count && line.count + 1 + word.count > 80 {
                lines.append(line)
                line = indent
            }
            line += (line.count > indent.count ? " " : "") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}
