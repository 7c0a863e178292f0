/// Variable names whose values are treated as secrets even without a `!vault` tag, so that a
/// password kept in plain inventory still never reaches the output.
public enum SecretNames {
    public static func isSecret(_ name: String) -> Bool {
        let lower = name.lowercased()
        if lower.hasSuffix("_file") || lower.hasSuffix("_path") || lower.hasSuffix("_min_length") { return false }
        return lower.contains("password") || lower.contains("passwd") || lower.contains("secret")
            || lower.contains("token") || lower.hasSuffix("_private_key") || lower.hasSuffix("_passphrase")
    }
}
