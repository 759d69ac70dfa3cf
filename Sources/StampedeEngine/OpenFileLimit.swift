#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StampedeCore

/// File descriptors for many streams: every user holds a connection. The soft limit is raised to
/// the hard one at start, and a worker whose share needs more than that says so before any load.
public enum OpenFileLimit {
    /// Descriptors a process needs besides its connections: listeners, the coordinator link, pipes, logs, epoll.
    public static let overhead = 100

    /// Raises the soft limit on open files to the hard limit. Returns the limit now in force (nil: unknown).
    @discardableResult
    public static func raise() -> Int? {
        var limit = rlimit()
        #if os(Linux)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }

    /// How many connections a client may open under `limit` without running the process out of
    /// descriptors, when each connection costs `perConnection` (2 when the server is in the same
    /// process). Requests past it wait for a connection instead. Nil when the limit is unknown.
    /// (Out of descriptors, more than the connect fails: the runtime's own timers need one, and the
    /// process died with SIGILL.)
    public static func connectionBudget(limit: Int?, perConnection: Int = 1) -> Int? {
        guard let limit else { return nil }
        return max(1, (limit.saturatingSubtract(overhead)) / max(1, perConnection))
    }

    /// One line when `users` streams need more descriptors than `limit` allows; nil when they fit.
    public static func shortfall(users: Int, limit: Int?) -> String? {
        guard let limit, users > 0 else { return nil }
        let needed = users.saturatingAdd(overhead)
        guard needed > limit else { return nil }
        return "--users \(users) needs ~\(needed) file descriptors; the limit is \(limit) (raise it with `ulimit -n` "
            + "or the container's nofile limit, or spread the users over more workers): requests past it wait for a connection"
    }
}
