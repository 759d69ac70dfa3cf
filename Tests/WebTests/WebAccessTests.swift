import StampedeWeb
import Testing

/// The dashboard's pure access decisions: token, session, cross-site and control-call checks.
@Suite struct WebAccessTests {
    let open = WebAccess(requireToken: false, token: nil)
    let guarded = WebAccess(requireToken: true, token: "s3cret-token")
    let noSession: (String) -> Bool = { _ in false }

    func control(_ extra: (inout RequestFacts) -> Void = { _ in }) -> RequestFacts {
        var facts = RequestFacts(method: "POST", path: "/api/users", host: "127.0.0.1:8089", contentType: "application/json",
                                 controlHeader: "1")
        extra(&facts)
        return facts
    }

    @Test func loopbackWithoutTokenAllowsPagesAndSameSiteControl() {
        #expect(open.decide(RequestFacts(method: "GET", path: "/"), sessionValid: noSession) == .allow)
        #expect(open.decide(control(), sessionValid: noSession) == .allow)
        #expect(open.decide(control { $0.origin = "http://127.0.0.1:8089"; $0.secFetchSite = "same-origin" }, sessionValid: noSession) == .allow)
    }

    @Test func crossSiteControlIsRefusedEvenWithTheToken() {
        let cases: [(inout RequestFacts) -> Void] = [
            { $0.origin = "http://evil.example" },
            { $0.origin = "http://127.0.0.1:9999" },
            { $0.origin = "null" },
            { $0.secFetchSite = "cross-site" },
            { $0.secFetchSite = "same-site" },
            { $0.controlHeader = nil },
            { $0.contentType = "text/plain" },
            { $0.contentType = "application/x-www-form-urlencoded" },
            { $0.method = "GET" },
        ]
        for change in cases {
            let facts = control { $0.authorization = "Bearer s3cret-token"; change(&$0) }
            guard case .forbidden = guarded.decide(facts, sessionValid: noSession) else {
                Issue.record("allowed: \(facts)")
                continue
            }
            guard case .forbidden = open.decide(facts, sessionValid: noSession) else {
                Issue.record("allowed on loopback: \(facts)")
                continue
            }
        }
    }

    @Test func tokenOrSessionRequiredOffLoopback() {
        let page = RequestFacts(method: "GET", path: "/")
        #expect(guarded.decide(page, sessionValid: noSession) == .unauthorized)
        var wrong = page
        wrong.authorization = "Bearer s3cret-toke"
        #expect(guarded.decide(wrong, sessionValid: noSession) == .unauthorized)
        wrong.authorization = "Basic s3cret-token"
        #expect(guarded.decide(wrong, sessionValid: noSession) == .unauthorized)
        var right = page
        right.authorization = "Bearer s3cret-token"
        #expect(guarded.decide(right, sessionValid: noSession) == .allow)
        var session = page
        session.sessionId = "abc"
        #expect(guarded.decide(session, sessionValid: { $0 == "abc" }) == .allow)
        #expect(guarded.decide(session, sessionValid: noSession) == .unauthorized)
        // The login form is open, and its POST is still checked for cross-site.
        #expect(guarded.decide(RequestFacts(method: "GET", path: "/login"), sessionValid: noSession) == .allow)
        #expect(guarded.decide(RequestFacts(method: "POST", path: "/login", secFetchSite: "cross-site"), sessionValid: noSession)
            == .forbidden("cross-site request refused (Sec-Fetch-Site: cross-site)"))
        #expect(guarded.decide(RequestFacts(method: "GET", path: "/metrics"), sessionValid: noSession) == .unauthorized)
    }

    @Test func emptyTokenNeverMatches() {
        let empty = WebAccess(requireToken: true, token: "")
        #expect(!empty.tokenMatches(""))
        #expect(empty.decide(RequestFacts(method: "GET", path: "/", authorization: "Bearer "), sessionValid: noSession) == .unauthorized)
    }

    @Test func sessionsAreRandomBoundedAndNotTheToken() {
        let store = SessionStore(capacity: 3)
        let ids = (0..<5).map { _ in store.create() }
        #expect(Set(ids).count == 5)
        #expect(ids.allSatisfy { $0.count == 64 })
        #expect(store.count == 3)
        #expect(!store.isValid(ids[0]) && !store.isValid(ids[1]))
        #expect(store.isValid(ids[4]))
        #expect(!store.isValid("s3cret-token"))
    }

    @Test func cookieParsing() {
        #expect(cookieValue("stampede_session", in: "a=1; stampede_session=xyz; b=2") == "xyz")
        #expect(cookieValue("stampede_session", in: "stampede_sessionx=1") == nil)
        #expect(cookieValue("stampede_session", in: nil) == nil)
    }

    @Test func addressesAndLoopback() {
        #expect(WebAddress.parse("8089")! == ("127.0.0.1", 8089))
        #expect(WebAddress.parse("0.0.0.0:0")! == ("0.0.0.0", 0))
        #expect(WebAddress.parse("[::1]:80")! == ("::1", 80))
        #expect(WebAddress.parse("70000") == nil)
        #expect(WebAddress.parse("host:-1") == nil)
        #expect(WebAddress.parse(":80") == nil)
        for host in ["127.0.0.1", "127.0.0.2", "127.255.0.9", "::1", "localhost"] { #expect(WebAddress.isLoopback(host), "\(host)") }
        for host in ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "127.0.0", "127.0.0.1.5", "example.com", "1127.0.0.1"] {
            #expect(!WebAddress.isLoopback(host), "\(host)")
        }
    }

    @Test func offLoopbackWithoutTokenIsRefused() {
        #expect(throws: WebSettingsError.self) { try WebSettings(host: "0.0.0.0", port: 0).validated() }
        #expect(throws: WebSettingsError.self) { try WebSettings(host: "127.0.0.1", port: 0, requireToken: true).validated() }
        let settings = try? WebSettings(host: "0.0.0.0", port: 0, token: "t").validated()
        #expect(settings?.requireToken == true)
        #expect((try? WebSettings(host: "127.0.0.1", port: 0).validated())?.requireToken == false)
    }
}
