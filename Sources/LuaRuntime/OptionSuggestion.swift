/// Suggests the option a misspelt name meant: same letters ignoring case, or at most two edits away.
enum OptionSuggestion {
    static func closest(to name: String, in known: [String]) -> String? {
        let lowered = lowercased(name)
        var best: (String, Int)? = nil
        for candidate in known {
            let distance = editDistance(lowered, lowercased(candidate))
            if distance <= 2, best == nil || distance < best!.1 { best = (candidate, distance) }
        }
        return best?.0
    }

    static func lowercased(_ text: String) -> [UInt8] {
        text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
    }

    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
