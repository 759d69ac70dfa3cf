// swift-tools-version: 6.0
// Stampede: a distributed load-test cluster for LLM inference endpoints.
//
// Layers depend one way (see docs/architecture.md):
//   StampedeCore -> StampedeMetrics -> StampedeClient -> StampedeWorkload
//   -> StampedeEngine (worker + aggregator) -> StampedeReport -> StampedeCluster -> stampede (CLI)
// StampedeMock (the simulated LLM server) is a module of its own.
import PackageDescription

let package = Package(
    name: "stampede",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stampede", targets: ["stampede"]),
        // For Benchmarks/ (a package of its own that depends on this one by path).
        .library(name: "StampedeClient", targets: ["StampedeCore", "StampedeClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // Value types only: scenario, request records, metric definitions. No I/O.
        .target(name: "StampedeCore"),
        // HDR histograms, interval snapshots, exact merging.
        .target(name: "StampedeMetrics", dependencies: [
            "StampedeCore",
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ]),
        // SSE parser and API dialects over AsyncHTTPClient.
        .target(name: "StampedeClient", dependencies: [
            "StampedeCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Prompts, length distributions, arrival processes, correctness check.
        .target(name: "StampedeWorkload", dependencies: ["StampedeCore"], resources: [.copy("Resources/sonnets.txt")]),
        // Worker side (users -> records -> interval deltas) and aggregator side (merge -> results).
        .target(name: "StampedeEngine", dependencies: [
            "StampedeCore", "StampedeMetrics", "StampedeClient", "StampedeWorkload",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Console table, live line, JSON, LLMPerf files, per-request JSONL.
        .target(name: "StampedeReport", dependencies: ["StampedeCore", "StampedeMetrics", "StampedeEngine"]),
        // Wire protocol, coordinator and remote worker over TCP.
        .target(name: "StampedeCluster", dependencies: [
            "StampedeCore", "StampedeMetrics", "StampedeEngine", "StampedeReport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOExtras", package: "swift-nio-extras"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The simulated LLM serving engine (`stampede mock`).
        .target(name: "StampedeMock", dependencies: [
            "StampedeCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Thin CLI: parses flags and wires the pieces together.
        .executableTarget(name: "stampede", dependencies: [
            "StampedeCore", "StampedeMetrics", "StampedeClient", "StampedeWorkload",
            "StampedeEngine", "StampedeReport", "StampedeCluster", "StampedeMock",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Yams", package: "Yams"),
        ]),
        // libFuzzer targets (docs/fuzzing.md, scripts/fuzz.sh): the fuzz build adds -sanitize=fuzzer,address;
        // a plain build makes them replay inputs once. CFuzzDriver starts libFuzzer's driver when it is linked in.
        .target(name: "CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: [
            "CFuzzDriver",
            "StampedeCore", "StampedeMetrics", "StampedeClient", "StampedeEngine", "StampedeReport", "StampedeCluster",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .executableTarget(name: "FuzzWire", dependencies: ["FuzzSupport"]),
        .executableTarget(name: "FuzzSSE", dependencies: ["FuzzSupport"]),
        .testTarget(name: "CoreTests", dependencies: ["StampedeCore", "StampedeMetrics", "StampedeWorkload"]),
        .testTarget(name: "ClientTests", dependencies: ["StampedeCore", "StampedeClient", "StampedeMock", "StampedeWorkload"]),
        .testTarget(name: "MockTests", dependencies: ["StampedeCore", "StampedeMock"]),
        .testTarget(name: "EngineTests", dependencies: [
            "StampedeCore", "StampedeMetrics", "StampedeEngine", "StampedeReport", "StampedeMock", "StampedeWorkload", "StampedeClient",
        ]),
        .testTarget(name: "ClusterTests", dependencies: [
            "StampedeCore", "StampedeMetrics", "StampedeEngine", "StampedeReport", "StampedeCluster", "StampedeMock",
            "StampedeClient",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "CLITests", dependencies: ["StampedeCore"]),
    ]
)
