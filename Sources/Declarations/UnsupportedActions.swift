/// Modules of the collections an ordinary Ansible install brings that pgha-play does not implement,
/// each with the nearest thing that does the job on a Debian host.
///
/// They are declared (so a role that names them loads, and tasks guarded by `when:` skip as usual);
/// a task that reaches one fails when it runs, naming the task, where it was written and the
/// alternative. docs/compatibility.md lists them with how often public roles use them.
public enum UnsupportedActions {
    public struct Entry: Sendable {
        /// Short name first, then the fully qualified ones.
        public let names: [String]
        /// One line: what it does in Ansible.
        public let summary: String
        /// What to write instead.
        public let alternative: String

        public init(_ names: [String], _ summary: String, alternative: String) {
            self.names = names
            self.summary = summary
            self.alternative = alternative
        }
    }

    static func collection(_ prefix: String, _ names: [String]) -> [String] { names.map { prefix + "." + $0 } }

    public static let entries: [Entry] = [
        Entry(
            ["docker_container"] + collection("community.docker", ["docker_container"]), "Manage Docker containers",
            alternative: "ansible.builtin.command running `docker run`/`docker rm` (with creates:/changed_when:), or a systemd unit"),
        Entry(
            ["docker_image"] + collection("community.docker", ["docker_image", "docker_image_pull"]), "Manage Docker images",
            alternative: "ansible.builtin.command: docker pull IMAGE, with changed_when on its output"),
        Entry(
            ["docker_network"] + collection("community.docker", ["docker_network"]), "Manage Docker networks",
            alternative: "ansible.builtin.command: docker network create NAME (failed_when for 'already exists')"),
        Entry(
            ["docker_volume"] + collection("community.docker", ["docker_volume"]), "Manage Docker volumes",
            alternative: "ansible.builtin.command: docker volume create NAME"),
        Entry(
            ["docker_compose_v2", "docker_compose"] + collection("community.docker", ["docker_compose_v2", "docker_compose"]),
            "Manage Docker Compose projects", alternative: "ansible.builtin.command: docker compose -f FILE up -d, in chdir: the project"),
        Entry(
            ["docker_login"] + collection("community.docker", ["docker_login"]), "Log into a Docker registry",
            alternative: "ansible.builtin.command: docker login --password-stdin, with the password in stdin: and no_log: true"),
        Entry(
            ["mysql_user"] + collection("community.mysql", ["mysql_user"]), "Adds or removes a user from a MySQL database",
            alternative: "ansible.builtin.command: mysql -NBe \"CREATE USER IF NOT EXISTS ...\" (or keep the data in PostgreSQL with community.postgresql.postgresql_user)"),
        Entry(
            ["mysql_db"] + collection("community.mysql", ["mysql_db"]), "Add or remove MySQL databases",
            alternative: "ansible.builtin.command: mysql -NBe \"CREATE DATABASE IF NOT EXISTS ...\" (community.postgresql.postgresql_db for PostgreSQL)"),
        Entry(
            ["mysql_replication"] + collection("community.mysql", ["mysql_replication"]), "Manage MySQL replication",
            alternative: "ansible.builtin.command with mysql -e \"CHANGE REPLICATION SOURCE TO ...\""),
        Entry(
            ["mysql_query"] + collection("community.mysql", ["mysql_query"]), "Run MySQL queries",
            alternative: "ansible.builtin.command: mysql -NBe QUERY (community.postgresql.postgresql_query for PostgreSQL)"),
        Entry(
            ["mysql_variables"] + collection("community.mysql", ["mysql_variables"]), "Manage MySQL global variables",
            alternative: "a template of the server's my.cnf, then a restart handler"),
        Entry(
            ["k8s"] + collection("kubernetes.core", ["k8s"]) + collection("community.kubernetes", ["k8s"]),
            "Manage Kubernetes objects", alternative: "ansible.builtin.command: kubectl apply -f MANIFEST (changed_when on 'configured|created')"),
        Entry(
            ["helm"] + collection("kubernetes.core", ["helm"]), "Manages Kubernetes packages with the Helm package manager",
            alternative: "ansible.builtin.command: helm upgrade --install RELEASE CHART"),
        Entry(
            ["firewalld"] + collection("ansible.posix", ["firewalld"]), "Manage arbitrary ports/services with firewalld",
            alternative: "community.general.ufw or ansible.builtin.iptables, the firewalls Debian hosts use"),
        Entry(
            ["seboolean"] + collection("ansible.posix", ["seboolean"]), "Toggles SELinux booleans",
            alternative: "nothing on Debian hosts: they run AppArmor, not SELinux"),
        Entry(
            ["sefcontext"] + collection("community.general", ["sefcontext"]), "Manages SELinux file context mapping definitions",
            alternative: "nothing on Debian hosts: they run AppArmor, not SELinux"),
        Entry(
            ["apache2_module"] + collection("community.general", ["apache2_module"]), "Enables/disables a module of the Apache2 webserver",
            alternative: "ansible.builtin.command: a2enmod NAME (creates: /etc/apache2/mods-enabled/NAME.load), notifying a restart"),
        Entry(
            ["npm"] + collection("community.general", ["npm"]), "Manage node.js packages with npm",
            alternative: "ansible.builtin.command: npm install -g PACKAGE@VERSION (creates: the installed module's directory)"),
        Entry(
            ["gem"] + collection("community.general", ["gem"]), "Manage Ruby gems",
            alternative: "ansible.builtin.apt with the ruby-* Debian package, or ansible.builtin.command: gem install"),
        Entry(
            ["pip"] + collection("ansible.builtin", ["pip"]) + collection("ansible.legacy", ["pip"]), "Manages Python library dependencies",
            alternative: "ansible.builtin.apt with the python3-* Debian package (Debian 12 refuses system-wide pip), or ansible.builtin.command: python3 -m venv DIR && DIR/bin/pip install ..."),
        Entry(
            ["snap"] + collection("community.general", ["snap"]), "Manages snaps",
            alternative: "ansible.builtin.apt with the Debian package, or ansible.builtin.command: snap install NAME"),
        Entry(
            ["jenkins_plugin"] + collection("community.general", ["jenkins_plugin"]), "Add or remove Jenkins plugin",
            alternative: "ansible.builtin.command: jenkins-plugin-cli --plugins NAME:VERSION"),
        Entry(
            ["zfs"] + collection("community.general", ["zfs"]), "Manage zfs",
            alternative: "ansible.builtin.command: zfs create DATASET (creates: its mountpoint)"),
        Entry(
            ["pkgng"] + collection("community.general", ["pkgng"]), "Package manager for FreeBSD", alternative: "ansible.builtin.apt on Debian hosts"),
        Entry(
            ["apk"] + collection("community.general", ["apk"]), "Manages apk packages (Alpine)", alternative: "ansible.builtin.apt on Debian hosts"),
        Entry(
            ["zypper"] + collection("community.general", ["zypper"]), "Manage packages on SUSE", alternative: "ansible.builtin.apt on Debian hosts"),
        Entry(
            ["homebrew"] + collection("community.general", ["homebrew"]), "Package manager for Homebrew (macOS)",
            alternative: "ansible.builtin.apt on Debian hosts"),
        Entry(
            ["rpm_key"] + collection("ansible.builtin", ["rpm_key"]) + collection("ansible.legacy", ["rpm_key"]),
            "Adds or removes a gpg key from the rpm db", alternative: "ansible.builtin.get_url of the key into /etc/apt/keyrings on Debian hosts"),
        Entry(
            ["yum_repository"] + collection("ansible.builtin", ["yum_repository"]) + collection("ansible.legacy", ["yum_repository"]),
            "Add or remove YUM repositories", alternative: "ansible.builtin.apt_repository on Debian hosts"),
        Entry(
            ["synchronize"] + collection("ansible.posix", ["synchronize"]), "A wrapper around rsync",
            alternative: "ansible.builtin.copy (a directory src copies recursively), or ansible.builtin.command running rsync from the host"),
        Entry(
            ["win_shell", "win_command", "win_copy", "win_service", "win_feature"]
                + collection("ansible.windows", ["win_shell", "win_command", "win_copy", "win_service", "win_feature"]),
            "Windows modules", alternative: "nothing: pgha-play manages Linux hosts over SSH"),
    ]

    private static let byName: [String: Entry] = {
        var table: [String: Entry] = [:]
        for entry in entries { for name in entry.names { table[name] = entry } }
        return table
    }()

    /// The entry a task's action name selects, short or fully qualified.
    public static func entry(for name: String) -> Entry? { byName[name] }

    /// The message a task that runs one fails with.
    public static func message(for name: String) -> String? {
        guard let entry = entry(for: name) else { return nil }
        return "\(name) is not supported by pgha-play (\(entry.summary.lowercased())); instead use \(entry.alternative)"
    }
}
