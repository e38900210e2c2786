package plan

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
)

// Cloud names the platform a plan is written for.
type Cloud string

// Clouds.
const (
	AWS   Cloud = "aws"
	GCP   Cloud = "gcp"
	Azure Cloud = "azure"
)

// Clouds lists every cloud [Build] can plan for, sorted.
var Clouds = []Cloud{AWS, Azure, GCP}

// SubjectFormat chooses which form of the sub claim a plan trusts where the
// cloud matches on sub (AWS, Azure). GCP matches the repository, ref and
// environment claims, which are the same in both forms.
type SubjectFormat string

// Subject formats (--subject-format).
const (
	// SubjectAuto is the default. With ids on an issuer that issues
	// immutable subjects (github.com, GHE.com): AWS trusts both forms, each
	// pinned to the ids by the repository_id condition key; Azure, which
	// can hold one exact subject per credential, trusts the immutable one.
	// Without ids, or on GHES: the name form.
	SubjectAuto SubjectFormat = ""
	// SubjectName trusts only repo:OWNER/REPO:<context>: repositories
	// created before GitHub's immutable-subject cut-over that did not opt
	// in.
	SubjectName SubjectFormat = "name"
	// SubjectImmutable trusts only repo:OWNER@OWNER_ID/REPO@REPO_ID:<context>.
	// Needs the ids and an issuer other than GHES.
	SubjectImmutable SubjectFormat = "immutable"
)

// Defaults and placeholders. A placeholder is reported in
// [Plan.Placeholders] so that nobody applies it by accident.
const (
	DefaultIssuer           = githubfacts.DotComIssuer
	DefaultAWSAudience      = "sts.amazonaws.com"
	DefaultAWSChinaAudience = "sts.amazonaws.com.cn"
	DefaultAzureAudience    = "api://AzureADTokenExchange"
	PlaceholderAccountID    = "111122223333"
	PlaceholderProjectNum   = "123456789"
	PlaceholderProjectID    = "my-project"
	PlaceholderSAName       = "deployer"
	PlaceholderAzureClient  = "00000000-0000-0000-0000-000000000000"
	DefaultPoolID           = "github"
	// DefaultMaxSessionDuration is the role's session limit in seconds: one
	// hour, enough for a deploy job; raise it only for jobs that need it.
	DefaultMaxSessionDuration = 3600
)

// Request describes the workflow to trust and where. The cmd layer fills it
// from flags; each field's comment names its flag, and [Request.Validate]
// names the flag of every problem.
type Request struct {
	// Cloud is the platform (--cloud): aws, gcp or azure.
	Cloud Cloud
	// Repository is "owner/repo" (--repository). Required.
	Repository string
	// RepositoryID and OwnerID are GitHub's numeric ids of the repository
	// and its owner (--repository-id, --owner-id), given together. With
	// them the plan pins ids, which are never reused, instead of names,
	// which can be re-registered after a rename or deletion. Find them with
	// `gh api repos/OWNER/REPO --jq '.id, .owner.id'`.
	RepositoryID, OwnerID string
	// Ref is the branch or tag the job runs on (--ref), e.g.
	// refs/heads/main or refs/tags/v*: a trailing "*" after a literal
	// prefix is the only wildcard. Pull-request refs are refused.
	Ref string
	// Environment is the GitHub environment the job references
	// (--environment). When set it decides the sub claim, as on GitHub;
	// Ref, if also set, is pinned by an extra condition where the cloud
	// can (AWS, GCP). One of Ref or Environment is required.
	Environment string
	// JobWorkflowRef pins the reusable workflow that defines the job
	// (--job-workflow-ref): OWNER/REPO/.github/workflows/FILE.yml@REF
	// with REF a refs/heads/ or refs/tags/ ref or a 40-hex commit sha.
	JobWorkflowRef string
	// Issuer is the token issuer (--issuer); default
	// https://token.actions.githubusercontent.com. Accepted: that URL, an
	// enterprise slug below it, https://token.actions.SUBDOMAIN.ghe.com
	// (optionally /SUBDOMAIN), and GHES https://HOST/_services/token.
	Issuer string
	// Audience is the token audience (--audience); default per cloud:
	// sts.amazonaws.com (.com.cn in aws-cn), the workload identity
	// provider's https://iam.googleapis.com/… name, api://AzureADTokenExchange.
	Audience string
	// SubjectFormat picks the sub form for AWS and Azure (--subject-format).
	SubjectFormat SubjectFormat
	// AllowNames permits a plan without --repository-id/--owner-id; such a
	// plan trusts names, and lint reports it.
	AllowNames bool

	// AccountID is the AWS account (--account-id), 12 digits; default
	// placeholder 111122223333.
	AccountID string
	// Partition is the AWS partition (--partition): aws (default), aws-cn
	// or aws-us-gov.
	Partition string
	// RoleName is the IAM role to create (--role-name); default
	// github-REPO.
	RoleName string

	// ProjectID is the GCP project id (--project); default taken from
	// ServiceAccount, else placeholder my-project.
	ProjectID string
	// ProjectNumber is the GCP project number (--project-number); default
	// placeholder 123456789. Resource names and the audience use it.
	ProjectNumber string
	// PoolID is the workload identity pool (--pool); default github.
	PoolID string
	// ProviderID is the workload identity provider (--provider); default
	// derived from the repository name.
	ProviderID string
	// ServiceAccount is the email of the service account the workflow
	// impersonates (--service-account); default placeholder
	// deployer@PROJECT.iam.gserviceaccount.com.
	ServiceAccount string

	// ClientID is the Entra application's (client) id (--client-id);
	// default placeholder 00000000-0000-0000-0000-000000000000.
	ClientID string
	// CredentialName names the federated identity credential
	// (--credential-name); default derived from repository and context.
	CredentialName string
}

var (
	ownerRE    = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9_-]{0,38}$`)
	repoRE     = lazyre.New(`^[A-Za-z0-9._-]{1,100}$`)
	idRE       = lazyre.New(`^[1-9][0-9]{0,19}$`)
	accountRE  = lazyre.New(`^[0-9]{12}$`)
	roleNameRE = lazyre.New(`^[\w+=,.@-]{1,64}$`)
	// Project ids are 6–30 characters, optionally domain-scoped.
	projectIDRE  = lazyre.New(`^([a-z0-9][a-z0-9.-]{0,62}[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	projectNumRE = lazyre.New(`^[1-9][0-9]{0,19}$`)
	// Pool and provider ids: 4–32 of [a-z0-9-], not starting with gcp-.
	wifIDRE        = lazyre.New(`^[a-z0-9][a-z0-9-]{2,30}[a-z0-9]$`)
	saRE           = lazyre.New(`^[a-z][a-z0-9-]{4,28}[a-z0-9]@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$`)
	uuidRE         = lazyre.New(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	ficNameRE      = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$`)
	shaRE          = lazyre.New(`^[0-9a-f]{40}$`)
	workflowPathRE = lazyre.New(`^\.github/workflows/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*\.ya?ml$`)
)

// printable reports whether s is non-empty and free of whitespace and
// control characters.
func printable(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// flagErr is an input error naming the flag to fix.
func flagErr(flag, format string, args ...any) error {
	return exchange.InputError(flag, format, args...)
}

// Validate checks every setting without any network call and reports every
// problem at once, each naming its flag and wrapping
// [exchange.ErrInvalidInput].
func (r *Request) Validate() error {
	var errs []error
	add := func(err error) { errs = append(errs, err) }

	if !slices.Contains(Clouds, r.Cloud) {
		add(flagErr("--cloud", "unknown cloud %q, valid clouds are %q", r.Cloud, Clouds))
	}
	owner, repo, ok := strings.Cut(r.Repository, "/")
	switch {
	case r.Repository == "":
		add(flagErr("--repository", "is required, e.g. octo-org/octo-repo"))
	case !ok || !ownerRE().MatchString(owner) || !repoRE().MatchString(repo) || repo == "." || repo == "..":
		add(flagErr("--repository", "must be OWNER/REPO with GitHub's name characters ([A-Za-z0-9-] and [A-Za-z0-9._-]), got %q", exchange.Sanitize(r.Repository)))
	}

	switch {
	case r.RepositoryID == "" && r.OwnerID == "" && !r.AllowNames:
		// A plan on names is one lint reports (names can be re-registered):
		// plan emits only configurations that lint clean unless the user
		// asks for names explicitly.
		add(flagErr("--repository-id", "and --owner-id are required: the plan pins the repository by its immutable ids "+
			"(gh api repos/%s --jq '.id, .owner.id'); pass --allow-names to plan on names instead, which lint reports", exchange.Sanitize(r.Repository)))
	case r.RepositoryID == "" && r.OwnerID == "":
	case r.RepositoryID == "" || r.OwnerID == "":
		missing := "--repository-id"
		if r.OwnerID == "" {
			missing = "--owner-id"
		}
		add(flagErr(missing, "is required with the other id: the plan pins both the repository and its owner (gh api repos/%s --jq '.id, .owner.id')", exchange.Sanitize(r.Repository)))
	default:
		if !idRE().MatchString(r.RepositoryID) {
			add(flagErr("--repository-id", "must be GitHub's numeric repository id, got %q", exchange.Sanitize(r.RepositoryID)))
		}
		if !idRE().MatchString(r.OwnerID) {
			add(flagErr("--owner-id", "must be GitHub's numeric owner id, got %q", exchange.Sanitize(r.OwnerID)))
		}
	}

	if r.Ref == "" && r.Environment == "" {
		add(flagErr("--ref", "a plan must pin the job's context: pass --ref (e.g. refs/heads/main) or --environment"))
	}
	if r.Ref != "" {
		if err := validateRef(r.Ref, true); err != nil {
			add(flagErr("--ref", "%v", err))
		} else if r.Cloud == Azure && r.Environment != "" {
			add(flagErr("--ref", "an Azure federated credential matches one subject, which names the environment when the job has one: pass only --environment and limit the environment's deployment branches to %s", r.Ref))
		} else if r.Cloud == Azure && strings.HasSuffix(r.Ref, "*") {
			add(flagErr("--ref", "Azure federated credentials match the subject exactly: pass one exact ref (one credential each), not %q", r.Ref))
		}
	}
	if r.Environment != "" {
		if err := validateEnvironment(r.Environment); err != nil {
			add(flagErr("--environment", "%v", err))
		}
	}
	if r.JobWorkflowRef != "" {
		if err := validateJobWorkflowRef(r.JobWorkflowRef); err != nil {
			add(flagErr("--job-workflow-ref", "%v", err))
		} else if r.Cloud == Azure {
			add(flagErr("--job-workflow-ref", "Azure federated credentials match only issuer, subject and audience; pin the reusable workflow with a subject customized to include job_workflow_ref, or plan for AWS or GCP"))
		}
	}

	kind := githubfacts.DotCom
	if r.Issuer != "" {
		k, err := githubfacts.ClassifyIssuer(r.Issuer)
		if err != nil {
			add(flagErr("--issuer", "%v", err))
		}
		kind = k
	}
	if r.Audience != "" {
		switch {
		case !printable(r.Audience):
			add(flagErr("--audience", "%q contains whitespace or control characters", exchange.Sanitize(r.Audience)))
		case strings.ContainsAny(r.Audience, "*?,'\"\\$`"):
			add(flagErr("--audience", "%q contains a wildcard, comma, quote, backslash or $: audiences are matched exactly", r.Audience))
		}
	}
	switch r.SubjectFormat {
	case SubjectAuto, SubjectName:
	case SubjectImmutable:
		if r.RepositoryID == "" || r.OwnerID == "" {
			add(flagErr("--subject-format", "immutable subjects carry the ids: pass --repository-id and --owner-id"))
		}
		if kind == githubfacts.GHES {
			add(flagErr("--subject-format", "GHES does not issue immutable subjects; use name"))
		}
	default:
		add(flagErr("--subject-format", "must be %q or %q, got %q", SubjectName, SubjectImmutable, exchange.Sanitize(string(r.SubjectFormat))))
	}
	if r.Cloud == GCP && r.SubjectFormat != SubjectAuto {
		add(flagErr("--subject-format", "GCP matches the repository, ref and environment claims, not sub: leave it unset"))
	}

	errs = append(errs, r.validateCloudFields()...)
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}

// validateCloudFields checks the per-cloud settings and refuses those of
// another cloud, which would otherwise be silently ignored.
func (r *Request) validateCloudFields() []error {
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	only := func(flag, value string, cloud Cloud) {
		if value != "" && r.Cloud != cloud && slices.Contains(Clouds, r.Cloud) {
			add(flagErr(flag, "is used only with --cloud %s", cloud))
		}
	}
	only("--account-id", r.AccountID, AWS)
	only("--partition", r.Partition, AWS)
	only("--role-name", r.RoleName, AWS)
	only("--project", r.ProjectID, GCP)
	only("--project-number", r.ProjectNumber, GCP)
	only("--pool", r.PoolID, GCP)
	only("--provider", r.ProviderID, GCP)
	only("--service-account", r.ServiceAccount, GCP)
	only("--client-id", r.ClientID, Azure)
	only("--credential-name", r.CredentialName, Azure)

	if r.AccountID != "" && !accountRE().MatchString(r.AccountID) {
		add(flagErr("--account-id", "must be 12 digits, got %q", exchange.Sanitize(r.AccountID)))
	}
	if r.Partition != "" && !slices.Contains([]string{"aws", "aws-cn", "aws-us-gov"}, r.Partition) {
		add(flagErr("--partition", "must be aws, aws-cn or aws-us-gov, got %q", exchange.Sanitize(r.Partition)))
	}
	if r.RoleName != "" && !roleNameRE().MatchString(r.RoleName) {
		add(flagErr("--role-name", "must be 1–64 characters of [A-Za-z0-9_+=,.@-], got %q", exchange.Sanitize(r.RoleName)))
	}
	if r.ProjectID != "" && !projectIDRE().MatchString(r.ProjectID) {
		add(flagErr("--project", "must be a project id (6–30 of [a-z0-9-], starting with a letter), got %q", exchange.Sanitize(r.ProjectID)))
	}
	if r.ProjectNumber != "" && !projectNumRE().MatchString(r.ProjectNumber) {
		add(flagErr("--project-number", "must be the numeric project number (gcloud projects describe PROJECT --format='value(projectNumber)'), got %q", exchange.Sanitize(r.ProjectNumber)))
	}
	for _, f := range []struct{ flag, v string }{{"--pool", r.PoolID}, {"--provider", r.ProviderID}} {
		if f.v != "" && (!wifIDRE().MatchString(f.v) || strings.HasPrefix(f.v, "gcp-")) {
			add(flagErr(f.flag, "must be 4–32 of [a-z0-9-], not starting with gcp- or ending with -, got %q", exchange.Sanitize(f.v)))
		}
	}
	if r.ServiceAccount != "" {
		if m := saRE().FindStringSubmatch(r.ServiceAccount); m == nil {
			add(flagErr("--service-account", "must be a service account email NAME@PROJECT.iam.gserviceaccount.com, got %q", exchange.Sanitize(r.ServiceAccount)))
		} else if r.ProjectID != "" && m[1] != r.ProjectID && !strings.HasSuffix(r.ProjectID, ":"+m[1]) {
			// A service account of another project works, but the pool
			// and the binding then live in different projects: say so
			// rather than guess.
			add(flagErr("--service-account", "belongs to project %q, not --project %q: plan in the service account's project", m[1], r.ProjectID))
		}
	}
	if r.ClientID != "" && !uuidRE().MatchString(r.ClientID) {
		add(flagErr("--client-id", "must be the application (client) id, a UUID, got %q", exchange.Sanitize(r.ClientID)))
	}
	if r.CredentialName != "" && !ficNameRE().MatchString(r.CredentialName) {
		add(flagErr("--credential-name", "must be 3–120 of [A-Za-z0-9_-], starting with a letter or digit, got %q", exchange.Sanitize(r.CredentialName)))
	}
	return errs
}

// validateRef accepts refs/heads/… and refs/tags/… refs that git could
// create, with an optional trailing "*" after a literal prefix when
// wildcard is set. Pull-request refs are refused: a pull request's code is
// unreviewed and must never hold a privileged role.
func validateRef(ref string, wildcard bool) error {
	if strings.HasPrefix(ref, "refs/pull/") || ref == "pull_request" || strings.HasPrefix(ref, "pull/") {
		return fmt.Errorf("pull-request contexts are refused: a pull request runs unreviewed code, which must never hold a privileged role; trust the branch it merges into, or an environment with required reviewers")
	}
	var rest string
	switch {
	case strings.HasPrefix(ref, "refs/heads/"):
		rest = strings.TrimPrefix(ref, "refs/heads/")
	case strings.HasPrefix(ref, "refs/tags/"):
		rest = strings.TrimPrefix(ref, "refs/tags/")
	default:
		return fmt.Errorf("must be a full ref, refs/heads/BRANCH or refs/tags/TAG, got %q", exchange.Sanitize(ref))
	}
	if wildcard && strings.HasSuffix(rest, "*") {
		rest = strings.TrimSuffix(rest, "*")
		if rest == "" {
			return fmt.Errorf("%q matches every branch or tag, which anyone with push access can create: put a literal prefix before the *, e.g. refs/tags/v*", ref)
		}
		// The prefix need not be a ref itself (release/ is fine): check
		// it as the start of one.
		rest += "x"
	}
	if strings.Contains(rest, "*") {
		return fmt.Errorf("%q: the only wildcard allowed is one trailing *", ref)
	}
	// git check-ref-format, abridged.
	if rest == "" || len(ref) > 255 || !utf8.ValidString(ref) ||
		strings.ContainsFunc(rest, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) ||
		strings.ContainsAny(rest, "~^:?[\\") || strings.Contains(rest, "..") || strings.Contains(rest, "@{") ||
		strings.Contains(rest, "//") || strings.HasPrefix(rest, "/") || strings.HasSuffix(rest, "/") ||
		strings.HasSuffix(rest, ".") || strings.HasSuffix(rest, ".lock") || strings.HasPrefix(rest, ".") || strings.Contains(rest, "/.") {
		return fmt.Errorf("%q is not a valid git ref name", exchange.Sanitize(ref))
	}
	return nil
}

// validateEnvironment accepts GitHub environment names, which may hold
// spaces and punctuation (the plan quotes them everywhere), but not control
// characters, or wildcards that AWS StringLike and Azure would read
// differently from GitHub.
func validateEnvironment(env string) error {
	switch {
	case !utf8.ValidString(env):
		return fmt.Errorf("is not valid UTF-8")
	case utf8.RuneCountInString(env) > 255:
		return fmt.Errorf("is longer than GitHub's 255 characters")
	case strings.ContainsFunc(env, unicode.IsControl):
		return fmt.Errorf("%q contains control characters", exchange.Sanitize(env))
	case strings.TrimSpace(env) != env:
		return fmt.Errorf("%q has leading or trailing spaces, which GitHub trims", env)
	case strings.ContainsAny(env, "*?"):
		return fmt.Errorf("%q contains * or ?, which trust policies would read as wildcards", env)
	}
	return nil
}

// validateJobWorkflowRef accepts OWNER/REPO/.github/workflows/F.yml@REF
// with REF the default branch (main or master), a tag or a commit sha;
// never a wildcard.
func validateJobWorkflowRef(jwr string) error {
	path, ref, ok := strings.Cut(jwr, "@")
	parts := strings.SplitN(path, "/", 3)
	if !ok || len(parts) != 3 || !ownerRE().MatchString(parts[0]) || !repoRE().MatchString(parts[1]) || !workflowPathRE().MatchString(parts[2]) {
		return fmt.Errorf("must be OWNER/REPO/.github/workflows/FILE.yml@REF, got %q", exchange.Sanitize(jwr))
	}
	if shaRE().MatchString(ref) {
		return nil
	}
	if err := validateRef(ref, false); err != nil {
		return fmt.Errorf("ref after @ must be refs/heads/main, refs/heads/master, refs/tags/… or a 40-hex commit sha: %w", err)
	}
	if strings.HasPrefix(ref, "refs/heads/") && ref != "refs/heads/main" && ref != "refs/heads/master" {
		// Other branches are typically unprotected: whoever can push one
		// would control the job holding the role.
		return fmt.Errorf("@%s is a branch anyone with write access may push: pin a 40-hex commit sha, a release tag, or refs/heads/main (protected)", ref)
	}
	return nil
}
