package gcpfake_test

import (
	"crypto"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp/gcpfake"
)

const (
	provider = "projects/123456789/locations/global/workloadIdentityPools/github/providers/octo-repo"
	pool     = "projects/123456789/locations/global/workloadIdentityPools/github"
	audience = "https://iam.googleapis.com/" + provider
	sa       = "deploy@my-project.iam.gserviceaccount.com"
	user     = "admin@example.com"
)

type env struct {
	issuer *exchangetest.Issuer
	fake   *gcpfake.Server
	srv    *httptest.Server
	now    time.Time
}

func newEnv(t *testing.T, mutate func(*gcpfake.Config)) *env {
	t.Helper()
	is := exchangetest.StartIssuer(t, "")
	now := time.Now().UTC().Truncate(time.Second)
	cfg := gcpfake.Config{
		Issuer:    is.URL,
		KeySet:    is.KeySet(t.Context()),
		Provider:  provider,
		Condition: map[string]string{"repository_owner_id": "123456", "ref": "refs/heads/*"},
		ServiceAccounts: map[string]gcpfake.ServiceAccount{
			sa: {
				WorkloadIdentityUsers: []string{"principalSet://iam.googleapis.com/" + pool + "/attribute.repository_id/456789"},
				DelegatedSubjects:     []string{user},
			},
		},
		Now: func() time.Time { return now },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	fake, err := gcpfake.New(cfg)
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

// post sends body with contentType and decodes the JSON answer.
func (e *env) post(t *testing.T, path, contentType, body string, header http.Header) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("answer %d is not JSON: %s", resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

func stsForm(subject string) url.Values {
	return url.Values{
		"grant_type":           {gcpfake.GrantTokenExchange},
		"audience":             {"//iam.googleapis.com/" + provider},
		"subject_token":        {subject},
		"subject_token_type":   {gcpfake.TokenTypeJWT},
		"requested_token_type": {gcpfake.TokenTypeAccessToken},
		"scope":                {"https://www.googleapis.com/auth/cloud-platform"},
	}
}

func (e *env) federate(t *testing.T) string {
	t.Helper()
	status, body := e.post(t, "/v1/token", "application/x-www-form-urlencoded", stsForm(e.token(nil)).Encode(), nil)
	if status != http.StatusOK {
		t.Fatalf("STS = %d %v", status, body)
	}
	return body["access_token"].(string)
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func TestSTSFormAndJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	subject := e.token(nil)
	status, form := e.post(t, "/v1/token", "application/x-www-form-urlencoded", stsForm(subject).Encode(), nil)
	// google-github-actions/auth sends camelCase JSON.
	jsonBody := `{"audience":"//iam.googleapis.com/` + provider + `","grantType":"` + gcpfake.GrantTokenExchange +
		`","requestedTokenType":"` + gcpfake.TokenTypeAccessToken + `","scope":"https://www.googleapis.com/auth/cloud-platform","subjectTokenType":"` +
		gcpfake.TokenTypeJWT + `","subjectToken":"` + subject + `"}`
	status2, js := e.post(t, "/v1/token", "application/json", jsonBody, nil)
	if status != http.StatusOK || status2 != http.StatusOK {
		t.Fatalf("STS = %d %v / %d %v", status, form, status2, js)
	}
	for _, body := range []map[string]any{form, js} {
		if body["issued_token_type"] != gcpfake.TokenTypeAccessToken || body["token_type"] != "Bearer" || body["expires_in"] != float64(300) {
			t.Errorf("answer = %v", body)
		}
	}
	if form["access_token"] == js["access_token"] {
		t.Errorf("two exchanges gave the same token")
	}
	reqs := e.fake.Requests()
	if diff := cmp.Diff(reqs[0].Form, reqs[1].Form); diff != "" {
		t.Errorf("the JSON request was not recorded under form names (-form +json):\n%s", diff)
	}
	info, ok := e.fake.Token(form["access_token"].(string))
	if !ok || info.Kind != gcpfake.KindFederated || info.Subject != "repo:octo-org/octo-repo:ref:refs/heads/main" || info.Attributes["repository_id"] != "456789" {
		t.Errorf("Token() = %+v, %v", info, ok)
	}
}

func TestSTSErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	other := exchangetest.StartIssuer(t, "")
	tests := []struct {
		name   string
		edit   func(url.Values)
		status int
		code   string
		desc   string
	}{
		{"condition", func(f url.Values) { f.Set("subject_token", e.token(map[string]any{"ref": "refs/tags/v1"})) }, 400, "invalid_grant", gcpfake.MessageConditionRejected},
		{"condition claim absent", func(f url.Values) { f.Set("subject_token", e.token(map[string]any{"repository_owner_id": nil})) }, 400, "invalid_grant", gcpfake.MessageConditionRejected},
		{"expired", func(f url.Values) { f.Set("subject_token", e.issuer.Mint(audience, e.now.Add(-time.Hour), nil)) }, 400, "invalid_grant", "expired"},
		{"wrong audience", func(f url.Values) { f.Set("subject_token", e.issuer.Mint("sts.amazonaws.com", e.now, nil)) }, 400, "invalid_grant", "audience"},
		{"other issuer", func(f url.Values) { f.Set("subject_token", other.Mint(audience, e.now, nil)) }, 400, "invalid_grant", "issuer"},
		{"bad signature", func(f url.Values) { f.Set("subject_token", e.token(nil)[:40]+"x.y.z") }, 400, "invalid_grant", ""},
		{"no such provider", func(f url.Values) {
			f.Set("audience", "//iam.googleapis.com/"+strings.Replace(provider, "octo-repo", "other", 1))
		}, 400, "invalid_target", "disabled or deleted"},
		{"malformed audience", func(f url.Values) { f.Set("audience", audience) }, 400, "invalid_request", "full resource name"},
		{"grant type", func(f url.Values) { f.Set("grant_type", "client_credentials") }, 400, "unsupported_grant_type", ""},
		{"requested type", func(f url.Values) { f.Set("requested_token_type", gcpfake.TokenTypeIDToken) }, 400, "invalid_request", ""},
		{"options not json", func(f url.Values) { f.Set("options", "{") }, 400, "invalid_request", ""},
		{"repeated field", func(f url.Values) { f.Add("scope", "x") }, 400, "invalid_request", "given 2 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := stsForm(e.token(nil))
			tt.edit(form)
			status, body := e.post(t, "/v1/token", "application/x-www-form-urlencoded", form.Encode(), nil)
			if status != tt.status || body["error"] != tt.code {
				t.Fatalf("STS = %d %v, want %d %s", status, body, tt.status, tt.code)
			}
			if desc, _ := body["error_description"].(string); !strings.Contains(desc, tt.desc) {
				t.Errorf("error_description %q lacks %q", desc, tt.desc)
			}
		})
	}
}

func TestDownscope(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	fed := e.federate(t)
	const options = `{"accessBoundary":{"accessBoundaryRules":[{"availableResource":"//storage.googleapis.com/projects/_/buckets/b","availablePermissions":["inRole:roles/storage.objectViewer"]}]}}`
	form := url.Values{
		"grant_type":           {gcpfake.GrantTokenExchange},
		"subject_token_type":   {gcpfake.TokenTypeAccessToken},
		"requested_token_type": {gcpfake.TokenTypeAccessToken},
		"subject_token":        {fed},
		"options":              {options},
	}
	status, body := e.post(t, "/v1/token", "application/x-www-form-urlencoded", form.Encode(), nil)
	if status != http.StatusOK {
		t.Fatalf("downscope = %d %v", status, body)
	}
	info, _ := e.fake.Token(body["access_token"].(string))
	if info.Kind != gcpfake.KindDownscoped || info.AccessBoundary != options {
		t.Errorf("Token() = %+v", info)
	}
	if reqs := e.fake.Requests(); reqs[len(reqs)-1].Endpoint != gcpfake.EndpointDownscope {
		t.Errorf("recorded as %s", reqs[len(reqs)-1].Endpoint)
	}
	for name, edit := range map[string]func(url.Values){
		"unknown token": func(f url.Values) { f.Set("subject_token", "ya29.unknown") },
		"no options":    func(f url.Values) { f.Del("options") },
		"no rules":      func(f url.Values) { f.Set("options", `{"accessBoundary":{"accessBoundaryRules":[]}}`) },
		"not a bucket": func(f url.Values) {
			f.Set("options", strings.Replace(options, "storage.googleapis.com/projects/_/buckets", "compute.googleapis.com/x", 1))
		},
		"bad permission": func(f url.Values) { f.Set("options", strings.Replace(options, "inRole:", "", 1)) },
		"empty condition": func(f url.Values) {
			f.Set("options", strings.Replace(options, `]}]}}`, `],"availabilityCondition":{"expression":" "}}]}}`, 1))
		},
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = append([]string(nil), v...)
		}
		edit(f)
		if status, body := e.post(t, "/v1/token", "application/x-www-form-urlencoded", f.Encode(), nil); status != 400 {
			t.Errorf("%s: downscope = %d %v, want 400", name, status, body)
		}
	}
}

func TestIAMCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *gcpfake.Config) {
		c.ServiceAccounts["other@my-project.iam.gserviceaccount.com"] = gcpfake.ServiceAccount{
			WorkloadIdentityUsers: []string{"principalSet://iam.googleapis.com/" + pool + "/attribute.repository_id/1"},
		}
		c.ServiceAccounts["any@my-project.iam.gserviceaccount.com"] = gcpfake.ServiceAccount{
			TokenCreators: []string{"principalSet://iam.googleapis.com/" + pool + "/*"},
		}
		c.ServiceAccounts["subject@my-project.iam.gserviceaccount.com"] = gcpfake.ServiceAccount{
			WorkloadIdentityUsers: []string{"principal://iam.googleapis.com/" + pool + "/subject/repo:octo-org/octo-repo:ref:refs/heads/main"},
		}
	})
	fed := e.federate(t)
	path := func(email, method string) string { return "/v1/projects/-/serviceAccounts/" + email + ":" + method }
	tests := []struct {
		name   string
		path   string
		body   string
		header http.Header
		status int
		want   map[string]any // for errors, the exact error object
		keys   []string       // for successes, the answer's keys
	}{
		{"access token", path(sa, "generateAccessToken"), `{"scope":["https://www.googleapis.com/auth/cloud-platform"],"lifetime":"3600s"}`, bearer(fed), 200, nil, []string{"accessToken", "expireTime"}},
		{"access token without lifetime", path(sa, "generateAccessToken"), `{"scope":["s"]}`, bearer(fed), 200, nil, []string{"accessToken", "expireTime"}},
		{"id token", path(sa, "generateIdToken"), `{"audience":"aud","includeEmail":true}`, bearer(fed), 200, nil, []string{"token"}},
		{"principalSet /*", path("any@my-project.iam.gserviceaccount.com", "signJwt"), `{"payload":"{\"a\":1}"}`, bearer(fed), 200, nil, []string{"keyId", "signedJwt"}},
		{"principal subject", path("subject@my-project.iam.gserviceaccount.com", "generateIdToken"), `{"audience":"a"}`, bearer(fed), 200, nil, []string{"token"}},

		{"no bearer", path(sa, "generateAccessToken"), `{"scope":["s"]}`, nil, 401,
			map[string]any{"code": float64(401), "message": gcpfake.MessageUnauthenticated, "status": "UNAUTHENTICATED"}, nil},
		{"unknown bearer", path(sa, "generateAccessToken"), `{"scope":["s"]}`, bearer("ya29.nope"), 401, map[string]any{"code": float64(401), "message": gcpfake.MessageUnauthenticated, "status": "UNAUTHENTICATED"}, nil},
		{"other repository", path("other@my-project.iam.gserviceaccount.com", "generateAccessToken"), `{"scope":["s"]}`, bearer(fed), 403,
			map[string]any{"code": float64(403), "message": "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).", "status": "PERMISSION_DENIED"}, nil},
		{"no such account", path("nobody@my-project.iam.gserviceaccount.com", "generateIdToken"), `{"audience":"a"}`, bearer(fed), 403,
			map[string]any{"code": float64(403), "message": "Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist).", "status": "PERMISSION_DENIED"}, nil},
		{"signJwt needs token creator", path(sa, "signJwt"), `{"payload":"{}"}`, bearer(fed), 403,
			map[string]any{"code": float64(403), "message": "Permission 'iam.serviceAccounts.signJwt' denied on resource (or it may not exist).", "status": "PERMISSION_DENIED"}, nil},
		{"no scope", path(sa, "generateAccessToken"), `{}`, bearer(fed), 400, map[string]any{"code": float64(400), "message": "Scope required.", "status": "INVALID_ARGUMENT"}, nil},
		{"lifetime above maximum", path(sa, "generateAccessToken"), `{"scope":["s"],"lifetime":"3601s"}`, bearer(fed), 400,
			map[string]any{"code": float64(400), "message": "The lifetime is invalid or exceeds the maximum allowed lifetime of 3600s.", "status": "INVALID_ARGUMENT"}, nil},
		{"name mismatch", path(sa, "generateAccessToken"), `{"name":"projects/-/serviceAccounts/x@y.z","scope":["s"]}`, bearer(fed), 400,
			map[string]any{"code": float64(400), "message": "The name in the body does not match the URL.", "status": "INVALID_ARGUMENT"}, nil},
		{"unknown delegate", path(sa, "generateAccessToken"), `{"scope":["s"],"delegates":["projects/-/serviceAccounts/x@y.z"]}`, bearer(fed), 403,
			map[string]any{"code": float64(403), "message": "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).", "status": "PERMISSION_DENIED"}, nil},
		{"no audience", path(sa, "generateIdToken"), `{}`, bearer(fed), 400, map[string]any{"code": float64(400), "message": "Audience required.", "status": "INVALID_ARGUMENT"}, nil},
		{"unknown method", "/v1/projects/-/serviceAccounts/" + sa + ":signBlob", `{}`, bearer(fed), 404,
			map[string]any{"code": float64(404), "message": "The requested URL was not found on this server.", "status": "NOT_FOUND"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := e.post(t, tt.path, "application/json", tt.body, tt.header)
			if status != tt.status {
				t.Fatalf("status = %d %v, want %d", status, body, tt.status)
			}
			if tt.want != nil {
				if diff := cmp.Diff(map[string]any{"error": tt.want}, body); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				return
			}
			for _, k := range tt.keys {
				if s, _ := body[k].(string); s == "" {
					t.Errorf("answer lacks %s: %v", k, body)
				}
			}
		})
	}
}

func TestIDTokenIsSigned(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	fed := e.federate(t)
	_, body := e.post(t, "/v1/projects/-/serviceAccounts/"+sa+":generateIdToken", "application/json", `{"audience":"https://run.example","includeEmail":true}`, bearer(fed))
	key, err := e.fake.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	v := oidc.NewVerifier("https://accounts.google.com", &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{key}}, &oidc.Config{ClientID: "https://run.example", Now: func() time.Time { return e.now }})
	idt, err := v.Verify(t.Context(), body["token"].(string))
	if err != nil {
		t.Fatalf("the ID token does not verify: %v", err)
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil || claims.Email != sa || !claims.EmailVerified || !idt.Expiry.Equal(e.now.Add(time.Hour)) {
		t.Errorf("claims = %+v, exp %v, %v", claims, idt.Expiry, err)
	}
}

func TestDomainWideDelegation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *gcpfake.Config) {
		s := c.ServiceAccounts[sa]
		s.TokenCreators = s.WorkloadIdentityUsers
		c.ServiceAccounts[sa] = s
	})
	fed := e.federate(t)
	sign := func(claims map[string]any) string {
		payload, err := json.Marshal(claims)
		if err != nil {
			t.Fatal(err)
		}
		body, err := json.Marshal(map[string]string{"payload": string(payload)})
		if err != nil {
			t.Fatal(err)
		}
		status, resp := e.post(t, "/v1/projects/-/serviceAccounts/"+sa+":signJwt", "application/json", string(body), bearer(fed))
		if status != http.StatusOK {
			t.Fatalf("signJwt = %d %v", status, resp)
		}
		return resp["signedJwt"].(string)
	}
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"iss": sa, "sub": user, "scope": "https://www.googleapis.com/auth/admin.directory.user", "aud": e.srv.URL + "/token",
			"iat": e.now.Unix(), "exp": e.now.Add(time.Hour).Unix()}
		if edit != nil {
			edit(c)
		}
		return c
	}
	tests := []struct {
		name   string
		claims map[string]any
		status int
		code   string
	}{
		{"granted", claims(nil), 200, ""},
		{"google audience", claims(func(c map[string]any) { c["aud"] = "https://oauth2.googleapis.com/token" }), 200, ""},
		{"other user", claims(func(c map[string]any) { c["sub"] = "eve@example.com" }), 401, "unauthorized_client"},
		{"too long", claims(func(c map[string]any) { c["exp"] = e.now.Add(2 * time.Hour).Unix() }), 400, "invalid_grant"},
		{"wrong audience", claims(func(c map[string]any) { c["aud"] = "https://example.com/token" }), 400, "invalid_grant"},
		{"no scope", claims(func(c map[string]any) { delete(c, "scope") }), 400, "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := url.Values{"grant_type": {gcpfake.GrantJWTBearer}, "assertion": {sign(tt.claims)}}
			status, body := e.post(t, "/token", "application/x-www-form-urlencoded", form.Encode(), nil)
			if status != tt.status {
				t.Fatalf("status = %d %v, want %d", status, body, tt.status)
			}
			if tt.code != "" {
				if body["error"] != tt.code {
					t.Errorf("error = %v, want %s", body["error"], tt.code)
				}
				return
			}
			info, _ := e.fake.Token(body["access_token"].(string))
			if info.Kind != gcpfake.KindUser || info.User != user || body["token_type"] != "Bearer" {
				t.Errorf("answer %v, token %+v", body, info)
			}
		})
	}
	// An assertion not signed by the fake's service accounts.
	form := url.Values{"grant_type": {gcpfake.GrantJWTBearer}, "assertion": {e.issuer.Sign(claims(nil))}}
	if status, body := e.post(t, "/token", "application/x-www-form-urlencoded", form.Encode(), nil); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("foreign assertion = %d %v", status, body)
	}
}

func TestFailNextPerEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.fake.FailNext(
		gcpfake.Failure{Endpoint: gcpfake.EndpointGenerateAccessToken, Code: gcpfake.StatusUnavailable, Message: "try later", RetryAfter: 2},
		gcpfake.Failure{Endpoint: gcpfake.EndpointSTS, Code: gcpfake.CodeTemporarilyUnavail},
	)
	status, body := e.post(t, "/v1/token", "application/x-www-form-urlencoded", stsForm(e.token(nil)).Encode(), nil)
	if status != 503 || body["error"] != "temporarily_unavailable" {
		t.Fatalf("scripted STS failure = %d %v", status, body)
	}
	fed := e.federate(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+"/v1/projects/-/serviceAccounts/"+sa+":generateAccessToken", strings.NewReader(`{"scope":["s"]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+fed)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" ||
		strings.TrimSpace(string(b)) != `{"error":{"code":503,"message":"try later","status":"UNAVAILABLE"}}` {
		t.Errorf("scripted IAM failure = %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	var codes []string
	for _, r := range e.fake.Requests() {
		codes = append(codes, string(r.Endpoint)+":"+r.Code)
	}
	want := []string{"sts:temporarily_unavailable", "sts:", "generateAccessToken:UNAVAILABLE"}
	if diff := cmp.Diff(want, codes); diff != "" {
		t.Errorf("recorded (-want +got):\n%s", diff)
	}
}

func TestLatencyIsTotal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.fake.SetLatency(150 * time.Millisecond)
	form := stsForm(e.token(nil)).Encode()
	start := time.Now()
	status, _ := e.post(t, "/v1/token", "application/x-www-form-urlencoded", form, nil)
	took := time.Since(start)
	if status != http.StatusOK || took < 150*time.Millisecond || took > time.Second {
		t.Errorf("answer %d took %v, want about 150ms", status, took)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	is := exchangetest.StartIssuer(t, "")
	keys := is.KeySet(t.Context())
	for name, cfg := range map[string]gcpfake.Config{
		"no issuer":    {KeySet: keys, Provider: provider},
		"no keys":      {Issuer: is.URL, Provider: provider},
		"bad provider": {Issuer: is.URL, KeySet: keys, Provider: "//iam.googleapis.com/" + provider},
	} {
		if _, err := gcpfake.New(cfg); err == nil {
			t.Errorf("%s: New() succeeded", name)
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/v1/token", strings.NewReader(""))
	req.RemoteAddr = "203.0.113.7:4242"
	rec := httptest.NewRecorder()
	e.fake.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || len(e.fake.Requests()) != 0 {
		t.Errorf("non-loopback request answered %d and recorded", rec.Code)
	}
}
