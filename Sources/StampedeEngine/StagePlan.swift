import StampedeCore

/// The stages of a run laid out on the run clock. A pure function of the scenario, so the
/// coordinator and every worker derive the same boundaries: stage `i` starts at the sum of the
/// durations before it (run-clock zero is the start of the load).
public struct StagePlan: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        public var index: Int
        public var startNs: Int64
        public var endNs: Int64
        public var users: Int?
        public var rate: Double?
        public var label: String
    }

    /// Empty when the scenario has no stages.
    public private(set) var steps: [Step]
    /// Whether the last stage was asked for while the run went on (`changeLoad`): it has no end.
    public private(set) var openEnded = false

    public init(scenario: Scenario) {
        self.init(stages: scenario.stages ?? [])
    }

    public init(stages: [Stage]) {
        var start: Int64 = 0
        steps = stages.enumerated().map { index, stage in
            let length = Int64((stage.durationSeconds * 1e9).rounded())
            defer { start += length }
            return Step(index: index, startNs: start, endNs: start + length, users: stage.users, rate: stage.rate, label: stage.label)
        }
    }

    public var isEmpty: Bool { steps.isEmpty }

    /// The end of the last stage (nil without stages, or when the last one was asked for during the run).
    public var endNs: Int64? { openEnded ? nil : steps.last?.endNs }

    /// A load change asked for during the run (the dashboard's control): the stage in force ends at
    /// `ns` and a new one, without an end, begins. Without stages, the load so far becomes stage 0.
    /// Returns the new stage's index.
    @discardableResult
    public mutating func change(atNs ns: Int64, users: Int?, rate: Double?, initialUsers: Int?, initialRate: Double?) -> Int {
        if steps.isEmpty {
            steps.append(Step(index: 0, startNs: 0, endNs: ns, users: initialUsers, rate: initialRate,
                              label: Self.label(users: initialUsers, rate: initialRate, fromNs: nil)))
        } else {
            let current = stageIndex(atNs: ns)
            steps.removeSubrange((current + 1)...)
            steps[current].endNs = max(steps[current].startNs, ns)
        }
        let start = steps[steps.count - 1].endNs
        steps.append(Step(index: steps.count, startNs: start, endNs: .max, users: users, rate: rate,
                          label: Self.label(users: users, rate: rate, fromNs: start)))
        openEnded = true
        return steps.count - 1
    }

    /// `5 users`, `2 req/s`, and for a change `5 users from 12s`.
    static func label(users: Int?, rate: Double?, fromNs: Int64?) -> String {
        var text = "load"
        if let users { text = "\(users) user\(users == 1 ? "" : "s")" } else if let rate { text = "\(Stage.format(rate)) req/s" }
        guard let fromNs else { return text }
        return text + " from " + Duration.nanoseconds(fromNs).shortLabel
    }

    /// The stage that holds run-clock time `ns`: 0 before the first, the last one after the end
    /// (and 0 when there are no stages).
    public func stageIndex(atNs ns: Int64) -> Int {
        guard !steps.isEmpty else { return 0 }
        // Stages are few and sorted; a binary search keeps a per-request call cheap anyway.
        var low = 0
        var high = steps.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if steps[mid].startNs <= ns { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// Users to run at run-clock time `ns`: the stage's, else `fallback`.
    public func users(atNs ns: Int64, fallback: Int) -> Int {
        steps.isEmpty ? fallback : steps[stageIndex(atNs: ns)].users ?? fallback
    }

    /// The open-loop rate at run-clock time `ns`: the stage's, else `fallback`.
    public func rate(atNs ns: Int64, fallback: Double) -> Double {
        steps.isEmpty ? fallback : steps[stageIndex(atNs: ns)].rate ?? fallback
    }

    /// The rate as piecewise-constant segments from run-clock zero (what `ArrivalSchedule` integrates).
    public func rateSegments(fallback: Double) -> [RateSegment] {
        guard !steps.isEmpty else { return [RateSegment(startNs: 0, rate: fallback)] }
        return steps.map { RateSegment(startNs: $0.startNs, rate: $0.rate ?? fallback) }
    }

    /// The part of stage `index` that lies inside a run of `runNs`, in seconds (0 if it never began).
    public func seconds(ofStage index: Int, runNs: Int64) -> Double {
        guard steps.indices.contains(index) else { return Double(runNs) / 1e9 }
        let step = steps[index]
        let end = index == steps.count - 1 ? max(step.endNs, runNs) : step.endNs
        return Double(max(0, min(end, runNs) - step.startNs)) / 1e9
    }
}
