import ArgumentParser
import StampedeCore

/// Flags for open-loop arrivals and stages. Shared by `run` and `coordinator`.
struct LoadModelOptions: ParsableArguments {
    /// Adds the open loop and stages to the scenario.
    func apply(to scenario: inout Scenario) throws {}
}
