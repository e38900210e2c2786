package migrate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReusableCallers covers the caller check of reusable workflows: who
// calls, which permissions grant id-token: write, and what is reported
// where.
func TestReusableCallers(t *testing.T) {
	t.Parallel()
	// deploy.yml is reusable, and its AWS job is rewritten.
	const deploy = "on:\n  workflow_call:\npermissions:\n  contents: read\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          aws-access-key-id: ${{ secrets.K }}\n          aws-secret-access-key: ${{ secrets.S }}\n          aws-region: eu-west-1\n"
	caller := func(head, job string) string {
		return "on: push\n" + head + "jobs:\n  ship:\n" + job + "    uses: ./.github/workflows/deploy.yml\n    secrets: inherit\n"
	}
	const noPerm = "neither the job nor its workflow sets permissions, and the default grants no id-token"
	type found struct{ File, Job, Why string }
	for _, tc := range []struct {
		name  string
		files map[string]string
		// want are the findings, by caller file and job ("" for the
		// reusable workflow itself) and what the message says.
		want []found
	}{
		{"no permissions", map[string]string{"deploy.yml": deploy, "main.yml": caller("", "")},
			[]found{{".github/workflows/main.yml", "ship", noPerm}}},
		{"job grants", map[string]string{"deploy.yml": deploy, "main.yml": caller("", "    permissions:\n      id-token: write\n      contents: read\n")}, nil},
		{"workflow grants", map[string]string{"deploy.yml": deploy, "main.yml": caller("permissions:\n  id-token: write\n", "")}, nil},
		{"write-all", map[string]string{"deploy.yml": deploy, "main.yml": caller("", "    permissions: write-all\n")}, nil},
		{"read-all", map[string]string{"deploy.yml": deploy, "main.yml": caller("", "    permissions: read-all\n")},
			[]found{{".github/workflows/main.yml", "ship", "its permissions are read-all"}}},
		{"empty mapping", map[string]string{"deploy.yml": deploy, "main.yml": caller("permissions: {}\n", "")},
			[]found{{".github/workflows/main.yml", "ship", "its workflow's permissions lack id-token: write"}}},
		// A job's permissions replace the workflow's.
		{"job block without it", map[string]string{"deploy.yml": deploy, "main.yml": caller("permissions:\n  id-token: write\n", "    permissions:\n      contents: read\n")},
			[]found{{".github/workflows/main.yml", "ship", "its permissions lack id-token: write"}}},
		{"id-token read", map[string]string{"deploy.yml": deploy, "main.yml": caller("", "    permissions:\n      id-token: read\n")},
			[]found{{".github/workflows/main.yml", "ship", "its permissions lack id-token: write"}}},
		{"several callers", map[string]string{"deploy.yml": deploy, "a.yml": caller("", ""), "b.yml": caller("permissions: write-all\n", ""), "c.yaml": caller("", "    permissions:\n      contents: write\n")},
			[]found{{".github/workflows/a.yml", "ship", noPerm}, {".github/workflows/c.yaml", "ship", "its permissions lack id-token: write"}}},
		// Owner and repository names are case-insensitive; a ref is a
		// must, which a local path cannot have.
		{"by repository name", map[string]string{"deploy.yml": deploy, "main.yml": strings.Replace(caller("", ""), "./.github/workflows/deploy.yml", "Octo-Org/octo-repo/.github/workflows/deploy.yml@v1", 1)},
			[]found{{".github/workflows/main.yml", "ship", noPerm}}},
		{"by repository name without ref", map[string]string{"deploy.yml": deploy, "main.yml": strings.Replace(caller("", ""), "./.github/workflows/deploy.yml", "octo-org/octo-repo/.github/workflows/deploy.yml", 1)},
			[]found{{".github/workflows/deploy.yml", "deploy", "no scanned workflow calls it"}}},
		// Another repository's deploy.yml is not this one.
		{"other repository", map[string]string{"deploy.yml": deploy, "main.yml": strings.Replace(caller("", ""), "./.github/workflows/deploy.yml", "other/repo/.github/workflows/deploy.yml@main", 1)},
			[]found{{".github/workflows/deploy.yml", "deploy", "no scanned workflow calls it"}}},
		{"no caller", map[string]string{"deploy.yml": deploy},
			[]found{{".github/workflows/deploy.yml", "deploy", "no scanned workflow calls it"}}},
		{"not reusable", map[string]string{"deploy.yml": strings.Replace(deploy, "workflow_call:", "push:", 1), "main.yml": caller("", "")}, nil},
		{"reusable among other triggers", map[string]string{"deploy.yml": strings.Replace(deploy, "on:\n  workflow_call:\n", "on: [push, workflow_call]\n", 1), "main.yml": caller("", "")},
			[]found{{".github/workflows/main.yml", "ship", noPerm}}},
		// A job --write leaves alone keeps its keys and needs nothing.
		{"not rewritten", map[string]string{"deploy.yml": deploy + "      - run: echo ${{ secrets.S }}\n", "main.yml": caller("", "")}, nil},
		// A job migrated already needs id-token: write too.
		{"migrated by hand", map[string]string{"deploy.yml": "on: workflow_call\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    permissions:\n      id-token: write\n    steps:\n      - uses: oidc-exchange/oidc-exchange@v1\n        with:\n          provider: aws\n          role-to-assume: arn:aws:iam::111122223333:role/r\n          aws-region: eu-west-1\n", "main.yml": caller("", "")},
			[]found{{".github/workflows/main.yml", "ship", noPerm}}},
		{"native action", map[string]string{"deploy.yml": "on: workflow_call\njobs:\n  deploy:\n    runs-on: macos-latest\n    steps:\n      - uses: oidc-exchange/oidc-exchange/native@v1\n", "main.yml": caller("", "")},
			[]found{{".github/workflows/main.yml", "ship", noPerm}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := Scan(stageFiles(t, tc.files), testOpts)
			if err != nil {
				t.Fatal(err)
			}
			var got []found
			for _, f := range r.Findings {
				if f.Rule != RuleReusableIDToken {
					continue
				}
				if f.Severity.String() != "medium" || f.Line == 0 {
					t.Errorf("finding %+v: want medium, with a line", f)
				}
				why := noPerm
				for _, w := range []string{"no scanned workflow calls it", "its permissions are read-all", "its workflow's permissions lack id-token: write", "its permissions lack id-token: write", noPerm} {
					if strings.Contains(f.Message, w) {
						why = w
						break
					}
				}
				got = append(got, found{f.File, f.Job, why})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			// Each rewritten job carries every finding as a warning,
			// naming the caller.
			for _, j := range r.Jobs {
				if !j.Rewritable {
					continue
				}
				all := strings.Join(j.Warnings, "\n")
				for _, w := range tc.want {
					name := fmt.Sprintf("job %s of %s", w.Job, w.File)
					if w.File == ".github/workflows/deploy.yml" {
						name = "no scanned workflow calls it"
					}
					if !strings.Contains(all, name) || !strings.Contains(all, w.Why) {
						t.Errorf("job %s: warnings lack %q (%s):\n%s", j.Job, name, w.Why, all)
					}
				}
			}
		})
	}
}

// TestReusableAfterWrite: after --write the rewritten reusable workflow
// has no keys left, and its callers' findings stay in what Apply reports,
// as does the warning of the rewritten job.
func TestReusableAfterWrite(t *testing.T) {
	t.Parallel()
	dir := stageFiles(t, map[string]string{
		"deploy.yml": "on:\n  workflow_call:\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          aws-access-key-id: ${{ secrets.K }}\n          aws-secret-access-key: ${{ secrets.S }}\n          aws-region: eu-west-1\n",
		"main.yml":   "on: push\njobs:\n  ship:\n    uses: ./.github/workflows/deploy.yml\n    secrets: inherit\n",
	})
	r, err := Scan(dir, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	left, err := r.Apply()
	if err != nil {
		t.Fatal(err)
	}
	if len(left.Rewritten) != 1 || !strings.Contains(strings.Join(left.Rewritten[0].Warnings, "\n"), "called by job ship of .github/workflows/main.yml") {
		t.Fatalf("rewritten %+v", left.Rewritten)
	}
	var rules []string
	for _, f := range left.Findings {
		rules = append(rules, f.Rule+" "+f.File+" "+f.Job)
	}
	if want := []string{RuleReusableIDToken + " .github/workflows/main.yml ship"}; !cmp.Equal(rules, want) {
		t.Errorf("after --write: %q, want %q", rules, want)
	}
}
