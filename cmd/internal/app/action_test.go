package app

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
)

var awsEnvNames = []string{"AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}

// scenario is one run of the action's main and post steps.
type scenario struct {
	name     string
	opts     harnessOptions
	inputs   map[string]string
	prepare  func(h *harness)
	wantExit int
	// wantInLog must appear in the masked log (the runner's view).
	wantInLog []string
	// wantSTSCalls is how many requests STS must see (-1: don't check).
	wantSTSCalls int
	check        func(t *testing.T, h *harness, res *githubtest.StepResult)
}

func scenarios() []scenario {
	return []scenario{
		{
			name: "success with defaults", wantExit: exitOK, wantSTSCalls: 1,
			check: func(t *testing.T, _ *harness, res *githubtest.StepResult) {
				for _, n := range awsEnvNames {
					if res.Env[n] == "" {
						t.Errorf("%s not exported", n)
					}
				}
				if res.Outputs["aws-account-id"] != "111122223333" {
					t.Errorf("aws-account-id = %q", res.Outputs["aws-account-id"])
				}
				if !strings.Contains(res.Summary, "credentials issued") {
					t.Error("no job summary")
				}
			},
		},
		{
			name: "success with every option", wantExit: exitOK, wantSTSCalls: 1,
			opts: harnessOptions{maxSession: 7200, mountRunnerTemp: true, debug: true},
			inputs: map[string]string{
				"output-credentials": "true", "mask-aws-account-id": "true", "role-duration-seconds": "7200",
				"role-session-name": "deploy-session", "inline-session-policy": `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}`,
				"managed-session-policies": "arn:aws:iam::aws:policy/ReadOnlyAccess", "allowed-account-ids": "999999999999,111122223333",
				"expect-claims": "repository_owner_id=123456\nref=refs/heads/*", "unset-current-credentials": "true",
			},
			check: func(t *testing.T, h *harness, res *githubtest.StepResult) {
				if res.Outputs["aws-expiration"] == "" || strings.Contains(res.Outputs["aws-expiration"], `"`) {
					t.Errorf("aws-expiration = %q, want RFC 3339 without quotes", res.Outputs["aws-expiration"])
				}
				if !containsMask(res.Masks, "111122223333") {
					t.Error("account id not masked with mask-aws-account-id")
				}
				form := h.sts.Requests()[0].Form
				if form.Get("RoleSessionName") != "deploy-session" || form.Get("DurationSeconds") != "7200" ||
					form.Get("PolicyArns.member.1.arn") != "arn:aws:iam::aws:policy/ReadOnlyAccess" || !strings.HasPrefix(form.Get("Policy"), `{"Version":"2012-10-17"`) {
					t.Errorf("STS request = %v", form)
				}
			},
		},
		{
			name: "trust policy denies", wantExit: exitDenied, wantSTSCalls: 1,
			opts:      harnessOptions{trustedSubjects: []string{"repo:octo-org/octo-repo:environment:production"}},
			wantInLog: []string{"AccessDenied", "repo:octo-org/octo-repo:ref:refs/heads/main", `:sub": [`, `"repo:octo-org@123456/octo-repo@456789:ref:refs/heads/main",`, "StringEquals", "job_workflow_ref"},
		},
		{
			name: "claim expectation fails before STS", wantExit: exitDenied, wantSTSCalls: 0,
			inputs:    map[string]string{"expect-claims": "ref=refs/heads/release\nrepository_owner_id=123456"},
			wantInLog: []string{"refs/heads/release", "refs/heads/main", "not sent to any provider"},
		},
		{
			name: "audience the role does not accept", wantExit: exitToken, wantSTSCalls: 1,
			inputs:    map[string]string{"audience": "https://github.com/octo-org"},
			wantInLog: []string{"InvalidIdentityToken"},
		},
		{
			name: "account not allowed", wantExit: exitDenied, wantSTSCalls: 1,
			inputs:    map[string]string{"allowed-account-ids": "999999999999"},
			wantInLog: []string{"AccountNotAllowed"},
		},
		{
			// SeaweedFS's STS names no session; MinIO's sends an empty Arn.
			// A custom sts-endpoint (the harness always sets one) may:
			// the credentials are exported without the account outputs.
			name: "STS without an account (SeaweedFS)", wantExit: exitOK, wantSTSCalls: 1,
			prepare: func(h *harness) { h.sts.ShapeAnswers(stsfake.SeaweedFS) },
			check:   checkNoAccount,
		},
		{
			name: "STS without an account (MinIO)", wantExit: exitOK, wantSTSCalls: 1,
			prepare: func(h *harness) { h.sts.ShapeAnswers(stsfake.MinIO) },
			check:   checkNoAccount,
		},
		{
			name: "STS without an account, allowed-account-ids set", wantExit: exitInput, wantSTSCalls: 1,
			inputs:    map[string]string{"allowed-account-ids": "111122223333"},
			prepare:   func(h *harness) { h.sts.ShapeAnswers(stsfake.MinIO) },
			wantInLog: []string{"AccountUnknown", "allowed-account-ids cannot be checked", "names no AWS account"},
			check: func(t *testing.T, _ *harness, res *githubtest.StepResult) {
				if len(res.Env) != 0 || res.Outputs["aws-account-id"] != "" {
					t.Errorf("exported %v and outputs %v after the refusal", slices.Sorted(maps.Keys(res.Env)), slices.Sorted(maps.Keys(res.Outputs)))
				}
				checkAuditsSession(t, res)
			},
		},
		{
			name: "STS answers a one-character secret", wantExit: exitInput, wantSTSCalls: 1,
			prepare:   func(h *harness) { h.sts.ShapeAnswers(func(a *stsfake.Answer) { a.SecretAccessKey = "1" }) },
			wantInLog: []string{"InvalidAnswer", "SecretAccessKey has 1 characters"},
			check: func(t *testing.T, _ *harness, res *githubtest.StepResult) {
				if len(res.Env) != 0 {
					t.Errorf("exported %v", slices.Sorted(maps.Keys(res.Env)))
				}
				for _, m := range res.Masks {
					if len(m) < exchange.MinSecretLength {
						t.Errorf("registered the mask %q", m)
					}
				}
				checkAuditsSession(t, res)
			},
		},
		{
			name: "bad input fails before any call", wantExit: exitInput, wantSTSCalls: 0,
			inputs:    map[string]string{"role-duration-seconds": "100", "output-credentials": "yes"},
			wantInLog: []string{"role-duration-seconds", "output-credentials"},
			check: func(t *testing.T, h *harness, _ *githubtest.StepResult) {
				if h.runner.Token.Count() != 0 {
					t.Error("a token was requested despite invalid input")
				}
			},
		},
		{
			name: "no id-token permission", wantExit: exitToken, wantSTSCalls: 0,
			opts:      harnessOptions{noIDToken: true},
			wantInLog: []string{"id-token: write", "fork"},
		},
		{
			name: "expired token never reaches STS", wantExit: exitToken, wantSTSCalls: 0,
			opts:      harnessOptions{mintAt: time.Now().Add(-time.Hour)},
			wantInLog: []string{"expired"},
		},
		{
			name: "role maximum session exceeded", wantExit: exitInput, wantSTSCalls: 1,
			inputs:    map[string]string{"role-duration-seconds": "7200"},
			wantInLog: []string{"ValidationError"},
		},
		{
			name: "throttled then success", wantExit: exitOK, wantSTSCalls: 3,
			prepare: func(h *harness) {
				h.sts.FailNext(stsfake.Failure{Code: "Throttling", Message: "Rate exceeded"}, stsfake.Failure{Code: "Throttling", Message: "Rate exceeded"})
			},
		},
		{
			name: "STS unavailable", wantExit: exitUnavailable, wantSTSCalls: 3,
			prepare: func(h *harness) {
				f := stsfake.Failure{Code: "ServiceUnavailable", Message: "try later"}
				h.sts.FailNext(f, f, f)
			},
		},
		{
			name: "token endpoint unavailable", wantExit: exitUnavailable, wantSTSCalls: 0,
			prepare: func(h *harness) { h.runner.Token.FailNext(500, 502, 503) },
		},
		{
			name: "unset current credentials on failure", wantExit: exitDenied, wantSTSCalls: 1,
			opts:   harnessOptions{trustedSubjects: []string{"repo:other/repo:*"}},
			inputs: map[string]string{"unset-current-credentials": "true"},
			check: func(t *testing.T, _ *harness, res *githubtest.StepResult) {
				for _, n := range awsEnvNames {
					if v, ok := res.Env[n]; !ok || v != "" {
						t.Errorf("%s = %q, %v; want blanked", n, v, ok)
					}
				}
			},
		},
	}
}

func containsMask(masks []string, v string) bool {
	for _, m := range masks {
		if m == v {
			return true
		}
	}
	return false
}

// TestActionScenarios runs every scenario through the runner simulation
// and proves, for each, the exit code, what was exported, that no secret
// leaked anywhere and that nothing printed was a foreign workflow command.
// The post step runs after every main step and never fails.
func TestActionScenarios(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, sc.opts)
			if sc.prepare != nil {
				sc.prepare(h)
			}
			auditLog := filepath.Join(h.runner.ContainerPath("/github/home"), "audit.jsonl")
			inputs := map[string]string{"audit-log": auditLog}
			for k, v := range sc.inputs {
				inputs[k] = v
			}
			res, err := h.run(githubtest.Main, inputs)
			if got := exitCode(err); got != sc.wantExit {
				t.Fatalf("exit code %d (%v), want %d\nlog:\n%s", got, err, sc.wantExit, res.MaskedStdout)
			}
			if sc.wantSTSCalls >= 0 && len(h.sts.Requests()) != sc.wantSTSCalls {
				t.Errorf("STS saw %d requests, want %d", len(h.sts.Requests()), sc.wantSTSCalls)
			}
			for _, want := range sc.wantInLog {
				if !strings.Contains(res.MaskedStdout, want) {
					t.Errorf("log lacks %q:\n%s", want, res.MaskedStdout)
				}
			}
			if sc.wantExit != exitOK {
				if res.Env["AWS_ACCESS_KEY_ID"] != "" || len(res.Outputs) != 0 {
					t.Errorf("a failed run exported credentials or outputs: env %v outputs %v", slices.Sorted(maps.Keys(res.Env)), slices.Sorted(maps.Keys(res.Outputs)))
				}
				if !strings.Contains(res.MaskedStdout, "::error::") && !strings.Contains(res.Stdout, "::error::") {
					t.Error("no ::error:: annotation on failure")
				}
			}
			files := []string{}
			if _, err := os.Stat(auditLog); err == nil {
				files = append(files, auditLog)
				assertAuditFile(t, auditLog, sc.wantExit == exitOK)
			}
			res.WithFiles(files...).AssertNoLeak(t, h.secrets()...)
			res.AssertNoInjectedCommands(t, allowedCommands...)
			if sc.check != nil {
				sc.check(t, h, res)
			}

			post, err := h.run(githubtest.Post, nil)
			if err != nil {
				t.Fatalf("post step failed: %v", err)
			}
			post.AssertNoLeak(t, h.secrets()...)
			post.AssertNoInjectedCommands(t, allowedCommands...)
			if sc.wantExit == exitOK {
				for _, n := range awsEnvNames {
					if v, ok := post.Env[n]; !ok || v != "" {
						t.Errorf("post: %s = %q (set %v), want blanked", n, v, ok)
					}
				}
			}
		})
	}
}

func assertAuditFile(t *testing.T, path string, success bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 1 {
		t.Fatalf("audit log has %d records, want 1", len(lines))
	}
	want := `"outcome":"failure"`
	if success {
		want = `"outcome":"success"`
	}
	if !strings.Contains(lines[0], want) || !strings.Contains(lines[0], `"schema":"`+exchange.AuditSchema+`"`) {
		t.Errorf("audit record %s lacks %s", lines[0], want)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestActionGolden pins the exported files and the summary of a success,
// with secret values redacted before comparison.
func TestActionGolden(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	res, err := h.run(githubtest.Main, map[string]string{"output-credentials": "true"})
	if err != nil {
		t.Fatal(err)
	}
	secrets := h.secrets()
	redact := func(m map[string]string) string {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(m)) {
			v := m[k]
			for _, s := range secrets {
				if v == s {
					v = "<secret>"
				}
			}
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		}
		return normalize(b.String())
	}
	exchangetest.Golden(t, "action_env.golden", redact(res.Env), *update)
	exchangetest.Golden(t, "action_outputs.golden", redact(res.Outputs), *update)
	exchangetest.Golden(t, "action_summary.golden", normalize(res.Summary), *update)
	var state []string
	for k := range res.State {
		state = append(state, k+"="+res.State[k])
	}
	sort.Strings(state)
	exchangetest.Golden(t, "action_state.golden", strings.Join(state, "\n")+"\n", *update)
}

// TestActionCommandInjection gives the token claims that try to inject
// workflow commands through every path that prints claims: a success
// (summary, audit record), a trust-policy denial and a claim mismatch
// (explanations).
func TestActionCommandInjection(t *testing.T) {
	t.Parallel()
	hostile := map[string]any{
		"ref":              "refs/heads/x\n::set-env name=LD_PRELOAD::/tmp/x.so\n",
		"environment":      "prod%0A::add-mask::%25\r::error::owned",
		"job_workflow_ref": "o/r/.github/workflows/x.yml@refs/heads/::stop-commands::abc\n##[set-output name=x]y",
		"sub":              "repo:octo-org/octo-repo:environment:prod%0A::warning::x",
		"actor":            "::add-path::/tmp/evil",
	}
	for _, tc := range []struct {
		name     string
		subjects []string
		inputs   map[string]string
		wantExit int
	}{
		{name: "success", subjects: []string{"repo:octo-org/octo-repo:*"}, wantExit: exitOK},
		{name: "denied", subjects: []string{"repo:nobody/*"}, wantExit: exitDenied},
		{name: "claim mismatch", subjects: []string{"repo:octo-org/octo-repo:*"}, inputs: map[string]string{"expect-claims": "ref=refs/heads/main\nenvironment=prod"}, wantExit: exitDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{trustedSubjects: tc.subjects, claims: hostile})
			res, err := h.run(githubtest.Main, tc.inputs)
			if got := exitCode(err); got != tc.wantExit {
				t.Fatalf("exit %d (%v), want %d", got, err, tc.wantExit)
			}
			res.AssertNoInjectedCommands(t, allowedCommands...)
			res.AssertNoLeak(t, h.secrets()...)
			for k := range res.Env {
				if k == "LD_PRELOAD" {
					t.Fatal("a claim injected an environment variable")
				}
			}
			if len(res.Path) != 0 {
				t.Fatalf("a claim added to PATH: %v", res.Path)
			}
			for _, line := range strings.Split(res.Summary, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "::") {
					t.Fatalf("summary line starts a command: %q", line)
				}
			}
		})
	}
}

// TestPostWithoutState: a post step whose main step never saved state
// (main crashed, or the job was cancelled first) succeeds quietly.
func TestPostWithoutState(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	res, err := h.run(githubtest.Post, map[string]string{})
	if err != nil {
		t.Fatalf("post without state failed: %v", err)
	}
	if len(res.Env) != 0 || len(res.Outputs) != 0 {
		t.Errorf("post without state wrote env %v, outputs %v", slices.Sorted(maps.Keys(res.Env)), slices.Sorted(maps.Keys(res.Outputs)))
	}
	if h.runner.Token.Count() != 0 || len(h.sts.Requests()) != 0 {
		t.Error("post step ran an exchange")
	}
}

// TestPostSkipCleanup honours the opt-out variable that workflows written
// for configure-aws-credentials already set.
func TestPostSkipCleanup(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	if _, err := h.run(githubtest.Main, nil); err != nil {
		t.Fatal(err)
	}
	step := h.runner.Step(githubtest.Post, nil)
	step.Env["AWS_SKIP_CLEANUP_STEP"] = "true"
	var out strings.Builder
	err := realMain(t.Context(), &env{args: append([]string{"/oidc-exchange-post"}, step.Args...), getenv: step.Getenv,
		stdin: strings.NewReader(""), stdout: &out, stderr: &out})
	res := h.runner.Finish(step, []byte(out.String()), nil)
	if _, blanked := res.Env["AWS_ACCESS_KEY_ID"]; err != nil || blanked {
		t.Fatalf("cleanup ran despite AWS_SKIP_CLEANUP_STEP: err %v env %v", err, slices.Sorted(maps.Keys(res.Env)))
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{&usageError{msg: "x"}, exitInput},
		{exchange.InputError("aws-region", "bad"), exitInput},
		{&exchange.ProviderError{Kind: exchange.ErrProviderRejected}, exitInput},
		{fmt.Errorf("x: %w", exchange.ErrTokenUnavailable), exitToken},
		{exchange.ErrAudienceMismatch, exitToken},
		{&exchange.ExpectationError{}, exitDenied},
		{&exchange.ProviderError{Kind: exchange.ErrProviderDenied}, exitDenied},
		{&reportedError{err: exchange.ErrProviderUnavailable}, exitUnavailable},
		{errors.New("boom"), exitInternal},
	}
	for _, tc := range tests {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// checkNoAccount asserts an export without the account outputs, and an
// audit record that names the session and the key.
func checkNoAccount(t *testing.T, _ *harness, res *githubtest.StepResult) {
	t.Helper()
	for _, n := range awsEnvNames {
		if res.Env[n] == "" {
			t.Errorf("%s not exported", n)
		}
	}
	if _, ok := res.Outputs["aws-account-id"]; ok {
		t.Errorf("aws-account-id = %q, want no such output", res.Outputs["aws-account-id"])
	}
	if _, ok := res.Outputs["authenticated-arn"]; ok {
		t.Errorf("authenticated-arn = %q, want no such output", res.Outputs["authenticated-arn"])
	}
	checkAuditsSession(t, res)
}

// checkAuditsSession asserts that the audit record names the session and
// the hash of its access key, whatever became of the credentials.
func checkAuditsSession(t *testing.T, res *githubtest.StepResult) {
	t.Helper()
	for _, want := range []string{`"session_name":"GitHubActions-`, `"credential_sha256":"`} {
		if !strings.Contains(res.MaskedStdout, want) {
			t.Errorf("audit record lacks %s", want)
		}
	}
	if strings.Contains(res.MaskedStdout, `"credential_sha256":""`) {
		t.Error("audit record has an empty credential_sha256")
	}
}
