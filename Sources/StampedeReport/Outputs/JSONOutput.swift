import StampedeEngine

/// `--json PATH`: the native results (`JSONReport`), written when the run has finished.
struct JSONOutput: FinalOutput {
    let path: String

    func write(_ result: RunResult) throws -> [String] {
        try JSONReport.write(result, to: path)
        return [path]
    }
}
