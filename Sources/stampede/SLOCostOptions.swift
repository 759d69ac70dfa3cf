import ArgumentParser
import StampedeCore

/// Flags for SLO thresholds and prices. Shared by `run`, `coordinator` and `sweep`.
struct SLOCostOptions: ParsableArguments {
    @Option(help: ArgumentHelp("""
        Thresholds on the merged stats, comma-separated, e.g. 'ttft_p90<=2s,itl_p95<=80ms,e2e_p99<=30s,error_rate<=1%'. \
        Latency: <ttft|ttfat|e2e|itl|llmperf_itl|chunk_gap|schedule_lag>_<p50|p90|p95|p99|mean|max> <= or < a duration \
        with a unit (us, ms, s, m). Rates: error_rate, throttled_rate <= and goodput_rate >= a percentage (1%) or fraction. \
        Throughput: requests_per_s, output_tokens_per_s, input_tokens_per_s, goodput_per_s >= a number. \
        A failed clause makes the exit code 1. Latency clauses also bound each request: goodput counts the requests that meet all of them.
        """, valueName: "clauses"))
    var slo: String?

    @Option(name: .customLong("price-per-hour"),
            help: ArgumentHelp("USD per hour for one replica of a dedicated deployment (e.g. a 4xA100 node); reports cost at the measured throughput.", valueName: "USD"))
    var pricePerHour: Double?

    @Option(help: ArgumentHelp("Replicas of the deployment --price-per-hour applies to (default 1).", valueName: "n"))
    var replicas: Int?

    @Option(name: .customLong("price-input-per-mtok"),
            help: ArgumentHelp("USD per million input tokens (per-token API pricing); reports cost per request.", valueName: "USD"))
    var priceInputPerMTok: Double?

    @Option(name: .customLong("price-output-per-mtok"),
            help: ArgumentHelp("USD per million output tokens (per-token API pricing); reports cost per request.", valueName: "USD"))
    var priceOutputPerMTok: Double?

    @Option(help: ArgumentHelp("Generator self-check: a worker using at least this share of its CPU allowance in an interval is saturated (default 0.9).", valueName: "fraction"))
    var saturationCpu: Double?

    @Option(help: ArgumentHelp("Generator self-check: an event-loop or schedule lag p99 of at least this many ms in an interval is saturated (default 10).", valueName: "ms"))
    var saturationLagMs: Double?

    /// The parsed SLO, if `--slo` was given. Errors name `--slo`.
    func parsedSLO() throws(ScenarioError) -> SLO? {
        guard let slo else { return nil }
        return try SLO.parse(slo)
    }

    /// The prices, if any price flag was given. Errors name the flag.
    func pricing() throws(ScenarioError) -> Pricing? {
        if let replicas, pricePerHour == nil {
            throw ScenarioError(flag: "--replicas", message: "applies to --price-per-hour; give it too (got --replicas \(replicas))")
        }
        guard pricePerHour != nil || priceInputPerMTok != nil || priceOutputPerMTok != nil else { return nil }
        let pricing = Pricing(pricePerHour: pricePerHour, replicas: replicas ?? 1,
                              inputPerMTok: priceInputPerMTok, outputPerMTok: priceOutputPerMTok)
        try pricing.validate()
        return pricing
    }

    /// Adds the SLO and prices to the scenario.
    func apply(to scenario: inout Scenario) throws {
        do {
            scenario.slo = try parsedSLO()
            scenario.pricing = try pricing()
            if saturationCpu != nil || saturationLagMs != nil {
                scenario.saturation = SaturationLimits(cpuShare: saturationCpu, lagMs: saturationLagMs)
                try scenario.saturation?.validate()
            }
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Checked at parse time, so a bad expression or price stops the command before any load starts.
    mutating func validate() throws {
        var scratch = Scenario(target: "http://127.0.0.1:8000", runTimeSeconds: 1)
        try apply(to: &scratch)
    }
}
