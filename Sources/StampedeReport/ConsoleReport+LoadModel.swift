import StampedeEngine

extension ConsoleReport {
    /// Open-loop figures: requested and achieved rate, dropped arrivals, schedule lag.
    static func loadModelLines(_ result: RunResult) -> [String] {
        []
    }
}
