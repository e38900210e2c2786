package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/cmd/internal/apptest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/sharedini/sharedinitest"
	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
)

const (
	artifactsRole = "arn:aws:iam::111122223333:role/artifacts"
	prodRole      = "arn:aws:iam::444455556666:role/prod-deploy"
)

// rolesJob has three roles: two that trust the job's token and one, in
// another account, that trusts sessions of the first (role chaining).
func rolesJob(t *testing.T, artifactsSubjects []string) *harness {
	t.Helper()
	return newHarness(t, harnessOptions{stsRoles: []stsfake.Role{
		{ARN: artifactsRole, Trust: stsfake.TrustPolicy{Audience: apptest.Audience, Subjects: artifactsSubjects}},
		{ARN: prodRole, TrustedRoles: []string{apptest.Role}},
	}})
}

const threeRoles = "build=" + apptest.Role + "\nartifacts = " + artifactsRole + "\n# the production account\nprod=" + apptest.Role + " > " + prodRole + "\n"

// TestActionRoles: one step, three roles from one token, three profiles
// in a shared file pair, three audit records, no keys in the
// environment; the post step takes the profiles away.
func TestActionRoles(t *testing.T) {
	t.Parallel()
	h := rolesJob(t, []string{"repo:octo-org/octo-repo:*"})
	audit := filepath.Join(h.runner.ContainerPath("/github/home"), "audit.jsonl")
	res, err := h.run(githubtest.Main, map[string]string{"roles": threeRoles, "role-to-assume": "", "audit-log": audit})
	if err != nil {
		t.Fatalf("main: %v\n%s", err, res.MaskedStdout)
	}
	if n := h.runner.Token.Count(); n != 1 {
		t.Errorf("the token was fetched %d times, want once for every role", n)
	}
	for _, n := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
		if _, ok := res.Env[n]; ok {
			t.Errorf("several profiles exported %s", n)
		}
	}
	creds := string(h.runner.ReadFromHostStep(t, res.Env["AWS_SHARED_CREDENTIALS_FILE"]))
	conf := string(h.runner.ReadFromHostStep(t, res.Env["AWS_CONFIG_FILE"]))
	issued := map[string]*stsfake.Credentials{}
	for _, r := range h.sts.Requests() {
		// The prod chain's first hop is a web-identity session of the
		// build role too, asked for the shortest duration: it only signs
		// the next call and is in no profile.
		if r.Issued != nil && r.Form.Get("DurationSeconds") != "900" {
			issued[r.RoleARN+"/"+r.Action] = r.Issued
		}
	}
	for profile, want := range map[string]string{
		"build":     apptest.Role + "/" + stsfake.ActionAssumeRoleWithWebIdentity,
		"artifacts": artifactsRole + "/" + stsfake.ActionAssumeRoleWithWebIdentity,
		"prod":      prodRole + "/" + stsfake.ActionAssumeRole,
	} {
		if !strings.Contains(conf, "[profile "+profile+"]") {
			t.Errorf("the config file has no profile %s", profile)
		}
		c := issued[want]
		if c == nil || !strings.Contains(creds, c.SecretAccessKey) {
			t.Errorf("profile %s does not hold the session of %s", profile, want)
			continue
		}
		// As the AWS SDKs read it.
		sdk := sharedinitest.LoadProfile(t, profile, res.Env["AWS_CONFIG_FILE"], res.Env["AWS_SHARED_CREDENTIALS_FILE"])
		if sdk.Region != "eu-west-1" || sdk.Credentials.AccessKeyID != c.AccessKeyID || sdk.Credentials.SecretAccessKey != c.SecretAccessKey || sdk.Credentials.SessionToken != c.SessionToken {
			t.Errorf("the SDK reads profile %s as another session or region", profile)
		}
	}
	records := auditRecords(t, audit)
	var targets []string
	for _, r := range records {
		if r.Outcome != exchange.OutcomeSuccess {
			t.Errorf("record for %s: %s", r.Target, r.Outcome)
		}
		targets = append(targets, r.Target)
	}
	slices.Sort(targets)
	want := []string{apptest.Role, artifactsRole, prodRole}
	slices.Sort(want)
	if !slices.Equal(targets, want) {
		t.Errorf("audit records for %v, want one per role %v", targets, want)
	}
	res.WithFiles(audit).AssertNoLeak(t, h.secrets()...)

	post, err := h.run(githubtest.Post, nil)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	for _, f := range []string{res.Env["AWS_CONFIG_FILE"], res.Env["AWS_SHARED_CREDENTIALS_FILE"]} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("post left %s (%v)", f, err)
		}
	}
	if v, ok := post.Env["AWS_CONFIG_FILE"]; !ok || v != "" {
		t.Errorf("post: AWS_CONFIG_FILE = %q (set %v), want blanked", v, ok)
	}
}

// TestActionRolesOneDenied: when one role is denied, nothing is exported,
// and each role still has its record (two sessions were issued and are
// named; the denial is explained).
func TestActionRolesOneDenied(t *testing.T) {
	t.Parallel()
	h := rolesJob(t, []string{"repo:octo-org/another-repo:*"})
	audit := filepath.Join(h.runner.ContainerPath("/github/home"), "audit.jsonl")
	res, err := h.run(githubtest.Main, map[string]string{"roles": threeRoles, "role-to-assume": "", "audit-log": audit})
	if got := exitCode(err); got != exitDenied {
		t.Fatalf("exit %d (%v), want %d\n%s", got, err, exitDenied, res.MaskedStdout)
	}
	if len(res.Env) != 0 || len(res.Outputs) != 0 {
		t.Errorf("a failed batch exported env %v, outputs %v", res.Env, res.Outputs)
	}
	if !strings.Contains(res.MaskedStdout, artifactsRole) {
		t.Errorf("the error does not name the denied role:\n%s", res.MaskedStdout)
	}
	outcomes := map[string]string{}
	for _, r := range auditRecords(t, audit) {
		outcomes[r.Target] = r.Outcome
	}
	want := map[string]string{apptest.Role: exchange.OutcomeSuccess, prodRole: exchange.OutcomeSuccess, artifactsRole: exchange.OutcomeFailure}
	for target, outcome := range want {
		if outcomes[target] != outcome {
			t.Errorf("record of %s: %q, want %q", target, outcomes[target], outcome)
		}
	}
	entries, err := os.ReadDir(h.runner.HostTemp())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "oidc-exchange-aws-") {
			t.Errorf("a failed batch left %s", e.Name())
		}
	}
	res.WithFiles(audit).AssertNoLeak(t, h.secrets()...)
}

// auditRecords reads an audit log.
func auditRecords(t *testing.T, p string) []exchange.AuditRecord {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var out []exchange.AuditRecord
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r exchange.AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}
