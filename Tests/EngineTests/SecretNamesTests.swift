import PGHACore
import Testing

@testable import Engine

/// Which plain (unvaulted) variables are secrets: values, not every word near one.
@Suite struct SecretNamesTests {
    @Test(arguments: [
        ("pg_superuser_password", true), ("patroni_restapi_password", true), ("ansible_become_pass", true),
        ("ansible_ssh_pass", true), ("vault_api_token", true), ("dbPassword", true), ("backup_secrets", true),
        ("tls_private_key", true), ("key_passphrase", true), ("mysql_root_pwd", true),
        ("security_sudoers_passwordless", false), ("passwordless_sudo", false), ("tokenizer_mode", false),
        ("secretary", false), ("password_file", false), ("pgbackrest_secret_path", false),
        ("preflight_secret_min_length", false), ("bypass_cache", false), ("compass_heading", false),
    ])
    func names(_ name: String, _ secret: Bool) {
        #expect(SecretNames.isSecret(name) == secret, "\(name)")
    }

    @Test func onlySecretTextIsRegistered() {
        let redactor = Redactor()
        let variables: [(String, Value)] = [
            ("pg_superuser_password", "Su7x9QmV2rT4kLp8"),
            ("security_sudoers_passwordless", ["deploy", "operator"]),
            ("preflight_required_secrets", ["pg_superuser_password", "pg_replication_password"]),
            ("ssh_password_authentication", "false"),
            ("password_min_length", 12),
            ("app_users", [["name": "reporting", "password": "Rp-4dk2LmQ9z"]]),
            ("service_tokens", ["api": "tok-8c1e0a55f2"]),
        ]
        for (name, value) in variables { SecretNames.register(name: name, value: value, with: redactor) }
        let shown = redactor.redact(
            "Su7x9QmV2rT4kLp8 deploy operator pg_superuser_password false 12 reporting Rp-4dk2LmQ9z tok-8c1e0a55f2")
        #expect(shown == "******** deploy operator pg_superuser_password false 12 reporting ******** ********")
    }
}
