extension Duration {
    /// The duration in whole nanoseconds (truncated toward zero). Overflows `Int` beyond about
    /// 292 years, which no caller here comes near.
    var nanosecondCount: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
    }
}
