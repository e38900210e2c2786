package app

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	awsprovider "github.com/oidc-exchange/oidc-exchange/providers/aws"
)

// TestRefreshWithTheSDK proves a refreshing profile with its real
// consumer: the release binary is installed by the step, aws-sdk-go-v2's
// LoadDefaultConfig reads the files the step exported, runs the
// credential_process (which fetches a fresh token from the simulated
// runner, verifies it and exchanges it at the fake STS), and after a
// forced expiry runs it again for new keys. No keys are exported, every
// exchange leaves an audit record, and the post step removes the copy.
//
// The process inherits this test's environment, as it inherits a job
// step's, so the test sets the runner's variables and cannot be parallel.
func TestRefreshWithTheSDK(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("refresh is refused on Windows runners")
	}
	dir, sum := buildNativeRelease(t)
	bin := filepath.Join(dir, nativeVersion, nativeAsset())
	// Each way of running the action: the container (in-process, with the
	// release binary as what it installs) and the native action (node
	// downloading and running the release binary).
	setups := map[string]func(t *testing.T) (*harness, func(githubtest.Stage, map[string]string) (*githubtest.StepResult, error)){
		"container": func(t *testing.T) (*harness, func(githubtest.Stage, map[string]string) (*githubtest.StepResult, error)) {
			h := newHarness(t, harnessOptions{mountRunnerTemp: true})
			h.executable = bin
			return h, h.run
		},
		"native": func(t *testing.T) (*harness, func(githubtest.Stage, map[string]string) (*githubtest.StepResult, error)) {
			k := newNativeKit(t, sum)
			return k.h, func(stage githubtest.Stage, in map[string]string) (*githubtest.StepResult, error) {
				res, code := k.run(stage, in)
				if code != exitOK {
					return res, fmt.Errorf("exit %d: %s", code, res.Stderr)
				}
				return res, nil
			}
		},
	}
	for name, setup := range setups {
		t.Run(name, func(t *testing.T) {
			h, run := setup(t)
			res, err := run(githubtest.Main, map[string]string{"refresh": "true"})
			if err != nil {
				t.Fatalf("main: %v\n%s", err, res.MaskedStdout)
			}
			for _, n := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
				if v, ok := res.Env[n]; ok {
					t.Errorf("refresh exported %s=%q; it must export no keys", n, v)
				}
			}
			if got := res.Env["AWS_PROFILE"]; got != awsprovider.DefaultRefreshProfile {
				t.Errorf("AWS_PROFILE = %q, want %q", got, awsprovider.DefaultRefreshProfile)
			}
			configFile := res.Env["AWS_CONFIG_FILE"]
			conf := string(h.runner.ReadFromHostStep(t, configFile))
			if strings.Contains(conf, "aws_secret_access_key") {
				t.Errorf("the config file holds a key:\n%s", conf)
			}
			installed := installedCopy(t, conf)
			checkCopy(t, installed, bin)

			// A later step: the runner's token variables, as every step
			// of a job with id-token: write has them.
			later := h.runner.Step(githubtest.Main, nil)
			for _, n := range []string{"GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "GITHUB_SERVER_URL"} {
				t.Setenv(n, later.Getenv(n))
			}
			for _, n := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"} {
				t.Setenv(n, "")
			}
			before := len(h.sts.Requests())
			cfg, err := config.LoadDefaultConfig(t.Context(),
				config.WithSharedConfigFiles([]string{configFile}),
				config.WithSharedCredentialsFiles([]string{filepath.Join(t.TempDir(), "none")}),
				config.WithSharedConfigProfile(res.Env["AWS_PROFILE"]))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != "eu-west-1" {
				t.Errorf("region %q from the profile, want eu-west-1", cfg.Region)
			}
			first, err := cfg.Credentials.Retrieve(t.Context())
			if err != nil {
				t.Fatalf("the SDK ran the credential_process: %v", err)
			}
			second := refreshed(t, cfg)
			if first.AccessKeyID == second.AccessKeyID {
				t.Error("the refresh returned the same key")
			}
			reqs := h.sts.Requests()
			if n := len(reqs) - before; n != 2 {
				t.Fatalf("STS saw %d exchanges from the SDK, want 2", n)
			}
			for i, c := range []aws.Credentials{first, second} {
				issued := reqs[before+i].Issued
				if issued == nil || issued.AccessKeyID != c.AccessKeyID || !c.CanExpire || !c.Expires.Equal(issued.Expiration) {
					t.Errorf("credentials %d are not what STS issued", i+1)
				}
			}
			audit, err := os.ReadFile(filepath.Join(filepath.Dir(installed), refreshAuditFile))
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(audit), `"outcome":"success"`); n != 3 {
				t.Errorf("the audit log has %d successful records, want 3 (the step and two refreshes):\n%s", n, audit)
			}

			post, err := run(githubtest.Post, nil)
			if err != nil {
				t.Fatalf("post: %v", err)
			}
			if _, err := os.Stat(installed); !os.IsNotExist(err) {
				t.Errorf("post left the copy %s (%v)", installed, err)
			}
			if v, ok := post.Env["AWS_PROFILE"]; !ok || v != "" {
				t.Errorf("post: AWS_PROFILE = %q (set %v), want blanked", v, ok)
			}
		})
	}
}

// refreshed forces the SDK's cached credentials to expire and retrieves
// them again, which runs the credential_process anew.
func refreshed(t *testing.T, cfg aws.Config) aws.Credentials {
	t.Helper()
	cache, ok := cfg.Credentials.(*aws.CredentialsCache)
	if !ok {
		t.Fatalf("credentials provider %T is not the SDK's cache", cfg.Credentials)
	}
	cache.Invalidate()
	c, err := cache.Retrieve(t.Context())
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	return c
}

// installedCopy is the program a refreshing profile runs: the first word
// of its credential_process.
func installedCopy(t *testing.T, conf string) string {
	t.Helper()
	for _, line := range strings.Split(conf, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != "credential_process" {
			continue
		}
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, "'") {
			p, _, _ := strings.Cut(v[1:], "'")
			return p
		}
		p, _, _ := strings.Cut(v, " ")
		return p
	}
	t.Fatalf("no credential_process in the config file:\n%s", conf)
	return ""
}

// checkCopy: the copy is the release binary, byte for byte, mode 0700.
func checkCopy(t *testing.T, installed, bin string) {
	t.Helper()
	fi, err := os.Stat(installed)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("the copy's mode is %v, want 0700", fi.Mode().Perm())
	}
	sum := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		return hex.EncodeToString(h[:])
	}
	if sum(installed) != sum(bin) {
		t.Error("the copy differs from the release binary")
	}
}

// TestRefreshCommand: the command line repeats the settings the job gave,
// under their flags, quoted only where sh would read them otherwise, and
// ends bare (the SDKs strip a closing quote); a proxy password is refused.
func TestRefreshCommand(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		inputs  map[string]string
		want    string
		wantErr string
	}{
		"defaults": {
			want: "/t/oidc-exchange-1 aws --role-arn arn:aws:iam::111122223333:role/a --audience sts.amazonaws.com --oidc-issuer https://token.actions.githubusercontent.com --audit-log /t/audit.jsonl --region eu-west-1 --format credential-process",
		},
		"settings repeated, quoted where needed": {
			inputs: map[string]string{
				"expect-claims":            "ref=refs/heads/main\nenvironment=prod east",
				"managed-session-policies": "arn:aws:iam::aws:policy/ReadOnlyAccess, arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess",
				"role-duration-seconds":    "3600", // the default: not repeated
				"aws-profile":              "dev",  // this step's export, not the exchange's
				"http-proxy":               "http://proxy.localhost:3128",
			},
			want: "/t/oidc-exchange-1 aws --role-arn arn:aws:iam::111122223333:role/a --audience sts.amazonaws.com --oidc-issuer https://token.actions.githubusercontent.com --audit-log /t/audit.jsonl " +
				"--expect-claim ref=refs/heads/main --expect-claim 'environment=prod east' --http-proxy http://proxy.localhost:3128 --region eu-west-1 " +
				"--managed-session-policy arn:aws:iam::aws:policy/ReadOnlyAccess --managed-session-policy arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess --format credential-process",
		},
		"proxy password": {
			inputs:  map[string]string{"http-proxy": "http://ci:FAKE-pass@proxy.localhost:3128"},
			wantErr: "refresh: cannot repeat an http-proxy that holds a password",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"INPUT_AWS-REGION": "eu-west-1"}
			for k, v := range tc.inputs {
				env[inputEnvName(k)] = v
			}
			getenv := func(k string) string { return env[k] }
			got, err := refreshCommand("/t/oidc-exchange-1", "arn:aws:iam::111122223333:role/a", "sts.amazonaws.com",
				"https://token.actions.githubusercontent.com", "/t/audit.jsonl", actionSource(getenv), getenv)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("command\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestRefreshRefusedInstallsNothing: a refresh the settings refuse fails
// before any copy of the program is placed for later steps.
func TestRefreshRefusedInstallsNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{mountRunnerTemp: true})
	h.executable = os.Args[0]
	res, err := h.run(githubtest.Main, map[string]string{"refresh": "true", "output-credentials": "true"})
	if got := exitCode(err); got != exitInput {
		t.Fatalf("exit %d (%v), want %d\n%s", got, err, exitInput, res.MaskedStdout)
	}
	entries, err := os.ReadDir(h.runner.HostTemp())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "oidc-exchange-") {
			t.Errorf("a refused refresh left %s", e.Name())
		}
	}
	if _, ok := res.State["files"]; ok {
		t.Error("a refused refresh saved files for the post step")
	}
}
