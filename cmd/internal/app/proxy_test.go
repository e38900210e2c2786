package app

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/cmd/internal/apptest"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/internal/httpfake"
	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
	"github.com/oidc-exchange/oidc-exchange/providers/broker/brokerfake"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp/gcpfake"
)

// proxyPassword is the credential of the proxies that demand one; fake,
// and held to the leak checks like any secret.
const proxyPassword = "FAKE-proxy-password-7f3a"

// proxyJob is a job whose endpoints (token endpoint, issuer, STS, GCP,
// broker) all have names under .localhost: net/http reaches 127.0.0.1 and
// localhost directly, never through a proxy, and a test proxy resolves
// these names to 127.0.0.1 itself. The fakes trust the issuer under its
// name and fetch its keys directly, as a cloud would.
type proxyJob struct {
	*harness
	proxy *httpfake.Proxy
	// issuerURL is the issuer's name, http://issuer.localhost:PORT.
	issuerURL string
}

// localhostName renames the 127.0.0.1 host of raw to name.localhost.
func localhostName(t testing.TB, raw, name string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = name + ".localhost:" + u.Port()
	return u.String()
}

// hostOf is the host:port of raw.
func hostOf(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// newProxyJob starts a job and its proxy. env is the workflow's env; in
// its values {proxy} is the proxy's URL and {userproxy} the same with
// ci:proxyPassword.
func newProxyJob(t *testing.T, env map[string]string) *proxyJob {
	t.Helper()
	proxy := httpfake.NewProxy(t)
	expand := proxyPlaceholders(proxy)
	vars := map[string]string{}
	for k, v := range env {
		vars[k] = expand(v)
	}
	is := exchangetest.StartIssuer(t, "")
	direct, named := is.URL, localhostName(t, is.URL, "issuer")
	// Discovery names the issuer, and its JWKS, under the name the job
	// uses; the keys are the same.
	is.SetIntercept(func(w http.ResponseWriter, r *http.Request, serve http.Handler) bool {
		if r.URL.Path != "/.well-known/openid-configuration" {
			return false
		}
		rec := httptest.NewRecorder()
		serve.ServeHTTP(rec, r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		_, _ = w.Write([]byte(strings.ReplaceAll(rec.Body.String(), direct, named)))
		return true
	})
	keys := oidc.NewRemoteKeySet(context.Background(), direct+"/keys")
	wo := apptest.DefaultOptions()
	sts, err := stsfake.New(stsfake.Config{Issuer: named, KeySet: keys, RoleARN: apptest.Role,
		Trust: stsfake.TrustPolicy{Audience: apptest.Audience, Subjects: wo.AWSSubjects}})
	if err != nil {
		t.Fatal(err)
	}
	gfake, err := gcpfake.New(gcpfake.Config{Issuer: named, KeySet: keys, Provider: apptest.GCPProvider, Condition: wo.GCPCondition,
		ServiceAccounts: map[string]gcpfake.ServiceAccount{apptest.ServiceAccount: {WorkloadIdentityUsers: wo.GCPSAUsers}}})
	if err != nil {
		t.Fatal(err)
	}
	bfake, err := brokerfake.New(brokerfake.Config{Issuer: named, KeySet: keys, Audience: apptest.BrokerAudience,
		Claims: wo.BrokerClaims, ClientID: apptest.BrokerClient, ClientSecret: apptest.BrokerSecret})
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, h := range []http.Handler{sts, gfake, bfake} {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	h := &harness{t: t, issuer: is, sts: sts, stsURL: localhostName(t, urls[0], "sts"), gcp: gfake, gcpURL: localhostName(t, urls[1], "gcp"),
		broker: bfake, brkURL: localhostName(t, urls[2], "broker"), action: githubtest.LoadAction(t, actionFile(githubtest.SimulatedContainer))}
	defaults := h.action.InputDefaults()
	defaults["oidc-issuer"] = named
	defaults["sts-endpoint"] = h.stsURL
	defaults["aws-region"] = "eu-west-1"
	defaults["role-to-assume"] = apptest.Role
	defaults["workload-identity-provider"] = apptest.GCPProvider
	defaults["iamcredentials-endpoint"] = h.gcpURL
	h.runner = githubtest.New(t, githubtest.Options{
		InputDefaults:     defaults,
		Args:              h.action.Runs.Args,
		Env:               vars,
		IDTokenPermission: true,
		// Debug lines too must not show a proxy's password.
		Debug: true,
		Mint: func(aud string) string {
			return is.Sign(exchangetest.GitHubClaims(named, aud, time.Now(), nil))
		},
	})
	return &proxyJob{harness: h, proxy: proxy, issuerURL: named}
}

// proxyPlaceholders expands {proxy} and {userproxy} (with ci:proxyPassword)
// to the proxy's URL.
func proxyPlaceholders(p *httpfake.Proxy) func(string) string {
	return strings.NewReplacer("{proxy}", p.URL, "{userproxy}", strings.Replace(p.URL, "://", "://ci:"+proxyPassword+"@", 1)).Replace
}

// run runs the main step with the token endpoint named under .localhost.
func (j *proxyJob) run(inputs map[string]string) (*githubtest.StepResult, error) {
	j.t.Helper()
	step := j.runner.Step(githubtest.Main, inputs)
	step.Env["ACTIONS_ID_TOKEN_REQUEST_URL"] = localhostName(j.t, step.Env["ACTIONS_ID_TOKEN_REQUEST_URL"], "token")
	stdout, stderr, err := j.exec(step)
	res := j.runner.Finish(step, stdout, stderr)
	res.AssertNoProblems(j.t)
	return res, err
}

// call is one request of a run, as the proxy records it.
type call = httpfake.ProxiedRequest

// Calls every AWS run makes: the token, discovery, the JWKS, STS.
func (j *proxyJob) awsCalls() []call {
	token := j.runner.Token.URL()
	return []call{
		{Method: http.MethodGet, Host: hostOf(j.t, localhostName(j.t, token, "token")), Path: mustPath(j.t, token)},
		{Method: http.MethodGet, Host: hostOf(j.t, j.issuerURL), Path: "/.well-known/openid-configuration"},
		{Method: http.MethodGet, Host: hostOf(j.t, j.issuerURL), Path: "/keys"},
		{Method: http.MethodPost, Host: hostOf(j.t, j.stsURL), Path: "/"},
	}
}

func mustPath(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// sortedCalls orders calls for comparison: discovery and the token run
// at once.
func sortedCalls(cs []call) []call {
	return slices.SortedFunc(slices.Values(cs), func(a, b call) int {
		return strings.Compare(a.Method+a.Host+a.Path, b.Method+b.Host+b.Path)
	})
}

func without(cs []call, host string) []call {
	return slices.DeleteFunc(slices.Clone(cs), func(c call) bool { return c.Host == host })
}

// TestActionThroughProxy runs the action end to end with a proxy given by
// input or by the environment, and checks which requests it carried.
func TestActionThroughProxy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// inputs and env may use {proxy} and {userproxy} (with the
		// password) for the job's proxy.
		inputs map[string]string
		env    map[string]string
		// credentials makes the proxy demand ci:proxyPassword.
		credentials bool
		// want is what the proxy must have carried; nil for none.
		want func(j *proxyJob) []call
	}{
		{name: "http-proxy input", inputs: map[string]string{"http-proxy": "{proxy}"}, want: (*proxyJob).awsCalls},
		{name: "HTTPS_PROXY and HTTP_PROXY", env: map[string]string{"HTTPS_PROXY": "{proxy}", "HTTP_PROXY": "{proxy}"}, want: (*proxyJob).awsCalls},
		{name: "lower-case https_proxy and http_proxy", env: map[string]string{"https_proxy": "{proxy}", "http_proxy": "{proxy}"}, want: (*proxyJob).awsCalls},
		// Every endpoint of the job is plain http: HTTPS_PROXY is not theirs.
		{name: "HTTPS_PROXY alone serves https only", env: map[string]string{"HTTPS_PROXY": "{proxy}"}},
		{name: "the input wins over the environment", inputs: map[string]string{"http-proxy": "{proxy}"},
			env: map[string]string{"HTTPS_PROXY": "http://" + refusedAddress(t), "HTTP_PROXY": "http://" + refusedAddress(t)}, want: (*proxyJob).awsCalls},
		{name: "no-proxy names STS", inputs: map[string]string{"http-proxy": "{proxy}", "no-proxy": "sts.localhost"},
			want: func(j *proxyJob) []call { return without(j.awsCalls(), hostOf(j.t, j.stsURL)) }},
		{name: "NO_PROXY names STS", inputs: map[string]string{"http-proxy": "{proxy}"}, env: map[string]string{"NO_PROXY": "example.com, sts.localhost"},
			want: func(j *proxyJob) []call { return without(j.awsCalls(), hostOf(j.t, j.stsURL)) }},
		{name: "no-proxy wins over NO_PROXY", inputs: map[string]string{"http-proxy": "{proxy}", "no-proxy": "gcp.localhost"},
			env: map[string]string{"NO_PROXY": "sts.localhost"}, want: (*proxyJob).awsCalls},
		{name: "http-proxy with credentials", inputs: map[string]string{"http-proxy": "{userproxy}"}, credentials: true, want: (*proxyJob).awsCalls},
		{name: "HTTP_PROXY with credentials", env: map[string]string{"HTTP_PROXY": "{userproxy}"}, credentials: true, want: (*proxyJob).awsCalls},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := newProxyJob(t, tt.env)
			expand := proxyPlaceholders(j.proxy)
			if tt.credentials {
				j.proxy.RequireCredentials("ci", proxyPassword)
			}
			inputs := map[string]string{}
			for k, v := range tt.inputs {
				inputs[k] = expand(v)
			}
			res, err := j.run(inputs)
			if err != nil {
				t.Fatalf("run: %v\nlog:\n%s", err, res.MaskedStdout)
			}
			if res.Env["AWS_SECRET_ACCESS_KEY"] == "" || len(j.sts.Requests()) != 1 {
				t.Errorf("no credentials exported, or STS saw %d requests", len(j.sts.Requests()))
			}
			var want []call
			if tt.want != nil {
				want = tt.want(j)
			}
			if diff := cmpCalls(want, j.proxy.Requests()); diff != "" {
				t.Errorf("the proxy carried (-want +got):\n%s", diff)
			}
			if tt.credentials && !containsMask(res.Masks, proxyPassword) {
				t.Errorf("the proxy's password was not masked; masks %q", res.Masks)
			}
			assertNeverPrinted(t, res, proxyPassword)
			res.AssertNoLeak(t, append(j.secrets(), proxyPassword)...)
			res.AssertNoInjectedCommands(t, allowedCommands...)
		})
	}
}

// cmpCalls compares calls in any order and says what differs.
func cmpCalls(want, got []call) string {
	w, g := sortedCalls(want), sortedCalls(got)
	if slices.Equal(w, g) {
		return ""
	}
	var b strings.Builder
	for _, c := range w {
		if !slices.Contains(g, c) {
			b.WriteString("- " + c.Method + " " + c.Host + c.Path + "\n")
		}
	}
	for _, c := range g {
		if !slices.Contains(w, c) {
			b.WriteString("+ " + c.Method + " " + c.Host + c.Path + "\n")
		}
	}
	if b.Len() == 0 {
		b.WriteString("the same calls, repeated differently\n")
	}
	return b.String()
}

// refusedAddress is a 127.0.0.1 address nothing listens on.
func refusedAddress(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	return addr
}

// TestActionThroughProxyOtherProviders: GCP's STS and IAM Credentials and
// the broker go through the proxy too.
func TestActionThroughProxyOtherProviders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inputs func(j *proxyJob) map[string]string
		// host is the provider's, which the proxy must have carried.
		host func(j *proxyJob) string
		// paths are the provider's requests.
		paths []string
	}{
		{
			name: "gcp",
			inputs: func(j *proxyJob) map[string]string {
				return map[string]string{"provider": "gcp", "sts-endpoint": j.gcpURL, "service-account": apptest.ServiceAccount, "create-credentials-file": "false"}
			},
			host:  func(j *proxyJob) string { return hostOf(j.t, j.gcpURL) },
			paths: []string{"/v1/token", "/v1/projects/-/serviceAccounts/" + apptest.ServiceAccount + ":generateAccessToken"},
		},
		{
			name: "broker",
			inputs: func(j *proxyJob) map[string]string {
				return map[string]string{"provider": "broker", "audience": apptest.BrokerAudience, "broker-url": j.brkURL + brokerfake.TokenPath,
					"broker-client-id": apptest.BrokerClient, "broker-client-secret": apptest.BrokerSecret}
			},
			host:  func(j *proxyJob) string { return hostOf(j.t, j.brkURL) },
			paths: []string{brokerfake.TokenPath},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := newProxyJob(t, nil)
			inputs := tt.inputs(j)
			inputs["http-proxy"] = j.proxy.URL
			res, err := j.run(inputs)
			if err != nil {
				t.Fatalf("run: %v\nlog:\n%s", err, res.MaskedStdout)
			}
			want := j.awsCalls()[:3]
			for _, p := range tt.paths {
				want = append(want, call{Method: http.MethodPost, Host: tt.host(j), Path: p})
			}
			if diff := cmpCalls(want, j.proxy.Requests()); diff != "" {
				t.Errorf("the proxy carried (-want +got):\n%s", diff)
			}
			res.AssertNoLeak(t, j.secrets()...)
		})
	}
}

// TestActionProxyFailures: a proxy that refuses or is down fails the run
// with an error naming it by host, never its password, in the failure's
// class: a refusal is permanent and not retried; a proxy that is down is
// a network failure, retried, then unavailable (exit 5).
func TestActionProxyFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// proxy is http-proxy; {proxy} is the job's, {dead} an address
		// nothing listens at.
		proxy    string
		wantExit int
		// retried says whether a call may repeat.
		retried bool
	}{
		// The token endpoint is the first request, and a refusal is an
		// input error wherever it is met: the proxy setting must change.
		{name: "407: no credentials", proxy: "{proxy}", wantExit: exitInput},
		{name: "407: wrong password", proxy: "http://ci:FAKE-wrong-proxy-password@{host}", wantExit: exitInput},
		{name: "down", proxy: "http://ci:" + proxyPassword + "@{dead}", wantExit: exitUnavailable, retried: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := newProxyJob(t, nil)
			j.proxy.RequireCredentials("ci", proxyPassword)
			proxyURL := strings.NewReplacer("{proxy}", j.proxy.URL, "{host}", j.proxy.Host(), "{dead}", refusedAddress(t)).Replace(tt.proxy)
			res, err := j.run(map[string]string{"http-proxy": proxyURL})
			if got := exitCode(err); got != tt.wantExit {
				t.Fatalf("exit %d (%v), want %d\nlog:\n%s", got, err, tt.wantExit, res.MaskedStdout)
			}
			if !strings.Contains(res.MaskedStdout, "proxy "+hostOf(t, proxyURL)) {
				t.Errorf("the log does not name the proxy %s:\n%s", hostOf(t, proxyURL), res.MaskedStdout)
			}
			if len(j.sts.Requests()) != 0 || len(res.Env) != 0 {
				t.Errorf("STS saw %d requests; exported %v", len(j.sts.Requests()), slices.Sorted(maps.Keys(res.Env)))
			}
			if seen := j.proxy.Requests(); !tt.retried && len(slices.Compact(sortedCalls(seen))) != len(seen) {
				t.Errorf("a refusal was retried: %v", seen)
			}
			assertNeverPrinted(t, res, proxyPassword, "FAKE-wrong-proxy-password")
			res.AssertNoLeak(t, append(j.secrets(), proxyPassword, "FAKE-wrong-proxy-password")...)
		})
	}
}

// TestActionProxyInputErrors: a bad proxy setting fails before any request,
// names the setting, and shows nothing of the value.
func TestActionProxyInputErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		inputs  map[string]string
		env     map[string]string
		wantLog string
	}{
		{name: "scheme", inputs: map[string]string{"http-proxy": "ftp://ci:" + proxyPassword + "@127.0.0.1:3128"}, wantLog: "http-proxy: unsupported proxy scheme"},
		{name: "path", inputs: map[string]string{"http-proxy": "http://ci:" + proxyPassword + "@127.0.0.1:3128/x"}, wantLog: "http-proxy: a proxy URL is"},
		{name: "not a URL", inputs: map[string]string{"http-proxy": "http://ci:" + proxyPassword + "%zz@127.0.0.1:3128"}, wantLog: "http-proxy: is not a URL"},
		{name: "HTTPS_PROXY", env: map[string]string{"HTTPS_PROXY": "http://ci:" + proxyPassword + "@127.0.0.1:99999"}, wantLog: "$HTTPS_PROXY: proxy port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := newProxyJob(t, tt.env)
			res, err := j.run(tt.inputs)
			if got := exitCode(err); got != exitInput {
				t.Fatalf("exit %d (%v), want %d\nlog:\n%s", got, err, exitInput, res.MaskedStdout)
			}
			if !strings.Contains(res.MaskedStdout, tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, res.MaskedStdout)
			}
			if j.runner.Token.Count() != 0 || len(j.proxy.Requests()) != 0 {
				t.Error("a request was made despite the bad setting")
			}
			assertNeverPrinted(t, res, proxyPassword)
			res.AssertNoLeak(t, proxyPassword)
		})
	}
}

// assertNeverPrinted: masking is the second line of defence; the first is
// that nothing but the mask command itself ever prints the values.
func assertNeverPrinted(t *testing.T, res *githubtest.StepResult, values ...string) {
	t.Helper()
	for line := range strings.Lines(res.Stdout + res.Stderr) {
		if strings.HasPrefix(line, "::add-mask::") {
			continue
		}
		for _, v := range values {
			if strings.Contains(line, v) {
				t.Errorf("printed %q: %s", v, line)
			}
		}
	}
}

// TestCLIThroughProxy: oidc-exchange aws sends discovery, the JWKS and STS
// through --http-proxy, or through HTTP_PROXY; --no-proxy keeps STS off it.
func TestCLIThroughProxy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		flags []string
		env   map[string]string
		// credentials makes the proxy demand ci:proxyPassword.
		credentials bool
		// stsDirect says STS must not go through the proxy.
		stsDirect bool
	}{
		{name: "--http-proxy", flags: []string{"--http-proxy", "{proxy}"}},
		{name: "HTTP_PROXY with credentials", env: map[string]string{"HTTP_PROXY": "{userproxy}"}, credentials: true},
		{name: "--http-proxy wins over HTTP_PROXY", flags: []string{"--http-proxy", "{proxy}"}, env: map[string]string{"HTTP_PROXY": "http://{dead}"}},
		{name: "--no-proxy", flags: []string{"--http-proxy", "{proxy}", "--no-proxy", "sts.localhost"}, stsDirect: true},
		{name: "NO_PROXY", flags: []string{"--http-proxy", "{proxy}"}, env: map[string]string{"no_proxy": "sts.localhost"}, stsDirect: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := newProxyJob(t, nil)
			if tt.credentials {
				j.proxy.RequireCredentials("ci", proxyPassword)
			}
			dead := refusedAddress(t)
			expand := func(s string) string { return strings.ReplaceAll(proxyPlaceholders(j.proxy)(s), "{dead}", dead) }
			tokenFile := filepath.Join(t.TempDir(), "token")
			token := j.issuer.Sign(exchangetest.GitHubClaims(j.issuerURL, apptest.Audience, time.Now(), nil))
			if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"aws", "--role-arn", apptest.Role, "--region", "eu-west-1", "--oidc-issuer", j.issuerURL,
				"--sts-endpoint", j.stsURL, "--token-file", tokenFile, "--format", "json"}
			for _, f := range tt.flags {
				args = append(args, expand(f))
			}
			vars := map[string]string{}
			for k, v := range tt.env {
				vars[k] = expand(v)
			}
			r := runCLI(t, vars, "", nil, args...)
			if r.err != nil {
				t.Fatalf("aws: %v\n%s", r.err, r.stderr)
			}
			// The token comes from a file: no token endpoint.
			want := j.awsCalls()[1:]
			if tt.stsDirect {
				want = without(want, hostOf(t, j.stsURL))
			}
			if diff := cmpCalls(want, j.proxy.Requests()); diff != "" {
				t.Errorf("the proxy carried (-want +got):\n%s", diff)
			}
			if len(j.sts.Requests()) != 1 || !strings.Contains(r.stdout, j.sts.Requests()[0].Issued.SecretAccessKey) {
				t.Errorf("stdout lacks the credentials:\n%s", r.stdout)
			}
			if strings.Contains(r.stderr, proxyPassword) {
				t.Errorf("stderr shows the proxy's password:\n%s", r.stderr)
			}
		})
	}
}

// TestCLIVerifyThroughProxy: verify fetches discovery and the JWKS through
// --http-proxy.
func TestCLIVerifyThroughProxy(t *testing.T) {
	t.Parallel()
	j := newProxyJob(t, nil)
	tokenFile := filepath.Join(t.TempDir(), "token")
	token := j.issuer.Sign(exchangetest.GitHubClaims(j.issuerURL, apptest.Audience, time.Now(), nil))
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, map[string]string{}, "", nil, "verify", "--audience", apptest.Audience, "--oidc-issuer", j.issuerURL,
		"--token-file", tokenFile, "--http-proxy", j.proxy.URL)
	if r.err != nil {
		t.Fatalf("verify: %v\n%s", r.err, r.stderr)
	}
	if diff := cmpCalls(j.awsCalls()[1:3], j.proxy.Requests()); diff != "" {
		t.Errorf("the proxy carried (-want +got):\n%s", diff)
	}
}
