package app

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/cmd/internal/apptest"
	"github.com/oidc-exchange/oidc-exchange/providers/broker"
	"github.com/oidc-exchange/oidc-exchange/providers/broker/brokerfake"
)

// cliRun runs the program in-process as a CLI with an explicit env.
type cliRun struct {
	stdout, stderr string
	err            error
}

func runCLI(t *testing.T, vars map[string]string, stdin string, h *hooks, args ...string) cliRun {
	t.Helper()
	var out, errb bytes.Buffer
	err := realMain(t.Context(), &env{
		args:   append([]string{"oidc-exchange"}, args...),
		getenv: func(k string) string { return vars[k] },
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errb,
		hooks:  h,
	})
	return cliRun{stdout: out.String(), stderr: errb.String(), err: err}
}

// githubDotCom serves the real discovery document and JWKS of
// token.actions.githubusercontent.com from testdata, in place of the
// network, so verify runs its real discovery path offline.
type githubDotCom struct{ t *testing.T }

func (g githubDotCom) RoundTrip(req *http.Request) (*http.Response, error) {
	files := map[string]string{
		"/.well-known/openid-configuration": "github-actions-openid-configuration-2026.json",
		"/.well-known/jwks":                 "github-actions-jwks-2026.json",
	}
	rec := httptest.NewRecorder()
	name, ok := files[req.URL.Path]
	if req.URL.Host != "token.actions.githubusercontent.com" || !ok {
		rec.WriteHeader(http.StatusNotFound)
		return rec.Result(), nil
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", name))
	if err != nil {
		g.t.Error(err)
		return nil, err
	}
	rec.Header().Set("Content-Type", "application/json")
	if _, err := rec.Write(b); err != nil {
		g.t.Error(err)
		return nil, err
	}
	return rec.Result(), nil
}

func TestVerifyRealGitHubToken(t *testing.T) {
	t.Parallel()
	token := filepath.Join("..", "..", "..", "testdata", "github-actions-idtoken-2025-03-29.jwt")
	raw, err := os.ReadFile(token)
	if err != nil {
		t.Fatal(err)
	}
	inside := &hooks{now: func() time.Time { return time.Unix(1743246300, 0) }, transport: githubDotCom{t}}
	tests := []struct {
		name     string
		args     []string
		stdin    string
		hooks    *hooks
		wantExit int
	}{
		{name: "file", args: []string{"verify", "--audience", "https://example.com", "--token-file", token}, hooks: inside},
		{name: "stdin with trailing newline", args: []string{"verify", "--audience", "https://example.com", "--token-file", "-"}, stdin: string(raw) + "\n", hooks: inside},
		{name: "wrong audience", args: []string{"verify", "--audience", "sts.amazonaws.com", "--token-file", token}, hooks: inside, wantExit: exitToken},
		{name: "expired now", args: []string{"verify", "--audience", "https://example.com", "--token-file", token},
			hooks: &hooks{transport: githubDotCom{t}}, wantExit: exitToken},
		{name: "no audience outside CI", args: []string{"verify", "--token-file", token}, hooks: inside, wantExit: exitInput},
		{name: "missing token file", args: []string{"verify", "--audience", "https://example.com", "--token-file", "/nonexistent"}, hooks: inside, wantExit: exitToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, map[string]string{}, tc.stdin, tc.hooks, tc.args...)
			if got := exitCode(r.err); got != tc.wantExit {
				t.Fatalf("exit %d (%v), want %d; stderr:\n%s", got, r.err, tc.wantExit, r.stderr)
			}
			// The permission hint belongs to a job without the request
			// variables, never to a token file.
			if strings.Contains(r.stderr, "id-token: write") {
				t.Errorf("stderr gives the permission hint:\n%s", r.stderr)
			}
			if tc.wantExit != exitOK {
				return
			}
			var claims map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &claims); err != nil {
				t.Fatalf("stdout is not JSON: %v", err)
			}
			if claims["sub"] != "repo:rgl/github-actions-validate-jwt:ref:refs/heads/main" {
				t.Errorf("sub = %v", claims["sub"])
			}
		})
	}
}

// TestCLIAWS exchanges a token from a file and prints each format; the
// credentials go to stdout only, the audit record to stderr.
func TestCLIAWS(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"env", "json", "credential-process"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{})
			tokenFile := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(tokenFile, []byte(h.issuer.Mint(apptest.Audience, time.Now(), nil)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, map[string]string{}, "", nil, "aws", "--role-arn", apptest.Role, "--region", "eu-west-1",
				"--oidc-issuer", h.issuer.URL, "--sts-endpoint", h.stsURL, "--token-file", tokenFile, "--format", format,
				"--expect-claim", "repository_owner_id=123456")
			if r.err != nil {
				t.Fatalf("aws: %v\n%s", r.err, r.stderr)
			}
			issued := h.sts.Requests()[0].Issued
			if !strings.Contains(r.stdout, issued.SecretAccessKey) {
				t.Errorf("stdout lacks the credentials:\n%s", r.stdout)
			}
			for _, s := range append(h.secrets(), mustRead(t, tokenFile)) {
				if strings.Contains(r.stderr, strings.TrimSpace(s)) {
					t.Fatal("stderr (logs, audit) contains a secret")
				}
			}
			if !strings.Contains(r.stderr, `"outcome":"success"`) {
				t.Errorf("no audit record on stderr:\n%s", r.stderr)
			}
			switch format {
			case "credential-process":
				var cp map[string]any
				if err := json.Unmarshal([]byte(r.stdout), &cp); err != nil || cp["Version"] != float64(1) || cp["AccessKeyId"] != issued.AccessKeyID {
					t.Errorf("credential_process output %q: %v", r.stdout, err)
				}
			case "env":
				if !strings.Contains(r.stdout, "export AWS_ACCESS_KEY_ID='"+issued.AccessKeyID+"'") {
					t.Errorf("env output:\n%s", r.stdout)
				}
			}
		})
	}
}

// TestCLIInsideGitHubActions: a run: step calling the CLI gets its token
// from the runner, and masks go to stderr so stdout stays evaluable.
func TestCLIInsideGitHubActions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	step := h.runner.Step("main", nil)
	vars := map[string]string{}
	for k, v := range step.Env {
		vars[k] = v
	}
	r := runCLI(t, vars, "", &hooks{retry: &fastRetry}, "aws", "--role-arn", apptest.Role, "--region", "eu-west-1",
		"--oidc-issuer", h.issuer.URL, "--sts-endpoint", h.stsURL)
	h.runner.Finish(step, nil, nil)
	if r.err != nil {
		t.Fatalf("aws: %v\n%s", r.err, r.stderr)
	}
	if strings.Contains(r.stdout, "::") {
		t.Errorf("workflow commands on stdout:\n%s", r.stdout)
	}
	issued := h.sts.Requests()[0].Issued
	maskLine := "::add-mask::" + issued.SecretAccessKey
	if !strings.Contains(r.stderr, maskLine) {
		t.Error("secret not masked on stderr")
	}
	if i := strings.Index(r.stderr, maskLine); strings.Contains(r.stderr[:i], issued.SecretAccessKey) {
		t.Error("secret printed before its mask")
	}
}

func TestCLIUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		wantExit int
		wantOut  string
	}{
		{args: nil, wantExit: exitInput, wantOut: "Usage:"},
		{args: []string{"bogus"}, wantExit: exitInput, wantOut: "unknown command"},
		{args: []string{"aws", "--help"}, wantExit: exitOK, wantOut: "--role-arn"},
		{args: []string{"verify", "--help"}, wantExit: exitOK, wantOut: "-audience string"},
		{args: []string{"demo"}, wantExit: exitInput, wantOut: "cmd/oidc-exchange-demo"},
		{args: []string{"aws", "--role-arn", "nope", "--region", "eu-west-1"}, wantExit: exitInput, wantOut: "--role-arn: \"nope\" is not an ARN"},
		{args: []string{"aws", "--format", "yaml"}, wantExit: exitInput, wantOut: "credential-process"},
		// Errors name the flags the user types, not the action's inputs.
		{args: []string{"aws"}, wantExit: exitInput, wantOut: "--region: is required, e.g. us-east-1: invalid input\n--role-arn: is required"},
		{args: []string{"aws", "--region", "eu-west-1", "--role-arn", "arn:aws:iam::111122223333:role/x", "--duration-seconds", "1h", "--disable-retry=maybe"},
			wantExit: exitInput, wantOut: "--duration-seconds: want a whole number, got \"1h\": invalid input\n--disable-retry: want true or false"},
		{args: []string{"aws", "--region", "eu-west-1", "--role-arn", "arn:aws:iam::111122223333:role/x", "--oidc-issuer", "http://x.example"},
			wantExit: exitInput, wantOut: "--oidc-issuer: "},
		{args: []string{"broker", "--audience", "a", "--url", "https://b.example/token", "--discovery", "https://b.example"},
			wantExit: exitInput, wantOut: "--url: exactly one of --url or --discovery, got both"},
		{args: []string{"broker", "--audience", "a", "--url", "https://b.example/token", "--client-auth", "client_secret_post"},
			wantExit: exitInput, wantOut: "--client-auth: client_secret_post needs --client-id and --client-secret-file"},
		{args: []string{"broker", "--url", "https://b.example/token"}, wantExit: exitInput, wantOut: "--audience: is required with provider broker"},
		{args: []string{"gcp", "--workload-identity-provider", "projects/1/locations/global/workloadIdentityPools/pool/providers/prov", "--token-format", "id_token"},
			wantExit: exitInput, wantOut: "--token-format: id_token needs --service-account"},
		{args: []string{"version"}, wantExit: exitOK, wantOut: "oidc-exchange"},
		{args: []string{"help"}, wantExit: exitOK, wantOut: "Exit codes"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, map[string]string{}, "", nil, tc.args...)
			if got := exitCode(r.err); got != tc.wantExit {
				t.Fatalf("exit %d (%v), want %d", got, r.err, tc.wantExit)
			}
			if !strings.Contains(r.stdout+r.stderr, tc.wantOut) {
				t.Errorf("output lacks %q:\n%s%s", tc.wantOut, r.stdout, r.stderr)
			}
		})
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCLIGCP exchanges a token file through the gcp command in each format.
func TestCLIGCP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		format string
		want   []string
	}{
		{format: "json", want: []string{`"access-token"`, `"access-token-expiration"`, `"expiration"`}},
		{format: "env", want: []string{"export CLOUDSDK_AUTH_ACCESS_TOKEN='", "export GOOGLE_OAUTH_ACCESS_TOKEN='", "export CLOUDSDK_CORE_PROJECT='my-project'"}},
		{format: "external-account", want: []string{`"type": "external_account"`, `"credential_source"`, `"file": "`}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{})
			tokenFile := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(tokenFile, []byte(h.issuer.Mint("https://iam.googleapis.com/"+apptest.GCPProvider, time.Now(), nil)), 0o600); err != nil {
				t.Fatal(err)
			}
			outFile := filepath.Join(t.TempDir(), "out")
			r := runCLI(t, map[string]string{}, "", &hooks{retry: &fastRetry}, "gcp",
				"--workload-identity-provider", apptest.GCPProvider, "--service-account", apptest.ServiceAccount,
				"--oidc-issuer", h.issuer.URL, "--sts-endpoint", h.gcpURL, "--iamcredentials-endpoint", h.gcpURL,
				"--token-file", tokenFile, "--format", tc.format, "--output", outFile)
			if r.err != nil {
				t.Fatalf("gcp: %v\n%s", r.err, r.stderr)
			}
			fi, err := os.Stat(outFile)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Fatalf("output file mode %v, want 0600", fi.Mode().Perm())
			}
			r.stdout = mustRead(t, outFile)
			out := strings.ReplaceAll(r.stdout, `":"`, `": "`)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, s := range h.gcp.Issued() {
				if strings.Contains(r.stderr, s) {
					t.Fatal("stderr holds an issued token")
				}
			}
		})
	}
}

// TestCLIBroker exchanges a token file at the RFC 8693 fake; the client
// secret comes from the environment, never argv.
func TestCLIBroker(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(h.issuer.Mint(apptest.BrokerAudience, time.Now(), nil)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"json", "env"} {
		r := runCLI(t, map[string]string{broker.EnvClientSecret: apptest.BrokerSecret}, "", &hooks{retry: &fastRetry}, "broker",
			"--url", h.brkURL+brokerfake.TokenPath, "--audience", apptest.BrokerAudience, "--client-id", apptest.BrokerClient,
			"--oidc-issuer", h.issuer.URL, "--token-file", tokenFile, "--format", format, "--request-format", "json-camel")
		if r.err != nil {
			t.Fatalf("broker %s: %v\n%s", format, r.err, r.stderr)
		}
		issued := h.broker.Issued()
		if !strings.Contains(r.stdout, issued[len(issued)-1]) {
			t.Errorf("%s output lacks the token:\n%s", format, r.stdout)
		}
		if strings.Contains(r.stderr, apptest.BrokerSecret) || strings.Contains(r.stderr, issued[len(issued)-1]) {
			t.Fatal("stderr holds a secret")
		}
	}
	r := runCLI(t, map[string]string{}, "", nil, "broker", "--url", h.brkURL+brokerfake.TokenPath, "--token-file", tokenFile)
	if exitCode(r.err) != exitInput || !strings.Contains(r.stderr, "audience") {
		t.Errorf("missing --audience: exit %d, %s", exitCode(r.err), r.stderr)
	}
}
