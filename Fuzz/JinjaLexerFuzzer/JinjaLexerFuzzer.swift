import FuzzSupport

@testable import Template

/// The Jinja2 lexer alone, in both escaping modes (strings from YAML, template files).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJinjaLexer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    for escape in [true, false] {
        var lexer = Lexer(text, trimBlocks: true, lstripBlocks: size % 2 == 0, keepTrailingNewline: false, escapeBackslashes: escape)
        _ = try? lexer.tokenize()
    }
    return 0
}
