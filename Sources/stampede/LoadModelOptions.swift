import ArgumentParser
import StampedeCore

/// Flags for open-loop arrivals and stages. Shared by `run` and `coordinator` (`sweep` uses the arrival flags).
struct LoadModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Open loop: send this many requests per second in total, on a schedule, whether or not earlier ones have finished (instead of closed-loop --users). Latencies count from each request's scheduled time.", valueName: "req/s"))
    var rate: Double?

    @Option(help: ArgumentHelp("Open loop: gaps between arrivals: constant (evenly spaced), poisson (exponential) or gamma (shaped by --burstiness). Default poisson, or gamma when --burstiness is given.", valueName: "process"))
    var arrival: ArrivalProcess?

    @Option(help: ArgumentHelp("Open loop: shape of gamma gaps (1 is Poisson; below 1 burstier, above 1 more regular).", valueName: "shape"))
    var burstiness: Double?

    @Option(help: ArgumentHelp("Open loop: at most this many requests in flight in total; an arrival beyond it is dropped and counted.", valueName: "n"))
    var maxConcurrency: Int?

    @Option(help: ArgumentHelp("Step the load: comma-separated <users>u:<duration> or <rate>r:<duration>, e.g. 1u:30s,5u:60s,10u:60s or 0.5r:60s,1r:60s. Each stage gets its own stats; the run ends after the last stage (or at a shorter --run-time).", valueName: "list"))
    var stages: String?

    /// Adds the open loop and stages to the scenario. With stages, the run time becomes the stages'
    /// total unless a shorter --run-time was given (`runTimeGiven`: whether it was).
    func apply(to scenario: inout Scenario, runTimeGiven: Bool = Self.runTimeOnCommandLine) throws {
        do {
            try build(into: &scenario, runTimeGiven: runTimeGiven)
        } catch let error as ScenarioError {
            throw ValidationError(error.description)
        }
    }

    private func build(into scenario: inout Scenario, runTimeGiven: Bool) throws {
        let parsedStages = try stages.map { text throws(ScenarioError) in try Stage.parseList(text) }
        let stageRate = parsedStages?.first?.rate
        if let rate, parsedStages?.first?.users != nil {
            throw ScenarioError(flag: "--stages", message: "user stages (u) are closed loop; drop --rate \(rate) or step rates (r)")
        }
        if let burstiness, let arrival, arrival != .gamma, burstiness != 1 {
            throw ScenarioError(flag: "--burstiness", message: "shapes gamma arrivals only; add --arrival gamma (got --arrival \(arrival.rawValue))")
        }
        if let openRate = rate ?? stageRate {
            let process = arrival ?? ((burstiness ?? 1) != 1 ? .gamma : .poisson)
            let open = OpenLoop(rate: openRate, arrival: process, burstiness: burstiness ?? 1, maxConcurrency: maxConcurrency)
            try open.validate()
            scenario.openLoop = open
        } else {
            for (flag, given) in [("--arrival", arrival != nil), ("--burstiness", burstiness != nil), ("--max-concurrency", maxConcurrency != nil)] where given {
                throw ScenarioError(flag: flag, message: "applies to an open loop; add --rate or rate stages (e.g. --stages 1r:60s)")
            }
        }
        if let parsedStages {
            scenario.stages = parsedStages
            let total = parsedStages.reduce(0) { $0 + $1.durationSeconds }
            scenario.runTimeSeconds = runTimeGiven ? min(scenario.runTimeSeconds ?? total, total) : total
        }
    }

    /// Whether `--run-time` is on this process's command line (the default of 60 s must not cut stages short).
    static var runTimeOnCommandLine: Bool {
        CommandLine.arguments.contains { $0 == "--run-time" || $0.hasPrefix("--run-time=") }
    }

    /// Flags are checked at parse time.
    mutating func validate() throws {
        var probe = Scenario(target: "http://127.0.0.1:8000", runTimeSeconds: 60)
        try apply(to: &probe, runTimeGiven: true)
    }
}

extension ArrivalProcess: ExpressibleByArgument {}
