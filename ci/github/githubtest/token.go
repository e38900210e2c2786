package githubtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// tokenPath is the path shape of the real endpoint
// (…/_apis/distributedtask/hubs/Actions/plans/<plan>/jobs/<job>/idtoken),
// with fixed fake ids.
const tokenPath = "/00000000-0000-0000-0000-000000000000/_apis/distributedtask/hubs/Actions/plans/" +
	"11111111-1111-1111-1111-111111111111/jobs/22222222-2222-2222-2222-222222222222/idtoken"

// oversizedBodyBytes is the size of the body [Fault.OversizedBody] sends:
// far above go-githubactions' 64,000-byte read cap and the 64 KiB–1 MiB caps
// of our HTTP client, so only a capped reader fails cleanly on it.
const oversizedBodyBytes = 2 << 20

// Fault is one scripted misbehaviour of the token endpoint. The zero Fault
// is a normal answer.
type Fault struct {
	// Status, when non-zero, answers with this status and a small JSON
	// error body instead of a token.
	Status int
	// Delay waits this long before answering (cut short when the client
	// gives up or the test ends), to exercise client timeouts; GitHub is
	// occasionally this slow.
	Delay time.Duration
	// MissingValue answers 200 {"count":0} without a value.
	MissingValue bool
	// EmptyValue answers 200 with "value":"" (go-githubactions returns
	// "" and a nil error for it).
	EmptyValue bool
	// OversizedBody answers 200 with a valid JSON body of
	// oversizedBodyBytes whose value comes after the padding.
	OversizedBody bool
}

// TokenRequest records one request to the token endpoint.
type TokenRequest struct {
	// Audience is the audience query parameter ("" when absent).
	Audience string
	// HasAudience reports whether the parameter was present at all.
	HasAudience bool
	// Authorized reports whether the Bearer request token matched.
	Authorized bool
	// Status is the HTTP status answered.
	Status int
}

// TokenEndpoint is an httptest server on 127.0.0.1 that behaves like the
// Actions ID-token endpoint: GET <path>?api-version=2.0&audience=…, with
// Authorization: Bearer <request token>, answers
// {"count":N,"value":"<jwt>"} as application/json. Other paths answer 404,
// so the same server stands in for ACTIONS_RUNTIME_URL. It is safe for
// concurrent use.
type TokenEndpoint struct {
	server       *httptest.Server
	requestToken string
	mint         func(string) string
	defaultAud   string
	done         chan struct{}

	mu       sync.Mutex
	queue    []Fault
	standing Fault
	requests []TokenRequest
	issued   []string
}

// newTokenEndpoint starts an endpoint, closed when the test ends. mint
// returns the JWT for an audience (nil mints an unsigned fake); a request
// without an audience gets defaultAud, as GitHub gives
// https://github.com/<owner>.
func newTokenEndpoint(t testing.TB, mint func(audience string) string, defaultAud string) *TokenEndpoint {
	t.Helper()
	e := &TokenEndpoint{
		requestToken: "FAKE-ACTIONS-RUNTIME-TOKEN-" + randomHex(t, 16),
		mint:         mint,
		defaultAud:   defaultAud,
		done:         make(chan struct{}),
	}
	if e.mint == nil {
		e.mint = fakeJWT
	}
	e.server = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(func() {
		close(e.done) // release handlers sleeping in a Delay
		e.server.Close()
	})
	return e
}

// URL is ACTIONS_ID_TOKEN_REQUEST_URL, which already carries
// ?api-version=2.0 so clients append "&audience=…".
func (e *TokenEndpoint) URL() string { return e.server.URL + tokenPath + "?api-version=2.0" }

// BaseURL is the server's root URL.
func (e *TokenEndpoint) BaseURL() string { return e.server.URL }

// RequestToken is ACTIONS_ID_TOKEN_REQUEST_TOKEN (which the real runner
// also passes as ACTIONS_RUNTIME_TOKEN).
func (e *TokenEndpoint) RequestToken() string { return e.requestToken }

// Enqueue scripts the next requests: each fault is used by one request, in
// order, before the standing behaviour applies again.
func (e *TokenEndpoint) Enqueue(faults ...Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.queue = append(e.queue, faults...)
}

// FailNext makes the next requests answer these statuses, one each.
func (e *TokenEndpoint) FailNext(statuses ...int) {
	for _, s := range statuses {
		e.Enqueue(Fault{Status: s})
	}
}

// SetFault sets the behaviour for every request the queue does not
// script; the zero Fault restores normal answers.
func (e *TokenEndpoint) SetFault(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.standing = f
}

// Requests returns every request to the token path so far.
func (e *TokenEndpoint) Requests() []TokenRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]TokenRequest(nil), e.requests...)
}

// Count is the number of requests to the token path.
func (e *TokenEndpoint) Count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.requests)
}

// Audiences lists the audience parameter of every request, in order.
func (e *TokenEndpoint) Audiences() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, 0, len(e.requests))
	for _, r := range e.requests {
		out = append(out, r.Audience)
	}
	return out
}

// Issued lists every token handed out, so tests can assert that none of
// them leaked.
func (e *TokenEndpoint) Issued() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.issued...)
}

func (e *TokenEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != tokenPath {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "not found"})
		return
	}
	q := r.URL.Query()
	audiences, hasAudience := q["audience"]
	rec := TokenRequest{HasAudience: hasAudience}
	if hasAudience {
		rec.Audience = audiences[0]
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	rec.Authorized = strings.EqualFold(scheme, "Bearer") && token == e.requestToken

	e.mu.Lock()
	fault := e.standing
	if len(e.queue) > 0 {
		fault, e.queue = e.queue[0], e.queue[1:]
	}
	e.mu.Unlock()

	status, body := e.answer(r, q, rec, fault)
	rec.Status = status
	e.mu.Lock()
	e.requests = append(e.requests, rec)
	if v, ok := body["value"].(string); ok && status == http.StatusOK && v != "" {
		e.issued = append(e.issued, v)
	}
	e.mu.Unlock()

	if fault.Delay > 0 {
		select {
		case <-time.After(fault.Delay):
		case <-r.Context().Done():
			return
		case <-e.done:
			return
		}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodGet)
	}
	if fault.OversizedBody && status == http.StatusOK {
		// Padding first, value last: a reader that truncates sees no value.
		body = map[string]any{"count": body["count"], "padding": strings.Repeat("A", oversizedBodyBytes), "value": body["value"]}
	}
	writeJSON(w, status, body)
}

// answer decides the status and body; checks come in the order GitHub's
// front end applies them: method, authentication, then the query.
func (e *TokenEndpoint) answer(r *http.Request, q map[string][]string, rec TokenRequest, fault Fault) (int, map[string]any) {
	switch {
	case r.Method != http.MethodGet:
		return http.StatusMethodNotAllowed, map[string]any{"message": "method not allowed"}
	case !rec.Authorized:
		return http.StatusUnauthorized, map[string]any{"message": "Bad credentials"}
	case len(q["api-version"]) != 1 || q["api-version"][0] != "2.0":
		return http.StatusBadRequest, map[string]any{"message": "api-version=2.0 is required"}
	case fault.Status != 0:
		return fault.Status, map[string]any{"message": http.StatusText(fault.Status)}
	case fault.MissingValue:
		return http.StatusOK, map[string]any{"count": 0}
	case fault.EmptyValue:
		return http.StatusOK, map[string]any{"count": 0, "value": ""}
	}
	aud := rec.Audience
	if aud == "" {
		aud = e.defaultAud
	}
	v := e.mint(aud)
	// GitHub's count tracks the length of value; clients ignore it.
	return http.StatusOK, map[string]any{"count": len(v), "value": v}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// fakeJWT is an unsigned, JWT-shaped token naming its audience, for tests
// that never verify.
func fakeJWT(audience string) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss": "https://token.actions.githubusercontent.com",
		"aud": audience,
		"sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
	})
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + ".FAKE-SIGNATURE"
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("reading random bytes: %v", err)
	}
	return hex.EncodeToString(b)
}
