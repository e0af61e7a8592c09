/// A plain-text table for terminals: columns padded to their widest cell.
enum TextTable {
    static func render(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                let isLast = i == cells.count - 1
                parts.append(rightAligned.contains(i) ? pad + cell : (isLast ? cell : cell + pad))
            }
            return parts.joined(separator: "  ") + "\n"
        }
        return line(header) + rows.map(line).joined()
    }
}
