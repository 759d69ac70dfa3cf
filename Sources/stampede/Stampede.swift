import ArgumentParser

@main
struct Stampede: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stampede",
        abstract: "A distributed load-test cluster for LLM inference endpoints.",
        discussion: """
        Stampede streams requests at OpenAI-compatible (/v1/chat/completions, /v1/completions) and TGI
        (/generate_stream) endpoints and reports TTFT, inter-token latency, end-to-end latency, throughput
        and errors. Every metric's formula is printed with it and written in docs/metrics.md.

        Quick start (no server needed: `run` starts the built-in simulated server):
          stampede run --users 8 --run-time 30s
        Against your endpoint:
          OPENAI_API_KEY=... stampede run --target http://127.0.0.1:8000 --model my-model --users 5 --max-requests 100
        """,
        subcommands: [RunCommand.self, MockCommand.self, CoordinatorCommand.self, WorkerCommand.self, SweepCommand.self]
    )

    /// Expands `--config FILE` (a YAML scenario file) into flags, then parses and runs as usual.
    static func main() async {
        let arguments: [String]
        do { arguments = try ConfigFile.expand(Array(CommandLine.arguments.dropFirst())) } catch {
            exit(withError: ValidationError(error.description))
        }
        await main(arguments)
    }
}
