import StampedeClient
import StampedeEngine

// The engine no longer links the HTTP client; the CLI adapts it (`ClientExecutor`). Tests that drive a
// live mock through the real client adapt it the same way, in one line.
extension StreamingClient: RequestExecutor {}
