import StampedeEngine

/// `--csv PREFIX`: Locust's four CSV files (`LocustCSV`), written when the run has finished.
struct CSVOutput: FinalOutput {
    let prefix: String

    func write(_ result: RunResult) throws -> [String] {
        try LocustCSV.write(result, prefix: prefix)
    }
}
