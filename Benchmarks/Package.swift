// swift-tools-version: 6.0
// Microbenchmarks of the client's hot path, kept out of the main package so that neither the main
// build nor CI builds them. Run: Benchmarks/run.sh (docs/benchmarks.md).
import PackageDescription

let package = Package(
    name: "stampede-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "stampede", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/ordo-one/malloc-interposer", exact: "1.6.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // SSE framing plus a dialect, per chunk: ns and allocations, fast route and Foundation route.
        .executableTarget(name: "ChunkBench", dependencies: [
            .product(name: "StampedeClient", package: "stampede"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
        ]),
        // AsyncHTTPClient alone against a server, bytes counted and nothing parsed: the floor under
        // the client's CPU per request (scripts/bench/client-floor.sh).
        .executableTarget(name: "ClientFloor", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
    ]
)
