package app

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const trustCorpus = "../../../trust/testdata/checks"

func TestCLILint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantExit int
		want     string
	}{
		{name: "clean policy", args: []string{filepath.Join(trustCorpus, "aws", "aws-sub-missing.good.json")}, wantExit: exitOK},
		{name: "critical finding fails", args: []string{filepath.Join(trustCorpus, "aws", "aws-sub-missing.bad.json")}, wantExit: exitFindings, want: "aws-sub-missing"},
		{name: "below --fail-on passes", args: []string{"--fail-on", "critical", filepath.Join(trustCorpus, "aws", "aws-aud-not-pinned.bad.json")}, wantExit: exitOK, want: "aws-aud-not-pinned"},
		{name: "json", args: []string{"--format", "json", filepath.Join(trustCorpus, "aws", "aws-sub-missing.bad.json")}, wantExit: exitFindings, want: `"aws-sub-missing"`},
		{name: "sarif", args: []string{"--format", "sarif", filepath.Join(trustCorpus, "aws", "aws-sub-missing.bad.json")}, wantExit: exitFindings, want: `"version": "2.1.0"`},
		{name: "no file", args: nil, wantExit: exitInput},
		{name: "bad --fail-on", args: []string{"--fail-on", "severe", filepath.Join(trustCorpus, "aws", "aws-sub-missing.good.json")}, wantExit: exitInput},
		{name: "not a trust document", args: []string{"../../../action.yml"}, wantExit: exitInput, want: "could not be linted"},
		// One unrecognised or missing file must not hide the others'
		// findings, and outranks them in the exit code.
		{name: "unrecognised file among others", args: []string{"../../../trust/testdata/errors/unknown-object.json",
			filepath.Join(trustCorpus, "aws", "aws-sub-missing.bad.json"), "no-such-file.json"}, wantExit: exitInput, want: "aws-sub-missing"},
		{name: "unrecognised file in sarif", args: []string{"--format", "sarif", "../../../trust/testdata/errors/unknown-object.json",
			filepath.Join(trustCorpus, "aws", "aws-sub-missing.bad.json")}, wantExit: exitInput, want: `"toolExecutionNotifications"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, map[string]string{}, "", nil, append([]string{"lint"}, tc.args...)...)
			if got := exitCode(r.err); got != tc.wantExit {
				t.Fatalf("exit %d (%v), want %d\n%s%s", got, r.err, tc.wantExit, r.stdout, r.stderr)
			}
			if !strings.Contains(strings.ReplaceAll(r.stdout, `":"`, `": "`), tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, r.stdout)
			}
			// Each error line names its file once, not "f: f: …".
			for line := range strings.Lines(r.stderr) {
				if name, rest, ok := strings.Cut(strings.TrimPrefix(line, "oidc-exchange lint: "), ": "); ok && strings.HasSuffix(name, ".json") && strings.Contains(rest, name) {
					t.Errorf("path printed twice: %q", line)
				}
			}
		})
	}
}

// TestCLIPlanLintsClean: what plan prints, lint accepts with no finding
// at or above low, through the commands a user runs.
func TestCLIPlanLintsClean(t *testing.T) {
	t.Parallel()
	r := runCLI(t, map[string]string{}, "", nil, "plan", "--provider", "aws", "--repository", "octo-org/octo-repo",
		"--repository-id", "456789", "--owner-id", "123456", "--environment", "production", "--format", "json")
	if r.err != nil {
		t.Fatalf("plan: %v\n%s", r.err, r.stderr)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("plan --format json is not JSON: %v", err)
	}
	policy, ok := doc["aws_trust_policy"]
	if !ok {
		t.Fatalf("no aws_trust_policy key in %v", slices.Sorted(maps.Keys(doc)))
	}
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, policy, 0o600); err != nil {
		t.Fatal(err)
	}
	l := runCLI(t, map[string]string{}, "", nil, "lint", "--fail-on", "low", path)
	if l.err != nil {
		t.Fatalf("lint of the plan: %v\n%s", l.err, l.stdout)
	}
	for _, args := range [][]string{
		{"plan", "--provider", "gcp", "--repository", "octo-org/octo-repo", "--repository-id", "456789", "--owner-id", "123456", "--ref", "refs/heads/main"},
		{"plan", "--provider", "azure", "--repository", "octo-org/octo-repo", "--repository-id", "456789", "--owner-id", "123456", "--environment", "production"},
	} {
		if p := runCLI(t, map[string]string{}, "", nil, args...); p.err != nil || p.stdout == "" {
			t.Errorf("%v: %v\n%s", args, p.err, p.stderr)
		}
	}
	if p := runCLI(t, map[string]string{}, "", nil, "plan", "--repository", "octo-org/octo-repo"); exitCode(p.err) != exitInput {
		t.Errorf("plan without a context: exit %d", exitCode(p.err))
	}
}

// TestCLIMigrate: report, then --write on a copy of a workflow with stored
// AWS keys; the rewritten file keeps its comments and uses oidc-exchange.
func TestCLIMigrate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wf := filepath.Join(dir, ".github", "workflows")
	if err := os.MkdirAll(wf, 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile("../../../trust/migrate/testdata/step_keys.in.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wf, "deploy.yml"), in, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, map[string]string{}, "", nil, "migrate", "--repository", "octo-org/octo-repo", "--format", "json", dir)
	if r.err != nil || !strings.Contains(r.stdout, "migrate-aws-static-keys") {
		t.Fatalf("migrate report: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	w := runCLI(t, map[string]string{}, "", nil, "migrate", "--write", dir)
	if w.err != nil || !strings.Contains(w.stdout, "+") || !strings.Contains(w.stdout, "oidc-exchange/oidc-exchange@v1") {
		t.Fatalf("migrate --write: %v\n%s%s", w.err, w.stdout, w.stderr)
	}
	out, err := os.ReadFile(filepath.Join(wf, "deploy.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "oidc-exchange/oidc-exchange@v1") || strings.Contains(string(out), "aws-secret-access-key") {
		t.Errorf("rewritten workflow:\n%s", out)
	}
	for _, line := range strings.Split(string(in), "\n") {
		if c := strings.TrimSpace(line); strings.HasPrefix(c, "#") && !strings.Contains(string(out), c) {
			t.Errorf("comment %q lost", c)
		}
	}
}

// TestCLIMigrateGCP: --write with --workload-identity-provider and
// --service-account on a workflow with a stored GCP key.
func TestCLIMigrateGCP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wf := filepath.Join(dir, ".github", "workflows")
	if err := os.MkdirAll(wf, 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile("../../../trust/migrate/testdata/gcp_auth.in.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wf, "deploy.yml"), in, 0o644); err != nil {
		t.Fatal(err)
	}
	const wip = "projects/42/locations/global/workloadIdentityPools/ci-pool/providers/github-ci"
	const sa = "deployer@prod.iam.gserviceaccount.com"
	r := runCLI(t, map[string]string{}, "", nil, "migrate", "--repository", "octo-org/octo-repo", "--format", "json", dir)
	if r.err != nil || !strings.Contains(r.stdout, `"rewritable": true`) || !strings.Contains(r.stdout, "migrate-gcp-credentials-json") {
		t.Fatalf("migrate report: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	w := runCLI(t, map[string]string{}, "", nil, "migrate", "--write", "--workload-identity-provider", wip, "--service-account", sa, dir)
	if w.err != nil || !strings.Contains(w.stdout, "+          workload-identity-provider: "+wip) {
		t.Fatalf("migrate --write: %v\n%s%s", w.err, w.stdout, w.stderr)
	}
	out, err := os.ReadFile(filepath.Join(wf, "deploy.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"provider: gcp", "service-account: " + sa, "steps.auth.outputs.access-token"} {
		if !strings.Contains(string(out), s) {
			t.Errorf("rewritten workflow lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(string(out), "credentials_json") || strings.Contains(string(out), "secrets.") {
		t.Errorf("rewritten workflow keeps the key:\n%s", out)
	}
}

// TestCLIMigrateFlags: the values --write would put into workflows are
// checked first, and a bad one leaves every file as it was; --region
// fills aws-region when the workflow names none.
func TestCLIMigrateFlags(t *testing.T) {
	t.Parallel()
	in := "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: ./deploy.sh\n        env:\n          AWS_ACCESS_KEY_ID: ${{ secrets.K }}\n          AWS_SECRET_ACCESS_KEY: ${{ secrets.S }}\n"
	for _, tc := range []struct {
		name string
		args []string
		err  string
		want string
	}{
		{"bad role", []string{"--role-arn", "notanarn"}, `"notanarn" is not an ARN`, ""},
		{"bad region", []string{"--region", "EU West"}, "is not a region name", ""},
		{"bad provider", []string{"--workload-identity-provider", "projects/my-proj/locations/global/workloadIdentityPools/p/providers/q"}, "use the project number", ""},
		{"bad service account", []string{"--service-account", "not an email"}, "is not an email address", ""},
		{"region", []string{"--role-arn", "arn:aws:iam::123456789012:role/deploy", "--region", "eu-west-1"}, "", "      - uses: oidc-exchange/oidc-exchange@v1\n        with:\n          role-to-assume: arn:aws:iam::123456789012:role/deploy\n          aws-region: eu-west-1\n      - run: ./deploy.sh\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			wf := filepath.Join(dir, ".github", "workflows")
			if err := os.MkdirAll(wf, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(wf, "deploy.yml"), []byte(in), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, map[string]string{}, "", nil, append(append([]string{"migrate", "--write"}, tc.args...), dir)...)
			out, err := os.ReadFile(filepath.Join(wf, "deploy.yml"))
			if err != nil {
				t.Fatal(err)
			}
			if tc.err != "" {
				if r.err == nil || !strings.Contains(r.err.Error(), tc.err) {
					t.Errorf("err = %v, want %q", r.err, tc.err)
				}
				if string(out) != in {
					t.Errorf("workflow written despite the error:\n%s", out)
				}
				return
			}
			if r.err != nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("err %v, workflow:\n%s", r.err, out)
			}
		})
	}
}
