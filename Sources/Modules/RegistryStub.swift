// Temporary stand-in until the module library lands (deleted at merge).
import OrderedCollections
import PGHACore

public enum ModuleRegistry {
    public static func module(named name: String) -> (any Module.Type)? { nil }
}

extension ArgumentSpec {
    public func validate(
        _ args: OrderedDictionary<String, Value>, module: String, locations: [String: SourceLocation],
        taskLocation: SourceLocation, allowTemplates: Bool
    ) throws -> ModuleArguments {
        ModuleArguments(args)
    }
}
