import PGHACore

/// Expression tree of a compiled template; immutable, so one compilation serves every render.
indirect enum Expr: Sendable {
    case literal(Value)
    case name(String, line: Int)
    case list([Expr])
    case tuple([Expr])
    case dict([(Expr, Expr)])
    case getattr(Expr, String, line: Int)
    case getitem(Expr, Expr, line: Int)
    case slice(Expr, Expr?, Expr?, Expr?, line: Int)
    case call(Expr, [Expr], [(String, Expr)], line: Int)
    case filter(Expr, String, [Expr], [(String, Expr)], line: Int)
    case test(Expr, String, [Expr], [(String, Expr)], negated: Bool, line: Int)
    case unary(String, Expr, line: Int)
    case binary(String, Expr, Expr, line: Int)
    case compare(Expr, [(String, Expr)], line: Int)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case not(Expr)
    case conditional(Expr, Expr, Expr?)
}

/// Assignment target of `for` and `set`.
enum Target: Sendable {
    case name(String)
    case tuple([String])
    case attribute(String, String)
}

struct MacroDef: Sendable {
    var name: String
    var params: [(String, Expr?)]
    var body: [Node]
}

indirect enum Node: Sendable {
    case text(String)
    case output(Expr, line: Int)
    case ifNode([(Expr, [Node])], else: [Node])
    case forNode(Target, Expr, filter: Expr?, body: [Node], else: [Node], recursive: Bool, line: Int)
    case set(Target, Expr, line: Int)
    case setBlock(Target, [Node], filters: [(String, [Expr], [(String, Expr)], Int)], line: Int)
    case macro(MacroDef)
    case callBlock(Expr, params: [(String, Expr?)], body: [Node], line: Int)
    case filterBlock([(String, [Expr], [(String, Expr)], Int)], [Node], line: Int)
    case with([(Target, Expr)], [Node])
    case include(Expr, ignoreMissing: Bool, line: Int)
}
