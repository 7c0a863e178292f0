/// The fuzzers' input as text: libFuzzer hands over bytes, the parsers read UTF-8 (invalid
/// sequences become U+FFFD, as a lossy reader would make them).
public func fuzzText(_ data: UnsafePointer<UInt8>, _ size: Int) -> String {
    String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
}
