import FuzzSupport
import PGHACore

/// The YAML loader with marks: any input ends in documents or a located `PGHAError`; the
/// documents' values (merge keys expanded) are built too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzYAML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        for document in try YAMLLoader.loadAll(fuzzText(data, size), file: "fuzz.yml") {
            _ = document.value
            _ = document.containsSecret
        }
    } catch is PGHAError {
    } catch {
        fatalError("YAMLLoader threw a non-PGHAError: \(error)")
    }
    return 0
}
