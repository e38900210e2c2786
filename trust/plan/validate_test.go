package plan

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// errFlags returns the flags an error names, one per joined error line.
func errFlags(err error) []string {
	if err == nil {
		return nil
	}
	var flags []string
	for _, line := range strings.Split(err.Error(), "\n") {
		flag, _, _ := strings.Cut(line, ":")
		flags = append(flags, flag)
	}
	slices.Sort(flags)
	return flags
}

func TestValidate(t *testing.T) {
	t.Parallel()
	base := func(c Cloud, mod func(*Request)) Request {
		r := Request{Cloud: c, Repository: "octo-org/octo-repo", RepositoryID: "456789", OwnerID: "123456", Ref: "refs/heads/main"}
		if mod != nil {
			mod(&r)
		}
		return r
	}
	tests := []struct {
		name      string
		req       Request
		wantFlags []string
		wantText  string // a substring of the message, when it matters
	}{
		{name: "aws minimal", req: base(AWS, nil)},
		{name: "gcp environment only", req: base(GCP, func(r *Request) { r.Ref, r.Environment = "", "prod east" })},
		{name: "azure no ids, names allowed", req: base(Azure, func(r *Request) { r.RepositoryID, r.OwnerID, r.AllowNames = "", "", true })},
		{name: "no ids without --allow-names", req: base(AWS, func(r *Request) { r.RepositoryID, r.OwnerID = "", "" }), wantFlags: []string{"--repository-id"}},
		{name: "aws env and ref", req: base(AWS, func(r *Request) { r.Environment = "production" })},
		{name: "tag wildcard", req: base(AWS, func(r *Request) { r.Ref = "refs/tags/v*" })},
		{name: "jwr sha", req: base(GCP, func(r *Request) {
			r.JobWorkflowRef = "octo-org/wf/.github/workflows/deploy.yml@0123456789abcdef0123456789abcdef01234567"
		})},
		{name: "jwr tag", req: base(AWS, func(r *Request) { r.JobWorkflowRef = "octo-org/wf/.github/workflows/d.yaml@refs/tags/v2" })},
		{name: "all issuers", req: base(AWS, func(r *Request) { r.Issuer = "https://token.actions.acme.ghe.com/acme" })},
		{name: "ghes", req: base(Azure, func(r *Request) { r.Issuer = "https://github.example.com/_services/token" })},
		{name: "immutable", req: base(Azure, func(r *Request) { r.SubjectFormat = SubjectImmutable })},
		{name: "aws fields", req: base(AWS, func(r *Request) {
			r.AccountID, r.Partition, r.RoleName = "123456789012", "aws-us-gov", "deploy@prod"
		})},
		{name: "gcp fields", req: base(GCP, func(r *Request) {
			r.ProjectID, r.ProjectNumber, r.PoolID, r.ProviderID = "my-proj", "42", "ci-pool", "octo"
			r.ServiceAccount = "ci-deploy@my-proj.iam.gserviceaccount.com"
		})},
		{name: "azure fields", req: base(Azure, func(r *Request) {
			r.ClientID, r.CredentialName = "11111111-2222-3333-4444-555555555555", "gh_main"
		})},

		{name: "empty", req: Request{}, wantFlags: []string{"--cloud", "--ref", "--repository", "--repository-id"}},
		{name: "unknown cloud", req: base("oci", nil), wantFlags: []string{"--cloud"}, wantText: `valid clouds are ["aws" "azure" "gcp"]`},
		{name: "repository without owner", req: base(AWS, func(r *Request) { r.Repository = "octo-repo" }), wantFlags: []string{"--repository"}},
		{name: "repository with space", req: base(AWS, func(r *Request) { r.Repository = "octo org/repo" }), wantFlags: []string{"--repository"}},
		{name: "repository with quote", req: base(AWS, func(r *Request) { r.Repository = "octo/re'po" }), wantFlags: []string{"--repository"}},
		{name: "repository with dollar", req: base(AWS, func(r *Request) { r.Repository = "octo/$repo" }), wantFlags: []string{"--repository"}},
		{name: "repository wildcard", req: base(AWS, func(r *Request) { r.Repository = "octo-org/*" }), wantFlags: []string{"--repository"}},
		{name: "repository dotdot", req: base(AWS, func(r *Request) { r.Repository = "octo-org/.." }), wantFlags: []string{"--repository"}},
		{name: "repository three parts", req: base(AWS, func(r *Request) { r.Repository = "a/b/c" }), wantFlags: []string{"--repository"}},
		{name: "repository id alone", req: base(AWS, func(r *Request) { r.OwnerID = "" }), wantFlags: []string{"--owner-id"}},
		{name: "owner id alone", req: base(AWS, func(r *Request) { r.RepositoryID = "" }), wantFlags: []string{"--repository-id"}},
		{name: "non-numeric ids", req: base(GCP, func(r *Request) { r.RepositoryID, r.OwnerID = "abc", "0" }),
			wantFlags: []string{"--owner-id", "--repository-id"}},
		{name: "no context", req: base(GCP, func(r *Request) { r.Ref = "" }), wantFlags: []string{"--ref"}, wantText: "must pin the job's context"},
		{name: "short ref", req: base(AWS, func(r *Request) { r.Ref = "main" }), wantFlags: []string{"--ref"}, wantText: "refs/heads/BRANCH"},
		{name: "pull request ref", req: base(AWS, func(r *Request) { r.Ref = "refs/pull/1/merge" }), wantFlags: []string{"--ref"}, wantText: "pull-request contexts are refused"},
		{name: "pull_request context", req: base(GCP, func(r *Request) { r.Ref = "pull_request" }), wantFlags: []string{"--ref"}, wantText: "pull-request"},
		{name: "every branch", req: base(AWS, func(r *Request) { r.Ref = "refs/heads/*" }), wantFlags: []string{"--ref"}, wantText: "literal prefix"},
		{name: "inner wildcard", req: base(AWS, func(r *Request) { r.Ref = "refs/heads/re*ase" }), wantFlags: []string{"--ref"}},
		{name: "question mark", req: base(AWS, func(r *Request) { r.Ref = "refs/heads/a?" }), wantFlags: []string{"--ref"}},
		{name: "ref with space", req: base(AWS, func(r *Request) { r.Ref = "refs/heads/a b" }), wantFlags: []string{"--ref"}},
		{name: "ref dotdot", req: base(AWS, func(r *Request) { r.Ref = "refs/heads/a..b" }), wantFlags: []string{"--ref"}},
		{name: "azure wildcard", req: base(Azure, func(r *Request) { r.Ref = "refs/tags/v*" }), wantFlags: []string{"--ref"}, wantText: "exactly"},
		{name: "azure env and ref", req: base(Azure, func(r *Request) { r.Environment = "prod" }), wantFlags: []string{"--ref"}},
		{name: "env control char", req: base(AWS, func(r *Request) { r.Ref, r.Environment = "", "prod\nx" }), wantFlags: []string{"--environment"}},
		{name: "env wildcard", req: base(AWS, func(r *Request) { r.Ref, r.Environment = "", "prod*" }), wantFlags: []string{"--environment"}},
		{name: "env padded", req: base(AWS, func(r *Request) { r.Ref, r.Environment = "", " prod" }), wantFlags: []string{"--environment"}},
		{name: "env too long", req: base(AWS, func(r *Request) { r.Ref, r.Environment = "", strings.Repeat("e", 256) }), wantFlags: []string{"--environment"}},
		{name: "jwr without ref", req: base(AWS, func(r *Request) { r.JobWorkflowRef = "o/r/.github/workflows/x.yml" }), wantFlags: []string{"--job-workflow-ref"}},
		{name: "jwr wildcard", req: base(AWS, func(r *Request) { r.JobWorkflowRef = "o/r/.github/workflows/x.yml@*" }), wantFlags: []string{"--job-workflow-ref"}},
		{name: "jwr feature branch", req: base(AWS, func(r *Request) { r.JobWorkflowRef = "o/r/.github/workflows/x.yml@refs/heads/dev" }),
			wantFlags: []string{"--job-workflow-ref"}, wantText: "commit sha"},
		{name: "jwr outside workflows", req: base(GCP, func(r *Request) { r.JobWorkflowRef = "o/r/ci/x.yml@refs/heads/main" }), wantFlags: []string{"--job-workflow-ref"}},
		{name: "jwr short sha", req: base(GCP, func(r *Request) { r.JobWorkflowRef = "o/r/.github/workflows/x.yml@0123abc" }), wantFlags: []string{"--job-workflow-ref"}},
		{name: "jwr on azure", req: base(Azure, func(r *Request) { r.JobWorkflowRef = "o/r/.github/workflows/x.yml@refs/heads/main" }), wantFlags: []string{"--job-workflow-ref"}},
		{name: "issuer http", req: base(AWS, func(r *Request) { r.Issuer = "http://token.actions.githubusercontent.com" }), wantFlags: []string{"--issuer"}},
		{name: "issuer trailing slash", req: base(AWS, func(r *Request) { r.Issuer = "https://token.actions.githubusercontent.com/" }), wantFlags: []string{"--issuer"}},
		{name: "issuer dot slug", req: base(AWS, func(r *Request) { r.Issuer = "https://token.actions.githubusercontent.com/../evil" }), wantFlags: []string{"--issuer"}},
		{name: "issuer two segments", req: base(AWS, func(r *Request) { r.Issuer = "https://token.actions.githubusercontent.com/a/b" }), wantFlags: []string{"--issuer"}},
		{name: "issuer other", req: base(AWS, func(r *Request) { r.Issuer = "https://gitlab.com" }), wantFlags: []string{"--issuer"}, wantText: "not a GitHub Actions issuer"},
		{name: "issuer query", req: base(AWS, func(r *Request) { r.Issuer = "https://token.actions.githubusercontent.com?x=1" }), wantFlags: []string{"--issuer"}},
		{name: "issuer upper case", req: base(AWS, func(r *Request) { r.Issuer = "https://Token.Actions.GitHubUserContent.com" }), wantFlags: []string{"--issuer"}},
		{name: "ghe.com wrong path", req: base(AWS, func(r *Request) { r.Issuer = "https://token.actions.acme.ghe.com/other" }), wantFlags: []string{"--issuer"}},
		{name: "audience wildcard", req: base(AWS, func(r *Request) { r.Audience = "sts.*" }), wantFlags: []string{"--audience"}},
		{name: "audience space", req: base(AWS, func(r *Request) { r.Audience = "a b" }), wantFlags: []string{"--audience"}},
		{name: "immutable without ids", req: base(Azure, func(r *Request) {
			r.RepositoryID, r.OwnerID, r.SubjectFormat, r.AllowNames = "", "", SubjectImmutable, true
		}),
			wantFlags: []string{"--subject-format"}},
		{name: "immutable on ghes", req: base(AWS, func(r *Request) {
			r.Issuer, r.SubjectFormat = "https://github.example.com/_services/token", SubjectImmutable
		}), wantFlags: []string{"--subject-format"}},
		{name: "subject format on gcp", req: base(GCP, func(r *Request) { r.SubjectFormat = SubjectName }), wantFlags: []string{"--subject-format"}},
		{name: "immutable on gcp", req: base(GCP, func(r *Request) { r.SubjectFormat = SubjectImmutable }), wantFlags: []string{"--subject-format"}},
		{name: "bad subject format", req: base(AWS, func(r *Request) { r.SubjectFormat = "both" }), wantFlags: []string{"--subject-format"}},
		{name: "account id", req: base(AWS, func(r *Request) { r.AccountID = "1234" }), wantFlags: []string{"--account-id"}},
		{name: "partition", req: base(AWS, func(r *Request) { r.Partition = "aws-eu" }), wantFlags: []string{"--partition"}},
		{name: "role name", req: base(AWS, func(r *Request) { r.RoleName = "a b" }), wantFlags: []string{"--role-name"}},
		{name: "aws flag on gcp", req: base(GCP, func(r *Request) { r.AccountID = "123456789012" }), wantFlags: []string{"--account-id"}, wantText: "only with --cloud aws"},
		{name: "gcp flags on azure", req: base(Azure, func(r *Request) { r.PoolID, r.ServiceAccount = "github", "a@b" }),
			wantFlags: []string{"--pool", "--service-account", "--service-account"}},
		{name: "azure flag on aws", req: base(AWS, func(r *Request) { r.ClientID = "x" }), wantFlags: []string{"--client-id", "--client-id"}},
		{name: "pool gcp prefix", req: base(GCP, func(r *Request) { r.PoolID = "gcp-pool" }), wantFlags: []string{"--pool"}},
		{name: "provider too short", req: base(GCP, func(r *Request) { r.ProviderID = "abc" }), wantFlags: []string{"--provider"}},
		{name: "project number", req: base(GCP, func(r *Request) { r.ProjectNumber = "my-project" }), wantFlags: []string{"--project-number"}},
		{name: "project id", req: base(GCP, func(r *Request) { r.ProjectID = "P" }), wantFlags: []string{"--project"}},
		{name: "service account", req: base(GCP, func(r *Request) { r.ServiceAccount = "user@example.com" }), wantFlags: []string{"--service-account"}},
		{name: "service account other project", req: base(GCP, func(r *Request) {
			r.ProjectID, r.ServiceAccount = "proj-one", "sa-deploy@proj-two.iam.gserviceaccount.com"
		}), wantFlags: []string{"--service-account"}},
		{name: "gcp audience comma", req: base(GCP, func(r *Request) { r.Audience = "a,b" }), wantFlags: []string{"--audience"}},
		{name: "client id", req: base(Azure, func(r *Request) { r.ClientID = "not-a-uuid" }), wantFlags: []string{"--client-id"}},
		{name: "credential name", req: base(Azure, func(r *Request) { r.CredentialName = "-bad" }), wantFlags: []string{"--credential-name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.req.Validate()
			if diff := cmp.Diff(tt.wantFlags, errFlags(err)); diff != "" {
				t.Errorf("flags named (-want +got):\n%s\nerror: %v", diff, err)
			}
			if err == nil {
				if _, berr := Build(tt.req); berr != nil {
					t.Errorf("Build after a clean Validate: %v", berr)
				}
				return
			}
			if !errors.Is(err, exchange.ErrInvalidInput) {
				t.Errorf("error does not wrap ErrInvalidInput: %v", err)
			}
			if tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
			if _, berr := Build(tt.req); berr == nil || berr.Error() != err.Error() {
				t.Errorf("Build error = %v, want the Validate error", berr)
			}
		})
	}
}
