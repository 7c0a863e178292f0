/// Every action a task can name, found by any of its names.
///
/// The engine builds the one catalog from its actions' and modules' declarations
/// (`Engine.ActionRegistry.catalog`); the loader, `pgha-play doc` and the tests read it.
public struct ActionCatalog: Sendable {
    /// In the order given: engine actions first, then modules.
    public let declarations: [ActionDeclaration]
    private let indexByName: [String: Int]
    /// Names declared by more than one action (the catalog's tests require none).
    public let conflictingNames: [String]

    public init(_ declarations: [ActionDeclaration]) {
        self.declarations = declarations
        var index: [String: Int] = [:]
        var conflicts: [String] = []
        for (position, declaration) in declarations.enumerated() {
            for name in declaration.allNames {
                if index[name] != nil { conflicts.append(name) } else { index[name] = position }
            }
        }
        self.indexByName = index
        self.conflictingNames = conflicts
    }

    /// The action a task selects by writing `name` (short or fully qualified).
    public func declaration(named name: String) -> ActionDeclaration? {
        indexByName[name].map { declarations[$0] }
    }

    /// Every short name, sorted (for "did you mean" in errors).
    public var shortNames: [String] { declarations.map(\.name).sorted() }

    /// Every name that selects an action, short and qualified, sorted.
    public var allNames: [String] { indexByName.keys.sorted() }

    /// The nearest known name, for an unknown one.
    public func suggestion(for name: String) -> String? {
        closestName(to: name, among: allNames)
    }
}
