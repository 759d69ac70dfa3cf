import ArgumentParser
import StampedeCore

/// Flags for SLO thresholds and prices. Shared by `run`, `coordinator` and `sweep`.
struct SLOCostOptions: ParsableArguments {
    /// Adds the SLO and prices to the scenario.
    func apply(to scenario: inout Scenario) throws {}
}
