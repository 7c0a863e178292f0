import PGHACore

/// Everything known about one action before it runs: the names a task may write, whether it takes
/// free-form text, what it supports, its arguments and its documentation.
///
/// Each action (an engine action such as `debug`, or a module such as `copy`) declares itself once;
/// the loader (names, free-form text, static argument checks), the engine (check mode, locale),
/// `pgha-play doc` and the tests all read that declaration. Nothing else lists action names.
public struct ActionDeclaration: Sendable {
    /// The short name tasks write, e.g. "copy".
    public var name: String
    /// Fully qualified names that select the same action, e.g. ["ansible.builtin.copy", "ansible.legacy.copy"].
    public var qualifiedNames: [String]
    /// Whether it predicts its changes under `--check`; the engine skips a module that does not.
    public var supportsCheckMode: Bool
    /// Whether it reports before/after content for `--diff`.
    public var supportsDiff: Bool
    /// Runs the user's own commands (command, shell, script), which see the host's locale as under
    /// Ansible; every other module runs its tools in C.UTF-8 so it can parse their output.
    public var keepsHostLocale: Bool
    /// Whether the loader checks a task's arguments against `arguments` before anything runs
    /// (modules). Engine actions check their own arguments while they run.
    public var argumentsCheckedWhenLoaded: Bool
    public var arguments: ArgumentSpec
    public var documentation: ActionDocumentation

    public init(
        name: String, qualifiedNames: [String], supportsCheckMode: Bool, supportsDiff: Bool = false,
        keepsHostLocale: Bool = false, argumentsCheckedWhenLoaded: Bool = true, arguments: ArgumentSpec,
        documentation: ActionDocumentation
    ) {
        self.name = name
        self.qualifiedNames = qualifiedNames
        self.supportsCheckMode = supportsCheckMode
        self.supportsDiff = supportsDiff
        self.keepsHostLocale = keepsHostLocale
        self.argumentsCheckedWhenLoaded = argumentsCheckedWhenLoaded
        self.arguments = arguments
        self.documentation = documentation
    }

    /// How the action reads text written after its name (`command: ls -l`, `include_tasks: x.yml`).
    public var freeForm: ArgumentSpec.FreeForm { arguments.freeForm }

    /// The short name and every qualified name.
    public var allNames: [String] { [name] + qualifiedNames }

    /// The name `pgha-play doc -l` shows, as ansible-doc does: the fully qualified one.
    public var displayName: String { qualifiedNames.first ?? name }
}

/// What `pgha-play doc NAME` prints besides the arguments, in ansible-doc's terms.
public struct ActionDocumentation: Sendable {
    /// One line: ansible-doc's `short_description`.
    public var summary: String
    /// Paragraphs: what it does, and where pgha-play differs from Ansible.
    public var details: [String]
    /// Tasks using it, as YAML.
    public var examples: String

    public init(_ summary: String, details: [String] = [], examples: String) {
        self.summary = summary
        self.details = details
        self.examples = examples
    }
}
