package app

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/cmd/internal/apptest"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp/gcpfake"
)

var gcpFileVars = []string{"GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE", "GOOGLE_GHA_CREDS_PATH"}

// TestActionGCPScenarios runs the gcp provider through the runner
// simulation: exit codes, outputs, the credentials file (0600, a host path
// outside the workspace, gone after post), and the leak and injection
// checks of every scenario, failures included.
func TestActionGCPScenarios(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      harnessOptions
		inputs    map[string]string
		prepare   func(h *harness)
		wantExit  int
		wantFile  bool
		wantInLog []string
		check     func(t *testing.T, h *harness, res *githubtest.StepResult)
	}{
		{
			name: "impersonation with a credentials file", opts: harnessOptions{mountRunnerTemp: true},
			inputs: map[string]string{"service-account": apptest.ServiceAccount}, wantExit: exitOK, wantFile: true,
			check: func(t *testing.T, _ *harness, res *githubtest.StepResult) {
				if res.Outputs["access-token"] == "" || res.Outputs["project-id"] != "my-project" || res.Outputs["access-token-expiration"] == "" {
					t.Errorf("outputs = %v", slices.Sorted(maps.Keys(res.Outputs)))
				}
				for _, v := range []string{"CLOUDSDK_CORE_PROJECT", "CLOUDSDK_PROJECT", "GCLOUD_PROJECT", "GCP_PROJECT", "GOOGLE_CLOUD_PROJECT"} {
					if res.Env[v] != "my-project" {
						t.Errorf("%s = %q", v, res.Env[v])
					}
				}
			},
		},
		{
			name: "old runner without a mounted runner temp", inputs: map[string]string{"service-account": apptest.ServiceAccount},
			wantExit: exitOK, wantFile: true,
		},
		{
			name: "direct federation", opts: harnessOptions{mountRunnerTemp: true}, wantExit: exitOK, wantFile: true,
			check: func(t *testing.T, _ *harness, res *githubtest.StepResult) {
				if res.Outputs["auth-token"] == "" || res.Outputs["access-token"] != "" {
					t.Errorf("outputs = %v", slices.Sorted(maps.Keys(res.Outputs)))
				}
			},
		},
		{
			name: "file without exported variables is still removed", opts: harnessOptions{mountRunnerTemp: true},
			inputs: map[string]string{"service-account": apptest.ServiceAccount, "export-environment-variables": "false"}, wantExit: exitOK, wantFile: true,
			check: func(t *testing.T, _ *harness, res *githubtest.StepResult) {
				for _, v := range gcpFileVars {
					if _, ok := res.Env[v]; ok {
						t.Errorf("%s exported despite export-environment-variables: false", v)
					}
				}
			},
		},
		{
			name: "id token", opts: harnessOptions{mountRunnerTemp: true},
			inputs:   map[string]string{"service-account": apptest.ServiceAccount, "token-format": "id_token", "id-token-audience": "https://run.example", "create-credentials-file": "false"},
			wantExit: exitOK,
			check: func(t *testing.T, _ *harness, res *githubtest.StepResult) {
				if res.Outputs["id-token"] == "" {
					t.Errorf("outputs = %v", slices.Sorted(maps.Keys(res.Outputs)))
				}
			},
		},
		{
			name: "downscoped by an access boundary", opts: harnessOptions{mountRunnerTemp: true},
			inputs: map[string]string{"service-account": apptest.ServiceAccount, "create-credentials-file": "false",
				"access-boundary": "bucket=my-bucket:role=roles/storage.objectViewer"},
			wantExit: exitOK,
			check: func(t *testing.T, h *harness, res *githubtest.StepResult) {
				if !strings.Contains(res.MaskedStdout, `"access_boundary_sha256":"`) || strings.Contains(res.MaskedStdout, `"access_boundary_sha256":""`) {
					t.Error("audit record lacks the access boundary's hash")
				}
				var downscoped bool
				for _, r := range h.gcp.Requests() {
					downscoped = downscoped || r.Endpoint == gcpfake.EndpointDownscope
				}
				if !downscoped {
					t.Error("no downscope exchange")
				}
			},
		},
		{
			name: "attribute condition denies", opts: harnessOptions{mountRunnerTemp: true, gcpCondition: map[string]string{"repository_id": "999999"}},
			inputs: map[string]string{"service-account": apptest.ServiceAccount}, wantExit: exitDenied,
			wantInLog: []string{"invalid_grant", "assertion.repository_owner_id == '123456' && assertion.repository_id == '456789'", "repository_owner_id"},
		},
		{
			name: "missing workloadIdentityUser binding", opts: harnessOptions{mountRunnerTemp: true, gcpSAUsers: []string{"principalSet://iam.googleapis.com/" + apptest.GCPPool + "/attribute.repository_id/1"}},
			inputs: map[string]string{"service-account": apptest.ServiceAccount}, wantExit: exitDenied,
			wantInLog: []string{"roles/iam.workloadIdentityUser", "attribute.repository_id/456789"},
		},
		{
			name: "transient STS failure is retried", opts: harnessOptions{mountRunnerTemp: true},
			inputs:   map[string]string{"service-account": apptest.ServiceAccount, "create-credentials-file": "false"},
			prepare:  func(h *harness) { h.gcp.FailNext(gcpfake.Failure{Endpoint: gcpfake.EndpointSTS, Status: 503}) },
			wantExit: exitOK,
		},
		{
			name: "bad inputs fail before any call", opts: harnessOptions{mountRunnerTemp: true},
			inputs:    map[string]string{"workload-identity-provider": "projects/x/pools/y", "service-account": "not-an-email", "token-format": "saml"},
			wantExit:  exitInput,
			wantInLog: []string{"workload-identity-provider", "service-account", "token-format"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.opts)
			if tc.prepare != nil {
				tc.prepare(h)
			}
			inputs := map[string]string{"provider": "gcp", "sts-endpoint": h.gcpURL}
			for k, v := range tc.inputs {
				inputs[k] = v
			}
			res, err := h.run(githubtest.Main, inputs)
			if got := exitCode(err); got != tc.wantExit {
				t.Fatalf("exit %d (%v), want %d\nlog:\n%s", got, err, tc.wantExit, res.MaskedStdout)
			}
			for _, want := range tc.wantInLog {
				if !strings.Contains(res.MaskedStdout, want) {
					t.Errorf("log lacks %q:\n%s", want, res.MaskedStdout)
				}
			}
			res.AssertNoLeak(t, h.secrets()...)
			res.AssertNoInjectedCommands(t, allowedCommands...)
			path := res.Outputs["credentials-file-path"]
			switch {
			case tc.wantFile:
				assertCredentialsFile(t, h, res, path)
			case path != "" || len(filesIn(t, h.runner.HostTemp())) != 0:
				t.Errorf("unexpected credentials file %q", path)
			}
			if tc.wantExit != exitOK && len(res.Outputs) != 0 {
				t.Errorf("a failed run set outputs %v", slices.Sorted(maps.Keys(res.Outputs)))
			}
			if tc.check != nil {
				tc.check(t, h, res)
			}

			post, err := h.run(githubtest.Post, nil)
			if err != nil {
				t.Fatalf("post step failed: %v", err)
			}
			post.AssertNoLeak(t, h.secrets()...)
			if path != "" {
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Errorf("credentials file still exists after the post step (%v)", err)
				}
			}
			if left := filesIn(t, h.runner.HostTemp()); len(left) != 0 {
				t.Errorf("files left in the runner temp after post: %v", left)
			}
		})
	}
}

// assertCredentialsFile: a host path, outside the workspace, mode 0600,
// readable by a later host step, exported under every variable, and an
// external_account document whose token source is the runner.
func assertCredentialsFile(t *testing.T, h *harness, res *githubtest.StepResult, path string) {
	t.Helper()
	if !strings.HasPrefix(path, h.runner.HostTemp()+string(filepath.Separator)) {
		t.Fatalf("credentials-file-path %q is not under the host runner temp %q", path, h.runner.HostTemp())
	}
	if strings.HasPrefix(path, h.runner.HostWorkspace()) {
		t.Fatalf("credentials file %q is in the workspace", path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %v, want 0600", fi.Mode().Perm())
	}
	for _, v := range gcpFileVars {
		if got, ok := res.Env[v]; ok && got != path {
			t.Errorf("%s = %q, want the host path %q", v, got, path)
		}
	}
	body := string(h.runner.ReadFromHostStep(t, path))
	for _, want := range []string{`"type": "external_account"`, `"subject_token_field_name": "value"`, h.runner.Token.BaseURL()} {
		if !strings.Contains(strings.ReplaceAll(body, `":"`, `": "`), want) {
			t.Errorf("credentials file lacks %s", want)
		}
	}
	if strings.Contains(res.MaskedStdout+res.Stderr, h.runner.Token.RequestToken()) {
		t.Error("the request token held by the file reached the log")
	}
}

func filesIn(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	return out
}
