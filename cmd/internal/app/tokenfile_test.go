package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/cmd/internal/apptest"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
)

// eksSubject is the sub of an EKS projected service-account token.
const eksSubject = "system:serviceaccount:arc-runners:runner"

// eksClaims are the claims of an EKS projected service-account token:
// no GitHub claims, an array audience and an object-valued claim.
func eksClaims(issuer string, now time.Time) map[string]any {
	return map[string]any{
		"iss": issuer,
		"sub": eksSubject,
		"aud": []string{apptest.Audience},
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(24 * time.Hour).Unix(),
		"kubernetes.io": map[string]any{
			"namespace":      "arc-runners",
			"pod":            map[string]any{"name": "runner-x7k2p", "uid": "5a3b1d2e-0000-4000-8000-000000000001"},
			"serviceaccount": map[string]any{"name": "runner", "uid": "5a3b1d2e-0000-4000-8000-000000000002"},
		},
	}
}

// writeToken writes tok to p, creating its directory, as an earlier step
// or the kubelet would.
func writeToken(t *testing.T, p, tok string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runMain runs the action's main step in-process; in native mode with
// --native, as native/main.js runs the binary.
func (h *harness) runMain(mode githubtest.Mode, inputs map[string]string) (*githubtest.StepResult, error) {
	h.t.Helper()
	if mode != githubtest.Native {
		return h.run(githubtest.Main, inputs)
	}
	step := h.runner.Step(githubtest.Main, inputs)
	step.Args = append(step.Args, "--native")
	stdout, stderr, err := h.exec(step)
	res := h.runner.Finish(step, stdout, stderr)
	res.AssertNoProblems(h.t)
	return res, err
}

// TestActionTokenFile runs the action with web-identity-token-file on a
// job without `permissions: id-token: write`: the token comes from the
// file, is masked, verified against oidc-issuer and sent to STS as it is.
// The container action takes files only from its mounts, by the host path
// the runner translated; the native action takes any path.
func TestActionTokenFile(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	tests := []struct {
		name     string
		mode     githubtest.Mode
		mount    bool // runner v2.331.0 and later: the runner temp is mounted
		subjects []string
		// file is where the token is written on the host, from the
		// runner's directories; input is what the workflow says.
		file      func(r *githubtest.Runner) string
		input     string
		claims    func(h *harness) map[string]any
		wantExit  int
		wantInLog []string
	}{
		{
			name: "container: runner temp", mount: true,
			file:  func(r *githubtest.Runner) string { return filepath.Join(r.HostTemp(), "oidc", "token") },
			input: "${{ runner.temp }}/oidc/token", wantExit: exitOK,
		},
		{
			name: "container: workspace", mount: true,
			file:  func(r *githubtest.Runner) string { return filepath.Join(r.HostWorkspace(), "token.jwt") },
			input: "${{ github.workspace }}/token.jwt", wantExit: exitOK,
		},
		{
			name:  "container: relative to the workspace",
			file:  func(r *githubtest.Runner) string { return filepath.Join(r.HostWorkspace(), "ci", "token.jwt") },
			input: "ci/token.jwt", wantExit: exitOK,
		},
		{
			name: "container: EKS-shaped token", mount: true, subjects: []string{eksSubject},
			file:  func(r *githubtest.Runner) string { return filepath.Join(r.HostTemp(), "token") },
			input: "${{ runner.temp }}/token", wantExit: exitOK,
			claims:    func(h *harness) map[string]any { return eksClaims(h.issuer.URL, time.Now()) },
			wantInLog: []string{`"sub":"` + eksSubject + `"`},
		},
		{
			name: "container: outside the mounts", mount: true,
			file:  func(*githubtest.Runner) string { return filepath.Join(outside, "token") },
			input: filepath.Join(outside, "token"), wantExit: exitInput,
			wantInLog: []string{"web-identity-token-file", filepath.Join(outside, "token"), "workspace", "/github/home",
				"/github/runner_temp", "native action", "oidc-exchange/oidc-exchange/native@"},
		},
		{
			name:  "container: old runner without a mounted runner temp",
			file:  func(r *githubtest.Runner) string { return filepath.Join(r.HostTemp(), "token") },
			input: "${{ runner.temp }}/token", wantExit: exitInput,
			wantInLog: []string{"web-identity-token-file", "/github/runner_temp", "v2.331.0", "native action"},
		},
		{
			name: "native: anywhere", mode: githubtest.Native,
			file:  func(*githubtest.Runner) string { return filepath.Join(outside, "native", "token") },
			input: filepath.Join(outside, "native", "token"), wantExit: exitOK,
		},
		{
			name: "standard input is the CLI's", mount: true,
			file:  func(r *githubtest.Runner) string { return filepath.Join(r.HostTemp(), "token") },
			input: "-", wantExit: exitInput, wantInLog: []string{"web-identity-token-file", "--token-file"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{mode: tc.mode, mountRunnerTemp: tc.mount, noIDToken: true, trustedSubjects: tc.subjects})
			tok := h.issuer.Mint(apptest.Audience, time.Now(), nil)
			if tc.claims != nil {
				tok = h.issuer.Sign(tc.claims(h))
			}
			// An editor's trailing newline is trimmed.
			writeToken(t, tc.file(h.runner), tok+"\n")
			res, err := h.runMain(tc.mode, map[string]string{"web-identity-token-file": tc.input})
			if got := exitCode(err); got != tc.wantExit {
				t.Fatalf("exit %d (%v), want %d\nlog:\n%s", got, err, tc.wantExit, res.MaskedStdout)
			}
			res.AssertNoLeak(t, append(h.secrets(), tok)...)
			res.AssertNoInjectedCommands(t, allowedCommands...)
			for _, want := range tc.wantInLog {
				if !strings.Contains(res.MaskedStdout, want) {
					t.Errorf("log lacks %q:\n%s", want, res.MaskedStdout)
				}
			}
			if h.runner.Token.Count() != 0 {
				t.Errorf("the runner's token endpoint was asked %d times", h.runner.Token.Count())
			}
			reqs := h.sts.Requests()
			if tc.wantExit != exitOK {
				if len(reqs) != 0 || len(res.Env) != 0 {
					t.Errorf("a refused token file still reached STS (%d requests) or exported %d variables", len(reqs), len(res.Env))
				}
				return
			}
			if len(reqs) != 1 || reqs[0].Form.Get("WebIdentityToken") != tok {
				t.Fatalf("STS got %d requests, not the file's token", len(reqs))
			}
			if res.Env["AWS_SECRET_ACCESS_KEY"] != reqs[0].Issued.SecretAccessKey {
				t.Error("later steps do not get the credentials STS issued")
			}
			if !containsMask(res.Masks, tok) {
				t.Error("the file's token was not masked")
			}
			if !strings.Contains(res.MaskedStdout, `"ci":"token-file"`) {
				t.Errorf("the audit record does not say the token came from a file:\n%s", res.MaskedStdout)
			}
		})
	}
}

// TestActionTokenFileFailures: a token the file cannot give, or one from
// another issuer, fails as a token error before any provider call, and a
// job with neither a token file nor the permission is told about both.
func TestActionTokenFileFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		noFile    bool
		content   func(h *harness, other *exchangetest.Issuer) string
		input     map[string]string
		wantExit  int
		wantInLog func(h *harness, other *exchangetest.Issuer) []string
	}{
		{
			name: "token from another issuer",
			content: func(_ *harness, other *exchangetest.Issuer) string {
				return other.Mint(apptest.Audience, time.Now(), nil)
			},
			wantExit: exitToken,
			wantInLog: func(h *harness, other *exchangetest.Issuer) []string {
				return []string{`token issuer "` + other.URL + `"`, `expected "` + h.issuer.URL + `"`, "oidc-issuer", "web-identity-token-file"}
			},
		},
		{
			name: "token for another audience",
			content: func(h *harness, _ *exchangetest.Issuer) string {
				return h.issuer.Mint("https://github.com/octo-org", time.Now(), nil)
			},
			wantExit: exitToken,
			wantInLog: func(*harness, *exchangetest.Issuer) []string {
				return []string{"https://github.com/octo-org", apptest.Audience}
			},
		},
		{
			name: "missing file", noFile: true, wantExit: exitToken,
			wantInLog: func(*harness, *exchangetest.Issuer) []string {
				return []string{"opening the token file", "/github/runner_temp/token", "no such file"}
			},
		},
		{
			name:    "empty file",
			content: func(*harness, *exchangetest.Issuer) string { return "\n" }, wantExit: exitToken,
			wantInLog: func(*harness, *exchangetest.Issuer) []string {
				return []string{"/github/runner_temp/token is empty"}
			},
		},
		{
			name: "neither a token file nor id-token: write", noFile: true, input: map[string]string{}, wantExit: exitToken,
			wantInLog: func(*harness, *exchangetest.Issuer) []string {
				return []string{"ACTIONS_ID_TOKEN_REQUEST_URL is not set", "id-token: write", "web-identity-token-file"}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{mountRunnerTemp: true, noIDToken: true})
			other := exchangetest.StartIssuer(t, "")
			var secrets []string
			if !tc.noFile {
				tok := tc.content(h, other)
				if strings.TrimSpace(tok) != "" {
					secrets = append(secrets, strings.TrimSpace(tok))
				}
				writeToken(t, filepath.Join(h.runner.HostTemp(), "token"), tok)
			}
			inputs := tc.input
			if inputs == nil {
				inputs = map[string]string{"web-identity-token-file": "${{ runner.temp }}/token"}
			}
			res, err := h.run(githubtest.Main, inputs)
			if got := exitCode(err); got != tc.wantExit {
				t.Fatalf("exit %d (%v), want %d\nlog:\n%s", got, err, tc.wantExit, res.MaskedStdout)
			}
			for _, want := range tc.wantInLog(h, other) {
				if !strings.Contains(res.MaskedStdout, want) {
					t.Errorf("log lacks %q:\n%s", want, res.MaskedStdout)
				}
			}
			res.AssertNoLeak(t, append(h.secrets(), secrets...)...)
			res.AssertNoInjectedCommands(t, allowedCommands...)
			if n := len(h.sts.Requests()); n != 0 {
				t.Errorf("STS got %d requests", n)
			}
		})
	}
}

// TestActionGCPTokenFile: the external_account file a container action
// writes for later host steps names the token file by its host path, so
// client libraries there re-read it as it rotates; it holds no URL and no
// request token, since the job has no token endpoint.
func TestActionGCPTokenFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		file  func(r *githubtest.Runner) string
		input string
	}{
		{"runner temp", func(r *githubtest.Runner) string { return filepath.Join(r.HostTemp(), "oidc", "token") }, "${{ runner.temp }}/oidc/token"},
		{"workspace (relative path)", func(r *githubtest.Runner) string { return filepath.Join(r.HostWorkspace(), "token.jwt") }, "token.jwt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{mountRunnerTemp: true, noIDToken: true})
			tok := h.issuer.Mint("https://iam.googleapis.com/"+apptest.GCPProvider, time.Now(), nil)
			hostToken := tc.file(h.runner)
			writeToken(t, hostToken, tok)
			res, err := h.run(githubtest.Main, map[string]string{
				"provider": "gcp", "sts-endpoint": h.gcpURL, "service-account": apptest.ServiceAccount,
				"web-identity-token-file": tc.input,
			})
			if err != nil {
				t.Fatalf("main failed: %v\nlog:\n%s", err, res.MaskedStdout)
			}
			res.AssertNoLeak(t, append(h.secrets(), tok)...)
			path := res.Outputs["credentials-file-path"]
			var doc struct {
				CredentialSource map[string]any `json:"credential_source"`
			}
			if err := json.Unmarshal(h.runner.ReadFromHostStep(t, path), &doc); err != nil {
				t.Fatal(err)
			}
			if got := doc.CredentialSource["file"]; got != hostToken {
				t.Errorf("credential_source.file = %v, want the host path %q", got, hostToken)
			}
			if _, ok := doc.CredentialSource["url"]; ok {
				t.Errorf("credential_source names a URL: %v", doc.CredentialSource)
			}
			if _, err := h.run(githubtest.Post, nil); err != nil {
				t.Fatalf("post step failed: %v", err)
			}
			if _, err := os.Stat(hostToken); err != nil {
				t.Errorf("the post step touched the token file, which is not the action's: %v", err)
			}
		})
	}
}
