import Foundation
import StampedeCore
import Testing

private func record(input: Int, output: Int) -> RequestRecord {
    RequestRecord(scheduledNs: 0, sendNs: 0, endNs: 1, inputTokens: input, outputTokens: output, status: 200)
}

@Suite("Pricing")
struct PricingTests {
    @Test func perTokenCostOfOneRequest() throws {
        // Seed 004's Fireworks prices: $0.70 per M input tokens, $2.80 per M output tokens.
        // 550 × 0.7 / 1e6 + 150 × 2.8 / 1e6 = 0.000385 + 0.000420 = $0.000805 = 805 µUSD.
        let pricing = Pricing(inputPerMTok: 0.7, outputPerMTok: 2.8)
        let micro = try #require(pricing.costMicroUSD(of: record(input: 550, output: 150)))
        #expect(abs(micro - 805) < 1e-9)
        #expect(abs(try #require(pricing.tokenCostUSD(input: 550, output: 150)) - 0.000805) < 1e-15)
    }

    @Test func oneMissingPerTokenPriceCountsAsFree() throws {
        let outputOnly = Pricing(outputPerMTok: 10)
        #expect(try #require(outputOnly.costMicroUSD(of: record(input: 1000, output: 200))) == 2000)   // 200 × 10 µUSD
        let inputOnly = Pricing(inputPerMTok: 0.5)
        #expect(try #require(inputOnly.costMicroUSD(of: record(input: 1000, output: 200))) == 500)     // 1000 × 0.5 µUSD
    }

    @Test func noPerTokenPricesNoPerRequestCost() {
        let hourly = Pricing(pricePerHour: 4, replicas: 2)
        #expect(hourly.costMicroUSD(of: record(input: 550, output: 150)) == nil)
        #expect(hourly.tokenCostUSD(input: 1, output: 1) == nil)
        #expect(hourly.deploymentPerHour == 8)
        #expect(Pricing(inputPerMTok: 1).deploymentPerHour == nil)
    }

    static let bad: [(String, Pricing)] = [
        ("--price-per-hour", Pricing(pricePerHour: -4)),
        ("--price-per-hour", Pricing(pricePerHour: .nan)),
        ("--price-per-hour", Pricing(pricePerHour: .infinity)),
        ("--price-input-per-mtok", Pricing(inputPerMTok: -0.7)),
        ("--price-output-per-mtok", Pricing(outputPerMTok: -2.8)),
        ("--replicas", Pricing(pricePerHour: 4, replicas: 0)),
        ("--replicas", Pricing(pricePerHour: 4, replicas: -1)),
        ("--price-per-hour", Pricing()),                        // no price at all
    ]

    @Test("bad prices name their flag", arguments: bad)
    func badPricesNameTheFlag(_ flag: String, _ pricing: Pricing) {
        do {
            try pricing.validate()
            Issue.record("\(pricing) was accepted")
        } catch {
            #expect(error.flag == flag, "\(error)")
        }
        var scenario = Scenario(target: "http://127.0.0.1:8000", runTimeSeconds: 10)
        scenario.pricing = pricing
        #expect(throws: ScenarioError.self) { try scenario.validate() }
    }

    @Test func freeIsAValidPrice() {
        #expect(throws: Never.self) { try Pricing(pricePerHour: 0, inputPerMTok: 0, outputPerMTok: 0).validate() }
        #expect(throws: Never.self) { try Pricing(pricePerHour: 4, replicas: 8).validate() }
    }

    @Test func codableRoundTrip() throws {
        let pricing = Pricing(pricePerHour: 4, replicas: 2, inputPerMTok: 0.7, outputPerMTok: 2.8)
        #expect(try JSONDecoder().decode(Pricing.self, from: JSONEncoder().encode(pricing)) == pricing)
    }
}
