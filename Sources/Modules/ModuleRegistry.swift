/// Finds a module by the name a task uses: short (`copy`) or fully qualified
/// (`ansible.builtin.copy`, `ansible.posix.X`, `community.general.X`, `community.postgresql.X`).
public enum ModuleRegistry {
    /// Every module this engine implements. Adding a module: append its type here.
    public static let all: [any Module.Type] = [
        CommandModule.self, ShellModule.self, CopyModule.self, TemplateModule.self, FileModule.self, StatModule.self,
        LineInFileModule.self, BlockInFileModule.self, ReplaceModule.self, IniFileModule.self, PamLimitsModule.self,
        PingModule.self, RawModule.self, SlurpModule.self, FetchModule.self, SysctlModule.self,
        AuthorizedKeyModule.self, MountModule.self, CronModule.self, ModprobeModule.self, WaitForModule.self,
        HostnameModule.self, ScriptModule.self, FindModule.self, UriModule.self, GetUrlModule.self,
        GroupModule.self, UserModule.self, GetentModule.self, ServiceFactsModule.self, PackageFactsModule.self,
        AptModule.self, PackageModule.self, SystemdModule.self, ServiceModule.self, PostgresqlUserModule.self,
        PostgresqlDbModule.self, PostgresqlPgHbaModule.self, PostgresqlQueryModule.self, UfwModule.self,
        AptRepositoryModule.self, TimezoneModule.self, LocaleGenModule.self, DpkgDivertModule.self, AclModule.self,
        IptablesModule.self, PostgresqlPrivsModule.self, PamdModule.self, GitModule.self,
        UnarchiveModule.self,
        Deb822RepositoryModule.self, AptKeyModule.self,
        OpenSSLPrivateKeyModule.self, OpenSSLCSRPipeModule.self, X509CertificateModule.self,
        X509CertificatePipeModule.self, X509CertificateInfoModule.self, OpenSSHKeypairModule.self,
        // Other distributions' modules: declared so guarded tasks load; they fail when they run.
        YumModule.self, DnfModule.self, PacmanModule.self, SelinuxModule.self, SeportModule.self,
    ]

    private static let byName: [String: any Module.Type] = {
        var table: [String: any Module.Type] = [:]
        for module in all {
            for name in module.declaration.allNames { table[name] = module }
        }
        return table
    }()

    public static func module(named name: String) -> (any Module.Type)? {
        byName[name]
    }
}
