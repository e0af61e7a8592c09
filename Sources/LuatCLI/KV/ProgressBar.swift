import Foundation

/// A progress bar on stderr for long operations: counts, percentage and rate, redrawn at
/// most ten times a second. It draws only when stderr is a terminal and the operation is
/// large (`total` unknown or at least `threshold`); otherwise every call does nothing.
final class ProgressBar {
    /// Operations smaller than this many items draw no bar.
    static let threshold = 2_000

    private let label: String
    private let total: Int?
    private let enabled: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast
    private(set) var done = 0
    private var drawn = false

    init(_ label: String, total: Int?, enabled: Bool = Terminal.stderrIsTerminal) {
        self.label = label
        self.total = total
        self.enabled = enabled && (total.map { $0 >= Self.threshold } ?? true)
    }

    func advance(by count: Int = 1) {
        done += count
        guard enabled else { return }
        let now = Date()
        if now.timeIntervalSince(lastDraw) >= 0.1 {
            lastDraw = now
            draw(now)
        }
    }

    /// Removes the bar, leaving the line clean for the summary that follows.
    func finish() {
        guard enabled, drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    private func draw(_ now: Date) {
        drawn = true
        let elapsed = max(now.timeIntervalSince(start), 0.001)
        let rate = Int(Double(done) / elapsed)
        var line = "\r\u{1B}[K\(label) "
        if let total, total > 0 {
            let fraction = min(Double(done) / Double(total), 1)
            let width = 30
            let filled = Int(fraction * Double(width))
            line += "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            line += "\(Terminal.count(done))/\(Terminal.count(total)) (\(Int(fraction * 100))%)"
        } else {
            line += Terminal.keys(done)
        }
        line += ", \(Terminal.count(rate)) keys/s"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
