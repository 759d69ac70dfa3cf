import StampedeEngine

/// `--html PATH`: the self-contained HTML report (`HTMLReport`), written when the run has finished.
struct HTMLOutput: FinalOutput {
    let path: String

    func write(_ result: RunResult) throws -> [String] {
        try HTMLReport.write(result, to: path)
        return [path]
    }
}
