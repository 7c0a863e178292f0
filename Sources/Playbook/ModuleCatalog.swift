import OrderedCollections
import PGHACore

/// What the loader needs to know about modules: their canonical names and static argument checks.
///
/// The engine adapts its module registry to this; engine-level actions (`set_fact`, `debug`,
/// `include_tasks`, `meta`, ...) are part of the catalog too.
public protocol ModuleCatalog: Sendable {
    /// The short name for an action as written ("ansible.builtin.copy" -> "copy"); nil for an
    /// unknown module.
    func canonicalName(for action: String) -> String?

    /// Checks a task's arguments before anything runs (unknown or missing arguments, literal
    /// values of the wrong type or outside the allowed choices).
    ///
    /// Values containing `{{` are rendered per host later, so they must not be type-checked here.
    /// Throws a `PGHAError` located at `locations[argument]`, or at `taskLocation`.
    func validateStatically(
        module: String, args: OrderedDictionary<String, Value>, locations: [String: SourceLocation],
        taskLocation: SourceLocation) throws

    /// Every short module name, used only to suggest a near miss for an unknown one.
    var knownModuleNames: [String] { get }
}

extension ModuleCatalog {
    public var knownModuleNames: [String] { [] }
}
