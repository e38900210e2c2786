package broker

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/providers/broker/brokerfake"
)

func TestExchange(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(c *brokerfake.Config) {
		c.ClientID, c.ClientSecret = testClientID, testClientSecret
		c.RequiredParams = map[string]string{"connector_id": "github-actions"}
		c.Lifetime = 90 * time.Minute
	})
	cfg := e.config()
	cfg.Audiences = []string{"deploy-api", "audit-api"}
	cfg.Resources = []string{"https://api.example.com/deploy"}
	cfg.Scope = "  deploy   read "
	cfg.SubjectTokenType = TokenTypeIDToken
	cfg.ClientID, cfg.ClientSecret = testClientID, exchange.NewSecret(testClientSecret)
	cfg.ExtraParams = "connector_id=github-actions"
	cfg.ExportEnv = "DEPLOY_TOKEN"
	p := e.provider(t, cfg)
	id, token := e.identity()

	creds, err := p.Exchange(t.Context(), id, e.request())
	if err != nil {
		t.Fatalf("Exchange() = %v\n%s", err, exchange.Explain(err))
	}

	reqs := e.fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("broker got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	wantParams := url.Values{
		"grant_type":           {GrantTypeTokenExchange},
		"subject_token":        {token},
		"subject_token_type":   {TokenTypeIDToken},
		"requested_token_type": {TokenTypeAccessToken},
		"audience":             {"deploy-api", "audit-api"},
		"resource":             {"https://api.example.com/deploy"},
		"scope":                {"deploy read"},
		"connector_id":         {"github-actions"},
	}
	if diff := cmp.Diff(wantParams, r.Params); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
	got := struct {
		Method, Path, ContentType, Accept string
		Format                            brokerfake.Format
		Auth                              brokerfake.ClientAuth
		ClientID                          string
	}{r.Method, r.Path, r.ContentType, r.Header.Get("Accept"), r.Format, r.ClientAuth, r.ClientID}
	want := got
	want.Method, want.Path, want.ContentType, want.Accept = http.MethodPost, brokerfake.TokenPath, "application/x-www-form-urlencoded", "application/json"
	want.Format, want.Auth, want.ClientID = brokerfake.FormatForm, brokerfake.AuthBasic, testClientID
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}

	issued := r.Issued
	expiry := e.now.Add(90 * time.Minute)
	if diff := cmp.Diff([]string{"DEPLOY_TOKEN=*" + issued + "*"}, view(creds.Env)); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
	wantOutputs := []string{
		"token=*" + issued + "*",
		"token-type=Bearer",
		"issued-token-type=" + TokenTypeAccessToken,
		"expires-at=" + expiry.Format(time.RFC3339),
	}
	if diff := cmp.Diff(wantOutputs, view(creds.Outputs)); diff != "" {
		t.Errorf("Outputs (-want +got):\n%s", diff)
	}
	if !creds.Expiry.Equal(expiry) {
		t.Errorf("Expiry = %v, want %v", creds.Expiry, expiry)
	}
	wantAudit := exchange.ProviderAudit{
		Target:           e.srv.URL + brokerfake.TokenPath,
		CredentialSHA256: exchange.SHA256Hex(issued),
		Scopes:           []string{"deploy", "read"},
		Audiences:        []string{"deploy-api", "audit-api"},
		Resources:        []string{"https://api.example.com/deploy"},
	}
	if diff := cmp.Diff(wantAudit, creds.Audit); diff != "" {
		t.Errorf("Audit (-want +got):\n%s", diff)
	}
	if creds.Provider != "broker" {
		t.Errorf("Provider = %q", creds.Provider)
	}
	// Exactly the token is secret: the masker gets it once.
	if diff := cmp.Diff([]string{issued}, revealAll(creds.Secrets())); diff != "" {
		t.Errorf("Secrets (-want +got):\n%s", diff)
	}
	assertNoLeak(t, []string{token, testClientSecret, issued}, map[string]string{"logs": e.logs.String()})
}

func revealAll(ss []exchange.Secret) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.Reveal())
	}
	return out
}

// TestExactFormBody asserts the bytes of the smallest request, as x/oauth2's
// stsexchange tests do.
func TestExactFormBody(t *testing.T) {
	t.Parallel()
	b := newRawBroker(t, func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, 200, okAnswer) })
	p := newProvider(t, Config{URL: b.srv.URL + "/token"})
	if _, err := p.Exchange(t.Context(), fakeIdentity("fake.subject.token"), &exchange.Request{}); err != nil {
		t.Fatal(err)
	}
	const want = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange" +
		"&subject_token=fake.subject.token" +
		"&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt" +
		"&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token"
	reqs := b.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests", len(reqs))
	}
	if diff := cmp.Diff(want, reqs[0].Body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if got := reqs[0].Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none", got)
	}
}

// TestRequestBodies pins the exact body of each format, with every kind
// of parameter, in golden files holding only fake values.
func TestRequestBodies(t *testing.T) {
	t.Parallel()
	full := func(c *Config) {
		c.Audiences = []string{"deploy-api", "audit-api"}
		c.Resources = []string{"https://api.example.com/a?x=1&y=2"}
		c.Scope = "deploy read:all"
		c.ClientID = "fake-client"
		c.ClientSecret = exchange.NewSecret("fake-secret")
		c.ExtraParams = "connector_id=github-actions\ntag=a\ntag=b&c"
	}
	tests := []struct {
		name        string
		edit        func(*Config)
		contentType string
		basic       string
	}{
		{"form.golden", func(c *Config) { full(c); c.ClientAuth = ClientAuthBasic }, "application/x-www-form-urlencoded", "fake-client:fake-secret"},
		{"form-post.golden", func(c *Config) { full(c); c.ClientAuth = ClientAuthPost }, "application/x-www-form-urlencoded", ""},
		{"json.golden", func(c *Config) { full(c); c.RequestFormat = FormatJSON; c.ClientAuth = ClientAuthPost }, "application/json", ""},
		{"json-single.golden", func(c *Config) {
			c.RequestFormat = FormatJSON
			c.Audiences = []string{"urn:pulumi:org:fake-org"}
			c.SubjectTokenType = TokenTypeIDToken
			c.RequestedTokenType = "urn:pulumi:token-type:access_token:organization"
		}, "application/json", ""},
		{"json-camel.golden", func(c *Config) {
			full(c)
			c.RequestFormat = FormatJSONCamel
			c.ClientAuth = ClientAuthPost
		}, "application/json", ""},
		{"json-camel-public.golden", func(c *Config) {
			c.RequestFormat = FormatJSONCamel
			c.Audiences = []string{"//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/fake/providers/fake"}
			c.Scope = "https://www.googleapis.com/auth/cloud-platform"
			c.ClientID = "fake-public-client"
		}, "application/json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newRawBroker(t, func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, 200, okAnswer) })
			cfg := Config{URL: b.srv.URL + "/token"}
			tt.edit(&cfg)
			p := newProvider(t, cfg)
			if _, err := p.Exchange(t.Context(), fakeIdentity("fake.subject.token"), &exchange.Request{}); err != nil {
				t.Fatalf("Exchange() = %v", err)
			}
			r := b.requests()[0]
			if tt.contentType == "application/json" && !json.Valid([]byte(r.Body)) {
				t.Fatalf("body is not JSON: %s", r.Body)
			}
			exchangetest.Golden(t, tt.name, r.Body+"\n", *update)
			if got := r.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if got := r.Header.Get("Accept"); got != "application/json" {
				t.Errorf("Accept = %q", got)
			}
			gotBasic := ""
			if h := r.Header.Get("Authorization"); h != "" {
				dec, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
				if err != nil {
					t.Fatalf("Authorization %q: %v", h, err)
				}
				gotBasic = string(dec)
			}
			if gotBasic != tt.basic {
				t.Errorf("Basic credentials = %q, want %q", gotBasic, tt.basic)
			}
		})
	}
}

// TestJSONShapes checks the JSON bodies' types: single values are strings,
// repeated ones arrays, and the key order is the documented one.
func TestJSONShapes(t *testing.T) {
	t.Parallel()
	ps := []Param{{"grant_type", "g"}, {"audience", "a1"}, {"scope", "s"}, {"audience", "a2"}, {"x", "1"}}
	body, ct, err := encodeBody(FormatJSON, ps)
	if err != nil || ct != "application/json" {
		t.Fatalf("encodeBody = %v, %q", err, ct)
	}
	const want = `{"grant_type":"g","audience":["a1","a2"],"scope":"s","x":"1"}`
	if diff := cmp.Diff(want, string(body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	var parsed map[string]any
	if err := json.Unmarshal(body, &parsed); err != nil {
		t.Fatal(err)
	}
	wantParsed := map[string]any{"grant_type": "g", "audience": []any{"a1", "a2"}, "scope": "s", "x": "1"}
	if diff := cmp.Diff(wantParsed, parsed); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}
	// HTML-significant characters stay literal; control characters are
	// escaped by JSON itself.
	body, _, _ = encodeBody(FormatJSON, []Param{{"k", "<a&b>\"\\"}})
	if diff := cmp.Diff(`{"k":"<a&b>\"\\"}`, string(body)); diff != "" {
		t.Errorf("escaping (-want +got):\n%s", diff)
	}
}

// TestFormatsAgainstFake sends every format to the fake broker, which
// parses each back into the same parameters.
func TestFormatsAgainstFake(t *testing.T) {
	t.Parallel()
	for _, f := range RequestFormats() {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, func(c *brokerfake.Config) { c.ClientID, c.ClientSecret = testClientID, testClientSecret })
			cfg := e.config()
			cfg.RequestFormat = f
			cfg.Audiences = []string{"a1", "a2"}
			cfg.Resources = []string{"https://r.example"}
			cfg.ClientID, cfg.ClientSecret, cfg.ClientAuth = testClientID, exchange.NewSecret(testClientSecret), ClientAuthPost
			p := e.provider(t, cfg)
			id, token := e.identity()
			if _, err := p.Exchange(t.Context(), id, e.request()); err != nil {
				t.Fatalf("Exchange() = %v\n%s", err, exchange.Explain(err))
			}
			r := e.fake.Requests()[0]
			want := url.Values{
				"grant_type":           {GrantTypeTokenExchange},
				"subject_token":        {token},
				"subject_token_type":   {TokenTypeJWT},
				"requested_token_type": {TokenTypeAccessToken},
				"audience":             {"a1", "a2"},
				"resource":             {"https://r.example"},
				"client_id":            {testClientID},
				"client_secret":        {testClientSecret},
			}
			if diff := cmp.Diff(want, r.Params); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
			if brokerfake.Format(f) != r.Format || r.ClientAuth != brokerfake.AuthPost {
				t.Errorf("fake saw format %q auth %q, want %q post", r.Format, r.ClientAuth, f)
			}
		})
	}
}

func TestClientAuth(t *testing.T) {
	t.Parallel()
	// A secret with characters that form-urlencoding changes.
	const secret = "fake:secret%/+ é"
	tests := []struct {
		name      string
		id        string
		secret    string
		auth      ClientAuth
		wantAuth  brokerfake.ClientAuth
		wantBody  url.Values // client fields of the body
		wantBasic string     // raw Basic credentials before decoding
		wantErr   error
	}{
		{name: "basic by default", id: testClientID, secret: secret, wantAuth: brokerfake.AuthBasic,
			wantBody: url.Values{}, wantBasic: testClientID + ":" + url.QueryEscape(secret)},
		{name: "basic explicit", id: testClientID, secret: secret, auth: ClientAuthBasic, wantAuth: brokerfake.AuthBasic,
			wantBody: url.Values{}, wantBasic: testClientID + ":" + url.QueryEscape(secret)},
		{name: "post", id: testClientID, secret: secret, auth: ClientAuthPost, wantAuth: brokerfake.AuthPost,
			wantBody: url.Values{"client_id": {testClientID}, "client_secret": {secret}}},
		{name: "public client id in the body", id: testClientID, wantAuth: brokerfake.AuthNone,
			wantBody: url.Values{"client_id": {testClientID}}, wantErr: exchange.ErrProviderRejected},
		{name: "none", auth: ClientAuthNone, wantAuth: brokerfake.AuthNone, wantBody: url.Values{}, wantErr: exchange.ErrProviderRejected},
		{name: "wrong secret", id: testClientID, secret: "fake-wrong-secret", wantAuth: brokerfake.AuthBasic,
			wantBody: url.Values{}, wantBasic: testClientID + ":fake-wrong-secret", wantErr: exchange.ErrProviderRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, func(c *brokerfake.Config) { c.ClientID, c.ClientSecret = testClientID, secret })
			cfg := e.config()
			cfg.ClientID, cfg.ClientSecret, cfg.ClientAuth = tt.id, exchange.NewSecret(tt.secret), tt.auth
			p := e.provider(t, cfg)
			id, token := e.identity()
			_, err := p.Exchange(t.Context(), id, e.request())
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Exchange() = %v, want %v", err, tt.wantErr)
			}
			r := e.fake.Requests()[0]
			if r.ClientAuth != tt.wantAuth {
				t.Errorf("client auth = %q, want %q", r.ClientAuth, tt.wantAuth)
			}
			gotBody := url.Values{}
			for _, k := range []string{"client_id", "client_secret"} {
				if r.Params.Has(k) {
					gotBody[k] = r.Params[k]
				}
			}
			if diff := cmp.Diff(tt.wantBody, gotBody); diff != "" {
				t.Errorf("client fields of the body (-want +got):\n%s", diff)
			}
			gotBasic := ""
			if h := r.Header.Get("Authorization"); h != "" {
				dec, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
				gotBasic = string(dec)
			}
			if gotBasic != tt.wantBasic {
				t.Errorf("Basic credentials = %q, want %q", gotBasic, tt.wantBasic)
			}
			if err != nil {
				var pe *exchange.ProviderError
				if !errors.As(err, &pe) || pe.Code != "invalid_client" {
					t.Errorf("error %v, want invalid_client", err)
				}
				if !strings.Contains(exchange.Explain(err), "broker-client-auth") {
					t.Errorf("Explain() lacks the client-auth hint:\n%s", exchange.Explain(err))
				}
				assertNoLeak(t, []string{token, secret, tt.secret, url.QueryEscape(secret)}, map[string]string{
					"error": err.Error(), "explain": exchange.Explain(err), "logs": e.logs.String(),
				})
			}
		})
	}
}

// TestNoLeaks drives every failure path with a broker that echoes the
// subject token and the client secret in its descriptions, and checks
// that neither, nor an issued token, reaches an error, an explanation or
// a log line.
func TestNoLeaks(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name    string
		failure []brokerfake.Failure
	}{
		{"success", nil},
		{"invalid_grant echoing", []brokerfake.Failure{{Code: "invalid_grant", Description: "bad token %TOKEN% for client secret %SECRET%"}}},
		{"invalid_client echoing", []brokerfake.Failure{{Code: "invalid_client", Description: "secret %SECRET% is wrong", URI: "https://broker.example/err?t=%TOKEN%"}}},
		{"access_denied 401", []brokerfake.Failure{{Status: 401, Code: "access_denied", Description: "%TOKEN%"}}},
		{"unavailable", []brokerfake.Failure{{Status: 503, Description: "%TOKEN%"}, {Status: 503}, {Status: 503}}},
		{"html", []brokerfake.Failure{{Status: 400, RawBody: "<html>%TOKEN% %SECRET%</html>"}}},
		{"garbage 200", []brokerfake.Failure{{Status: 200, RawBody: `{"access_token": "%TOKEN%", "token_type": "%SECRET%"}`, ContentType: "application/json"}}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, func(c *brokerfake.Config) { c.ClientID, c.ClientSecret = testClientID, testClientSecret })
			cfg := e.config()
			cfg.ClientID, cfg.ClientSecret = testClientID, exchange.NewSecret(testClientSecret)
			p := e.provider(t, cfg)
			id, token := e.identity()
			r := strings.NewReplacer("%TOKEN%", token, "%SECRET%", testClientSecret)
			for _, f := range sc.failure {
				f.Description = r.Replace(f.Description)
				f.URI = r.Replace(f.URI)
				f.RawBody = r.Replace(f.RawBody)
				e.fake.FailNext(f)
			}
			creds, err := p.Exchange(t.Context(), id, e.request())
			if (err == nil) != (sc.failure == nil) {
				t.Fatalf("Exchange() = %v", err)
			}
			texts := map[string]string{"logs": e.logs.String()}
			if err != nil {
				texts["error"] = err.Error()
				texts["explain"] = exchange.Explain(err)
				texts["fields"] = goString(err)
			} else {
				texts["audit"] = strings.Join(creds.Audit.Scopes, " ") + creds.Audit.Target
			}
			assertNoLeak(t, append([]string{token, testClientSecret}, e.fake.Issued()...), texts)
		})
	}
}

func goString(err error) string {
	var pe *exchange.ProviderError
	if errors.As(err, &pe) {
		return pe.Error() + pe.Message + pe.Hint + pe.Details
	}
	return err.Error()
}

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		failures     []brokerfake.Failure
		attempts     int
		wantRequests int
		wantErr      error
		wantCode     string
	}{
		{name: "503 then success", failures: []brokerfake.Failure{{Status: 503, Code: "temporarily_unavailable"}}, wantRequests: 2},
		{name: "500 without body then success", failures: []brokerfake.Failure{{Status: 500, RawBody: "oops", ContentType: "text/plain"}}, wantRequests: 2},
		{name: "429 then success", failures: []brokerfake.Failure{{Status: 429}}, wantRequests: 2},
		{name: "server_error with 400 is transient by its code", failures: []brokerfake.Failure{{Status: 400, Code: "server_error"}}, wantRequests: 2},
		{name: "exhausted", failures: []brokerfake.Failure{{Status: 502}, {Status: 502}, {Status: 502}}, wantRequests: 3,
			wantErr: exchange.ErrProviderUnavailable},
		{name: "bounded by retry-max-attempts", attempts: 2, failures: []brokerfake.Failure{{Status: 503}, {Status: 503}}, wantRequests: 2,
			wantErr: exchange.ErrProviderUnavailable},
		{name: "invalid_grant is not retried", failures: []brokerfake.Failure{{Code: "invalid_grant"}}, wantRequests: 1,
			wantErr: exchange.ErrProviderDenied, wantCode: "invalid_grant"},
		{name: "401 is not retried", failures: []brokerfake.Failure{{Code: "invalid_client"}}, wantRequests: 1,
			wantErr: exchange.ErrProviderRejected, wantCode: "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			cfg := e.config()
			cfg.RetryMaxAttempts = tt.attempts
			p := e.provider(t, cfg)
			e.fake.FailNext(tt.failures...)
			id, _ := e.identity()
			_, err := p.Exchange(t.Context(), id, e.request())
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Exchange() = %v, want %v", err, tt.wantErr)
			}
			if n := len(e.fake.Requests()); n != tt.wantRequests {
				t.Errorf("broker got %d requests, want %d", n, tt.wantRequests)
			}
			var pe *exchange.ProviderError
			if err != nil {
				if !errors.As(err, &pe) {
					t.Fatalf("error %T is not a ProviderError", err)
				}
				if pe.Temporary || httpclient.IsRetryable(err) {
					t.Errorf("final error is still retryable: %v", err)
				}
				if tt.wantCode != "" && pe.Code != tt.wantCode {
					t.Errorf("Code = %q, want %q", pe.Code, tt.wantCode)
				}
				if errors.Is(err, exchange.ErrProviderUnavailable) && !strings.Contains(pe.Hint, "attempts failed") {
					t.Errorf("Hint = %q, want the attempt count", pe.Hint)
				}
			}
			if tt.wantRequests > 1 && !strings.Contains(e.logs.String(), "retrying") {
				t.Errorf("no retry was logged:\n%s", e.logs.String())
			}
		})
	}
}

func TestDisableRetry(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	cfg := e.config()
	cfg.DisableRetry = true
	p := e.provider(t, cfg)
	e.fake.FailNext(brokerfake.Failure{Status: 503})
	id, _ := e.identity()
	if _, err := p.Exchange(t.Context(), id, e.request()); !errors.Is(err, exchange.ErrProviderUnavailable) {
		t.Fatalf("Exchange() = %v", err)
	}
	if n := len(e.fake.Requests()); n != 1 {
		t.Errorf("broker got %d requests, want 1", n)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	p := e.provider(t, e.config())
	p.retrier.Policy.MaxDelay = 5 * time.Second
	var waits []time.Duration
	p.retrier.Policy.OnRetry = func(_ int, _ error, wait time.Duration) { waits = append(waits, wait) }
	e.fake.FailNext(brokerfake.Failure{Status: 429, RetryAfter: 1})
	id, _ := e.identity()
	start := time.Now()
	if _, err := p.Exchange(t.Context(), id, e.request()); err != nil {
		t.Fatalf("Exchange() = %v", err)
	}
	if diff := cmp.Diff([]time.Duration{time.Second}, waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("the retry came after %v, before the broker's Retry-After of 1s", elapsed)
	}
}

// TestSlowBroker hits the client's overall timeout on every attempt.
func TestSlowBroker(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.fake.SetLatency(2 * time.Second)
	cfg := e.config()
	cfg.HTTPClient = httpclient.New(httpclient.Options{Timeout: 100 * time.Millisecond})
	p := e.provider(t, cfg)
	id, _ := e.identity()
	start := time.Now()
	_, err := p.Exchange(t.Context(), id, e.request())
	if !errors.Is(err, exchange.ErrProviderUnavailable) {
		t.Fatalf("Exchange() = %v, want ErrProviderUnavailable", err)
	}
	var pe *exchange.ProviderError
	if !errors.As(err, &pe) || pe.Code != "NetworkError" || !strings.Contains(pe.Hint, "3 attempts failed") {
		t.Errorf("error = %v (hint %q), want NetworkError after 3 attempts", err, pe.Hint)
	}
	if elapsed := time.Since(start); elapsed > 1500*time.Millisecond {
		t.Errorf("took %v; three 100 ms timeouts should take well under a second", elapsed)
	}
}

func TestIssuedTokenType(t *testing.T) {
	t.Parallel()
	const pulumiOrg = "urn:pulumi:token-type:access_token:organization"
	tests := []struct {
		name       string
		requested  string
		answer     string // the whole JSON answer
		wantErr    error
		wantCode   string
		wantIssued string
	}{
		{"same type", "", `{"access_token":"fake-issued-t1","issued_token_type":"` + TokenTypeAccessToken + `","token_type":"Bearer"}`, nil, "", TokenTypeAccessToken},
		{"jwt answers access_token", "", `{"access_token":"fake-issued-t1","issued_token_type":"` + TokenTypeJWT + `","token_type":"bearer"}`, nil, "", TokenTypeJWT},
		{"id_token answers access_token", "", `{"access_token":"fake-issued-t1","issued_token_type":"` + TokenTypeIDToken + `","token_type":"N_A"}`,
			exchange.ErrProviderRejected, codeIssuedTokenTypeMismatch, ""},
		{"refresh_token answers access_token", "", `{"access_token":"fake-issued-t1","issued_token_type":"` + TokenTypeRefreshToken + `","token_type":"N_A"}`,
			exchange.ErrProviderRejected, codeIssuedTokenTypeMismatch, ""},
		{"access_token answers jwt", TokenTypeJWT, `{"access_token":"fake-issued-t1","issued_token_type":"` + TokenTypeAccessToken + `","token_type":"Bearer"}`,
			exchange.ErrProviderRejected, codeIssuedTokenTypeMismatch, ""},
		{"missing for access_token", "", `{"access_token":"fake-issued-t1","token_type":"Bearer"}`, nil, "", TokenTypeAccessToken},
		{"missing for id_token", TokenTypeIDToken, `{"access_token":"fake-issued-t1","token_type":"N_A"}`, exchange.ErrProviderRejected, codeInvalidResponse, ""},
		{"vendor type echoed", pulumiOrg, `{"access_token":"fake-issued-t1","issued_token_type":"` + pulumiOrg + `","token_type":"Bearer"}`, nil, "", pulumiOrg},
		{"vendor type as access_token", pulumiOrg, `{"access_token":"fake-issued-t1","issued_token_type":"` + TokenTypeAccessToken + `","token_type":"Bearer"}`, nil, "", TokenTypeAccessToken},
		{"vendor type as saml2", pulumiOrg, `{"access_token":"fake-issued-t1","issued_token_type":"` + TokenTypeSAML2 + `","token_type":"N_A"}`,
			exchange.ErrProviderRejected, codeIssuedTokenTypeMismatch, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newRawBroker(t, func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, 200, tt.answer) })
			p := newProvider(t, Config{URL: b.srv.URL, RequestedTokenType: tt.requested})
			creds, err := p.Exchange(t.Context(), fakeIdentity("fake.subject.token"), &exchange.Request{})
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Exchange() = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				var pe *exchange.ProviderError
				if !errors.As(err, &pe) || pe.Code != tt.wantCode {
					t.Errorf("error %v, want code %s", err, tt.wantCode)
				}
				if strings.Contains(err.Error()+exchange.Explain(err), "fake-issued-t1") {
					t.Errorf("error mentions the issued token: %v", err)
				}
				return
			}
			if got := creds.Outputs[2]; got.Name != OutputIssuedTokenType || got.Value.Reveal() != tt.wantIssued {
				t.Errorf("issued-token-type output = %s=%s, want %s", got.Name, got.Value.Reveal(), tt.wantIssued)
			}
		})
	}
}

func TestAnswerShapes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		answer      string
		wantOutputs []string
		wantExpiry  time.Time
		wantScopes  []string
	}{
		{"expires_in as a string (Octopus)", `{"access_token":"fake-issued-t1","issued_token_type":"` + TokenTypeAccessToken + `","token_type":"Bearer","expires_in":"600"}`,
			[]string{"token=*fake-issued-t1*", "token-type=Bearer", "issued-token-type=" + TokenTypeAccessToken, "expires-at=2026-03-01T12:10:00Z"},
			now.Add(10 * time.Minute), []string{"configured"}},
		{"no expires_in, no token_type", `{"access_token":"fake-issued-t1"}`,
			[]string{"token=*fake-issued-t1*", "token-type=", "issued-token-type=" + TokenTypeAccessToken, "expires-at="},
			time.Time{}, []string{"configured"}},
		{"granted scope and refresh token", `{"access_token":"fake-issued-t1","issued_token_type":"` + TokenTypeJWT + `","token_type":"BEARER","expires_in":60,"scope":"a b","refresh_token":"fake-refresh-token"}`,
			[]string{"token=*fake-issued-t1*", "token-type=Bearer", "issued-token-type=" + TokenTypeJWT, "expires-at=2026-03-01T12:01:00Z"},
			now.Add(time.Minute), []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newRawBroker(t, func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, 200, tt.answer) })
			logs := &exchangetest.SyncBuffer{}
			p := newProvider(t, Config{URL: b.srv.URL, Scope: "configured", Logger: newLogger(logs)})
			p.now = func() time.Time { return now }
			creds, err := p.Exchange(t.Context(), fakeIdentity("fake.subject.token"), &exchange.Request{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantOutputs, view(creds.Outputs)); diff != "" {
				t.Errorf("Outputs (-want +got):\n%s", diff)
			}
			if !creds.Expiry.Equal(tt.wantExpiry) {
				t.Errorf("Expiry = %v, want %v", creds.Expiry, tt.wantExpiry)
			}
			if diff := cmp.Diff(tt.wantScopes, creds.Audit.Scopes); diff != "" {
				t.Errorf("Scopes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"fake-issued-t1"}, revealAll(creds.Secrets())); diff != "" {
				t.Errorf("Secrets (-want +got):\n%s", diff)
			}
			assertNoLeak(t, []string{"fake-refresh-token", "fake.subject.token"}, map[string]string{"logs": logs.String()})
		})
	}
}

// TestBadAnswers covers 2xx answers that are not usable token answers and
// bodies over the cap: each is an InvalidResponse (or ResponseTooLarge),
// unavailable, never retried, and never quoted.
func TestBadAnswers(t *testing.T) {
	t.Parallel()
	const marker = "MARKER-fake-body-content"
	huge := `{"access_token":"` + strings.Repeat("a", maxResponseSize) + `"}`
	tests := []struct {
		name        string
		contentType string
		body        string
		client      *http.Client
		wantCode    string
	}{
		{"garbage", "application/json", "{" + marker, nil, codeInvalidResponse},
		{"not an object", "application/json", `["` + marker + `"]`, nil, codeInvalidResponse},
		{"two values", "application/json", `{"access_token":"t"} {"x":"` + marker + `"}`, nil, codeInvalidResponse},
		{"html page", "text/html", "<html>" + marker + "</html>", nil, codeInvalidResponse},
		{"text", "text/plain", `{"access_token":"` + marker + `"}`, nil, codeInvalidResponse},
		{"no content type", "", `{"access_token":"` + marker + `"}`, nil, codeInvalidResponse},
		{"no access_token", "application/json", `{"token":"` + marker + `"}`, nil, codeInvalidResponse},
		{"access_token not a string", "application/json", `{"access_token":12345}`, nil, codeInvalidResponse},
		{"access_token with a newline", "application/json", `{"access_token":"` + marker + `\n::error::x"}`, nil, codeInvalidResponse},
		{"unknown token_type", "application/json", `{"access_token":"` + marker + `","token_type":"DPoP"}`, nil, codeInvalidResponse},
		{"negative expires_in", "application/json", `{"access_token":"` + marker + `","expires_in":-1}`, nil, codeInvalidResponse},
		{"fractional expires_in", "application/json", `{"access_token":"` + marker + `","expires_in":1.5}`, nil, codeInvalidResponse},
		{"oversized, hardened client", "application/json", huge, nil, codeResponseTooLarge},
		{"oversized, plain client", "application/json", huge, &http.Client{Timeout: 5 * time.Second}, codeResponseTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newRawBroker(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header()["Content-Type"] = nil
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				_, _ = w.Write([]byte(tt.body))
			})
			p := newProvider(t, Config{URL: b.srv.URL, HTTPClient: tt.client})
			_, err := p.Exchange(t.Context(), fakeIdentity("fake.subject.token"), &exchange.Request{})
			// Permanent: the same answer comes back on every attempt.
			if !errors.Is(err, exchange.ErrProviderAnswer) {
				t.Fatalf("Exchange() = %v, want ErrProviderAnswer", err)
			}
			var pe *exchange.ProviderError
			if !errors.As(err, &pe) || pe.Code != tt.wantCode {
				t.Errorf("error %v, want code %s", err, tt.wantCode)
			}
			if n := len(b.requests()); n != 1 {
				t.Errorf("broker got %d requests, want 1 (not retried)", n)
			}
			assertNoLeak(t, []string{marker, "aaaaaaaaaaaaaaaa"}, map[string]string{"error": err.Error(), "explain": exchange.Explain(err)})
		})
	}
}

// TestRedirectNotFollowed: a 307 would resend the subject token and the
// client secret to wherever it points.
func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	elsewhere := newRawBroker(t, func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, 200, okAnswer) })
	b := newRawBroker(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, elsewhere.srv.URL+"/token", http.StatusTemporaryRedirect)
	})
	p := newProvider(t, Config{URL: b.srv.URL, ClientID: "fake-client", ClientSecret: exchange.NewSecret("fake-secret")})
	_, err := p.Exchange(t.Context(), fakeIdentity("fake.subject.token"), &exchange.Request{})
	var pe *exchange.ProviderError
	if !errors.Is(err, exchange.ErrProviderRejected) || !errors.As(err, &pe) || pe.Code != codeRedirect {
		t.Fatalf("Exchange() = %v, want a Redirect rejection", err)
	}
	if n := len(elsewhere.requests()); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

func TestSubjectTokenPerAttempt(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	p := e.provider(t, e.config())
	e.fake.FailNext(brokerfake.Failure{Status: 503})
	id, token := e.identity()
	if _, err := p.Exchange(t.Context(), id, e.request()); err != nil {
		t.Fatal(err)
	}
	for i, r := range e.fake.Requests() {
		if r.Params.Get("subject_token") != token {
			t.Errorf("attempt %d did not carry the subject token", i+1)
		}
	}
}

func TestTarget(t *testing.T) {
	t.Parallel()
	var _ exchange.Targeter = (*Provider)(nil)
	p := newProvider(t, Config{URL: "https://broker.example/oauth/token?tenant=a"})
	if got, want := p.Target(), "https://broker.example/oauth/token"; got != want {
		t.Errorf("Target() = %q, want %q", got, want)
	}
	p = newProvider(t, Config{Discovery: "https://idp.example/realms/ci"})
	if got, want := p.Target(), "https://idp.example/realms/ci"; got != want {
		t.Errorf("Target() before discovery = %q, want %q", got, want)
	}
}

func TestExchangeWithoutIdentity(t *testing.T) {
	t.Parallel()
	p := newProvider(t, Config{URL: "https://broker.example/token"})
	if _, err := p.Exchange(t.Context(), nil, nil); err == nil {
		t.Error("Exchange(nil identity) succeeded")
	}
	var zero *Provider
	if _, err := zero.Exchange(t.Context(), fakeIdentity("x"), &exchange.Request{}); err == nil {
		t.Error("nil provider succeeded")
	}
	if _, err := New(Config{}); !errors.Is(err, exchange.ErrInvalidInput) {
		t.Errorf("New(Config{}) = %v, want ErrInvalidInput", err)
	}
}
