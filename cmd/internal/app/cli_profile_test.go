package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/oidc-exchange/oidc-exchange/cmd/internal/apptest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/sharedini/sharedinitest"
	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
)

// cliProfileRun runs the aws command inside a simulated GitHub Actions
// run: step, so that the runner's token endpoint counts the token
// fetches, with AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE naming
// files in a fresh directory. It returns the run, the directory and the
// audit log's path.
func cliProfileRun(t *testing.T, h *harness, args ...string) (r cliRun, dir, audit string) {
	t.Helper()
	dir = t.TempDir()
	audit = filepath.Join(t.TempDir(), "audit.jsonl")
	step := h.runner.Step("main", nil)
	vars := map[string]string{}
	for k, v := range step.Env {
		vars[k] = v
	}
	vars["AWS_CONFIG_FILE"] = filepath.Join(dir, "config")
	vars["AWS_SHARED_CREDENTIALS_FILE"] = filepath.Join(dir, "credentials")
	args = append([]string{"aws", "--region", "eu-west-1", "--oidc-issuer", h.issuer.URL, "--sts-endpoint", h.stsURL,
		"--audit-log", audit}, args...)
	r = runCLI(t, vars, "", &hooks{retry: &fastRetry}, args...)
	h.runner.Finish(step, nil, nil)
	return r, dir, audit
}

// sdkReads reads profile from dir's files as an SDK client would.
func sdkReads(t *testing.T, dir, profile string) config.SharedConfig {
	t.Helper()
	return sharedinitest.LoadProfile(t, profile, filepath.Join(dir, "config"), filepath.Join(dir, "credentials"))
}

// TestCLIRoles: two roles from one token, fetched once, written as two
// profiles into the files the environment names, one audit record each,
// nothing on stdout.
func TestCLIRoles(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{stsRoles: []stsfake.Role{
		{ARN: artifactsRole, Trust: stsfake.TrustPolicy{Audience: apptest.Audience, Subjects: []string{"repo:octo-org/octo-repo:*"}}},
	}})
	r, dir, audit := cliProfileRun(t, h, "--role", "build="+apptest.Role, "--role", "artifacts="+artifactsRole)
	if r.err != nil {
		t.Fatalf("aws: %v\n%s", r.err, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	if n := h.runner.Token.Count(); n != 1 {
		t.Errorf("the token was fetched %d times, want once for both roles", n)
	}
	issued := map[string]*stsfake.Credentials{}
	for _, req := range h.sts.Requests() {
		issued[req.RoleARN] = req.Issued
	}
	for profile, role := range map[string]string{"build": apptest.Role, "artifacts": artifactsRole} {
		got := sdkReads(t, dir, profile)
		if c := issued[role]; c == nil || got.Credentials.SecretAccessKey != c.SecretAccessKey || got.Region != "eu-west-1" {
			t.Errorf("profile %s does not hold the session of %s in eu-west-1", profile, role)
		}
		line := "wrote profile " + profile + " to " + filepath.Join(dir, "config") + " and " + filepath.Join(dir, "credentials") + "\n"
		if !strings.Contains(r.stderr, line) {
			t.Errorf("stderr lacks %q:\n%s", line, r.stderr)
		}
	}
	var targets []string
	for _, rec := range auditRecords(t, audit) {
		if rec.Outcome != exchange.OutcomeSuccess {
			t.Errorf("record for %s: %s", rec.Target, rec.Outcome)
		}
		targets = append(targets, rec.Target)
	}
	slices.Sort(targets)
	if want := []string{artifactsRole, apptest.Role}; !slices.Equal(targets, want) {
		t.Errorf("audit records for %q, want one each for %q", targets, want)
	}
	// Inside a run: step the masks go to stderr; nothing else may show a
	// secret there.
	var rest []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			rest = append(rest, l)
		}
	}
	for _, s := range h.secrets() {
		if strings.Contains(strings.Join(rest, "\n"), s) {
			t.Fatal("stderr shows a secret outside a mask command")
		}
	}
	if n := strings.Count(r.stderr, `"schema":"oidc-exchange/audit/v1"`); n != 2 {
		t.Errorf("%d audit lines on stderr, want 2", n)
	}
}

// TestCLIProfile: one role into a named profile, next to a profile of
// the user's that stays; the same name again is refused without
// --overwrite-profile.
func TestCLIProfile(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(h.issuer.Mint(apptest.Audience, time.Now(), nil)), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	vars := map[string]string{"HOME": dir}
	cfgFile := filepath.Join(dir, ".aws", "config")
	if err := os.MkdirAll(filepath.Dir(cfgFile), 0o700); err != nil {
		t.Fatal(err)
	}
	user := "# mine\n[profile user]\nregion = us-east-1\n"
	if err := os.WriteFile(cfgFile, []byte(user), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"aws", "--region", "eu-west-1", "--role-arn", apptest.Role, "--oidc-issuer", h.issuer.URL,
		"--sts-endpoint", h.stsURL, "--token-file", tokenFile, "--profile", "dev"}
	r := runCLI(t, vars, "", &hooks{retry: &fastRetry}, args...)
	if r.err != nil {
		t.Fatalf("aws: %v\n%s", r.err, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	credFile := filepath.Join(dir, ".aws", "credentials")
	if want := "wrote profile dev to " + cfgFile + " and " + credFile + "\n"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	got := sdkReads(t, filepath.Join(dir, ".aws"), "dev")
	if issued := h.sts.Requests()[0].Issued; got.Credentials.AccessKeyID != issued.AccessKeyID || got.Region != "eu-west-1" {
		t.Errorf("profile dev: key id %q, region %q", got.Credentials.AccessKeyID, got.Region)
	}
	if u := sdkReads(t, filepath.Join(dir, ".aws"), "user"); u.Region != "us-east-1" {
		t.Errorf("the user's profile changed: region %q", u.Region)
	}
	if b := mustRead(t, cfgFile); !strings.Contains(b, "# mine\n") {
		t.Errorf("the user's comment is gone:\n%s", b)
	}

	before := mustRead(t, credFile)
	r = runCLI(t, vars, "", &hooks{retry: &fastRetry}, args...)
	if exitCode(r.err) != exitInput || !strings.Contains(r.stderr, "[profile dev]") || !strings.Contains(r.stderr, "--overwrite-profile") {
		t.Errorf("the same profile again: exit %d (%v)\n%s", exitCode(r.err), r.err, r.stderr)
	}
	if mustRead(t, credFile) != before {
		t.Error("a refused run changed the credentials file")
	}
	r = runCLI(t, vars, "", &hooks{retry: &fastRetry}, append(args, "--overwrite-profile")...)
	if r.err != nil {
		t.Fatalf("aws --overwrite-profile: %v\n%s", r.err, r.stderr)
	}
	if mustRead(t, credFile) == before {
		t.Error("--overwrite-profile left the old keys")
	}
}

// TestCLIProfileDenied: one role of two is denied; no profile is written
// and both exchanges are audited.
func TestCLIProfileDenied(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{stsRoles: []stsfake.Role{
		{ARN: artifactsRole, Trust: stsfake.TrustPolicy{Audience: apptest.Audience, Subjects: []string{"repo:someone-else/*"}}},
	}})
	r, dir, audit := cliProfileRun(t, h, "--role", "build="+apptest.Role, "--role", "artifacts="+artifactsRole)
	if r.err == nil || exitCode(r.err) == exitOK {
		t.Fatalf("aws succeeded with a denied role\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, artifactsRole) {
		t.Errorf("the error does not name the denied role:\n%s", r.stderr)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("files written after a denial: %v, %v", entries, err)
	}
	if r.stdout != "" || strings.Contains(r.stderr, "wrote profile") {
		t.Errorf("stdout %q; stderr claims a profile:\n%s", r.stdout, r.stderr)
	}
	outcomes := map[string]string{}
	for _, rec := range auditRecords(t, audit) {
		outcomes[rec.Target] = rec.Outcome
	}
	if len(outcomes) != 2 || outcomes[artifactsRole] == exchange.OutcomeSuccess {
		t.Errorf("audit outcomes %v, want two with %s failed", outcomes, artifactsRole)
	}
}

// TestCLIProfileUsage: a format prints credentials, and profiles are
// written instead, so both together is a usage error naming both.
func TestCLIProfileUsage(t *testing.T) {
	t.Parallel()
	base := []string{"aws", "--region", "eu-west-1", "--token-file", "/nonexistent"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "profile and json", args: []string{"--role-arn", apptest.Role, "--profile", "dev", "--format", "json"},
			want: "--format json prints credentials and --profile/--role writes them into profiles instead"},
		{name: "roles and credential-process", args: []string{"--role", "a=" + apptest.Role, "--role", "b=" + artifactsRole,
			"--format", "credential-process"}, want: "--format credential-process prints"},
		{name: "roles and role-arn", args: []string{"--role", "a=" + apptest.Role, "--role-arn", apptest.Role}, want: "--role: names every role"},
		{name: "bad role line", args: []string{"--role", "a"}, want: "--role: line 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r := runCLI(t, map[string]string{"HOME": dir}, "", nil, append(base, tc.args...)...)
			if got := exitCode(r.err); got != exitInput {
				t.Fatalf("exit %d (%v), want %d\n%s", got, r.err, exitInput, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("wrote %v", entries)
			}
		})
	}
}
