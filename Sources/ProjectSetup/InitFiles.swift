import PGHACore

/// One setting of the generated `group_vars/all/main.yml`: its comment, name and YAML value.
struct InitSetting {
    var comment: String
    var name: String
    /// The value as YAML: a scalar on the key's line, or block lines (starting with a newline).
    var yaml: String

    var text: String {
        comment.split(separator: "\n", omittingEmptySubsequences: false).map { "# " + $0 }.joined(separator: "\n")
            + "\n\(name):" + (yaml.hasPrefix("\n") ? yaml : " " + yaml) + "\n"
    }

    static func list(_ items: [String]) -> String {
        items.map { "\n  - " + $0 }.joined()
    }

    /// Multi-line text as a YAML literal block (`|`: the text with one final newline).
    static func literalBlock(_ text: String) -> String {
        "|" + text.split(separator: "\n", omittingEmptySubsequences: true).map { "\n  " + $0 }.joined()
    }
}

/// The texts `pgha-play init` writes, from the checked request.
struct InitFiles {
    var postgres: [ClusterHost]
    var witnesses: [ClusterHost]
    var user: String?
    var privateKey: String?
    var clusterNetwork: CIDRNetwork
    var adminNetworks: [CIDRNetwork]
    var clientNetworks: [CIDRNetwork]
    var allowTwoMemberEtcd: Bool
    var storesVaultPassword: Bool
    /// The cluster CA's certificate (PEM); its key goes to vault.yml.
    var clusterCACertificatePEM: String

    /// Engine's `ProjectConfiguration.fileName` (ProjectSetup does not depend on the engine).
    static let projectFile = "pgha-play.yml"
    static let vaultPasswordFile = ".vault-pass"
    static let inventoryFile = "hosts.ini"
    static let settingsFile = "group_vars/all/main.yml"
    static let vaultFile = "group_vars/all/vault.yml"

    var hostsINI: String {
        func line(_ host: ClusterHost) -> String { "\(host.name) ansible_host=\(host.address)\n" }
        var text = """
            # The cluster's hosts, written by `pgha-play init`.
            #   [postgres]  database nodes: PostgreSQL, Patroni, HAProxy, pgBackRest and an etcd member each
            #   [witness]   etcd only: the tie-breaker that keeps etcd's quorum when a database node is lost
            # Nodes added later go under [postgres] (in pairs, or one with a witness: etcd's member count stays
            # odd); then `pgha-play add-node.yml -e new_node=NAME[,NAME]`.
            # Settings for every host: group_vars/all/main.yml; secrets: group_vars/all/vault.yml (encrypted).

            [postgres]

            """
        text += postgres.map(line).joined()
        text += "\n[witness]\n" + witnesses.map(line).joined()
        text += "\n[etcd:children]\npostgres\nwitness\n"
        var connection: [String] = []
        if let user { connection.append("ansible_user=\(user)") }
        if let privateKey { connection.append("ansible_ssh_private_key_file=\(privateKey)") }
        if !connection.isEmpty {
            text += "\n# How pgha-play connects (SSH as this user, sudo for the rest).\n[all:vars]\n"
                + connection.joined(separator: "\n") + "\n"
        }
        return text
    }

    var settings: [InitSetting] {
        [
            InitSetting(
                comment: "Address each host uses for cluster traffic (etcd, replication, Patroni REST, HAProxy backends).",
                name: "pgha_address", yaml: "\"{{ ansible_host | default(inventory_hostname) }}\""),
            InitSetting(comment: "PostgreSQL major version: Debian 12 ships 15.", name: "pg_version", yaml: "\"15\""),
            InitSetting(
                comment: """
                    Network the database nodes replicate over; pg_hba.conf admits replication and superuser logins
                    from it (scram-sha-256). init took the smallest /24 holding the database nodes.
                    """,
                name: "pgha_cluster_network", yaml: clusterNetwork.description),
            InitSetting(
                comment: """
                    Who may SSH in and see the HAProxy stats page: the firewall allows SSH from these only (and
                    from the address of the machine that runs the deploy). init took that machine's address.
                    """,
                name: "pgha_admin_networks", yaml: InitSetting.list(adminNetworks.map(\.description))),
            InitSetting(
                comment: "Who may connect to HAProxy's 5432 (read-write, the leader) and 5433 (read-only, the replicas).",
                name: "pgha_client_networks", yaml: InitSetting.list(clientNetworks.map(\.description))),
            InitSetting(
                comment: "Patroni cluster name (the etcd key prefix and the `patronictl list` header).",
                name: "patroni_scope", yaml: "postgres"),
            InitSetting(
                comment: """
                    Backups with pgBackRest: a repository on every database node, WAL archiving, a weekly full and
                    daily differential backup run by the leader. The stanza names the cluster in the repository.
                    """,
                name: "pgha_backup_enabled", yaml: "true"),
            InitSetting(comment: "pgBackRest stanza.", name: "pgbackrest_stanza", yaml: "main"),
            InitSetting(
                comment: """
                    CIS Debian 12 hardening (Level 1 - Server, see `pgha-play roles list`) before the cluster roles;
                    false leaves the hosts as they are.
                    """,
                name: "pgha_cis_hardening", yaml: "true"),
            InitSetting(
                comment: "Run `apt-get update` before installing (false for hosts that install from a pre-loaded cache).",
                name: "pgha_apt_update_cache", yaml: "true"),
            InitSetting(
                comment: """
                    TLS on every link (etcd, PostgreSQL clients and replication, Patroni's REST API, HAProxy's checks
                    and stats). Clients find the CA certificate beside this inventory (pgha-ca.crt) for
                    sslmode=verify-full.
                    """,
                name: "pgha_tls", yaml: "true"),
            InitSetting(
                comment: """
                    The cluster CA's certificate, made by init (ten years; rotate with playbooks/rotate-ca.yml).
                    Its key is pgha_tls_ca_private_key, in vault.yml.
                    """,
                name: "pgha_tls_ca_cert", yaml: InitSetting.literalBlock(clusterCACertificatePEM)),
            InitSetting(
                comment: """
                    Prometheus, Alertmanager and the exporters (role monitoring) on the hosts of [monitoring], by
                    default the witness.
                    """,
                name: "pgha_monitoring_enabled", yaml: "true"),
            InitSetting(
                comment: """
                    A 2-member etcd (no witness) has no fault tolerance: losing either database node stops writes.
                    Refused unless this is true.
                    """,
                name: "pgha_allow_two_member_etcd", yaml: allowTwoMemberEtcd ? "true" : "false"),
        ]
    }

    var mainYAML: String {
        var text = """
            ---
            # Settings shared by every role for this cluster, written by `pgha-play init`. Each setting is
            # here with a comment; every other default is in the built-in roles (`pgha-play roles list`,
            # `pgha-play roles export ROLE` to read or change one).


            """
        text += settings.map(\.text).joined(separator: "\n")
        text += """

            # Secrets: generated by init, encrypted in vault.yml (`pgha-play vault edit group_vars/all/vault.yml`),
            # named here so a grep finds where each variable is set without decrypting anything.

            """
        for secret in InitSecrets.all {
            text += "# \(secret.comment)\n\(secret.name): \"{{ \(secret.vaultName) }}\"\n"
        }
        return text
    }

    /// vault.yml's plaintext: each secret under its `vault_` name.
    static func vaultYAML(_ values: [(secret: InitSecret, value: String)]) -> String {
        var text = "---\n# Generated by `pgha-play init`; main.yml names each of these.\n"
        for (secret, value) in values {
            if value.contains("\n") {
                let body = value.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
                text += "\(secret.vaultName): |\n" + body.joined(separator: "\n") + (value.hasSuffix("\n") ? "" : "\n")
            } else {
                text += "\(secret.vaultName): \"\(value)\"\n"
            }
        }
        return text
    }

    var projectYAML: String {
        var text = """
            # pgha-play's settings for this directory (what ansible.cfg is to Ansible), written by
            # `pgha-play init`: found by walking up from the working directory, so `pgha-play site.yml`
            # run anywhere below here uses this inventory with no flags.
            inventory: \(Self.inventoryFile)

            """
        if storesVaultPassword {
            text += """
                # The password of group_vars/all/vault.yml (keep it out of version control; .gitignore lists it).
                vault_password_file: \(Self.vaultPasswordFile)

                """
        } else {
            text += """
                # The password of group_vars/all/vault.yml is asked for: run with -J (--ask-vault-pass), or set
                # vault_password_file here to a file or an executable that prints it.

                """
        }
        text += """
            # Your own playbooks and roles. A playbook or role here is used instead of the built-in one of
            # the same name (`pgha-play roles export haproxy` copies the built-in haproxy role to roles/).
            playbook_dirs:
              - playbooks
            roles_path:
              - roles

            """
        return text
    }

    static let gitignore = "# The vault password never goes into version control.\n\(vaultPasswordFile)\n"
}
