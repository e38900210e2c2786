package plan

import (
	"bytes"
	"encoding/json"
	"flag"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// goldenRequests are the plans whose text and JSON output are pinned in
// testdata/<name>.{txt,json}.golden: each cloud with and without ids,
// environment and job_workflow_ref, and every issuer kind.
var goldenRequests = []struct {
	name string
	req  Request
}{
	{"aws_ids_env", Request{Cloud: AWS, Repository: "octo-org/octo-repo", RepositoryID: "456789", OwnerID: "123456",
		Environment: "production"}},
	{"aws_names_ref", Request{Cloud: AWS, Repository: "octo-org/octo-repo", AllowNames: true, Ref: "refs/heads/main", AccountID: "123456789012"}},
	{"aws_ids_jwr_slug", Request{Cloud: AWS, Repository: "octo-org/octo-repo", RepositoryID: "456789", OwnerID: "123456",
		Ref: "refs/heads/main", JobWorkflowRef: "octo-org/workflows/.github/workflows/deploy.yml@0123456789abcdef0123456789abcdef01234567",
		Issuer: "https://token.actions.githubusercontent.com/octo-enterprise", RoleName: "deploy"}},
	{"aws_ghes_tags_env", Request{Cloud: AWS, Repository: "ops/infra", RepositoryID: "42", OwnerID: "7",
		Environment: "Production:V1", Ref: "refs/tags/v*", Issuer: "https://github.example.com/_services/token"}},
	{"gcp_ids_ref", Request{Cloud: GCP, Repository: "octo-org/octo-repo", RepositoryID: "456789", OwnerID: "123456",
		Ref: "refs/heads/main", ProjectNumber: "987654321", ServiceAccount: "deployer@octo-prod.iam.gserviceaccount.com"}},
	{"gcp_names_env", Request{Cloud: GCP, Repository: "octo-org/octo-repo", AllowNames: true, Environment: "prod east"}},
	{"gcp_ids_env_ref_jwr", Request{Cloud: GCP, Repository: "octo-org/octo-repo", RepositoryID: "456789", OwnerID: "123456",
		Environment: "o'brien $HOME", Ref: "refs/tags/release-*", JobWorkflowRef: "octo-org/workflows/.github/workflows/deploy.yml@refs/heads/main",
		Issuer: "https://token.actions.acme.ghe.com/acme", PoolID: "ci-pool", ProviderID: "octo-repo-prod", ProjectID: "octo-prod"}},
	{"azure_ids_env", Request{Cloud: Azure, Repository: "octo-org/octo-repo", RepositoryID: "456789", OwnerID: "123456",
		Environment: "production", ClientID: "11111111-2222-3333-4444-555555555555"}},
	{"azure_names_ref", Request{Cloud: Azure, Repository: "octo-org/octo-repo", AllowNames: true, Ref: "refs/heads/main"}},
	{"azure_ids_name_subject", Request{Cloud: Azure, Repository: "octo-org/octo-repo", RepositoryID: "456789", OwnerID: "123456",
		Ref: "refs/tags/v1.0.0", SubjectFormat: SubjectName, Issuer: "https://token.actions.acme.ghe.com"}},
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, tt := range goldenRequests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Build(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			var text, js bytes.Buffer
			if err := p.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := p.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			exchangetest.Golden(t, tt.name+".txt.golden", text.String(), *update)
			exchangetest.Golden(t, tt.name+".json.golden", js.String(), *update)
		})
	}
}

// TestWriteJSONShape checks the document's keys and that json artifacts
// are objects and the others strings.
func TestWriteJSONShape(t *testing.T) {
	t.Parallel()
	want := map[Cloud][]string{
		AWS:   {"aws_trust_policy", "aws_oidc_provider", "aws_cli", "terraform"},
		GCP:   {"gcloud", "gcp_provider", "terraform"},
		Azure: {"azure_fic", "azure_cli", "terraform"},
	}
	for _, cloud := range Clouds {
		t.Run(string(cloud), func(t *testing.T) {
			t.Parallel()
			p, err := Build(Request{Cloud: cloud, Repository: "o/r", Ref: "refs/heads/main", AllowNames: true})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, a := range p.Artifacts {
				names = append(names, a.Name)
			}
			if diff := cmp.Diff(want[cloud], names); diff != "" {
				t.Errorf("artifacts (-want +got):\n%s", diff)
			}
			var buf bytes.Buffer
			if err := p.WriteJSON(&buf); err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(&buf)
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				t.Fatal(err)
			}
			if dec.More() {
				t.Error("WriteJSON wrote more than one document")
			}
			for _, key := range []string{"cloud", "repository", "issuer", "audience", "subjects", "pins", "warnings", "placeholders", "notes"} {
				if _, ok := doc[key]; !ok {
					t.Errorf("missing key %q", key)
				}
			}
			for _, a := range p.Artifacts {
				switch a.Kind {
				case KindJSON:
					if _, ok := doc[a.Name].(map[string]any); !ok {
						t.Errorf("%s is %T, want an object", a.Name, doc[a.Name])
					}
				default:
					if doc[a.Name] != a.Content {
						t.Errorf("%s is not the artifact's content as a string", a.Name)
					}
				}
			}
		})
	}
}

// TestNamesWarn checks that a plan without ids says names can be
// re-registered and points at the id flags; with ids it does not.
func TestNamesWarn(t *testing.T) {
	t.Parallel()
	for _, cloud := range Clouds {
		t.Run(string(cloud), func(t *testing.T) {
			t.Parallel()
			p, err := Build(Request{Cloud: cloud, Repository: "o/r", Environment: "prod", AllowNames: true})
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if err := p.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"WARNING", "re-registered", "--repository-id", "--owner-id"} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("text output lacks %q", want)
				}
			}
			p, err = Build(Request{Cloud: cloud, Repository: "o/r", Environment: "prod", RepositoryID: "2", OwnerID: "1"})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range p.Warnings {
				if strings.Contains(w, "re-registered") {
					t.Errorf("warning with ids: %s", w)
				}
			}
		})
	}
}

// TestSubjects pins the subject choice per cloud, issuer and format.
func TestSubjects(t *testing.T) {
	t.Parallel()
	const (
		name = "repo:o/r:environment:prod%3Aeu"
		immu = "repo:o@1/r@2:environment:prod%3Aeu"
		ghes = "https://ghe.example.com/_services/token"
	)
	tests := []struct {
		cloud  Cloud
		ids    bool
		issuer string
		format SubjectFormat
		want   []string
	}{
		{AWS, false, "", SubjectAuto, []string{name}},
		{AWS, true, "", SubjectAuto, []string{immu, name}},
		{AWS, true, ghes, SubjectAuto, []string{name}},
		{AWS, true, "", SubjectName, []string{name}},
		{AWS, true, "", SubjectImmutable, []string{immu}},
		{Azure, false, "", SubjectAuto, []string{name}},
		{Azure, true, "", SubjectAuto, []string{immu}},
		{Azure, true, ghes, SubjectAuto, []string{name}},
		{Azure, true, "", SubjectName, []string{name}},
		{Azure, true, "https://token.actions.x.ghe.com", SubjectImmutable, []string{immu}},
		{GCP, true, "", SubjectAuto, nil},
	}
	for _, tt := range tests {
		r := Request{Cloud: tt.cloud, Repository: "o/r", Environment: "prod:eu", Issuer: tt.issuer, SubjectFormat: tt.format, AllowNames: true}
		if tt.ids {
			r.RepositoryID, r.OwnerID = "2", "1"
		}
		p, err := Build(r)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, p.Subjects); diff != "" {
			t.Errorf("%+v: subjects (-want +got):\n%s", r, diff)
		}
	}
}

// TestDerivedNames checks defaults derived from names stay within the
// clouds' limits.
func TestDerivedNames(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"a", "R", ".github", "gcp-tools", "9lives", strings.Repeat("long-name.", 10), "a..b__c"} {
		if id := deriveWIFID(in); !wifIDRE().MatchString(id) || strings.HasPrefix(id, "gcp-") {
			t.Errorf("deriveWIFID(%q) = %q, not a valid pool/provider id", in, id)
		}
	}
	long := strings.Repeat("e", 200)
	if n := deriveCredentialName("github", "o", "r", "env-"+long); !ficNameRE().MatchString(n) {
		t.Errorf("deriveCredentialName = %q, not a valid credential name", n)
	}
	if n := deriveCredentialName("github", "o", "r", "env-o'brien $HOME"); !ficNameRE().MatchString(n) {
		t.Errorf("deriveCredentialName = %q, not a valid credential name", n)
	}
}

// TestGoogleSubjectLimit checks the warning for subjects GCP cannot map.
func TestGoogleSubjectLimit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env  string
		warn bool
	}{{"prod", false}, {strings.Repeat("e", 100), false}, {strings.Repeat("e", 103), true}} {
		p, err := Build(Request{Cloud: GCP, Repository: "o/r", RepositoryID: "2", OwnerID: "1", Environment: tt.env})
		if err != nil {
			t.Fatal(err)
		}
		got := slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "127 bytes") })
		if got != tt.warn {
			t.Errorf("environment of %d characters: warned %t, want %t (%q)", len(tt.env), got, tt.warn, p.Warnings)
		}
	}
}
