import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.git`: clones a repository, or fetches and checks out a version in an existing
/// clone, running the git commands Ansible's module runs, in its order, as one shell script on the
/// host (one round trip): `ls-remote` to tell branches from tags, `clone`/`fetch --tags`, then the
/// checkout that puts HEAD on the version; the change is a different commit before and after.
public enum GitModule: Module {
    public static let declaration = ActionDeclaration(
        name: "git", qualifiedNames: ["ansible.builtin.git", "ansible.legacy.git"],
        supportsCheckMode: true,
        arguments: ArgumentSpec(
            [
                .init("dest", .path),
                .init("repo", .string, required: true, aliases: ["name"]),
                .init("version", .string, default: "HEAD", help: "A branch, a tag, a commit or HEAD."),
                .init("remote", .string, default: "origin"),
                .init("refspec", .string),
                .init("reference", .string),
                .init("force", .bool, default: false),
                .init("depth", .int),
                .init("clone", .bool, default: true),
                .init("update", .bool, default: true),
                .init("verify_commit", .bool, default: false),
                .init("gpg_allowlist", .list, default: [], aliases: ["gpg_whitelist"]),
                .init("accept_hostkey", .bool, default: false),
                .init("accept_newhostkey", .bool, default: false),
                .init("key_file", .path),
                .init("ssh_opts", .string),
                .init("executable", .path),
                .init("bare", .bool, default: false),
                .init("recursive", .bool, default: true),
                .init("single_branch", .bool, default: false),
                .init("track_submodules", .bool, default: false),
                .init("umask", .raw),
                .init("archive", .path),
                .init("archive_prefix", .string),
                .init("separate_git_dir", .path),
            ],
            mutuallyExclusive: [["separate_git_dir", "bare"], ["accept_hostkey", "accept_newhostkey"]]),
        documentation: ActionDocumentation(
            "Deploy software (or files) from git checkouts",
            details: [
                "Not supported: archive, separate_git_dir and verify_commit (the task fails naming them). "
                    + "Submodules are initialised and updated as Ansible does (recursive), without track_submodules' remote tracking."
            ],
            examples: """
                - name: The application at a release tag
                  ansible.builtin.git:
                    repo: https://git.example.org/app.git
                    dest: /srv/app
                    version: v1.4.2

                - name: A shallow clone of a branch, over SSH with a deploy key
                  ansible.builtin.git:
                    repo: git@git.example.org:ops/tools.git
                    dest: /opt/tools
                    version: main
                    depth: 1
                    key_file: /root/.ssh/deploy_key
                    accept_hostkey: true
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        for unsupported in ["archive", "separate_git_dir"] where args.string(unsupported) != nil {
            return .failure("\(unsupported) is not supported by pgha-play's git module; run git in a command task instead")
        }
        if args.bool("verify_commit") == true {
            return .failure("verify_commit is not supported by pgha-play's git module; run git verify-commit in a command task")
        }
        if args.string("archive_prefix") != nil { return .failure("missing parameter(s) required by 'archive_prefix': archive") }
        let dest = args.string("dest")
        if dest == nil && (args.bool("clone") ?? true) {
            return .failure("the destination directory must be specified unless clone=no")
        }
        var umask = ""
        if let value = args["umask"] {
            guard case .string(let text) = value else { return .failure("umask must be defined as a quoted octal integer") }
            guard Int(text, radix: 8) != nil else { return .failure("umask must be an octal integer") }
            umask = "umask \(text)\n"
        }
        var ssh = args.string("ssh_opts")
        if args.bool("accept_hostkey") == true, !(ssh ?? "").contains("StrictHostKeyChecking") {
            ssh = (ssh.map { $0 + " " } ?? "") + "-o StrictHostKeyChecking=no"
        }
        if args.bool("accept_newhostkey") == true, !(ssh ?? "").contains("StrictHostKeyChecking") {
            ssh = (ssh.map { $0 + " " } ?? "") + "-o StrictHostKeyChecking=accept-new"
        }
        var sshCommand = "ssh " + (ssh ?? "")
        if !sshCommand.contains("BatchMode=yes") { sshCommand += " -o BatchMode=yes" }
        if let key = args.string("key_file") {
            sshCommand += "  -i \(key)"
            if !sshCommand.contains("IdentitiesOnly=yes") { sshCommand += " -o IdentitiesOnly=yes" }
        }
        func flag(_ name: String) -> String { args.bool(name) == true ? "1" : "0" }
        let settings: [(String, String)] = [
            ("git", args.string("executable") ?? "git"), ("repo", try args.requiredString("repo")), ("dest", dest ?? ""),
            ("version", try args.requiredString("version")), ("remote", try args.requiredString("remote")),
            ("refspec", args.string("refspec") ?? ""), ("reference", args.string("reference") ?? ""),
            ("depth", args.int("depth").map(String.init) ?? ""), ("force", flag("force")), ("allow_clone", flag("clone")),
            ("update", flag("update")), ("bare", flag("bare")), ("recursive", flag("recursive")),
            ("single_branch", flag("single_branch")), ("track", flag("track_submodules")),
            ("check", context.checkMode ? "1" : "0"), ("GIT_SSH_COMMAND", sshCommand),
        ]
        let script = umask + settings.map { "\($0.0)=\(shellQuote($0.1))" }.joined(separator: "\n") + "\n" + Self.script
        let result = try await HostScript.run(context, script)
        var report: [String: String] = [:]
        for line in result.stdoutText.split(separator: "\n") {
            guard line.hasPrefix("@"), let eq = line.firstIndex(of: "=") else { continue }
            report[String(line[line.index(after: line.startIndex)..<eq])] = String(line[line.index(after: eq)...])
        }
        var values: OrderedDictionary<String, Value> = [:]
        values["before"] = report["before"].flatMap { $0.isEmpty ? nil : Value.string($0) } ?? .null
        if let after = report["after"] { values["after"] = .string(after) }
        if let urlChanged = report["remote_url_changed"] { values["remote_url_changed"] = .bool(urlChanged == "1") }
        if report["submodules_changed"] == "1" { values["submodules_changed"] = true }
        guard result.succeeded else {
            let message = report["fail"] ?? (result.stderrText + result.stdoutText).trimmingCharacters(in: .whitespacesAndNewlines)
            values["stderr"] = .string(result.stderrText)
            return .failure(message, values: values)
        }
        return ModuleResult(changed: report["changed"] == "1", msg: report["msg"], values: values)
    }

    /// The module's main(), clone(), fetch() and switch_version() as POSIX shell. Lines starting
    /// with `@key=` report to Swift; `fail` ends with the module's message.
    static let script = #"""
    export GIT_SSH_COMMAND
    export LANG=C.UTF-8 LC_ALL=C.UTF-8 LC_MESSAGES=C.UTF-8 LANGUAGE=C.UTF-8
    fail() { printf '@fail=%s\n' "$1"; exit 1; }
    run() { "$@" 2>/tmp/.pgha-git-err.$$ >/tmp/.pgha-git-out.$$; rc=$?; out=$(cat /tmp/.pgha-git-out.$$); err=$(cat /tmp/.pgha-git-err.$$); rm -f /tmp/.pgha-git-out.$$ /tmp/.pgha-git-err.$$; return $rc; }
    case "$repo" in
      /*) repo="file://$repo" ;;
      "~"*) repo="file://$HOME${repo#\~}" ;;
    esac
    in_dest() { if [ -d "$dest" ]; then (cd "$dest" && "$@"); else "$@"; fi; }
    is_remote_branch() { in_dest "$git" ls-remote "$1" -h "refs/heads/$version" 2>/dev/null | grep -qF -- "$version"; }
    is_remote_tag() { in_dest "$git" ls-remote "$1" -t "refs/tags/$version" 2>/dev/null | grep -qF -- "$version"; }
    branches() { (cd "$dest" && "$git" branch --no-color -a) | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$'; }
    is_local_branch() { branches | grep -qxF -e "$1" -e "* $1"; }
    is_not_a_branch() { branches | grep '^\* ' | grep -q -e 'no branch' -e 'detached from' -e 'detached at'; }
    repo_path() { if [ "$bare" = 1 ]; then echo "$dest"; else echo "$dest/.git"; fi; }
    head_branch() {
      headfile="$(repo_path)/HEAD"
      if is_not_a_branch; then headfile="$(repo_path)/refs/remotes/$remote/HEAD"; fi
      [ -f "$headfile" ] || fail "Unable to read the branch of HEAD from $headfile"
      line=$(head -n 1 "$headfile" | sed "s#refs/remotes/$remote##")
      ref=${line##* }
      case "$ref" in */*/*) echo "${ref#*/*/}" ;; */*) echo "${ref#*/}" ;; *) echo "$ref" ;; esac
    }
    version_of() { (cd "$dest" && "$git" rev-parse "${1:-HEAD}" 2>/dev/null); }
    remote_head() {
      where="$1"; tag=0
      if [ "$version" = HEAD ]; then
        if [ "$where" = "$repo" ]; then set -- ls-remote "$where" -h HEAD
        else set -- ls-remote "$where" -h "refs/heads/$(head_branch)"; fi
      elif is_remote_branch "$where"; then set -- ls-remote "$where" -h "refs/heads/$version"
      elif is_remote_tag "$where"; then tag=1; set -- ls-remote "$where" -t "refs/tags/$version*"
      else echo "$version"; return; fi
      out=$(in_dest "$git" "$@") || fail "Could not determine remote revision for $version"
      [ -n "$out" ] || fail "Could not determine remote revision for $version"
      if [ $tag = 1 ]; then
        pick=""
        for l in $(printf '%s\n' "$out" | tr '\t' ' ' | sed 's/ /_SP_/g'); do
          l=$(printf '%s' "$l" | sed 's/_SP_/ /g')
          case "$l" in *"$version^{}") pick="$l"; break ;; *"$version") pick="$l" ;; esac
        done
        [ -n "$pick" ] && out="$pick"
      fi
      printf '%s\n' "$out" | head -n 1 | awk '{ print $1 }'
    }
    unfrack() { realpath -m -- "$1" 2>/dev/null || printf '%s\n' "$1"; }
    remote_url() { (cd "$dest" && "$git" ls-remote --get-url "$remote" 2>/dev/null); }
    set_remote_url() {
      url=$(remote_url) || url=""
      if [ "$url" = "$repo" ] || [ "$(unfrack "$url")" = "$(unfrack "$repo")" ]; then return 1; fi
      run sh -c 'cd "$1" && "$2" remote set-url "$3" "$4"' sh "$dest" "$git" "$remote" "$repo" \
        || fail "Failed to set a new url $repo for $remote: $out $err"
      [ -n "$url" ]
    }
    before=""; changed=0; local_mods=0; remote_url_changed=0; submodules=0
    gitconfig="$(repo_path)/config"
    if [ ! -e "$gitconfig" ]; then
      if [ "$check" = 1 ] || [ "$allow_clone" = 0 ]; then
        printf '@changed=1\n@after=%s\n' "$(remote_head "$repo")"; exit 0
      fi
      mkdir -p "$(dirname "$dest")"
      set -- clone
      if [ "$bare" = 1 ]; then set -- "$@" --bare; else set -- "$@" --origin "$remote"; fi
      branch_or_tag=0
      if is_remote_branch "$repo" || is_remote_tag "$repo"; then branch_or_tag=1; fi
      if [ -n "$depth" ]; then
        if [ "$version" = HEAD ] || [ -n "$refspec" ]; then set -- "$@" --depth "$depth"
        elif [ $branch_or_tag = 1 ]; then set -- "$@" --depth "$depth" --branch "$version"; fi
      fi
      [ -n "$reference" ] && set -- "$@" --reference "$reference"
      if [ "$single_branch" = 1 ]; then set -- "$@" --single-branch; [ $branch_or_tag = 1 ] && set -- "$@" --branch "$version"; fi
      run sh -c 'cd "$1" && shift && "$@"' sh "$(dirname "$dest")" "$git" "$@" "$repo" "$dest" \
        || fail "Failed to clone $repo: $err"
      if [ "$bare" = 1 ] && [ "$remote" != origin ]; then (cd "$dest" && "$git" remote add "$remote" "$repo") || fail "Failed to add remote $remote"; fi
      if [ -n "$refspec" ]; then
        set -- fetch; [ -n "$depth" ] && set -- "$@" --depth "$depth"
        (cd "$dest" && "$git" "$@" "$remote" "$refspec") >/dev/null 2>&1 || fail "Failed to fetch $refspec"
      fi
    elif [ "$update" = 0 ]; then
      before=$(version_of); printf '@before=%s\n@after=%s\n' "$before" "$before"; exit 0
    else
      if [ "$bare" = 0 ] && [ -n "$(cd "$dest" && "$git" status --porcelain | grep -v '^??')" ]; then local_mods=1; fi
      before=$(version_of)
      printf '@before=%s\n' "$before"
      if [ $local_mods = 1 ]; then
        [ "$force" = 1 ] || fail "Local modifications exist in the destination: $dest (force=no)."
        if [ "$check" = 0 ]; then
          (cd "$dest" && "$git" reset --hard HEAD) >/dev/null || fail "Failed to reset $dest"
          changed=1; printf '@msg=Local modifications exist in the destination: %s\n' "$dest"
        fi
      fi
      if [ "$check" = 1 ]; then
        url=$(remote_url) || url=""
        if [ -n "$url" ] && [ "$url" != "$repo" ] && [ "$(unfrack "$url")" != "$(unfrack "$repo")" ]; then remote_url_changed=1; fi
        head=$(remote_head "$remote")
        [ "$before" != "$head" ] || [ $remote_url_changed = 1 ] && changed=1
        printf '@remote_url_changed=%s\n@changed=%s\n@after=%s\n' "$remote_url_changed" "$changed" "$head"; exit 0
      fi
      if set_remote_url; then remote_url_changed=1; fi
      printf '@remote_url_changed=%s\n' "$remote_url_changed"
      # fetch(): its own set_remote_url, then one fetch of tags (and the refspec).
      set_remote_url >/dev/null || true
      set -- fetch; refspecs=""
      if [ -n "$depth" ]; then
        current=$(head_branch)
        if [ -n "$refspec" ]; then refspecs="$refspec"
        elif [ "$version" = HEAD ]; then refspecs="$current"
        elif is_remote_branch "$repo"; then
          [ "$current" != "$version" ] && refspecs="+refs/heads/$version:refs/heads/$version"
          refspecs="$refspecs +refs/heads/$version:refs/remotes/$remote/$version"
        elif is_remote_tag "$repo"; then refspecs="+refs/tags/$version:refs/tags/$version"; fi
        [ -n "$refspecs" ] && set -- "$@" --depth "$depth"
      fi
      if [ -z "$depth" ] || [ -z "$refspecs" ]; then
        if [ "$bare" = 1 ]; then refspecs="+refs/heads/*:refs/heads/* +refs/tags/*:refs/tags/*"; else set -- "$@" --tags; fi
        [ -n "$refspec" ] && refspecs="$refspecs $refspec"
      fi
      [ "$force" = 1 ] && set -- "$@" --force
      # shellcheck disable=SC2086
      run sh -c 'cd "$1" && shift && "$@"' sh "$dest" "$git" "$@" "$remote" $refspecs \
        || fail "Failed to download remote objects and refs: $out $err"
    fi
    if [ "$bare" = 0 ]; then
      # switch_version()
      if [ "$version" = HEAD ]; then
        branch=$(head_branch)
        run sh -c 'cd "$1" && "$2" checkout --force "$3"' sh "$dest" "$git" "$branch" || fail "Failed to checkout branch $branch"
        run sh -c 'cd "$1" && "$2" reset --hard "$3/$4" --' sh "$dest" "$git" "$remote" "$branch" || fail "Failed to checkout branch $branch"
      elif is_remote_branch "$remote"; then
        if [ -n "$depth" ] && ! is_local_branch "$version"; then
          run sh -c 'cd "$1" && "$2" fetch --depth="$3" "$4" "+refs/heads/$5:refs/heads/$5" "+refs/heads/$5:refs/remotes/$4/$5"' \
            sh "$dest" "$git" "$depth" "$remote" "$version" || fail "Failed to fetch branch from remote: $version"
        fi
        if ! is_local_branch "$version"; then
          run sh -c 'cd "$1" && "$2" checkout --track -b "$3" "$4/$3"' sh "$dest" "$git" "$version" "$remote" || fail "Failed to checkout $version"
        else
          run sh -c 'cd "$1" && "$2" checkout --force "$3"' sh "$dest" "$git" "$version" || fail "Failed to checkout branch $version"
          run sh -c 'cd "$1" && "$2" reset --hard "$3/$4"' sh "$dest" "$git" "$remote" "$version" || fail "Failed to checkout $version"
        fi
      else
        run sh -c 'cd "$1" && "$2" checkout --force "$3"' sh "$dest" "$git" "$version" || fail "Failed to checkout $version"
      fi
      if [ "$recursive" = 1 ] && [ -f "$dest/.gitmodules" ]; then
        missing=0
        for p in $(sed -n 's/^[[:space:]]*path[[:space:]]*=[[:space:]]*//p' "$dest/.gitmodules"); do [ -e "$dest/$p/.git" ] || missing=1; done
        if [ $missing = 1 ]; then submodules=1
        else
          (cd "$dest" && "$git" submodule foreach "$git" fetch) >/dev/null 2>&1 || fail "Failed to fetch submodules"
          if (cd "$dest" && "$git" submodule status) | grep -q '^[^ ]'; then submodules=1; fi
        fi
        if [ $submodules = 1 ]; then
          printf '@submodules_changed=1\n'
          (cd "$dest" && "$git" submodule sync) >/dev/null || fail "Failed to sync submodules"
          set -- submodule update --init --recursive; [ "$force" = 1 ] && set -- "$@" --force
          run sh -c 'cd "$1" && shift && "$@"' sh "$dest" "$git" "$@" || fail "Failed to init/update submodules: $out$err"
        fi
      fi
    fi
    after=$(version_of)
    if [ "$before" != "$after" ] || [ $local_mods = 1 ] || [ $submodules = 1 ] || [ $remote_url_changed = 1 ]; then changed=1; fi
    printf '@before=%s\n@after=%s\n@changed=%s\n' "$before" "$after" "$changed"
    """#
}
