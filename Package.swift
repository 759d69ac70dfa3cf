// swift-tools-version: 6.0
// Stampede: a distributed load-test cluster for LLM inference endpoints.
//
// The modules form a tree, not a chain (docs/architecture.md). Each target's dependencies below
// are exactly the modules its sources import; every module imports StampedeCore.
//
//   StampedeCore                      value types, no I/O
//   ├─ StampedeMetrics                HDR histograms, exact merging
//   ├─ StampedeClient                 HTTP streaming (AsyncHTTPClient)
//   ├─ StampedeWorkload               prompts, length draws
//   ├─ StampedeMock                   the simulated LLM server (Hummingbird)
//   └─ StampedeEngine                 <- Metrics, Workload
//      ├─ StampedeReport              <- Metrics
//      └─ StampedeCluster             <- Metrics (SwiftNIO)
//      └─ StampedeWeb                 <- Engine, Report (Hummingbird, swift-prometheus): --web
//   stampede (CLI)                    <- Client, Engine, Report, Cluster, Mock, Web
//   FuzzSupport                       <- Metrics, Client, Engine, Report, Cluster
//   StampedeTestSupport (tests only)  <- Client, Engine, Mock (tests also use swift-clocks' TestClock)
import PackageDescription

/// Settings every target compiles with.
let swiftSettings: [SwiftSetting] = [
    // `any P` spelled out wherever an existential is used, so that its cost is visible.
    .enableUpcomingFeature("ExistentialAny"),
]

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
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Tests only: a test clock for the engine's drivers.
        .package(url: "https://github.com/pointfreeco/swift-clocks", from: "1.1.1"),
    ],
    targets: [
        // Value types only: scenario, request records, metric definitions. No I/O.
        .target(name: "StampedeCore", swiftSettings: swiftSettings),
        // HDR histograms, interval snapshots, exact merging.
        .target(name: "StampedeMetrics", dependencies: [
            "StampedeCore",
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ], swiftSettings: swiftSettings),
        // SSE parser and API dialects over AsyncHTTPClient.
        .target(name: "StampedeClient", dependencies: [
            "StampedeCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        // Prompts, length distributions, arrival processes, correctness check.
        .target(name: "StampedeWorkload", dependencies: ["StampedeCore"], resources: [.copy("Resources/sonnets.txt")],
                swiftSettings: swiftSettings),
        // Worker side (users -> records -> interval deltas) and aggregator side (merge -> results).
        .target(name: "StampedeEngine", dependencies: [
            "StampedeCore", "StampedeMetrics", "StampedeWorkload",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        // Console table, live line, JSON, LLMPerf files, per-request JSONL.
        .target(name: "StampedeReport", dependencies: ["StampedeCore", "StampedeMetrics", "StampedeEngine"],
                swiftSettings: swiftSettings),
        // Wire protocol, coordinator and remote worker over TCP.
        .target(name: "StampedeCluster", dependencies: [
            "StampedeCore", "StampedeMetrics", "StampedeEngine",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOExtras", package: "swift-nio-extras"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        // `--web`: the live dashboard, its control API and /metrics (Hummingbird, swift-prometheus).
        .target(name: "StampedeWeb", dependencies: [
            "StampedeCore", "StampedeMetrics", "StampedeEngine", "StampedeReport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        // The simulated LLM serving engine (`stampede mock`).
        .target(name: "StampedeMock", dependencies: [
            "StampedeCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        // Thin CLI: parses flags and wires the pieces together.
        .executableTarget(name: "stampede", dependencies: [
            "StampedeCore", "StampedeClient", "StampedeEngine", "StampedeReport", "StampedeCluster", "StampedeMock",
            "StampedeWeb",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: swiftSettings),
        // libFuzzer targets (docs/fuzzing.md, scripts/fuzz.sh): the fuzz build adds -sanitize=fuzzer,address;
        // a plain build makes them replay inputs once. CFuzzDriver starts libFuzzer's driver when it is linked in.
        .target(name: "CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: [
            "CFuzzDriver",
            "StampedeCore", "StampedeMetrics", "StampedeClient", "StampedeEngine", "StampedeReport", "StampedeCluster",
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        .executableTarget(name: "FuzzWire", dependencies: ["FuzzSupport"], swiftSettings: swiftSettings),
        .executableTarget(name: "FuzzSSE", dependencies: ["FuzzSupport"], swiftSettings: swiftSettings),
        // One copy of each test helper: the mock scope, the `stampede` child processes, raw sockets,
        // the raw HTTP client, the scripted server, the fake executor, waitUntil/withTimeout.
        .target(name: "StampedeTestSupport", dependencies: [
            "StampedeCore", "StampedeClient", "StampedeEngine", "StampedeMock",
        ], path: "Tests/StampedeTestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "CoreTests", dependencies: ["StampedeCore", "StampedeMetrics", "StampedeWorkload"], swiftSettings: swiftSettings),
        .testTarget(name: "ClientTests", dependencies: [
            "StampedeCore", "StampedeClient", "StampedeMock", "StampedeTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "MockTests", dependencies: ["StampedeCore", "StampedeMock", "StampedeTestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "EngineTests", dependencies: [
            "StampedeCore", "StampedeMetrics", "StampedeClient", "StampedeEngine", "StampedeReport", "StampedeMock",
            "StampedeTestSupport",
            .product(name: "Clocks", package: "swift-clocks"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "ClusterTests", dependencies: [
            "StampedeCore", "StampedeMetrics", "StampedeClient", "StampedeEngine", "StampedeReport", "StampedeCluster",
            "StampedeMock", "StampedeTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "WebTests", dependencies: ["StampedeCore", "StampedeMetrics", "StampedeEngine", "StampedeWeb", "StampedeTestSupport"],
                    swiftSettings: swiftSettings),
        // Black-box tests of the built `stampede` binary (scripts/test.sh builds it first).
        .testTarget(name: "CLITests", dependencies: ["StampedeTestSupport"], swiftSettings: swiftSettings),
    ]
)
