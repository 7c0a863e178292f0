import FuzzSupport
import OrderedCollections
import PGHACore
import Template

/// Fixed variables of every kind, some of them templates themselves (rendered lazily).
let variables = DictionaryVariables([
    "s": "text", "n": 3, "f": 2.5, "b": true, "none": .null, "l": [1, "two", [3]],
    "d": ["k": "v", "n": ["x": 1]], "t": "{{ s | upper }}", "loop_me": "{{ t ~ n }}",
])
let engine = TemplateEngine()

/// The Jinja2 renderer: a template string and a condition with fixed variables. A result or a
/// `PGHAError`, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJinjaRender(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    let location = SourceLocation(file: "fuzz.j2", line: 1, column: 1)
    do { _ = try engine.render(text, variables: variables, location: location) } catch is PGHAError {} catch {
        fatalError("render threw a non-PGHAError: \(error)")
    }
    do { _ = try engine.evaluateCondition(text, variables: variables, location: location) } catch is PGHAError {} catch {
        fatalError("evaluateCondition threw a non-PGHAError: \(error)")
    }
    return 0
}
