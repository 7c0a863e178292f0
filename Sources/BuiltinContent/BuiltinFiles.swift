/// The roles and playbooks built into pgha-play: every file of the repository's roles/ and
/// playbooks/, compiled in at build time (the EmbedBuiltinContent plugin), so the binary runs
/// them with no repository beside it.
public enum BuiltinFiles {
    /// One built-in file.
    public struct File: Sendable {
        public let bytes: [UInt8]
        /// Whether the repository's file is executable (its mode is then 0755, else 0644).
        public let isExecutable: Bool
    }

    /// Every built-in file by its path in the repository, e.g. "roles/haproxy/tasks/main.yml".
    public static let files: [String: File] = Dictionary(
        embedded.map { ($0.path, File(bytes: Array($0.text.utf8), isExecutable: $0.executable)) },
        uniquingKeysWith: { first, _ in first })
}

#if PGHA_NO_EMBEDDED_CONTENT
extension BuiltinFiles {
    /// Builds without the EmbedBuiltinContent plugin (the libFuzzer targets) embed nothing.
    static let embedded: [(path: String, executable: Bool, text: String)] = []
}
#endif
