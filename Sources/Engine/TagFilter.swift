/// Decides whether a task runs under `--tags` / `--skip-tags`, exactly as Ansible's
/// `Taggable.evaluate_tags` does (always, never, tagged, untagged, all).
public struct TagFilter: Sendable {
    public var only: Set<String>
    public var skip: Set<String>

    public init(only: [String], skip: [String]) {
        self.only = only.isEmpty ? ["all"] : Set(only)
        self.skip = Set(skip)
    }

    public func shouldRun(tags taskTags: [String]) -> Bool {
        let tags: Set<String> = taskTags.isEmpty ? ["untagged"] : Set(taskTags)
        let isUntagged = tags == ["untagged"]
        var run: Bool
        if tags.contains("always") {
            run = true
        } else if only.contains("all") && !tags.contains("never") {
            run = true
        } else if !tags.isDisjoint(with: only) {
            run = true
        } else if only.contains("tagged") && !isUntagged && !tags.contains("never") {
            run = true
        } else if only.contains("untagged") && isUntagged {
            run = true
        } else {
            run = false
        }
        if run && !skip.isEmpty {
            if skip.contains("all") {
                if !tags.contains("always") || skip.contains("always") { run = false }
            } else if !tags.isDisjoint(with: skip) {
                run = false
            } else if skip.contains("tagged") && !isUntagged {
                run = false
            } else if skip.contains("untagged") && isUntagged {
                run = false
            }
        }
        return run
    }
}
