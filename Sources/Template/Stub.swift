// Temporary stand-in until the Jinja2 engine lands (deleted at merge).
import PGHACore

public protocol TemplateVariables: Sendable {
    func lookup(_ name: String) -> Value?
}

public struct TemplateEngine: Sendable {
    public init() {}
    public func render(_ text: String, variables: any TemplateVariables, location: SourceLocation) throws -> Value {
        .string(text)
    }
    public func renderValue(_ value: Value, variables: any TemplateVariables, location: SourceLocation) throws -> Value {
        value
    }
    public func evaluateCondition(_ text: String, variables: any TemplateVariables, location: SourceLocation) throws -> Bool {
        true
    }
}
