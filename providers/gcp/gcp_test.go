package gcp

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp/gcpfake"
)

// stsForm is the exact form the auth library sends for a CI token.
func stsForm(subjectToken string, scopes ...string) url.Values {
	return url.Values{
		"audience":             {testSTSAud},
		"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"requested_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"scope":                {strings.Join(scopes, " ")},
		"subject_token":        {subjectToken},
		"subject_token_type":   {"urn:ietf:params:oauth:token-type:jwt"},
	}
}

func TestExchangeImpersonation(t *testing.T) {
	t.Parallel()
	const delegate = "middle@my-project.iam.gserviceaccount.com"
	e := newTestEnv(t, func(c *gcpfake.Config) {
		c.MaxAccessTokenLifetime = 2 * time.Hour
		c.ServiceAccounts[delegate] = gcpfake.ServiceAccount{}
	})
	cfg := e.config()
	cfg.AccessTokenLifetime = "7200s"
	cfg.AccessTokenScopes = []string{cloudPlatform, "https://www.googleapis.com/auth/userinfo.email"}
	cfg.Delegates = []string{delegate}
	p := e.provider(t, cfg)
	id, token := e.identity(time.Time{}, nil)

	creds, err := p.Exchange(t.Context(), id, e.request())
	if err != nil {
		t.Fatalf("Exchange() = %v\n%s", err, exchange.Explain(err))
	}

	reqs := e.fake.Requests()
	if diff := cmp.Diff([]string{"sts", "generateAccessToken"}, e.endpoints()); diff != "" {
		t.Fatalf("calls (-want +got):\n%s", diff)
	}
	// The federated token only calls IAM Credentials: cloud-platform.
	if diff := cmp.Diff(stsForm(token, cloudPlatform), reqs[0].Form); diff != "" {
		t.Errorf("STS form (-want +got):\n%s", diff)
	}
	if reqs[0].Method != http.MethodPost || reqs[0].ContentType != "application/x-www-form-urlencoded" {
		t.Errorf("STS request = %s %s", reqs[0].Method, reqs[0].ContentType)
	}
	if auth := reqs[0].Header.Get("Authorization"); auth != "" {
		t.Errorf("STS request carries Authorization %q", auth)
	}
	federated := reqs[0].Issued
	wantBody := map[string]any{
		"name":      "projects/-/serviceAccounts/" + testSA,
		"delegates": []any{"projects/-/serviceAccounts/" + delegate},
		"scope":     []any{cloudPlatform, "https://www.googleapis.com/auth/userinfo.email"},
		"lifetime":  "7200s",
	}
	if diff := cmp.Diff(wantBody, reqs[1].JSON); diff != "" {
		t.Errorf("generateAccessToken body (-want +got):\n%s", diff)
	}
	if got := reqs[1].Header.Get("Authorization"); got != "Bearer "+federated {
		t.Errorf("generateAccessToken Authorization = %q, want the federated token", got)
	}

	access := reqs[1].Issued
	expiry := e.now.Add(2 * time.Hour)
	wantOutputs := []string{
		"access-token=*" + access + "*",
		"access-token-expiration=" + expiry.Format(time.RFC3339),
		"project-id=" + testProject,
	}
	if diff := cmp.Diff(wantOutputs, view(creds.Outputs)); diff != "" {
		t.Errorf("Outputs (-want +got):\n%s", diff)
	}
	var wantEnv []string
	for _, name := range ProjectVariables() {
		wantEnv = append(wantEnv, name+"="+testProject)
	}
	if diff := cmp.Diff(wantEnv, view(creds.Env)); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
	if !creds.Expiry.Equal(expiry) {
		t.Errorf("Expiry = %v, want %v", creds.Expiry, expiry)
	}
	wantAudit := exchange.ProviderAudit{
		Target:           testProvider + " as " + testSA,
		CredentialSHA256: exchange.SHA256Hex(access),
		Scopes:           cfg.AccessTokenScopes,
	}
	if diff := cmp.Diff(wantAudit, creds.Audit); diff != "" {
		t.Errorf("Audit (-want +got):\n%s", diff)
	}
	if creds.Provider != "gcp" || len(creds.Files) != 0 {
		t.Errorf("Provider = %q, %d files", creds.Provider, len(creds.Files))
	}
	if info, _ := e.fake.Token(access); info.ServiceAccount != testSA || info.Subject != testSubject {
		t.Errorf("issued token is %+v", info)
	}
	assertNoSecrets(t, "logs", e.logs.String(), token, federated, access)
}

func TestExchangeDirectFederation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	cfg := e.config()
	cfg.ServiceAccount = ""
	cfg.ProjectID = "other-project"
	cfg.AccessTokenScopes = []string{cloudPlatform, "https://www.googleapis.com/auth/sqlservice.login"}
	p := e.provider(t, cfg)
	id, token := e.identity(time.Time{}, nil)

	creds, err := p.Exchange(t.Context(), id, e.request())
	if err != nil {
		t.Fatalf("Exchange() = %v\n%s", err, exchange.Explain(err))
	}
	reqs := e.fake.Requests()
	if diff := cmp.Diff([]string{"sts"}, e.endpoints()); diff != "" {
		t.Fatalf("calls (-want +got):\n%s", diff)
	}
	// Without impersonation the federated token is the product: it
	// carries the configured scopes.
	if diff := cmp.Diff(stsForm(token, cfg.AccessTokenScopes...), reqs[0].Form); diff != "" {
		t.Errorf("STS form (-want +got):\n%s", diff)
	}
	federated := reqs[0].Issued
	// The token lives as long as the CI token: five minutes.
	expiry := e.now.Add(5 * time.Minute)
	// The expiry is checked to the second below; the output is its RFC 3339
	// form (the fake's clock and ours may straddle a second under load).
	wantOutputs := []string{
		"auth-token=*" + federated + "*",
		"access-token-expiration=" + creds.Expiry.UTC().Format(time.RFC3339),
		"project-id=other-project",
	}
	if diff := cmp.Diff(wantOutputs, view(creds.Outputs)); diff != "" {
		t.Errorf("Outputs (-want +got):\n%s", diff)
	}
	if got := creds.Expiry.Sub(expiry).Abs(); got > 2*time.Second {
		t.Errorf("Expiry = %v, want about %v", creds.Expiry, expiry)
	}
	wantAudit := exchange.ProviderAudit{Target: testProvider, CredentialSHA256: exchange.SHA256Hex(federated), Scopes: cfg.AccessTokenScopes}
	if diff := cmp.Diff(wantAudit, creds.Audit); diff != "" {
		t.Errorf("Audit (-want +got):\n%s", diff)
	}
}

func TestExchangeNoProjectWithoutServiceAccount(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	cfg := e.config()
	cfg.ServiceAccount = ""
	p := e.provider(t, cfg)
	id, _ := e.identity(time.Time{}, nil)
	creds, err := p.Exchange(t.Context(), id, e.request())
	if err != nil {
		t.Fatal(err)
	}
	// The provider names its project by number; that is never exported
	// as a project id.
	for _, v := range append(creds.Env, creds.Outputs...) {
		if v.Name == OutputProjectID || strings.Contains(v.Name, "PROJECT") {
			t.Errorf("exported %s without a known project id", v.Name)
		}
	}
}

func TestExchangeIDToken(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	cfg := e.config()
	cfg.TokenFormat = TokenFormatIDToken
	cfg.IDTokenAudience = "https://api.example.com"
	cfg.IDTokenIncludeEmail = true
	p := e.provider(t, cfg)
	id, _ := e.identity(time.Time{}, nil)

	creds, err := p.Exchange(t.Context(), id, e.request())
	if err != nil {
		t.Fatalf("Exchange() = %v\n%s", err, exchange.Explain(err))
	}
	reqs := e.fake.Requests()
	if diff := cmp.Diff([]string{"sts", "generateIdToken"}, e.endpoints()); diff != "" {
		t.Fatalf("calls (-want +got):\n%s", diff)
	}
	wantBody := map[string]any{
		"name":         "projects/-/serviceAccounts/" + testSA,
		"audience":     "https://api.example.com",
		"includeEmail": true,
	}
	if diff := cmp.Diff(wantBody, reqs[1].JSON); diff != "" {
		t.Errorf("generateIdToken body (-want +got):\n%s", diff)
	}
	if got := reqs[1].Header.Get("Authorization"); got != "Bearer "+reqs[0].Issued {
		t.Errorf("generateIdToken Authorization = %q, want the federated token", got)
	}
	idToken := reqs[1].Issued
	wantOutputs := []string{"id-token=*" + idToken + "*", "project-id=" + testProject}
	if diff := cmp.Diff(wantOutputs, view(creds.Outputs)); diff != "" {
		t.Errorf("Outputs (-want +got):\n%s", diff)
	}
	if want := e.now.Add(time.Hour); !creds.Expiry.Equal(want) {
		t.Errorf("Expiry = %v, want the ID token's exp %v", creds.Expiry, want)
	}
	wantAudit := exchange.ProviderAudit{Target: testProvider + " as " + testSA, CredentialSHA256: exchange.SHA256Hex(idToken)}
	if diff := cmp.Diff(wantAudit, creds.Audit); diff != "" {
		t.Errorf("Audit (-want +got):\n%s", diff)
	}
	// Without include-email the field is left out, as protojson omits
	// false.
	e2 := newTestEnv(t, nil)
	cfg2 := e2.config()
	cfg2.TokenFormat = TokenFormatIDToken
	cfg2.IDTokenAudience = "aud"
	id2, _ := e2.identity(time.Time{}, nil)
	if _, err := e2.provider(t, cfg2).Exchange(t.Context(), id2, e2.request()); err != nil {
		t.Fatal(err)
	}
	want2 := map[string]any{"name": "projects/-/serviceAccounts/" + testSA, "audience": "aud"}
	if diff := cmp.Diff(want2, e2.fake.Requests()[1].JSON); diff != "" {
		t.Errorf("generateIdToken body without email (-want +got):\n%s", diff)
	}
}

func TestExchangeDomainWideDelegation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(c *gcpfake.Config) {
		c.ServiceAccounts[testSA] = gcpfake.ServiceAccount{TokenCreators: []string{testRepoSet}, DelegatedSubjects: []string{testUser}}
	})
	cfg := e.config()
	cfg.AccessTokenSubject = testUser
	cfg.AccessTokenScopes = []string{"https://www.googleapis.com/auth/admin.directory.user.readonly"}
	cfg.AccessTokenLifetime = "30m"
	p := e.provider(t, cfg)
	id, _ := e.identity(time.Time{}, nil)

	creds, err := p.Exchange(t.Context(), id, e.request())
	if err != nil {
		t.Fatalf("Exchange() = %v\n%s", err, exchange.Explain(err))
	}
	reqs := e.fake.Requests()
	if diff := cmp.Diff([]string{"sts", "signJwt", "oauth2"}, e.endpoints()); diff != "" {
		t.Fatalf("calls (-want +got):\n%s", diff)
	}
	sign := reqs[1]
	if got := sign.Header.Get("Authorization"); got != "Bearer "+reqs[0].Issued {
		t.Errorf("signJwt Authorization = %q, want the federated token", got)
	}
	if name := sign.JSON["name"]; name != "projects/-/serviceAccounts/"+testSA {
		t.Errorf("signJwt name = %v", name)
	}
	var claims map[string]any
	if err := json.Unmarshal([]byte(sign.JSON["payload"].(string)), &claims); err != nil {
		t.Fatalf("signJwt payload: %v", err)
	}
	wantClaims := map[string]any{
		"iss":   testSA,
		"sub":   testUser,
		"scope": "https://www.googleapis.com/auth/admin.directory.user.readonly",
		"aud":   e.srv.URL + "/token",
		"iat":   float64(e.now.Unix()),
		"exp":   float64(e.now.Add(30 * time.Minute).Unix()),
	}
	if diff := cmp.Diff(wantClaims, claims); diff != "" {
		t.Errorf("signJwt claims (-want +got):\n%s", diff)
	}
	wantForm := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {sign.Issued},
	}
	if diff := cmp.Diff(wantForm, reqs[2].Form); diff != "" {
		t.Errorf("jwt-bearer form (-want +got):\n%s", diff)
	}
	user := reqs[2].Issued
	if diff := cmp.Diff("access-token=*"+user+"*", view(creds.Outputs)[0]); diff != "" {
		t.Errorf("access-token output (-want +got):\n%s", diff)
	}
	if info, _ := e.fake.Token(user); info.User != testUser || info.ServiceAccount != testSA {
		t.Errorf("issued token is %+v, want %s via %s", info, testUser, testSA)
	}
	if want := testProvider + " as " + testSA + " for " + testUser; creds.Audit.Target != want || p.Target() != want {
		t.Errorf("Target = %q / %q, want %q", creds.Audit.Target, p.Target(), want)
	}
}

func TestExchangeDelegationLifetimeIsClamped(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(c *gcpfake.Config) {
		c.ServiceAccounts[testSA] = gcpfake.ServiceAccount{TokenCreators: []string{testRepoSet}, DelegatedSubjects: []string{testUser}}
	})
	cfg := e.config()
	cfg.AccessTokenSubject = testUser
	p := e.provider(t, cfg)
	// Validate refuses more than an hour; the clamp is a second line.
	p.lifetime = 3 * time.Hour
	id, _ := e.identity(time.Time{}, nil)
	if _, err := p.Exchange(t.Context(), id, e.request()); err != nil {
		t.Fatalf("Exchange() = %v\n%s", err, exchange.Explain(err))
	}
	var claims struct{ Iat, Exp int64 }
	if err := json.Unmarshal([]byte(e.fake.Requests()[1].JSON["payload"].(string)), &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Exp-claims.Iat != 3600 {
		t.Errorf("assertion lifetime = %ds, want 3600s", claims.Exp-claims.Iat)
	}
}

func TestExchangeAccessBoundary(t *testing.T) {
	t.Parallel()
	const shorthand = "bucket=build-cache:role=roles/storage.objectViewer:condition=resource.name.startsWith('projects/_/buckets/build-cache/objects/main/') && true\n" +
		"bucket=artifacts:role=roles/storage.objectCreator"
	boundary, err := ParseAccessBoundary(shorthand)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		sa    string
		calls []string
	}{
		{"direct federation", "", []string{"sts", "downscope"}},
		{"impersonation", testSA, []string{"sts", "generateAccessToken", "downscope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			cfg := e.config()
			cfg.ServiceAccount = tt.sa
			cfg.AccessBoundary = shorthand
			p := e.provider(t, cfg)
			id, _ := e.identity(time.Time{}, nil)

			creds, err := p.Exchange(t.Context(), id, e.request())
			if err != nil {
				t.Fatalf("Exchange() = %v\n%s", err, exchange.Explain(err))
			}
			if diff := cmp.Diff(tt.calls, e.endpoints()); diff != "" {
				t.Fatalf("calls (-want +got):\n%s", diff)
			}
			reqs := e.fake.Requests()
			source := reqs[len(reqs)-2].Issued
			down := reqs[len(reqs)-1]
			wantForm := url.Values{
				"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
				"subject_token_type":   {"urn:ietf:params:oauth:token-type:access_token"},
				"requested_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
				"subject_token":        {source},
				"options":              {boundary.JSON()},
			}
			if diff := cmp.Diff(wantForm, down.Form); diff != "" {
				t.Errorf("downscope form (-want +got):\n%s", diff)
			}
			const wantOptions = `{"accessBoundary":{"accessBoundaryRules":[` +
				`{"availableResource":"//storage.googleapis.com/projects/_/buckets/build-cache","availablePermissions":["inRole:roles/storage.objectViewer"],` +
				`"availabilityCondition":{"expression":"resource.name.startsWith('projects/_/buckets/build-cache/objects/main/') \u0026\u0026 true"}},` +
				`{"availableResource":"//storage.googleapis.com/projects/_/buckets/artifacts","availablePermissions":["inRole:roles/storage.objectCreator"]}]}}`
			if got := down.Form.Get("options"); got != wantOptions {
				t.Errorf("options =\n%s\nwant\n%s", got, wantOptions)
			}
			// The fingerprint names exactly what STS received.
			if got, want := creds.Audit.AccessBoundarySHA256, exchange.SHA256Hex(down.Form.Get("options")); got != want {
				t.Errorf("AccessBoundarySHA256 = %s, want %s", got, want)
			}
			out := creds.Outputs[0].Value.Reveal()
			if out != down.Issued || out == source {
				t.Errorf("output token is not the downscoped one")
			}
			if info, _ := e.fake.Token(out); info.Kind != gcpfake.KindDownscoped || info.AccessBoundary != wantOptions {
				t.Errorf("output token is %+v", info)
			}
			if creds.Audit.CredentialSHA256 != exchange.SHA256Hex(out) {
				t.Errorf("CredentialSHA256 does not fingerprint the downscoped token")
			}
		})
	}
}

func TestExchangeTokenFormatNone(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	cfg := e.config()
	cfg.TokenFormat = TokenFormatNone
	p := e.provider(t, cfg)
	id, _ := e.identity(time.Time{}, nil)
	creds, err := p.Exchange(t.Context(), id, e.request())
	if err != nil {
		t.Fatal(err)
	}
	// The whole chain ran, so a missing binding fails here.
	if diff := cmp.Diff([]string{"sts", "generateAccessToken"}, e.endpoints()); diff != "" {
		t.Fatalf("calls (-want +got):\n%s", diff)
	}
	// The defaults: cloud-platform for an hour, no delegates.
	wantBody := map[string]any{
		"name":     "projects/-/serviceAccounts/" + testSA,
		"scope":    []any{cloudPlatform},
		"lifetime": "3600s",
	}
	if diff := cmp.Diff(wantBody, e.fake.Requests()[1].JSON); diff != "" {
		t.Errorf("generateAccessToken body (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"project-id=" + testProject}, view(creds.Outputs)); diff != "" {
		t.Errorf("Outputs (-want +got):\n%s", diff)
	}
	if len(creds.Secrets()) != 0 {
		t.Errorf("token-format none exported %d secrets", len(creds.Secrets()))
	}
}

func TestExchangeCredentialsFile(t *testing.T) {
	t.Parallel()
	src := &exchange.CredentialSource{
		URL:       "https://pipelines.example/idtoken?api-version=2.0&audience=" + url.QueryEscape(testAudience),
		Headers:   map[string]exchange.Secret{"Authorization": exchange.NewSecret("Bearer FAKE-request-token")},
		JSONField: "value",
	}
	tests := []struct {
		name      string
		export    *bool
		wantEnv   []string
		wantPaths []string
	}{
		{"exported", nil, []string{
			"CLOUDSDK_CORE_PROJECT=" + testProject, "CLOUDSDK_PROJECT=" + testProject, "GCLOUD_PROJECT=" + testProject,
			"GCP_PROJECT=" + testProject, "GOOGLE_CLOUD_PROJECT=" + testProject,
		}, []string{"GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE", "GOOGLE_GHA_CREDS_PATH"}},
		{"not exported", new(false), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			cfg := e.config()
			cfg.CreateCredentialsFile = nil
			cfg.ExportEnvironmentVariables = tt.export
			p := e.provider(t, cfg)
			id, _ := e.identity(time.Time{}, nil)
			req := e.request()
			req.CredentialSource = src
			creds, err := p.Exchange(t.Context(), id, req)
			if err != nil {
				t.Fatalf("Exchange() = %v\n%s", err, exchange.Explain(err))
			}
			if len(creds.Files) != 1 {
				t.Fatalf("got %d files, want 1", len(creds.Files))
			}
			f := creds.Files[0]
			want, err := credentialsFileFor(cfg, src)
			if err != nil {
				t.Fatal(err)
			}
			if f.Content.Reveal() != want.Reveal() {
				t.Errorf("file content differs from CredentialsFile:\n%s", f.Content.Reveal())
			}
			if f.Prefix != "gha-creds-" || f.Ext != ".json" {
				t.Errorf("file name parts = %q, %q", f.Prefix, f.Ext)
			}
			if diff := cmp.Diff(tt.wantPaths, f.PathEnv); diff != "" {
				t.Errorf("PathEnv (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"credentials-file-path"}, f.PathOutputs); diff != "" {
				t.Errorf("PathOutputs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantEnv, view(creds.Env)); diff != "" {
				t.Errorf("Env (-want +got):\n%s", diff)
			}
			// The file's content is a secret in every printing path.
			if s := f.Content.String(); s != exchange.Redacted {
				t.Errorf("file content prints as %q", s)
			}
		})
	}
}

func TestExchangeCredentialsFileNeedsSource(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	cfg := e.config()
	cfg.CreateCredentialsFile = new(true)
	p := e.provider(t, cfg)
	id, _ := e.identity(time.Time{}, nil)
	_, err := p.Exchange(t.Context(), id, e.request())
	if !errors.Is(err, exchange.ErrInvalidInput) || !strings.Contains(err.Error(), "create-credentials-file") {
		t.Fatalf("Exchange() = %v, want an input error naming create-credentials-file", err)
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("%d requests reached Google before the file could be built", n)
	}
}
