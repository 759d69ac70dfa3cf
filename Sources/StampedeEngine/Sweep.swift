import StampedeCore
import StampedeMetrics

/// What a sweep raises from step to step.
public enum SweepAxis: String, Codable, Sendable, CaseIterable {
    /// Closed-loop users: 1, 2, 4, 8, …
    case users
    /// Open-loop rate: 2, 4, 8, … times the 1-user throughput.
    case rate
}

public struct SweepSettings: Sendable, Equatable {
    public var axis: SweepAxis = .users
    /// Measured time per step, after the warm-up.
    public var stepSeconds: Double = 30
    /// Time at the step's load before measuring; requests scheduled in it are not counted.
    public var warmupSeconds: Double = 5
    /// The knee: p50 E2E above this times the 1-user p50 E2E.
    public var kneeFactor: Double = 1.5
    /// A step whose error rate is above this is past the knee.
    public var maxErrorRate: Double = 0.05
    /// Bisection steps between the last good and the first bad step.
    public var refinements: Int = 2
    /// At most this many steps in all (baseline and refinements included).
    public var maxSteps: Int = 16
    /// The ramp stops (without a knee) past these.
    public var maxUsers: Int = 4096
    public var maxRate: Double = 100_000

    public init() {}

    /// Rejects impossible values; the error names the flag.
    public func validate() throws(ScenarioError) {
        guard stepSeconds > 0, stepSeconds.isFinite else { throw ScenarioError(flag: "--step-time", message: "must be positive") }
        guard warmupSeconds >= 0, warmupSeconds.isFinite else { throw ScenarioError(flag: "--warmup", message: "must not be negative") }
        guard kneeFactor > 1, kneeFactor.isFinite else { throw ScenarioError(flag: "--knee-factor", message: "must be above 1 (got \(kneeFactor))") }
        guard (0...1).contains(maxErrorRate) else { throw ScenarioError(flag: "--max-error-rate", message: "must be between 0 and 1") }
        guard (0...10).contains(refinements) else { throw ScenarioError(flag: "--refinements", message: "must be between 0 and 10") }
        guard (2...100).contains(maxSteps) else { throw ScenarioError(flag: "--max-steps", message: "must be between 2 and 100") }
        guard maxUsers >= 2 else { throw ScenarioError(flag: "--max-users", message: "must be at least 2") }
        guard maxRate > 0, maxRate.isFinite else { throw ScenarioError(flag: "--max-rate", message: "must be positive") }
    }
}

/// One measured step of a sweep. Latencies in seconds.
public struct SweepStep: Codable, Sendable, Equatable {
    public enum Phase: String, Codable, Sendable { case baseline, ramp, refine }
    public enum Verdict: String, Codable, Sendable {
        case ok
        /// p50 E2E above knee-factor x the 1-user value.
        case knee
        /// Error rate above --max-error-rate (or no request succeeded).
        case errors
        /// The scenario's SLO failed.
        case slo
        /// The load generator was saturated (the generator self-check): the step measured the
        /// generator, not the server, so it is neither good nor a knee.
        case generatorSaturated = "generator_saturated"
    }

    public var number: Int
    public var phase: Phase
    public var users: Int?
    public var rate: Double?
    public var requests: Int
    public var errors: Int
    public var errorRate: Double
    public var requestsPerSecond: Double
    public var outputTokensPerSecond: Double
    public var ttftP50: Double?
    public var ttftP95: Double?
    public var itlP50: Double?
    public var itlP95: Double?
    public var e2eP50: Double?
    public var e2eP95: Double?
    public var goodputPerSecond: Double
    public var droppedArrivals: Int
    public var sloPassed: Bool?
    public var verdict: Verdict
}

/// A load level and what it achieved: one of the sweep's answers.
public struct SweepPoint: Codable, Sendable, Equatable {
    public var users: Int?
    public var rate: Double?
    public var requestsPerSecond: Double
    public var goodputPerSecond: Double?
    public var e2eP50: Double?
    public var ttftP50: Double?
    public var itlP50: Double?
    /// For the knee: what made the step bad (`knee`, `errors`, `slo`).
    public var reason: String?

    init(_ step: SweepStep, goodput: Bool = false) {
        users = step.users
        rate = step.rate
        requestsPerSecond = step.requestsPerSecond
        goodputPerSecond = goodput ? step.goodputPerSecond : nil
        e2eP50 = step.e2eP50
        ttftP50 = step.ttftP50
        itlP50 = step.itlP50
        reason = step.verdict == .ok ? nil : step.verdict.rawValue
    }
}

public struct SweepAnswers: Codable, Sendable, Equatable {
    /// The 1-user step.
    public var bestLatency: SweepPoint?
    /// The largest RPS among steps not past the knee (p50 E2E and error rate within bounds).
    public var maxThroughput: SweepPoint?
    /// The largest RPS among steps that met the SLO (only with an SLO), with its goodput.
    public var maxGoodput: SweepPoint?
    /// The lowest load found past the knee (nil: not reached).
    public var knee: SweepPoint?
    /// `CostSummary.compute` on the step of `maxThroughput`, with `atSustainableRPS` at its req/s, when the scenario has prices.
    public var costAtMaxThroughput: CostSummary?
}

/// Everything a sweep produced; `--json` writes this value.
public struct SweepResult: Codable, Sendable, Equatable {
    /// The version of this shape (`schema_version` in the JSON), as `RunResult.currentSchemaVersion`.
    public var schemaVersion = RunResult.currentSchemaVersion
    public var name: String
    public var axis: SweepAxis
    public var stepSeconds: Double
    public var warmupSeconds: Double
    public var kneeFactor: Double
    public var maxErrorRate: Double
    public var sloExpression: String?
    public var steps: [SweepStep]
    public var answers: SweepAnswers
    /// Why the sweep ended: `refined` (knee bracketed and refined), `max_steps`, `max_load`, `baseline_failed`, `interrupted`,
    /// `generator_saturated` (a step's load generator was the bottleneck).
    public var stoppedBy: String
    /// With `generator_saturated`: the number of the last step whose generator had headroom (nil: none).
    public var lastTrustworthyStep: Int? = nil
    /// What to do about how the sweep ended, when there is something to do.
    public var advice: String? = nil
}

/// `stampede sweep`: one user for the best latency, then ×2 steps until the knee, then bisection
/// between the last good and the first bad step. Each step is one coordinator run (`runStep`) of a
/// scenario with a warm-up stage and a measured stage; only the measured stage counts.
public enum Sweep {
    public static func run(base: Scenario, settings: SweepSettings, isCancelled: @escaping @Sendable () -> Bool = { false },
                           onStep: @escaping @Sendable (SweepStep) -> Void = { _ in },
                           runStep: @escaping @Sendable (Scenario) async -> RunResult) async -> SweepResult {
        var steps: [SweepStep] = []
        var summaries: [StatsSummary] = []
        var stoppedBy = "refined"

        func measure(users: Int?, rate: Double?, phase: SweepStep.Phase, baselineE2E: Double?) async -> SweepStep {
            let scenario = stepScenario(base: base, users: users, rate: rate, settings: settings)
            let result = await runStep(scenario)
            let index = settings.warmupSeconds > 0 ? 1 : 0
            let summary = result.stages.first { $0.index == index }?.summary ?? StatsSummary(MetricSet(), durationSeconds: settings.stepSeconds)
            let step = makeStep(number: steps.count + 1, phase: phase, users: users, rate: rate, summary: summary, slo: base.slo,
                                baselineE2E: baselineE2E, settings: settings, generatorSaturated: result.generator?.saturated ?? false)
            steps.append(step)
            summaries.append(summary)
            onStep(step)
            return step
        }

        let baseline = await measure(users: 1, rate: nil, phase: .baseline, baselineE2E: nil)
        if baseline.verdict == .generatorSaturated {
            stoppedBy = "generator_saturated"
        } else if let baselineE2E = baseline.e2eP50, baseline.verdict != .errors {
            // The ramp: ×2 from the 1-user load until a step is bad.
            let byRate = settings.axis == .rate
            var good = byRate ? baseline.requestsPerSecond : 1
            var level = good * 2
            var bad: Double?
            while bad == nil {
                if isCancelled() { stoppedBy = "interrupted"; break }
                if steps.count >= settings.maxSteps { stoppedBy = "max_steps"; break }
                if byRate ? level > settings.maxRate : Int(level) > settings.maxUsers { stoppedBy = "max_load"; break }
                let step = await measure(users: byRate ? nil : Int(level), rate: byRate ? level : nil, phase: .ramp, baselineE2E: baselineE2E)
                if step.verdict == .generatorSaturated { stoppedBy = "generator_saturated"; break }
                if step.verdict == .ok { good = level; level *= 2 } else { bad = level }
            }
            // Refinement: bisect between the last good and the first bad level.
            if var upper = bad {
                for _ in 0..<settings.refinements {
                    if isCancelled() { stoppedBy = "interrupted"; break }
                    if steps.count >= settings.maxSteps { stoppedBy = "max_steps"; break }
                    let mid = byRate ? (good + upper) / 2 : ((good + upper) / 2).rounded(.down)
                    guard mid > good, mid < upper else { break }
                    let step = await measure(users: byRate ? nil : Int(mid), rate: byRate ? mid : nil, phase: .refine, baselineE2E: baselineE2E)
                    if step.verdict == .generatorSaturated { stoppedBy = "generator_saturated"; break }
                    if step.verdict == .ok { good = mid } else { upper = mid }
                }
            }
        } else {
            stoppedBy = "baseline_failed"
        }
        var result = SweepResult(name: base.name, axis: settings.axis, stepSeconds: settings.stepSeconds, warmupSeconds: settings.warmupSeconds,
                                 kneeFactor: settings.kneeFactor, maxErrorRate: settings.maxErrorRate, sloExpression: base.slo?.expression,
                                 steps: steps, answers: answers(steps: steps, summaries: summaries, scenario: base), stoppedBy: stoppedBy)
        if stoppedBy == "generator_saturated" {
            result.lastTrustworthyStep = steps.last { $0.verdict != .generatorSaturated }?.number
            let last = result.lastTrustworthyStep.map { "the last trustworthy step is \($0)" } ?? "no step is trustworthy"
            result.advice = "the load generator ran out of headroom before the server showed a knee (\(last)): add workers and sweep again"
        }
        return result
    }

    /// The scenario of one step: the load held for warm-up + step time, as two stages (warm-up, measured).
    public static func stepScenario(base: Scenario, users: Int?, rate: Double?, settings: SweepSettings) -> Scenario {
        var scenario = base
        scenario.maxRequests = nil
        var stages: [Stage] = []
        if let rate {
            let open = base.openLoop
            scenario.openLoop = OpenLoop(rate: rate, arrival: open?.arrival ?? .poisson, burstiness: open?.burstiness ?? 1,
                                         maxConcurrency: open?.maxConcurrency)
            if settings.warmupSeconds > 0 { stages.append(Stage(rate: rate, durationSeconds: settings.warmupSeconds)) }
            stages.append(Stage(rate: rate, durationSeconds: settings.stepSeconds))
        } else {
            let users = max(1, users ?? 1)
            scenario.openLoop = nil
            scenario.users = users
            // Every user starts within 100 ms: the warm-up, not the spawn rate, absorbs the ramp.
            scenario.spawnRate = max(base.spawnRate, Double(users) * 10)
            if settings.warmupSeconds > 0 { stages.append(Stage(users: users, durationSeconds: settings.warmupSeconds)) }
            stages.append(Stage(users: users, durationSeconds: settings.stepSeconds))
        }
        scenario.stages = stages
        scenario.runTimeSeconds = settings.warmupSeconds + settings.stepSeconds
        return scenario
    }

    static func makeStep(number: Int, phase: SweepStep.Phase, users: Int?, rate: Double?, summary s: StatsSummary, slo: SLO?,
                         baselineE2E: Double?, settings: SweepSettings, generatorSaturated: Bool = false) -> SweepStep {
        let value = { (metric: LatencyMetric, p95: Bool) -> Double? in
            let d = s[metric]
            return d.count > 0 ? (p95 ? d.p95 : d.p50) : nil
        }
        let sloPassed = slo.map { SLOResult.evaluate($0, summary: s).passed }
        var verdict = SweepStep.Verdict.ok
        if generatorSaturated {
            verdict = .generatorSaturated
        } else if s.requestsSucceeded == 0 || s.errorRate > settings.maxErrorRate {
            verdict = .errors
        } else if let baselineE2E, let e2e = value(.e2e, false), e2e > settings.kneeFactor * baselineE2E {
            verdict = .knee
        } else if sloPassed == false {
            verdict = .slo
        }
        return SweepStep(number: number, phase: phase, users: users, rate: rate, requests: s.requestsFinished, errors: s.requestsFailed,
                         errorRate: s.errorRate, requestsPerSecond: s.requestsPerSecond, outputTokensPerSecond: s.outputTokensPerSecond,
                         ttftP50: value(.ttft, false), ttftP95: value(.ttft, true), itlP50: value(.itl, false), itlP95: value(.itl, true),
                         e2eP50: value(.e2e, false), e2eP95: value(.e2e, true), goodputPerSecond: s.goodputPerSecond,
                         droppedArrivals: s.droppedArrivals, sloPassed: sloPassed, verdict: verdict)
    }

    static func answers(steps: [SweepStep], summaries: [StatsSummary], scenario: Scenario) -> SweepAnswers {
        var answers = SweepAnswers()
        if let baseline = steps.first, baseline.phase == .baseline, baseline.e2eP50 != nil { answers.bestLatency = SweepPoint(baseline) }
        let beforeKnee = steps.indices.filter { steps[$0].verdict == .ok || steps[$0].verdict == .slo }
        if let top = beforeKnee.max(by: { steps[$0].requestsPerSecond < steps[$1].requestsPerSecond }) {
            answers.maxThroughput = SweepPoint(steps[top])
            let summary = summaries[top]
            answers.costAtMaxThroughput = scenario.pricing.map {
                CostSummary.compute($0, summary: summary).withSustainableRPS(steps[top].requestsPerSecond, summary: summary)
            }
        }
        if scenario.slo != nil,
           let good = steps.filter({ $0.verdict == .ok && $0.sloPassed == true }).max(by: { $0.requestsPerSecond < $1.requestsPerSecond }) {
            answers.maxGoodput = SweepPoint(good, goodput: true)
        }
        let bad = steps.filter { $0.phase != .baseline && $0.verdict != .ok && $0.verdict != .generatorSaturated }
        if let knee = bad.min(by: { ($0.rate ?? Double($0.users ?? 0)) < ($1.rate ?? Double($1.users ?? 0)) }) {
            answers.knee = SweepPoint(knee)
        }
        return answers
    }
}
