import StampedeEngine

/// `--requests-jsonl PATH`: every finished request as one JSON line, appended as records arrive, in the
/// output's own task (never on the coordinator). The file is created before the run, so a bad path
/// fails at once.
struct RecordsJSONLOutput: RunOutput {
    let path: String
    let writer: RecordsJSONLWriter

    init(path: String) throws {
        self.path = path
        writer = try RecordsJSONLWriter(path: path)
    }

    /// Every batch of records, in order.
    var delivery: RunEventHub.Delivery { .every }

    func consume(_ events: AsyncStream<RunEvent>) async throws -> [String] {
        for await event in events {
            if case .records(let batch) = event { writer.append(batch) }
        }
        try writer.close()
        return [path]
    }
}
