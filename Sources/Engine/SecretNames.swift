import PGHACore

/// Variables whose values are secrets even without a `!vault` tag, so that a password kept in
/// plain inventory never reaches the output (Ansible itself would print it; its modules hide
/// their `no_log` arguments, which pgha-play masks too).
///
/// A name is a secret's when one of its words (split at `_`, `-`, `.` and case changes) is
/// password, passwd, pass, pwd, passphrase, secret or token (or their plurals), or it ends in
/// `private_key`; `*_file`, `*_path` and `*_min_length` name where a secret is or how long it
/// must be. Only text is masked: `security_sudoers_passwordless: [deploy]` (no such word),
/// `required_secrets: [a_password]` (a list of names), numbers, booleans and setting words
/// (`ssh_password_authentication: "no"`) are shown.
public enum SecretNames {
    static let secretWords: Set<String> = [
        "password", "passwords", "passwd", "pass", "pwd", "passphrase", "passphrases", "secret", "secrets", "token",
        "tokens",
    ]

    public static func isSecret(_ name: String) -> Bool {
        let lower = name.lowercased()
        if lower.hasSuffix("_file") || lower.hasSuffix("_path") || lower.hasSuffix("_min_length") { return false }
        if lower.hasSuffix("private_key") { return true }
        return words(of: name).contains(where: secretWords.contains)
    }

    /// `pg_superuser_password` -> [pg, superuser, password]; `dbPassword` -> [db, password].
    static func words(of name: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previousLower = false
        for character in name {
            if !character.isLetter && !character.isNumber {
                if !current.isEmpty { words.append(current) }
                current = ""
                previousLower = false
                continue
            }
            if character.isUppercase && previousLower {
                words.append(current)
                current = ""
            }
            current += character.lowercased()
            previousLower = character.isLowercase || character.isNumber
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Registers what is secret in the variable `name`: its text, or the texts of a mapping of
    /// secrets, when the name is a secret's; otherwise the values under secret-named keys inside it
    /// (`users: [{name: app, password: ...}]`).
    public static func register(name: String, value: Value, with redactor: Redactor) {
        if isSecret(name) {
            registerText(value, with: redactor)
        } else {
            registerNested(value, with: redactor)
        }
    }

    /// Setting words are nobody's password (`ssh_password_authentication: "false"`), and masking
    /// them would hide every `false` in the output.
    static let settingWords: Set<String> = ["yes", "no", "true", "false", "on", "off", "none", "null", "enabled", "disabled"]

    private static func registerText(_ value: Value, with redactor: Redactor) {
        switch value {
        case .string(let text) where !settingWords.contains(text.lowercased()): redactor.register(text)
        case .dict(let entries): for (_, nested) in entries { registerText(nested, with: redactor) }
        default: break
        }
    }

    private static func registerNested(_ value: Value, with redactor: Redactor) {
        switch value {
        case .dict(let entries): for (key, nested) in entries { register(name: key, value: nested, with: redactor) }
        case .list(let items): for item in items { registerNested(item, with: redactor) }
        default: break
        }
    }
}
