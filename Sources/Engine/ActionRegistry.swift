import Declarations
import Modules

/// Every action a task can run, the engine's own and the module library's: the one catalog the
/// loader, the engine, `pgha-play doc` and the tests read.
public enum ActionRegistry {
    /// The engine's actions. Adding one: a file in `Engine/Actions` and a line here.
    static let engineActions: [any EngineAction.Type] = [
        DebugAction.self, SetFactAction.self, AssertAction.self, FailAction.self, MetaAction.self,
        IncludeTasksAction.self, ImportTasksAction.self, IncludeRoleAction.self, ImportRoleAction.self,
        ImportPlaybookAction.self, IncludeVarsAction.self, AddHostAction.self, GroupByAction.self, SetupAction.self,
        GatherFactsAction.self, PauseAction.self, SetStatsAction.self, ValidateArgumentSpecAction.self,
        WaitForConnectionAction.self, RebootAction.self,
    ]

    /// Engine actions first, then the module library (`ModuleRegistry.all`).
    /// Then the modules known by name only (`UnsupportedActions`), which fail when they run.
    public static let catalog = ActionCatalog(
        engineActions.map { $0.declaration } + ModuleRegistry.all.map { $0.declaration } + UnsupportedAction.declarations)

    /// What runs an action.
    enum Runner: Sendable {
        case engine(any EngineAction.Type)
        case module(any Module.Type)
    }

    private static let runners: [String: Runner] = {
        var table: [String: Runner] = [:]
        for action in engineActions {
            for name in action.declaration.allNames { table[name] = .engine(action) }
        }
        for module in ModuleRegistry.all {
            for name in module.declaration.allNames { table[name] = .module(module) }
        }
        for declaration in UnsupportedAction.declarations {
            for name in declaration.allNames where table[name] == nil { table[name] = .engine(UnsupportedAction.self) }
        }
        return table
    }()

    /// The runner of the action a task names (short or fully qualified).
    static func runner(for name: String) -> Runner? { runners[name] }
}
