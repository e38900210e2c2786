package migrate

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/parser"

	"github.com/oidc-exchange/oidc-exchange/trust/plan"
)

// TestWiderDetection: keys given to any action or under non-standard env
// names are found, reported only, and GITHUB_TOKEN is not a deploy token.
func TestWiderDetection(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("testdata", "wider.in.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := stageFiles(t, map[string]string{"wider.yml": string(src)})
	r, err := Scan(dir, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range r.Findings {
		if f.Rule != RuleRewriteRefused {
			got = append(got, fmt.Sprintf("%d %s %s %s", f.Line, f.Job, f.Rule, strings.Join(f.Secrets, ",")))
		}
	}
	want := []string{
		"6 local migrate-gcp-credentials-json GOOGLE_CREDENTIALS",
		"6 env-names migrate-gcp-credentials-json GOOGLE_CREDENTIALS",
		"6 gcloud migrate-gcp-credentials-json GOOGLE_CREDENTIALS",
		"6 azure migrate-gcp-credentials-json GOOGLE_CREDENTIALS",
		"6 registry migrate-gcp-credentials-json GOOGLE_CREDENTIALS",
		"6 called migrate-gcp-credentials-json GOOGLE_CREDENTIALS",
		"13 local migrate-aws-static-keys AWS_ACCESS_KEY_ID",
		"14 local migrate-aws-static-keys AWS_SECRET_ACCESS_KEY",
		"17 local migrate-aws-static-keys DEPLOY_SECRET",
		"21 env-names migrate-aws-static-keys S3_KEY",
		"22 env-names migrate-aws-static-keys S3_SECRET",
		"29 env-names migrate-gcp-credentials-json GCP_JSON",
		"30 env-names migrate-gcp-credentials-json GCP_SA_KEY",
		"36 gcloud migrate-gcp-credentials-json GCLOUD_KEY",
		"39 gcloud migrate-gcp-credentials-json FIREBASE_SA",
		"44 azure migrate-azure-creds ARM_CLIENT_SECRET",
		"48 azure migrate-azure-creds AZURE_CREDENTIALS",
		"52 azure migrate-azure-creds SP_SECRET",
		"66 called migrate-aws-static-keys AWS_SECRET_ACCESS_KEY",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, j := range r.Jobs {
		if j.Rewritable || j.Reason == "" {
			t.Errorf("job %s (%s) rewritable %v, reason %q", j.Job, j.Cloud, j.Rewritable, j.Reason)
		}
		if j.Job == "registry" && j.Cloud != plan.GCP {
			t.Errorf("registry job %s: GITHUB_TOKEN is not a stored credential", j.Cloud)
		}
	}
	diff, err := r.Write(dir)
	if err != nil || diff != "" {
		t.Errorf("Write: %q, %v", diff, err)
	}
}

func TestKeyCloud(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		want plan.Cloud
	}{
		{"AWS_ACCESS_KEY", plan.AWS},
		{"AWS_SECRET_KEY", plan.AWS},
		{"aws-secret-access-key", plan.AWS},
		{"PROD_AWS_ACCESS_KEY_ID", plan.AWS},
		{"AWS_REGION", ""},
		{"AWS_SECRETS_MANAGER_ARN", ""},
		{"AWS_ROLE_ARN", ""},
		{"GOOGLE_APPLICATION_CREDENTIALS_JSON", plan.GCP},
		{"GOOGLE_CREDENTIALS", plan.GCP},
		{"GCP_SA_KEY", plan.GCP},
		{"GCLOUD_SERVICE_KEY", plan.GCP},
		{"gcp_service_account_key", plan.GCP},
		{"GCP_SM_SA_JSON", plan.GCP},
		{"GCP_SM_SA_GKE_JSON", plan.GCP},
		{"GCP_SA_EMAIL", ""},
		{"GCP_SERVICE_ACCOUNT", ""},
		{"GOOGLE_API_KEY", ""},
		{"GCP_PROJECT_ID", ""},
		{"AZURE_CLIENT_SECRET", plan.Azure},
		{"ARM_CLIENT_SECRET", plan.Azure},
		{"AZURE_CREDENTIALS", plan.Azure},
		{"AZURE_SP_KEY", plan.Azure},
		{"AZURE_SP_APP_ID", ""},
		{"ARM_CLIENT_ID", ""},
		{"AZURE_TENANT_ID", ""},
		{"ALARM_CLIENT_SECRET", ""},
		{"GITHUB_TOKEN", ""},
		{"", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := keyCloud(tc.name); got != tc.want {
				t.Errorf("keyCloud(%q) = %q, want %q", tc.name, got, tc.want)
			}
		})
	}
}

// TestDeployTokenNotGitHubToken: the job's own GITHUB_TOKEN is dropped from
// a deploy-token finding, and a finding left without secrets goes.
func TestDeployTokenNotGitHubToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, password string
		want           []string
	}{
		{"github token", "${{ secrets.GITHUB_TOKEN }}", nil},
		{"registry token", "${{ secrets.DOCKERHUB_TOKEN }}", []string{"DOCKERHUB_TOKEN"}},
		{"both", "${{ secrets.GITHUB_TOKEN || secrets.REGISTRY_TOKEN }}", []string{"REGISTRY_TOKEN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: docker/login-action@v3\n        with:\n          password: " + tc.password + "\n"
			a := analyze("w.yml", []byte(src), testOpts)
			var got []string
			for _, f := range a.findings {
				got = append(got, f.Secrets...)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("secrets %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRunnerAction: the container action only where every runner the job
// can get is known and neither macOS nor Windows, the text around a
// matrix value included.
func TestRunnerAction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ job, want string }{
		{"runs-on: ubuntu-latest", Action},
		{"runs-on: [self-hosted, linux]", Action},
		{"runs-on: windows-2022", NativeAction},
		{"runs-on: ${{ matrix.os }}\nstrategy:\n  matrix:\n    os: [ubuntu-latest, macos-latest]", NativeAction},
		{"runs-on: ${{ matrix.os }}\nstrategy:\n  matrix:\n    os: [ubuntu-22.04, ubuntu-24.04]", Action},
		{"runs-on: windows-${{matrix.version}}\nstrategy:\n  matrix:\n    version: [2019, 2022]", NativeAction},
		{"runs-on: ubuntu-${{ matrix.v }}\nstrategy:\n  matrix:\n    v: ['22.04', '24.04']", Action},
		{"runs-on: ${{ inputs.runner }}", NativeAction},
	} {
		f, err := parser.ParseBytes([]byte(tc.job+"\n"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := runnerAction(f.Docs[0].Body); got != tc.want {
			t.Errorf("%q: %s, want %s", tc.job, got, tc.want)
		}
	}
}
