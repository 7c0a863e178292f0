/// Unified diffs (`diff -u` style, 3 lines of context) for `--diff`.
public enum UnifiedDiff {
    public static func render(before: String, after: String, beforeHeader: String, afterHeader: String, context: Int = 3) -> String {
        let a = lines(before)
        let b = lines(after)
        let ops = editScript(a, b)
        guard ops.contains(where: { $0.kind != .equal }) else { return "" }
        var out = "--- before: \(beforeHeader)\n+++ after: \(afterHeader)\n"
        // Group edits into hunks with `context` lines around them.
        var index = 0
        while index < ops.count {
            guard let firstChange = ops[index...].firstIndex(where: { $0.kind != .equal }) else { break }
            var start = max(index, firstChange - context)
            if start < index { start = index }
            var end = firstChange
            var lastChange = firstChange
            while end < ops.count {
                if ops[end].kind != .equal { lastChange = end }
                if end - lastChange > context * 2 { break }
                end += 1
            }
            let hunkEnd = min(ops.count, lastChange + context + 1)
            let hunk = ops[start..<hunkEnd]
            let aStart = hunk.first?.aIndex ?? 0
            let bStart = hunk.first?.bIndex ?? 0
            let aCount = hunk.filter { $0.kind != .insert }.count
            let bCount = hunk.filter { $0.kind != .delete }.count
            out += "@@ -\(range(aStart, aCount)) +\(range(bStart, bCount)) @@\n"
            for op in hunk {
                switch op.kind {
                case .equal: out += " " + a[op.aIndex] + "\n"
                case .delete: out += "-" + a[op.aIndex] + "\n"
                case .insert: out += "+" + b[op.bIndex] + "\n"
                }
            }
            index = hunkEnd
        }
        if !before.isEmpty && !before.hasSuffix("\n") || !after.isEmpty && !after.hasSuffix("\n") {
            out += "\\ No newline at end of file\n"
        }
        return out
    }

    private static func range(_ start: Int, _ count: Int) -> String {
        if count == 0 { return "\(start),0" }
        return count == 1 ? "\(start + 1)" : "\(start + 1),\(count)"
    }

    private static func lines(_ text: String) -> [String] {
        if text.isEmpty { return [] }
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if text.hasSuffix("\n") { parts.removeLast() }
        return parts
    }

    struct Op {
        enum Kind { case equal, delete, insert }
        var kind: Kind
        var aIndex: Int
        var bIndex: Int
    }

    /// Myers' O(ND) shortest edit script.
    static func editScript(_ a: [String], _ b: [String]) -> [Op] {
        let n = a.count
        let m = b.count
        let maxD = n + m
        guard maxD > 0 else { return [] }
        var v = [Int](repeating: 0, count: 2 * maxD + 2)
        var trace: [[Int]] = []
        let offset = maxD + 1
        outer: for d in 0...maxD {
            trace.append(v)
            for k in stride(from: -d, through: d, by: 2) {
                var x: Int
                if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
                    x = v[offset + k + 1]
                } else {
                    x = v[offset + k - 1] + 1
                }
                var y = x - k
                while x < n && y < m && a[x] == b[y] {
                    x += 1
                    y += 1
                }
                v[offset + k] = x
                if x >= n && y >= m { trace.append(v); break outer }
            }
        }
        var ops: [Op] = []
        var x = n
        var y = m
        for d in stride(from: trace.count - 2, through: 0, by: -1) {
            let vPrev = trace[d]
            let k = x - y
            let prevK: Int
            if k == -d || (k != d && vPrev[offset + k - 1] < vPrev[offset + k + 1]) {
                prevK = k + 1
            } else {
                prevK = k - 1
            }
            let prevX = vPrev[offset + prevK]
            let prevY = prevX - prevK
            while x > prevX && y > prevY {
                x -= 1
                y -= 1
                ops.append(Op(kind: .equal, aIndex: x, bIndex: y))
            }
            if d > 0 {
                if x == prevX {
                    y -= 1
                    ops.append(Op(kind: .insert, aIndex: x, bIndex: y))
                } else {
                    x -= 1
                    ops.append(Op(kind: .delete, aIndex: x, bIndex: y))
                }
            }
        }
        while x > 0 && y > 0 {
            x -= 1
            y -= 1
            ops.append(Op(kind: .equal, aIndex: x, bIndex: y))
        }
        return ops.reversed()
    }
}
