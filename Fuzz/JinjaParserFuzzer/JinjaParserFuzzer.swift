import FuzzSupport
import PGHACore
import Template

/// The Jinja2 parser through the load-time syntax check: as a template string, a template file
/// and a bare expression (`when:`). Only located `PGHAError`s may come out.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJinjaParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    let location = SourceLocation(file: "fuzz.j2", line: 1, column: 1)
    let engine = TemplateEngine()
    for check in [
        { try engine.checkSyntax(template: text, at: location) },
        { try engine.checkSyntax(template: text, at: location, isFile: true) },
        { try engine.checkSyntax(expression: text, at: location) },
    ] {
        do { try check() } catch is PGHAError {} catch { fatalError("parser threw a non-PGHAError: \(error)") }
    }
    return 0
}
