package broker

import (
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/providers/broker/brokerfake"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	testAudience     = "https://broker.example"
	testClientID     = "ci-client"
	testClientSecret = "fake-client-secret-0123456789"
)

// testEnv is a real OIDC issuer on 127.0.0.1 and the wire-level fake
// broker, which verifies the tokens it is sent.
type testEnv struct {
	issuer *exchangetest.Issuer
	fake   *brokerfake.Server
	srv    *httptest.Server
	now    time.Time
	logs   *exchangetest.SyncBuffer
}

func newTestEnv(t *testing.T, mutate func(*brokerfake.Config)) *testEnv {
	t.Helper()
	return newWrappedTestEnv(t, mutate, nil)
}

// newWrappedTestEnv serves the fake through wrap, when not nil.
func newWrappedTestEnv(t *testing.T, mutate func(*brokerfake.Config), wrap func(http.Handler) http.Handler) *testEnv {
	t.Helper()
	is := exchangetest.StartIssuer(t, "")
	now := time.Now().UTC().Truncate(time.Second)
	cfg := brokerfake.Config{
		Issuer:   is.URL,
		KeySet:   is.KeySet(t.Context()),
		Audience: testAudience,
		Claims:   map[string]string{"repository_owner_id": "123456", "ref": "refs/heads/*"},
		Now:      func() time.Time { return now },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	fake, err := brokerfake.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = fake
	if wrap != nil {
		h = wrap(fake)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testEnv{issuer: is, fake: fake, srv: srv, now: now, logs: &exchangetest.SyncBuffer{}}
}

// config is a valid configuration pointing at the fake's token endpoint.
func (e *testEnv) config() Config {
	return Config{
		URL:        e.srv.URL + brokerfake.TokenPath,
		Audiences:  []string{"deploy-api"},
		HTTPClient: httpclient.New(httpclient.Options{}),
		Logger:     newLogger(e.logs),
	}
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// provider builds a provider with millisecond retry waits and the env's
// clock.
func (e *testEnv) provider(t *testing.T, cfg Config) *Provider {
	t.Helper()
	p := newProvider(t, cfg)
	p.now = func() time.Time { return e.now }
	return p
}

func newProvider(t *testing.T, cfg Config) *Provider {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	fastRetries(p)
	return p
}

// fastRetries keeps the backoff of the retry tests in milliseconds.
func fastRetries(p *Provider) {
	p.retrier.Policy.InitialDelay = time.Millisecond
	p.retrier.Policy.MaxDelay = 2 * time.Millisecond
}

// identity mints a token for the broker's audience and returns the
// identity carrying it.
func (e *testEnv) identity() (*exchange.Identity, string) {
	raw := e.issuer.Mint(testAudience, e.now, nil)
	claims := asJSON(exchangetest.GitHubClaims(e.issuer.URL, testAudience, e.now, nil))
	return exchangetest.Identity(claims, raw), raw
}

// asJSON round-trips claims through JSON, so numeric dates have the types
// a parsed token's payload has.
func asJSON(claims map[string]any) map[string]any {
	b, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func (e *testEnv) request() *exchange.Request {
	return &exchange.Request{Issuer: e.issuer.URL, Audience: testAudience}
}

// fakeIdentity is an identity with an obviously fake token, for brokers
// that do not verify it.
func fakeIdentity(token string) *exchange.Identity {
	now := time.Now()
	claims := exchangetest.GitHubClaims("https://token.actions.githubusercontent.com", testAudience, now, nil)
	return exchangetest.Identity(claims, token)
}

// recorded is one request a raw broker received.
type recorded struct {
	Method string
	Path   string
	Header http.Header
	Body   string
}

// rawBroker is an httptest server answering with handle, recording every
// request.
type rawBroker struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newRawBroker(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *rawBroker {
	t.Helper()
	b := &rawBroker{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.reqs = append(b.reqs, recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: string(body)})
		n := len(b.reqs)
		b.mu.Unlock()
		handle(w, r, n)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *rawBroker) requests() []recorded {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]recorded(nil), b.reqs...)
}

// reply writes a JSON answer.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

const okAnswer = `{"access_token":"fake-issued-token","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3600}`

// view renders variables as NAME=value, with sensitive values as
// NAME=*secret*, so expectations stay readable.
func view(vars []exchange.Variable) []string {
	out := make([]string, 0, len(vars))
	for _, v := range vars {
		if v.Sensitive {
			out = append(out, v.Name+"=*"+v.Value.Reveal()+"*")
			continue
		}
		out = append(out, v.Name+"="+v.Value.Reveal())
	}
	return out
}

// assertNoLeak fails when any secret appears in any of the texts.
func assertNoLeak(t *testing.T, secrets []string, texts map[string]string) {
	t.Helper()
	for name, text := range texts {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%s contains a secret (%.12s…):\n%s", name, s, text)
			}
		}
	}
}
