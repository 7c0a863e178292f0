import ArgumentParser
import Declarations
import Engine
import PGHACore

/// `pgha-play doc -l` and `pgha-play doc NAME...`: the actions and modules, as ansible-doc shows them,
/// from their declarations.
struct DocCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doc",
        abstract: "Show an action's or module's arguments and examples (as ansible-doc does)."
    )

    @Flag(name: [.customShort("l"), .long], help: "List every action and module with its summary.")
    var list = false

    @Argument(help: "Actions or modules, short (copy) or fully qualified (ansible.builtin.copy).")
    var names: [String] = []

    func run() throws {
        let catalog = ActionRegistry.catalog
        if list {
            print(DocumentationText.listing(catalog), terminator: "")
            return
        }
        guard !names.isEmpty else { throw ValidationError("name an action or module, or give -l to list them") }
        for name in names {
            guard let declaration = catalog.declaration(named: name) else {
                throw PGHAError(
                    .usage, "no action or module named '\(name)'",
                    hint: (catalog.suggestion(for: name).map { "did you mean '\($0)'? " } ?? "") + "`pgha-play doc -l` lists them")
            }
            print(DocumentationText.page(declaration))
        }
    }
}
