import PGHACore

/// Parses Jinja2 without rendering it. The engine hands in the Template target's parser, as it
/// hands in the action catalog, so the loader reads templates without depending on Template.
public struct TemplateSyntax: Sendable {
    /// How a string is templated.
    public enum Form: Sendable {
        /// A string that may hold `{{ }}`, `{% %}` and `{# #}` (task arguments, vars, names...).
        case template
        /// A bare expression (`when:`, `changed_when:`, `failed_when:`, `until:`, assert's `that:`).
        case expression
    }

    let check: @Sendable (_ text: String, _ form: Form, _ location: SourceLocation) throws -> Void

    /// - Parameter check: throws a located `.syntax` `PGHAError` when `text` does not parse.
    public init(check: @escaping @Sendable (_ text: String, _ form: Form, _ location: SourceLocation) throws -> Void) {
        self.check = check
    }
}

/// Every string of a loaded YAML document that Ansible would template, parsed as it loads, so a
/// syntax error anywhere stops the run before any host is touched (Ansible finds it only when the
/// task runs). A separate pass over the YAML, not part of the parsers: it sees every string with
/// its own line and column, including those of tasks that are only checked, never run.
///
/// Bare expressions are known by their keys in tasks, blocks and role entries; every other string
/// with template markup is parsed as a template. `!unsafe` strings are never templated and
/// `!vault` ones are secrets: both are skipped.
public struct TemplateSyntaxCheck {
    let syntax: TemplateSyntax

    public init(_ syntax: TemplateSyntax) { self.syntax = syntax }

    static let conditionKeys: Set<String> = ["when", "changed_when", "failed_when", "until"]
    static let taskListKeys: Set<String> = ["tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always"]
    static let assertNames: Set<String> = ["assert", "ansible.builtin.assert", "ansible.legacy.assert"]
    static let debugNames: Set<String> = ["debug", "ansible.builtin.debug", "ansible.legacy.debug"]

    /// A playbook, task file, handler file or role file: lists of plays or tasks are read as
    /// such, anything else as data.
    public func checkDocument(_ root: YAMLNode) throws {
        if case .mapping(let pairs) = root.content {
            // A role's meta/main.yml: its dependencies are role entries (with `when:`).
            for (key, value) in pairs {
                try checkValues(key)
                if key.scalarText == "dependencies", let entries = value.sequenceItems {
                    for entry in entries { try checkTaskOrPlay(entry) }
                } else {
                    try checkValues(value)
                }
            }
            return
        }
        guard let items = root.sequenceItems else { return try checkValues(root) }
        for item in items {
            if item.isMapping { try checkTaskOrPlay(item) } else { try checkValues(item) }
        }
    }

    /// Data (vars files, inventory values): every string with markup is a template.
    public func checkValues(_ node: YAMLNode) throws {
        switch node.content {
        case .scalar(let text, _):
            guard node.customTag != "!unsafe", node.customTag != "!vault", case .string = node.scalarValue else { return }
            try syntax.check(text, .template, node.location)
        case .sequence(let items):
            for item in items { try checkValues(item) }
        case .mapping(let pairs):
            for (key, value) in pairs {
                try checkValues(key)
                try checkValues(value)
            }
        }
    }

    /// A play or a task (or block, or role entry: the same keys mean the same there).
    private func checkTaskOrPlay(_ node: YAMLNode) throws {
        guard case .mapping(let pairs) = node.content else { return try checkValues(node) }
        for (keyNode, value) in pairs {
            let key = keyNode.scalarText ?? ""
            try checkValues(keyNode)
            if Self.conditionKeys.contains(key) {
                try checkConditions(value)
            } else if Self.taskListKeys.contains(key), let items = value.sequenceItems {
                for item in items { try checkTaskOrPlay(item) }
            } else if key == "roles", let entries = value.sequenceItems {
                for entry in entries { try checkTaskOrPlay(entry) }
            } else if key == "loop_control", case .mapping(let options) = value.content {
                for (optionKey, optionValue) in options {
                    try checkValues(optionKey)
                    if optionKey.scalarText == "break_when" { try checkConditions(optionValue) } else { try checkValues(optionValue) }
                }
            } else if Self.assertNames.contains(key) || Self.debugNames.contains(key), case .mapping(let arguments) = value.content {
                let expressionKey = Self.assertNames.contains(key) ? "that" : "var"
                for (argumentKey, argumentValue) in arguments {
                    try checkValues(argumentKey)
                    if argumentKey.scalarText == expressionKey { try checkConditions(argumentValue) } else { try checkValues(argumentValue) }
                }
            } else {
                try checkValues(value)
            }
        }
    }

    /// `when:` and friends: an expression, a list of them, or a boolean.
    private func checkConditions(_ node: YAMLNode) throws {
        switch node.content {
        case .scalar(let text, _):
            guard node.customTag != "!unsafe", node.customTag != "!vault", case .string = node.scalarValue else { return }
            try syntax.check(text, .expression, node.location)
        case .sequence(let items):
            for item in items { try checkConditions(item) }
        case .mapping:
            try checkValues(node)
        }
    }
}
