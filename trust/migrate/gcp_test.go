package migrate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/oidc-exchange/oidc-exchange/trust/plan"
)

// checkMigrated decodes a rewritten workflow and checks every
// oidc-exchange step: GCP ones have the provider, both identity inputs and
// only hyphenated inputs, and their jobs may request an ID token.
func checkMigrated(t *testing.T, out []byte) {
	t.Helper()
	var wf struct {
		Jobs map[string]struct {
			Permissions map[string]string `yaml:"permissions"`
			Steps       []struct {
				Uses string         `yaml:"uses"`
				With map[string]any `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(out, &wf); err != nil {
		t.Fatalf("rewritten workflow does not decode: %v\n%s", err, out)
	}
	for id, job := range wf.Jobs {
		for _, st := range job.Steps {
			if st.Uses != Action {
				continue
			}
			if job.Permissions["id-token"] != "write" {
				t.Errorf("job %s: permissions %v lack id-token: write", id, job.Permissions)
			}
			if st.With["provider"] != "gcp" {
				continue
			}
			for _, k := range []string{"workload-identity-provider", "service-account"} {
				if s, _ := st.With[k].(string); s == "" {
					t.Errorf("job %s: with lacks %s: %v", id, k, st.With)
				}
			}
			for k := range st.With {
				if strings.Contains(k, "_") {
					t.Errorf("job %s: input %s kept", id, k)
				}
			}
		}
	}
}

const gcpHead = "on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n"

// gcpJob returns a workflow whose one job runs steps (indented as items
// of steps:).
func gcpJob(steps string) string { return gcpHead + steps }

const authStep = "      - id: auth\n        uses: google-github-actions/auth@v2\n        with:\n          credentials_json: ${{ secrets.GCP_SA_KEY }}\n"

func gcpJobOf(t *testing.T, a *analysis) *Job {
	t.Helper()
	for _, j := range a.jobs {
		if j.Cloud == plan.GCP {
			return j
		}
	}
	t.Fatalf("no GCP job; findings %+v", a.findings)
	return nil
}

func TestGCPRewrite(t *testing.T) {
	t.Parallel()
	custom := Options{WorkloadIdentityProvider: "projects/42/locations/global/workloadIdentityPools/ci/providers/gh", ServiceAccount: "ci@proj.iam.gserviceaccount.com"}
	for _, tc := range []struct {
		name      string
		opts      Options
		src       string
		want, not []string
	}{
		{
			name: "only credentials_json, options",
			opts: custom,
			src:  gcpJob(authStep),
			want: []string{"        uses: oidc-exchange/oidc-exchange@v1\n        with:\n          provider: gcp\n          workload-identity-provider: projects/42/locations/global/workloadIdentityPools/ci/providers/gh\n          service-account: ci@proj.iam.gserviceaccount.com\n"},
		},
		{
			name: "comment above credentials_json in the middle moves down, line comment goes",
			src:  gcpJob("      - uses: google-github-actions/auth@v2\n        with:\n          project_id: p   # project\n          # The key.\n          credentials_json: ${{ secrets.K }}   # rotate yearly\n          # Short tokens.\n          access_token_lifetime: 300s\n"),
			want: []string{"          provider: gcp\n          workload-identity-provider: projects/123456789/locations/global/workloadIdentityPools/github/providers/github\n          service-account: deployer@my-project.iam.gserviceaccount.com\n          project-id: p   # project\n          # The key.\n          # Short tokens.\n          access-token-lifetime: 300s\n"},
			not:  []string{"rotate yearly"},
		},
		{
			name: "comment above a last credentials_json stays where it was",
			src:  gcpJob("      - uses: google-github-actions/auth@v2\n        with:\n          universe: googleapis.com\n          # The key.\n          credentials_json: ${{ secrets.K }}\n      - run: make\n"),
			want: []string{"        with:\n          provider: gcp\n", "          universe: googleapis.com\n          # The key.\n      - run: make\n"},
		},
		{
			name: "four-space indentation",
			src:  "on: push\njobs:\n    deploy:\n        runs-on: x\n        steps:\n            -   uses: google-github-actions/auth@v2\n                with:\n                    credentials_json: ${{ secrets.K }}\n                    token_format: id_token\n",
			want: []string{"        runs-on: x\n        permissions:\n            contents: read\n            id-token: write\n", "                with:\n                    provider: gcp\n                    workload-identity-provider: projects/", "\n                    token-format: id_token\n"},
		},
		{
			name: "compact sequence",
			src:  "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n    - id: auth\n      uses: google-github-actions/auth@v2\n      with:\n        credentials_json: ${{ secrets.K }}\n        project_id: p\n    - run: echo ${{ steps.auth.outputs.project_id }}\n",
			want: []string{"    - id: auth\n      uses: oidc-exchange/oidc-exchange@v1\n      with:\n        provider: gcp\n        workload-identity-provider: projects/", "\n        project-id: p\n    - run: echo ${{ steps.auth.outputs.project-id }}\n"},
		},
		{
			name: "references: case, literal block, bare if, other steps, non-ASCII",
			src: gcpJob(authStep + "      - id: build\n        run: echo\n" +
				"      - if: Steps.Auth.Outputs.Access_Token && steps.build.outputs.access_token\n" +
				"        env:\n          ÉTIQUETTE: ${{ steps.auth.outputs.id_token }}\n          É: \"é ${{ steps.auth.outputs.access_token_expiration }}\"\n" +
				"        run: |\n          echo ${{\n            steps.auth.outputs.auth_token }}\n          echo ${{ steps.auth.conclusion }}\n"),
			want: []string{
				"if: Steps.Auth.Outputs.access-token && steps.build.outputs.access_token\n",
				"ÉTIQUETTE: ${{ steps.auth.outputs.id-token }}\n",
				"É: \"é ${{ steps.auth.outputs.access-token-expiration }}\"\n",
				"echo ${{\n            steps.auth.outputs.auth-token }}\n          echo ${{ steps.auth.conclusion }}\n",
			},
		},
		{
			name: "two auth steps, one kept on workload identity",
			src: gcpJob(authStep + "      - id: wif\n        uses: google-github-actions/auth@v2\n        with:\n          workload_identity_provider: ${{ vars.WIP }}\n          service_account: ${{ vars.SA }}\n" +
				"      - run: echo ${{ steps.auth.outputs.project_id }} ${{ steps.wif.outputs.project_id }}\n"),
			want: []string{"uses: google-github-actions/auth@v2\n        with:\n          workload_identity_provider: ${{ vars.WIP }}\n", "echo ${{ steps.auth.outputs.project-id }} ${{ steps.wif.outputs.project_id }}\n"},
		},
		{
			name: "delegates is mapped",
			src:  gcpJob(authStep + "          delegates: a@b.iam.gserviceaccount.com\n"),
			want: []string{"          delegates: a@b.iam.gserviceaccount.com\n"},
		},
		{
			name: "flow permissions become a block",
			src:  "on: push\njobs:\n  a:\n    runs-on: x\n    permissions: {contents: read}\n    steps:\n" + authStep,
			want: []string{"    permissions:\n      contents: read\n      id-token: write\n    steps:\n"},
		},
		{
			name: "windows runner gets the native action",
			src:  "on: push\njobs:\n  a:\n    runs-on: windows-latest\n    steps:\n" + authStep,
			want: []string{"uses: " + NativeAction + "\n"},
		},
		{
			name: "job already grants id-token",
			src:  "on: push\njobs:\n  deploy:\n    runs-on: x\n    permissions:\n      id-token: write\n    steps:\n" + authStep,
			want: []string{"    permissions:\n      id-token: write\n    steps:\n"},
			not:  []string{"contents: read"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := analyze("w.yml", []byte(tc.src), tc.opts)
			if j := gcpJobOf(t, a); !j.Rewritable {
				t.Fatalf("not rewritable: %s", j.Reason)
			}
			out, ok := rewrite("w.yml", []byte(tc.src), tc.opts)
			if !ok {
				t.Fatal("rewrite refused")
			}
			for _, s := range tc.want {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			for _, s := range append([]string{"credentials_json", "secrets.", "google-github-actions/auth@v2\n        with:\n          credentials"}, tc.not...) {
				if strings.Contains(out, s) {
					t.Errorf("output holds %q:\n%s", s, out)
				}
			}
			checkMigrated(t, []byte(out))
			// Every source line the rewrite did not have to touch is kept.
			for l := range strings.Lines(tc.src) {
				if strings.Contains(l, "steps.auth") || strings.Contains(l, "google-github-actions/auth") || strings.Contains(l, "_") || strings.Contains(l, "#") || strings.Contains(l, "permissions: {") {
					continue
				}
				if !strings.Contains(out, l) {
					t.Errorf("line lost: %q", l)
				}
			}
			if b := analyze("w.yml", []byte(out), tc.opts); len(b.gcp) != 0 || b.safe {
				t.Errorf("rewritten workflow still has work: %+v", b.jobs)
			}
		})
	}
}

func TestGCPNotRewritable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src, reason string
	}{
		{"unknown input", gcpJob(authStep + "          retries: 5\n"), "google-github-actions/auth input retries has no oidc-exchange equivalent"},
		{"cleanup and request reason", gcpJob(authStep + "          cleanup_credentials: false\n          request_reason: x\n"), "inputs cleanup_credentials, request_reason have no oidc-exchange equivalent"},
		{"flow with", gcpJob("      - uses: google-github-actions/auth@v2\n        with: {credentials_json: \"${{ secrets.K }}\"}\n"), "with: is not a block mapping"},
		{"flow step", gcpJob("      - {uses: google-github-actions/auth@v2, with: {credentials_json: \"${{ secrets.K }}\"}}\n"), "flow-style mapping"},
		{"anchor", "on: push\njobs:\n  a:\n    runs-on: &r ubuntu-latest\n    steps:\n" + authStep + "  b:\n    runs-on: *r\n    steps:\n      - run: make\n", "the job uses YAML anchors"},
		{"merge key", "on: push\nx: &w\n  project_id: p\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: google-github-actions/auth@v2\n        with:\n          <<: *w\n          credentials_json: ${{ secrets.K }}\n", "the job uses YAML "},
		{"key in run", gcpJob(authStep + "      - run: echo '${{ secrets.GCP_SA_KEY }}' > key.json\n"), "interpolated into a run: script"},
		{"key in env", gcpJob(authStep + "      - uses: hashicorp/setup-terraform@v3\n        env:\n          GOOGLE_CREDENTIALS: ${{ secrets.GCP_SA_KEY }}\n"), "secret GCP_SA_KEY is also used outside credentials_json (line 12)"},
		{"key in workflow env", "on: push\nenv:\n  GOOGLE_CREDENTIALS: ${{ secrets.GCP_SA_KEY }}\njobs:\n  a:\n    runs-on: x\n    steps:\n" + authStep, "secret GCP_SA_KEY is also used in the workflow's env (line 3)"},
		{"empty service_account", gcpJob(authStep + "          service_account:\n"), "input service_account is empty"},
		{"outputs as a whole", gcpJob(authStep + "      - run: echo '${{ toJSON(steps.auth.outputs) }}'\n"), "reads steps.auth.outputs as a whole or by index"},
		{"outputs by index", gcpJob(authStep + "      - run: echo '${{ steps.auth.outputs['access_token'] }}'\n"), "reads steps.auth.outputs as a whole or by index"},
		{"steps by index", gcpJob(authStep + "      - run: echo '${{ steps['auth'].outputs.access_token }}'\n"), "reads the steps context as a whole or by index"},
		{"steps whole", gcpJob(authStep + "      - run: echo '${{ toJSON(steps) }}'\n"), "reads the steps context as a whole or by index"},
		{"steps wildcard", gcpJob(authStep + "      - run: echo '${{ steps.*.outputs.access_token }}'\n"), "by wildcard"},
		{"unknown output", gcpJob(authStep + "      - run: echo ${{ steps.auth.outputs.token }}\n"), "steps.auth.outputs.token, which oidc-exchange does not set"},
		{"other property", gcpJob(authStep + "      - run: echo ${{ steps.auth.result }}\n"), "reads steps.auth.result"},
		{"generated id", gcpJob("      - uses: google-github-actions/auth@v2\n        with:\n          credentials_json: ${{ secrets.K }}\n      - run: echo ${{ steps.__google-github-actions_auth.outputs.access_token }}\n"), "the id GitHub generates"},
		{"escaped reference", gcpJob(authStep + "      - run: \"echo ${{ steps.auth.outputs.access\\u005ftoken }}\"\n"), "rewrite the job by hand"},
		{"reference in a key", gcpJob(authStep + "      - with:\n          ${{ steps.auth.outputs.project_id }}: x\n        uses: some/action@v1\n"), "a mapping key reads the outputs"},
		{"read-all", "on: push\njobs:\n  a:\n    runs-on: x\n    permissions: read-all\n    steps:\n" + authStep, "permissions: read-all has no id-token: write"},
		{"wip option", gcpJob(authStep), `workload-identity-provider "projects/1 #x" cannot be written as a plain YAML value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var o Options
			if tc.name == "wip option" {
				o.WorkloadIdentityProvider = "projects/1 #x"
			}
			a := analyze("w.yml", []byte(tc.src), o)
			j := gcpJobOf(t, a)
			if j.Rewritable || !strings.Contains(j.Reason, tc.reason) {
				t.Errorf("rewritable %v, reason %q, want %q", j.Rewritable, j.Reason, tc.reason)
			}
			if out, ok := rewrite("w.yml", []byte(tc.src), o); ok {
				t.Errorf("rewritten:\n%s", out)
			}
		})
	}
}

// TestGCPFileUntouched checks that a file with a job that cannot be
// rewritten is left byte for byte, its other jobs included, and that the
// report names the reason.
func TestGCPFileUntouched(t *testing.T) {
	t.Parallel()
	dir, src := stage(t, "gcp_unmappable")
	r, err := Scan(dir, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, j := range r.Jobs {
		if j.Rewritable {
			t.Errorf("job %s rewritable", j.Job)
		}
		reasons[j.Job] = j.Reason
	}
	want := map[string]string{
		"export": "google-github-actions/auth inputs cleanup_credentials, request_reason have no oidc-exchange equivalent; migrate this step by hand",
		"report": "job export (gcp) in this workflow cannot be rewritten safely; the file is left untouched",
	}
	for k, v := range want {
		if reasons[k] != v {
			t.Errorf("%s: reason %q, want %q", k, reasons[k], v)
		}
	}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "--write leaves job export (gcp) as it is: "+want["export"]) {
		t.Errorf("table lacks the reason:\n%s", b.String())
	}
	diff, err := r.Write(dir)
	if err != nil || diff != "" {
		t.Fatalf("Write: %q, %v", diff, err)
	}
	out, err := os.ReadFile(filepath.Join(dir, ".github", "workflows", "gcp_unmappable.yml"))
	if err != nil || string(out) != string(src) {
		t.Errorf("file changed (%v):\n%s", err, out)
	}
}

// TestGCPMappingsMatchActionYML checks every input and output name we write
// against the inputs and outputs of action.yml.
func TestGCPMappingsMatchActionYML(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs  map[string]any `yaml:"inputs"`
		Outputs map[string]any `yaml:"outputs"`
	}
	if err := yaml.Unmarshal(src, &action); err != nil {
		t.Fatal(err)
	}
	for from, to := range gcpInputs {
		if _, ok := action.Inputs[to]; !ok {
			t.Errorf("input %s maps to %s, which action.yml lacks", from, to)
		}
		if strings.ReplaceAll(from, "_", "-") != to {
			t.Errorf("input %s → %s is not a same-length rename", from, to)
		}
	}
	for _, in := range []string{"provider", "workload-identity-provider", "service-account"} {
		if _, ok := action.Inputs[in]; !ok {
			t.Errorf("action.yml lacks input %s", in)
		}
	}
	for from, to := range gcpOutputs {
		if _, ok := action.Outputs[to]; !ok {
			t.Errorf("output %s maps to %s, which action.yml lacks", from, to)
		}
		if strings.ReplaceAll(from, "_", "-") != to {
			t.Errorf("output %s → %s is not a same-length rename", from, to)
		}
	}
}

func TestStepRefs(t *testing.T) {
	t.Parallel()
	isAuth := func(id string) bool { return id == "auth" }
	for _, tc := range []struct {
		s       string
		bare    bool
		want    []string // renamed names, in order
		problem bool
	}{
		{s: "plain text steps.auth.outputs.access_token"},
		{s: "${{ steps.auth.outputs.access_token }}", want: []string{"access-token"}},
		{s: "steps.auth.outputs.id_token == ''", bare: true, want: []string{"id-token"}},
		{s: "${{ 'steps.auth.outputs.id_token' }}-steps.auth.outputs.id_token"},
		{s: "${{ 'it''s }}' }} ${{ steps.auth.outputs.project_id }}", want: []string{"project-id"}},
		{s: "${{ github.steps.auth.outputs.x }}"},
		{s: "${{ steps.other.outputs.x }} ${{ steps.auth.outcome }}"},
		{s: "${{ steps.auth.outputs.access_token", want: []string{"access-token"}},
		{s: "${{ steps.auth }}", problem: true},
		{s: "${{ steps }}", problem: true},
	} {
		refs, problem := stepRefs(tc.s, tc.bare, isAuth)
		var got []string
		for _, r := range refs {
			got = append(got, r.to)
		}
		if !slices.Equal(got, tc.want) || (problem != "") != tc.problem {
			t.Errorf("%q: got %v %q, want %v problem %v", tc.s, got, problem, tc.want, tc.problem)
		}
	}
}
