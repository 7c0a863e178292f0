import Testing

@testable import Output

@Suite("Unified diffs for --diff")
struct UnifiedDiffTests {
    @Test func identicalTextHasNoDiff() {
        #expect(UnifiedDiff.render(before: "a\nb\n", after: "a\nb\n", beforeHeader: "f", afterHeader: "f") == "")
    }

    @Test func changedLineWithContext() {
        let before = (1...10).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let after = before.replacingOccurrences(of: "line 5\n", with: "line five\n")
        let diff = UnifiedDiff.render(before: before, after: after, beforeHeader: "/etc/x", afterHeader: "/etc/x")
        #expect(diff == """
            --- before: /etc/x
            +++ after: /etc/x
            @@ -2,7 +2,7 @@
             line 2
             line 3
             line 4
            -line 5
            +line five
             line 6
             line 7
             line 8

            """)
    }

    @Test func newFile() {
        let diff = UnifiedDiff.render(before: "", after: "a\nb\n", beforeHeader: "/f", afterHeader: "/f")
        #expect(diff == "--- before: /f\n+++ after: /f\n@@ -0,0 +1,2 @@\n+a\n+b\n")
    }

    @Test func distantChangesMakeTwoHunks() {
        let before = (1...30).map { "l\($0)" }.joined(separator: "\n") + "\n"
        let after = before.replacingOccurrences(of: "l2\n", with: "L2\n").replacingOccurrences(of: "l28\n", with: "L28\n")
        let diff = UnifiedDiff.render(before: before, after: after, beforeHeader: "f", afterHeader: "f")
        #expect(diff.components(separatedBy: "@@ -").count == 3)
        #expect(diff.contains("-l2\n+L2\n"))
        #expect(diff.contains("-l28\n+L28\n"))
    }
}
