import PGHACore

/// Recursive-descent parser following Jinja2's grammar and operator precedence.
struct Parser {
    var tokens: [Token]
    var index = 0
    /// How deep the expression or statement being parsed nests (chains such as `a + b + c` count
    /// one level per operator, as they nest in the tree); bounded so that parsing, rendering and
    /// freeing the tree never exhaust the stack.
    var depth = 0
    static let maxDepth = 100
    /// False for a syntax-only check: an unknown filter or test is then left for the render to
    /// report (it is a question of what is installed, not of syntax).
    var resolvesNames = true

    init(tokens: [Token]) { self.tokens = tokens }

    var current: Token { tokens[index] }
    func peek(_ offset: Int = 1) -> Token { tokens[min(index + offset, tokens.count - 1)] }

    mutating func advance() -> Token {
        let t = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    func error(_ message: String, _ token: Token? = nil) -> TemplateSyntaxError {
        TemplateSyntaxError(message: message, line: (token ?? current).line)
    }

    /// One level deeper; the caller restores `depth` when it returns.
    mutating func descend() throws {
        depth += 1
        if depth > Parser.maxDepth {
            throw error("the template nests more than \(Parser.maxDepth) levels deep (expressions, operator chains or blocks)")
        }
    }

    func isOp(_ text: String) -> Bool { current.kind == .op && current.text == text }
    func isName(_ text: String) -> Bool { current.kind == .name && current.text == text }

    mutating func expectOp(_ text: String) throws {
        guard isOp(text) else { throw error("expected token '\(text)', got '\(current.describe())'") }
        _ = advance()
    }

    mutating func expectName() throws -> String {
        guard current.kind == .name else { throw error("expected name, got '\(current.describe())'") }
        return advance().text
    }

    mutating func expectBlockEnd() throws {
        guard current.kind == .blockEnd else {
            throw error("expected token 'end of statement block', got '\(current.describe())'")
        }
        _ = advance()
    }

    // MARK: - Template structure

    mutating func parseTemplate() throws -> [Node] {
        let (nodes, end) = try parseBody(until: [])
        if let end { throw error("Encountered unknown tag '\(end)'.") }
        return nodes
    }

    /// Parses nodes until a block tag whose name is in `until`; returns that name with the parser positioned
    /// just after it (the caller parses the tag's remainder). nil at end of template.
    mutating func parseBody(until: Set<String>) throws -> ([Node], String?) {
        var nodes: [Node] = []
        while true {
            let tok = current
            switch tok.kind {
            case .eof:
                if !until.isEmpty {
                    let expected = until.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw error("Unexpected end of template. Jinja was looking for the following tags: \(expected).")
                }
                return (nodes, nil)
            case .data:
                _ = advance()
                nodes.append(.text(tok.text))
            case .variableBegin:
                _ = advance()
                let expr = try parseTuple()
                guard current.kind == .variableEnd else {
                    throw error("unexpected '\(current.describe())'")
                }
                _ = advance()
                nodes.append(.output(expr, line: tok.line))
            case .blockBegin:
                _ = advance()
                guard current.kind == .name else { throw error("tag name expected") }
                let name = current.text
                if until.contains(name) {
                    _ = advance()
                    return (nodes, name)
                }
                nodes.append(try parseStatement())
            default:
                throw error("unexpected '\(tok.describe())'")
            }
        }
    }

    mutating func parseStatement() throws -> Node {
        let saved = depth
        defer { depth = saved }
        try descend()
        let tok = advance()
        switch tok.text {
        case "if": return try parseIf()
        case "for": return try parseFor(line: tok.line)
        case "set": return try parseSet(line: tok.line)
        case "macro": return try parseMacro()
        case "call": return try parseCallBlock(line: tok.line)
        case "filter": return try parseFilterBlock(line: tok.line)
        case "with": return try parseWith()
        case "include":
            let name = try parseExpression()
            var ignoreMissing = false
            if isName("ignore") {
                _ = advance()
                guard isName("missing") else { throw error("expected 'missing' after 'ignore'") }
                _ = advance()
                ignoreMissing = true
            }
            if isName("with") || isName("without") {
                _ = advance()
                guard isName("context") else { throw error("expected 'context'") }
                _ = advance()
            }
            try expectBlockEnd()
            return .include(name, ignoreMissing: ignoreMissing, line: tok.line)
        default:
            throw error("Encountered unknown tag '\(tok.text)'.", tok)
        }
    }

    mutating func parseIf() throws -> Node {
        var branches: [(Expr, [Node])] = []
        var cond = try parseTuple()
        try expectBlockEnd()
        while true {
            let (body, end) = try parseBody(until: ["elif", "else", "endif"])
            branches.append((cond, body))
            switch end {
            case "elif":
                cond = try parseTuple()
                try expectBlockEnd()
            case "else":
                try expectBlockEnd()
                let (elseBody, _) = try parseBody(until: ["endif"])
                try expectBlockEnd()
                return .ifNode(branches, else: elseBody)
            default:
                try expectBlockEnd()
                return .ifNode(branches, else: [])
            }
        }
    }

    mutating func parseAssignTarget(allowAttribute: Bool) throws -> Target {
        let first = try expectName()
        if allowAttribute, isOp(".") {
            _ = advance()
            let attr = try expectName()
            return .attribute(first, attr)
        }
        if isOp(",") {
            var names = [first]
            while isOp(",") {
                _ = advance()
                guard current.kind == .name, !isName("in") else { break }
                names.append(try expectName())
            }
            return .tuple(names)
        }
        return .name(first)
    }

    mutating func parseFor(line: Int) throws -> Node {
        let target: Target
        if isOp("(") {
            _ = advance()
            let t = try parseAssignTarget(allowAttribute: false)
            try expectOp(")")
            target = t
        } else {
            target = try parseAssignTarget(allowAttribute: false)
        }
        guard isName("in") else { throw error("expected 'in', got '\(current.describe())'") }
        _ = advance()
        let iter = try parseTuple(withCondexpr: false)
        var filter: Expr?
        if isName("if") {
            _ = advance()
            filter = try parseExpression()
        }
        var recursive = false
        if isName("recursive") {
            _ = advance()
            recursive = true
        }
        try expectBlockEnd()
        let (body, end) = try parseBody(until: ["endfor", "else"])
        var elseBody: [Node] = []
        if end == "else" {
            try expectBlockEnd()
            (elseBody, _) = try parseBody(until: ["endfor"])
        }
        try expectBlockEnd()
        return .forNode(target, iter, filter: filter, body: body, else: elseBody, recursive: recursive, line: line)
    }

    mutating func parseSet(line: Int) throws -> Node {
        let target = try parseAssignTarget(allowAttribute: true)
        if isOp("=") {
            _ = advance()
            let e = try parseTuple()
            try expectBlockEnd()
            return .set(target, e, line: line)
        }
        var filters: [(String, [Expr], [(String, Expr)], Int)] = []
        while isOp("|") {
            _ = advance()
            filters.append(try parseFilterSpec())
        }
        for f in filters { try checkFilter(f.0, line: f.3) }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endset"])
        try expectBlockEnd()
        return .setBlock(target, body, filters: filters, line: line)
    }

    mutating func parseParams() throws -> [(String, Expr?)] {
        var params: [(String, Expr?)] = []
        try expectOp("(")
        while !isOp(")") {
            if !params.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let name = try expectName()
            var def: Expr?
            if isOp("=") {
                _ = advance()
                def = try parseExpression()
            }
            params.append((name, def))
        }
        try expectOp(")")
        return params
    }

    mutating func parseMacro() throws -> Node {
        let name = try expectName()
        let params = try parseParams()
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endmacro"])
        try expectBlockEnd()
        return .macro(MacroDef(name: name, params: params, body: body))
    }

    mutating func parseCallBlock(line: Int) throws -> Node {
        var params: [(String, Expr?)] = []
        if isOp("(") { params = try parseParams() }
        let call = try parseExpression()
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endcall"])
        try expectBlockEnd()
        return .callBlock(call, params: params, body: body, line: line)
    }

    mutating func parseFilterSpec() throws -> (String, [Expr], [(String, Expr)], Int) {
        let line = current.line
        var name = try expectName()
        while isOp(".") {
            _ = advance()
            name += "." + (try expectName())
        }
        var args: [Expr] = []
        var kwargs: [(String, Expr)] = []
        if isOp("(") { (args, kwargs) = try parseCallArgs() }
        return (name, args, kwargs, line)
    }

    /// Jinja resolves filter names when compiling, so an unknown filter is a syntax error.
    func checkFilter(_ name: String, line: Int) throws {
        guard !resolvesNames || Filters.table[TemplateEngine.shortName(name)] != nil else {
            throw TemplateSyntaxError(message: "No filter named '\(name)'.", line: line)
        }
    }

    mutating func parseFilterBlock(line: Int) throws -> Node {
        var filters = [try parseFilterSpec()]
        while isOp("|") {
            _ = advance()
            filters.append(try parseFilterSpec())
        }
        for f in filters { try checkFilter(f.0, line: f.3) }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endfilter"])
        try expectBlockEnd()
        return .filterBlock(filters, body, line: line)
    }

    mutating func parseWith() throws -> Node {
        var assignments: [(Target, Expr)] = []
        while current.kind != .blockEnd {
            if !assignments.isEmpty { try expectOp(",") }
            let t = try parseAssignTarget(allowAttribute: false)
            try expectOp("=")
            assignments.append((t, try parseExpression()))
        }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endwith"])
        try expectBlockEnd()
        return .with(assignments, body)
    }

    // MARK: - Expressions

    /// A comma-separated list becomes a tuple (`{% for a, b in x, y %}`, `{{ 1, 2 }}`).
    mutating func parseTuple(withCondexpr: Bool = true) throws -> Expr {
        let first = withCondexpr ? try parseExpression() : try parseOr()
        guard isOp(",") else { return first }
        var items = [first]
        while isOp(",") {
            _ = advance()
            if current.kind == .variableEnd || current.kind == .blockEnd || isOp(")") { break }
            if isName("if") { break }
            items.append(withCondexpr ? try parseExpression() : try parseOr())
        }
        return .tuple(items)
    }

    mutating func parseExpression() throws -> Expr {
        let saved = depth
        defer { depth = saved }
        try descend()
        let expr = try parseOr()
        if isName("if") {
            _ = advance()
            let cond = try parseOr()
            var elseExpr: Expr?
            if isName("else") {
                _ = advance()
                elseExpr = try parseExpression()
            }
            return .conditional(cond, expr, elseExpr)
        }
        return expr
    }

    mutating func parseOr() throws -> Expr {
        let saved = depth
        defer { depth = saved }
        var left = try parseAnd()
        while isName("or") {
            _ = advance()
            try descend()
            left = .or(left, try parseAnd())
        }
        return left
    }

    mutating func parseAnd() throws -> Expr {
        let saved = depth
        defer { depth = saved }
        var left = try parseNot()
        while isName("and") {
            _ = advance()
            try descend()
            left = .and(left, try parseNot())
        }
        return left
    }

    mutating func parseNot() throws -> Expr {
        let saved = depth
        defer { depth = saved }
        if isName("not") {
            _ = advance()
            try descend()
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> Expr {
        let saved = depth
        defer { depth = saved }
        let line = current.line
        let left = try parseMath1()
        var ops: [(String, Expr)] = []
        while true {
            if current.kind == .op, Parser.isComparison(current.text) {
                try descend()
                let op = advance().text
                ops.append((op, try parseMath1()))
            } else if isName("in") {
                _ = advance()
                try descend()
                ops.append(("in", try parseMath1()))
            } else if isName("not"), peek().kind == .name, peek().text == "in" {
                _ = advance(); _ = advance()
                try descend()
                ops.append(("notin", try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? left : .compare(left, ops, line: line)
    }

    static func isComparison(_ op: String) -> Bool {
        switch op {
        case "==", "!=", "<", ">", "<=", ">=": return true
        default: return false
        }
    }

    mutating func parseMath1() throws -> Expr {
        let saved = depth
        defer { depth = saved }
        var left = try parseConcat()
        while current.kind == .op, current.text == "+" || current.text == "-" {
            let op = advance()
            try descend()
            left = .binary(op.text, left, try parseConcat(), line: op.line)
        }
        return left
    }

    mutating func parseConcat() throws -> Expr {
        let saved = depth
        defer { depth = saved }
        var left = try parseMath2()
        while isOp("~") {
            let op = advance()
            try descend()
            left = .binary("~", left, try parseMath2(), line: op.line)
        }
        return left
    }

    mutating func parseMath2() throws -> Expr {
        let saved = depth
        defer { depth = saved }
        var left = try parsePow()
        while current.kind == .op, current.text == "*" || current.text == "/" || current.text == "//" || current.text == "%" {
            let op = advance()
            try descend()
            left = .binary(op.text, left, try parsePow(), line: op.line)
        }
        return left
    }

    mutating func parsePow() throws -> Expr {
        let saved = depth
        defer { depth = saved }
        var left = try parseUnary(withFilter: true)
        while isOp("**") {
            let op = advance()
            try descend()
            left = .binary("**", left, try parseUnary(withFilter: true), line: op.line)
        }
        return left
    }

    mutating func parseUnary(withFilter: Bool) throws -> Expr {
        let saved = depth
        defer { depth = saved }
        var node: Expr
        if isOp("-") || isOp("+") {
            let op = advance()
            try descend()
            node = .unary(op.text, try parseUnary(withFilter: false), line: op.line)
        } else {
            node = try parsePrimary()
            node = try parsePostfix(node)
        }
        if withFilter { node = try parseFilterExpr(node) }
        return node
    }

    mutating func parsePrimary() throws -> Expr {
        let tok = current
        switch tok.kind {
        case .name:
            _ = advance()
            switch tok.text {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.null)
            default: return .name(tok.text, line: tok.line)
            }
        case .string:
            var s = advance().text
            while current.kind == .string { s += advance().text }
            return .literal(.string(s))
        case .integer:
            _ = advance()
            return .literal(.int(tok.intValue))
        case .float:
            _ = advance()
            return .literal(.double(tok.doubleValue))
        case .op:
            switch tok.text {
            case "(":
                _ = advance()
                if isOp(")") {
                    _ = advance()
                    return .tuple([])
                }
                let first = try parseExpression()
                if isOp(")") {
                    _ = advance()
                    return first
                }
                var items = [first]
                while isOp(",") {
                    _ = advance()
                    if isOp(")") { break }
                    items.append(try parseExpression())
                }
                try expectOp(")")
                return .tuple(items)
            case "[":
                _ = advance()
                var items: [Expr] = []
                while !isOp("]") {
                    if !items.isEmpty { try expectOp(",") }
                    if isOp("]") { break }
                    items.append(try parseExpression())
                }
                try expectOp("]")
                return .list(items)
            case "{":
                _ = advance()
                var items: [(Expr, Expr)] = []
                while !isOp("}") {
                    if !items.isEmpty { try expectOp(",") }
                    if isOp("}") { break }
                    let k = try parseExpression()
                    try expectOp(":")
                    items.append((k, try parseExpression()))
                }
                try expectOp("}")
                return .dict(items)
            default: break
            }
        default: break
        }
        if tok.kind == .variableEnd || tok.kind == .blockEnd || tok.kind == .eof {
            throw error("Expected an expression, got '\(tok.describe())'")
        }
        throw error("unexpected '\(tok.describe())'")
    }

    mutating func parsePostfix(_ start: Expr) throws -> Expr {
        let saved = depth
        defer { depth = saved }
        var node = start
        while true {
            if isOp(".") || isOp("[") || isOp("(") { try descend() }
            if isOp(".") {
                let dot = advance()
                if current.kind == .name {
                    node = .getattr(node, advance().text, line: dot.line)
                } else if current.kind == .integer {
                    node = .getitem(node, .literal(.int(advance().intValue)), line: dot.line)
                } else {
                    throw error("expected name or number")
                }
            } else if isOp("[") {
                let open = advance()
                node = try parseSubscript(node, line: open.line)
            } else if isOp("(") {
                let line = current.line
                let (args, kwargs) = try parseCallArgs()
                node = .call(node, args, kwargs, line: line)
            } else {
                return node
            }
        }
    }

    mutating func parseSubscript(_ node: Expr, line: Int) throws -> Expr {
        var parts: [Expr?] = []
        var isSlice = false
        var currentPart: Expr?
        while !isOp("]") {
            if isOp(":") {
                _ = advance()
                isSlice = true
                parts.append(currentPart)
                currentPart = nil
                continue
            }
            if isOp(",") { throw error("tuple subscripts are not supported") }
            currentPart = try parseExpression()
        }
        try expectOp("]")
        parts.append(currentPart)
        if !isSlice {
            guard let key = parts[0] else { throw error("expected subscript expression") }
            return .getitem(node, key, line: line)
        }
        while parts.count < 3 { parts.append(nil) }
        return .slice(node, parts[0], parts[1], parts[2], line: line)
    }

    mutating func parseCallArgs() throws -> ([Expr], [(String, Expr)]) {
        try expectOp("(")
        var args: [Expr] = []
        var kwargs: [(String, Expr)] = []
        while !isOp(")") {
            if !args.isEmpty || !kwargs.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            if current.kind == .name, peek().kind == .op, peek().text == "=" {
                let key = advance().text
                _ = advance()
                kwargs.append((key, try parseExpression()))
            } else {
                if !kwargs.isEmpty { throw error("positional argument follows keyword argument") }
                args.append(try parseExpression())
            }
        }
        try expectOp(")")
        return (args, kwargs)
    }

    mutating func parseFilterExpr(_ start: Expr) throws -> Expr {
        let saved = depth
        defer { depth = saved }
        var node = start
        while true {
            if isOp("|") || isName("is") || isOp("(") { try descend() }
            if isOp("|") {
                _ = advance()
                let (name, args, kwargs, line) = try parseFilterSpec()
                try checkFilter(name, line: line)
                node = .filter(node, name, args, kwargs, line: line)
            } else if isName("is") {
                let line = advance().line
                var negated = false
                if isName("not") {
                    _ = advance()
                    negated = true
                }
                var name = try expectName()
                while isOp(".") {
                    _ = advance()
                    name += "." + (try expectName())
                }
                var args: [Expr] = []
                var kwargs: [(String, Expr)] = []
                if isOp("(") {
                    (args, kwargs) = try parseCallArgs()
                } else if startsBareTestArgument() {
                    // Jinja allows one bare argument: `x is divisibleby 3`, `x is sameas none`.
                    args.append(try parsePostfix(try parsePrimaryOrNeg()))
                }
                guard !resolvesNames || Tests.table[TemplateEngine.shortName(name)] != nil else {
                    throw TemplateSyntaxError(message: "No test named '\(name)'.", line: line)
                }
                node = .test(node, name, args, kwargs, negated: negated, line: line)
            } else if isOp("(") {
                let line = current.line
                let (args, kwargs) = try parseCallArgs()
                node = .call(node, args, kwargs, line: line)
            } else {
                return node
            }
        }
    }

    private func startsBareTestArgument() -> Bool {
        switch current.kind {
        case .string, .integer, .float: return true
        case .name:
            switch current.text {
            case "else", "or", "and", "if", "is", "in", "not": return false
            default: return true
            }
        case .op: return current.text == "[" || current.text == "{" || current.text == "-"
        default: return false
        }
    }

    private mutating func parsePrimaryOrNeg() throws -> Expr {
        if isOp("-") {
            let op = advance()
            return .unary("-", try parsePrimary(), line: op.line)
        }
        return try parsePrimary()
    }
}
