import StampedeEngine

extension ConsoleReport {
    /// The SLO verdict (each clause with its measured value) and the cost figures.
    static func sloCostLines(_ result: RunResult) -> [String] {
        []
    }
}
