package brokerfake_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/providers/broker/brokerfake"
)

const audience = "https://broker.example"

type env struct {
	issuer *exchangetest.Issuer
	fake   *brokerfake.Server
	srv    *httptest.Server
	now    time.Time
}

func newEnv(t *testing.T, mutate func(*brokerfake.Config)) *env {
	t.Helper()
	is := exchangetest.StartIssuer(t, "")
	now := time.Now().UTC().Truncate(time.Second)
	cfg := brokerfake.Config{
		Issuer:   is.URL,
		KeySet:   is.KeySet(t.Context()),
		Audience: audience,
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
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return &env{issuer: is, fake: fake, srv: srv, now: now}
}

func (e *env) token(overrides map[string]any) string {
	return e.issuer.Mint(audience, e.now, overrides)
}

func (e *env) form(token string) url.Values {
	return url.Values{
		"grant_type":           {brokerfake.GrantTokenExchange},
		"subject_token":        {token},
		"subject_token_type":   {brokerfake.TokenTypeJWT},
		"requested_token_type": {brokerfake.TokenTypeAccessToken},
	}
}

type result struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// post sends body with contentType to path and decodes the JSON answer.
func (e *env) post(t *testing.T, path, contentType, body string, header http.Header) result {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	return do(t, e.srv.Client(), req)
}

func (e *env) get(t *testing.T, path string) result {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.srv.URL+path, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, e.srv.Client(), req)
}

func do(t *testing.T, c *http.Client, req *http.Request) result {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := result{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

func TestExchangeFormats(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *brokerfake.Config) { c.Lifetime = 30 * time.Minute })
	tok := e.token(nil)
	tests := []struct {
		name        string
		contentType string
		body        string
		wantFormat  brokerfake.Format
	}{
		{"form", "application/x-www-form-urlencoded", e.form(tok).Encode() + "&audience=a&audience=b&scope=s1+s2", brokerfake.FormatForm},
		{"json", "application/json", `{"grant_type":"` + brokerfake.GrantTokenExchange + `","subject_token":"` + tok +
			`","subject_token_type":"` + brokerfake.TokenTypeJWT + `","audience":["a","b"],"scope":"s1 s2","expiration":7200}`, brokerfake.FormatJSON},
		{"json-camel", "application/json; charset=utf-8", `{"grantType":"` + brokerfake.GrantTokenExchange + `","subjectToken":"` + tok +
			`","subjectTokenType":"` + brokerfake.TokenTypeJWT + `","requestedTokenType":"` + brokerfake.TokenTypeAccessToken + `","audience":["a","b"],"scope":"s1 s2"}`, brokerfake.FormatJSONCamel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := e.post(t, brokerfake.TokenPath, tt.contentType, tt.body, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("status %d: %s", r.Status, r.Raw)
			}
			want := map[string]any{
				"access_token":      r.Body["access_token"],
				"issued_token_type": brokerfake.TokenTypeAccessToken,
				"token_type":        "Bearer",
				"expires_in":        float64(1800),
				"scope":             "s1 s2",
			}
			if diff := cmp.Diff(want, r.Body); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if tok, _ := r.Body["access_token"].(string); !strings.HasPrefix(tok, "bft_") || len(tok) < 40 {
				t.Errorf("access_token %q is not a random opaque token", tok)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" || r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v", r.Header)
			}
			var last brokerfake.Request
			for _, rec := range e.fake.Requests() {
				if rec.Issued == r.Body["access_token"] {
					last = rec
				}
			}
			if last.Format != tt.wantFormat || last.Params.Get("subject_token") != tok || len(last.Params["audience"]) != 2 {
				t.Errorf("recorded %+v", last)
			}
			if last.Issued != r.Body["access_token"] || last.Status != 200 || last.Code != "" {
				t.Errorf("recorded answer %q %d %q", last.Issued, last.Status, last.Code)
			}
		})
	}
}

func TestIssuedTokensAreUnique(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	body := `{"grant_type":"` + brokerfake.GrantTokenExchange + `","subject_token":"` + e.token(nil) +
		`","subject_token_type":"` + brokerfake.TokenTypeJWT + `","expiration":7200}`
	for range 3 {
		if r := e.post(t, brokerfake.TokenPath, "application/json", body, nil); r.Status != 200 {
			t.Fatalf("status %d: %s", r.Status, r.Raw)
		}
	}
	issued := e.fake.Issued()
	if len(issued) != 3 || issued[0] == issued[1] || issued[1] == issued[2] || issued[0] == issued[2] {
		t.Errorf("issued %v, want three different tokens", issued)
	}
	if got := e.fake.Requests()[0].Params.Get("expiration"); got != "7200" {
		t.Errorf("a JSON number is recorded as %q, want its text", got)
	}
}

func TestRejections(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *brokerfake.Config) {
		c.Audiences = []string{"deploy"}
		c.Resources = []string{"https://api.example.com"}
		c.Scopes = []string{"read"}
		c.RequiredParams = map[string]string{"connector_id": "github"}
		c.Formats = []brokerfake.Format{brokerfake.FormatForm, brokerfake.FormatJSON}
	})
	good := func(edit func(url.Values)) string {
		f := e.form(e.token(nil))
		f.Set("connector_id", "github")
		if edit != nil {
			edit(f)
		}
		return f.Encode()
	}
	const formCT = "application/x-www-form-urlencoded"
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantCode    string
		wantDesc    string // a substring
	}{
		{"accepted", formCT, good(nil), 200, "", ""},
		{"wrong grant", formCT, good(func(f url.Values) { f.Set("grant_type", "client_credentials") }), 400, "unsupported_grant_type", "client_credentials"},
		{"no subject token", formCT, good(func(f url.Values) { f.Del("subject_token") }), 400, "invalid_request", "subject_token"},
		{"subject type", formCT, good(func(f url.Values) { f.Set("subject_token_type", brokerfake.TokenTypeAccessToken) }), 400, "invalid_request", "subject_token_type"},
		{"requested type", formCT, good(func(f url.Values) { f.Set("requested_token_type", brokerfake.TokenTypeIDToken) }), 400, "invalid_request", "requested_token_type"},
		{"missing connector_id", formCT, good(func(f url.Values) { f.Del("connector_id") }), 400, "invalid_request", "connector_id"},
		{"unknown audience", formCT, good(func(f url.Values) { f["audience"] = []string{"deploy", "other"} }), 400, "invalid_target", "other"},
		{"unknown resource", formCT, good(func(f url.Values) { f.Set("resource", "https://evil.example") }), 400, "invalid_target", "evil"},
		{"unknown scope", formCT, good(func(f url.Values) { f.Set("scope", "read write") }), 400, "invalid_scope", "write"},
		{"repeated scope", formCT, good(func(f url.Values) { f["scope"] = []string{"read", "read"} }), 400, "invalid_request", "2 times"},
		{"actor token", formCT, good(func(f url.Values) { f.Set("actor_token", "x") }), 400, "invalid_request", "actor_token"},
		{"wrong token audience", formCT, good(func(f url.Values) { f.Set("subject_token", e.issuer.Mint("sts.amazonaws.com", e.now, nil)) }), 400, "invalid_grant", "audience is not " + audience},
		{"expired token", formCT, good(func(f url.Values) { f.Set("subject_token", e.issuer.Mint(audience, e.now.Add(-time.Hour), nil)) }), 400, "invalid_grant", "expired"},
		{"forged token", formCT, good(func(f url.Values) { f.Set("subject_token", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln") }), 400, "invalid_grant", "could not be verified"},
		{"claim mismatch", formCT, good(func(f url.Values) { f.Set("subject_token", e.token(map[string]any{"ref": "refs/tags/v1"})) }), 400, "invalid_grant", "claim ref"},
		{"claim absent", formCT, good(func(f url.Values) { f.Set("subject_token", e.token(map[string]any{"repository_owner_id": nil})) }), 400, "invalid_grant", "repository_owner_id"},
		{"camel refused by Formats", "application/json", `{"grantType":"x"}`, 400, "invalid_request", "json-camel"},
		{"mixed JSON", "application/json", `{"grant_type":"x","subjectToken":"y"}`, 400, "invalid_request", "camelCase"},
		{"list where one value goes", "application/json", `{"grant_type":"x","subject_token":["a","b"]}`, 400, "invalid_request", "only audience"},
		{"broken JSON", "application/json", `{"grant_type":`, 400, "invalid_request", "could not be parsed"},
		{"other content type", "text/plain", "x", 400, "invalid_request", "content type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := e.post(t, brokerfake.TokenPath, tt.contentType, tt.body, nil)
			if r.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.wantStatus, r.Raw)
			}
			if tt.wantCode == "" {
				return
			}
			if r.Body["error"] != tt.wantCode {
				t.Errorf("error %v, want %s", r.Body["error"], tt.wantCode)
			}
			if d, _ := r.Body["error_description"].(string); !strings.Contains(d, tt.wantDesc) {
				t.Errorf("error_description %q, want it to contain %q", d, tt.wantDesc)
			}
		})
	}
}

func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	const id, secret = "ci-client", "fake:secret%/+"
	e := newEnv(t, func(c *brokerfake.Config) { c.ClientID, c.ClientSecret = id, secret })
	basic := func(user, pass string) http.Header {
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}}
	}
	tests := []struct {
		name     string
		extra    url.Values
		header   http.Header
		want     int
		wantAuth brokerfake.ClientAuth
		wantWWW  bool
	}{
		{"basic, form-urlencoded", nil, basic(url.QueryEscape(id), url.QueryEscape(secret)), 200, brokerfake.AuthBasic, false},
		{"post", url.Values{"client_id": {id}, "client_secret": {secret}}, nil, 200, brokerfake.AuthPost, false},
		{"none", nil, nil, 401, brokerfake.AuthNone, true},
		{"public client id only", url.Values{"client_id": {id}}, nil, 401, brokerfake.AuthNone, true},
		{"wrong secret", url.Values{"client_id": {id}, "client_secret": {"nope"}}, nil, 401, brokerfake.AuthPost, true},
		{"both methods", url.Values{"client_secret": {secret}}, basic(id, url.QueryEscape(secret)), 401, brokerfake.AuthNone, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := e.form(e.token(nil))
			for k, v := range tt.extra {
				f[k] = v
			}
			r := e.post(t, brokerfake.TokenPath, "application/x-www-form-urlencoded", f.Encode(), tt.header)
			if r.Status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.want, r.Raw)
			}
			if tt.want == 401 && r.Body["error"] != "invalid_client" {
				t.Errorf("error %v, want invalid_client", r.Body["error"])
			}
			if got := r.Header.Get("WWW-Authenticate") != ""; got != tt.wantWWW {
				t.Errorf("WWW-Authenticate present %v, want %v", got, tt.wantWWW)
			}
			if strings.Contains(r.Raw, secret) {
				t.Errorf("answer holds the secret: %s", r.Raw)
			}
		})
	}
	for _, rec := range e.fake.Requests() {
		if rec.Code == "" && rec.ClientID != id {
			t.Errorf("accepted request recorded client %q", rec.ClientID)
		}
	}
}

func TestSingleUseJTI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *brokerfake.Config) { c.SingleUseJTI = true })
	tok := e.token(nil)
	if r := e.post(t, brokerfake.TokenPath, "application/x-www-form-urlencoded", e.form(tok).Encode(), nil); r.Status != 200 {
		t.Fatalf("first use: %d %s", r.Status, r.Raw)
	}
	r := e.post(t, brokerfake.TokenPath, "application/x-www-form-urlencoded", e.form(tok).Encode(), nil)
	if r.Status != 400 || r.Body["error"] != "invalid_grant" || !strings.Contains(r.Raw, "replay") {
		t.Errorf("replay: %d %s", r.Status, r.Raw)
	}
	other := e.token(map[string]any{"jti": "another-jti"})
	if r := e.post(t, brokerfake.TokenPath, "application/x-www-form-urlencoded", e.form(other).Encode(), nil); r.Status != 200 {
		t.Errorf("fresh jti: %d %s", r.Status, r.Raw)
	}
	noJTI := e.token(map[string]any{"jti": nil})
	if r := e.post(t, brokerfake.TokenPath, "application/x-www-form-urlencoded", e.form(noJTI).Encode(), nil); r.Status != 400 || !strings.Contains(r.Raw, "no jti") {
		t.Errorf("no jti: %d %s", r.Status, r.Raw)
	}
}

func TestAnswerOptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *brokerfake.Config) {
		c.IssuedTokenType = brokerfake.TokenTypeJWT
		c.TokenType = "N_A"
		c.Lifetime = -1
	})
	r := e.post(t, brokerfake.TokenPath, "application/x-www-form-urlencoded", e.form(e.token(nil)).Encode(), nil)
	want := map[string]any{"access_token": r.Body["access_token"], "issued_token_type": brokerfake.TokenTypeJWT, "token_type": "N_A"}
	if diff := cmp.Diff(want, r.Body); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.fake.FailNext(
		brokerfake.Failure{Code: brokerfake.CodeTemporarilyUnavailable, Description: "later", RetryAfter: 3},
		brokerfake.Failure{Status: 502, RawBody: "<html>bad gateway</html>"},
		brokerfake.Failure{Status: 401, Code: brokerfake.CodeAccessDenied, URI: "https://broker.example/e"},
		brokerfake.Failure{Status: 200, RawBody: "{garbage", ContentType: "application/json"},
	)
	body := e.form(e.token(nil)).Encode()
	const ct = "application/x-www-form-urlencoded"
	r := e.post(t, brokerfake.TokenPath, ct, body, nil)
	if r.Status != 503 || r.Header.Get("Retry-After") != "3" || r.Body["error"] != "temporarily_unavailable" || r.Body["error_description"] != "later" {
		t.Errorf("first: %d %v %s", r.Status, r.Header, r.Raw)
	}
	r = e.post(t, brokerfake.TokenPath, ct, body, nil)
	if r.Status != 502 || r.Raw != "<html>bad gateway</html>" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Errorf("second: %d %v %s", r.Status, r.Header, r.Raw)
	}
	r = e.post(t, brokerfake.TokenPath, ct, body, nil)
	if r.Status != 401 || r.Body["error"] != "access_denied" || r.Body["error_uri"] != "https://broker.example/e" {
		t.Errorf("third: %d %s", r.Status, r.Raw)
	}
	r = e.post(t, brokerfake.TokenPath, ct, body, nil)
	if r.Status != 200 || r.Raw != "{garbage" {
		t.Errorf("fourth: %d %s", r.Status, r.Raw)
	}
	if r = e.post(t, brokerfake.TokenPath, ct, body, nil); r.Status != 200 || r.Body["access_token"] == nil {
		t.Errorf("fifth, unscripted: %d %s", r.Status, r.Raw)
	}
	var codes []string
	for _, rec := range e.fake.Requests() {
		codes = append(codes, rec.Code)
	}
	if diff := cmp.Diff([]string{"temporarily_unavailable", "", "access_denied", "", ""}, codes); diff != "" {
		t.Errorf("recorded codes (-want +got):\n%s", diff)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.fake.SetLatency(150 * time.Millisecond)
	start := time.Now()
	e.post(t, brokerfake.TokenPath, "application/x-www-form-urlencoded", e.form(e.token(nil)).Encode(), nil)
	if d := time.Since(start); d < 150*time.Millisecond || d > time.Second {
		t.Errorf("answer took %v, want about 150ms", d)
	}
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		metadata   brokerfake.Metadata
		issuerPath string
		override   string
		paths      map[string]int
	}{
		{"both at the root", brokerfake.MetadataBoth, "", "", map[string]int{
			"/.well-known/oauth-authorization-server": 200, "/.well-known/openid-configuration": 200}},
		{"issuer path", brokerfake.MetadataBoth, "/realms/ci", "", map[string]int{
			"/.well-known/oauth-authorization-server/realms/ci": 200, "/realms/ci/.well-known/openid-configuration": 200,
			"/.well-known/oauth-authorization-server": 404, "/.well-known/openid-configuration": 404}},
		{"oauth only", brokerfake.MetadataOAuth, "", "", map[string]int{
			"/.well-known/oauth-authorization-server": 200, "/.well-known/openid-configuration": 404}},
		{"oidc only", brokerfake.MetadataOIDC, "", "", map[string]int{
			"/.well-known/oauth-authorization-server": 404, "/.well-known/openid-configuration": 200}},
		{"none", brokerfake.MetadataNone, "", "", map[string]int{
			"/.well-known/oauth-authorization-server": 404, "/.well-known/openid-configuration": 404}},
		{"overridden issuer", brokerfake.MetadataBoth, "", "https://evil.example", map[string]int{"/.well-known/openid-configuration": 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *brokerfake.Config) {
				c.Metadata, c.IssuerPath, c.MetadataIssuer = tt.metadata, tt.issuerPath, tt.override
				c.ClientID, c.ClientSecret = "c", "fake-secret"
			})
			for path, status := range tt.paths {
				r := e.get(t, path)
				if r.Status != status {
					t.Errorf("GET %s: %d, want %d", path, r.Status, status)
					continue
				}
				if status != 200 {
					continue
				}
				wantIssuer := e.srv.URL + tt.issuerPath
				if tt.override != "" {
					wantIssuer = tt.override
				}
				want := map[string]any{
					"issuer":                                wantIssuer,
					"token_endpoint":                        e.srv.URL + tt.issuerPath + brokerfake.TokenPath,
					"grant_types_supported":                 []any{brokerfake.GrantTokenExchange},
					"token_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post"},
				}
				if diff := cmp.Diff(want, r.Body); diff != "" {
					t.Errorf("GET %s (-want +got):\n%s", path, diff)
				}
			}
			if n := len(e.fake.Requests()); n != 0 {
				t.Errorf("metadata requests were recorded as token requests: %d", n)
			}
		})
	}
}

func TestLoopbackOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, brokerfake.TokenPath, strings.NewReader("x"))
	req.RemoteAddr = "192.0.2.10:40000"
	w := httptest.NewRecorder()
	e.fake.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Errorf("status %d for a remote client, want 403", w.Code)
	}
}

func TestMethodAndPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if r := e.get(t, brokerfake.TokenPath); r.Status != 405 || r.Body["error"] != "invalid_request" {
		t.Errorf("GET token: %d %s", r.Status, r.Raw)
	}
	if r := e.post(t, "/other", "application/x-www-form-urlencoded", "", nil); r.Status != 404 {
		t.Errorf("POST /other: %d", r.Status)
	}
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	is := exchangetest.StartIssuer(t, "")
	ks := is.KeySet(t.Context())
	for name, cfg := range map[string]brokerfake.Config{
		"no issuer":          {KeySet: ks, Audience: audience},
		"no key set":         {Issuer: is.URL, Audience: audience},
		"no audience":        {Issuer: is.URL, KeySet: ks},
		"secret without id":  {Issuer: is.URL, KeySet: ks, Audience: audience, ClientSecret: "s"},
		"issuer path no /":   {Issuer: is.URL, KeySet: ks, Audience: audience, IssuerPath: "realms"},
		"issuer path ends /": {Issuer: is.URL, KeySet: ks, Audience: audience, IssuerPath: "/realms/"},
	} {
		if _, err := brokerfake.New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
